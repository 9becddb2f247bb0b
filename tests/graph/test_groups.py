"""Groups of blocks: membership follows edits, files keep them, repeat chains copies of a stage."""

from __future__ import annotations

import pytest
import torch

from designer.graph.errors import GraphError, ProjectFileError
from designer.graph.graph import Graph
from designer.graph.project import dumps, loads
from designer.graph.repeat import plan_repeat
from designer.graph.summary import totals
from designer.graph.templates import load_template

LAYER1_1 = ["layer1_1_conv1", "layer1_1_bn1", "layer1_1_relu1", "layer1_1_conv2", "layer1_1_bn2",
            "layer1_1_add", "layer1_1_out"]
BASIC_BLOCK_64_PARAMS = 2 * (64 * 64 * 3 * 3) + 2 * (2 * 64)


def chain() -> Graph:
    graph = Graph()
    graph.add_node("Input", "input", {"shape": [3, 32, 32]})
    previous = "input"
    for name, kind in [("conv", "Conv2d"), ("relu", "ReLU"), ("pool", "MaxPool2d"), ("flat", "Flatten")]:
        graph.add_node(kind, name)
        graph.connect(previous, name)
        previous = name
    return graph


def test_membership_follows_removal_and_rename():
    graph = chain()
    seen: list[str] = []
    graph.events.group_changed.connect(seen.append)
    graph.groups.add("stage", ["conv", "relu"])
    graph.rename("conv", "conv_a")
    assert graph.groups["stage"].members == {"conv_a", "relu"}
    assert graph.groups.of("conv_a") == "stage" and graph.groups.of("conv") is None
    graph.remove_node("relu")
    assert graph.groups["stage"].members == {"conv_a"}
    graph.remove_node("conv_a")
    assert "stage" not in graph.groups  # a group is never empty
    assert seen == ["stage"] * 4
    graph.validate()


def test_refusals_name_the_problem():
    graph = chain()
    graph.groups.add("stage", ["conv", "relu"])
    with pytest.raises(GraphError, match="relu is in group stage but conv of that group is not chosen: "
                                         "choose all of stage or none of it"):
        graph.groups.add("other", ["relu", "pool"])
    with pytest.raises(GraphError, match="already a group named 'stage'"):
        graph.groups.add("stage", ["relu"])
    with pytest.raises(GraphError, match="no block named 'nope'"):
        graph.groups.add("g", ["nope"])
    with pytest.raises(GraphError, match="cannot be empty"):
        graph.groups.add(" ", ["relu"])
    with pytest.raises(GraphError, match="select the blocks"):
        graph.groups.add("g", [])
    assert list(graph.groups) == ["stage"]


def test_groups_survive_save_and_load():
    graph = chain()
    graph.groups.add("features", ["conv", "relu", "pool"], collapsed=True)
    text = dumps(graph)
    again = loads(text)
    assert again.groups["features"].members == {"conv", "relu", "pool"}
    assert again.groups["features"].collapsed
    assert '"members": ["conv", "relu", "pool"]' in text  # in network order, for readable diffs
    assert '"groups"' not in dumps(chain())  # files without groups are as before


@pytest.mark.parametrize(("groups", "message"), [
    ('[{"name": "g", "members": ["conv", "ghost"]}]', "groups\\[0\\] \"g\": there is no block named 'ghost'"),
    ('[{"name": "g", "members": ["conv", "relu"]}, {"name": "h", "members": ["relu", "pool"]}]',
     "groups\\[1\\] \"h\": relu is in group g but conv of that group is not chosen"),
    ('[{"name": "g", "members": ["conv"], "parent": "h"}, {"name": "h", "members": ["conv"]}]',
     "groups\\[0\\] \"g\": parent \"h\" is not a group written before it"),
    ('[{"name": "g", "members": ["conv"]}, {"name": "h", "members": ["conv", "relu"], "parent": "g"}]',
     "groups\\[1\\] \"h\": relu is not in group g"),
    ('[{"name": "g", "members": ["conv"], "kind": 3}]', "kind: expected a class name"),
    ('[{"members": ["conv"]}]', 'groups\\[0\\]: "name": missing'),
    ('[{"name": "g", "members": "conv"}]', "members: expected a list of block names"),
    ('{"g": 1}', '"groups": expected a list'),
])
def test_bad_groups_in_a_file_are_named(groups, message):
    text = dumps(chain()).replace('"training"', f'"groups": {groups},\n  "training"')
    with pytest.raises(ProjectFileError, match=message):
        loads(text)


