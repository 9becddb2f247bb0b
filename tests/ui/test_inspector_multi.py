"""Several selected blocks: the inspector edits their shared parameters on all, as one undo step."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from tests.ui.gestures import assert_mirrors, select_by_mouse


def retype(widget, text: str, commit: bool = True) -> None:
    """Select what the field holds and type over it, key by key; Return commits it."""
    widget.setFocus()
    line = widget.lineEdit() if hasattr(widget, "lineEdit") else widget
    line.selectAll()
    QTest.keyClicks(widget, text)
    if commit:
        QTest.keyClick(widget, Qt.Key.Key_Return)


def edge_label(window, source: str, target: str) -> str:
    items = window.view.graph_scene.edge_items()
    items = [i for i in items if (i.edge.source, i.edge.target) == (source, target)]
    return items[0].label


def header(window) -> str:
    return window.inspector.multi.header.text()


def test_a_shared_parameter_changes_on_every_selected_block_as_one_step(window):
    select_by_mouse(window, "c1", "c3")
    inspector = window.inspector
    assert header(window) == "<b>2 Conv2d blocks</b>"
    assert inspector.name_edit is None and inspector.output_label is None  # no names or output line
    field = inspector.editor("kernel_size").field()
    assert field.text() == "5"
    retype(field, "3")
    graph = window.graph
    assert graph.node("c1").params["kernel_size"] == 3 and graph.node("c3").params["kernel_size"] == 3
    assert edge_label(window, "c1", "tanh1") == "6×30×30"
    assert edge_label(window, "c3", "tanh2") == "16×13×13"
    assert_mirrors(window.view.graph_scene, graph)
    assert window.document.undo_stack.count() == 1
    assert window.menu_actions.undo.text() == "Undo Change kernel_size of 2 blocks"
    window.menu_actions.undo.trigger()
    assert graph.node("c1").params["kernel_size"] == 5 and graph.node("c3").params["kernel_size"] == 5
    assert edge_label(window, "c1", "tanh1") == "6×28×28"
    assert edge_label(window, "c3", "tanh2") == "16×10×10"
    assert field.text() == "5"
    assert_mirrors(window.view.graph_scene, graph)


def test_a_mixed_value_shows_as_mixed_and_typing_it_is_one_step(window):
    select_by_mouse(window, "c1", "c3")
    spin = window.inspector.editor("out_channels").field()
    assert spin.text() == "" and spin.lineEdit().placeholderText() == "mixed"
    assert window.inspector.editor("stride").field().text() == "1"  # equal values are shown
    retype(spin, "12")
    graph = window.graph
    assert graph.node("c1").params["out_channels"] == 12 and graph.node("c3").params["out_channels"] == 12
    assert edge_label(window, "c1", "tanh1") == "12×28×28"
    assert window.document.undo_stack.count() == 1, "typing 1 then 12 is one step"
    assert spin.text() == "12"
    graph.validate()
    window.menu_actions.undo.trigger()
    assert graph.node("c1").params["out_channels"] == 6 and graph.node("c3").params["out_channels"] == 16
    assert spin.text() == "", "mixed again after undo"
    assert_mirrors(window.view.graph_scene, graph)


def test_typing_the_first_blocks_value_into_a_mixed_field_applies_it_on_return(window):
    select_by_mouse(window, "c1", "c3")
    spin = window.inspector.editor("out_channels").field()
    retype(spin, "6")
    assert window.graph.node("c3").params["out_channels"] == 6
    assert window.document.undo_stack.count() == 1
    window.graph.validate()


def test_an_invalid_value_is_refused_with_the_reason_and_changes_nothing(window):
    select_by_mouse(window, "c1", "c3")
    inspector = window.inspector
    retype(inspector.editor("kernel_size").field(), "0", commit=False)
    assert inspector.error_text("kernel_size") == "must be between 1 and 4096, got 0"
    assert window.graph.node("c1").params["kernel_size"] == 5
    assert window.graph.node("c3").params["kernel_size"] == 5
    assert window.document.undo_stack.count() == 0
    window.graph.validate()


def test_blocks_of_different_types_show_only_what_they_share(window):
    select_by_mouse(window, "c5", "f6")
    assert header(window) == "<b>2 Linear blocks</b>"
    select_by_mouse(window, "c1", "tanh1", "c3")
    assert header(window) == "<b>3 blocks (Conv2d, Tanh)</b>"
    assert window.inspector.rows == {}
    assert "No shared parameters." in [label.text() for label in window.inspector.multi.findChildren(type(
        window.inspector.multi.header))]
