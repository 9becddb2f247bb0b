"""Project files: round trips, diffable text, atomic saves, and every kind of bad input.

Loading must turn anything at all into a Graph that passes ``validate()`` or
into one :class:`ProjectFileError` that says what is wrong and where.
"""

from __future__ import annotations

import copy
import difflib
import json
import os
import re
import stat
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import designer
from designer.graph import Edge, Graph, project, summary
from designer.graph.errors import ProjectFileError, RankMismatchError
from designer.graph.registry import REGISTRY
from designer.graph.templates import template_names, template_path

TEMPLATES = template_names()


def snapshot(graph: Graph) -> dict[str, Any]:
    """Everything a save must keep, and what inference makes of it."""
    return {
        "name": graph.name,
        "description": graph.description,
        "nodes": [(n.name, n.type, dict(n.params), n.position) for n in graph.nodes.values()],
        "edges": graph.edges,
        "sources": {name: graph.sources(name) for name in graph.nodes},
        "meta": graph.meta,
        "results": {name: (r.shape, r.status, r.error) for name, r in graph.results.items()},
        "errors": graph.errors(),
    }


def round_trip(graph: Graph, path: Path) -> Graph:
    project.save(graph, path)
    loaded = project.load(path)
    loaded.validate()
    return loaded


def hand_built() -> Graph:
    """Two branches joined by a Concat whose ports are wired out of order, plus odd names."""
    g = Graph()
    g.name, g.description = "hand built", 'quotes " and unicode: α×β ⌊x⌋'
    g.add_node("Input", "in", {"shape": [3, 32, 32]}, (0, 0))
    g.add_node("Conv2d", "conv α", {"out_channels": 16, "kernel_size": [3, 5], "padding": [1, 2],
                                   "bias": False}, (120.5, -40.25))
    g.add_node("Conv2d", 'conv "b"', {"out_channels": 8, "kernel_size": 1, "padding": "same"}, (120, 40))
    g.add_node("BatchNorm2d", "bn", {"eps": 1e-3, "momentum": 0.01}, (240, 40))
    g.add_node("LeakyReLU", "lrelu", {"negative_slope": 0.2}, (240, -40))
    g.add_node("Concat", "cat", None, (360, 0))
    g.add_node("MaxPool2d", "pool", {"kernel_size": 2}, (480, 0))
    g.add_node("Add", "add", None, (600, 0))
    g.add_node("Flatten", "flat", None, (720, 0))
    g.add_node("Dropout", "drop", {"p": 0.25}, (840, 0))
    g.add_node("Linear", "fc", {"out_features": 7, "bias": False}, (960, 0))
    g.connect("in", "conv α")
    g.connect("in", 'conv "b"')
    g.connect('conv "b"', "bn")
    g.connect("conv α", "lrelu")
    # Port 1 first: the channel order is bn's 8 then lrelu's 16, not the order of wiring.
    g.connect("lrelu", "cat", 1)
    g.connect("bn", "cat", 0)
    g.connect("cat", "pool")
    for _ in range(3):  # the same source three times into one Add
        g.connect("pool", "add")
    g.connect("add", "flat")
    g.connect("flat", "drop")
    g.connect("drop", "fc")
    g.set_meta("training", {"epochs": 12, "optimizer": {"name": "sgd", "lr": 0.01, "nesterov": True},
                            "schedule": [[5, 0.1], [10, 0.01]], "note": None})
    g.set_meta("dataset", {"name": "CIFAR-10", "path": "data/cifar", "split": 0.9})
    return g


# -- round trips ---------------------------------------------------------------


@pytest.mark.parametrize("name", TEMPLATES)
def test_every_template_round_trips(name, tmp_path):
    graph = designer.load(name)
    graph.set_meta("training", {"epochs": 3, "batch_size": 128, "lr": 0.05})
    graph.set_meta("dataset", {"name": "imagenet", "augment": ["flip", "crop"]})
    loaded = round_trip(graph, tmp_path / f"{name}.json")
    assert snapshot(loaded) == snapshot(graph)
    assert loaded.errors() == []
    # Saving what was loaded changes nothing: a save is a fixed point.
    assert project.dumps(loaded) == project.dumps(graph)


def test_templates_on_disk_are_what_save_writes():
    for name in TEMPLATES:
        text = template_path(name).read_text(encoding="utf-8")
        assert project.dumps(project.loads(text)) == text, name


