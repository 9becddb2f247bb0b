"""Cut, copy, paste and duplicate: project JSON on the clipboard, between windows too."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest

from designer.graph.graph import Edge
from tests.ui.gestures import CTRL, activate, assert_mirrors, select_by_mouse


def test_copy_puts_project_json_with_the_inner_edges_on_the_clipboard(window):
    select_by_mouse(window, "c1", "tanh1")
    QTest.keyClick(window.view.viewport(), Qt.Key.Key_C, CTRL)
    data = json.loads(QGuiApplication.clipboard().text())
    assert data["format"] == "designer-project"
    assert [n["name"] for n in data["nodes"]] == ["c1", "tanh1"]
    assert data["edges"] == [{"source": "c1", "target": "tanh1"}]  # not input → c1: input stays behind


def test_paste_adds_renamed_copies_with_their_edges_in_one_undo_step(window):
    graph, stack = window.document.graph, window.document.undo_stack
    before = set(graph.nodes)
    select_by_mouse(window, "c1", "tanh1")
    QTest.keyClick(window.view.viewport(), Qt.Key.Key_C, CTRL)
    QTest.keyClick(window.view.viewport(), Qt.Key.Key_V, CTRL)
    added = set(graph.nodes) - before
    assert added == {"c2", "tanh5"}  # c1 → c2; tanh2 to tanh4 are taken
    source, target = "c2", "tanh5"
    assert Edge(source, target) in graph.edges
    assert graph.node(source).params == graph.node("c1").params
    assert graph.result(source).status == "error"  # pasted without its input: says so
    assert sorted(window.view.graph_scene.selected_nodes()) == sorted(added)  # the copies are selected
    assert window.menu_actions.undo.text() == "Undo Paste 2 blocks"
    graph.validate()
    assert_mirrors(window.view.graph_scene, graph)
    stack.undo()
    assert set(graph.nodes) == before
    graph.validate()
    stack.redo()
    assert added <= set(graph.nodes)


def test_a_copied_group_is_pasted_as_a_group_in_the_same_undo_step(window):
    graph, stack = window.document.graph, window.document.undo_stack
    window.document.group(["c1", "tanh1"], "stage")
    select_by_mouse(window, "c1", "tanh1")
    QTest.keyClick(window.view.viewport(), Qt.Key.Key_C, CTRL)
    QTest.keyClick(window.view.viewport(), Qt.Key.Key_V, CTRL)
    assert graph.groups["stage2"].members == {"c2", "tanh5"}
    assert window.menu_actions.undo.text() == "Undo Paste 2 blocks"
    graph.validate()
    stack.undo()
    assert "stage2" not in graph.groups and "c2" not in graph
    assert graph.groups["stage"].members == {"c1", "tanh1"}
    stack.redo()
    assert graph.groups["stage2"].members == {"c2", "tanh5"}
    assert_mirrors(window.view.graph_scene, graph)


def test_cut_removes_and_paste_brings_back_the_same_names(window):
    graph = window.document.graph
    select_by_mouse(window, "f6", "tanh4")
    QTest.keyClick(window.view.viewport(), Qt.Key.Key_X, CTRL)
    assert "f6" not in graph and "tanh4" not in graph
    QTest.keyClick(window.view.viewport(), Qt.Key.Key_V, CTRL)
    assert "f6" in graph and Edge("f6", "tanh4") in graph.edges
    graph.validate()


def test_duplicate_copies_beside_the_original(window):
    graph = window.document.graph
    select_by_mouse(window, "c5")
    QTest.keyClick(window.view.viewport(), Qt.Key.Key_D, CTRL)
    (copy,) = set(graph.nodes) - {"input", "c1", "tanh1", "s2", "c3", "tanh2", "s4", "flatten", "c5",
                                  "tanh3", "f6", "tanh4", "output"}
    assert graph.node(copy).type == "Linear"
    x, y = graph.node("c5").position
    assert graph.node(copy).position == (x + 40, y + 40)
    assert window.menu_actions.undo.text() == "Undo Duplicate 1 block"


def test_blocks_paste_into_another_window(make_window):
    first, second = make_window("lenet5"), make_window("alexnet-cifar")
    select_by_mouse(first, "c3", "tanh2", "s4")
    QTest.keyClick(first.view.viewport(), Qt.Key.Key_C, CTRL)
    target = second.document.graph
    nodes, edges = set(target.nodes), len(target.edges)
    activate(second)
    QTest.keyClick(second.view.viewport(), Qt.Key.Key_V, CTRL)
    added = set(target.nodes) - nodes
    assert sorted(target.node(n).type for n in added) == ["AvgPool2d", "Conv2d", "Tanh"]
    assert len(target.edges) == edges + 2  # c3 → tanh2 → s4, under their new names
    target.validate()
    assert first.document.undo_stack.count() == 0 and second.document.undo_stack.count() == 1


def test_text_that_is_no_fragment_pastes_nothing_and_says_so(window):
    graph = window.document.graph
    QGuiApplication.clipboard().setText("hello, not a network")
    before = set(graph.nodes)
    activate(window)
    QTest.keyClick(window.view.viewport(), Qt.Key.Key_V, CTRL)
    assert set(graph.nodes) == before and window.document.undo_stack.count() == 0
    assert "clipboard holds no blocks" in window.statusBar().currentMessage()


def test_a_broken_fragment_is_refused_with_the_loader_message(window):
    graph = window.document.graph
    broken = {"format": "designer-project", "version": 1,
              "nodes": [{"name": "x", "type": "Conv9d", "params": {}}], "edges": []}
    QGuiApplication.clipboard().setText(json.dumps(broken))
    activate(window)
    QTest.keyClick(window.view.viewport(), Qt.Key.Key_V, CTRL)
    assert "x" not in graph and window.document.undo_stack.count() == 0
    message = window.statusBar().currentMessage()
    assert message.startswith("Cannot paste:") and "Conv9d" in message


COPY_THEN_QUIT = """
from PySide6.QtWidgets import QApplication
app = QApplication([])
from designer.ui.document import Document
from designer.ui.main_window import MainWindow
window = MainWindow(Document.open("lenet5"))
window.show()
window.view.select_only("c1", "tanh1")
window.menu_actions.copy.trigger()
app.processEvents()
window.close()
"""


def test_quitting_with_blocks_on_the_clipboard_ends_cleanly(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "DESIGNER_DATA_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", COPY_THEN_QUIT], env=env, capture_output=True, timeout=120)
    assert done.returncode == 0, f"exit status {done.returncode}"  # was a segmentation fault (-11)
