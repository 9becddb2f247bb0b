"""Training from an image folder too large for memory: peak resident memory and batches per second.

Run: ``.venv/bin/python benchmarks/large_dataset.py [--images 100000] [--size 64] [--keep DIR]``

1. Generates ``--images`` RGB PNGs of ``--size``² in 10 class folders (in worker
   processes) into a temporary folder (or ``--keep DIR``, reused when it is
   there already), never into the repository.
2. Measures, each in a fresh process, the peak RSS (``ru_maxrss``) of
   * ``model``: the same imports, a lenet5-like network with a ``3×size×size``
     Input built and taken through one SGD step on a random batch: no data;
   * ``large``: the folder decoded into the cache (worker processes, timed; their
     own memory is not the trainer's and is reported apart), then
     ``designer train`` for one epoch through ``designer.cli.main``, which finds
     the decoded set larger than ``MAP_ABOVE`` and reads it from its file.
   The figure of the issue is ``large − model``; batches/s is the epoch's steps
   over its seconds (validation included), as the run's ``metrics.jsonl`` says.
3. The digits-sized case: the 1,797 built-in digits written as PNGs, trained with
   the stock ``lenet5`` (1×32×32) for 3 epochs with the set in memory and with it
   forced into the map (``MAP_ABOVE = 0`` in that process), batches/s of the last
   two epochs; and ``batches()`` alone over the two prepared splits, shuffled with
   crop and flip, alternating for ``--rounds`` rounds (median).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ROOT = Path(__file__).resolve().parent.parent
CLASSES = 10
BATCH = 128


# -- data ------------------------------------------------------------------------------------


def _write_pngs(job: tuple[str, int, int, int]) -> None:
    import numpy as np
    from PIL import Image

    folder, start, stop, size = job
    rng = np.random.default_rng(start)
    for i in range(start, stop):
        # A coarse random image enlarged: PNGs of a realistic few kB that decode at a realistic pace.
        coarse = Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8))
        coarse.resize((size, size), Image.Resampling.BILINEAR).save(
            Path(folder) / f"c{i % CLASSES}" / f"{i:07d}.png", compress_level=1)


def generate(folder: Path, count: int, size: int) -> float:
    """``count`` PNGs in ``folder/c0 … c9``; seconds taken (0 when the folder was there already)."""
    if folder.is_dir() and sum(1 for _ in folder.rglob("*.png")) == count:
        return 0.0
    shutil.rmtree(folder, ignore_errors=True)
    for c in range(CLASSES):
        (folder / f"c{c}").mkdir(parents=True)
    started = time.perf_counter()
    step = 1000
    jobs = [(str(folder), a, min(a + step, count), size) for a in range(0, count, step)]
    with multiprocessing.get_context("spawn").Pool() as pool:
        pool.map(_write_pngs, jobs)
    return time.perf_counter() - started


def write_digits(folder: Path) -> None:
    from PIL import Image

    from designer.data.builtin import load_digits

    if folder.is_dir():
        return
    raw = load_digits()
    for i, (image, label) in enumerate(zip(raw.train.images, raw.train.labels.tolist(), strict=True)):
        (folder / str(label)).mkdir(parents=True, exist_ok=True)
        Image.fromarray(image[0].numpy(), "L").save(folder / str(label) / f"{i:04d}.png")


def project_for(size: int, where: Path) -> Path:
    """lenet5 with a ``3×size×size`` Input: the convolutions stay, the first Linear grows to fit."""
    text = (ROOT / "resources" / "templates" / "lenet5.json").read_text()
    path = where / f"lenet5-{size}.json"
    path.write_text(text.replace('"shape": [1, 32, 32]', f'"shape": [3, {size}, {size}]'))
    return path


# -- children: one measurement each, in a fresh process --------------------------------------


def child_model(project: str, size: int) -> dict[str, float]:
    import torch

    import designer
    import designer.cli  # the trainer's own imports, so that only the data differs
    import designer.training

    model = designer.load(project).to_torch()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    loss = torch.nn.functional.cross_entropy(model(torch.randn(BATCH, 3, size, size)),
                                             torch.randint(0, CLASSES, (BATCH,)))
    loss.backward()
    optimizer.step()
    return {"maxrss_mib": _maxrss_mib()}


def child_train(project: str, folder: str, epochs: int, force_map: bool, decode_first: bool,
                input_shape: list[int]) -> dict[str, float]:
    import designer.data.mapped
    from designer.cli import main
    from designer.data import DatasetConfig, prepare
    from designer.data.progress import DecodeProgress

    if force_map:
        designer.data.mapped.MAP_ABOVE = 0
    result: dict[str, float] = {}
    if decode_first:  # the first decoding, timed on its own; training below finds the cache
        started = time.perf_counter()
        data = prepare(DatasetConfig(name="folder", path=folder), tuple(input_shape),
                       progress=DecodeProgress(sys.stderr))
        result["decode_s"] = time.perf_counter() - started
        result["mapped"] = float(type(data.train.images).__name__ == "MappedImages")
        result["after_prepare_mib"] = _maxrss_mib()
        del data
    out = tempfile.mkdtemp(prefix="designer-bench-run-")
    code = main(["train", project, "--dataset", folder, "--epochs", str(epochs), "--batch-size", str(BATCH),
                 "--out", out, "--json"])
    if code != 0:
        raise SystemExit(f"designer train exited {code}")
    (metrics,) = Path(out).glob("runs/*/metrics.jsonl")
    records = [json.loads(line) for line in metrics.read_text().splitlines()]
    steps = next(r["steps_per_epoch"] for r in records if r["kind"] == "start")
    seconds = [r["seconds"] for r in records if r["kind"] == "epoch"]
    result["batches_per_s"] = steps / statistics.mean(seconds[1:] or seconds)
    result["maxrss_mib"] = _maxrss_mib()
    result["decoders_maxrss_mib"] = _maxrss_mib(resource.RUSAGE_CHILDREN)
    shutil.rmtree(out, ignore_errors=True)
    return result


def child_loop(folder: str, rounds: int) -> dict[str, float]:
    """``batches()`` alone, in memory against the map, alternating round by round."""
    import torch

    from designer.data import Augment, DatasetConfig, batches, prepare

    config = DatasetConfig(name="folder", path=folder, augment=Augment(crop_padding=4, hflip=True))
    arms = {"memory": prepare(config, (1, 32, 32)), "map": prepare(config, (1, 32, 32), map_above=0)}
    rates: dict[str, list[float]] = {name: [] for name in arms}
    for r in range(rounds):
        for name in (list(arms) if r % 2 == 0 else list(arms)[::-1]):
            data, generator = arms[name], torch.Generator().manual_seed(r)
            started, count = time.perf_counter(), 0
            for _ in batches(data.train, BATCH, shuffle=True, generator=generator, augment=data.augment):
                count += 1
            rates[name].append(count / (time.perf_counter() - started))
    return {name: statistics.median(values) for name, values in rates.items()}


def _maxrss_mib(who: int = resource.RUSAGE_SELF) -> float:
    per_mib = 2**20 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB elsewhere
    return resource.getrusage(who).ru_maxrss / per_mib


def run_child(*args: str, cache: Path) -> dict[str, float]:
    env = {**os.environ, "DESIGNER_CACHE_DIR": str(cache), "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, __file__, "--child", *args], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"child {args[0]} failed:\n{done.stderr[-3000:]}")
    decoded = re.findall(r"decoded [\d,]+ images in [\d.]+ s", done.stderr)
    if decoded:
        print(f"  {decoded[-1]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


# -- the benchmark ---------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=100_000)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--keep", type=Path, help="generate into (or reuse) this folder")
    parser.add_argument("--digits-only", action="store_true", help="only the digits-sized comparison")
    parser.add_argument("--child", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.child)))
        return
    work = Path(tempfile.mkdtemp(prefix="designer-large-"))
    try:
        _measure(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _child(argv: list[str]) -> dict[str, float]:
    role, *rest = argv
    if role == "model":
        return child_model(rest[0], int(rest[1]))
    if role == "train":
        project, folder, epochs, force, first, *shape = rest
        return child_train(project, folder, int(epochs), force == "1", first == "1", [int(d) for d in shape])
    return child_loop(rest[0], int(rest[1]))


def _measure(args: argparse.Namespace, work: Path) -> None:
    if not args.digits_only:
        _large(args, work)
    _digits(args, work)


def _large(args: argparse.Namespace, work: Path) -> None:
    folder = args.keep or work / "images"
    size, count = args.size, args.images
    print(f"{count:,} PNGs of {size}×{size} into {folder}: "
          f"{generate(folder, count, size):.0f} s (0: reused)")
    project = project_for(size, work)
    model = run_child("model", str(project), str(size), cache=work / "cache")
    large = run_child("train", str(project), str(folder), "1", "0", "1", "3", str(size), str(size),
                      cache=work / "cache")
    decoded = count * 3 * size * size / 2**20
    print(f"decoded set {decoded:,.0f} MiB, read from its file: {bool(large['mapped'])}; "
          f"first decoding {large['decode_s']:.0f} s ({count / large['decode_s']:,.0f} images/s; "
          f"decoder processes' peak RSS {large['decoders_maxrss_mib']:.0f} MiB each at most)")
    above = large["maxrss_mib"] - model["maxrss_mib"]
    print(f"peak RSS: model alone {model['maxrss_mib']:.0f} MiB, training one epoch "
          f"{large['maxrss_mib']:.0f} MiB -> {above:.0f} MiB above the model's own "
          f"(after prepare: {large['after_prepare_mib']:.0f} MiB); {large['batches_per_s']:.1f} batches/s")


def _digits(args: argparse.Namespace, work: Path) -> None:
    digits = work / "digits"
    write_digits(digits)
    runs: dict[str, list[float]] = {"memory": [], "map": []}
    for _ in range(3):  # alternating, so that a busy moment of the machine falls on both
        for name, force in (("memory", "0"), ("map", "1")):
            rate = run_child("train", "lenet5", str(digits), "3", force, "0", cache=work / "cache")
            runs[name].append(rate["batches_per_s"])
    memory, mapped = statistics.median(runs["memory"]), statistics.median(runs["map"])
    print(f"digits, lenet5 training (median of 3): memory {memory:.1f} batches/s, map {mapped:.1f} batches/s, "
          f"ratio {mapped / memory:.2f}")
    loop = run_child("loop", str(digits), str(args.rounds), cache=work / "cache")
    print(f"digits, batches() alone (crop+flip, batch {BATCH}): memory {loop['memory']:,.0f}/s, "
          f"map {loop['map']:,.0f}/s, ratio {loop['map'] / loop['memory']:.2f}")
    print(f"load average after: {', '.join(f'{v:.1f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
