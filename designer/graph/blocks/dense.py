"""Flatten, fully connected layers and the (log-)softmax outputs."""

from __future__ import annotations

import math
from collections.abc import Sequence

from designer.graph.errors import ShapeError
from designer.graph.params import BoolParam, IntParam
from designer.graph.shapes import fmt_shape, need_rank
from designer.graph.spec import (
    BATCH,
    REQUIRED,
    BlockSpec,
    CallSite,
    FromCall,
    FromModule,
    ModuleCall,
    Params,
    Refused,
    Shape,
)


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


def _flatten_read(start_dim: int, end_dim: int, site: CallSite) -> dict[str, int]:
    """torch's axes counted with the batch; the block refuses to flatten the batch in."""
    if start_dim < 0:
        start_dim += len(site.inputs[0])
    if start_dim == 0:
        raise Refused("it flattens the batch axis too")
    return {"start_dim": start_dim, "end_dim": end_dim}


def _view_read(site: CallSite) -> dict[str, int]:
    """``x.view(x.size(0), -1)`` and its kin, a reshape to (batch, features), are a Flatten."""
    dims = list(site.arguments["shape"])
    if len(dims) == 1 and isinstance(dims[0], (list, tuple)):
        dims = list(dims[0])
    before = site.inputs[0]
    features = math.prod(before[1:])
    batch_first = len(dims) == 2 and dims[0] is BATCH and dims[1] in (-1, features)
    any_batch = len(dims) == 2 and dims[0] == -1 and dims[1] == features
    if site.output != (before[0], features) or not (batch_first or any_batch):
        raise Refused("not a flatten to (batch, features)")
    return {}


def _flatten_call(site: CallSite) -> dict[str, int]:
    return _flatten_read(site.arguments["start_dim"], site.arguments["end_dim"], site)


_FLATTEN_ARGS = (("start_dim", 0), ("end_dim", -1))

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
    imports=(
        FromModule("Flatten", read=lambda module, site: _flatten_read(module.start_dim, module.end_dim, site)),
        FromCall("torch.flatten", _FLATTEN_ARGS, read=_flatten_call),
        FromCall("Tensor.flatten", _FLATTEN_ARGS, read=_flatten_call),
        FromCall("Tensor.view", (("*shape", ()),), read=_view_read),
        FromCall("Tensor.reshape", (("*shape", ()),), read=_view_read),
        FromCall("torch.reshape", (("shape", REQUIRED),), read=_view_read),
    ),
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
    imports=(FromModule("Linear"),),
)


def _softmax_dim(dim: int | None, site: CallSite) -> dict[str, int]:
    """An implicit dim is torch's legacy choice: 0 for 0-, 1- and 3-axis tensors, else 1."""
    return {"dim": (0 if len(site.inputs[0]) in (0, 1, 3) else 1) if dim is None else dim}


def _softmax(name: str, function: str, help: str) -> BlockSpec:
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
        imports=(
            FromModule(name, read=lambda module, site: _softmax_dim(module.dim, site)),
            FromCall(f"torch.nn.functional.{function}", (("dim", None), ("_stacklevel", 3), ("dtype", None)),
                     fixed=(("dtype", None),), read=lambda site: _softmax_dim(site.arguments["dim"], site)),
            *(FromCall(f"{where}.{function}", (("dim", REQUIRED), ("dtype", None)), fixed=(("dtype", None),))
              for where in ("torch", "Tensor")),
        ),
    )


SPECS = (
    FLATTEN,
    LINEAR,
    _softmax("Softmax", "softmax", "Turns scores into probabilities that sum to 1."),
    _softmax("LogSoftmax", "log_softmax", "Logarithm of softmax; pair it with a negative log-likelihood loss."),
)
