"""Starting the desktop application."""

from __future__ import annotations

import sys

DEFAULT_EXAMPLE = "alexnet"


def run(src: str | None = None) -> int:
    from PySide6.QtWidgets import QApplication, QMessageBox

    from designer.graph import GraphError, load
    from designer.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Designer")
    app.setOrganizationName("Designer")
    try:
        graph = load(src or DEFAULT_EXAMPLE)
    except GraphError as exc:
        QMessageBox.warning(None, "Cannot open", f"{exc}\n\nOpening the {DEFAULT_EXAMPLE} example instead.")
        graph = load(DEFAULT_EXAMPLE)
    window = MainWindow(graph)
    window.show()
    return app.exec()
