"""What the training panel adds to opening the window: import time and construction time.

Two measurements, medians over rounds:

1. Import, in fresh interpreters (``python -X importtime -c "import designer.ui.main_window"``):
   the cumulative import time of the main window, and the part of it spent on the
   training panel's modules (``designer.ui.training.panel`` and everything it pulls in
   first, the dataset picker included), with the share of the window's total.
2. Construction, in one process, interleaved: a whole ``MainWindow`` on lenet5 against
   a ``TrainingPanel`` with ``set_document`` alone, and the ratio of the two.

It also checks that neither torch nor pyqtgraph is imported by building and showing
the window (both are loaded when training or the plots are first needed).

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/training_panel_startup.py
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

MODULES = ("designer.ui.main_window", "designer.ui.training.panel", "designer.ui.training.dataset_picker",
           "designer.ui.training.config_form", "designer.ui.training.lock", "designer.ui.training.plots_host",
           "numpy")


def import_times() -> dict[str, float]:
    """Cumulative import time in ms of each of MODULES, in a fresh interpreter."""
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", "import designer.ui.main_window"],
                         capture_output=True, text=True, check=True).stderr
    found: dict[str, float] = {}
    for line in out.splitlines():
        parts = [p.strip() for p in line.removeprefix("import time:").split("|")]
        if len(parts) == 3 and parts[2] in MODULES:
            found[parts[2]] = int(parts[1]) / 1000
    return found


def construction(rounds: int) -> tuple[list[float], list[float], list[str]]:
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from designer.ui.document import Document
    from designer.ui.main_window import MainWindow
    from designer.ui.training.panel import TrainingPanel

    app = QApplication.instance() or QApplication([])
    settings = QSettings(os.devnull, QSettings.Format.IniFormat)
    windows, panels = [], []
    for index in range(rounds):
        order = ("window", "panel") if index % 2 == 0 else ("panel", "window")
        for case in order:
            start = time.perf_counter()
            if case == "window":
                window = MainWindow(Document.open("lenet5"), settings)
                window.show()
                app.processEvents()
                windows.append(time.perf_counter() - start)
                window.ask_unsaved_changes = lambda: None  # type: ignore[method-assign]
                window.hide()
                window.deleteLater()
            else:
                panel = TrainingPanel()
                panel.set_document(Document.open("lenet5"))
                panels.append(time.perf_counter() - start)
                panel.deleteLater()
            app.processEvents()
    loaded = [name for name in ("torch", "pyqtgraph") if name in sys.modules]
    return windows, panels, loaded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    runs = [import_times() for _ in range(args.rounds)]
    print("import (fresh interpreter, cumulative, median ms):")
    total = statistics.median(r["designer.ui.main_window"] for r in runs)
    for name in MODULES:
        values = [r[name] for r in runs if name in r]
        if values:
            ms = statistics.median(values)
            print(f"  {name:40s} {ms:7.1f} ms  {100 * ms / total:5.1f}% of the window's")
    windows, panels, loaded = construction(args.rounds)
    window_ms, panel_ms = 1000 * statistics.median(windows), 1000 * statistics.median(panels)
    print(f"construction (median of {args.rounds}): MainWindow {window_ms:.1f} ms, TrainingPanel "
          f"{panel_ms:.1f} ms, ratio {panel_ms / window_ms:.2f}")
    print(f"imported by building the window: {', '.join(loaded) or 'neither torch nor pyqtgraph'}")


if __name__ == "__main__":
    main()
