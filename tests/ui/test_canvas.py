"""The canvas mirrors the model: blocks, ports, edges, labels, errors, zoom and framing."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QHelpEvent, QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QToolTip

from designer.graph.inference import ERROR, UNKNOWN
from tests.ui.gestures import assert_mirrors, at, drag


def tooltip_at(view, point: QPoint) -> str:
    """What a user reads when resting the mouse at viewport ``point``: the move, then Qt's tooltip event."""
    QTest.mouseMove(view.viewport(), point + QPoint(0, 30))  # from elsewhere, so that the item is entered
    QTest.mouseMove(view.viewport(), point)
    event = QHelpEvent(QEvent.Type.ToolTip, point, view.viewport().mapToGlobal(point))
    QApplication.sendEvent(view.viewport(), event)
    text = QToolTip.text() if QToolTip.isVisible() else ""
    QToolTip.hideText()
    return text


def test_alexnet_blocks_show_name_type_parameters_and_shape(make_window):
    window = make_window("alexnet")
    scene = window.view.graph_scene
    assert_mirrors(scene, window.graph)
    conv1 = scene.item_for_node("conv1")
    assert conv1.texts == ["conv1", "Conv2d", "96 @ 11×11 /4", "→ 96×55×55"]
    window.view.resetTransform()
    window.view.center_on_node("conv1")
    assert "55 = ⌊(227 − 11 + 2·0) / 4⌋ + 1" in tooltip_at(window.view, at(window.view, conv1))
    edge = next(e for e in scene.edge_items() if e.edge.source == "conv1")
    assert edge.label == "96×55×55"
    assert len(scene.item_for_node("input").input_ports) == 0


def test_merge_blocks_have_a_port_per_input_and_one_free(make_window):
    window = make_window("inception")
    concat = window.view.graph_scene.item_for_node("inception3a_concat")
    assert sorted(concat.input_ports) == [0, 1, 2, 3, 4]
    assert [p.connected for _, p in sorted(concat.input_ports.items())] == [True] * 4 + [False]


def test_an_error_turns_the_block_red_and_what_follows_unknown(window):
    window.document.set_params("c1", {"kernel_size": 40})
    scene = window.view.graph_scene
    c1 = scene.item_for_node("c1")
    assert c1.status == ERROR
    assert "→ error" in c1.texts
    assert any(t.startswith("kernel 40 is larger") for t in c1.texts)
    assert "kernel 40 is larger than the padded input 32" in tooltip_at(window.view, at(window.view, c1))
    tanh1 = scene.item_for_node("tanh1")
    assert tanh1.status == UNKNOWN and "→ unknown" in tanh1.texts
    assert next(e for e in scene.edge_items() if e.edge.source == "c1").label == "?"
    window.document.undo_stack.undo()
    assert scene.item_for_node("tanh1").status == "ok"
    assert_mirrors(scene, window.graph)


def test_shape_changes_repaint_only_the_blocks_concerned(window):
    scene = window.view.graph_scene
    calls = []
    for item in scene.block_items():
        item.set_result = (lambda original, name: lambda r: (calls.append(name), original(r)))(
            item.set_result, item.name)
    window.document.set_params("f6", {"out_features": 50})
    assert sorted(set(calls)) == ["f6", "tanh4"]


def test_wheel_zooms_and_fit_shows_everything(window):
    view = window.view
    zoom = view.zoom
    centre = QPointF(view.viewport().rect().center())
    event = QWheelEvent(centre, view.viewport().mapToGlobal(centre), QPoint(0, 0), QPoint(0, 240),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase,
                        False)
    QApplication.sendEvent(view.viewport(), event)
    assert view.zoom > zoom * 1.2
    window.menu_actions.fit.trigger()
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    assert visible.contains(view.graph_scene.itemsBoundingRect())


def test_middle_button_and_space_drag_pan(window):
    view = window.view
    centre = view.viewport().rect().center()
    before = view.mapToScene(centre)
    drag(view, centre, centre + QPoint(80, 0), Qt.MouseButton.MiddleButton)
    moved = view.mapToScene(centre)
    assert moved.x() < before.x() - 40
    empty = at(view, QPointF(0, 400))
    view.setFocus()
    from PySide6.QtTest import QTest

    QTest.keyPress(view, Qt.Key.Key_Space)
    drag(view, empty, empty + QPoint(0, 60))
    QTest.keyRelease(view, Qt.Key.Key_Space)
    assert view.mapToScene(centre).y() < moved.y() - 30
    assert window.document.undo_stack.count() == 0 and not view.graph_scene.selectedItems()


def test_a_renamed_block_keeps_its_edges(window):
    window.document.rename("c3", "conv_b")
    scene = window.view.graph_scene
    assert scene.item_for_node("conv_b").texts[0] == "conv_b"
    assert_mirrors(scene, window.graph)


def test_hovering_an_edge_tells_its_shape_formula_and_ends(make_window):
    window = make_window("inception")
    view = window.view
    view.resetTransform()
    scene = view.graph_scene
    edge = next(e for e in scene.edge_items()
                if e.edge.source == "inception3a_3x3_reduce_relu" and e.edge.target == "inception3a_3x3")
    middle = edge.shape().boundingRect().center()
    view.centerOn(middle)
    point = next(p for p in (edge.path_point(t / 20) for t in range(5, 16)) if edge.contains(p))
    text = tooltip_at(view, view.mapFromScene(point))
    assert text.splitlines()[0] == "Shape: 48×32×32"
    assert "inception3a_3x3_reduce_relu → inception3a_3x3" in text
    concat = next(e for e in scene.edge_items() if e.edge.target == "inception3a_concat" and e.edge.port == 1)
    assert "→ inception3a_concat (input 1)" in concat.tooltip_text()
    conv = next(e for e in scene.edge_items() if e.edge.source == "stem")
    assert "32 = ⌊(32 − 3 + 2·1) / 1⌋ + 1" in conv.tooltip_text()


def dark_pixels(view, name: str) -> int:
    """How many pixels inside a block (its outline left out) are as dark as text."""
    QApplication.processEvents()
    image = view.viewport().grab().toImage()
    body = view.mapFromScene(view.graph_scene.item_for_node(name).body_rect()).boundingRect()
    body = body.adjusted(3, 3, -3, -3)
    return sum(1 for x in range(body.left(), body.right()) for y in range(body.top(), body.bottom())
               if image.pixelColor(x, y).lightnessF() < 0.4)


def test_zoomed_out_a_block_still_shows_its_name_and_shape(window):
    view = window.view
    view.resetTransform()
    view.scale(0.3, 0.3)
    view.center_on_node("c3")
    assert dark_pixels(view, "c3") > 25  # letters, drawn larger than at full size; not an empty box
    before = view.viewport().grab().toImage()
    window.document.set_params("input", {"shape": [1, 64, 64]})  # c3's shape changes
    QApplication.processEvents()
    assert view.viewport().grab().toImage() != before


def test_a_fitted_view_stays_fitted_when_the_window_grows(window):
    view = window.view
    window.menu_actions.fit.trigger()
    zoom = view.zoom
    window.resize(window.width() + 300, window.height() + 200)
    QApplication.processEvents()
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    assert visible.contains(view.graph_scene.itemsBoundingRect()) and view.zoom > zoom
