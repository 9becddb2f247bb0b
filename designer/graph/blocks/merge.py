"""Blocks that join branches: element-wise Add and channel Concat."""

from __future__ import annotations

from collections.abc import Sequence

from designer.graph.errors import ShapeError
from designer.graph.shapes import fmt_shape
from designer.graph.spec import BlockSpec, Params, Shape, Window


def _add_shape(inputs: Sequence[Shape], p: Params) -> Shape:
    first = inputs[0]
    for other in inputs[1:]:
        if other != first:
            raise ShapeError(f"Add inputs differ: {fmt_shape(first)} vs {fmt_shape(other)}")
    return first


def _concat_shape(inputs: Sequence[Shape], p: Params) -> Shape:
    first = inputs[0]
    for other in inputs[1:]:
        if len(other) != len(first):
            raise ShapeError(f"Concat inputs have different ranks: {fmt_shape(first)} vs {fmt_shape(other)}")
        if other[1:] != first[1:]:
            raise ShapeError(
                "Concat inputs must agree in everything but channels: "
                f"{fmt_shape(first)} vs {fmt_shape(other)}"
            )
    return (sum(x[0] for x in inputs), *first[1:])


def _merge_window(inputs: Sequence[Shape], p: Params) -> Window:
    return (1, 1, 1, 1)


ADD = BlockSpec(
    type="Add",
    category="Merge",
    help="Adds two or more inputs of the same shape element by element (residual connections).",
    params=(),
    shape=_add_shape,
    min_inputs=2,
    max_inputs=None,
    window=_merge_window,
)

CONCAT = BlockSpec(
    type="Concat",
    category="Merge",
    help="Stacks two or more inputs along the channel axis; the other sizes must agree "
    "(Inception modules). The order of the inputs is the order of the channels.",
    params=(),
    shape=_concat_shape,
    formula=lambda inputs, out, p: f"{out[0]} = " + " + ".join(str(x[0]) for x in inputs),
    min_inputs=2,
    max_inputs=None,
    window=_merge_window,
)

SPECS = (ADD, CONCAT)
