"""Starting the desktop application."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from designer.ui.autosave import Leftover
    from designer.ui.main_window import MainWindow

DEFAULT_EXAMPLE = "alexnet"


def run(src: str | None = None) -> int:
    from PySide6.QtWidgets import QApplication

    from designer.ui.main_window import APPLICATION, ORGANISATION
    from designer.ui.theme import apply_light_theme

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName(APPLICATION)
    app.setOrganizationName(ORGANISATION)
    apply_light_theme(app)  # type: ignore[arg-type]
    window = first_window(src)
    window.show()
    return app.exec()


def first_window(src: str | None = None, ask_restore: Callable[[Leftover], bool] | None = None) -> MainWindow:
    """The window the app opens with: work a crash left behind if the user wants it back, else ``src``."""
    from PySide6.QtWidgets import QMessageBox

    from designer.graph import GraphError
    from designer.ui.autosave import leftovers, restore
    from designer.ui.document import Document
    from designer.ui.main_window import MainWindow

    found = leftovers()
    if found and (ask_restore or _ask_restore)(found[0]):
        document = restore(found[0])
    else:
        for leftover in found:
            leftover.file.unlink(missing_ok=True)
        try:
            document = Document.open(src or DEFAULT_EXAMPLE)
        except GraphError as exc:
            QMessageBox.warning(None, "Cannot open", f"{exc}\n\nOpening the {DEFAULT_EXAMPLE} example instead.")
            document = Document.open(DEFAULT_EXAMPLE)
    return MainWindow(document)


def _ask_restore(leftover: Leftover) -> bool:
    from PySide6.QtWidgets import QMessageBox

    answer = QMessageBox.question(
        None, "Restore unsaved work?",
        f"Designer closed without saving your work: {leftover.label}.\n\nRestore it?",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes)
    return answer == QMessageBox.StandardButton.Yes
