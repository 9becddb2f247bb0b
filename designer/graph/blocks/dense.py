"""Flatten, fully connected layers and the (log-)softmax outputs.

Linear acts on the last axis, as ``nn.Linear`` does, of a flat input, of T×D tokens
(each token's D features) and of an H×W×C map (each position's C channels, ConvNeXt's
channels-last MLP after a Permute). A 3-axis sample is ambiguous: after a convolution it
is C×H×W, and a Linear there is almost always a forgotten Flatten, which "Linear needs a
flat input, got 256×6×6: insert Flatten" has always caught for students. So a 3-axis
input is refused unless the block's ``channels_last`` says it is H×W×C; the error names
both fixes and marks that field, and the importer sets it where torch's Linear met such an
input. Flat and T×D inputs need no flag: nothing in a CNN makes a T×D tensor by accident.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

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
    x = inputs[0]
    if len(x) == 3 and not p["channels_last"]:
        raise ShapeError(f"Linear needs a flat input, got {fmt_shape(x)}: insert Flatten (to use all "
                         f"{math.prod(x):,} values), or turn on channels_last if it is H×W×C (after a Permute)",
                         "channels_last")
    need_rank("Linear", x, (1, 2, 3), "insert Flatten")
    return (*x[:-1], p["out_features"])


def _linear_formula(inputs: Sequence[Shape], out: Shape, p: Params) -> str:
    x = inputs[0]
    if len(x) == 1:
        return f"{out[0]} outputs, each from {x[0]} inputs"
    rows = "positions" if len(x) == 3 else "tokens"
    return f"{fmt_shape(out)}: each of the {fmt_shape(x[:-1])} {rows} maps its {x[-1]} values to {out[-1]}"


def _linear_read(module: Any, site: CallSite) -> dict[str, Any]:
    # torch applies it to the last axis of any input; a 3-axis sample can only be channels-last here.
    return {"out_features": module.out_features, "bias": module.bias is not None,
            "channels_last": len(site.inputs[0]) == 4}


LINEAR = BlockSpec(
    type="Linear",
    prefix="fc",
    category="Linear",
    help="Fully connected: every output is a weighted sum of all inputs plus a bias. On T×D tokens it maps "
    "each token's D values; on an H×W×C input (channels_last, after a Permute) each position's C values.",
    params=(
        IntParam("out_features", 10, "Number of outputs.", low=1),
        BoolParam("bias", True, "Learn an additive bias per output."),
        BoolParam("channels_last", False, "Take a 3-axis input as H×W×C (after a Permute, as ConvNeXt does) "
                  "and map each position's C values; off, a C×H×W map is refused: insert Flatten."),
    ),
    shape=_linear_shape,
    formula=_linear_formula,
    input_ranks=frozenset({1, 2, 3}),
    rank_hint="insert Flatten",
    module=lambda inputs, p: ModuleCall(
        "Linear", (inputs[0][-1], p["out_features"]), () if p["bias"] else (("bias", False),)
    ),
    param_count=lambda inputs, out, p: inputs[0][-1] * out[-1] + (out[-1] if p["bias"] else 0),
    macs=lambda inputs, out, p: math.prod(inputs[0]) * out[-1],
    # Per position on an H×W×C map, so the receptive field stays; a flat input has none.
    window=lambda inputs, p: (1, 1, 1, 1) if len(inputs[0]) == 3 else None,
    label=lambda p: str(p["out_features"]),
    aliases=("fully connected", "dense", "fc"),
    imports=(FromModule("Linear", read=_linear_read),),
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
