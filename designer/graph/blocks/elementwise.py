"""Element-wise products and reductions: Mul and Mean, the two halves of squeeze-and-excitation.

``Mul`` multiplies two tensors with numpy's broadcasting over the per-sample
shapes: C×H×W · C×1×1 is the SE gate, and a learned C×1×1 tensor (a Parameter
block, which has no batch axis) is ConvNeXt's layer scale. Both inputs must have
as many axes: torch lines shapes up from the right, so a batched input with
fewer axes would have its batch axis meet a sample axis of the other, which is a
bug whatever the numbers (the message says how to reshape it instead).

``Mean`` averages over chosen axes, written as torch writes it,
``x.mean((2, 3), keepdim=True)``: the axes are counted as torch counts them,
with the batch axis 0, which a block never touches. It is global average pooling
and the SE squeeze in one block, and the mean over tokens on T×D inputs.

Neither has parameters, and neither costs multiply-accumulates: torch's
``flop_counter`` counts no FLOPs for ``aten.mul`` or ``aten.mean``, and the
totals here follow it so that they agree with what torch reports.
"""

from __future__ import annotations

import reprlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from designer.graph.errors import ShapeError
from designer.graph.params import BoolParam, ShapeParam
from designer.graph.shapes import fmt_shape
from designer.graph.spec import (
    REQUIRED,
    Arg,
    BlockSpec,
    CallSite,
    FromCall,
    Params,
    Refused,
    Shape,
    Window,
)

# What an axis is called in a message, by the rank of the sample, in torch's numbering.
_AXIS_NAMES = {1: ("features",), 2: ("tokens", "features"), 3: ("channels", "height", "width")}


def _axis(rank: int, axis: int) -> str:
    """``axis 1 (channels)``: an axis of a per-sample shape, counted with the batch as axis 0."""
    names = _AXIS_NAMES.get(rank)
    return f"axis {axis}" + (f" ({names[axis - 1]})" if names else "")


# -- Mul ------------------------------------------------------------------------------


def _broadcast(a: Shape, b: Shape) -> Shape | None:
    """numpy's broadcast of two shapes of one rank, or None where an axis is neither equal nor 1."""
    out = []
    for x, y in zip(a, b):
        if x != y and 1 not in (x, y):
            return None
        out.append(max(x, y) if 1 in (x, y) else x)
    return tuple(out)


def _mul_shape(inputs: Sequence[Shape], p: Params) -> Shape:
    a, b = inputs
    if len(a) != len(b):
        _different_ranks(a, b)
    out = _broadcast(a, b)
    if out is None:
        axis = next(i for i, (x, y) in enumerate(zip(a, b)) if x != y and 1 not in (x, y))
        raise ShapeError(
            f"Mul cannot broadcast {fmt_shape(a)} with {fmt_shape(b)}: {_axis(len(a), axis + 1)} is "
            f"{a[axis]} against {b[axis]}; each size must be equal or 1"
        )
    return out


def _different_ranks(a: Shape, b: Shape) -> None:
    short, long = (a, b) if len(a) < len(b) else (b, a)
    ones = (1,) * (len(long) - len(short))
    fits = [s for s in ((*short, *ones), (*ones, *short)) if _broadcast(s, long) is not None]
    hint = f"; reshape {fmt_shape(short)} to {fmt_shape(fits[0])}" if fits else ""
    raise ShapeError(
        f"Mul needs inputs with the same number of axes, got {fmt_shape(a)} and {fmt_shape(b)}: "
        f"torch lines shapes up from the right, so the batch axis would meet a sample axis{hint}"
    )


def _mul_read(site: CallSite) -> dict[str, Any]:
    if not any(site.batched):
        raise Refused("both are learned tensors; Mul multiplies what the network computes for each sample")
    return {}


def _number_read(site: CallSite) -> dict[str, Any]:
    """Always refuses: this rule sees a tensor times a number, and says so in words."""
    raise Refused("a tensor times a number has no block; Mul multiplies two tensors")


def _mul_rules(target: str) -> tuple[FromCall, ...]:
    # The importer gives the reason of the last rule that refused: the number rule comes
    # last so that `x * 2` is refused in its words (it never takes `x * y`: its `other`
    # cannot be a tensor).
    number = FromCall(target, (("other", REQUIRED),), read=_number_read)
    return FromCall(target, tensors=2, read=_mul_read), number


MUL = BlockSpec(
    type="Mul",
    category="Merge",
    help="Multiplies two inputs element by element, broadcasting sizes of 1 as numpy does "
    "(C×H×W · C×1×1 is the squeeze-and-excitation gate, a learned C×1×1 tensor is layer "
    "scale). Both inputs need as many axes. No parameters; MACs 0, as torch's flop_counter "
    "counts element-wise products.",
    params=(),
    shape=_mul_shape,
    formula=lambda inputs, out, p: f"{fmt_shape(out)} = {fmt_shape(inputs[0])} · {fmt_shape(inputs[1])}",
    min_inputs=2,
    max_inputs=2,
    forward=lambda args, p, layer: f"{args[0].ident} * {args[1].ident}",
    imports=tuple(rule for target in ("operator.mul", "torch.mul", "Tensor.mul", "Tensor.mul_")
                  for rule in _mul_rules(target)),
)


