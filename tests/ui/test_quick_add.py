"""Quick-add (Tab on the canvas, or a connection dropped on empty canvas) and pinch zoom, by real events."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QCursor, QNativeGestureEvent, QPointingDevice
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QGestureEvent, QPinchGesture

from designer.graph.graph import Edge, Graph
from designer.graph.registry import REGISTRY
from designer.ui.canvas.edge_item import DraftEdge
from designer.ui.canvas.view import GraphView
from designer.ui.quick_add import QuickAddPopup
from tests.ui.gestures import activate, assert_mirrors, at, drag

EMPTY = QPointF(120.0, 280.0)  # a scene point with no block near it, inside the fixture window's canvas


def small_graph() -> Graph:
    graph = Graph()
    graph.add_node("Input", "input", {"shape": [3, 32, 32]}, (0.0, 0.0))
    graph.add_node("Flatten", "flat", position=(300.0, 160.0))
    graph.connect("input", "flat")
    graph.add_node("ReLU", "relu", position=(600.0, 0.0))
    return graph


@pytest.fixture
def small_window(make_window):
    window = make_window(small_graph())
    activate(window)
    window.view.setFocus()
    return window


def popup() -> QuickAddPopup:
    shown = QApplication.activePopupWidget()
    assert isinstance(shown, QuickAddPopup) and shown.isVisible()
    return shown


def no_popup_left() -> bool:
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    return QApplication.activePopupWidget() is None and not any(
        isinstance(w, QuickAddPopup) for w in QApplication.topLevelWidgets())


def press_tab_at(view: GraphView, point: QPoint, target: str = "view") -> None:
    assert view.viewport().rect().contains(point), "the point must be on the canvas, or Tab uses its centre"
    QTest.mouseMove(view.viewport(), point)
    QTest.keyClick(view if target == "view" else view.viewport(), Qt.Key.Key_Tab)


def test_tab_opens_the_popup_at_the_cursor_and_enter_adds_the_block_there(small_window):
    view, graph, stack = small_window.view, small_window.graph, small_window.document.undo_stack
    point = at(view, EMPTY)
    press_tab_at(view, point)
    shown = popup()
    assert shown.visible_types() == small_window.palette_panel.visible_types(), "every type, palette order"
    QTest.keyClicks(shown.search, "conv")
    assert shown.visible_types()[0] == "Conv2d" and shown.current_type() == "Conv2d"
    assert "LocalResponseNorm" in shown.visible_types(), "its help mentions convolution"
    QTest.keyClick(shown.search, Qt.Key.Key_Return)
    assert no_popup_left()
    scene_point = view.mapToScene(point)
    assert graph.node("conv1").position == (scene_point.x(), scene_point.y())
    assert view.graph_scene.item_for_node("conv1").isSelected()
    assert stack.undoText() == "Add conv1"
    assert_mirrors(view.graph_scene, graph)
    stack.undo()
    assert "conv1" not in graph
    assert_mirrors(view.graph_scene, graph)


def test_typing_a_type_name_puts_it_first_and_enter_adds_it(small_window):
    """Typing "linear" once listed GELU ("Gaussian error linear unit") above Linear."""
    view, graph = small_window.view, small_window.graph
    press_tab_at(view, at(view, EMPTY))
    shown = popup()
    QTest.keyClicks(shown.search, "linear")
    assert shown.visible_types()[0] == "Linear" and shown.current_type() == "Linear"
    assert "GELU" in shown.visible_types()[1:]
    QTest.keyClick(shown.search, Qt.Key.Key_Return)
    assert no_popup_left()
    assert graph.node("fc1").type == "Linear"


def test_arrow_keys_pick_among_the_matches(small_window):
    view, graph = small_window.view, small_window.graph
    press_tab_at(view, at(view, EMPTY), target="viewport")
    shown = popup()
    QTest.keyClicks(shown.search, "pool2d")
    assert shown.visible_types() == ["MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d"]
    for key in (Qt.Key.Key_Down, Qt.Key.Key_Down, Qt.Key.Key_Down, Qt.Key.Key_Up):
        QTest.keyClick(shown.search, key)
    assert shown.current_type() == "AvgPool2d", "down stops at the last match, then up one"
    QTest.keyClick(shown.search, Qt.Key.Key_Enter)
    added = set(graph.nodes) - {"input", "flat", "relu"}
    assert [graph.node(name).type for name in added] == ["AvgPool2d"]
    assert_mirrors(view.graph_scene, graph)


def test_typing_a_category_or_help_word_finds_blocks_like_the_palette(small_window):
    view = small_window.view
    press_tab_at(view, at(view, EMPTY))
    shown = popup()
    QTest.keyClicks(shown.search, "normalization")
    palette = small_window.palette_panel
    QTest.keyClicks(palette.search, "normalization")
    assert shown.visible_types() == palette.visible_types() and shown.visible_types()
    QTest.keyClicks(shown.search, " nothing-like-this")
    assert shown.visible_types() == [] and shown.current_type() is None
    QTest.keyClick(shown.search, Qt.Key.Key_Return)
    assert shown.isVisible(), "Enter with nothing to pick keeps the popup open"
    assert shown.empty.isVisible()
    QTest.keyClick(shown.search, Qt.Key.Key_Escape)


def test_escape_closes_without_a_change(small_window):
    view, graph, stack = small_window.view, small_window.graph, small_window.document.undo_stack
    before, count = graph.to_dict(), stack.count()
    press_tab_at(view, at(view, EMPTY))
    QTest.keyClicks(popup().search, "relu")
    QTest.keyClick(popup().search, Qt.Key.Key_Escape)
    assert no_popup_left()
    assert graph.to_dict() == before and stack.count() == count
    assert_mirrors(view.graph_scene, graph)


def test_tab_with_a_modifier_keeps_its_usual_meaning(small_window):
    view = small_window.view
    QTest.mouseMove(view.viewport(), at(view, EMPTY))
    QTest.keyClick(view, Qt.Key.Key_Tab, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClick(view, Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier)
    assert QApplication.activePopupWidget() is None


def test_with_the_cursor_outside_the_canvas_the_block_lands_in_the_middle(small_window):
    view, graph = small_window.view, small_window.graph
    QCursor.setPos(view.viewport().mapToGlobal(QPoint(-50, -50)))
    QTest.keyClick(view, Qt.Key.Key_Tab)
    QTest.keyClicks(popup().search, "dropout")
    QTest.keyClick(popup().search, Qt.Key.Key_Return)
    centre = view.mapToScene(view.viewport().rect().center())
    assert graph.node("dropout1").position == (centre.x(), centre.y())


def drop_connection_on_empty_canvas(view: GraphView, source: str) -> QPoint:
    start = at(view, view.graph_scene.item_for_node(source).output_port)
    end = at(view, EMPTY)
    drag(view, start, end)
    return end


def draft_edges(view: GraphView) -> list[DraftEdge]:
    return [item for item in view.graph_scene.items() if isinstance(item, DraftEdge)]


@pytest.mark.parametrize(("source", "listed", "left_out"), [
    # Linear is listed: an H×W×C map is rank 3 too; after a C×H×W one it says to insert Flatten.
    ("input", {"Conv2d", "MaxPool2d", "BatchNorm2d", "ReLU", "Flatten", "Linear"}, {"Input", "BatchNorm1d"}),
    ("flat", {"Linear", "BatchNorm1d", "ReLU", "Dropout"}, {"Input", "Conv2d", "MaxPool2d", "BatchNorm2d"}),
])
def test_a_connection_dropped_on_empty_canvas_lists_only_blocks_that_take_it(small_window, source, listed,
                                                                             left_out):
    view, graph = small_window.view, small_window.graph
    drop_connection_on_empty_canvas(view, source)
    shown = popup()
    types = set(shown.visible_types())
    assert listed <= types and not left_out & types
    assert types == {t for t in REGISTRY if REGISTRY[t].could_take(graph.result(source).shape)}
    assert len(draft_edges(view)) == 1, "the connection stays drawn while the popup is open"
    QTest.keyClick(shown.search, Qt.Key.Key_Escape)
    assert no_popup_left() and not draft_edges(view)
    assert graph.edges == [Edge("input", "flat", 0)]


def test_choosing_a_block_after_a_dropped_connection_adds_and_connects_in_one_undo_step(small_window):
    view, graph, stack = small_window.view, small_window.graph, small_window.document.undo_stack
    count = stack.count()
    end = drop_connection_on_empty_canvas(view, "input")
    QTest.keyClicks(popup().search, "conv2d")
    QTest.keyClick(popup().search, Qt.Key.Key_Return)
    assert no_popup_left() and not draft_edges(view)
    drop_point = view.mapToScene(end)
    assert graph.node("conv1").position == (drop_point.x(), drop_point.y())
    assert Edge("input", "conv1", 0) in graph.edges
    assert graph.result("conv1").status == "ok"
    assert stack.count() == count + 1 and stack.undoText() == "Add Conv2d and connect"
    assert_mirrors(view.graph_scene, graph)
    stack.undo()
    assert "conv1" not in graph and graph.edges == [Edge("input", "flat", 0)]
    assert_mirrors(view.graph_scene, graph)
    stack.redo()
    assert Edge("input", "conv1", 0) in graph.edges
    assert_mirrors(view.graph_scene, graph)


def test_a_refused_connection_adds_nothing_and_says_why(small_window):
    view, graph, stack = small_window.view, small_window.graph, small_window.document.undo_stack
    drop_connection_on_empty_canvas(view, "input")
    shown = popup()
    QTest.keyClicks(shown.search, "conv2d")
    # The graph changes under the open popup: the input turns flat, which Conv2d refuses.
    small_window.document.set_params("input", {"shape": [10]})
    before, count = graph.to_dict(), stack.count()
    QTest.keyClick(shown.search, Qt.Key.Key_Return)
    assert no_popup_left()
    assert small_window.statusBar().currentMessage().startswith(
        "Cannot add Conv2d after input: Conv2d needs a C×H×W input, but input gives 10")
    assert graph.to_dict() == before and "conv1" not in graph
    assert stack.count() == count and not stack.canRedo(), "no trace in the undo history"
    assert stack.undoText() == "Change shape of input"
    assert_mirrors(view.graph_scene, graph)


def native_zoom(view: GraphView, point: QPoint, value: float) -> None:
    viewport = view.viewport()
    local, screen = QPointF(point), QPointF(viewport.mapToGlobal(point))
    event = QNativeGestureEvent(Qt.NativeGestureType.ZoomNativeGesture, QPointingDevice.primaryPointingDevice(),
                                2, local, local, screen, value, QPointF(0, 0))
    QApplication.sendEvent(viewport, event)
    assert event.isAccepted()


def assert_stays_put(view: GraphView, scene_point: QPointF, point: QPoint) -> None:
    moved = QPointF(view.mapFromScene(scene_point)) - QPointF(point)
    assert abs(moved.x()) <= 1 and abs(moved.y()) <= 1, f"the point under the gesture moved by {moved}"


def test_a_touchpad_pinch_zooms_about_its_centre(small_window):
    view = small_window.view
    point = QPoint(200, 150)
    under = view.mapToScene(point)
    zoom = view.zoom
    native_zoom(view, point, 0.25)
    assert view.zoom == pytest.approx(zoom * 1.25)
    assert_stays_put(view, under, point)
    native_zoom(view, point, -0.2)
    assert view.zoom == pytest.approx(zoom * 1.25 * 0.8)
    assert_stays_put(view, under, point)


def test_a_pinch_stops_at_the_zoom_limits(small_window):
    view = small_window.view
    point = QPoint(300, 200)
    under = view.mapToScene(point)
    for _ in range(20):
        native_zoom(view, point, 1.0)
    assert view.zoom == pytest.approx(GraphView.MAX_ZOOM)
    assert_stays_put(view, under, point)
    for _ in range(40):
        native_zoom(view, point, -0.5)
    assert view.zoom == pytest.approx(GraphView.MIN_ZOOM)


def test_a_pinch_gesture_zooms_about_its_centre(small_window):
    view = small_window.view
    point = QPoint(250, 120)
    under = view.mapToScene(point)
    zoom = view.zoom
    pinch = QPinchGesture()
    pinch.setScaleFactor(1.5)
    pinch.setCenterPoint(QPointF(view.viewport().mapToGlobal(point)))  # on the screen, as Qt's recogniser gives
    flags = QPinchGesture.ChangeFlag
    pinch.setChangeFlags(flags.ScaleFactorChanged | flags.CenterPointChanged)
    QApplication.sendEvent(view.viewport(), QGestureEvent([pinch]))
    assert view.zoom == pytest.approx(zoom * 1.5)
    assert_stays_put(view, under, point)
