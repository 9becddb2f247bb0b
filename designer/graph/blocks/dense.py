"""Flatten, fully connected layers and the (log-)softmax outputs."""

from __future__ import annotations

import math
from collections.abc import Sequence

from designer.graph.errors import ShapeError
from designer.graph.params import BoolParam, IntParam
from designer.graph.shapes import fmt_shape, need_rank
from designer.graph.spec import BlockSpec, ModuleCall, Params, Shape


def _flatten_dims(x: Shape, p: Params) -> tuple[int, int]:
    """The start and end axes in torch's numbering, where axis 0 is the batch."""
    rank = len(x) + 1
    dims = []
    for key in ("start_dim", "end_dim"):
        d = p[key]
        if not -rank <= d < rank:
            raise ShapeError(f"{key} {d} is out of range for a {rank}-axis tensor "
                             f"(batch × {fmt_shape(x)})", key)
        dims.append(d % rank)
    if dims[0] > dims[1]:
        raise ShapeError(f"start_dim {p['start_dim']} comes after end_dim {p['end_dim']}", "start_dim")
    return dims[0], dims[1]


def _flatten_shape(inputs: Sequence[Shape], p: Params) -> Shape:
    x = inputs[0]
    start, end = _flatten_dims(x, p)
    full = (1, *x)
    # Axis 0 stands for the batch; flattening it in is refused by the param range.
    return (*full[1:start], math.prod(full[start:end + 1]), *full[end + 1:])


def _flatten_formula(inputs: Sequence[Shape], out: Shape, p: Params) -> str:
    x = inputs[0]
    start, end = _flatten_dims(x, p)
    merged = x[start - 1:end]
    return f"{math.prod(merged)} = {'·'.join(map(str, merged))}"


def _flatten_module(inputs: Sequence[Shape], p: Params) -> ModuleCall:
    kwargs = tuple((k, p[k]) for k, d in (("start_dim", 1), ("end_dim", -1)) if p[k] != d)
    return ModuleCall("Flatten", (), kwargs)


FLATTEN = BlockSpec(
    type="Flatten",
    category="Shape",
    help="Turns C×H×W feature maps into one vector per sample, for the fully connected layers.",
    params=(
        IntParam("start_dim", 1, "First axis to merge (0 is the batch and stays).", low=1, high=8),
        IntParam("end_dim", -1, "Last axis to merge; −1 is the last.", low=-8, high=8),
    ),
    shape=_flatten_shape,
    formula=_flatten_formula,
    module=_flatten_module,
)


def _linear_shape(inputs: Sequence[Shape], p: Params) -> Shape:
    need_rank("Linear", inputs[0], (1,), "insert Flatten")
    return (p["out_features"],)


LINEAR = BlockSpec(
    type="Linear",
    prefix="fc",
    category="Linear",
    help="Fully connected: every output is a weighted sum of all inputs plus a bias.",
    params=(
        IntParam("out_features", 10, "Number of outputs.", low=1),
        BoolParam("bias", True, "Learn an additive bias per output."),
    ),
    shape=_linear_shape,
    formula=lambda inputs, out, p: f"{out[0]} outputs, each from {inputs[0][0]} inputs",
    input_ranks=frozenset({1}),
    rank_hint="insert Flatten",
    module=lambda inputs, p: ModuleCall(
        "Linear", (inputs[0][0], p["out_features"]), () if p["bias"] else (("bias", False),)
    ),
    param_count=lambda inputs, out, p: inputs[0][0] * out[0] + (out[0] if p["bias"] else 0),
    macs=lambda inputs, out, p: inputs[0][0] * out[0],
    window=lambda inputs, p: None,
    label=lambda p: str(p["out_features"]),
)


def _softmax(name: str, help: str) -> BlockSpec:
    def shape(inputs: Sequence[Shape], p: Params) -> Shape:
        rank = len(inputs[0]) + 1
        if not -rank <= p["dim"] < rank:
            raise ShapeError(f"dim {p['dim']} is out of range for a {rank}-axis tensor "
                             f"(batch × {fmt_shape(inputs[0])})", "dim")
        return inputs[0]

    return BlockSpec(
        type=name,
        category="Output",
        help=help,
        params=(IntParam("dim", 1, "Axis normalised over; 1 is the classes (axis 0 is the batch).",
                         low=-8, high=8),),
        shape=shape,
        module=lambda inputs, p: ModuleCall(name, (), (("dim", p["dim"]),)),
    )


SPECS = (
    FLATTEN,
    LINEAR,
    _softmax("Softmax", "Turns scores into probabilities that sum to 1."),
    _softmax("LogSoftmax", "Logarithm of softmax; pair it with a negative log-likelihood loss."),
)
