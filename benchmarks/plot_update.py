"""How long one live update of the training plots takes with a million points drawn, against a thousand.

Each case is a shown :class:`TrainingPlots` (1200×800, offscreen) holding one run
of N batch records (read in with ``load_run``, as a finished run is). One
update is what a delivery of the training worker causes: ``add_records`` of 30
new batch records, then the repaint it schedules (``processEvents`` delivers it;
the script checks that the viewport painted, and forces ``repaint()`` if not).
Cases are measured interleaved, round by round, the order flipped every round,
and the ratio to the 1,000-point case shows what the million points cost.

A third arm, "pyqtgraph alone", is the plain approach for comparison: the same
three plots with four curves handed views of the full columns on each update,
with pyqtgraph's own peak downsampling and clip-to-view and x autorange.

Target (issue 6): one update with 1,000,000 points ≤ 16 ms.
Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/plot_update.py`` (~1 min).
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication

from designer.training.records import BatchRecord, EpochRecord, Record, RunStarted
from designer.ui.training.plot_series import GrowingArray
from designer.ui.training.plots import TrainingPlots

NEW_RECORDS = 30
SIZE = (1200, 800)


class PaintCounter(QObject):
    """Counts the paint events a widget gets."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.count += 1
        return False


def loss(step: int) -> float:
    return 2.0 / math.sqrt(step) + 0.05 * math.sin(step / 7.0)