def test_repeating_a_resnet_basic_block_adds_two_more():
    graph = load_template("resnet18")
    before = totals(graph)["params"]
    graph.groups.add("layer1_1", LAYER1_1)
    plan = plan_repeat(graph, "layer1_1", 3)
    apply(graph, plan)
    graph.validate()
    assert totals(graph)["params"] == before + 2 * BASIC_BLOCK_64_PARAMS
    assert set(graph.groups) == {"layer1_1", "layer1_1_2", "layer1_1_3"}
    # each copy reads the copy before, on both paths; the last feeds what layer1_1 fed
    assert graph.sources("layer1_1_conv1_2") == ("layer1_1_out",)
    assert graph.sources("layer1_1_add_2") == ("layer1_1_bn2_2", "layer1_1_out")
    assert graph.sources("layer1_1_add_3") == ("layer1_1_bn2_3", "layer1_1_out_2")
    assert graph.sources("layer2_0_conv1") == ("layer1_1_out_3",)
    assert graph.result("layer1_1_out_3").shape == (64, 56, 56)
    out = graph.to_torch()(torch.zeros(1, 3, 224, 224))
    assert out.shape == (1, 1000)


def test_repeat_shifts_what_follows_to_make_room():
    graph = chain()
    graph.groups.add("stage", ["conv", "relu"])
    old = graph.node("pool").position
    plan = plan_repeat(graph, "stage", 2)
    assert set(plan.moves) == {"pool", "flat"}
    apply(graph, plan)
    assert graph.node("pool").position[0] > old[0] or graph.node("pool").position[1] > old[1]
    assert graph.sources("pool") == ("relu_2",)


@pytest.mark.parametrize(("members", "copies", "message"), [
    (["input", "conv"], 2, "nothing outside it feeds it"),
    (["conv", "relu"], 1, "between 2 and 64"),
    (["conv", "relu"], 65, "between 2 and 64"),
])
def test_repeat_refusals(members, copies, message):
    graph = chain()
    graph.groups.add("stage", members)
    with pytest.raises(GraphError, match=message):
        plan_repeat(graph, "stage", copies)


def test_repeat_refuses_a_group_with_several_inputs():
    graph = load_template("inception")
    merge = next(n for n in graph.topological_order() if graph.node(n).type == "Concat")
    branches = sorted({e.source for e in graph.in_edges(merge)})
    graph.groups.add("branches", branches)
    with pytest.raises(GraphError, match=rf"it reads from {len(branches)} blocks outside it"):
        plan_repeat(graph, "branches", 2)


def test_repeat_refuses_a_group_with_several_outputs():
    graph = chain()
    graph.add_node("ReLU", "side")
    graph.connect("conv", "side")  # conv's output leaves the group as well as relu's
    graph.groups.add("stage", ["conv", "relu"])
    with pytest.raises(GraphError, match=r"its output comes from 2 blocks \(conv, relu\)"):
        plan_repeat(graph, "stage", 2)


def apply(graph: Graph, plan) -> None:
    """What the RepeatGroup command does, without Qt (the UI tests drive the command itself)."""
    with graph.deferred_inference():
        for edge in plan.remove_edges:
            graph.disconnect(edge)
        for node in plan.nodes:
            graph.add_node(node.type, node.name, node.params, node.position)
        for edge in plan.add_edges:
            graph.restore_edge(edge)
        for name, members in plan.groups:
            graph.groups.add(name, members, plan.collapsed)
        for name, position in plan.moves.items():
            graph.move(name, position)


