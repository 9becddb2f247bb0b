"""The inspector's form for several selected blocks: their shared parameters, edited on all at once.

A parameter is shared when every selected block's spec has it with the same
schema. A field whose values differ shows empty, with the placeholder "mixed",
until edited. An edit is checked against every block first (the model's
``coerce_params``), so a refused value changes nothing and its reason shows
under the field; an accepted one goes to every block through
:meth:`Document.set_params` inside one undo macro. A macro cannot merge, so
typing on in the same field undoes the form's own last macro and pushes the
new one: a run of keystrokes stays one undo step, as SetParams merging does
for a single block.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QFormLayout, QLabel, QSpinBox, QWidget

from designer.graph.errors import ParamError
from designer.graph.graph import Node
from designer.graph.params import Param
from designer.ui import theme
from designer.ui.document import Document
from designer.ui.param_editors import (
    BoolEditor,
    ChoiceEditor,
    FloatEditor,
    IntEditor,
    PairEditor,
    ParamEditor,
    ShapeEditor,
    editor_for,
)
from designer.ui.param_row import ParamRow

MIXED = "mixed"


def shared_params(nodes: list[Node]) -> list[Param]:
    """The first block's parameters that every other block has with the same schema."""
    return [p for p in nodes[0].spec.params if all(n.spec.schema.get(p.name) == p for n in nodes[1:])]


def header_text(nodes: list[Node]) -> str:
    types = list(dict.fromkeys(n.type for n in nodes))
    if len(types) == 1:
        return f"{len(nodes)} {types[0]} blocks"
    return f"{len(nodes)} blocks ({', '.join(types)})"


def _spins(editor: ParamEditor) -> list[QSpinBox | QDoubleSpinBox]:
    if isinstance(editor, (IntEditor, FloatEditor)):
        return [editor.spin]
    if isinstance(editor, PairEditor):
        return [editor.h_spin, editor.w_spin]
    return []


def _blank(editor: ParamEditor) -> bool:
    """Whether a mixed field still holds nothing typed (leaving it is no edit)."""
    if isinstance(editor, ShapeEditor):
        return not editor.line.text().strip()
    spins = _spins(editor)
    return bool(spins) and all(not s.lineEdit().text().strip() for s in spins if s.isEnabled())


def _set_blocked(combo: QComboBox, index: int) -> None:
    combo.setPlaceholderText(MIXED)
    combo.blockSignals(True)
    combo.setCurrentIndex(index)
    combo.blockSignals(False)


def show_mixed(editor: ParamEditor, values: list[Any]) -> None:
    """Show no value with the placeholder "mixed"; signals are blocked, for this is no edit."""
    editor.set_value(values[0])
    if isinstance(editor, ChoiceEditor):
        _set_blocked(editor.combo, -1)
    elif isinstance(editor, BoolEditor):
        editor.check.setText(MIXED)
    elif isinstance(editor, ShapeEditor):
        editor.line.setPlaceholderText(MIXED)
        editor.line.clear()
    elif isinstance(editor, PairEditor) and editor.mode is not None \
            and not all(isinstance(v, (int, tuple)) for v in values):
        _set_blocked(editor.mode, -1)  # sizes and words (or auto) differ: no mode either
        for widget in (editor.h_spin, editor.w_spin, editor.link):
            widget.setEnabled(False)
        return
    for spin in _spins(editor):
        spin.lineEdit().setPlaceholderText(MIXED)
        spin.blockSignals(True)
        spin.clear()
        spin.blockSignals(False)


def show_value(editor: ParamEditor, value: Any) -> None:
    editor.set_value(value)
    if isinstance(editor, BoolEditor):
        editor.check.setText("")
    for spin in _spins(editor):
        if not spin.lineEdit().text():  # cleared as mixed while holding this very value
            spin.blockSignals(True)
            if isinstance(spin, QSpinBox):
                spin.setValue(spin.value())
            else:
                spin.setValue(spin.value())
            spin.blockSignals(False)