def make_records(points: int, epochs: int = 100) -> list[Record]:
    """A run of ``points`` batch records over ``epochs`` epochs, as the trainer reports one."""
    per_epoch = max(1, points // epochs)
    total = epochs * per_epoch
    records: list[Record] = [RunStarted("bench", "/runs/bench", "cpu", "CPU", epochs + 1, per_epoch, time=0.0)]
    for step in range(1, points + 1):
        epoch = (step - 1) // per_epoch + 1
        records.append(BatchRecord(epoch, step, (step - 1) % per_epoch + 1, loss(step), 0.5, 0.1 / epoch, 1e4,
                                   (total - step) * 1e-3))
        if step % per_epoch == 0:
            records.append(EpochRecord(epoch, step, loss(step), 0.6, loss(step) * 1.1, 0.7, 0.9, 0.1 / epoch,
                                       per_epoch * 1e-3, 1.0, False))
    return records


class PlotsCase:
    """The TrainingPlots widget with one run of ``points`` batch records."""

    def __init__(self, app: QApplication, points: int) -> None:
        self.app, self.points = app, points
        self.widget = TrainingPlots()
        self.widget.resize(*SIZE)
        self.widget.show()
        started = time.perf_counter()
        self.widget.load_run("bench", "bench", make_records(points))
        self.load_s = time.perf_counter() - started
        self.counter = PaintCounter()
        self.viewport = self.widget.graphics.viewport()
        self.viewport.installEventFilter(self.counter)
        self.step = points
        settle(app)

    def update(self) -> None:
        batch = []
        for _ in range(NEW_RECORDS):
            self.step += 1
            batch.append(BatchRecord(101, self.step, 1, loss(self.step), 0.5, 0.001, 1e4, 1.0))
        self.widget.add_records("bench", batch)


class PyqtgraphCase:
    """The plain approach: full columns handed to pyqtgraph, which downsamples and clips them itself."""

    def __init__(self, app: QApplication, points: int) -> None:
        self.app, self.points = app, points
        self.widget = pg.GraphicsLayoutWidget()
        self.widget.setBackground("#ffffff")
        self.widget.resize(*SIZE)
        self.widget.show()
        steps = np.arange(1, points + 1, dtype=np.float64)
        self.columns = [GrowingArray() for _ in range(5)]  # x, loss, smoothed loss, lr, accuracy
        for column, values in zip(self.columns, (steps, 2 / np.sqrt(steps), 2 / np.sqrt(steps),
                                                 np.full(points, 0.1), np.full(points, 0.5))):
            column.append(values)
        self.curves = []
        plots = [self.widget.addPlot(row=row, col=0) for row in range(3)]
        for plot, count in zip(plots, (2, 1, 1)):
            plot.setDownsampling(auto=True, mode="peak")
            plot.setClipToView(True)
            plot.setXLink(plots[0])
            self.curves += [plot.plot(pen="#1565c0") for _ in range(count)]
        self.load_s = 0.0
        self.counter = PaintCounter()
        self.viewport = self.widget.viewport()
        self.viewport.installEventFilter(self.counter)
        self.step = points
        self._set()
        settle(app)

    def _set(self) -> None:
        x = self.columns[0].view
        for curve, column in zip(self.curves, self.columns[1:]):
            curve.setData(x, column.view)

    def update(self) -> None:
        new = np.arange(self.step + 1, self.step + NEW_RECORDS + 1, dtype=np.float64)
        self.step += NEW_RECORDS
        for column, values in zip(self.columns, (new, 2 / np.sqrt(new), 2 / np.sqrt(new),
                                                 np.full(NEW_RECORDS, 0.1), np.full(NEW_RECORDS, 0.5))):
            column.append(values)
        self._set()


def settle(app: QApplication) -> None:
    for _ in range(5):
        app.processEvents()
        time.sleep(0.01)


def measure_once(app: QApplication, case: PlotsCase | PyqtgraphCase) -> tuple[float, int]:
    """Seconds for one update and its repaint, and how many paints it took."""
    painted = case.counter.count
    started = time.perf_counter()
    case.update()
    app.processEvents()
    if case.counter.count == painted:  # nothing painted yet: force it, so that the time includes drawing
        case.viewport.repaint()
    elapsed = time.perf_counter() - started
    return elapsed, case.counter.count - painted


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timed(action: Callable[[], None], app: QApplication, rounds: int = 5) -> float:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        action()
        app.processEvents()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--reference", type=int, default=1_000)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    cases: dict[str, PlotsCase | PyqtgraphCase] = {
        f"TrainingPlots, {args.reference:,} points": PlotsCase(app, args.reference),
        f"TrainingPlots, {args.points:,} points": PlotsCase(app, args.points),
        f"pyqtgraph alone, {args.points:,} points": PyqtgraphCase(app, args.points),
    }
    samples: dict[str, list[float]] = {name: [] for name in cases}
    paints: dict[str, list[int]] = {name: [] for name in cases}
    names = list(cases)
    for round_number in range(args.rounds):
        for name in names if round_number % 2 == 0 else reversed(names):
            gc.collect()
            elapsed, painted = measure_once(app, cases[name])
            samples[name].append(elapsed)
            paints[name].append(painted)
    reference = statistics.median(samples[names[0]])
    print(f"{NEW_RECORDS} new batch records per update, {args.rounds} rounds, "
          f"widget {SIZE[0]}×{SIZE[1]} offscreen")
    print(f"{'case':<36} {'median ms':>9} {'p95 ms':>7} {'÷ ref':>6} {'paints':>6} {'fill s':>6}")
    for name in names:
        median = statistics.median(samples[name])
        print(f"{name:<36} {median * 1e3:>9.2f} {percentile(samples[name], 0.95) * 1e3:>7.2f} "
              f"{median / reference:>6.2f} {statistics.mean(paints[name]):>6.2f} {cases[name].load_s:>6.1f}")
    big = cases[names[1]]
    assert isinstance(big, PlotsCase)
    plots = big.widget
    smoothing = timed(lambda: plots.set_smoothing(0.3 if plots.smoothing() != 0.3 else 0.6), app)
    axis = timed(lambda: plots.set_x_axis("epoch" if plots.x_axis() != "epoch" else "step"), app)
    print(f"\nwith {args.points:,} points: smoothing changed {smoothing * 1e3:.0f} ms, "
          f"x axis switched {axis * 1e3:.0f} ms (medians of 5, repaint included)")


if __name__ == "__main__":
    main()
