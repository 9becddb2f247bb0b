"""The summary's "what if the input were …" field: the table for another input size, the document untouched."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from designer.graph.shapes import fmt_shape
from designer.ui.main_window import MainWindow


def cell(window: MainWindow, name: str, column: str) -> str:
    table = window.summary.table
    index = ("Name", "Type", "Connected to", "Output", "Params", "MACs", "RF", "Formula").index(column)
    item = table.item(table.row_of(name), index)
    assert item is not None
    return item.text()


def what_if(window: MainWindow, text: str) -> None:
    field = window.summary.what_if
    field.clear()
    QTest.keyClicks(field, text)
    QTest.keyClick(field, Qt.Key.Key_Return)


def test_a_what_if_reruns_the_table_on_a_copy_and_reset_restores(window: MainWindow) -> None:
    document, summary = window.document, window.summary
    undo_count = document.undo_stack.count()
    assert cell(window, "c1", "Output") == "6×28×28"
    c5_params, f6_params = cell(window, "c5", "Params"), cell(window, "f6", "Params")
    assert "61,706 parameters" in summary.header.text()

    what_if(window, "1×64×64")

    assert cell(window, "c1", "Output") == "6×60×60"
    assert cell(window, "c1", "MACs") == "540,000"
    assert cell(window, "c3", "Params") == "2,416"  # a convolution's weights don't depend on the size
    assert cell(window, "c5", "Params") == "324,600" != c5_params  # 16·13·13 inputs now
    assert cell(window, "f6", "Params") == f6_params
    assert "What if the input were 1×64×64" in summary.header.text()
    assert "338,186 parameters" in summary.header.text()
    assert document.graph.node("input").params["shape"] == (1, 32, 32)
    assert not document.dirty
    assert document.undo_stack.count() == undo_count

    QTest.mouseClick(summary.reset_button, Qt.MouseButton.LeftButton)

    assert cell(window, "c1", "Output") == "6×28×28"
    assert cell(window, "c5", "Params") == c5_params
    assert "What if" not in summary.header.text()
    assert "61,706 parameters" in summary.header.text()
    assert summary.what_if.text() == ""
    assert not document.dirty


def test_other_spellings_and_an_empty_field(window: MainWindow) -> None:
    what_if(window, "1 48 48")
    assert cell(window, "c1", "Output") == "6×44×44"
    what_if(window, "")
    assert cell(window, "c1", "Output") == "6×28×28"
    assert "What if" not in window.summary.header.text()


def test_bad_text_says_why_and_leaves_the_table(window: MainWindow) -> None:
    summary = window.summary
    what_if(window, "1x64x64")
    what_if(window, "1×64×64×1")

    assert "is not a shape: write C×H×W like 3×224×224" in summary.what_if_message.text()
    assert summary.what_if_message.isVisible()
    assert cell(window, "c1", "Output") == "6×60×60"  # the previous what-if stays
    assert "What if the input were 1×64×64" in summary.header.text()

    what_if(window, "1×64×2000000")  # parses, but the Input block refuses it
    assert "1048576" in summary.what_if_message.text() or "1,048,576" in summary.what_if_message.text()
    assert cell(window, "c1", "Output") == "6×60×60"

    what_if(window, "1×40×40")
    assert summary.what_if_message.text() == ""
    assert cell(window, "c1", "Output") == "6×36×36"


def test_a_size_that_breaks_a_block_shows_its_error_in_the_table(window: MainWindow) -> None:
    what_if(window, "1×8×8")

    assert cell(window, "c1", "Output") == "6×4×4"
    error = cell(window, "c3", "Formula")
    assert error and cell(window, "c3", "Output") != "16×10×10"
    table = window.summary.table
    item = table.item(table.row_of("c3"), 0)
    assert item is not None and item.foreground().color().name() == "#c62828"
    assert "1 error(s)" in window.summary.header.text()
    assert window.document.graph.errors() == []


def test_an_edit_to_the_real_graph_reruns_the_what_if(window: MainWindow, qtbot) -> None:
    document, table = window.document, window.summary.table
    what_if(window, "1×64×64")

    document.set_params("c1", {"kernel_size": 3})
    qtbot.waitUntil(lambda: not table.pending)

    assert cell(window, "c1", "Output") == "6×62×62"  # the what-if on the edited graph
    assert "What if the input were 1×64×64" in window.summary.header.text()
    assert document.graph.node("input").params["shape"] == (1, 32, 32)
    assert document.graph.result("c1").shape == (6, 30, 30)

    document.undo_stack.undo()
    qtbot.waitUntil(lambda: not table.pending)
    assert cell(window, "c1", "Output") == "6×60×60"


def test_several_inputs_apply_it_to_the_first_and_say_so(window: MainWindow, qtbot) -> None:
    document, table = window.document, window.summary.table
    document.add_node("Input", (0.0, 300.0))
    qtbot.waitUntil(lambda: not table.pending)

    what_if(window, "1×64×64")

    first, other = document.graph.inputs()
    assert f"applied to {first}, the first of 2 Input blocks" in window.summary.header.text()
    assert cell(window, first, "Output") == "1×64×64"
    assert cell(window, other, "Output") == fmt_shape(document.graph.node(other).params["shape"])
    assert document.graph.node(first).params["shape"] != (1, 64, 64)


def test_opening_another_graph_clears_the_what_if(window: MainWindow) -> None:
    what_if(window, "1×64×64")
    assert window.summary.what_if_shape == (1, 64, 64)

    assert window.new_from_template("lenet5")

    assert window.summary.what_if_shape is None
    assert window.summary.what_if.text() == ""
    assert cell(window, "c1", "Output") == "6×28×28"
    assert "What if" not in window.summary.header.text()
