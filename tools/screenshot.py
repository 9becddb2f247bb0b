"""Renders the main window offscreen to docs/screenshot.png and docs/training.png for the README.

screenshot.png: the AlexNet template (or the project or template named on the
command line) is laid out in layers, its second convolution is selected so the
inspector shows its parameters, and the window is grabbed at a fixed size with
the light theme. training.png (``--training``): LeNet-5 training on the built-in
digits from the Training tab, grabbed mid-run with the plots, the progress and
the blocks tagged with their gradient norms.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication

import designer
from designer.graph.layout import apply_layout
from designer.ui.document import Document
from designer.ui.main_window import MainWindow
from designer.ui.theme import apply_light_theme

SIZE = (1440, 900)


def main() -> None:
    app = QApplication(sys.argv[:1])
    apply_light_theme(app)
    if "--training" in sys.argv:
        training(app)
        return
    source = sys.argv[1] if len(sys.argv) > 1 else "alexnet"
    graph = designer.load(source)
    apply_layout(graph)
    with tempfile.TemporaryDirectory() as folder:
        # A throwaway settings file: the screenshot never depends on, or changes, the user's.
        settings = QSettings(str(Path(folder) / "screenshot.ini"), QSettings.Format.IniFormat)
        window = MainWindow(Document(graph), settings)
        window.resize(*SIZE)
        window.show()
        app.processEvents()
        window.resizeDocks([window.docks[2]], [300], Qt.Orientation.Vertical)
        app.processEvents()
        window.frame_document()
        window.view.zoom_by(1.0 / window.view.zoom)  # actual size: every label readable
        selected = "conv2" if "conv2" in graph else next(iter(graph.nodes))
        window.select_node(selected)
        block = window.view.graph_scene.item_for_node(selected).pos()
        window.view.centerOn(block.x() - 40, block.y() + 20)
        for _ in range(3):
            app.processEvents()
        out = Path(__file__).resolve().parent.parent / "docs" / "screenshot.png"
        window.grab().save(str(out))
        window.close()
    print("wrote", out)


def training(app: QApplication) -> None:
    """LeNet-5 on digits, paused in its fifth epoch, with the Training and Plots tabs in front."""
    from designer.training.records import EpochRecord
    from designer.ui.training.session import PAUSED

    graph = designer.load("lenet5")
    graph.set_meta("training", {"lr": 0.05, "epochs": 12, "log_every": 2, "stats_every": 10})
    with tempfile.TemporaryDirectory() as folder:
        settings = QSettings(str(Path(folder) / "screenshot.ini"), QSettings.Format.IniFormat)
        document = Document(graph)
        document.save(Path(folder) / "lenet5.json")
        window = MainWindow(document, settings)
        window.ask_stop_training = lambda: True  # type: ignore[method-assign]
        window.resize(*SIZE)
        window.show()
        window.training_dock.raise_()
        window.plots_dock.raise_()
        window.resizeDocks([window.plots_dock], [330], Qt.Orientation.Vertical)
        window.set_stat_key("grad_norm")
        app.processEvents()
        epochs: list[EpochRecord] = []
        panel = window.training_panel
        panel.records.connect(
            lambda run_id, items: epochs.extend(r for r in items if isinstance(r, EpochRecord)))
        panel.start()
        while len(epochs) < 4:
            app.processEvents()
        panel.session.pause()
        while panel.session.state != PAUSED:
            app.processEvents()
        window.frame_document()
        for _ in range(5):
            app.processEvents()
        out = Path(__file__).resolve().parent.parent / "docs" / "training.png"
        window.grab().save(str(out))
        panel.shutdown()
        window.close()
    print("wrote", out)


if __name__ == "__main__":
    main()
