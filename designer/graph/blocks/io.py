"""The graph's input."""

from __future__ import annotations

from collections.abc import Sequence

from designer.graph.params import ShapeParam
from designer.graph.shapes import fmt_shape
from designer.graph.spec import BlockSpec, Params, Shape


def _shape(inputs: Sequence[Shape], p: Params) -> Shape:
    shape: Shape = p["shape"]
    return shape


INPUT = BlockSpec(
    type="Input",
    prefix="input",
    category="Input",
    help="The network's input for one sample, without the batch axis: [C, H, W], [T, D] or [features].",
    params=(ShapeParam("shape", (3, 32, 32), "C, H, W of an image, T, D of tokens, or a feature count.",
                       ranks=(1, 2, 3)),),
    shape=_shape,
    min_inputs=0,
    max_inputs=0,
    is_input=True,
    label=lambda p: fmt_shape(p["shape"]),
)

SPECS = (INPUT,)
