"""Two-dimensional convolution, grouped as in the two-GPU AlexNet, and its transpose for decoders.

Both hold their weights as ``C_in · C_out / groups · kh · kw`` values and check
groups the same way; what differs is the size arithmetic (``conv_axis`` and
``conv_transpose_axis`` in :mod:`designer.graph.shapes`) and where their
multiply-accumulates are counted: a convolution does one window per output
pixel, a transposed one spreads each input pixel over a window of the output,
which is how torch's ``flop_counter`` counts them too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from designer.graph.errors import ShapeError
from designer.graph.params import BoolParam, IntParam, PairParam, pair
from designer.graph.shapes import (
    conv_axis,
    conv_axis_formula,
    conv_transpose_axis,
    conv_transpose_axis_formula,
    fmt_pair,
    need_rank,
    per_axis,
)
from designer.graph.spec import BlockSpec, FromModule, ModuleCall, ModuleRule, Params, Shape, Window


def _padding(p: Params, kernel: tuple[int, int], dilation: tuple[int, int]) -> tuple[int, int]:
    """Symmetric padding per axis; 'same' is only ever used with stride 1."""
    padding = p["padding"]
    if padding == "valid":
        return (0, 0)
    if padding == "same":
        # torch pads the odd remainder on one side only; the size is the input's.
        return (dilation[0] * (kernel[0] - 1) // 2, dilation[1] * (kernel[1] - 1) // 2)
    return pair(padding)


def _shape(inputs: Sequence[Shape], p: Params) -> Shape:
    # Runs for every convolution on every pass, so both axes are written out
    # rather than looped over; the error path below is the slow one.
    x = inputs[0]
    if len(x) != 3:
        need_rank("Conv2d", x, (3,), "insert a block that keeps height and width, or change the Input")
    c, h, w = x
    _check_groups(c, p)
    out_channels = p["out_channels"]
    kernel, stride, dilation = pair(p["kernel_size"]), pair(p["stride"]), pair(p["dilation"])
    padding = p["padding"]
    if padding == "same":
        if stride != (1, 1):
            raise ShapeError("padding 'same' needs stride 1; give padding as a number", "padding")
        return (out_channels, h, w)
    pad = _padding(p, kernel, dilation)
    oh = conv_axis(h, kernel[0], stride[0], pad[0], dilation[0])
    ow = conv_axis(w, kernel[1], stride[1], pad[1], dilation[1])
    if oh < 1 or ow < 1:
        _kernel_too_large((h, w), kernel, pad, dilation, (oh, ow))
    return (out_channels, oh, ow)


def _check_groups(c: int, p: Params) -> None:
    groups, out_channels = p["groups"], p["out_channels"]
    if c % groups:
        raise ShapeError(f"in_channels {c} is not divisible by groups {groups}", "groups")
    if out_channels % groups:
        raise ShapeError(f"out_channels {out_channels} is not divisible by groups {groups}", "groups")


def _kernel_too_large(sizes: tuple[int, int], kernel: tuple[int, int], pad: tuple[int, int],
                      dilation: tuple[int, int], out: tuple[int, int]) -> None:
    for size, k, q, d, o in zip(sizes, kernel, pad, dilation, out):
        if o < 1:
            extent = d * (k - 1) + 1
            need = math.ceil((extent - size) / 2)
            what = f"kernel {k}" if d == 1 else f"dilated kernel {extent}"
            raise ShapeError(
                f"{what} is larger than the padded input {size + 2 * q}; "
                f"reduce kernel_size or add padding ≥ {need}",
                "kernel_size",
            )


def _formula(inputs: Sequence[Shape], out: Shape, p: Params) -> str:
    _, h, w = inputs[0]
    kernel, stride, dilation = pair(p["kernel_size"]), pair(p["stride"]), pair(p["dilation"])
    if p["padding"] == "same":
        return f"'same' padding keeps {fmt_pair(h, w)} at stride 1"
    pad = _padding(p, kernel, dilation)
    texts = [
        conv_axis_formula(size, k, s, q, d)
        for size, k, s, q, d in zip((h, w), kernel, stride, pad, dilation)
    ]
    return per_axis(*texts)


def _params(inputs: Sequence[Shape], out: Shape, p: Params) -> int:
    """C_out · C_in / groups · kh · kw, plus a bias per output channel: the same for the transpose."""
    kh, kw = pair(p["kernel_size"])
    c = inputs[0][0]
    return p["out_channels"] * (c // p["groups"]) * kh * kw + (p["out_channels"] if p["bias"] else 0)


def _macs(inputs: Sequence[Shape], out: Shape, p: Params) -> int:
    kh, kw = pair(p["kernel_size"])
    return math.prod(out) * (inputs[0][0] // p["groups"]) * kh * kw


def _window(inputs: Sequence[Shape], p: Params) -> Window:
    (kh, kw), (sh, sw), (dh, dw) = pair(p["kernel_size"]), pair(p["stride"]), pair(p["dilation"])
    return (dh * (kh - 1) + 1, dw * (kw - 1) + 1, sh, sw)


def _module(cls: str, defaults: tuple[tuple[str, object], ...]) -> ModuleRule:
    """``nn.<cls>(in_channels, out_channels, kernel_size=…)`` and the arguments that are not their defaults."""
    def module(inputs: Sequence[Shape], p: Params) -> ModuleCall:
        kwargs = [("kernel_size", p["kernel_size"])]
        kwargs += [(key, p[key]) for key, default in defaults if p[key] != default]
        return ModuleCall(cls, (inputs[0][0], p["out_channels"]), tuple(kwargs))
    return module


_CONV_DEFAULTS: tuple[tuple[str, object], ...] = (
    ("stride", 1), ("padding", 0), ("dilation", 1), ("groups", 1), ("bias", True))


def _label(p: Params, step: str = "/") -> str:
    """``64 @ 3×3 /2 g2``; a transposed convolution writes its stride ``×2``, as it enlarges."""
    kh, kw = pair(p["kernel_size"])
    sh, sw = pair(p["stride"])
    text = f"{p['out_channels']} @ {kh}×{kw}"
    if (sh, sw) != (1, 1):
        text += f" {step}{fmt_pair(sh, sw)}"
    if p["groups"] != 1:
        text += f" g{p['groups']}"
    return text


CONV2D = BlockSpec(
    type="Conv2d",
    prefix="conv",
    category="Convolution",
    help="2-D convolution; in_channels comes from the input. groups splits channels into "
    "independent halves as AlexNet did across two GPUs.",
    params=(
        IntParam("out_channels", 64, "Number of filters, the output's channels.", low=1),
        PairParam("kernel_size", 3, "Filter height and width.", low=1, high=4096),
        PairParam("stride", 1, "Step between windows.", low=1, high=4096),
        PairParam(
            "padding", 0, "Zeros added on each side; 'same' keeps the size (stride 1 only).",
            low=0, high=4096, words=("same", "valid"),
        ),
        PairParam("dilation", 1, "Spacing between kernel taps.", low=1, high=4096),
        IntParam("groups", 1, "Split input and output channels into this many groups.", low=1),
        BoolParam("bias", True, "Learn an additive bias per output channel."),
    ),
    shape=_shape,
    formula=_formula,
    input_ranks=frozenset({3}),
    rank_hint="Conv2d needs a C×H×W input",
    module=_module("Conv2d", _CONV_DEFAULTS),
    param_count=_params,
    macs=_macs,
    window=_window,
    label=_label,
    imports=(FromModule("Conv2d", fixed=(("padding_mode", "zeros"),)),),
)


# -- the transposed convolution ---------------------------------------------------------


def _transpose_geometry(p: Params) -> tuple[tuple[int, int], ...]:
    """kernel, stride, padding, dilation and output padding, each as (height, width)."""
    return tuple(pair(p[key]) for key in ("kernel_size", "stride", "padding", "dilation", "output_padding"))


def _transpose_shape(inputs: Sequence[Shape], p: Params) -> Shape:
    x = inputs[0]
    if len(x) != 3:
        need_rank("ConvTranspose2d", x, (3,), "insert a block that keeps height and width, or change the Input")
    c, h, w = x
    _check_groups(c, p)
    kernel, stride, pad, dilation, extra = _transpose_geometry(p)
    for axis in range(2):
        if extra[axis] >= max(stride[axis], dilation[axis]):
            raise ShapeError(
                f"output_padding {extra[axis]} must be smaller than stride {stride[axis]} or dilation "
                f"{dilation[axis]}; use output_padding ≤ {max(stride[axis], dilation[axis]) - 1}",
                "output_padding",
            )
    sizes = [conv_transpose_axis(size, *args)
             for size, *args in zip((h, w), kernel, stride, pad, dilation, extra)]
    for size, q, out in zip((h, w), pad, sizes):
        if out < 1:
            untrimmed = out + 2 * q
            raise ShapeError(
                f"padding {q} trims more than the {untrimmed} the transposed convolution makes from "
                f"{size}; use padding ≤ {(untrimmed - 1) // 2}",
                "padding",
            )
    return (p["out_channels"], sizes[0], sizes[1])


def _transpose_formula(inputs: Sequence[Shape], out: Shape, p: Params) -> str:
    _, h, w = inputs[0]
    texts = [conv_transpose_axis_formula(size, *args)
             for size, *args in zip((h, w), *_transpose_geometry(p))]
    return per_axis(*texts)


def _transpose_macs(inputs: Sequence[Shape], out: Shape, p: Params) -> int:
    """Every input value meets one kernel of every output channel in its group."""
    kh, kw = pair(p["kernel_size"])
    return math.prod(inputs[0]) * (p["out_channels"] // p["groups"]) * kh * kw


CONVTRANSPOSE2D = BlockSpec(
    type="ConvTranspose2d",
    prefix="deconv",
    category="Convolution",
    help="Transposed 2-D convolution (sometimes called deconvolution): the gradient of a "
    "convolution, which enlarges by its stride, as decoders and U-Nets upsample. in_channels "
    "comes from the input. Its output pixels are finer than the input's, so no receptive "
    "field is shown from here on.",
    params=(
        IntParam("out_channels", 64, "Number of filters, the output's channels.", low=1),
        PairParam("kernel_size", 3, "Filter height and width.", low=1, high=4096),
        PairParam("stride", 1, "Spacing of the input pixels in the output: the enlargement.",
                  low=1, high=4096),
        PairParam("padding", 0, "Rows and columns trimmed from each side of the output.",
                  low=0, high=4096),
        PairParam("output_padding", 0, "Rows and columns added at the bottom and right, to reach "
                  "an exact size; smaller than the stride or the dilation.", low=0, high=4096),
        IntParam("groups", 1, "Split input and output channels into this many groups.", low=1),
        BoolParam("bias", True, "Learn an additive bias per output channel."),
        PairParam("dilation", 1, "Spacing between kernel taps.", low=1, high=4096),
    ),
    shape=_transpose_shape,
    formula=_transpose_formula,
    input_ranks=frozenset({3}),
    rank_hint="ConvTranspose2d needs a C×H×W input",
    module=_module("ConvTranspose2d", (("stride", 1), ("padding", 0), ("output_padding", 0), ("groups", 1),
                                       ("bias", True), ("dilation", 1))),
    param_count=_params,
    macs=_transpose_macs,
    window=lambda inputs, p: None,
    label=lambda p: _label(p, "×"),
    aliases=("deconvolution", "transposed convolution", "up-convolution", "fractionally strided convolution"),
    imports=(FromModule("ConvTranspose2d", fixed=(("padding_mode", "zeros"),)),),
)

SPECS = (CONV2D, CONVTRANSPOSE2D)
