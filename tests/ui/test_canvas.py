"""The canvas mirrors the model: blocks, ports, edges, labels, errors, zoom and framing."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from designer.graph.inference import ERROR, UNKNOWN
from tests.ui.gestures import assert_mirrors, at, drag


def test_alexnet_blocks_show_name_type_parameters_and_shape(make_window):
    window = make_window("alexnet")
    scene = window.view.graph_scene
    assert_mirrors(scene, window.graph)
    conv1 = scene.item_for_node("conv1")
    assert conv1.texts == ["conv1", "Conv2d", "96 @ 11×11 /4", "→ 96×55×55"]
    assert "55 = ⌊(227 − 11 + 2·0) / 4⌋ + 1" in conv1.toolTip()
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
    assert "kernel 40 is larger than the padded input 32" in c1.toolTip()
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
