"""The palette's modules: an Inception module dropped as a named group, in one undo step, ready to connect."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from designer.graph.fragment import plan_paste
from designer.graph.graph import Graph
from designer.graph.modules import ENTRY, module_names, module_text
from tests.ui.gestures import assert_mirrors
from tests.ui.test_gestures import _drop


@pytest.mark.parametrize("name", module_names())
def test_every_module_is_one_named_group_with_one_entry(name):
    data = json.loads(module_text(name))
    assert data["description"] and [g["name"] for g in data["groups"]] == [name]
    paste = plan_paste(Graph(), module_text(name))
    assert paste is not None and paste.nodes[0].name == ENTRY and paste.nodes[0].type == "Identity"
    fed = {edge.target for edge in paste.edges}
    assert [n.name for n in paste.nodes if n.name not in fed] == [ENTRY]  # one place to connect the input


def test_inception_module_dropped_from_the_palette_is_a_group_to_connect(window):
    view, document = window.view, window.document
    graph = document.graph
    before = set(graph.nodes)
    point = QPoint(300, 300)
    assert _drop(view, window.palette_panel.mime_for("Modules/inception"), point)
    added = set(graph.nodes) - before
    assert len(added) == 15 and graph.groups["inception"].members == added
    assert sorted(view.graph_scene.selected_nodes()) == sorted(added)
    assert document.undo_stack.undoText() == "Add inception with 15 blocks"
    entry = view.graph_scene.item_for_node(ENTRY)
    target = view.mapToScene(point)
    assert min(graph.node(n).position[0] for n in added) == pytest.approx(target.x())
    assert entry is not None
    assert_mirrors(view.graph_scene, graph)

    document.undo_stack.undo()
    assert set(graph.nodes) == before and "inception" not in graph.groups
    graph.validate()


def test_double_click_adds_a_module_in_the_middle_and_search_finds_it(window):
    palette = window.palette_panel
    QTest.keyClicks(palette.search, "inception")
    assert palette.visible_modules() == ["inception"]
    item = palette.module_item("inception")
    point = palette.tree.visualItemRect(item).center()
    left, none = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    QTest.mouseClick(palette.tree.viewport(), left, none, point)
    QTest.mouseDClick(palette.tree.viewport(), left, none, point)
    assert "inception" in window.graph.groups
    graph = window.graph
    graph.add_node("Input", "image", {"shape": [192, 28, 28]})
    window.document.connect_blocks("image", ENTRY)
    assert graph.result("concat").shape == (256, 28, 28)  # 64 + 128 + 32 + 32, GoogLeNet's 3a


@pytest.mark.parametrize(("query", "module"), [
    ("squeeze-excitation", "se-block"), ("attention", "transformer-encoder"),
    ("inverted residual", "inverted-residual"), ("mobilenet", "inverted-residual"),
])
def test_search_finds_modules_by_what_people_call_them(window, query, module):
    QTest.keyClicks(window.palette_panel.search, query)
    assert module in window.palette_panel.visible_modules()


@pytest.mark.parametrize(("name", "shape", "output"), [
    ("se-block", [64, 28, 28], (64, 28, 28)),
    ("inverted-residual", [24, 56, 56], (24, 56, 56)),
    ("transformer-encoder", [65, 64], (65, 64)),
])
def test_a_module_connected_to_its_input_computes_its_shape(window, name, shape, output):
    graph = window.graph
    names = window.document.add_module(name, (0.0, 600.0))
    graph.add_node("Input", "feed", {"shape": shape})
    window.document.connect_blocks("feed", ENTRY)
    assert not [e for e in graph.errors() if e[0] in names]
    (last,) = [n for n in names if not graph.out_edges(n)]
    assert graph.result(last).shape == output
