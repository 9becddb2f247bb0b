"""Fragments: the clipboard's project JSON, read back with a project file's checks."""

import json

import pytest

import designer
from designer.graph.errors import ProjectFileError
from designer.graph.fragment import fragment_text, plan_paste


def test_a_fragment_pastes_under_free_names_with_its_inner_edges():
    graph = designer.load("resnet18")
    text = fragment_text(graph, ["layer1_0_conv1", "layer1_0_bn1", "layer1_0_relu1"])
    paste = plan_paste(graph, text, offset=(10, 0))
    assert [n.type for n in paste.nodes] == ["Conv2d", "BatchNorm2d", "ReLU"]
    assert all(n.name not in graph for n in paste.nodes)
    assert len(paste.edges) == 2 and paste.edges[0].source == paste.nodes[0].name
    x, y = graph.node("layer1_0_conv1").position
    assert paste.nodes[0].position == (x + 10, y)


def test_into_an_empty_graph_the_names_stay():
    text = fragment_text(designer.load("lenet5"), ["c1", "tanh1"])
    paste = plan_paste(designer.Graph(), text)
    assert [n.name for n in paste.nodes] == ["c1", "tanh1"]


@pytest.mark.parametrize("text", ["", "plain words", "[1, 2]", '{"format": "other"}', "{" * 5000])
def test_what_is_no_fragment_gives_none(text):
    assert plan_paste(designer.Graph(), text) is None


def test_a_fragment_with_a_loop_is_refused_like_a_file():
    loop = {"format": "designer-project", "version": 1,
            "nodes": [{"name": "a", "type": "ReLU"}, {"name": "b", "type": "ReLU"}],
            "edges": [{"source": "a", "target": "b"}, {"source": "b", "target": "a"}]}
    with pytest.raises(ProjectFileError, match="loop"):
        plan_paste(designer.Graph(), json.dumps(loop))


def test_groups_wholly_among_the_copied_blocks_come_along_under_free_names():
    graph = designer.load("lenet5")
    graph.groups.add("stage", ["c1", "tanh1"], collapsed=True)
    graph.groups.add("head", ["f6", "tanh4"])
    text = fragment_text(graph, ["c1", "tanh1", "s2", "f6"])  # "head" is only half copied
    assert [g["name"] for g in json.loads(text)["groups"]] == ["stage"]
    paste = plan_paste(graph, text)
    (group,) = paste.groups
    assert group.name == "stage2" and group.collapsed
    assert group.members == {n.name for n in paste.nodes if n.type in ("Conv2d", "Tanh")}


def test_a_fragment_without_groups_has_no_groups_key():
    assert "groups" not in json.loads(fragment_text(designer.load("lenet5"), ["c1", "tanh1"]))
