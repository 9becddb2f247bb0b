"""How long the event loop stalls while the evaluation panel evaluates a run, against evaluating inline.

A one-epoch lenet5 run on digits is made once. Then, round by round:

* inline (the reference): ``evaluate_trained(open_trained(run))`` called on the
  GUI thread, as a naive panel would; the stall is the whole call;
* panel: :meth:`EvaluationPanel.evaluate` on a shown panel, while a 5 ms timer
  on the GUI thread measures how late each tick comes (the stall is the time
  between ticks beyond 5 ms), until the matrix is filled;
* click: the GUI-thread time of showing the biggest confusion cell's samples.

Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/evaluation_responsiveness.py``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QElapsedTimer, QEventLoop, Qt, QTimer
from PySide6.QtWidgets import QApplication

import designer
from designer.data import DatasetConfig
from designer.training import TrainingConfig
from designer.training.jobs import start_job
from designer.training.trained import evaluate_trained, open_trained
from designer.ui.training.evaluation_panel import EvaluationPanel

TICK_MS = 5


def make_run(root: Path) -> Path:
    config = TrainingConfig(epochs=1, batch_size=128)
    return Path(start_job(designer.load("lenet5"), DatasetConfig(), config, root=root, tensorboard=False)
                .run().run_dir)


def inline(run: Path) -> float:
    start = time.perf_counter()
    evaluate_trained(open_trained(run), device="cpu")
    return (time.perf_counter() - start) * 1000


def in_panel(app: QApplication, run: Path) -> tuple[list[float], float]:
    """The stalls (ms) while the panel evaluates, and the GUI-thread ms of one cell click."""
    panel = EvaluationPanel()
    panel.resize(1100, 700)
    panel.show()
    app.processEvents()
    stalls: list[float] = []
    clock = QElapsedTimer()
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(TICK_MS)

    def tick() -> None:
        stalls.append(max(0.0, clock.restart() - TICK_MS))

    timer.timeout.connect(tick)
    loop = QEventLoop()
    panel.evaluated.connect(loop.quit)
    panel.failed.connect(loop.quit)
    clock.start()
    timer.start()
    panel.evaluate(run, device="cpu")
    loop.exec()
    timer.stop()
    assert panel.result is not None, panel.status.text()
    counts = panel.result.confusion
    cells = [(t, p) for t in range(len(counts)) for p in range(len(counts))]
    biggest = max(cells, key=lambda c: counts[c[0]][c[1]])
    start = time.perf_counter()
    panel.show_cell(*biggest)
    app.processEvents()
    click = (time.perf_counter() - start) * 1000
    panel.close()
    panel.deleteLater()
    return stalls, click


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    app = QApplication([])
    with tempfile.TemporaryDirectory() as folder:
        run = make_run(Path(folder))
        inline(run)  # warm-up: first use of the data and the model
        in_panel(app, run)
        inline_ms, stall_p99, stall_max, clicks = [], [], [], []
        for _ in range(args.rounds):
            inline_ms.append(inline(run))
            stalls, click = in_panel(app, run)
            ordered = sorted(stalls)
            stall_p99.append(ordered[int(0.99 * (len(ordered) - 1))])
            stall_max.append(ordered[-1])
            clicks.append(click)
    median = statistics.median
    print(f"inline evaluate_trained (GUI thread blocked): median {median(inline_ms):.1f} ms")
    print(f"panel: stall p99 median {median(stall_p99):.1f} ms, max median {median(stall_max):.1f} ms; "
          f"max stall / inline = {median(stall_max) / median(inline_ms):.2f}")
    print(f"cell click (largest cell's thumbnails): median {median(clicks):.1f} ms")


if __name__ == "__main__":
    main()
