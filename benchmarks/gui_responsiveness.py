"""How responsive the window stays while a run trains at full speed, and what the window costs the run.

Two cases, interleaved round by round (the order flips every round):

* headless: the run as ``designer train`` makes it (``start_job(...).run()``),
  samples per second over the training steps;
* app: the same run on a :class:`TrainingWorker` inside a shown main window
  (offscreen) with the training panel's plots fed its records, while a 5 ms
  timer on the GUI thread measures how late each tick comes: a stall is the
  time between ticks beyond 5 ms, i.e. how long the event loop could not run.

Targets (issue 6): stall p99 ≤ 12 ms and max ≤ 25 ms; app throughput ≥ 0.95×
headless. Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/gui_responsiveness.py``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QElapsedTimer, QEventLoop, QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication

import designer
from designer.data import DatasetConfig
from designer.training import EpochRecord, RunStarted, TrainingConfig
from designer.training.jobs import start_job
from designer.ui.document import Document
from designer.ui.main_window import MainWindow
from designer.ui.training_worker import TrainingWorker

TICK_MS = 5


def throughput(records: list[object]) -> float:
    """Samples per second over the epochs' training time (data loading and start-up excluded)."""
    epochs = [r for r in records if isinstance(r, EpochRecord)]
    started = next(r for r in records if isinstance(r, RunStarted))
    batch_size = CONFIG.batch_size
    steps = epochs[-1].step - started.step
    return steps * batch_size / sum(e.seconds for e in epochs)


def headless(root: Path) -> float:
    job = start_job(designer.load("lenet5"), DatasetConfig(), CONFIG, root=root)
    return throughput(list(job.records()))


def in_app(app: QApplication, root: Path) -> tuple[float, list[float]]:
    window = MainWindow(Document.open("lenet5"), QSettings(str(root / "s.ini"), QSettings.Format.IniFormat))
    window.resize(1400, 900)
    window.show()
    app.processEvents()
    plots = _plots(window)
    worker = TrainingWorker.for_graph(window.graph, DatasetConfig(), CONFIG, root=root)
    records: list[object] = []
    worker.records.connect(records.extend)
    if plots is not None:
        worker.records.connect(lambda items: plots.add_records("run", items))
    stalls: list[float] = []
    clock = QElapsedTimer()
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(TICK_MS)

    def tick() -> None:
        stalls.append(max(0.0, clock.nsecsElapsed() / 1e6 - TICK_MS))
        clock.restart()

    timer.timeout.connect(tick)
    loop = QEventLoop()
    worker.finished.connect(lambda result: loop.quit())
    worker.failed.connect(lambda message: (print("failed:", message), loop.quit()))
    clock.start()
    timer.start()
    worker.start()
    loop.exec()
    timer.stop()
    window.close()
    window.deleteLater()
    app.processEvents()
    return throughput(records), stalls


def _plots(window: MainWindow):  # type: ignore[no-untyped-def]
    """The plots the window shows training in, if this version has them."""
    return getattr(window, "training_plots", None)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=4)
    args = parser.parse_args()
    global CONFIG
    CONFIG = TrainingConfig(batch_size=64, epochs=args.epochs, lr=0.05)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    speeds: dict[str, list[float]] = {"headless": [], "app": []}
    stalls: list[float] = []
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        headless(root / "warm-up")
        for i in range(args.rounds):
            for case in (("headless", "app") if i % 2 == 0 else ("app", "headless")):
                if case == "headless":
                    speeds[case].append(headless(root / f"h{i}"))
                else:
                    speed, ticks = in_app(app, root / f"a{i}")
                    speeds[case].append(speed)
                    stalls += ticks
    head, inside = statistics.median(speeds["headless"]), statistics.median(speeds["app"])
    print(f"torch threads {__import__('torch').get_num_threads()}, switch interval {sys.getswitchinterval()} s")
    print(f"headless: {head:,.0f} samples/s   app: {inside:,.0f} samples/s   ratio {inside / head:.3f} "
          f"(target ≥ 0.95)")
    print(f"GUI stalls over {len(stalls):,} ticks of {TICK_MS} ms: p50 {percentile(stalls, 0.5):.2f} ms, "
          f"p99 {percentile(stalls, 0.99):.2f} ms (target ≤ 12), max {max(stalls):.2f} ms (target ≤ 25)")


CONFIG = TrainingConfig()

if __name__ == "__main__":
    main()
