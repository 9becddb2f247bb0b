"""Every command: undo and redo round trips, with the model valid and the canvas mirroring it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from designer.graph.graph import Edge, Graph
from designer.ui.commands import AddNode, SetParams
from designer.ui.document import Document
from tests.ui.gestures import assert_mirrors


def snapshot(graph: Graph) -> tuple[dict[str, Any], list[tuple[str, str, int]]]:
    """The graph as data, independent of the order nodes were (re)created in."""
    nodes = {name: (node.type, dict(node.params), node.position) for name, node in graph.nodes.items()}
    edges = sorted((e.source, e.target, e.port) for e in graph.edges)
    return nodes, edges


def round_trip(window, edit: Callable[[Document], object]) -> None:
    document, graph, scene = window.document, window.graph, window.view.graph_scene
    stack = document.undo_stack
    before, count = snapshot(graph), stack.count()
    edit(document)
    assert stack.count() == count + 1, "one edit, one undo step"
    after = snapshot(graph)
    assert after != before
    assert_mirrors(scene, graph)
    stack.undo()
    assert snapshot(graph) == before
    assert_mirrors(scene, graph)
    stack.redo()
    assert snapshot(graph) == after
    assert_mirrors(scene, graph)
    stack.undo()
    assert snapshot(graph) == before
    assert_mirrors(scene, graph)


EDITS: dict[str, tuple[str, Callable[[Document], object] | None, Callable[[Document], object]]] = {
    "add": ("lenet5", None, lambda d: d.add_node("ReLU", (10.0, 200.0))),
    "add with params": ("lenet5", None, lambda d: d.add_node("Conv2d", (0.0, 300.0), {"out_channels": 7})),
    "remove one": ("lenet5", None, lambda d: d.remove(["c3"])),
    "remove several and an edge": (
        "lenet5", None, lambda d: d.remove(["tanh1", "flatten"], [Edge("c5", "tanh3")])),
    "remove a merge input": ("inception", None, lambda d: d.remove(["inception3a_3x3_relu"])),
    "remove a merge": ("resnet18", None, lambda d: d.remove([next(n for n in d.graph.nodes if "add" in n)])),
    "connect": (
        "lenet5", lambda d: d.remove([], [Edge("c1", "tanh1")]), lambda d: d.connect_blocks("c1", "tanh1")),
    "connect a merge port": (
        "inception", lambda d: d.remove([], [Edge("inception3a_3x3_relu", "inception3a_concat", 1)]),
        lambda d: d.connect_blocks("inception3a_3x3_relu", "inception3a_concat", 1)),
    "disconnect": ("lenet5", None, lambda d: d.remove([], [Edge("s2", "c3")])),
    "move": ("lenet5", None, lambda d: d.move_nodes({"c1": (5.0, 60.0), "s2": (700.0, 80.0)})),
    "set params": ("lenet5", None, lambda d: d.set_params("c1", {"kernel_size": 3})),
    "set params to an error": ("lenet5", None, lambda d: d.set_params("c1", {"kernel_size": 40})),
    "set the input shape": ("lenet5", None, lambda d: d.set_params("input", {"shape": [3, 64, 64]})),
    "rename": ("lenet5", None, lambda d: d.rename("c3", "conv_b")),
    "auto layout": ("lenet5", lambda d: d.move_nodes({"c1": (100.0, 300.0)}), lambda d: d.auto_layout()),
}


@pytest.mark.parametrize("case", list(EDITS))
def test_undo_redo_round_trip(make_window, case):
    template, setup, edit = EDITS[case]
    window = make_window(template)
    if setup is not None:
        setup(window.document)
    round_trip(window, edit)


def test_whole_history_unwinds_and_replays(window):
    document, graph, scene = window.document, window.graph, window.view.graph_scene
    start = snapshot(graph)
    for _, setup, edit in (EDITS[k] for k in ("add", "connect", "rename", "set params", "move",
                                              "remove several and an edge", "auto layout")):
        if setup is not None:
            setup(document)
        edit(document)
    end = snapshot(graph)
    stack = document.undo_stack
    while stack.canUndo():
        stack.undo()
        graph.validate()
    assert snapshot(graph) == start
    assert_mirrors(scene, graph)
    while stack.canRedo():
        stack.redo()
        graph.validate()
    assert snapshot(graph) == end
    assert_mirrors(scene, graph)


def test_repeated_edits_of_one_field_merge(window):
    document, stack = window.document, window.document.undo_stack
    for value in (7, 8, 9):
        document.set_params("c1", {"out_channels": value})
    assert stack.count() == 1
    assert stack.undoText() == "Change out_channels of c1"
    document.set_params("c1", {"kernel_size": 3})
    document.set_params("c3", {"kernel_size": 3})
    assert stack.count() == 3, "another field or another block is another step"
    stack.undo()
    stack.undo()
    stack.undo()
    assert window.graph.node("c1").params["out_channels"] == 6


def test_typing_a_field_back_to_its_value_leaves_no_step(window):
    document, stack = window.document, window.document.undo_stack
    document.set_params("c1", {"out_channels": 60})
    document.set_params("c1", {"out_channels": 6})
    assert stack.count() == 0
    assert not document.dirty


def test_refused_edits_push_nothing(window):
    from designer.graph.errors import ConnectError, GraphError, ParamError

    document = window.document
    with pytest.raises(ParamError, match="must be between 1 and 4096, got 0"):
        document.set_params("c1", {"kernel_size": 0})
    with pytest.raises(ConnectError, match="c3 already has an input from s2"):
        document.connect_blocks("input", "c3")
    with pytest.raises(GraphError, match="there is already a block named 'c3'"):
        document.rename("c1", "c3")
    assert document.undo_stack.count() == 0


def test_commands_hold_names_not_items(window):
    command = SetParams(window.graph, "c1", {"out_channels": 5})
    add = AddNode(window.graph, "ReLU", (0.0, 0.0))
    for cmd in (command, add):
        assert not any("Item" in type(v).__name__ for v in vars(cmd).values())