class MultiForm(QWidget):
    """Header and shared-parameter editors for blocks ``names`` of ``document``."""

    def __init__(self, document: Document, names: list[str]) -> None:
        super().__init__()
        self.document = document
        self.names = list(names)
        self.rows: dict[str, ParamRow] = {}
        self.mixed: set[str] = set()
        self._touched: set[str] = set()
        self._applying = False
        self._last: tuple[str, int] | None = None  # (key, stack index) of the macro this form pushed last
        document.undo_stack.indexChanged.connect(self._on_index_changed)
        nodes = self._nodes()
        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setContentsMargins(8, 8, 8, 8)
        self.header = QLabel(f"<b>{header_text(nodes)}</b>")
        form.addRow(self.header)
        params = shared_params(nodes)
        for param in params:
            form.addRow(self._label(param), self._row(param))
        if not params:
            note = QLabel("No shared parameters.")
            theme.paint_text(note, theme.MUTED)
            form.addRow(note)

    def _label(self, param: Param) -> QLabel:
        label = QLabel(param.name)
        label.setToolTip(param.help)
        return label

    def _row(self, param: Param) -> ParamRow:
        key = param.name
        editor = editor_for(param)
        row = self.rows[key] = ParamRow(editor)
        self._show(key)
        editor.edited.connect(lambda value: self._apply(key, value))
        editor.typing.connect(lambda value: self._check(key, value))
        for spin in _spins(editor):  # typing a mixed field's first block's value changes no spin value
            spin.lineEdit().textEdited.connect(lambda _text: self._touched.add(key))
            spin.editingFinished.connect(lambda: self._on_finished(key))
        return row

    def _nodes(self) -> list[Node]:
        return [self.document.graph.node(name) for name in self.names]

    def _show(self, key: str) -> None:
        values = [node.params[key] for node in self._nodes()]
        editor = self.rows[key].editor
        if all(v == values[0] and type(v) is type(values[0]) for v in values):
            self.mixed.discard(key)
            show_value(editor, values[0])
        else:
            self.mixed.add(key)
            show_mixed(editor, values)
        self._touched.discard(key)

    # -- edits ---------------------------------------------------------------------

    def _refusal(self, key: str, value: Any) -> str:
        """Why some selected block refuses ``value`` ("" when all take it)."""
        try:
            for node in self._nodes():
                node.spec.coerce_params({key: value}, node.params)
        except ParamError as exc:
            return exc.reason  # the schemas are equal, so every refusing block gives this reason
        return ""

    def _check(self, key: str, value: Any) -> None:
        self.rows[key].show_error(self._refusal(key, value))

    def _apply(self, key: str, value: Any) -> None:
        if key in self.mixed and _blank(self.rows[key].editor):
            return
        reason = self._refusal(key, value) or (self.document.locked_reason or "")
        self.rows[key].show_error(reason)
        if reason:
            return
        stack = self.document.undo_stack
        self._applying = True
        try:
            if self._last == (key, stack.index()) and stack.cleanIndex() != stack.index():
                stack.undo()  # typing on in one field: replace the form's own last step
            self._last = None
            changing = [n.name for n in self._nodes()
                        if n.spec.coerce_params({key: value}, n.params)[key] != n.params[key]]
            if changing:
                with self.document.macro(f"Change {key} of {len(self.names)} blocks"):
                    for name in changing:
                        self.document.set_params(name, {key: value})
                self._last = (key, stack.index())
        finally:
            self._applying = False
        self._show(key)

    def _on_finished(self, key: str) -> None:
        if key not in self.mixed:
            return
        if key in self._touched and not _blank(self.rows[key].editor):
            self._apply(key, self.rows[key].editor.value())
        else:
            self._show(key)  # the spin box put its held value back on leaving: show "mixed" again

    # -- model events, forwarded by the inspector -----------------------------------------

    def _on_index_changed(self, _index: int) -> None:
        if not self._applying:
            self._last = None  # undo, redo or another edit: the next change is a step of its own

    def on_params_changed(self, node: Node, keys: Iterable[str]) -> None:
        if self._applying or node.name not in self.names:
            return
        for key in keys:
            if key in self.rows:
                self._show(key)
                self.rows[key].show_error("")

    def on_node_renamed(self, node: Node, old: str) -> None:
        self.names = [node.name if name == old else name for name in self.names]
