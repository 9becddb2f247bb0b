"""Start to the first point of the live loss plot, lenet5 on the built-in digits (issue 13, C15).

Each case runs in a fresh interpreter, as a user meets it: a main window on lenet5, shown
offscreen, the Training tab brought up, then Start clicked (``QTest.mouseClick``). Timed from
the click to the first loss point in the Plots tab's curve with the plot repainted
(``repaint()``, synchronous: its cost is in the figure):

- **cold**: Start as soon as the window has painted and the tab is up: torch is not loaded yet.
- **warm**: Start once the app has settled: the training panel has loaded torch in the background
  (``TrainingPanel.warm_up_done``) and the dataset preview is shown.
- **second run**: in the warm process, the first run stopped, Start again.

The reference, last in the warm process: the engine alone, ``start_job`` and its records up to the
first batch record, with everything loaded; ``÷ engine`` is each case against that floor.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/first_point.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
TARGET_S = 1.5
TIMEOUT_S = 120.0


def _wait(app, condition, timeout_s: float = TIMEOUT_S) -> None:
    """Run the event loop (sleeping between events, as the app does) until ``condition()``."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop, timer, deadline = QEventLoop(), QTimer(), time.perf_counter() + timeout_s

    def check() -> None:
        if condition() or time.perf_counter() > deadline:
            loop.quit()

    timer.timeout.connect(check)
    timer.start(2)
    loop.exec()
    timer.stop()
    if not condition():
        raise SystemExit(f"timed out waiting for {condition.__doc__ or condition}")


def _points(window) -> int:
    host = window.plots
    if not host.built or not host.plots.run_ids():
        return 0
    x, _ = host.plots.curves(host.plots.run_ids()[-1]).loss_raw.getData()
    return 0 if x is None else len(x)


def _start_to_point(app, window) -> float:
    """Click Start; seconds until the first loss point is in the curve and painted."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    panel = window.training_panel
    before = len(window.plots.plots.run_ids()) if window.plots.built else 0
    started = time.perf_counter()
    QTest.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)

    def first_point() -> bool:
        """the first loss point"""
        return window.plots.built and len(window.plots.plots.run_ids()) > before and _points(window) >= 1

    _wait(app, first_point)
    window.plots.plots.graphics.viewport().repaint()
    return time.perf_counter() - started


def _engine_to_first_batch() -> float:
    """The reference: the engine alone, from start_job to its first batch record (torch loaded)."""
    from designer.data import DatasetConfig
    from designer.training.config import TrainingConfig
    from designer.training.jobs import start_job
    from designer.training.records import BatchRecord
    from designer.ui.document import Document

    graph = Document.open("lenet5").graph
    with tempfile.TemporaryDirectory() as root:
        started = time.perf_counter()
        job = start_job(graph, DatasetConfig(), TrainingConfig.from_json(graph.meta.get("training", {})),
                        root=root, tensorboard=False)
        records = job.records()
        for record in records:
            if isinstance(record, BatchRecord):
                break
        seconds = time.perf_counter() - started
        job.control.request_stop()
        for _ in records:
            pass
    return seconds


def one_case(case: str) -> dict[str, float]:
    """In this interpreter: open the window, then time the case (and, warm, the reference and a second run)."""
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from designer.ui.document import Document
    from designer.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    settings = QSettings(os.devnull, QSettings.Format.IniFormat)
    window = MainWindow(Document.open("lenet5"), settings)
    window.ask_stop_training = lambda: True
    window.resize(1600, 1000)
    window.show()
    app.processEvents()
    window.training_dock.raise_()
    app.processEvents()
    panel = window.training_panel
    out: dict[str, float] = {}
    if case == "warm":
        def settled() -> bool:
            """the background warm-up and the preview"""
            return getattr(panel, "warm_up_done", True) and bool(panel.picker.preview.summary.text())

        _wait(app, settled)
    out[case] = _start_to_point(app, window)
    panel.session.stop()
    _wait(app, lambda: not panel.session.active)
    if case == "warm":
        out["second run"] = _start_to_point(app, window)
        panel.session.stop()
        _wait(app, lambda: not panel.session.active)
        out["engine"] = _engine_to_first_batch()
    window.close()
    return out


def run_case(case: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as data:
        env = dict(os.environ, DESIGNER_DATA_DIR=data)
        done = subprocess.run([sys.executable, __file__, "--case", case], env=env, capture_output=True,
                              text=True, timeout=10 * TIMEOUT_S, check=False)
    if done.returncode != 0:
        raise SystemExit(f"the {case} case failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--case", choices=("cold", "warm"), help=argparse.SUPPRESS)  # one case, in-process
    args = parser.parse_args()
    if args.case:
        print(json.dumps(one_case(args.case)), flush=True)
        return
    found: dict[str, list[float]] = {}
    for _ in range(args.rounds):
        for case in ("cold", "warm"):
            for name, seconds in run_case(case).items():
                found.setdefault(name, []).append(seconds)
    engine = statistics.median(found["engine"])
    print(f"{'case':<12} {'median s':>9} {'all':>24} {'÷ engine':>9}  target")
    for name in ("cold", "warm", "second run", "engine"):
        times = found[name]
        median = statistics.median(times)
        target = f"≤ {TARGET_S} s: {'ok' if median <= TARGET_S else 'missed'}" if name == "warm" else ""
        listed = " ".join(f"{t:.2f}" for t in times)
        print(f"{name:<12} {median:>9.2f} {listed:>24} {median / engine:>9.2f}  {target}")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    main()
