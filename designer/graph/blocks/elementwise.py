"""Element-wise products, reductions and resampling: Mul, Mean and Upsample.

Mul and Mean are the two halves of squeeze-and-excitation; Upsample is the
decoder's way up without weights.

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

``Upsample`` enlarges an image by a scale factor or to a size, by nearest,
bilinear or bicubic interpolation, as ``nn.Upsample`` and ``F.interpolate`` do.

None has parameters, and none costs multiply-accumulates: torch's
``flop_counter`` counts no FLOPs for ``aten.mul``, ``aten.mean`` or the
interpolations, and the totals here follow it so that they agree with what
torch reports.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from designer.graph.errors import ShapeError
from designer.graph.params import MAX_AXES, BoolParam, ChoiceParam, FloatParam, IntsParam, PairParam, pair
from designer.graph.shapes import fmt_pair, fmt_shape, need_rank, per_axis
from designer.graph.spec import (
    REQUIRED,
    Arg,
    BlockSpec,
    CallSite,
    FromCall,
    FromModule,
    ModuleCall,
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
    "scale). Both inputs need the same number of axes. No parameters; MACs 0: torch's "
    "flop_counter counts no element-wise product.",
    params=(),
    shape=_mul_shape,
    formula=lambda inputs, out, p: f"{fmt_shape(out)} = {fmt_shape(inputs[0])} · {fmt_shape(inputs[1])}",
    min_inputs=2,
    max_inputs=2,
    forward=lambda args, p, layer: f"{args[0].ident} * {args[1].ident}",
    aliases=("multiply", "product", "gate", "squeeze-excitation", "layer scale", "hadamard product"),
    imports=tuple(rule for target in ("operator.mul", "torch.mul", "Tensor.mul", "Tensor.mul_")
                  for rule in _mul_rules(target)),
)


# -- Mean ------------------------------------------------------------------------------

@dataclass(frozen=True)
class AxesParam(IntsParam):
    """Axes as torch numbers them, the batch being 0: ``(2, 3)``, each once, held sorted.

    Typed as a line of numbers like the shape blocks' axes; one number alone is one axis.
    """

    def coerce(self, value: Any) -> tuple[int, ...]:
        if isinstance(value, str):
            value = self._parse(value)
        if isinstance(value, int) and not isinstance(value, bool):
            value = [value]
        if isinstance(value, (list, tuple)) and any(type(v) in (int, float) and v == 0 for v in value):
            raise self.fail("axis 0 is the batch, which a block never averages; the axes after it are 1 and up")
        axes = super().coerce(value)
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
    "MACs 0: torch's flop_counter counts no mean.",
    params=(
        AxesParam("dim", (2, 3), "Axes to average over, as torch numbers them: 1 is the first after "
                  "the batch (channels), 2 and 3 height and width.", low=1, high=MAX_AXES - 1,
                  lengths=(1, MAX_AXES - 1)),
        BoolParam("keepdim", False, "Keep the averaged axes with size 1 (C×1×1) instead of dropping them (C)."),
    ),
    shape=_mean_shape,
    formula=_mean_formula,
    window=_mean_window,
    forward=_mean_forward,
    aliases=("average", "global average pooling", "gap", "squeeze", "reduce mean"),
    label=lambda p: "over " + ", ".join(map(str, p["dim"])) + (" keep" if p["keepdim"] else ""),
    imports=tuple(FromCall(target, _MEAN_ARGS, fixed=(("dtype", None),), read=_mean_read)
                  for target in ("Tensor.mean", "torch.mean")),
)


# -- Upsample ----------------------------------------------------------------------------

_INTERPOLATING = ("bilinear", "bicubic")  # the modes that take align_corners


def _upsample_shape(inputs: Sequence[Shape], p: Params) -> Shape:
    x = inputs[0]
    need_rank("Upsample", x, (3,), "it enlarges height and width")
    if p["align_corners"] and p["mode"] not in _INTERPOLATING:
        raise ShapeError(f"align_corners applies to bilinear and bicubic only, not {p['mode']}; "
                         "clear it or change the mode", "align_corners")
    c, h, w = x
    if p["size"] is not None:
        return (c, *pair(p["size"]))
    scale = p["scale_factor"]
    # torch truncates the product, in the same double-precision arithmetic.
    oh, ow = int(h * scale), int(w * scale)
    if oh < 1 or ow < 1:
        smallest = math.ceil(10_000 / min(h, w)) / 10_000
        raise ShapeError(f"scale_factor {_number(scale)} leaves no pixel of {fmt_pair(h, w)}; "
                         f"use scale_factor ≥ {_number(smallest)}", "scale_factor")
    return (c, oh, ow)


def _number(value: float) -> str:
    """``2`` for 2.0, and every digit where fewer would change the value."""
    short = f"{value:g}"
    return short if float(short) == value else repr(value)


def _upsample_formula(inputs: Sequence[Shape], out: Shape, p: Params) -> str:
    _, h, w = inputs[0]
    if p["size"] is not None:
        return f"size {fmt_pair(out[1], out[2])} from {fmt_pair(h, w)}"
    scale = _number(p["scale_factor"])
    return per_axis(f"{out[1]} = ⌊{h}·{scale}⌋", f"{out[2]} = ⌊{w}·{scale}⌋")


def _upsample_module(inputs: Sequence[Shape], p: Params) -> ModuleCall:
    kwargs: list[tuple[str, Any]] = [("size", p["size"]) if p["size"] is not None
                                     else ("scale_factor", p["scale_factor"])]
    if p["mode"] != "nearest":
        kwargs.append(("mode", p["mode"]))
    if p["align_corners"]:
        kwargs.append(("align_corners", True))
    return ModuleCall("Upsample", (), tuple(kwargs))


def _upsample_label(p: Params) -> str:
    how = f"→ {fmt_pair(*pair(p['size']))}" if p["size"] is not None else f"×{_number(p['scale_factor'])}"
    return f"{how} {p['mode']}"


def _upsample_read(size: Any, scale: Any, mode: str, align_corners: bool | None, recompute: bool | None,
                   site: CallSite) -> dict[str, Any]:
    """The block's parameters from nn.Upsample's attributes or F.interpolate's arguments."""
    if len(site.inputs[0]) != 4:
        raise Refused("only a batch of C×H×W images can be drawn as Upsample")
    params: dict[str, Any] = {"mode": mode, "align_corners": bool(align_corners)}
    if size is not None:
        return {**params, "size": size}
    factors = list(scale) if isinstance(scale, (list, tuple)) else [scale, scale]
    if len(set(factors)) != 1:
        raise Refused(f"scale_factor {tuple(factors)} differs between height and width; "
                      "Upsample scales both by one factor: give size instead")
    if recompute and any(not float(d * factors[0]).is_integer() for d in site.inputs[0][2:]):
        # The kernel would then use output / input instead of the factor, which differs here.
        raise Refused("recompute_scale_factor=True with a scale that does not give whole sizes; "
                      "give size instead")
    return {**params, "scale_factor": factors[0]}


