"""What a hostile or careless graph must not do: shadow a module attribute, allocate terabytes, return nothing.

Each case goes through the path a user takes (compile, the exported file, the CLI) and checks what
the user sees: a working model, or one line naming the problem.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import torch
import torch.nn as nn

import designer
from designer import export
from designer.graph import Graph
from designer.graph.errors import GraphError
from designer.graph.machine import memory_limit
from tests.test_cli import assert_one_line_error, run

# Every attribute a fresh module has, including those __init__ sets on the instance (training, _parameters),
# and spellings that normalise to one of them.
MODULE_ATTRIBUTES = sorted(set(dir(nn.Module())) | set(vars(nn.Module())))
LOOKALIKES = ["𝕥𝕣𝕒𝕚𝕟𝕚𝕟𝕘", "ｃｏｄｅ", "training ", " forward", "code"]


def chain_named(names: list[str]) -> Graph:
    graph = Graph()
    graph.name = "attributes"
    graph.add_node("Input", "input", {"shape": [4]})
    previous = "input"
    for name in names:
        graph.add_node("Linear", name, {"out_features": 4})
        graph.connect(previous, name)
        previous = name
    return graph


def load_exported(path: Path) -> type[nn.Module]:
    spec = importlib.util.spec_from_file_location(f"exported_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    (cls,) = [v for v in vars(module).values()
              if isinstance(v, type) and issubclass(v, nn.Module) and v is not nn.Module]
    return cls


def assert_modes_switch(model: nn.Module) -> None:
    model.train()
    assert model.training is True and all(m.training for m in model.modules())
    model.eval()
    assert model.training is False and not any(m.training for m in model.modules())


def test_every_module_attribute_is_a_usable_block_name(tmp_path):
    graph = chain_named(MODULE_ATTRIBUTES + LOOKALIKES)
    assert graph.errors() == []
    compiled = export.model_with_weights(graph, seed=1)
    assert_modes_switch(compiled)
    assert len(compiled.state_dict()) == 2 * len(MODULE_ATTRIBUTES + LOOKALIKES)

    path = tmp_path / "attributes.py"
    export.export_python(graph, path)
    exported = load_exported(path)()
    exported.load_state_dict(compiled.state_dict(), strict=True)
    assert_modes_switch(exported)
    x = torch.randn(3, 4)
    with torch.no_grad():
        assert torch.equal(exported(x), compiled.eval()(x))


@pytest.mark.parametrize("name", ["training", "code", "𝕥𝕣𝕒𝕚𝕟𝕚𝕟𝕘", "ｃｏｄｅ", "training ", "_modules"])
def test_a_block_named_like_a_module_attribute_exports_through_the_cli(name, tmp_path, capsys):
    project = tmp_path / "net.json"
    designer.graph.project.save(chain_named([name]), project)
    for fmt, out in (("weights", "w.safetensors"), ("pt2", "net.pt2")):
        code, _, err = run(capsys, "export", str(project), "-f", fmt, "-o", str(tmp_path / out))
        assert code == 0, err
        assert (tmp_path / out).stat().st_size > 0


# -- a network larger than memory --------------------------------------------------------------------------


def huge(out_features: int = 1 << 20, features: int = 1 << 20) -> Graph:
    graph = Graph()
    graph.name = "huge"
    graph.add_node("Input", "input", {"shape": [features]})
    graph.add_node("Linear", "fc", {"out_features": out_features})
    graph.connect("input", "fc")
    return graph


needs_a_limit = pytest.mark.skipif(memory_limit() is None, reason="this platform reports no memory size")


@needs_a_limit
def test_a_network_larger_than_memory_is_refused_before_allocating_with_its_size():
    with pytest.raises(GraphError) as caught:
        huge().to_torch()
    message = str(caught.value)
    assert "\n" not in message
    assert "1,099,512,676,352 parameters" in message and "4.4 TB" in message and "fc alone" in message


@needs_a_limit
def test_convolution_with_a_million_channels_is_refused_by_every_export(tmp_path, capsys):
    graph = Graph()
    graph.add_node("Input", "input", {"shape": [4096, 64, 64]})
    graph.add_node("Conv2d", "conv", {"out_channels": 1 << 20, "kernel_size": 64})
    graph.connect("input", "conv")
    project = tmp_path / "wide.json"
    designer.graph.project.save(graph, project)
    # 2²⁰ · 4096 · 64² weights: 70 TB, far beyond any machine's memory.
    for fmt, out in (("weights", "w.pt"), ("onnx", "w.onnx"), ("pt2", "w.pt2")):
        assert_one_line_error(*run(capsys, "export", str(project), "-f", fmt, "-o", str(tmp_path / out)),
                              "too large to build")
        assert not (tmp_path / out).exists()


@needs_a_limit
def test_summary_warns_when_the_parameters_alone_exceed_memory(tmp_path, capsys):
    project = tmp_path / "huge.json"
    designer.graph.project.save(huge(), project)
    code, out, _ = run(capsys, "summary", str(project))
    assert code == 0
    assert "warning: the network cannot be built here: its 1,099,512,676,352 parameters need 4.4 TB" in out
    code, out, _ = run(capsys, "summary", str(project), "--json")
    (warning,) = json.loads(out)["warnings"]
    assert warning.startswith("the network cannot be built here: its 1,099,512,676,352 parameters")
    code, out, _ = run(capsys, "summary", "alexnet", "--json")
    assert json.loads(out)["warnings"] == []


# -- graphs that return nothing or an Input ---------------------------------------------------------------


def only_inputs(count: int) -> Graph:
    graph = Graph()
    for i in range(count):
        graph.add_node("Input", f"input{i}", {"shape": [3, 8, 8]})
    return graph


@pytest.mark.parametrize("count", [1, 2])
def test_a_graph_of_only_inputs_is_an_error_everywhere(count, tmp_path, capsys):
    graph = only_inputs(count)
    assert graph.errors() == [(None, "the graph has no block after its Input: add a layer that reads it")]
    project = tmp_path / "inputs.json"
    designer.graph.project.save(graph, project)
    code, out, _ = run(capsys, "summary", str(project))
    assert code == 1 and "the graph has no block after its Input" in out
    for fmt, out_name in (("python", "m.py"), ("weights", "w.pt"), ("onnx", "m.onnx"), ("pt2", "m.pt2")):
        assert_one_line_error(*run(capsys, "export", str(project), "-f", fmt, "-o", str(tmp_path / out_name)),
                              "no block after its Input")
        assert not (tmp_path / out_name).exists()


def test_an_input_that_nothing_reads_is_an_error_on_that_block(tmp_path, capsys):
    graph = only_inputs(2)
    graph.add_node("Flatten", "flat")
    graph.connect("input0", "flat")
    unread = "nothing reads this Input: connect its output to a block, or delete it"
    assert graph.errors() == [("input1", unread)]
    with pytest.raises(GraphError, match="input1: nothing reads this Input"):
        graph.to_torch()
    graph.add_node("Flatten", "flat1")
    graph.connect("input1", "flat1")
    assert graph.errors() == []
    assert len(graph.to_torch()(torch.zeros(1, 3, 8, 8), torch.zeros(1, 3, 8, 8))) == 2
