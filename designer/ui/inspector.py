"""The inspector: the selected block's name, output and parameters, edited in place.

Every change goes through the document as an undoable command as you type;
the model's refusal (a :class:`ParamError`, a duplicate name) is shown under
the field and changes nothing. The panel follows the graph's events, so undo
and edits made elsewhere show up here.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QLabel,
    QLineEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from designer.graph.errors import GraphError, ParamError
from designer.graph.events import Event
from designer.graph.graph import Node
from designer.graph.inference import ERROR, OK
from designer.ui import theme
from designer.ui.document import Document
from designer.ui.inspector_multi import MultiForm
from designer.ui.param_editors import ParamEditor, editor_for
from designer.ui.param_row import ParamRow as ParamRow  # re-exported: the training form uses it
from designer.ui.param_row import message_label

PLACEHOLDER = "Select a block to see and edit its parameters."


class InspectorPanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document: Document | None = None
        self.node_name: str | None = None
        self.rows: dict[str, ParamRow] = {}
        self.multi: MultiForm | None = None  # the form for several blocks, when that is what is shown
        self.name_edit: QLineEdit | None = None
        self.name_message: QLabel | None = None
        self.project_edit: QLineEdit | None = None  # the project's name, shown while no block is selected
        self.project_message: QLabel | None = None
        self.output_label: QLabel | None = None
        self._labels: dict[str, QLabel] = {}
        self._kind_label: QLabel | None = None
        self._subscriptions: list[tuple[Event, Callable[..., Any]]] = []
        self._scroll = QScrollArea()
        self._scroll.setWidgetResizable(True)
        self._scroll.setFrameShape(QFrame.Shape.NoFrame)
        self._scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._scroll)
        self._show_placeholder(PLACEHOLDER)
        theme.notifier().theme_changed.connect(self._on_theme_changed)

    def _on_theme_changed(self) -> None:
        """Texts with coloured parts are made for one theme: make them again."""
        if self.node_name is not None and self.document is not None and self._kind_label is not None:
            self._kind_label.setText(_kind_text(self.document.graph.node(self.node_name)))
            self._show_result()

    # -- what it shows --------------------------------------------------------------

    def set_document(self, document: Document) -> None:
        for event, callback in self._subscriptions:
            event.disconnect(callback)
        if self.document is not None:
            self.document.name_changed.disconnect(self._on_project_renamed)
        self.document = document
        document.name_changed.connect(self._on_project_renamed)
        events = document.graph.events
        self._subscriptions = [
            (events.params_changed, self._on_params_changed),
            (events.node_renamed, self._on_node_renamed),
            (events.node_removed, self._on_node_removed),
            (events.shapes_changed, self._on_shapes_changed),
        ]
        for event, callback in self._subscriptions:
            event.connect(callback)
        self.set_node(None)

    def set_selection(self, names: list[str]) -> None:
        if len(names) == 1:
            self.set_node(names[0])
        elif len(names) > 1 and self.document is not None and all(n in self.document.graph for n in names):
            self.set_node(None)
            self.multi = MultiForm(self.document, names)
            self.rows = self.multi.rows
            self._scroll.setWidget(self.multi)
        else:
            self.set_node(None)

    def set_node(self, name: str | None, placeholder: str = PLACEHOLDER) -> None:
        if name is not None and name == self.node_name:
            return
        self.node_name = None
        self.multi = None
        self.rows, self._labels = {}, {}
        self.name_edit = self.name_message = self.output_label = None
        self.project_edit = self.project_message = None
        if name is None and self.document is not None and placeholder == PLACEHOLDER:
            self._scroll.setWidget(self._project_form(self.document))
            return
        if name is None or self.document is None or name not in self.document.graph:
            self._show_placeholder(placeholder)
            return
        self.node_name = name
        self._scroll.setWidget(self._build_form(self.document.graph.node(name)))
        self._show_result()

    def editor(self, param: str) -> ParamEditor:
        return self.rows[param].editor

    def error_text(self, param: str) -> str:
        message = self.rows[param].message
        return "" if message.isHidden() else message.text()

    def _project_form(self, document: Document) -> QWidget:
        """With nothing selected: the project's name, which the summary, the export and its class use."""
        page = QWidget()
        form = QFormLayout(page)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setContentsMargins(8, 8, 8, 8)
        self.project_edit = QLineEdit(document.graph.name)
        self.project_edit.setAccessibleName("Project name")
        self.project_edit.setToolTip("The network's name: the summary's header, the exported file's "
                                     "docstring and its class name (File ▸ Properties names it too)")
        self.project_edit.editingFinished.connect(self._commit_project_name)
        self.project_message = message_label()
        form.addRow("Project", self.project_edit)
        form.addRow("", self.project_message)
        hint = QLabel(PLACEHOLDER)
        hint.setWordWrap(True)
        theme.paint_text(hint, theme.MUTED)
        form.addRow(hint)
        return page

    def _commit_project_name(self) -> None:
        edit, message = self.project_edit, self.project_message
        if edit is None or message is None or self.document is None:
            return
        try:
            self.document.set_name(edit.text())
        except GraphError as exc:
            message.setText(str(exc))
            message.show()
            return
        message.hide()

    def _on_project_renamed(self, name: str) -> None:
        if self.project_edit is not None and self.project_edit.text() != name:
            self.project_edit.setText(name)
        if self.project_message is not None:
            self.project_message.hide()

    def _show_placeholder(self, text: str) -> None:
        label = QLabel(text)
        label.setWordWrap(True)
        label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        label.setMargin(10)
        theme.paint_text(label, theme.MUTED)
        self._scroll.setWidget(label)

    def _build_form(self, node: Node) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setContentsMargins(8, 8, 8, 8)
        name_box = QWidget()
        box = QVBoxLayout(name_box)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(2)
        self.name_edit = QLineEdit(node.name)
        self.name_message = message_label()
        box.addWidget(self.name_edit)
        box.addWidget(self.name_message)
        form.addRow("Name", name_box)
        self._kind_label = QLabel(_kind_text(node))
        self._kind_label.setToolTip(node.spec.help)
        form.addRow("Type", self._kind_label)
        help_label = QLabel(node.spec.help)
        help_label.setWordWrap(True)
        theme.paint_text(help_label, theme.MUTED, "font-size: 8pt;")
        form.addRow(help_label)
        self.output_label = QLabel()
        self.output_label.setWordWrap(True)
        self.output_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow("Output", self.output_label)
        for param in node.spec.params:
            editor = editor_for(param)
            editor.set_value(node.params[param.name])
            row = ParamRow(editor)
            label = QLabel(param.name)
            label.setToolTip(param.help)
            self.rows[param.name] = row
            self._labels[param.name] = label
            form.addRow(label, row)
            editor.edited.connect(lambda value, key=param.name: self._apply(key, value))
            editor.typing.connect(lambda value, key=param.name: self._check(key, value))
        if not node.spec.params:
            form.addRow(QLabel("No parameters."))
        self.name_edit.textEdited.connect(self._on_name_edited)
        self.name_edit.editingFinished.connect(self._on_name_committed)
        return page

    def _show_result(self) -> None:
        if self.node_name is None or self.document is None or self.output_label is None:
            return
        result = self.document.graph.results.get(self.node_name)
        if result is None:
            return
        if result.status == OK:
            text = f"<b>{result.shape_text}</b>"
            if result.formula:
                text += "<br>" + theme.span(_escape(result.formula), theme.MUTED)
        else:
            role = theme.ERROR_TEXT if result.status == ERROR else theme.MUTED
            text = theme.span(f"<b>{result.shape_text}</b>: {_escape(result.error or '')}", role)
        self.output_label.setText(text)
        for key, label in self._labels.items():
            wrong = result.status == ERROR and result.error_param == key
            theme.paint_text(label, theme.ERROR_TEXT if wrong else None, "font-weight: bold;" if wrong else "")

    # -- edits ---------------------------------------------------------------------

    def _apply(self, key: str, value: Any) -> None:
        if self.document is None or self.node_name is None:
            return
        try:
            self.document.set_params(self.node_name, {key: value})
        except ParamError as exc:
            self.rows[key].show_error(exc.reason)
        else:
            self.rows[key].show_error("")

    def _check(self, key: str, value: Any) -> None:
        """Say now why a half-typed value would be refused; apply nothing yet."""
        if self.document is None or self.node_name is None:
            return
        node = self.document.graph.node(self.node_name)
        try:
            node.spec.coerce_params({key: value}, node.params)
        except ParamError as exc:
            self.rows[key].show_error(exc.reason)
        else:
            self.rows[key].show_error("")

    def _on_name_edited(self, text: str) -> None:
        if self.document is None or self.node_name is None or self.name_message is None:
            return
        try:
            self.document.check_rename(self.node_name, text)
        except GraphError as exc:
            self._show_name_error(str(exc))
        else:
            self._show_name_error("")

    def _on_name_committed(self) -> None:
        if self.document is None or self.node_name is None or self.name_edit is None:
            return
        try:
            self.document.rename(self.node_name, self.name_edit.text())
        except GraphError as exc:
            self._show_name_error(str(exc))
        else:
            self._show_name_error("")

    def _show_name_error(self, text: str) -> None:
        if self.name_message is not None:
            self.name_message.setText(text)
            self.name_message.setVisible(bool(text))

    # -- model events --------------------------------------------------------------

    def _on_params_changed(self, node: Node, keys: Iterable[str]) -> None:
        if self.multi is not None:
            self.multi.on_params_changed(node, keys)
        if node.name != self.node_name:
            return
        for key in keys:
            row = self.rows.get(key)
            if row is not None:
                row.editor.set_value(node.params[key])
                row.show_error("")

    def _on_node_renamed(self, node: Node, old: str) -> None:
        if self.multi is not None:
            self.multi.on_node_renamed(node, old)
        if old != self.node_name:
            return
        self.node_name = node.name
        if self.name_edit is not None and self.name_edit.text() != node.name:
            self.name_edit.setText(node.name)
        self._show_name_error("")

    def _on_node_removed(self, node: Node) -> None:
        if node.name == self.node_name or (self.multi is not None and node.name in self.multi.names):
            self.set_node(None)

    def _on_shapes_changed(self, names: Iterable[str]) -> None:
        if self.node_name is not None and self.node_name in names:
            self._show_result()


def _escape(text: str) -> str:
    return html.escape(text, quote=False)


def _kind_text(node: Node) -> str:
    """The block's type beside a swatch of its category's colour, then the category."""
    colour = theme.category_colour(node.spec.category).name()
    return (f"<b style='color:{colour}'>■</b> {_escape(node.type)} "
            f"{theme.span('· ' + _escape(node.spec.category), theme.MUTED)}")
