"""File ▸ Properties: the project's name, which the summary's header and the exported code use.

The name is ``graph.name``: the summary shows it, the exported model's
docstring names it and its class is called after it. Naming is one undoable
edit (:meth:`~designer.ui.document.Document.set_name`).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QWidget

from designer.graph.errors import GraphError
from designer.graph.graph import MAX_NAME_LENGTH
from designer.ui.actions import Prompts
from designer.ui.document import Document


class ProjectPropertiesDialog(QDialog):
    """A form with the project's name; OK applies it."""

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Project Properties")
        self.name_field = QLineEdit(name)
        self.name_field.setMaxLength(MAX_NAME_LENGTH)
        self.name_field.setObjectName("project_name")
        self.name_field.selectAll()
        hint = QLabel("Shown in the summary, and the name of the exported model's class.")
        hint.setWordWrap(True)
        button = QDialogButtonBox.StandardButton
        self.buttons = QDialogButtonBox(button.Ok | button.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("&Name:", self.name_field)
        form.addRow(hint)
        form.addRow(self.buttons)
        self.setMinimumWidth(420)

    @property
    def name(self) -> str:
        return self.name_field.text().strip()


def edit_properties(document: Document, prompts: Prompts) -> ProjectPropertiesDialog:
    """Open the properties of ``document``'s project; OK renames it (an empty name is refused)."""
    dialog = ProjectPropertiesDialog(document.graph.name, prompts.dialog_parent())
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.setWindowModality(Qt.WindowModality.WindowModal)

    def apply() -> None:
        try:
            document.set_name(dialog.name)
        except GraphError as exc:
            prompts.show_error("Cannot name the project", str(exc))

    dialog.accepted.connect(apply)
    dialog.open()
    return dialog
