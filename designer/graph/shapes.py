"""Integer arithmetic of output sizes, and the formulas that show it with numbers.

The functions here mirror PyTorch's own shape checks (``ATen/native/Pool.h``
and the convolution checks) so that what we predict, and what we refuse, is
exactly what torch computes and refuses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from designer.graph.errors import ShapeError

Shape = tuple[int, ...]

# The one wording of a per-sample rank, in every message that names one.
RANK_NAMES = {1: "flat", 2: "T×D", 3: "C×H×W"}
SHAPE_HINT = "write C×H×W like 3×224×224, T×D like 197×768, or one feature count like 784"
_SEPARATORS = re.compile(r"\s*[×xX*,]\s*|\s+")


def fmt_shape(shape: Sequence[int]) -> str:
    """``(96, 55, 55)`` -> ``96×55×55``."""
    return "×".join(str(d) for d in shape)


def rank_name(rank: int) -> str:
    """``3`` -> ``C×H×W``: how a message names a per-sample rank."""
    return RANK_NAMES.get(rank, f"{rank}-axis")


def parse_shape(text: str, ranks: Sequence[int] = (1, 2, 3)) -> Shape:
    """The shape a person typed, in any of the usual spellings, or a ValueError saying how to write it.

    ``3×224×224``, ``3x224x224``, ``3 224 224``, ``3,224,224`` and ``[3, 224, 224]`` all give
    ``(3, 224, 224)``. Every size is a whole number above zero, and there are as many as
    one of ``ranks`` allows; limits beyond that are the Input block's own to check.
    """
    parts = _SEPARATORS.split(text.strip().strip("[]()").strip())
    if len(parts) not in ranks or not all(p.isascii() and p.isdigit() for p in parts):
        raise ValueError(f"{text.strip()!r} is not a shape: {SHAPE_HINT}" if text.strip() else SHAPE_HINT)
    shape = tuple(int(p) for p in parts)
    if 0 in shape:
        raise ValueError(f"every size must be at least 1 ({SHAPE_HINT})")
    return shape


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


def conv_transpose_axis(size: int, kernel: int, stride: int, pad: int, dilation: int,
                        output_padding: int) -> int:
    """Output size of a transposed convolution along one axis; below 1 when padding trims it all."""
    return (size - 1) * stride - 2 * pad + dilation * (kernel - 1) + output_padding + 1


def conv_transpose_axis_formula(size: int, kernel: int, stride: int, pad: int, dilation: int,
                                output_padding: int) -> str:
    """``56 = (28 − 1)·2 − 2·1 + (4 − 1) + 1``; the dilation and output padding appear only when used."""
    out = conv_transpose_axis(size, kernel, stride, pad, dilation, output_padding)
    spread = f"({kernel} − 1)" if dilation == 1 else f"{dilation}·({kernel} − 1)"
    extra = f" + {output_padding}" if output_padding else ""
    return f"{out} = ({size} − 1)·{stride} − 2·{pad} + {spread}{extra} + 1"


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


def wanted_ranks(ranks: Iterable[int]) -> str:
    """``(1, 3)`` -> ``a flat or a C×H×W``; ``(1, 2, 3)`` -> ``a flat, a T×D or a C×H×W``."""
    names = [f"a {rank_name(r)}" for r in sorted(ranks)]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def need_rank(block: str, shape: Shape, ranks: Sequence[int], hint: str = "") -> None:
    if len(shape) not in ranks:
        message = f"{block} needs {wanted_ranks(ranks)} input, got {fmt_shape(shape)}"
        raise ShapeError(message + (f": {hint}" if hint else ""))
