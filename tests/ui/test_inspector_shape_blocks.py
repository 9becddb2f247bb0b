"""The shape blocks' axes and sizes are typed in the inspector as a line of numbers, -1 and 0 included."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from designer.graph import Graph
from designer.graph.layout import apply_layout
from designer.ui.param_editors import IntsEditor
from tests.ui.test_inspector import retype, select


def shape_blocks() -> Graph:
    graph = Graph()
    graph.name = "tokens"
    graph.add_node("Input", "x", {"shape": [6, 4, 4]})
    graph.add_node("Permute", "permute", {"dims": [0, 2, 3, 1]})
    graph.add_node("Reshape", "reshape", {"shape": [16, 6]})
    graph.connect("x", "permute")
    graph.connect("permute", "reshape")
    apply_layout(graph)
    return graph


def type_in(window, key: str, text: str, commit: bool = True) -> None:
    line = window.inspector.editor(key).field()
    retype(line, text)
    if commit:
        QTest.keyClick(line, Qt.Key.Key_Return)


def test_axes_and_sizes_are_typed_as_text(make_window):
    window = make_window(shape_blocks())
    select(window, "permute")
    editor = window.inspector.editor("dims")
    assert isinstance(editor, IntsEditor) and editor.field().text() == "0, 2, 3, 1"
    assert editor.field().placeholderText() == "0, 2, 3, 1"  # the default, not an image's "C, H, W"
    type_in(window, "dims", "0, 2, a", commit=False)
    assert window.inspector.error_text("dims") == \
        "expected 2 to 8 whole numbers, like [0, 2, 3, 1], got '0, 2, a'"
    type_in(window, "dims", "0, 3, 3, 1")
    assert window.graph.result("permute").status == "error"
    assert "dims (0, 3, 3, 1) names an axis twice" in window.inspector.output_label.text()
    type_in(window, "dims", "0, 3, 1, 2")
    assert window.graph.node("permute").params["dims"] == (0, 3, 1, 2)
    assert window.graph.result("permute").shape == (4, 6, 4)

    select(window, "reshape")
    type_in(window, "shape", "-1, 2")
    assert window.graph.node("reshape").params["shape"] == (-1, 2)
    assert window.graph.result("reshape").shape == (48, 2)
    assert window.inspector.error_text("shape") == ""
