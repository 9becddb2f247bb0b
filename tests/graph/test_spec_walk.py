"""Every registered block, walked through all that reads its spec: build, compile, export, import.

One spec per block means the compiled module, the exported file and the importer agree because
they read the same declaration. This walk proves it block by block: a small graph around the
block compiles, its exported file computes the same, and importing that file gives the same graph
back, with the same weights. A new block must add its example here (the first test says so).
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch

from designer import export
from designer.graph import Graph
from designer.graph.compile import plan
from designer.graph.importer import import_model
from designer.graph.registry import REGISTRY
from tests.graph import examples_elementwise, examples_reshape, examples_transformer

# type: (the input shape, the block's parameters, how many inputs it reads from that one Input)
EXAMPLES: dict[str, tuple[tuple[int, ...], dict[str, Any], int]] = {
    "Conv2d": ((4, 9, 11), {"out_channels": 6, "kernel_size": [3, 5], "stride": 2, "padding": 1,
                            "dilation": [1, 2], "groups": 2, "bias": False}, 1),
    "MaxPool2d": ((3, 11, 11), {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}, 1),
    "AvgPool2d": ((3, 11, 11), {"kernel_size": 3, "stride": 2, "count_include_pad": False}, 1),
    "AdaptiveAvgPool2d": ((3, 11, 11), {"output_size": [2, 3]}, 1),
    "BatchNorm2d": ((5, 4, 4), {"eps": 1e-3, "momentum": 0.2}, 1),
    "BatchNorm1d": ((7,), {"affine": False}, 1),
    "LocalResponseNorm": ((6, 4, 4), {"size": 3, "alpha": 5e-4, "k": 2.0}, 1),
    "Dropout": ((7,), {"p": 0.25}, 1),
    "ReLU": ((3, 4, 4), {}, 1),
    "LeakyReLU": ((7,), {"negative_slope": 0.2}, 1),
    "PReLU": ((3, 4, 4), {"num_parameters": 3}, 1),
    "ELU": ((7,), {"alpha": 0.5}, 1),
    "GELU": ((7,), {"approximate": "tanh"}, 1),
    "Softplus": ((7,), {"beta": 2.0}, 1),
    "Sigmoid": ((7,), {}, 1),
    "Tanh": ((7,), {}, 1),
    "Identity": ((3, 4, 4), {}, 1),
    "Flatten": ((3, 4, 5), {"start_dim": 2}, 1),
    "Linear": ((7,), {"out_features": 5, "bias": False}, 1),
    "Softmax": ((7,), {"dim": 1}, 1),
    "LogSoftmax": ((7,), {"dim": -1}, 1),
    "Add": ((3, 4, 4), {}, 3),
    "Concat": ((3, 4, 4), {}, 2),
    **examples_elementwise.EXAMPLES,
    **examples_reshape.EXAMPLES,
    **examples_transformer.EXAMPLES,
}


def test_every_registered_block_has_an_example():
    missing = sorted(set(REGISTRY) - {"Input"} - set(EXAMPLES))
    assert not missing, f"add an example for {', '.join(missing)} to EXAMPLES"


def around(block: str) -> Graph:
    """Input → (a ReLU per input, so merges read distinct tensors) → the block."""
    shape, params, inputs = EXAMPLES[block]
    graph = Graph()
    graph.name = f"walk {block}"
    graph.add_node("Input", "x", {"shape": list(shape)})
    graph.add_node(block, "block", params)
    if inputs == 0:  # a learned tensor: added to the Input, it is read and broadcasts as it would
        graph.add_node("Add", "sum")
        graph.connect("x", "sum")
        graph.connect("block", "sum")
    for i in range(inputs):
        if inputs == 1:
            graph.connect("x", "block")
        else:
            graph.add_node("Tanh" if i % 2 else "Sigmoid", f"branch{i}")
            graph.connect("x", f"branch{i}")
            graph.connect(f"branch{i}", "block", i)
    assert graph.errors() == [], graph.errors()
    return graph


RUFF = Path(sys.executable).with_name("ruff")


def exported_model(graph: Graph, folder: Path) -> torch.nn.Module:
    path = folder / "walked.py"
    export.export_python(graph, path)
    for args in (["check", "--isolated"], ["format", "--isolated", "--check"]):  # what a person would write
        result = subprocess.run([str(RUFF), *args, str(path)], capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stdout + result.stderr + path.read_text(encoding="utf-8")
    spec = importlib.util.spec_from_file_location(f"walked_{id(graph)}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # fx looks the class's module up while tracing
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    cls = getattr(module, plan(graph).class_name)  # the file also defines the helper classes it uses
    return cls()


def described(graph: Graph) -> list[tuple[str, dict[str, Any], tuple[str, ...]]]:
    """Types, parameters and wiring, in order, without the names the importer chooses."""
    order = graph.topological_order()
    position = {name: i for i, name in enumerate(order)}
    return [(graph.node(n).type, dict(graph.node(n).params),
             tuple(str(position[s]) for s in graph.sources(n))) for n in order]


@pytest.mark.parametrize("block", sorted(EXAMPLES))
def test_a_block_compiles_exports_and_imports_back_the_same(block, tmp_path):
    graph = around(block)
    compiled = export.model_with_weights(graph, seed=5)
    exported = exported_model(graph, tmp_path).eval()
    exported.load_state_dict(compiled.state_dict(), strict=True)
    x = export.example_inputs(graph, batch=3)
    with torch.no_grad():
        assert torch.equal(exported(*x), compiled(*x))

    imported = import_model(exported, graph.result("x").shape or (), name=graph.name)
    assert described(imported.graph) == described(graph)
    again = export.model_with_weights(imported.graph, imported.state_dict)
    with torch.no_grad():
        assert torch.equal(again(*x), compiled(*x))
