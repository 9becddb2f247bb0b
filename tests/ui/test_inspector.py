"""The inspector edits the selected block as you type, through undoable commands."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest

from designer.ui.param_editors import BoolEditor, ChoiceEditor, FloatEditor, IntEditor, PairEditor, ShapeEditor
from tests.ui.gestures import assert_mirrors, at, click


def select(window, name: str) -> None:
    view = window.view
    click(view, at(view, view.graph_scene.item_for_node(name)))
    assert window.inspector.node_name == name


def retype(widget, text: str) -> None:
    """Select what the field holds and type over it, key by key."""
    widget.setFocus()
    line = widget.lineEdit() if hasattr(widget, "lineEdit") else widget
    line.selectAll()
    QTest.keyClicks(widget, text)


def summary_cell(window, name: str, column: int) -> str:
    table = window.summary.table
    return table.item(table.row_of(name), column).text()


def test_editors_match_parameter_kinds(window):
    select(window, "c1")
    inspector = window.inspector
    assert isinstance(inspector.editor("out_channels"), IntEditor)
    assert isinstance(inspector.editor("kernel_size"), PairEditor)
    assert isinstance(inspector.editor("bias"), BoolEditor)
    spin = inspector.editor("out_channels").field()
    assert (spin.minimum(), spin.maximum()) == (1, 1 << 20)
    assert inspector.editor("out_channels").toolTip() == "Number of filters, the output's channels."
    select(window, "input")
    assert isinstance(window.inspector.editor("shape"), ShapeEditor)


def test_typing_a_parameter_updates_the_block_and_the_summary(window, qtbot):
    select(window, "c1")
    spin = window.inspector.editor("out_channels").field()
    retype(spin, "12")
    assert window.graph.node("c1").params["out_channels"] == 12
    block = window.view.graph_scene.item_for_node("c1")
    assert "12 @ 5×5" in block.texts and "→ 12×28×28" in block.texts
    qtbot.waitUntil(lambda: summary_cell(window, "c1", 3) == "12×28×28", timeout=2000)
    assert summary_cell(window, "c1", 4) == "312"
    stack = window.document.undo_stack
    assert stack.count() == 1, "typing 1 then 12 is one step"
    assert window.menu_actions.undo.text() == "Undo Change out_channels of c1"
    assert window.windowTitle() == "lenet5* — Designer"
    stack.undo()
    assert spin.value() == 6 and "6 @ 5×5" in block.texts
    assert_mirrors(window.view.graph_scene, window.graph)


def test_an_invalid_value_is_refused_with_the_reason(window):
    select(window, "c1")
    inspector = window.inspector
    retype(inspector.editor("kernel_size").field(), "0")
    assert inspector.error_text("kernel_size") == "must be between 1 and 4096, got 0"
    assert window.graph.node("c1").params["kernel_size"] == 5
    assert window.document.undo_stack.count() == 0
    retype(inspector.editor("kernel_size").field(), "3")
    assert inspector.error_text("kernel_size") == ""
    assert window.graph.node("c1").params["kernel_size"] == 3


def test_a_shape_error_is_shown_on_the_block_and_in_the_inspector(window):
    select(window, "c1")
    retype(window.inspector.editor("kernel_size").field(), "40")
    assert window.graph.result("c1").status == "error"
    assert "kernel 40 is larger than the padded input 32" in window.inspector.output_label.text()
    assert window.view.graph_scene.item_for_node("c1").status == "error"


def test_pair_editor_unlinks_height_and_width(window):
    select(window, "c1")
    editor = window.inspector.editor("kernel_size")
    assert editor.link.isChecked()
    QTest.mouseClick(editor.link, Qt.MouseButton.LeftButton)
    assert window.document.undo_stack.count() == 0, "unlinking alone changes nothing"
    retype(editor.w_spin, "3")
    assert window.graph.node("c1").params["kernel_size"] == (5, 3)
    assert window.graph.result("c1").shape_text == "6×28×30"


def test_pair_editor_words_and_auto(make_window):
    window = make_window("alexnet")
    select(window, "conv1")
    padding = window.inspector.editor("padding")
    padding.mode.setCurrentText("same")
    assert window.graph.node("conv1").params["padding"] == "same"
    assert window.graph.result("conv1").status == "error"  # 'same' needs stride 1
    select(window, "pool1")
    stride = window.inspector.editor("stride")
    stride.mode.setCurrentText("auto")
    assert window.graph.node("pool1").params["stride"] is None
    window.document.undo_stack.undo()
    assert window.graph.node("pool1").params["stride"] == 2
    assert stride.value() == 2 and stride.h_spin.isEnabled()


def test_float_bool_and_choice_editors(make_window):
    window = make_window("alexnet")
    select(window, "drop6")
    p = window.inspector.editor("p")
    assert isinstance(p, FloatEditor)
    retype(p.field(), "1.5")
    assert window.inspector.error_text("p") == "must be in [0, 1], got 1.5"
    retype(p.field(), "0.25")
    assert window.graph.node("drop6").params["p"] == 0.25
    select(window, "norm1")
    assert window.inspector.editor("alpha").field().text() == "0.0005"
    select(window, "conv1")
    QTest.mouseClick(window.inspector.editor("bias").field(), Qt.MouseButton.LeftButton)
    assert window.graph.node("conv1").params["bias"] is False
    name = window.document.add_node("GELU", (0.0, 400.0))
    select(window, name)
    choice = window.inspector.editor("approximate")
    assert isinstance(choice, ChoiceEditor)
    choice.field().setCurrentText("tanh")
    assert window.graph.node(name).params["approximate"] == "tanh"


def test_input_shape_is_typed_as_text(window):
    select(window, "input")
    line = window.inspector.editor("shape").field()
    retype(line, "1, 28, 28, 1")
    assert window.inspector.error_text("shape").startswith("expected a flat, a T×D or a C×H×W shape")
    QTest.keyClick(line, Qt.Key.Key_Return)
    assert window.graph.node("input").params["shape"] == (1, 32, 32)
    retype(line, "1, 28, 28")
    assert window.inspector.error_text("shape") == ""
    assert window.graph.node("input").params["shape"] == (1, 32, 32), "applied when committed"
    QTest.keyClick(line, Qt.Key.Key_Return)
    assert window.graph.node("input").params["shape"] == (1, 28, 28)
    assert window.graph.result("c1").shape_text == "6×24×24"
    assert window.document.undo_stack.count() == 1


def test_rename_checks_uniqueness(window):
    select(window, "c1")
    inspector = window.inspector
    retype(inspector.name_edit, "tanh1")
    assert inspector.name_message.text() == "there is already a block named 'tanh1'"
    QTest.keyClick(inspector.name_edit, Qt.Key.Key_Return)
    assert "c1" in window.graph and window.document.undo_stack.count() == 0
    retype(inspector.name_edit, "conv_a")
    assert inspector.name_message.isHidden()
    QTest.keyClick(inspector.name_edit, Qt.Key.Key_Return)
    assert "conv_a" in window.graph and "c1" not in window.graph
    assert window.view.graph_scene.item_for_node("conv_a").texts[0] == "conv_a"
    assert window.menu_actions.undo.text() == "Undo Rename c1 to conv_a"
    window.document.undo_stack.undo()
    assert inspector.node_name == "c1" and inspector.name_edit.text() == "c1"
    assert_mirrors(window.view.graph_scene, window.graph)


def test_the_inspector_follows_selection_and_deletion(window):
    scene = window.view.graph_scene
    scene.select_nodes(["c1", "c3"])
    assert window.inspector.node_name is None
    scene.select_nodes(["c3"])
    assert window.inspector.node_name == "c3"
    window.document.remove(["c3"])
    assert window.inspector.node_name is None


def test_delete_while_typing_in_a_field_edits_the_field_not_the_graph(window):
    select(window, "c1")
    window.activateWindow()
    spin = window.inspector.editor("out_channels").field()
    spin.setFocus()
    spin.lineEdit().setCursorPosition(0)
    QTest.keyClick(spin, Qt.Key.Key_Delete)
    assert "c1" in window.graph
    assert spin.text() == ""
    name = window.inspector.name_edit
    name.setFocus()
    name.setCursorPosition(0)
    QTest.keyClick(name, Qt.Key.Key_Delete)
    assert "c1" in window.graph and name.text() == "1"


def test_with_nothing_selected_the_inspector_names_the_project(window):
    select(window, "c1")
    view = window.view
    click(view, at(view, view.mapToScene(view.viewport().rect().bottomLeft()) + QPointF(20, -20)))
    field = window.inspector.project_edit
    assert field is not None and field.text() == window.document.graph.name
    retype(field, "my lenet")
    QTest.keyClick(field, Qt.Key.Key_Return)
    assert window.document.graph.name == "my lenet"
    assert "my lenet" in window.summary.header.text()
    assert window.menu_actions.undo.text() == "Undo Name the project my lenet"
    window.menu_actions.undo.trigger()
    assert field.text() == window.document.graph.name != "my lenet"  # the field follows the undo
    retype(field, "   ")
    QTest.keyClick(field, Qt.Key.Key_Return)
    message = window.inspector.project_message
    assert message is not None and not message.isHidden()
    assert message.text() == "a project name cannot be empty" and window.document.graph.name != "   "
