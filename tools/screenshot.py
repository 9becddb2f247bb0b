"""Renders the main window offscreen to docs/screenshot.png for the README.

The AlexNet template (or the project or template named on the command line) is
laid out in layers, its second convolution is selected so the inspector shows
its parameters, and the window is grabbed at a fixed size with the light theme.
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


if __name__ == "__main__":
    main()
