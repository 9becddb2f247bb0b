"""Batches per second of ``designer.data.batches`` against two references in the same run.

Run: ``.venv/bin/python benchmarks/data_loading.py [--rounds 15] [--threads 2]``

Two datasets at batch 128, prepared once with ``designer.data.prepare``:

* ``digits`` (1,618 training images after the 10 % split) upscaled 8×8 → 1×32×32;
* ``shapes`` (5,000 generated, 4,500 for training) at 3×32×32.

Arms, each one full shuffled epoch per sample:

* ``batches``: ``batches(train, 128, shuffle=True)`` without augmentation;
* ``batches+aug``: the same with random crop (padding 4) and horizontal flip;
* ``randn`` (floor): as many ``torch.randn(128, C, 32, 32)`` + ``randint`` labels as
  the epoch has batches: the cost of merely making float batches of that shape;
* ``DataLoader+aug`` (the usual way): a map-style ``Dataset`` over the same uint8
  tensor whose ``__getitem__`` converts, pads, crops, flips and normalises one
  sample, batched by ``torch.utils.data.DataLoader(shuffle=True, num_workers=0)``.

Arms alternate round by round (order reversed every other round); each figure is
the median over rounds. Ratios compare times from the same run: ``÷ randn`` is
epoch time over the randn floor's (lower is better, 1.0 = free), ``× faster`` is
the DataLoader's epoch time over ours.

With more than one thread, every batched arm slows down by an order of magnitude
while another process keeps a core busy (torch's parallel regions wait for the
descheduled thread); the per-sample and randn arms run single-threaded and do
not. The load average is printed before and after: compare runs on a quiet
machine, or use ``--threads 1``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset

from designer.data import Augment, DatasetConfig, Prepared, Split, batch_count, batches, prepare

BATCH = 128
AUGMENT = Augment(crop_padding=4, hflip=True)


class PerSample(Dataset[tuple[torch.Tensor, torch.Tensor]]):
    """The per-sample pipeline a hand-written loader would use: one image at a time."""

    def __init__(self, split: Split, generator: torch.Generator) -> None:
        self.split, self.generator = split, generator
        self.mean = torch.tensor(split.stats.mean).view(-1, 1, 1)
        self.std = torch.tensor(split.stats.std).view(-1, 1, 1)

    def __len__(self) -> int:
        return len(self.split)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        image = self.split.images[i].float() / 255
        padded = F.pad(image, (4, 4, 4, 4))
        dy, dx = (int(v) for v in torch.randint(0, 9, (2,), generator=self.generator))
        image = padded[:, dy:dy + image.shape[1], dx:dx + image.shape[2]]
        if torch.rand(1, generator=self.generator).item() < 0.5:
            image = image.flip(2)
        return (image - self.mean) / self.std, self.split.labels[i]


def arms(data: Prepared) -> dict[str, Callable[[], int]]:
    split = data.train
    generator = torch.Generator().manual_seed(0)
    shape = (BATCH, *split.images.shape[1:])
    count = batch_count(split, BATCH)
    loader = DataLoader(PerSample(split, generator), batch_size=BATCH, shuffle=True, generator=generator)

    def ours() -> int:
        return sum(1 for _ in batches(split, BATCH, shuffle=True, generator=generator))

    def ours_augmented() -> int:
        return sum(1 for _ in batches(split, BATCH, shuffle=True, generator=generator, augment=AUGMENT))

    def floor() -> int:
        for _ in range(count):
            torch.randn(shape, generator=generator), torch.randint(0, 10, (BATCH,), generator=generator)
        return count

    def per_sample() -> int:
        return sum(1 for _ in loader)

    return {"batches": ours, "batches+aug": ours_augmented, "randn": floor, "DataLoader+aug": per_sample}


def measure(cases: dict[str, Callable[[], int]], rounds: int) -> dict[str, float]:
    """Median seconds per epoch of each arm, interleaved round by round."""
    times: dict[str, list[float]] = {name: [] for name in cases}
    for run in cases.values():
        run()  # warm-up
    for r in range(rounds):
        order = list(cases) if r % 2 == 0 else list(reversed(cases))
        for name in order:
            start = time.perf_counter()
            cases[name]()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def report(title: str, data: Prepared, medians: dict[str, float]) -> None:
    count = batch_count(data.train, BATCH)
    print(f"\n{title}: {len(data.train):,} training images {list(data.train.images.shape[1:])} "
          f"{data.train.images.dtype}, {count} batches of {BATCH} per epoch")
    print(f"{'arm':<16}{'ms/epoch':>10}{'batches/s':>12}{'÷ randn':>10}{'× faster':>10}")
    for name, seconds in medians.items():
        faster = medians["DataLoader+aug"] / seconds
        print(f"{name:<16}{seconds * 1e3:>10.2f}{count / seconds:>12,.0f}{seconds / medians['randn']:>10.2f}"
              f"{faster:>10.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, rounds {args.rounds}, "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    cases = {
        "digits → 1×32×32": prepare(DatasetConfig(), (1, 32, 32)),
        "shapes 3×32×32": prepare(DatasetConfig(name="shapes", samples=5000, seed=0), (3, 32, 32)),
    }
    for title, data in cases.items():
        report(title, data, measure(arms(data), args.rounds))
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
