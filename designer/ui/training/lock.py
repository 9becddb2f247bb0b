"""The window's side of the training lock: while a run uses the open graph, the editor shows it read-only.

:meth:`Document.push` refuses every edit of a locked document; this guard makes
sure the window never tries. While the open document is locked, a banner sits
over the canvas, the editing panels (inspector, block palette) are disabled,
the actions the table marks as edits (and Undo, Redo) are off, and a click,
drag or drop on the canvas is answered with the reason in the status bar. Zoom
and pan still work.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QGraphicsView, QLabel, QWidget

from designer.ui.document import Document

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
    """Follows the open document and makes its editing surfaces read-only while it is locked.

    ``set_actions_locked`` switches the edit actions (the action table's
    ``set_locked``); ``panels`` are disabled; ``show_status`` says why a click
    on ``view`` did nothing.
    """

    def __init__(self, view: QGraphicsView, set_actions_locked: Callable[[bool], None],
                 panels: Iterable[QWidget], show_status: Callable[[str], None]) -> None:
        super().__init__(view)
        self.view = view
        self.set_actions_locked = set_actions_locked
        self.panels = list(panels)
        self.show_status = show_status
        self.document: Document | None = None
        self.banner = lock_banner(view)
        self.banner.move(8, 8)
        view.viewport().installEventFilter(self)

    @property
    def reason(self) -> str | None:
        return self.document.locked_reason if self.document is not None else None

    def watch(self, document: Document) -> None:
        if self.document is not None:
            self.document.locked_changed.disconnect(self._apply)
        self.document = document
        document.locked_changed.connect(self._apply)
        self._apply(document.locked_reason)

    def _apply(self, reason: str | None) -> None:
        locked = reason is not None
        self.set_actions_locked(locked)
        for panel in self.panels:
            panel.setEnabled(not locked)
        if self.document is not None:  # Undo and Redo follow the group's active stack: off while inactive
            self.document.undo_stack.setActive(not locked)
        self.banner.setText(reason or "")
        self.banner.setVisible(locked)
        if locked:
            self.banner.setMaximumWidth(max(200, self.view.width() - 16))
            self.banner.adjustSize()
            self.banner.raise_()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        reason = self.reason
        if reason is None or event.type() not in _REFUSED_EVENTS:
            return False
        if isinstance(event, QMouseEvent) and event.button() == Qt.MouseButton.MiddleButton:
            return False  # panning edits nothing
        if event.type() in (QEvent.Type.MouseButtonPress, QEvent.Type.Drop):
            self.show_status(reason)
        event.ignore()
        return True
