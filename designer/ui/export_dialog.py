"""The code preview shown before Python code or a training script is saved.

:class:`CodePreviewDialog` shows one or more files read-only, in a monospace
font with Python colouring, one tab per file when there are several. Copy puts
the file on view on the clipboard; Save… asks whoever opened the dialog to save
(:attr:`~CodePreviewDialog.save_requested`), which closes it with ``accept()``
once the files are written, or leaves it open when the user cancels the path.
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from designer.ui.fonts import monospace_font
from designer.ui.python_highlighter import PythonHighlighter

COPIED_FEEDBACK_MS = 1500


class CodePreviewDialog(QDialog):
    """Files (name → text) shown read-only before they are saved."""

    save_requested = Signal()

    def __init__(self, title: str, files: Mapping[str, str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setObjectName("code_preview")
        self.resize(860, 640)
        self.highlighters: list[PythonHighlighter] = []
        self.editors = {name: self._editor(name, text) for name, text in files.items()}
        self.tabs: QTabWidget | None = None
        layout = QVBoxLayout(self)
        if len(self.editors) == 1:
            layout.addWidget(next(iter(self.editors.values())))
        else:
            self.tabs = QTabWidget()
            for name, editor in self.editors.items():
                self.tabs.addTab(editor, name)
            layout.addWidget(self.tabs)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.copy_button = QPushButton("&Copy")
        self.copy_button.setToolTip("Copy the file on view to the clipboard")
        self.save_button = QPushButton("&Save…")
        self.save_button.setDefault(True)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.save_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel_button = buttons.button(QDialogButtonBox.StandardButton.Cancel)
        # Save does not close the dialog by itself (buttons.accepted stays unconnected): the user
        # may cancel the path, or the write may fail.
        self.save_button.clicked.connect(self.save_requested)
        buttons.rejected.connect(self.reject)
        self.copy_button.clicked.connect(self.copy)
        layout.addWidget(buttons)

    def _editor(self, name: str, text: str) -> QPlainTextEdit:
        editor = QPlainTextEdit()
        editor.setObjectName(name)
        editor.setReadOnly(True)
        editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        editor.setFont(monospace_font())
        # Before the text, so that it is coloured as it arrives rather than on a later event.
        self.highlighters.append(PythonHighlighter(editor.document()))
        editor.setPlainText(text)
        editor.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                       | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        return editor

    def current_name(self) -> str:
        """The name of the file on view."""
        if self.tabs is None:
            return next(iter(self.editors))
        return list(self.editors)[self.tabs.currentIndex()]

    def current_text(self) -> str:
        return self.editors[self.current_name()].toPlainText()

    def copy(self) -> None:
        clipboard = QGuiApplication.clipboard()
        clipboard.setText(self.current_text())
        self.copy_button.setText("Copied")
        QTimer.singleShot(COPIED_FEEDBACK_MS, self, lambda: self.copy_button.setText("&Copy"))
