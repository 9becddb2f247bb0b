"""The window's side of the training lock: while a run uses the open graph, the editor shows it read-only.

:meth:`Document.push` refuses every edit of a locked document; this guard makes
sure the window never tries. While the open document is locked, a banner sits
over the canvas, the inspector and the block palette are disabled, the edit
actions (and Undo, Redo) are off, and a click, drag or drop on the canvas is
answered with the reason in the status bar. Zoom and pan still work.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QLabel, QWidget

from designer.ui.document import Document

if TYPE_CHECKING:
    from PySide6.QtGui import QAction

    from designer.ui.main_window import MainWindow

BANNER_STYLE = ("background: #fff4d6; color: #5d4300; border: 1px solid #e0c36a; border-radius: 3px;"
                " padding: 4px 8px;")
_REFUSED_EVENTS = {
    QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonDblClick, QEvent.Type.DragEnter,
    QEvent.Type.DragMove, QEvent.Type.Drop,
}


def lock_banner(parent: QWidget | None = None) -> QLabel:
    """The yellow line that says the graph is locked, and why (hidden until it is)."""
    label = QLabel(parent)
    label.setWordWrap(True)
    label.setStyleSheet(BANNER_STYLE)
    label.setObjectName("lock_banner")
    label.hide()
    return label


class GraphLockGuard(QObject):
    """Follows the window's document and makes its editing surfaces read-only while it is locked."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.document: Document | None = None
        self.banner = lock_banner(window.view)
        self.banner.move(8, 8)
        window.view.viewport().installEventFilter(self)

    @property
    def reason(self) -> str | None:
        return self.document.locked_reason if self.document is not None else None

    def watch(self, document: Document) -> None:
        if self.document is not None:
            self.document.locked_changed.disconnect(self._apply)
        self.document = document
        document.locked_changed.connect(self._apply)
        self._apply(document.locked_reason)

    def _edit_actions(self) -> list[QAction]:
        a = self.window.menu_actions
        return [a.delete, a.cut, a.paste, a.duplicate, a.group, a.ungroup, a.collapse, a.repeat,
                a.rename_group, a.auto_layout]

    def _apply(self, reason: str | None) -> None:
        locked = reason is not None
        window = self.window
        for action in self._edit_actions():
            action.setEnabled(not locked)
        window.inspector.setEnabled(not locked)
        window.palette_panel.setEnabled(not locked)
        if self.document is not None:  # Undo and Redo follow the group's active stack: off while inactive
            self.document.undo_stack.setActive(not locked)
        self.banner.setText(reason or "")
        self.banner.setVisible(locked)
        if locked:
            self.banner.setMaximumWidth(max(200, window.view.width() - 16))
            self.banner.adjustSize()
            self.banner.raise_()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        reason = self.reason
        if reason is None or event.type() not in _REFUSED_EVENTS:
            return False
        if isinstance(event, QMouseEvent) and event.button() == Qt.MouseButton.MiddleButton:
            return False  # panning edits nothing
        if event.type() in (QEvent.Type.MouseButtonPress, QEvent.Type.Drop):
            self.window.statusBar().showMessage(reason, 10_000)
        event.ignore()
        return True
