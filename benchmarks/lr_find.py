"""The learning-rate finder's time on lenet5 and the built-in digits (issue 14, item 4).

Times :func:`designer.training.lr_find.find_lr` with the project's settings
(SGD, batch 64, 100 steps from 1e-7 to 10, stopping early once the loss shoots
up): the whole call (loading the data, building the model and optimizer, the
steps) and the steps alone, after one untimed call that loads torch's kernels.
Also prints the suggestion, which is deterministic for a seed.

    .venv/bin/python benchmarks/lr_find.py [--rounds 3] [--device cpu]
"""

from __future__ import annotations

import argparse
import statistics
import time

import designer
from designer.data import DatasetConfig
from designer.training import TrainingConfig
from designer.training.lr_find import find_lr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    graph = designer.load("lenet5")
    config = TrainingConfig.from_json(graph.meta.get("training", {})).replace(device=args.device)
    find_lr(graph, DatasetConfig(), config, steps=10)  # kernels and lazy imports load here, untimed
    totals, sweeps = [], []
    for _ in range(args.rounds):
        started = time.perf_counter()
        finding = find_lr(graph, DatasetConfig(), config)
        totals.append(time.perf_counter() - started)
        sweeps.append(finding.seconds)
    steps = len(finding.lrs)
    print(f"lenet5 on digits, {config.optimizer} batch {config.batch_size}, device {args.device}: "
          f"{steps} steps ({finding.stopped or 'to the end'})")
    print(f"find_lr, whole call: median {statistics.median(totals):.2f} s (rounds: "
          f"{', '.join(f'{t:.2f}' for t in totals)})")
    print(f"the steps alone: median {statistics.median(sweeps):.2f} s, "
          f"{1000 * statistics.median(sweeps) / steps:.1f} ms a step")
    shown = {name: "none" if value is None else f"{value:.3g}"
             for name, value in (("suggestion", finding.suggestion), ("steepest", finding.steepest))}
    print(f"suggestion {shown['suggestion']} (minimum ÷ 10), steepest descent {shown['steepest']}")


if __name__ == "__main__":
    main()
