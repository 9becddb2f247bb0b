"""How long the dataset picker takes to show a preview, and whether the GUI thread stalls meanwhile.

A shown DatasetPicker (offscreen) is given a dataset with ``set_dataset_config``;
the time until its summary line appears is the preview time, and a 5 ms timer on
the GUI thread measures how late each tick comes meanwhile: a stall is the time
between ticks beyond 5 ms, i.e. how long the event loop could not run. Cases,
interleaved round by round (the order flips every round):

* idle: the same picker with nothing loading, for 1 s (the reference: what the
  machine's noise alone gives);
* digits, shapes (5,000 drawn at 32×32), npz-50k (50,000 random 3×32×32 uint8
  images with labels, written once to a temporary file: CIFAR-10's size);
* cold digits, once, in a fresh interpreter: torch is imported on the worker
  thread while the GUI thread keeps ticking.

Targets (issue 6): stall p99 ≤ 12 ms and max ≤ 25 ms in every case.
Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/dataset_picker.py [--rounds 5]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
from PySide6.QtCore import QElapsedTimer, QEventLoop, Qt, QTimer
from PySide6.QtWidgets import QApplication

from designer.data.config import DatasetConfig
from designer.ui.training.dataset_picker import DatasetPicker

TICK_MS = 5


def measure(app: QApplication, picker: DatasetPicker,
            config: DatasetConfig | None) -> tuple[float, list[float]]:
    """Seconds until the preview of ``config`` shows (None: 1 s idle), and the stalls meanwhile."""
    stalls: list[float] = []
    clock, since = QElapsedTimer(), QElapsedTimer()
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(TICK_MS)
    loop = QEventLoop()

    def tick() -> None:
        stalls.append(max(0.0, clock.nsecsElapsed() / 1e6 - TICK_MS))
        clock.restart()
        done = since.elapsed() >= 1000 if config is None else picker.preview.summary.text() != ""
        if done:
            loop.quit()

    timer.timeout.connect(tick)
    if config is not None:
        picker.set_dataset_config(config)
        picker.preview.summary.setText("")  # the previous case's line; the new one comes with the preview
    clock.start()
    since.start()
    timer.start()
    loop.exec()
    timer.stop()
    return since.elapsed() / 1000, stalls


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def cold() -> dict[str, float]:
    """In this (fresh) process: the first preview, torch imported on the worker thread."""
    app = QApplication.instance() or QApplication([])
    picker = DatasetPicker()
    picker.show()
    app.processEvents()
    seconds, stalls = measure(app, picker, DatasetConfig(seed=1))
    picker.shutdown()
    return {"seconds": seconds, "p99": percentile(stalls, 0.99), "max": max(stalls)}


def write_npz(folder: Path) -> Path:
    rng = np.random.default_rng(0)
    path = folder / "cifar-sized.npz"
    np.savez(path, x=rng.integers(0, 256, (50_000, 3, 32, 32), dtype=np.uint8),
             y=rng.integers(0, 10, 50_000).astype(np.int64))
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--cold", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.cold:
        print(json.dumps(cold()))
        return
    done = subprocess.run([sys.executable, __file__, "--cold"], capture_output=True, text=True, check=True)
    first = json.loads(done.stdout.strip().splitlines()[-1])
    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as tmp:
        npz = write_npz(Path(tmp))
        cases: dict[str, DatasetConfig | None] = {
            "idle": None, "digits": DatasetConfig(), "shapes": DatasetConfig(name="shapes"),
            "npz-50k": DatasetConfig(name="npz", path=str(npz))}
        picker = DatasetPicker()
        picker.resize(600, 760)
        picker.show()
        app.processEvents()
        measure(app, picker, DatasetConfig(seed=99))  # warm up: torch imported, first pixmaps made
        results: dict[str, list[tuple[float, list[float]]]] = {name: [] for name in cases}
        for round_ in range(args.rounds):
            order = list(cases) if round_ % 2 == 0 else list(reversed(cases))
            for name in order:
                config = cases[name]
                # A new seed each round: the picker shows a preview it has loaded already at once.
                varied = None if config is None else replace(config, seed=round_)
                results[name].append(measure(app, picker, varied))
        picker.shutdown()
    print(f"{'case':<14}{'preview s':>10}{'stall p99 ms':>14}{'stall max ms':>14}")
    print(f"{'cold digits':<14}{first['seconds']:>10.2f}{first['p99']:>14.1f}{first['max']:>14.1f}")
    for name, runs in results.items():
        seconds = statistics.median(s for s, _ in runs)
        p99 = statistics.median(percentile(st, 0.99) for _, st in runs)
        worst = max(max(st) for _, st in runs)
        shown = "-" if name == "idle" else f"{seconds:.2f}"
        print(f"{name:<14}{shown:>10}{p99:>14.1f}{worst:>14.1f}")


if __name__ == "__main__":
    main()