def _interpolate_read(site: CallSite) -> dict[str, Any]:
    a = site.arguments
    return _upsample_read(a["size"], a["scale_factor"], a["mode"], a["align_corners"],
                          a["recompute_scale_factor"], site)


def _module_read(module: Any, site: CallSite) -> dict[str, Any]:
    return _upsample_read(module.size, module.scale_factor, module.mode, module.align_corners,
                          module.recompute_scale_factor, site)


_INTERPOLATE_ARGS = (("size", None), ("scale_factor", None), ("mode", "nearest"), ("align_corners", None),
                     ("recompute_scale_factor", None), ("antialias", False))

UPSAMPLE = BlockSpec(
    type="Upsample",
    prefix="up",
    category="Pooling",
    help="Enlarges the image by scale_factor, or to size, interpolating as mode says; no "
    "weights. MACs 0: torch's flop_counter counts no interpolation. Its output pixels "
    "are finer than the input's, so no receptive field is shown from here on.",
    params=(
        PairParam("size", None, "Output height and width; auto uses scale_factor instead.",
                  low=1, high=1 << 16, optional=True),
        FloatParam("scale_factor", 2.0, "Enlargement of height and width when size is auto: "
                   "⌊H·scale_factor⌋ rows and ⌊W·scale_factor⌋ columns.", low=0, high=4096, low_open=True),
        ChoiceParam("mode", "nearest", "How new pixels are found: copied from the nearest "
                    "(nearest-exact rounds as image libraries do), or interpolated.",
                    choices=("nearest", "nearest-exact", "bilinear", "bicubic")),
        BoolParam("align_corners", False, "bilinear and bicubic only: align the corner pixels' "
                  "centres rather than their outer edges."),
    ),
    shape=_upsample_shape,
    formula=_upsample_formula,
    input_ranks=frozenset({3}),
    rank_hint="Upsample needs a C×H×W input",
    module=_upsample_module,
    window=lambda inputs, p: None,
    label=_upsample_label,
    aliases=("interpolate", "resize", "upscale", "unpool", "nearest neighbour", "bilinear"),
    imports=(
        # The two Upsampling… classes are nn.Upsample with the mode (and align_corners) fixed.
        *(FromModule(cls, read=_module_read)
          for cls in ("Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d")),
        FromCall("torch.nn.functional.interpolate", _INTERPOLATE_ARGS, fixed=(("antialias", False),),
                 read=_interpolate_read),
    ),
)

SPECS = (MUL, MEAN, UPSAMPLE)
