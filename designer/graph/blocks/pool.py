"""Max, average and adaptive average pooling."""

from __future__ import annotations

from collections.abc import Sequence

from designer.graph.errors import ShapeError
from designer.graph.params import BoolParam, PairParam, pair
from designer.graph.shapes import fmt_pair, need_rank, per_axis, pool_axis, pool_axis_formula
from designer.graph.spec import (
    REQUIRED,
    BlockSpec,
    CallSite,
    FromCall,
    FromModule,
    ModuleCall,
    ModuleRule,
    Params,
    Shape,
    Window,
)


def _geometry(p: Params) -> tuple[tuple[int, int], ...]:
    kernel = pair(p["kernel_size"])
    stride = kernel if p["stride"] is None else pair(p["stride"])
    dilation = pair(p.get("dilation", 1))
    return kernel, stride, pair(p["padding"]), dilation


def _pool_shape(block: str, inputs: Sequence[Shape], p: Params) -> Shape:
    x = inputs[0]
    need_rank(block, x, (3,))
    c, h, w = x
    kernel, stride, pad, dilation = _geometry(p)
    for k, q, d in zip(kernel, pad, dilation):
        # ATen checks both half the kernel and half the dilated kernel.
        if q > k // 2 or q > (d * (k - 1) + 1) // 2:
            raise ShapeError(
                f"padding {q} is more than half of kernel {k}; use padding ≤ {k // 2}", "padding"
            )
    out = [pool_axis(size, k, s, q, d, p["ceil_mode"])
           for size, k, s, q, d in zip((h, w), kernel, stride, pad, dilation)]
    if min(out) < 1:
        raise ShapeError(
            f"window {fmt_pair(*kernel)} does not fit the input {h}×{w}; "
            "reduce kernel_size or remove an earlier downsampling",
            "kernel_size",
        )
    return (c, out[0], out[1])


def _pool_formula(inputs: Sequence[Shape], out: Shape, p: Params) -> str:
    _, h, w = inputs[0]
    kernel, stride, pad, dilation = _geometry(p)
    return per_axis(*(
        pool_axis_formula(size, k, s, q, d, p["ceil_mode"])
        for size, k, s, q, d in zip((h, w), kernel, stride, pad, dilation)
    ))


def _pool_window(inputs: Sequence[Shape], p: Params) -> Window:
    (kh, kw), (sh, sw), _, (dh, dw) = _geometry(p)
    return (dh * (kh - 1) + 1, dw * (kw - 1) + 1, sh, sw)


def _pool_module(cls: str, defaults: dict[str, object]) -> ModuleRule:
    def module(inputs: Sequence[Shape], p: Params) -> ModuleCall:
        kwargs = [(key, p[key]) for key, default in defaults.items() if p[key] != default]
        return ModuleCall(cls, (p["kernel_size"],), tuple(kwargs))
    return module


def _pool_label(p: Params) -> str:
    kernel, stride, _, _ = _geometry(p)
    return f"{fmt_pair(*kernel)} /{fmt_pair(*stride)}"


_POOL_ARGS = (("kernel_size", REQUIRED), ("stride", None), ("padding", 0))


def _common_params() -> tuple[PairParam, ...]:
    return (
        PairParam("kernel_size", 2, "Window height and width.", low=1, high=4096),
        PairParam("stride", None, "Step between windows; empty means the kernel size.",
                  low=1, high=4096, optional=True),
        PairParam("padding", 0, "Implicit padding on each side, at most half the kernel.",
                  low=0, high=2048),
    )


