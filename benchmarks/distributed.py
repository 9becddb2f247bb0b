"""Data-parallel training on the CPU: 2 processes of 1 thread against 1 process of 2 threads.

Run: ``.venv/bin/python benchmarks/distributed.py [--network lenet5] [--epochs 3] [--rounds 3]``

Both train the same network on the built-in digits with the same global batch
through ``designer train --json`` in a fresh process (the data-parallel one
through ``--nproc-per-node 2``, torch's elastic launcher and gloo), and report
the job's samples per second as the run summary counts them: the wall time of
training, validation and checkpoints, after the data is loaded. The two
alternate for ``--rounds`` rounds; the medians and their ratio are printed.
This measures what DDP costs and gains on one machine's cores, not across GPUs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def train(network: str, epochs: int, batch: int, processes: int, threads: int, out: Path) -> float:
    argv = [sys.executable, "-m", "designer", "train", network, "--dataset", "digits", "--epochs", str(epochs),
            "--batch-size", str(batch), "--device", "cpu", "--json", "--out", str(out)]
    if processes > 1:
        argv += ["--nproc-per-node", str(processes)]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "PYTHONPATH": str(ROOT)}
    result = subprocess.run(argv, capture_output=True, text=True, env=env, check=True, cwd=out)
    return float(json.loads(result.stdout.splitlines()[-1])["samples_per_second"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--network", default="lenet5")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    single, double = [], []
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(args.rounds):
            single.append(train(args.network, args.epochs, args.batch, 1, 2, Path(folder)))
            double.append(train(args.network, args.epochs, args.batch, 2, 1, Path(folder)))
    one, two = statistics.median(single), statistics.median(double)
    print(f"{args.network} on digits, batch {args.batch}, {args.epochs} epochs, median of {args.rounds}")
    print(f"  1 process × 2 threads: {one:8.0f} samples/s  {[round(s) for s in single]}")
    print(f"  2 processes × 1 thread: {two:8.0f} samples/s  {[round(s) for s in double]}")
    print(f"  ratio (2 processes ÷ 1): {two / one:.2f}")


if __name__ == "__main__":
    main()
