"""Groups on the canvas: group by selection, collapse and expand by mouse, drag, delete, repeat, undo."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest

from designer.graph.summary import totals
from designer.graph.templates import load_template
from designer.ui.canvas.group_item import HEADER
from tests.graph.test_groups import BASIC_BLOCK_64_PARAMS, LAYER1_1
from tests.ui.gestures import CTRL, activate, assert_mirrors, at, click, drag, select_by_mouse

SHIFT = Qt.KeyboardModifier.ShiftModifier
STAGE = ("c1", "tanh1", "s2")


def group_stage(window, monkeypatch, name: str = "stage1") -> None:
    monkeypatch.setattr(window, "ask_group_name", lambda suggested: name)
    select_by_mouse(window, *STAGE)
    QTest.keyClick(window.view.viewport(), Qt.Key.Key_G, CTRL)


def header_point(window, name: str) -> QPointF:
    item = window.view.graph_scene.item_for_group(name)
    rect = item.boundingRect()
    return item.mapToScene(QPointF(rect.left() + 12, rect.top() + HEADER / 2))


def check(window) -> None:
    assert_mirrors(window.view.graph_scene, window.document.graph)


def test_group_the_selection_with_ctrl_g(window, monkeypatch):
    group_stage(window, monkeypatch)
    graph, scene = window.document.graph, window.view.graph_scene
    assert graph.groups["stage1"].members == set(STAGE)
    assert window.menu_actions.undo.text() == "Undo Group 3 blocks as stage1"
    item = scene.item_for_group("stage1")
    assert item.texts == ["▾ stage1 · 3 blocks · 156 params"]
    frame = item.sceneBoundingRect()
    assert all(frame.contains(scene.item_for_node(n).sceneBoundingRect()) for n in STAGE)
    check(window)
    window.menu_actions.undo.trigger()
    assert "stage1" not in graph.groups and scene.group_items() == []
    check(window)


def test_collapse_by_clicking_the_header_and_expand_by_double_click(window, monkeypatch):
    group_stage(window, monkeypatch)
    graph, view, scene = window.document.graph, window.view, window.view.graph_scene
    click(view, at(view, header_point(window, "stage1")))
    assert graph.groups["stage1"].collapsed
    box = scene.item_for_group("stage1")
    assert box.texts == ["stage1", "3 blocks · 156 params", "→ 6×14×14"]
    assert not any(scene.item_for_node(n).isVisible() for n in STAGE)
    assert not scene.item_for_edge(next(e for e in graph.edges if e.source == "c1")).isVisible()
    check(window)  # the edges in and out now end on the box
    QTest.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                      at(view, box.sceneBoundingRect().center()))
    assert not graph.groups["stage1"].collapsed
    assert all(scene.item_for_node(n).isVisible() for n in STAGE)
    check(window)
    window.menu_actions.undo.trigger()
    assert graph.groups["stage1"].collapsed
    window.menu_actions.undo.trigger()
    assert not graph.groups["stage1"].collapsed
    check(window)


def test_dragging_a_collapsed_group_moves_its_blocks_in_one_step(window, monkeypatch):
    group_stage(window, monkeypatch)
    graph, view, scene = window.document.graph, window.view, window.view.graph_scene
    window.menu_actions.collapse.trigger()  # the blocks are still selected: Ctrl+E's action
    assert graph.groups["stage1"].collapsed
    before = {n: graph.node(n).position for n in STAGE}
    box = scene.item_for_group("stage1")
    start = at(view, box.sceneBoundingRect().center() + QPointF(0, 8))
    drag(view, start, start + QPoint(120, 60))
    moved = {n: graph.node(n).position for n in STAGE}
    deltas = {(round(moved[n][0] - before[n][0], 3), round(moved[n][1] - before[n][1], 3)) for n in STAGE}
    assert len(deltas) == 1 and deltas != {(0.0, 0.0)}  # all by the same amount
    assert window.menu_actions.undo.text() == "Undo Move 3 blocks"
    check(window)
    window.menu_actions.undo.trigger()
    assert {n: graph.node(n).position for n in STAGE} == before
    check(window)


def test_deleting_a_collapsed_group_deletes_its_blocks_and_undo_restores_the_group(window, monkeypatch):
    group_stage(window, monkeypatch)
    graph, view, scene = window.document.graph, window.view, window.view.graph_scene
    window.menu_actions.collapse.trigger()
    click(view, at(view, scene.item_for_group("stage1").sceneBoundingRect().center() + QPointF(0, 8)))
    QTest.keyClick(view.viewport(), Qt.Key.Key_Delete)
    assert not set(STAGE) & set(graph.nodes) and "stage1" not in graph.groups
    check(window)
    window.menu_actions.undo.trigger()
    assert graph.groups["stage1"].members == set(STAGE) and graph.groups["stage1"].collapsed
    check(window)


def test_ungroup_keeps_the_blocks(window, monkeypatch):
    group_stage(window, monkeypatch)
    graph = window.document.graph
    select_by_mouse(window, "tanh1")
    QTest.keyClick(window.view.viewport(), Qt.Key.Key_G, CTRL | SHIFT)
    assert "stage1" not in graph.groups and set(STAGE) <= set(graph.nodes)
    window.menu_actions.undo.trigger()
    assert graph.groups["stage1"].members == set(STAGE)
    check(window)


def test_repeat_a_resnet_basic_block_from_the_menu(make_window, monkeypatch):
    graph = load_template("resnet18")
    graph.groups.add("layer1_1", LAYER1_1)
    window = make_window(graph)
    graph = window.document.graph
    before, edges = totals(graph)["params"], set(graph.edges)
    monkeypatch.setattr(window, "ask_repeat_count", lambda group: 3)
    window.view.center_on_node("layer1_1_conv1")
    select_by_mouse(window, "layer1_1_conv1")
    QTest.keyClick(window.view.viewport(), Qt.Key.Key_R, CTRL)
    assert totals(graph)["params"] == before + 2 * BASIC_BLOCK_64_PARAMS
    assert window.summary.table.model().rowCount() > 0
    assert {g.name for g in window.view.graph_scene.group_items()} == {"layer1_1", "layer1_1_2", "layer1_1_3"}
    assert window.menu_actions.undo.text() == "Undo Repeat layer1_1 ×3"
    check(window)
    window.menu_actions.undo.trigger()
    assert set(graph.edges) == edges and set(graph.groups) == {"layer1_1"}
    check(window)
    window.menu_actions.redo.trigger()
    assert totals(graph)["params"] == before + 2 * BASIC_BLOCK_64_PARAMS
    check(window)


def test_a_group_that_cannot_repeat_says_why(window, monkeypatch):
    errors: list[tuple[str, str]] = []
    monkeypatch.setattr(window, "show_error", lambda title, message: errors.append((title, message)))
    monkeypatch.setattr(window, "ask_group_name", lambda suggested: "head")
    monkeypatch.setattr(window, "ask_repeat_count", lambda group: 2)
    select_by_mouse(window, "input", "c1")
    QTest.keyClick(window.view.viewport(), Qt.Key.Key_G, CTRL)
    stack = window.document.undo_stack.count()
    QTest.keyClick(window.view.viewport(), Qt.Key.Key_R, CTRL)
    assert errors == [("Cannot repeat", "cannot repeat head: nothing outside it feeds it, so a copy would have "
                                        "no input (repeat a stage that follows another block)")]
    assert window.document.undo_stack.count() == stack


def test_groups_survive_save_and_open(window, monkeypatch, tmp_path):
    group_stage(window, monkeypatch)
    window.menu_actions.collapse.trigger()
    path = tmp_path / "grouped.json"
    monkeypatch.setattr(window, "ask_save_path", lambda suggested: str(path))
    window.menu_actions.save_as.trigger()
    activate(window)
    assert window.open_source(path)
    scene = window.view.graph_scene
    assert scene.item_for_group("stage1").collapsed
    assert not scene.item_for_node("c1").isVisible()
    check(window)


def test_rename_a_group_from_the_menu(window, monkeypatch):
    group_stage(window, monkeypatch)
    errors: list[str] = []
    monkeypatch.setattr(window, "show_error", lambda title, message: errors.append(message))
    monkeypatch.setattr(window, "ask_group_name", lambda suggested: "features")
    window.menu_actions.rename_group.trigger()
    graph, scene = window.document.graph, window.view.graph_scene
    assert list(graph.groups) == ["features"]
    assert scene.item_for_group("features").texts[0].startswith("▾ features")
    assert window.menu_actions.undo.text() == "Undo Rename group stage1 to features"
    graph.groups.add("other", ["c3"])
    monkeypatch.setattr(window, "ask_group_name", lambda suggested: "other")
    window.menu_actions.rename_group.trigger()
    assert errors == ["there is already a group named 'other'"]
    window.menu_actions.undo.trigger()
    assert "stage1" in graph.groups
    check(window)


def test_the_frame_follows_a_block_while_it_is_dragged(window, monkeypatch):
    group_stage(window, monkeypatch)
    view, scene = window.view, window.view.graph_scene
    frame = scene.item_for_group("stage1")
    select_by_mouse(window, "s2")
    block = scene.item_for_node("s2")
    start = at(view, block.sceneBoundingRect().center() + QPointF(0, 8))
    viewport = view.viewport()
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    for step in range(1, 6):
        QTest.mouseMove(viewport, start + QPoint(0, 30 * step))
    assert frame.sceneBoundingRect().contains(block.sceneBoundingRect())  # mid-drag, before any command
    end = start + QPoint(0, 150)
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)
    check(window)


def test_groups_nest_collapse_together_and_undo_restores_the_nesting(window, monkeypatch):
    group_stage(window, monkeypatch, "inner")
    graph, view, scene = window.document.graph, window.view, window.view.graph_scene
    monkeypatch.setattr(window, "ask_group_name", lambda suggested: "outer")
    select_by_mouse(window, *STAGE, "c3")
    QTest.keyClick(view.viewport(), Qt.Key.Key_G, CTRL)
    assert graph.groups["inner"].parent == "outer" and graph.groups.path("c1") == ["outer", "inner"]
    outer, inner = scene.item_for_group("outer"), scene.item_for_group("inner")
    assert outer.sceneBoundingRect().contains(inner.sceneBoundingRect())  # frames nest, headers apart
    assert outer.sceneBoundingRect().top() < inner.sceneBoundingRect().top()
    check(window)
    select_by_mouse(window, *STAGE)
    QTest.keyClick(view.viewport(), Qt.Key.Key_Delete)
    assert "inner" not in graph.groups and graph.groups["outer"].members == {"c3"}
    check(window)
    window.menu_actions.undo.trigger()
    assert graph.groups.path("c1") == ["outer", "inner"] and graph.groups["inner"].members == set(STAGE)
    check(window)
    select_by_mouse(window, "c3")
    QTest.keyClick(view.viewport(), Qt.Key.Key_G, CTRL | SHIFT)  # ungroup outer: inner goes to the top
    assert "outer" not in graph.groups and graph.groups["inner"].parent is None
    window.menu_actions.undo.trigger()
    assert graph.groups["inner"].parent == "outer"
    check(window)
    outer, inner = scene.item_for_group("outer"), scene.item_for_group("inner")
    click(view, at(view, header_point(window, "outer")))
    assert graph.groups["outer"].collapsed and not inner.isVisible()
    assert not any(scene.item_for_node(n).isVisible() for n in (*STAGE, "c3"))
    into = scene.item_for_edge(next(e for e in graph.edges if e.target == "c1"))
    assert into.isVisible() and into.target_box is outer  # the edge in ends on the outer box
    check(window)
    QTest.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                      at(view, outer.sceneBoundingRect().center()))
    assert inner.isVisible() and all(scene.item_for_node(n).isVisible() for n in STAGE)
    select_by_mouse(window, *STAGE)  # the expanded frame let go of the mouse: the blocks take clicks
    assert not graph.groups["outer"].collapsed
    check(window)