def test_hand_built_graph_round_trips(tmp_path):
    graph = hand_built()
    graph.validate()
    assert graph.errors() == []
    assert graph.sources("cat") == ("bn", "lrelu")
    assert graph.result("cat").shape == (24, 32, 32)
    assert graph.result("cat").formula == "24 = 8 + 16"
    loaded = round_trip(graph, tmp_path / "hand.json")
    assert snapshot(loaded) == snapshot(graph)
    assert loaded.sources("cat") == ("bn", "lrelu")
    assert loaded.sources("add") == ("pool", "pool", "pool")
    assert loaded.node("conv α").params["kernel_size"] == (3, 5)
    assert loaded.node("conv α").position == (120.5, -40.25)
    assert loaded.meta["training"]["optimizer"] == {"name": "sgd", "lr": 0.01, "nesterov": True}
    assert loaded.meta["dataset"]["name"] == "CIFAR-10"


def test_inception_concat_port_order_survives(tmp_path):
    graph = designer.load("inception")
    loaded = round_trip(graph, tmp_path / "inception.json")
    concats = [n.name for n in graph.nodes.values() if n.type == "Concat"]
    assert concats
    for name in concats:
        assert loaded.sources(name) == graph.sources(name)
        assert loaded.result(name).formula == graph.result(name).formula


def test_explicit_ports_with_gaps_round_trip(tmp_path):
    g = Graph()
    g.add_node("Input", "in", {"shape": [4, 8, 8]})
    g.add_node("ReLU", "a")
    g.add_node("Sigmoid", "b")
    g.add_node("Concat", "cat")
    g.connect("in", "a")
    g.connect("in", "b")
    g.connect("b", "cat", 5)
    g.connect("a", "cat", 2)
    loaded = round_trip(g, tmp_path / "gaps.json")
    assert loaded.in_edges("cat") == [Edge("a", "cat", 2), Edge("b", "cat", 5)]


def test_load_names_an_unnamed_project_after_its_file(tmp_path):
    g = Graph()
    g.add_node("Input", "in")
    project.save(g, tmp_path / "my-net.json")
    assert project.load(tmp_path / "my-net.json").name == "my-net"
    assert project.loads(project.dumps(g)).name == "network"


# -- the text --------------------------------------------------------------------


def test_saved_text_has_one_node_and_one_edge_per_line():
    graph = hand_built()
    text = project.dumps(graph)
    lines = text.splitlines()
    for name in graph.nodes:
        quoted = json.dumps(name, ensure_ascii=False)
        assert sum(line.lstrip().startswith(f'{{"name": {quoted}') for line in lines) == 1, name
    node_lines = [line for line in lines if line.startswith('    {"name": ')]
    assert len(node_lines) == len(graph)
    edge_lines = [line for line in lines if line.startswith('    {"source": ')]
    assert len(edge_lines) == len(graph.edges)
    for line in node_lines + edge_lines:
        json.loads(line.strip().rstrip(","))
    assert "α×β" in text  # readable, not \u-escaped
    assert json.loads(text)["format"] == "designer-project"
    assert json.loads(text)["version"] == 1


def test_saved_text_omits_default_params():
    g = Graph()
    g.add_node("Input", "in", {"shape": [3, 32, 32]})
    g.add_node("Conv2d", "plain")
    g.add_node("Conv2d", "strided", {"stride": 2, "out_channels": 64, "bias": True})
    g.add_node("Dropout", "drop", {"p": 0.5})
    nodes = {n["name"]: n for n in json.loads(project.dumps(g))["nodes"]}
    assert nodes["plain"]["params"] == {}
    assert nodes["strided"]["params"] == {"stride": 2}  # 64 and bias=True are the defaults
    assert nodes["drop"]["params"] == {}
    assert nodes["in"]["params"] == {"shape": [3, 32, 32]}  # the input's shape is always written


