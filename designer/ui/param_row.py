"""One parameter's row in the inspector: its typed editor with the reason for a refused value under it."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from designer.ui import theme
from designer.ui.param_editors import ParamEditor


def message_label() -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    theme.paint_text(label, theme.ERROR_TEXT, "font-size: 8pt;")
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.hide()
    return label


class ParamRow(QWidget):
    """One parameter's editor with the reason for a refused value under it."""

    def __init__(self, editor: ParamEditor) -> None:
        super().__init__()
        self.editor = editor
        self.message = message_label()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(editor)
        layout.addWidget(self.message)

    def show_error(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))
