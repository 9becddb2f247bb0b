"""Real mouse gestures on the canvas, and a check that the scene mirrors the model."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QGraphicsItem

from designer.graph.graph import Graph
from designer.ui.canvas.scene import GraphScene
from designer.ui.canvas.view import GraphView

CTRL = Qt.KeyboardModifier.ControlModifier


def at(view: GraphView, item: QGraphicsItem | QPointF) -> QPoint:
    """Where an item (its origin) or a scene point is in viewport pixels."""
    point = item if isinstance(item, QPointF) else item.scenePos()
    return view.mapFromScene(point)


def drag(view: GraphView, start: QPoint, end: QPoint, button: Qt.MouseButton = Qt.MouseButton.LeftButton,
         steps: int = 6) -> None:
    viewport = view.viewport()
    QTest.mousePress(viewport, button, Qt.KeyboardModifier.NoModifier, start)
    for i in range(1, steps + 1):
        QTest.mouseMove(viewport, start + (end - start) * (i / steps))
    QTest.mouseRelease(viewport, button, Qt.KeyboardModifier.NoModifier, end)


def click(view: GraphView, point: QPoint) -> None:
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point)


def connect_by_mouse(view: GraphView, source: str, target: str, port: int = 0) -> None:
    scene = view.graph_scene
    start = at(view, scene.item_for_node(source).output_port)
    end = at(view, scene.item_for_node(target).input_port(port))
    drag(view, start, end)


def assert_mirrors(scene: GraphScene, graph: Graph) -> None:
    """Every node and edge has its item, placed and labelled as the model says."""
    graph.validate()
    blocks = {item.name: item for item in scene.block_items()}
    assert set(blocks) == set(graph.nodes)
    for name, node in graph.nodes.items():
        item = blocks[name]
        assert scene.item_for_node(name) is item and scene.node_for_item(item) == name
        assert (item.pos().x(), item.pos().y()) == node.position
        result = graph.result(name)
        assert item.status == result.status
        assert item.texts[0] == name or "…" in item.texts[0]
        assert "→ " + result.shape_text in item.texts
        if node.label:
            assert node.label in item.texts
        connected = {e.port for e in graph.in_edges(name)}
        assert connected <= set(item.input_ports)
    edges = {item.edge: item for item in scene.edge_items()}
    assert set(edges) == set(graph.edges)
    for edge, item in edges.items():
        assert item.source is blocks[edge.source] and item.target is blocks[edge.target]
        start, end = item.endpoints()
        boxes = {g.name: g for g in scene.group_items() if g.collapsed}
        # an edge ends on the box of the outermost collapsed group around its block
        source_box, target_box = (next((boxes[g] for g in graph.groups.path(n) if g in boxes), None)
                                  for n in (edge.source, edge.target))
        inside = source_box is not None and source_box is target_box
        assert item.isVisible() == (not inside)
        if not inside:
            source_port = blocks[edge.source].output_port.scenePos()
            assert start == (source_box.output_anchor() if source_box else source_port)
            assert end == (target_box.input_anchor() if target_box
                           else blocks[edge.target].input_port(edge.port).scenePos())
        source = graph.result(edge.source)
        assert item.label == (source.shape_text if source.status == "ok" else "?")


def activate(window) -> None:
    """Shortcuts go to the active window, so make it so before typing one."""
    window.activateWindow()
    window.raise_()
    deadline = 50
    while QApplication.activeWindow() is not window and deadline:
        QApplication.processEvents()
        QTest.qWait(10)
        deadline -= 1
    assert QApplication.activeWindow() is window


def select_by_mouse(window, *names: str) -> None:
    view, scene = window.view, window.view.graph_scene
    activate(window)
    click(view, at(view, scene.item_for_node(names[0])))
    for name in names[1:]:
        QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, CTRL, at(view, scene.item_for_node(name)))
    assert sorted(scene.selected_nodes()) == sorted(names)
