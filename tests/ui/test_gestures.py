"""Real mouse and keyboard gestures on the canvas and the palette."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from designer.graph.graph import Edge, Graph
from designer.ui.canvas.port_item import DIMMED, NORMAL, TARGET
from tests.ui.gestures import assert_mirrors, at, click, connect_by_mouse, drag


def small_graph() -> Graph:
    graph = Graph()
    graph.add_node("Input", "input", {"shape": [3, 32, 32]}, (0.0, 0.0))
    graph.add_node("ReLU", "relu", position=(300.0, 0.0))
    graph.add_node("BatchNorm1d", "bn", position=(300.0, 160.0))
    graph.add_node("Concat", "cat", position=(600.0, 0.0))
    return graph


def test_double_click_in_the_palette_adds_the_block_in_the_middle(window):
    palette, view = window.palette_panel, window.view
    item = palette.item_for("Dropout")
    palette.tree.scrollToItem(item)
    point = palette.tree.visualItemRect(item).center()
    # A double click is a click, then a press that Qt reports as a double click.
    left, none = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    QTest.mouseClick(palette.tree.viewport(), left, none, point)
    QTest.mouseDClick(palette.tree.viewport(), left, none, point)
    QTest.mouseRelease(palette.tree.viewport(), left, none, point)
    assert "dropout1" in window.graph
    block = view.graph_scene.item_for_node("dropout1")
    assert block.isSelected() and window.inspector.node_name == "dropout1"
    centre = view.mapToScene(view.viewport().rect().center())
    assert abs(block.pos().x() - centre.x()) < 100 and abs(block.pos().y() - centre.y()) < 100
    assert window.document.undo_stack.undoText() == "Add dropout1"
    window.document.undo_stack.undo()
    assert "dropout1" not in window.graph
    assert_mirrors(view.graph_scene, window.graph)


def test_palette_search_filters_blocks(window):
    palette = window.palette_panel
    QTest.keyClicks(palette.search, "pool2d")
    assert set(palette.visible_types()) == {"MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d"}
    palette.search.clear()
    assert "ReLU" in palette.visible_types()


def _drop(view, mime: QMimeData, point: QPoint) -> bool:
    viewport = view.viewport()
    action, button, none = Qt.DropAction.CopyAction, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(point, action, mime, button, none)
    QApplication.sendEvent(viewport, enter)
    QApplication.sendEvent(viewport, QDragMoveEvent(point, action, mime, button, none))
    drop = QDropEvent(QPointF(point), action, mime, button, none)
    QApplication.sendEvent(viewport, drop)
    return drop.isAccepted()


def test_dropping_a_palette_block_adds_it_where_it_lands(window):
    view = window.view
    point = QPoint(300, 420)
    assert _drop(view, window.palette_panel.mime_for("BatchNorm2d"), point)
    node = window.graph.node("bn1")
    target = view.mapToScene(point)
    assert node.position == (target.x(), target.y())
    assert view.graph_scene.item_for_node("bn1").isSelected()
    other = QMimeData()
    other.setText("Conv2d")
    _drop(view, other, point)
    assert len(window.graph) == 14, "only palette drags add blocks"


def test_drag_from_an_output_port_to_an_input_port_connects(make_window):
    window = make_window(small_graph())
    view, graph = window.view, window.graph
    connect_by_mouse(view, "input", "relu")
    assert graph.edges == [Edge("input", "relu", 0)]
    assert view.graph_scene.item_for_edge(Edge("input", "relu", 0)).label == "3×32×32"
    assert window.document.undo_stack.undoText() == "Connect input → relu"
    connect_by_mouse(view, "relu", "cat", 0)
    connect_by_mouse(view, "input", "cat", 1)
    assert sorted(window.view.graph_scene.item_for_node("cat").input_ports) == [0, 1, 2]
    assert_mirrors(view.graph_scene, graph)
    window.document.undo_stack.undo()
    assert Edge("input", "cat", 1) not in graph.edges
    assert_mirrors(view.graph_scene, graph)


def test_refused_ports_are_dimmed_while_dragging(make_window):
    window = make_window(small_graph())
    view, scene = window.view, window.view.graph_scene
    start = at(view, scene.item_for_node("input").output_port)
    relu_port = scene.item_for_node("relu").input_port(0)
    bn_port = scene.item_for_node("bn").input_port(0)
    QTest.mousePress(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    QTest.mouseMove(view.viewport(), at(view, relu_port))
    assert bn_port.state == DIMMED, "BatchNorm1d refuses a 3×32×32 input"
    assert relu_port.state == TARGET
    QTest.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                       at(view, QPointF(150, 400)))
    assert bn_port.state == NORMAL and not window.graph.edges


def test_a_refused_drop_says_why_in_the_status_bar(make_window):
    window = make_window(small_graph())
    view, graph = window.view, window.graph
    connect_by_mouse(view, "input", "bn")
    message = window.statusBar().currentMessage()
    assert message.startswith("BatchNorm1d needs a flat or a T×D input, but input gives 3×32×32")
    connect_by_mouse(view, "input", "relu")
    connect_by_mouse(view, "relu", "relu")
    assert window.statusBar().currentMessage() == "relu cannot feed itself"
    connect_by_mouse(view, "cat", "relu")
    assert "relu already has an input from input" in window.statusBar().currentMessage()
    assert graph.edges == [Edge("input", "relu", 0)]


def test_a_refused_cycle_says_why(window):
    window.document.remove([], [Edge("s2", "c3")])
    connect_by_mouse(window.view, "s4", "c3", 0)
    assert window.statusBar().currentMessage() == (
        "connecting s4 → c3 would make a loop: c3 already feeds s4")
    assert Edge("s4", "c3") not in window.graph.edges


def test_dragging_a_block_moves_it_in_one_undo_step(window):
    view, graph, stack = window.view, window.graph, window.document.undo_stack
    block = view.graph_scene.item_for_node("c1")
    before = graph.node("c1").position
    start = at(view, block)
    drag(view, start, start + QPoint(60, 90), steps=8)
    x, y = graph.node("c1").position
    assert x > before[0] and y > before[1] + 50  # moved right and down, in scene units at the view's zoom
    assert (block.pos().x(), block.pos().y()) == (x, y)
    assert stack.count() == 1 and stack.undoText() == "Move c1"
    stack.undo()
    assert graph.node("c1").position == before
    assert_mirrors(view.graph_scene, graph)


def test_click_selects_and_rubber_band_selects_several(window):
    view, scene = window.view, window.view.graph_scene
    click(view, at(view, scene.item_for_node("c3")))
    assert scene.selected_nodes() == ["c3"] and window.inspector.node_name == "c3"
    drag(view, at(view, QPointF(-120, -120)), at(view, QPointF(470, 120)))
    assert {"input", "c1", "tanh1"} <= set(scene.selected_nodes())
    assert "output" not in scene.selected_nodes()
    assert window.document.undo_stack.count() == 0


def test_delete_key_removes_the_selection_and_undo_brings_it_back(window):
    view, scene, graph = window.view, window.view.graph_scene, window.graph
    window.activateWindow()
    click(view, at(view, scene.item_for_node("c3")))
    scene.item_for_edge(Edge("c5", "tanh3")).setSelected(True)
    QTest.keyClick(view.viewport(), Qt.Key.Key_Delete)
    assert "c3" not in graph
    assert Edge("c5", "tanh3") not in graph.edges
    assert not [e for e in graph.edges if "c3" in (e.source, e.target)]
    stack = window.document.undo_stack
    assert stack.count() == 1 and window.menu_actions.undo.text() == "Undo Delete c3"
    stack.undo()
    assert Edge("s2", "c3") in graph.edges and Edge("c3", "tanh2") in graph.edges
    assert Edge("c5", "tanh3") in graph.edges
    assert_mirrors(scene, graph)


def test_select_all_then_delete_empties_the_canvas(window):
    window.menu_actions.select_all.trigger()
    window.menu_actions.delete.trigger()
    assert len(window.graph) == 0 and not window.view.graph_scene.items()
    window.document.undo_stack.undo()
    assert len(window.graph) == 13
    assert_mirrors(window.view.graph_scene, window.graph)