MAXPOOL2D = BlockSpec(
    type="MaxPool2d",
    prefix="pool",
    category="Pooling",
    help="Keeps the largest value of each window. AlexNet overlaps windows: 3×3 at stride 2.",
    params=(
        *_common_params(),
        PairParam("dilation", 1, "Spacing between window taps.", low=1, high=4096),
        BoolParam("ceil_mode", False, "Round the output size up instead of down."),
    ),
    shape=lambda inputs, p: _pool_shape("MaxPool2d", inputs, p),
    formula=_pool_formula,
    input_ranks=frozenset({3}),
    module=_pool_module("MaxPool2d", {"stride": None, "padding": 0, "dilation": 1, "ceil_mode": False}),
    window=_pool_window,
    label=_pool_label,
    imports=(
        FromModule("MaxPool2d", fixed=(("return_indices", False),)),
        FromCall("torch.nn.functional.max_pool2d", (*_POOL_ARGS, ("dilation", 1), ("ceil_mode", False),
                                                    ("return_indices", False)),
                 fixed=(("return_indices", False),)),
    ),
)

AVGPOOL2D = BlockSpec(
    type="AvgPool2d",
    prefix="avgpool",
    category="Pooling",
    help="Averages each window.",
    params=(
        *_common_params(),
        BoolParam("ceil_mode", False, "Round the output size up instead of down."),
        BoolParam("count_include_pad", True, "Count padding zeros in the average."),
    ),
    shape=lambda inputs, p: _pool_shape("AvgPool2d", inputs, p),
    formula=_pool_formula,
    input_ranks=frozenset({3}),
    module=_pool_module(
        "AvgPool2d", {"stride": None, "padding": 0, "ceil_mode": False, "count_include_pad": True}
    ),
    window=_pool_window,
    label=_pool_label,
    imports=(
        FromModule("AvgPool2d", fixed=(("divisor_override", None),)),
        FromCall("torch.nn.functional.avg_pool2d", (*_POOL_ARGS, ("ceil_mode", False),
                                                    ("count_include_pad", True), ("divisor_override", None)),
                 fixed=(("divisor_override", None),)),
    ),
)


def _adaptive_shape(inputs: Sequence[Shape], p: Params) -> Shape:
    x = inputs[0]
    need_rank("AdaptiveAvgPool2d", x, (3,))
    oh, ow = pair(p["output_size"])
    return (x[0], oh, ow)


def _adaptive_size(output_size: object, site: CallSite) -> dict[str, object]:
    """``output_size`` as the block holds it: a ``None`` side keeps the input's size."""
    sizes = list(output_size) if isinstance(output_size, (list, tuple)) else [output_size, output_size]
    return {"output_size": [s if s is not None else site.output[2 + i] for i, s in enumerate(sizes)]}


def _adaptive_window(inputs: Sequence[Shape], p: Params) -> Window:
    _, h, w = inputs[0]
    oh, ow = pair(p["output_size"])
    # The widest window torch uses: ceil((i+1)·in/out) − floor(i·in/out) ≤ ⌈in/out⌉ + 1.
    kh, kw = -(-h // oh) + (h % oh != 0), -(-w // ow) + (w % ow != 0)
    return (min(kh, h), min(kw, w), max(h // oh, 1), max(w // ow, 1))


ADAPTIVEAVGPOOL2D = BlockSpec(
    type="AdaptiveAvgPool2d",
    prefix="gap",
    category="Pooling",
    help="Averages into a fixed output size whatever the input size; output_size 1 is "
    "global average pooling.",
    params=(PairParam("output_size", 1, "Output height and width.", low=1, high=4096),),
    shape=_adaptive_shape,
    formula=lambda inputs, out, p: f"output_size {fmt_pair(out[1], out[2])} from "
    f"{fmt_pair(inputs[0][1], inputs[0][2])}",
    input_ranks=frozenset({3}),
    module=lambda inputs, p: ModuleCall("AdaptiveAvgPool2d", (p["output_size"],)),
    window=_adaptive_window,
    label=lambda p: "→ " + "×".join(map(str, pair(p["output_size"]))),
    imports=(
        FromModule("AdaptiveAvgPool2d", read=lambda module, site: _adaptive_size(module.output_size, site)),
        FromCall("torch.nn.functional.adaptive_avg_pool2d", (("output_size", REQUIRED),),
                 read=lambda site: _adaptive_size(site.arguments["output_size"], site)),
    ),
)

SPECS = (MAXPOOL2D, AVGPOOL2D, ADAPTIVEAVGPOOL2D)