def test_a_one_parameter_edit_is_a_one_line_diff():
    graph = designer.load("alexnet")
    before = project.dumps(graph).splitlines()
    graph.set_params("conv3", {"out_channels": 512})
    after = project.dumps(graph).splitlines()
    changed = [line for line in difflib.unified_diff(before, after, lineterm="", n=0)
               if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert len(changed) == 2
    assert '"conv3"' in changed[0] and '"out_channels": 384' in changed[0]
    assert '"conv3"' in changed[1] and '"out_channels": 512' in changed[1]


# -- atomic save -------------------------------------------------------------------


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("crash_at", ["write", "fsync", "replace", "interrupt"])
def test_a_crash_mid_save_keeps_the_old_file_and_leaves_no_temp(tmp_path, monkeypatch, crash_at):
    path = tmp_path / "net.json"
    project.save(designer.load("lenet5"), path)
    old = path.read_bytes()
    bigger = designer.load("vgg16")

    def boom(*args, **kwargs):
        if crash_at == "interrupt":
            raise KeyboardInterrupt
        raise OSError(28, "No space left on device")

    if crash_at == "write":
        real_fdopen = os.fdopen

        def fdopen(fd, *args, **kwargs):
            handle = real_fdopen(fd, *args, **kwargs)

            class HalfWriter:
                def __enter__(self):
                    return self

                def __exit__(self, *exc):
                    handle.close()

                def write(self, data):
                    handle.write(data[: len(data) // 2])
                    handle.flush()
                    boom()

                def __getattr__(self, name):
                    return getattr(handle, name)

            return HalfWriter()

        monkeypatch.setattr(os, "fdopen", fdopen)
    elif crash_at == "fsync":
        monkeypatch.setattr(os, "fsync", boom)
    else:
        monkeypatch.setattr(os, "replace", boom)

    with pytest.raises(KeyboardInterrupt if crash_at == "interrupt" else OSError):
        project.save(bigger, path)
    assert path.read_bytes() == old
    assert _leftovers(tmp_path) == ["net.json"]
    monkeypatch.undo()
    assert project.load(path).name == "lenet5"


def test_save_replaces_the_file_and_leaves_nothing_else(tmp_path):
    path = tmp_path / "net.json"
    project.save(designer.load("lenet5"), path)
    project.save(designer.load("alexnet"), path)
    assert _leftovers(tmp_path) == ["net.json"]
    assert project.load(path).name == "alexnet"


def test_save_into_a_missing_folder_fails_cleanly(tmp_path):
    with pytest.raises(OSError):
        project.save(designer.load("lenet5"), tmp_path / "nope" / "net.json")
    assert _leftovers(tmp_path) == []


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_save_keeps_permissions_and_new_files_are_not_private(tmp_path):
    umask = os.umask(0)
    os.umask(umask)
    new = tmp_path / "new.json"
    project.save(designer.load("lenet5"), new)
    assert stat.S_IMODE(new.stat().st_mode) == 0o666 & ~umask
    shared = tmp_path / "shared.json"
    project.save(designer.load("lenet5"), shared)
    shared.chmod(0o640)
    project.save(designer.load("alexnet"), shared)
    assert stat.S_IMODE(shared.stat().st_mode) == 0o640


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges")
def test_save_through_a_link_updates_the_file_it_points_at(tmp_path):
    real = tmp_path / "real.json"
    project.save(designer.load("lenet5"), real)
    link = tmp_path / "link.json"
    link.symlink_to(real)
    project.save(designer.load("alexnet"), link)
    assert link.is_symlink()
    assert project.load(real).name == "alexnet"
    assert _leftovers(tmp_path) == ["link.json", "real.json"]


# -- graphs with errors load as they were saved ------------------------------------------


def broken_graph() -> Graph:
    g = Graph()
    g.name = "broken"
    g.add_node("Input", "in", {"shape": [3, 4, 4]})
    g.add_node("Conv2d", "conv", {"out_channels": 8, "kernel_size": 3})
    g.add_node("Linear", "fc", {"out_features": 10})
    g.add_node("BatchNorm1d", "bn")
    g.add_node("Conv2d", "big", {"kernel_size": 7})
    g.add_node("ReLU", "lonely")
    # Allowed while conv has no shape yet; wrong once the input reaches it.
    g.connect("conv", "fc")
    g.connect("conv", "bn")
    g.connect("in", "conv")
    g.connect("in", "big")
    return g


def test_a_graph_with_shape_errors_loads_with_the_same_errors(tmp_path):
    graph = broken_graph()
    errors = dict(graph.errors())
    assert "Linear needs a flat input" in errors["fc"]
    assert "BatchNorm1d needs a flat or a T×D input" in errors["bn"]
    assert "kernel 7 is larger than the padded input 4" in errors["big"]
    assert "no input connected" in errors["lonely"]
    # connect itself would refuse the BatchNorm1d after the Conv2d now...
    fresh = Graph()
    fresh.add_node("Input", "in", {"shape": [3, 4, 4]})
    fresh.add_node("Conv2d", "conv")
    fresh.add_node("BatchNorm1d", "bn")
    fresh.connect("in", "conv")
    with pytest.raises(RankMismatchError, match="use BatchNorm2d on images"):
        fresh.connect("conv", "bn")
    # ...but the saved file holds that edge and must load as it was.
    loaded = round_trip(graph, tmp_path / "broken.json")
    assert Edge("conv", "bn", 0) in loaded.edges
    assert loaded.errors() == graph.errors()
    assert snapshot(loaded) == snapshot(graph)


# -- bad input ---------------------------------------------------------------------------


def doc(nodes=None, edges=None, **extra) -> dict[str, Any]:
    if nodes is None:
        nodes = [
            {"name": "in", "type": "Input", "params": {"shape": [3, 32, 32]}, "position": [0, 0]},
            {"name": "conv1", "type": "Conv2d", "params": {"kernel_size": 3}, "position": [100, 0]},
            {"name": "relu", "type": "ReLU", "params": {}, "position": [200, 0]},
        ]
    if edges is None:
        edges = [{"source": "in", "target": "conv1"}, {"source": "conv1", "target": "relu"}]
    return {"format": "designer-project", "version": 1, "name": "t", "description": "",
            "nodes": nodes, "edges": edges, "training": {}, "dataset": {}, **extra}


def with_node(i: int, **changes: Any) -> dict[str, Any]:
    d = doc()
    d["nodes"][i].update(changes)
    return d


def load_error(text: str | bytes | dict[str, Any]) -> str:
    if isinstance(text, dict):
        text = json.dumps(text)
    with pytest.raises(ProjectFileError) as info:
        project.loads(text, source="net.json")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("net.json: ")
    return message


def test_the_valid_example_loads():
    graph = project.loads(json.dumps(doc()))
    graph.validate()
    assert graph.errors() == []


def cycle_doc() -> dict[str, Any]:
    nodes = [{"name": "in", "type": "Input"}, {"name": "add", "type": "Add"},
             {"name": "relu", "type": "ReLU"}, {"name": "out", "type": "Sigmoid"}]
    edges = [{"source": "in", "target": "add"}, {"source": "relu", "target": "add"},
             {"source": "add", "target": "relu"}, {"source": "relu", "target": "out"}]
    return doc(nodes, edges)


BAD = {
    "not json": ("{nodes: [}", "not valid JSON: Expecting property name enclosed in double quotes "
                               "at line 1, column 2"),
    "truncated": (json.dumps(doc())[:-30], "not valid JSON"),
    "empty": ("", "the file is empty"),
    "blank": ("  \n\t ", "the file is empty"),
    "not utf-8": (b'{"format": "designer-project", "name": "caf\xe9"}',
                  "not a text file (byte 43 is not UTF-8)"),
    "utf-16": ('{"format": 1}'.encode("utf-16"), "not a text file"),
    "top level list": ("[1, 2]", "the file: expected a JSON object, got a list"),
    "top level string": ('"designer-project"', "the file: expected a JSON object, got text"),
    "wrong format": (dict(doc(), format="keras-model"),
                     "not a Designer project (\"format\" is 'keras-model', expected 'designer-project')"),
    "no format": ({"version": 1, "nodes": []}, 'not a Designer project ("format" is None'),
    "newer version": (dict(doc(), version=3),
                      "version 3 was written by a newer Designer; this one reads versions up to 2"),
    "version zero": (dict(doc(), version=0), "unknown version 0"),
    "version text": (dict(doc(), version="1"), "\"version\" must be a whole number, got '1'"),
    "version float": (dict(doc(), version=1.0), '"version" must be a whole number, got 1.0'),
    "version bool": (dict(doc(), version=True), '"version" must be a whole number, got True'),
    "no nodes": ({"format": "designer-project", "version": 1}, '"nodes": missing; expected a list'),
    "nodes object": (doc(nodes={"in": {"type": "Input"}}), '"nodes": expected a list, got an object'),
    "edges object": (doc(edges={}), '"edges": expected a list, got an object'),
    "name not text": (dict(doc(), name=5), '"name": expected text, got a number'),
    "training list": (dict(doc(), training=[]), '"training": expected an object, got a list'),
    "node not object": (doc(nodes=[["in", "Input"]]), "nodes[0]: expected an object, got a list"),
    "node name missing": (doc(nodes=[{"type": "Input"}]), 'nodes[0]: "name" must be text, got null'),
    "node name empty": (doc(nodes=[{"name": " ", "type": "Input"}]), "a block name cannot be empty"),
    "node name huge": (doc(nodes=[{"name": "n" * 5000, "type": "Input"}]), "at most 200 characters"),
    "lone surrogate": (doc(nodes=[{"name": "in\ud800", "type": "Input"}]),
                       "nodes[0].name: text with an invalid character (\\ud800 at position 2)"),
    "raw lone surrogate": (json.dumps(doc(), ensure_ascii=False).replace('"conv1"', '"conv\ud801"'),
                           "nodes[1].name: text with an invalid character (\\ud801 at position 4)"),
    "surrogate in a key": (json.dumps(dict(doc(), training={"\udfff": 1})),
                           "training.\\udfff: text with an invalid character"),
    "unknown type": (with_node(1, type="Conv3d"), "nodes[1] \"conv1\": unknown block type 'Conv3d'; "
                                                   "did you mean 'Conv2d'?"),
    "wrong case type": (with_node(2, type="relu"), "unknown block type 'relu'; did you mean 'ReLU'?"),
    "type not text": (with_node(2, type=["ReLU"]), "unknown block type ['ReLU']"),
    "python class as type": (with_node(2, type="__import__('os').system('true')"), "unknown block type"),
    "params list": (with_node(1, params=[3]), 'nodes[1] "conv1": params: expected an object, got a list'),
    "param wrong type": (with_node(1, params={"kernel_size": "big"}),
                         'nodes[1] "conv1": kernel_size: expected a whole number or [height, width]'),
    "param bool for int": (with_node(1, params={"out_channels": True}),
                           "out_channels: expected a whole number, got True"),
    "param float for int": (with_node(1, params={"out_channels": 2.5}),
                            "out_channels: expected a whole number, got 2.5"),
    "param out of range": (with_node(1, params={"kernel_size": 0}),
                           'nodes[1] "conv1": kernel_size: must be between 1 and 4096, got 0'),
    "pair out of range": (with_node(1, params={"stride": [1, 5000]}), "stride: must be between 1 and 4096"),
    "choice": (with_node(1, params={"padding": "full"}), "padding: expected"),
    "dropout above 1": (doc(nodes=[{"name": "d", "type": "Dropout", "params": {"p": 1.5}}], edges=[]),
                        'nodes[0] "d": p: must be in [0, 1], got 1.5'),
    "unknown param": (with_node(1, params={"kernal_size": 3}),
                      "nodes[1] \"conv1\": kernal_size: Conv2d has no parameter 'kernal_size' (it has: "),
    "param key with a newline": (with_node(1, params={"a\nb": 1}),
                                 "nodes[1] \"conv1\": a\\nb: Conv2d has no parameter 'a\\nb'"),
    "position": (with_node(1, position=[1, "2"]), 'nodes[1] "conv1": position must be [x, y] with two numbers'),
    "position far away": (with_node(1, position=[1e12, 0]), "position must be [x, y]"),
    "duplicate names": (with_node(2, name="conv1"),
                        "nodes[2] \"conv1\": there is already a block named 'conv1'"),
    "edge not object": (doc(edges=[["in", "conv1"]]), "edges[0]: expected an object, got a list"),
    "edge source missing": (doc(edges=[{"target": "conv1"}]),
                            'edges[0]: "source" must be a block name, got null'),
    "dangling target": (doc(edges=[{"source": "in", "target": "ghost"}]),
                        "edges[0]: target 'ghost' is not a block in this file"),
    "dangling source": (doc(edges=[{"source": "ghost", "target": "conv1"}]),
                        "edges[0]: source 'ghost' is not a block in this file"),
    "edge into input": (doc(edges=[{"source": "conv1", "target": "in"}]), "in (Input) has no input port 0"),
    "port negative": (doc(edges=[{"source": "in", "target": "conv1", "port": -1}]),
                      'edges[0]: "port" must be a whole number ≥ 0, got -1'),
    "port bool": (doc(edges=[{"source": "in", "target": "conv1", "port": True}]),
                  '"port" must be a whole number'),
    "port beyond single input": (doc(edges=[{"source": "in", "target": "conv1", "port": 1}]),
                                 "edges[0] in → conv1: conv1 (Conv2d) has no input port 1"),
    "second input to a conv": (
        doc(edges=[{"source": "in", "target": "conv1"}, {"source": "relu", "target": "conv1"}]),
        "edges[1]: 'conv1' takes one input, and edges[0] already connects 'in' to it"),
    "port taken twice": (
        doc([{"name": "in", "type": "Input"}, {"name": "cat", "type": "Concat"}],
            [{"source": "in", "target": "cat", "port": 0}, {"source": "in", "target": "cat", "port": 0}]),
        "edges[1]: input 0 of 'cat' is taken twice: edges[0] already connects 'in' to it"),
    "self loop": (doc(edges=[{"source": "relu", "target": "relu"}]), "the edges form a loop: relu → relu"),
    "huge input": (doc(nodes=[{"name": "in", "type": "Input", "params": {"shape": [3, 100000, 100000]}}],
                       edges=[]),
                   'nodes[0] "in": shape: 30,000,000,000 elements per sample is more than 2,147,483,648'),
    "huge dimension": (doc(nodes=[{"name": "in", "type": "Input", "params": {"shape": [3, 10**15, 1]}}],
                           edges=[]),
                       "every size must be a whole number from 1 to 1048576"),
    "huge channels": (with_node(1, params={"out_channels": 10**12}), "out_channels: must be between 1 and"),
    "too many nodes": (doc(nodes=[{}] * 100_001, edges=[]), "100,001 nodes and 0 edges is more than this "
                                                              "version handles (100,000 and 400,000)"),
    "NaN": (json.dumps(doc()).replace('"kernel_size": 3', '"kernel_size": NaN'),
            "not valid JSON: NaN is not a number JSON allows"),
    "Infinity": (json.dumps(doc()).replace('"kernel_size": 3', '"kernel_size": Infinity'),
                 "Infinity is not a number JSON allows"),
    "-Infinity": (json.dumps(dict(doc(), training={"lr": 1})).replace('"lr": 1', '"lr": -Infinity'),
                  "-Infinity is not a number JSON allows"),
    "overflowing float": (json.dumps(doc()).replace('"position": [100, 0]', '"position": [1e999, 0]'),
                          "not valid JSON: the number 1e999 is too large"),
    "enormous int": (json.dumps(doc()).replace('"kernel_size": 3', '"kernel_size": ' + "9" * 5000),
                     "not valid JSON: the number 999999999999999999999... is too large"),
    "enormous float param": (json.dumps(doc(nodes=[{"name": "d", "type": "Dropout", "params": {"p": 0}}],
                                            edges=[])).replace('"p": 0', '"p": ' + "1" * 400),
                             "is too large"),
    "deeply nested": ("[" * 100_000 + "]" * 100_000, "not valid JSON: nested too deeply"),
    "deeply nested object": ('{"a":' * 50_000 + "1" + "}" * 50_000, "not valid JSON"),
    "nested in training": (dict(doc(), training={"x": json.loads("[" * 100 + "]" * 100)}),
                           "nested more than 64 levels deep"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_one_project_file_error(case):
    text, fragment = BAD[case]
    assert fragment in load_error(text)


def test_reasonable_nesting_and_real_astral_characters_are_fine():
    d = dict(doc(), training={"deep": json.loads("[" * 50 + "]" * 50)}, description="emoji \U0001f600")
    text = json.dumps(d)  # the emoji is written as a surrogate pair escape
    assert "\\ud83d\\ude00" in text
    graph = project.loads(text)
    assert graph.description == "emoji \U0001f600"
    assert graph.meta["training"]["deep"] == json.loads("[" * 50 + "]" * 50)


def test_a_loop_is_shown_as_a_path():
    message = load_error(cycle_doc())
    loop = message.split("the edges form a loop: ")[1].split(" → ")
    assert loop[0] == loop[-1]
    assert set(loop) == {"add", "relu"}
    # A loop and a later bad edge: still the one error, never networkx's.
    d = cycle_doc()
    d["edges"].append({"source": "ghost", "target": "out"})
    assert "'ghost' is not a block" in load_error(d)


def test_a_long_loop_is_abbreviated():
    n = 50
    nodes = [{"name": "in", "type": "Input"}, {"name": "add", "type": "Add"}]
    nodes += [{"name": f"r{i}", "type": "ReLU"} for i in range(n)]
    edges = [{"source": "in", "target": "add"}, {"source": "add", "target": "r0"}]
    edges += [{"source": f"r{i}", "target": f"r{i + 1}"} for i in range(n - 1)]
    edges.append({"source": f"r{n - 1}", "target": "add"})
    message = load_error(doc(nodes, edges))
    assert "the edges form a loop: " in message and "more ..." in message
    assert len(message) < 300


def test_messages_stay_short_whatever_the_file_holds():
    huge = "x" * 100_000
    for d in (dict(doc(), format=huge), dict(doc(), version=huge), with_node(1, type=huge),
              doc(edges=[{"source": "in", "target": huge}]), with_node(1, params={"padding": huge}),
              with_node(1, params={huge: 1})):
        assert len(load_error(d)) <= 1000


def test_load_reports_the_path(tmp_path):
    path = tmp_path / "bad.json"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ProjectFileError, match=re.escape(f"{path}: not a text file")):
        project.load(path)


def test_load_a_folder(tmp_path):
    with pytest.raises(ProjectFileError, match=re.escape(f"{tmp_path}: is a folder, not a project file")):
        project.load(tmp_path)


def test_load_a_missing_file(tmp_path):
    with pytest.raises(ProjectFileError, match=re.escape(f"{tmp_path / 'nope.json'}: no such file")):
        project.load(tmp_path / "nope.json")
    with pytest.raises(ProjectFileError, match="no such file"):
        designer.load(str(tmp_path / "nope.json"))


def test_load_an_empty_file(tmp_path):
    path = tmp_path / "empty.json"
    path.touch()
    with pytest.raises(ProjectFileError, match="the file is empty"):
        project.load(path)


def test_load_refuses_a_file_too_large(tmp_path, monkeypatch):
    monkeypatch.setattr(project, "MAX_FILE_BYTES", 1000)
    path = tmp_path / "big.json"
    path.write_text(json.dumps(doc(description="x" * 2000)))
    with pytest.raises(ProjectFileError, match="bytes is too large for a project file"):
        project.load(path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes")
def test_load_a_named_pipe_does_not_hang(tmp_path):
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    with pytest.raises(ProjectFileError, match="not a regular file"):
        project.load(fifo)


def test_load_a_path_with_a_nul_byte():
    with pytest.raises(ProjectFileError, match="not a usable file name"):
        project.load("bad\0name.json")


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="POSIX permissions, not root")
def test_load_an_unreadable_file(tmp_path):
    path = tmp_path / "secret.json"
    path.write_text(json.dumps(doc()))
    path.chmod(0)
    try:
        with pytest.raises(ProjectFileError, match="cannot be read: Permission denied"):
            project.load(path)
    finally:
        path.chmod(0o600)


def test_a_byte_order_mark_is_fine():
    graph = project.loads(b"\xef\xbb\xbf" + json.dumps(doc()).encode())
    assert len(graph) == 3


def test_loads_refuses_what_is_not_text():
    with pytest.raises(ProjectFileError, match="expected the file's text, got NoneType"):
        project.loads(None)  # type: ignore[arg-type]


def test_graph_from_dict_handles_numbers_no_file_can_hold():
    d = doc(nodes=[{"name": "d", "type": "Dropout", "params": {"p": 10**400}}], edges=[])
    with pytest.raises(ProjectFileError, match='nodes\\[0\\] "d": params: a number is too large'):
        project.graph_from_dict(d)


def test_nothing_in_the_file_is_executed(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(os, "system", lambda *a: calls.append(a))
    d = doc()
    d["nodes"][2]["type"] = "__import__('os').system('touch pwned')"
    d["name"] = "{__import__('os').system('touch pwned')}"
    d["training"] = {"__class__": "os.system", "!!python/object": "x"}
    with pytest.raises(ProjectFileError):
        project.loads(json.dumps(d))
    del d["nodes"][2], d["edges"][1]
    graph = project.loads(json.dumps(d))
    assert graph.name.startswith("{__import__")
    assert calls == [] and not (tmp_path / "pwned").exists()


# -- fuzzing -------------------------------------------------------------------------------

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_scalars = (st.none() | st.booleans() | st.integers(-(2**40), 2**40)
                | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12))
json_values = st.recursive(
    json_scalars,
    lambda children: (st.lists(children, max_size=5)
                      | st.dictionaries(st.text(max_size=8), children, max_size=5)),
    max_leaves=25,
)


def check_loads(text: str | bytes) -> Graph | None:
    """Load, and hold the result to everything a loaded graph promises."""
    try:
        graph = project.loads(text)
    except ProjectFileError as exc:
        assert str(exc).startswith("project: ")
        assert "\n" not in str(exc)
        return None
    graph.validate()
    saved = project.dumps(graph)
    saved.encode("utf-8")  # what save() writes
    again = project.loads(saved)
    again.validate()
    assert project.dumps(again) == saved
    assert again.errors() == graph.errors()
    summary.as_text(graph)
    json.dumps(summary.as_json(graph), allow_nan=False)
    return graph


@FUZZ
@given(json_values)
def test_fuzz_arbitrary_json(value):
    check_loads(json.dumps(value))


@FUZZ
@given(json_values)
def test_fuzz_arbitrary_json_under_a_valid_header(value):
    check_loads(json.dumps({"format": "designer-project", "version": 1, "nodes": value, "edges": value}))


@FUZZ
@given(st.text(max_size=200) | st.binary(max_size=200))
def test_fuzz_arbitrary_text_and_bytes(text):
    check_loads(text)


def _block(types: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """A node entry of a real type, with some of its real parameters set to any JSON."""

    def params_for(type_name: str) -> st.SearchStrategy[dict[str, Any]]:
        names = list(REGISTRY[type_name].schema)
        values = json_scalars | st.lists(st.integers(-3, 300), max_size=4) | st.sampled_from(
            ["same", "valid", "tanh", "none"])
        keys = st.sampled_from(names) if names else st.nothing()
        return st.dictionaries(keys | st.text(max_size=4), values, max_size=3)

    return st.sampled_from(types).flatmap(lambda t: st.fixed_dictionaries(
        {"name": st.sampled_from(["a", "b", "c", "d", "e"]), "type": st.just(t), "params": params_for(t)}))


@FUZZ
@given(st.data())
def test_fuzz_structured_documents(data):
    types = list(REGISTRY)
    nodes = data.draw(st.lists(_block(types), max_size=6))
    names = st.sampled_from(["a", "b", "c", "d", "e", "zz"])
    edges = data.draw(st.lists(st.fixed_dictionaries(
        {"source": names, "target": names},
        optional={"port": st.integers(-1, 4) | st.none() | st.booleans()}), max_size=8))
    check_loads(json.dumps({"format": "designer-project", "version": 1, "nodes": nodes, "edges": edges}))


@cache
def template_dict(name: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(template_path(name).read_text(encoding="utf-8"))
    return result


def _slots(value: Any) -> list[tuple[Any, Any]]:
    """Every (container, key) in a JSON document."""
    found: list[tuple[Any, Any]] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            found.extend((item, k) for k in item)
            stack.extend(item.values())
        elif isinstance(item, list):
            found.extend((item, i) for i in range(len(item)))
            stack.extend(item)
    return found


@FUZZ
@given(st.sampled_from(["lenet5", "alexnet-cifar", "inception", "resnet18"]), st.data())
def test_fuzz_mutated_templates(name, data):
    d = copy.deepcopy(template_dict(name))
    for _ in range(data.draw(st.integers(1, 4))):
        slots = _slots(d)
        container, key = slots[data.draw(st.integers(0, len(slots) - 1))]
        action = data.draw(st.sampled_from(["delete", "replace", "copy", "number"]))
        if action == "delete":
            del container[key]
        elif action == "replace":
            container[key] = data.draw(json_values)
        elif action == "copy":  # a value from elsewhere: duplicate names, edges that loop
            other, other_key = slots[data.draw(st.integers(0, len(slots) - 1))]
            container[key] = copy.deepcopy(other[other_key])
        else:
            container[key] = data.draw(st.integers(-2, 5000) | st.sampled_from([0, 0.5, -1, 2**31, 1e300]))
    check_loads(json.dumps(d))


@settings(FUZZ, max_examples=100)
@given(st.sampled_from(TEMPLATES), st.data())
def test_fuzz_reordered_and_truncated_templates(name, data):
    d = copy.deepcopy(template_dict(name))
    d["nodes"] = data.draw(st.permutations(d["nodes"]))
    d["edges"] = data.draw(st.permutations(d["edges"]))
    text = json.dumps(d)
    if data.draw(st.booleans()):
        text = text[: data.draw(st.integers(0, len(text)))]
    graph = check_loads(text)
    if graph is not None and len(graph) == len(d["nodes"]) and len(graph.edges) == len(d["edges"]):
        reference = project.loads(template_path(name).read_text(encoding="utf-8"))
        assert {n: r.shape for n, r in graph.results.items()} == {
            n: r.shape for n, r in reference.results.items()}
