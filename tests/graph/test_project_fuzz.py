"""Byte-level fuzzing of project files, through the loader, the compiler and the real CLI.

The hypothesis tests in test_project.py mutate JSON values; these mutate the bytes of real project
files the way a damaged disk, a bad merge or a hostile file does (flipped bits, cut and duplicated
chunks, spliced tokens, huge numbers), and hold every outcome to the promise: a graph that validates,
or one ``ProjectFileError`` line; never a traceback, a hang or another exception type.

The time each test spends is ``DESIGNER_FUZZ_SECONDS`` (default 2): CI stays fast, and
``DESIGNER_FUZZ_SECONDS=600 pytest tests/graph/test_project_fuzz.py`` runs a long campaign. A failure
prints the seed and case number that reproduce it.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Iterator

import pytest

from designer.cli import main
from designer.graph import project, summary
from designer.graph.errors import GraphError
from designer.graph.project import ProjectFileError
from designer.graph.templates import template_names, template_path

SECONDS = float(os.environ.get("DESIGNER_FUZZ_SECONDS", "2"))
SEED = int(os.environ.get("DESIGNER_FUZZ_SEED", "0"))
COMPILE_LIMIT = 2_000_000  # parameters: mutations can ask for terabytes, and that has its own test
TOKENS = [b"{", b"}", b"[", b"]", b",", b":", b'"', b"\\", b"null", b"true", b"-1", b"0", b"1e309", b"NaN",
          b"99999999999999999999", b'"Input"', b'"Conv2d"', b'"Concat"', b'"shape"', b'"port"', b'"edges"',
          b'"groups"', b'"members"', b"\xff", b"\x00", b"\xe2\x80\xae", "𝕥𝕣𝕒𝕚𝕟𝕚𝕟𝕘".encode()]


def mutate(data: bytes, rng: random.Random) -> bytes:
    """One to four edits of the kinds that real damage and hostile editing make."""
    buf = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        at = rng.randrange(len(buf) + 1)
        kind = rng.randrange(6)
        if kind == 0 and buf:  # a flipped bit
            i = rng.randrange(len(buf))
            buf[i] ^= 1 << rng.randrange(8)
        elif kind == 1:  # a cut
            del buf[at:at + rng.randint(1, 64)]
        elif kind == 2 and buf:  # a chunk repeated elsewhere: duplicated nodes, edges, keys
            start = rng.randrange(len(buf))
            chunk = buf[start:start + rng.randint(1, 200)]
            buf[at:at] = chunk
        elif kind == 3:  # a JSON token or a troublesome value spliced in
            buf[at:at] = rng.choice(TOKENS)
        elif kind == 4:  # a number made huge, negative or fractional
            digits = [i for i, b in enumerate(buf) if 48 <= b <= 57]
            if digits:
                i = rng.choice(digits)
                buf[i:i + 1] = rng.choice([b"4294967296", b"-7", b"0.5", b"1e20", b"0"])
        else:  # the file ends early
            del buf[at:]
    return bytes(buf)


def cases(name: str) -> Iterator[tuple[int, bytes]]:
    """Mutants of one template for SECONDS / len(templates), each numbered for the failure message."""
    original = template_path(name).read_bytes()
    rng = random.Random(f"{SEED}:{name}")
    deadline = time.monotonic() + SECONDS / len(template_names())
    number = 0
    while time.monotonic() < deadline:
        yield number, mutate(original, rng)
        number += 1


def holds_its_promise(data: bytes) -> None:
    try:
        graph = project.loads(data)
    except ProjectFileError as exc:
        assert "\n" not in str(exc) and len(str(exc)) < 1000
        return
    graph.validate()
    assert project.dumps(project.loads(project.dumps(graph))) == project.dumps(graph)
    summary.as_text(graph)
    if not graph.errors() and summary.totals(graph)["params"] <= COMPILE_LIMIT:
        try:
            graph.to_torch()
        except GraphError as exc:  # refused in words, e.g. a network too large for memory
            assert "\n" not in str(exc)


def run_campaign(name: str, check: Callable[[bytes], None]) -> int:
    count = 0
    for number, data in cases(name):
        try:
            check(data)
        except BaseException as exc:
            raise AssertionError(f"{name} mutant {number} (DESIGNER_FUZZ_SEED={SEED}) broke the promise: "
                                 f"{type(exc).__name__}: {exc}\n{data[:2000]!r}") from exc
        count += 1
    return count


@pytest.mark.parametrize("name", template_names())
def test_mutated_project_bytes_load_or_fail_in_one_line(name):
    assert run_campaign(name, holds_its_promise) > 0


@pytest.mark.parametrize("name", ["lenet5", "inception", "resnet18"])
def test_mutated_project_files_through_the_cli(name, tmp_path, capsys):
    path = tmp_path / f"{name}.json"

    def through_cli(data: bytes) -> None:
        path.write_bytes(data)
        code = main(["summary", str(path)])
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err
        if code == 2:  # the file was refused: one line naming it
            assert err.startswith(f"designer: error: {path}") and err.count("\n") == 1, err
        else:
            assert code in (0, 1) and out

    assert run_campaign(name, through_cli) > 0
