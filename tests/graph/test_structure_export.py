"""Export that keeps the structure: groups as nn.Module classes, one class per structure, nested keys."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from designer import export
from designer.graph.compile import plan
from designer.graph.graph import Graph
from designer.graph.importer import import_model
from designer.graph.python_code import python_source
from designer.graph.structure import local_name
from tests.models.test_import_zoo import reference

RUFF = Path(sys.executable).with_name("ruff")


def exported(graph: Graph, tmp_path: Path) -> tuple[str, type[torch.nn.Module]]:
    """The exported file's text and its model class, imported from the file as a user would."""
    source = python_source(graph)
    path = tmp_path / "model.py"
    path.write_text(source, encoding="utf-8")
    for args in (["check", "--isolated"], ["format", "--isolated", "--check"]):
        result = subprocess.run([str(RUFF), *args, str(path)], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr
    namespace: dict[str, object] = {}
    exec(compile(source, str(path), "exec"), namespace)
    return source, namespace[plan(graph).class_name]  # type: ignore[return-value]


def assert_same_as_compiled(graph: Graph, cls: type[torch.nn.Module], tmp_path: Path,
                            weights: dict[str, torch.Tensor] | None = None) -> dict[str, torch.Tensor]:
    """Exported weights load strictly into the exported class, which computes what the compiled one does."""
    export.export_weights(graph, tmp_path / "w.pt", weights, seed=1)
    state = torch.load(tmp_path / "w.pt", weights_only=True)
    model = cls().eval()
    model.load_state_dict(state, strict=True)
    compiled = export.model_with_weights(graph, weights, seed=1)
    x = export.example_inputs(graph)
    with torch.no_grad():
        assert torch.equal(model(*x), compiled(*x))
    return state


@pytest.mark.parametrize(("module", "factory", "size"), [
    ("mobilenetv2", "mobilenet_v2", 32),
    ("regnet", "regnet_y_400mf", 32),  # stages name their blocks "block1-0": an OrderedDict Sequential
    ("shufflenetv2", "shufflenet_v2_x1_0", 32),
    ("senet", "se_resnet50", 32),
])
def test_an_imported_network_exports_as_its_classes_and_loads_into_the_original(module, factory, size,
                                                                                   tmp_path):
    model = reference(module, factory, {})
    imported = import_model(model, (3, size, size), factory)
    source, cls = exported(imported.graph, tmp_path)
    state = assert_same_as_compiled(imported.graph, cls, tmp_path, imported.state_dict)
    original = reference(module, factory, {})
    original.load_state_dict(state, strict=True)  # the keys follow the nesting: layer1.0.conv1.weight
    x = torch.randn(2, 3, size, size, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        assert torch.equal(original(x), model(x))
    assert source.count("\nclass ") < 12 and len(source.splitlines()) < 260  # not 300 flat lines


def test_an_edited_import_loads_into_the_original_class_built_the_same_way(tmp_path):
    model = reference("senet", "se_resnet50", {})
    imported = import_model(model, (3, 32, 32), "se_resnet50")
    graph = imported.graph
    graph.set_params("fc", {"out_features": 10})  # a new head for ten classes
    source, cls = exported(graph, tmp_path)
    assert "class SEBottleneck(nn.Module):" in source and "self.layer1 = nn.Sequential(" in source
    weights = {k: v for k, v in imported.state_dict.items() if not k.startswith("fc.")}
    compiled = export.model_with_weights(graph, seed=0)
    state = assert_same_as_compiled(graph, cls, tmp_path, {**compiled.state_dict(), **weights})
    reference("senet", "se_resnet50", {"num_classes": 10}).load_state_dict(state, strict=True)


def chain_with_stages() -> Graph:
    """Two stages of the same structure and different widths, grouped as a user would group them."""
    graph = Graph()
    graph.name = "two stages"
    graph.add_node("Input", "input", {"shape": [3, 16, 16]})
    previous = "input"
    for stage, cout in enumerate([8, 16], start=1):
        names = [f"stage{stage}_conv", f"stage{stage}_bn", f"stage{stage}_relu"]
        graph.add_node("Conv2d", names[0], {"out_channels": cout, "kernel_size": 3, "padding": 1})
        graph.add_node("BatchNorm2d", names[1])
        graph.add_node("ReLU", names[2])
        for a, b in zip([previous, *names], names, strict=False):
            graph.connect(a, b)
        graph.groups.add(f"stage{stage}", names)
        previous = names[-1]
    graph.add_node("Flatten", "flatten")
    graph.connect(previous, "flatten")
    return graph


def test_drawn_groups_of_one_structure_share_a_class_taking_what_differs(tmp_path):
    graph = chain_with_stages()
    source, cls = exported(graph, tmp_path)
    assert source.count("class Stage(nn.Module):") == 1 and "class Stage2" not in source
    assert "def __init__(self, in_channels, out_channels):" in source
    assert "self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1)" in source
    assert "self.bn = nn.BatchNorm2d(out_channels)" in source
    assert "self.stage1 = Stage(3, 8)" in source and "self.stage2 = Stage(8, 16)" in source
    state = assert_same_as_compiled(graph, cls, tmp_path)
    assert "stage2.conv.weight" in state and "stage2.bn.running_mean" in state


def test_weights_keyed_as_the_exported_file_load_back_into_the_graph(tmp_path):
    graph = chain_with_stages()
    export.export_weights(graph, tmp_path / "w.pt", seed=4)
    nested = torch.load(tmp_path / "w.pt", weights_only=True)
    compiled = export.model_with_weights(graph, nested)  # `designer export --weights` of such a file
    assert torch.equal(compiled.state_dict()["stage2_conv.weight"], nested["stage2.conv.weight"])


def test_a_group_a_value_leaves_and_reenters_is_written_inline(tmp_path):
    graph = chain_with_stages()
    graph.add_node("ReLU", "outside")
    graph.connect("stage1_conv", "outside")
    graph.add_node("Add", "sum")
    graph.disconnect(graph.in_edges("stage1_relu")[0])
    graph.connect("stage1_bn", "sum")
    graph.connect("outside", "sum", 1)
    graph.connect("sum", "stage1_relu")
    graph.groups.add("loop", ["stage1_conv", "stage1_relu"])  # conv -> outside -> sum -> relu: in again
    source, cls = exported(graph, tmp_path)
    assert "class Loop" not in source
    assert_same_as_compiled(graph, cls, tmp_path)


@pytest.mark.parametrize("name", ["class", "x", "self", '"""', "forward", "a.b", "0", "training", "Stage"])
def test_hostile_group_names_export_safely(name, tmp_path):
    graph = chain_with_stages()
    graph.groups.rename("stage1", name)
    graph.groups.add("holder", graph.groups[name].members | graph.groups["stage2"].members, kind=name)
    _, cls = exported(graph, tmp_path)
    assert_same_as_compiled(graph, cls, tmp_path)


def test_a_group_holding_the_input_is_written_inline(tmp_path):
    graph = chain_with_stages()
    graph.groups.add("everything", list(graph.nodes))
    source, cls = exported(graph, tmp_path)
    assert "class Everything" not in source and "self.stage1 = Stage(3, 8)" in source
    assert_same_as_compiled(graph, cls, tmp_path)


def test_local_names_drop_the_group_prefix_and_a_repeated_copy_suffix():
    assert local_name("layer1.0.conv1", "layer1.0") == "conv1"
    assert local_name("stage1_conv", "stage1") == "conv"
    assert local_name("conv_2", "stage_2") == "conv"
    assert local_name("fc", "block") == "fc"