# -- Mean ------------------------------------------------------------------------------

MAX_AXIS = 8


@dataclass(frozen=True)
class AxesParam(ShapeParam):
    """Axes as torch numbers them with the batch as 0: ``(2, 3)``, sorted, each once.

    It is typed like a shape (``2, 3``), in the same editor, hence the base class.
    """

    def coerce(self, value: Any) -> tuple[int, ...]:
        axes = [value] if isinstance(value, int) and not isinstance(value, bool) else value
        if not isinstance(axes, (list, tuple)) or not axes or \
                not all(isinstance(a, int) and not isinstance(a, bool) for a in axes):
            got = reprlib.repr(value)
            raise self.fail(f"expected axes like [2, 3] (1 is the first after the batch), got {got}")
        for axis in axes:
            if not 1 <= axis <= MAX_AXIS:
                raise self.fail(f"axes are counted from 1, the first after the batch (0), up to {MAX_AXIS}; "
                                f"got {axis}")
        repeated = next((a for a in axes if axes.count(a) > 1), None)
        if repeated is not None:
            raise self.fail(f"axis {repeated} is given twice")
        return tuple(sorted(axes))


def _mean_check(x: Shape, p: Params) -> None:
    rank = len(x)
    for axis in p["dim"]:
        if axis > rank:
            raise ShapeError(f"dim {axis} is out of range for batch × {fmt_shape(x)}: "
                             f"the axes after the batch are 1 to {rank}", "dim")
    if len(p["dim"]) == rank and not p["keepdim"]:
        raise ShapeError(f"averaging every axis of {fmt_shape(x)} leaves no axis per sample; "
                         "set keepdim or average fewer axes", "keepdim")


def _mean_shape(inputs: Sequence[Shape], p: Params) -> Shape:
    x = inputs[0]
    _mean_check(x, p)
    if p["keepdim"]:
        return tuple(1 if i + 1 in p["dim"] else d for i, d in enumerate(x))
    return tuple(d for i, d in enumerate(x) if i + 1 not in p["dim"])


def _mean_formula(inputs: Sequence[Shape], out: Shape, p: Params) -> str:
    reduced = [inputs[0][axis - 1] for axis in p["dim"]]
    return f"{fmt_shape(out)} = mean over {fmt_shape(reduced)}"


def _mean_window(inputs: Sequence[Shape], p: Params) -> Window | None:
    """A C×H×W input averaged over height or width: one window as wide as it (the summary
    shows a receptive field only for C×H×W outputs, so other ranks need none)."""
    x = inputs[0]
    if len(x) != 3:
        return None
    h = x[1] if 2 in p["dim"] else 1
    w = x[2] if 3 in p["dim"] else 1
    return (h, w, h, w)


def _mean_forward(args: Sequence[Arg], p: Params, layer: str) -> str:
    dims = p["dim"]
    text = str(dims[0]) if len(dims) == 1 else str(tuple(dims))
    return f"{args[0].ident}.mean({text}{', keepdim=True' if p['keepdim'] else ''})"


def _mean_read(site: CallSite) -> dict[str, Any]:
    """``x.mean((2, 3))``, ``torch.mean(x, dim=-1)``: the axes counted from the batch, negatives resolved."""
    dim = site.arguments["dim"]
    if dim is None or dim == [] or dim == ():
        raise Refused("it averages every axis, the batch too; give dim, e.g. x.mean((2, 3))")
    if not site.batched[0]:
        raise Refused("it averages a learned tensor; Mean averages what the network computes")
    rank = len(site.inputs[0])
    axes = [d % rank for d in (dim if isinstance(dim, (list, tuple)) else [dim])]
    if 0 in axes:
        raise Refused("it averages over the batch axis (dim 0); a block works on each sample alone")
    return {"dim": axes, "keepdim": site.arguments["keepdim"]}


_MEAN_ARGS = (("dim", None), ("keepdim", False), ("dtype", None))

MEAN = BlockSpec(
    type="Mean",
    category="Pooling",
    help="Averages over the axes in dim, counted as torch does (0 is the batch, 1 the channels, "
    "2 and 3 height and width): dim 2, 3 is global average pooling, with keepdim the "
    "squeeze of squeeze-and-excitation (C×1×1); dim 1 on T×D tokens averages the tokens. "
    "MACs 0, as torch's flop_counter counts a mean.",
    params=(
        AxesParam("dim", (2, 3), "Axes to average over, as torch numbers them: 1 is the first after "
                  "the batch (channels), 2 and 3 height and width.", ranks=tuple(range(1, MAX_AXIS + 1))),
        BoolParam("keepdim", False, "Keep the averaged axes with size 1 (C×1×1) instead of dropping them (C)."),
    ),
    shape=_mean_shape,
    formula=_mean_formula,
    window=_mean_window,
    forward=_mean_forward,
    label=lambda p: "over " + ", ".join(map(str, p["dim"])) + (" keep" if p["keepdim"] else ""),
    imports=tuple(FromCall(target, _MEAN_ARGS, fixed=(("dtype", None),), read=_mean_read)
                  for target in ("Tensor.mean", "torch.mean")),
)

SPECS = (MUL, MEAN)
