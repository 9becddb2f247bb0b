"""Starting the desktop application."""

from __future__ import annotations

import sys

DEFAULT_EXAMPLE = "alexnet"


def run(src: str | None = None) -> int:
    from PySide6.QtWidgets import QApplication, QMessageBox

    from designer.graph import GraphError
    from designer.ui.document import Document
    from designer.ui.main_window import APPLICATION, ORGANISATION, MainWindow
    from designer.ui.theme import apply_light_theme

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName(APPLICATION)
    app.setOrganizationName(ORGANISATION)
    apply_light_theme(app)  # type: ignore[arg-type]
    try:
        document = Document.open(src or DEFAULT_EXAMPLE)
    except GraphError as exc:
        QMessageBox.warning(None, "Cannot open", f"{exc}\n\nOpening the {DEFAULT_EXAMPLE} example instead.")
        document = Document.open(DEFAULT_EXAMPLE)
    window = MainWindow(document)
    window.show()
    return app.exec()
