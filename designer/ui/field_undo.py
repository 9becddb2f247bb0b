"""Undo and Redo keys wherever the focus is: a text field undoes its own typing first, then the document.

A line edit (alone or in a spin box) and a text edit claim Ctrl+Z and the redo
keys for themselves even when they have nothing to undo, so the window's Undo
never fires while one has focus (kernel_size set to 30 + Enter, Ctrl+Z: still
30). This filter on the application lets the field keep the keys only while it
has something of its own to undo (or redo); otherwise the window's action gets
them.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QKeyEvent, QKeySequence
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QLineEdit, QPlainTextEdit, QTextEdit, QWidget

from designer.ui.actions import REDO_KEYS, shortcut_list

Key = QKeySequence.StandardKey


class FieldUndoFilter(QObject):
    """The application's filter; see the module's docstring."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.undo_keys = {key.toString() for key in shortcut_list([Key.Undo])}
        self.redo_keys = {key.toString() for key in shortcut_list(REDO_KEYS)}

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.ShortcutOverride or not isinstance(event, QKeyEvent):
            return False
        pressed = QKeySequence(event.keyCombination()).toString()
        undo = pressed in self.undo_keys
        if not (undo or pressed in self.redo_keys) or not isinstance(watched, QWidget):
            return False
        available = field_history(watched)
        if available is None:
            return False  # not a text field: its own business
        if available[0 if undo else 1]:
            return False  # the field undoes its own typing first
        event.ignore()  # not claimed: the window's Undo or Redo action runs
        return True


def field_history(widget: QWidget) -> tuple[bool, bool] | None:
    """Whether the text field ``widget`` can undo and redo; None when it is no text field."""
    if isinstance(widget, QAbstractSpinBox):
        line = widget.findChild(QLineEdit)
        widget = line if line is not None else widget
    if isinstance(widget, QLineEdit):
        return (widget.isUndoAvailable(), widget.isRedoAvailable())
    if isinstance(widget, (QTextEdit, QPlainTextEdit)):
        document = widget.document()
        return (document.isUndoAvailable(), document.isRedoAvailable())
    return None


def install_field_undo(app: QApplication) -> FieldUndoFilter:
    """Install the filter on ``app`` once; later calls return the same one."""
    found = app.findChild(FieldUndoFilter)
    if found is None:
        found = FieldUndoFilter(app)
        app.installEventFilter(found)
    return found
