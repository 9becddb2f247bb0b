"""Checkpoints read back: an unreadable file says why, and a malformed random state stops --resume in one line.

``--resume`` goes through the real command line on a real one-epoch run of
LeNet-5 on the built-in digits (made once for the module, copied per test).
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import torch

from designer.cli import main
from designer.training import CheckpointError, load_checkpoint
from tests.test_cli import assert_one_line_error, run
from tests.test_export import unblocking_fifo

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="FIFOs and POSIX permissions")


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("train")
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = main(["train", "lenet5", "--epochs", "1", "--batch-size", "256", "--out", str(root)])
    assert code == 0
    return next((root / "runs").iterdir())


def copy_with_rng(run_dir: Path, where: Path, key: str, state: object) -> Path:
    """A copy of the run whose last checkpoint holds ``state`` as ``rng[key]``; returns the checkpoint."""
    copy = shutil.copytree(run_dir, where)
    last = copy / "checkpoints" / "last.pt"
    data = torch.load(last, weights_only=True)
    data["rng"][key] = state
    torch.save(data, last)
    return last


@pytest.mark.parametrize("key, state, words", [
    ("torch", torch.zeros(3), "RNG state must be a torch.ByteTensor"),
    ("torch", torch.zeros(10, dtype=torch.uint8), "Expected a CPUGeneratorImplState of size 5056 but found"),
    ("torch", "a string", "expected a torch.ByteTensor, but got str"),
    ("data", torch.zeros(5056, dtype=torch.uint8), "Invalid mt19937 state"),
])
def test_resume_from_a_malformed_random_state_is_refused_in_one_line(trained_run, tmp_path, capsys, key, state,
                                                                      words):
    last = copy_with_rng(trained_run, tmp_path / "run", key, state)
    code, out, err = run(capsys, "train", "--resume", str(last.parent.parent), "--epochs", "2")
    assert_one_line_error(code, out, err, f"{last}: its random-number state rng[{key!r}] is malformed ({words}")
    assert err.rstrip().endswith("so the run cannot go on from it bit-exactly")


def test_resume_still_goes_on_from_a_sound_checkpoint(trained_run, tmp_path, capsys):
    copy = shutil.copytree(trained_run, tmp_path / "run")
    code, _out, err = run(capsys, "train", "--resume", str(copy), "--epochs", "2")
    assert code == 0 and "goes on from epoch 2" in err


@posix_only
def test_a_checkpoint_that_is_a_fifo_or_a_folder_is_named_not_read(tmp_path):
    done = unblocking_fifo(tmp_path / "last.pt")
    try:
        with pytest.raises(CheckpointError, match=r"last\.pt: is a named pipe \(FIFO\), not a file$"):
            load_checkpoint(tmp_path / "last.pt")
    finally:
        done.set()
    (tmp_path / "best.pt").mkdir()
    with pytest.raises(CheckpointError, match=r"best\.pt: is a folder, not a file$"):
        load_checkpoint(tmp_path / "best.pt")


AS_NOBODY = """
import os, pwd, sys
from designer.training import CheckpointError, load_checkpoint
user = pwd.getpwnam("nobody")
os.setgroups([])
os.setgid(user.pw_gid)
os.setuid(user.pw_uid)
try:
    load_checkpoint(__import__("pathlib").Path(sys.argv[1]))
except CheckpointError as exc:
    print(exc)
"""


@posix_only
def test_a_checkpoint_that_cannot_be_read_says_so_and_why(trained_run):
    if os.geteuid() != 0:
        pytest.skip("the test drops root's privileges to see permissions apply")
    folder = Path(tempfile.mkdtemp(prefix="designer-test-"))
    try:
        folder.chmod(0o755)  # nobody may look in, but not read the checkpoint
        last = folder / "last.pt"
        shutil.copy(trained_run / "checkpoints" / "last.pt", last)
        last.chmod(0o600)
        done = subprocess.run([sys.executable, "-c", AS_NOBODY, str(last)], capture_output=True, text=True,
                              timeout=60, check=False)
    finally:
        shutil.rmtree(folder)
    assert done.stdout == f"{last}: cannot be read: permission denied\n", done.stderr


def test_gpu_random_states_are_checked_for_their_kind():
    from designer.training.checkpoints import rng_problem

    cpu, gpu = torch.get_rng_state(), torch.zeros(16, dtype=torch.uint8)  # what CUDA and MPS hand out
    assert rng_problem({"torch": cpu, "cuda": [gpu, gpu], "mps": None}) is None
    assert rng_problem({"torch": cpu, "cuda": [], "mps": gpu, "data": cpu}) is None
    for cuda, mps in (("x", None), ([torch.zeros(2)], None), ([], [1, 2])):
        assert "GPU random-number states" in rng_problem({"torch": cpu, "cuda": cuda, "mps": mps})
    assert "rng) is missing" in rng_problem(None)
