"""This area's blocks in a project file: saved as plain JSON, loaded back the same, bad values named."""

from __future__ import annotations

import json

import pytest

from designer.graph import Graph
from designer.graph.errors import ProjectFileError
from designer.graph.project import dumps, loads


def decoder() -> Graph:
    graph = Graph()
    graph.name = "decoder"
    graph.add_node("Input", "x", {"shape": [4, 6, 6]})
    graph.add_node("Mean", "squeeze", {"dim": [3, 2], "keepdim": True})
    graph.add_node("Hardsigmoid", "gate")
    graph.add_node("Mul", "scale")
    graph.add_node("ConvTranspose2d", "up1", {"out_channels": 2, "kernel_size": 3, "stride": 2,
                                               "output_padding": [1, 0]})
    graph.add_node("Upsample", "up2", {"size": [20, 9], "mode": "bicubic", "align_corners": True})
    for source, target, port in [("x", "squeeze", 0), ("squeeze", "gate", 0), ("x", "scale", 0),
                                 ("gate", "scale", 1), ("scale", "up1", 0), ("up1", "up2", 0)]:
        graph.connect(source, target, port)
    assert graph.errors() == []
    return graph


def test_the_blocks_save_as_plain_json_and_load_back_the_same() -> None:
    graph = decoder()
    text = dumps(graph)
    nodes = {node["name"]: node for node in json.loads(text)["nodes"]}
    assert nodes["squeeze"]["params"] == {"keepdim": True}  # dim [2, 3] is the default: left out
    assert nodes["up2"]["params"] == {"size": [20, 9], "mode": "bicubic", "align_corners": True}
    again = loads(text)
    for name in graph.topological_order():
        assert again.node(name).params == graph.node(name).params
        assert again.result(name).shape == graph.result(name).shape
    assert again.result("up1").shape == (2, 14, 13)


@pytest.mark.parametrize(("node", "params", "fragment"), [
    ("squeeze", {"dim": [0, 2]}, "dim: axis 0 is the batch, which a block never averages"),
    ("squeeze", {"dim": [2, 9]}, "dim: every number must be between 1 and 7, got 9"),
    ("up2", {"scale_factor": 0}, "scale_factor: must be in (0, 4096], got 0"),
    ("up2", {"mode": "area"}, "mode: must be one of 'nearest', 'nearest-exact', 'bilinear', 'bicubic'"),
])
def test_bad_values_in_a_file_are_named(node: str, params: dict[str, object], fragment: str) -> None:
    data = json.loads(dumps(decoder()))
    entry = next(n for n in data["nodes"] if n["name"] == node)
    entry["params"] = params
    with pytest.raises(ProjectFileError) as error:
        loads(json.dumps(data))
    assert fragment in str(error.value) and node in str(error.value)
