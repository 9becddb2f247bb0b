"""Scrolling a form never edits it: spin boxes and combo boxes take the wheel only with keyboard focus.

One filter on the application covers every such widget, in every panel and
dialog: each is given ``Qt.StrongFocus`` as it is polished (a wheel no longer
focuses it, so the wheel cannot start editing it), and a wheel event over one
without focus goes to the scroll area around it instead, which scrolls.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QAbstractScrollArea, QAbstractSpinBox, QApplication, QComboBox, QWidget

GUARDED = (QAbstractSpinBox, QComboBox)


class WheelGuard(QObject):
    """The application's filter; see the module's docstring."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.Polish and isinstance(watched, GUARDED):
            watched.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        elif kind == QEvent.Type.Wheel and isinstance(event, QWheelEvent) and isinstance(watched, QWidget):
            field = guarded_field(watched)
            if field is not None and not field.hasFocus():
                scroll(field, event)
                return True
        return False


def guarded_field(widget: QWidget) -> QWidget | None:
    """The spin box or combo box ``widget`` is, or is part of (a spin box's line edit); else None."""
    for candidate in (widget, widget.parentWidget()):
        if isinstance(candidate, GUARDED):
            return candidate
    return None


def scroll(field: QWidget, event: QWheelEvent) -> None:
    """Hand ``event`` to the nearest scroll area around ``field``; without one, it is dropped."""
    area = field.parentWidget()
    while area is not None and not isinstance(area, QAbstractScrollArea):
        area = area.parentWidget()
    if area is None:
        return
    viewport = area.viewport()
    position = QPointF(viewport.mapFromGlobal(event.globalPosition().toPoint()))
    forwarded = QWheelEvent(position, event.globalPosition(), event.pixelDelta(), event.angleDelta(),
                            event.buttons(), event.modifiers(), event.phase(), event.inverted())
    QApplication.sendEvent(viewport, forwarded)


def install_wheel_guard(app: QApplication) -> WheelGuard:
    """Install the guard on ``app`` once; later calls return the same one."""
    guard = app.findChild(WheelGuard)
    if guard is None:
        guard = WheelGuard(app)
        app.installEventFilter(guard)
    return guard
