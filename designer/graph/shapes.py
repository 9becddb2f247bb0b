"""Integer arithmetic of output sizes, and the formulas that show it with numbers.

The functions here mirror PyTorch's own shape checks (``ATen/native/Pool.h``
and the convolution checks) so that what we predict, and what we refuse, is
exactly what torch computes and refuses.
"""

from __future__ import annotations

from collections.abc import Sequence

from designer.graph.errors import ShapeError

Shape = tuple[int, ...]


def fmt_shape(shape: Sequence[int]) -> str:
    """``(96, 55, 55)`` -> ``96×55×55``."""
    return "×".join(str(d) for d in shape)


def fmt_pair(h: int, w: int) -> str:
    return str(h) if h == w else f"{h}×{w}"


def conv_axis(size: int, kernel: int, stride: int, pad: int, dilation: int) -> int:
    """Output size of a convolution along one axis, or -1 if the kernel does not fit."""
    span = size + 2 * pad - dilation * (kernel - 1) - 1
    return -1 if span < 0 else span // stride + 1


def pool_axis(size: int, kernel: int, stride: int, pad: int, dilation: int, ceil: bool) -> int:
    """Output size of pooling along one axis, as ``pooling_output_shape`` in ATen."""
    span = size + 2 * pad - dilation * (kernel - 1) - 1 + (stride - 1 if ceil else 0)
    out = span // stride + 1  # floor division rounds toward -inf like div_rtn
    if ceil and (out - 1) * stride >= size + pad:
        out -= 1  # the last window must start inside the input or left padding
    return out


def _minus(value: int) -> str:
    return f"− {value}" if value >= 0 else f"+ {-value}"


def conv_axis_formula(size: int, kernel: int, stride: int, pad: int, dilation: int) -> str:
    """``55 = ⌊(227 − 11 + 2·0) / 4⌋ + 1`` with the effective kernel when dilated."""
    out = conv_axis(size, kernel, stride, pad, dilation)
    extent = dilation * (kernel - 1) + 1
    text = f"{out} = ⌊({size} {_minus(extent)} + 2·{pad}) / {stride}⌋ + 1"
    if dilation != 1:
        text += f" (dilated kernel {dilation}·({kernel} − 1) + 1 = {extent})"
    return text


def pool_axis_formula(
    size: int, kernel: int, stride: int, pad: int, dilation: int, ceil: bool
) -> str:
    """``27 = ⌊(55 − 3) / 2⌋ + 1``; padding and dilation appear only when used."""
    out = pool_axis(size, kernel, stride, pad, dilation, ceil)
    extent = dilation * (kernel - 1) + 1
    inner = f"{size} {_minus(extent)}" + (f" + 2·{pad}" if pad else "")
    left, right = ("⌈", "⌉") if ceil else ("⌊", "⌋")
    text = f"{out} = {left}({inner}) / {stride}{right} + 1"
    if ceil and out != _ceil_unclipped(size, kernel, stride, pad, dilation):
        text += " − 1 (the last window would start in the padding)"
    if dilation != 1:
        text += f" (dilated kernel {extent})"
    return text


def _ceil_unclipped(size: int, kernel: int, stride: int, pad: int, dilation: int) -> int:
    span = size + 2 * pad - dilation * (kernel - 1) - 1 + stride - 1
    return span // stride + 1


def per_axis(h_text: str, w_text: str) -> str:
    """One formula when height and width agree, else both, labelled."""
    return h_text if h_text == w_text else f"H: {h_text}; W: {w_text}"


def need_rank(block: str, shape: Shape, ranks: Sequence[int], hint: str = "") -> None:
    if len(shape) not in ranks:
        want = " or ".join({1: "a flat", 2: "a C×L", 3: "a C×H×W"}[r] for r in ranks)
        message = f"{block} needs {want} input, got {fmt_shape(shape)}"
        raise ShapeError(message + (f": {hint}" if hint else ""))
