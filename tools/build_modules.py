"""Regenerates resources/modules/*.json, the palette's reusable modules, from the definitions below.

Run ``python tools/build_modules.py`` after changing one. Each module is a fragment: its blocks,
their edges and one group with the module's name; its first block is an Identity called ``in``
(designer.graph.modules.ENTRY), the one place its input connects to.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from designer.graph.graph import Graph
from designer.graph.layout import apply_layout
from designer.graph.modules import ENTRY
from designer.graph.project import dumps

OUT = Path(__file__).resolve().parent.parent / "resources" / "modules"
MODULES: dict[str, Callable[[], Graph]] = {}


def module(build: Callable[[], Graph]) -> Callable[[], Graph]:
    MODULES[build.__name__.replace("_", "-")] = build
    return build


class Piece:
    """Adds blocks to a module; ``src`` names what feeds each (default: the block added before)."""

    def __init__(self, description: str, shape: list[int]) -> None:
        self.graph = Graph()
        self.graph.description = description
        # A throwaway Input gives the blocks shapes to check; it is not part of the module.
        self.graph.add_node("Input", "x", {"shape": shape})
        self.last = self("Identity", ENTRY, "x")

    def __call__(self, type: str, name: str, src: str | list[str] | None = None, **params: object) -> str:
        self.graph.add_node(type, name, params)
        for port, source in enumerate([self.last] if src is None else [src] if isinstance(src, str) else src):
            self.graph.connect(source, name, port)
        self.last = name
        return name


@module
def inception() -> Graph:
    p = Piece("GoogLeNet's Inception module (Szegedy 2014, 3a's widths): 1×1, 3×3 and 5×5 convolutions "
              "and a pooled 1×1 side by side, 1×1 reductions before the large kernels, joined by channels",
              [192, 28, 28])
    p("Conv2d", "b1", ENTRY, out_channels=64, kernel_size=1)
    p("ReLU", "b1_relu")
    p("Conv2d", "b2_reduce", ENTRY, out_channels=96, kernel_size=1)
    p("ReLU", "b2_reduce_relu")
    p("Conv2d", "b2", out_channels=128, kernel_size=3, padding=1)
    p("ReLU", "b2_relu")
    p("Conv2d", "b3_reduce", ENTRY, out_channels=16, kernel_size=1)
    p("ReLU", "b3_reduce_relu")
    p("Conv2d", "b3", out_channels=32, kernel_size=5, padding=2)
    p("ReLU", "b3_relu")
    p("MaxPool2d", "b4_pool", ENTRY, kernel_size=3, stride=1, padding=1)
    p("Conv2d", "b4", out_channels=32, kernel_size=1)
    p("ReLU", "b4_relu")
    p("Concat", "concat", ["b1_relu", "b2_relu", "b3_relu", "b4_relu"])
    return finish(p.graph, "inception")


@module
def se_block() -> Graph:
    p = Piece("Squeeze-and-excitation, an SE block (squeeze-excitation, Hu 2017): average each channel to "
              "one number, learn a gate per channel "
              "through a bottleneck of 1×1 convolutions (reduction 16) and a sigmoid, and rescale the channels "
              "by it", [64, 28, 28])
    p("Mean", "squeeze", dim=[2, 3], keepdim=True)
    p("Conv2d", "fc1", out_channels=4, kernel_size=1)
    p("ReLU", "relu")
    p("Conv2d", "fc2", out_channels=64, kernel_size=1)
    p("Sigmoid", "gate")
    p("Mul", "excite", [ENTRY, "gate"])
    return finish(p.graph, "se-block")


@module
def inverted_residual() -> Graph:
    p = Piece("MobileNet v2's inverted residual (Sandler 2018): 1×1 expansion by 6, 3×3 depthwise "
              "convolution, linear 1×1 projection back, each with batch norm (ReLU6 after the first two), "
              "added to its input",
              [24, 56, 56])
    p("Conv2d", "expand", out_channels=144, kernel_size=1, bias=False)
    p("BatchNorm2d", "expand_bn")
    p("ReLU6", "expand_relu")
    p("Conv2d", "depthwise", out_channels=144, kernel_size=3, padding=1, groups=144, bias=False)
    p("BatchNorm2d", "depthwise_bn")
    p("ReLU6", "depthwise_relu")
    p("Conv2d", "project", out_channels=24, kernel_size=1, bias=False)
    p("BatchNorm2d", "project_bn")
    p("Add", "residual", [ENTRY, "project_bn"])
    return finish(p.graph, "inverted-residual")


@module
def transformer_encoder() -> Graph:
    p = Piece("A pre-norm transformer encoder layer (Vaswani 2017, as ViT uses it): layer norm, multi-head "
              "self-attention, residual Add; layer norm, an MLP of 4× the width with GELU, residual Add",
              [65, 64])
    p("LayerNorm", "ln1")
    p("MultiheadAttention", "attention", num_heads=4)
    p("Dropout", "attention_dropout", p=0.1)
    p("Add", "add1", [ENTRY, "attention_dropout"])
    p("LayerNorm", "ln2")
    p("Linear", "mlp1", out_features=256)
    p("GELU", "gelu")
    p("Linear", "mlp2", out_features=64)
    p("Dropout", "mlp_dropout", p=0.1)
    p("Add", "add2", ["add1", "mlp_dropout"])
    return finish(p.graph, "transformer-encoder")


def finish(graph: Graph, name: str) -> Graph:
    errors = graph.errors()
    assert not errors, errors
    graph.remove_node("x")
    apply_layout(graph)
    left = min(node.position[0] for node in graph.nodes.values())
    top = min(node.position[1] for node in graph.nodes.values())
    for node_name, node in graph.nodes.items():
        graph.move(node_name, (node.position[0] - left, node.position[1] - top))
    graph.groups.add(name, list(graph.nodes))
    graph.name = name
    return graph


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, build in MODULES.items():
        graph = build()
        (OUT / f"{name}.json").write_text(dumps(graph), encoding="utf-8")
        print(f"wrote {name}: {len(graph)} blocks")


if __name__ == "__main__":
    main()