def test_groups_nest_as_modules_do():
    graph = chain()
    graph.groups.add("block", ["conv", "relu"])
    graph.groups.add("stage", ["conv", "relu", "pool"], kind="Stage")
    assert graph.groups["block"].parent == "stage" and graph.groups["stage"].parent is None
    assert graph.groups.of("conv") == "block" and graph.groups.of("pool") == "stage"
    assert graph.groups.path("relu") == ["stage", "block"]
    assert graph.groups.children("stage") == ["block"] and graph.groups.children(None) == ["stage"]
    assert graph.groups.direct_members("stage") == {"pool"}
    graph.groups.add("inner", ["conv"])  # inside the smallest group holding more than it
    assert graph.groups.path("conv") == ["stage", "block", "inner"]
    graph.validate()
    graph.groups.rename("block", "layer")
    assert graph.groups["inner"].parent == "layer" and graph.groups.path("conv") == ["stage", "layer", "inner"]
    graph.groups.remove("layer")  # what it held goes to the group around it
    assert graph.groups["inner"].parent == "stage" and graph.groups.of("relu") == "stage"
    graph.validate()


def test_a_group_of_exactly_another_groups_blocks_goes_around_it():
    graph = chain()
    graph.groups.add("inner", ["conv", "relu"])
    graph.groups.add("outer", ["conv", "relu"])
    assert graph.groups["inner"].parent == "outer"
    graph.groups.remove("outer")
    graph.groups.add("outer", ["conv", "relu"], parent=None)  # explicit: the same as before
    assert graph.groups["inner"].parent == "outer"
    graph.groups.remove("inner")
    graph.groups.add("inner", ["conv", "relu"], parent="outer")  # explicit: inside, not around
    assert graph.groups.path("conv") == ["outer", "inner"]
    with pytest.raises(GraphError, match="the blocks are all in group outer: put the new group inside it"):
        graph.groups.add("loose", ["conv"], parent=None)
    graph.validate()


def test_removing_blocks_empties_nested_groups_and_put_back_restores_them():
    graph = chain()
    graph.groups.add("block", ["conv"], collapsed=True, kind="Block")
    graph.groups.add("stage", ["conv", "relu"])
    lineage = graph.groups.lineage_of("conv")
    graph.remove_node("conv")
    assert "block" not in graph.groups and graph.groups["stage"].members == {"relu"}
    graph.add_node("Conv2d", "conv")
    graph.groups.put_back("conv", lineage)
    assert graph.groups["block"] == lineage[1] and graph.groups["stage"].members == {"conv", "relu"}
    graph.remove_node("conv")
    graph.remove_node("relu")
    assert len(graph.groups) == 0
    graph.validate()


def test_nested_groups_survive_save_and_load_in_a_version_2_file():
    graph = chain()
    graph.groups.add("inner", ["conv", "relu"], kind="ConvReLU")
    graph.groups.add("outer", ["conv", "relu"], collapsed=True)
    graph.groups.add("tail", ["flat"])
    text = dumps(graph)
    assert '"version": 2' in text and '"parent": "outer"' in text and '"kind": "ConvReLU"' in text
    again = loads(text)
    assert [again.groups[g] for g in again.groups] == [graph.groups[g] for g in ["outer", "tail", "inner"]]
    graph.groups.remove("outer")
    assert '"version": 2' in dumps(graph)  # a kind still needs version 2
    graph.groups.remove("inner")
    assert '"version": 1' in dumps(graph)  # flat groups: a file the previous Designer reads


def test_pasting_nested_groups_keeps_the_nesting():
    from designer.graph.fragment import fragment_text, plan_paste

    graph = chain()
    graph.groups.add("inner", ["conv", "relu"], kind="ConvReLU")
    graph.groups.add("outer", ["conv", "relu"])
    graph.groups.add("stage", ["conv", "relu", "pool"])
    paste = plan_paste(graph, fragment_text(graph, ["conv", "relu"]))
    assert paste is not None
    for node in paste.nodes:
        graph.add_node(node.type, node.name, node.params, node.position)
    for group in paste.groups:
        graph.groups.add(group.name, group.members, group.collapsed, kind=group.kind)
    copies = {graph.groups[g].kind or g for g in graph.groups} - {"outer", "stage", "ConvReLU"}
    assert copies == {"outer2"}  # stage stayed behind: the copy of outer sits at the top level
    assert graph.groups.path("conv2") == ["outer2", "inner2"]
    assert graph.groups["inner2"].kind == "ConvReLU"
    graph.validate()
