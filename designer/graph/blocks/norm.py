"""Normalisation and regularisation: batch, layer and local response norm, dropout, stochastic depth.

LayerNorm holds how many trailing axes it normalises, not their sizes: like the
channels of BatchNorm2d, the sizes (torch's ``normalized_shape``) follow from the
input, so a LayerNorm dropped after 197×768 tokens is right without editing. The
channels-first LayerNorm2d and StochasticDepth have no ``torch.nn`` class: theirs are
helpers (:mod:`designer.graph.helpers`), imported from torchvision's by qualified name.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from designer.graph.errors import ShapeError
from designer.graph.params import BoolParam, ChoiceParam, FloatParam, IntParam
from designer.graph.shapes import fmt_shape, need_rank
from designer.graph.spec import (
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


def _same(inputs: Sequence[Shape], p: Params) -> Shape:
    return inputs[0]


def _dropout(site: CallSite) -> dict[str, object] | None:
    """``F.dropout(x, p, training=False)`` never drops in any mode: it changes nothing."""
    return {"p": site.arguments["p"]} if site.arguments["training"] is not False else None


def _bn_shape(block: str, ranks: tuple[int, ...]):  # type: ignore[no-untyped-def]
    def shape(inputs: Sequence[Shape], p: Params) -> Shape:
        need_rank(block, inputs[0], ranks)
        return inputs[0]
    return shape


def _bn_module(cls: str):  # type: ignore[no-untyped-def]
    defaults = {"eps": 1e-5, "momentum": 0.1, "affine": True, "track_running_stats": True}

    def module(inputs: Sequence[Shape], p: Params) -> ModuleCall:
        kwargs = tuple((k, p[k]) for k, d in defaults.items() if p[k] != d)
        return ModuleCall(cls, (inputs[0][0],), kwargs)
    return module


def _bn_params() -> tuple[FloatParam | BoolParam, ...]:
    return (
        FloatParam("eps", 1e-5, "Added to the variance to avoid division by zero.", low=0, low_open=True),
        FloatParam("momentum", 0.1, "Weight of the newest batch in the running statistics.", low=0, high=1),
        BoolParam("affine", True, "Learn a scale and shift per channel."),
        BoolParam("track_running_stats", True, "Keep running mean and variance for evaluation."),
    )


def _bn_count(inputs: Sequence[Shape], out: Shape, p: Params) -> int:
    return 2 * inputs[0][0] if p["affine"] else 0


BATCHNORM2D = BlockSpec(
    type="BatchNorm2d",
    prefix="bn",
    category="Normalization",
    help="Normalises each channel over the batch and the image, then scales and shifts it.",
    params=_bn_params(),
    shape=_bn_shape("BatchNorm2d", (3,)),
    input_ranks=frozenset({3}),
    module=_bn_module("BatchNorm2d"),
    param_count=_bn_count,
    imports=(FromModule("BatchNorm2d"),),
)

BATCHNORM1D = BlockSpec(
    type="BatchNorm1d",
    prefix="bn",
    category="Normalization",
    help="Normalises each feature over the batch, then scales and shifts it.",
    params=_bn_params(),
    shape=_bn_shape("BatchNorm1d", (1, 2)),
    input_ranks=frozenset({1, 2}),
    rank_hint="use BatchNorm2d on images",
    module=_bn_module("BatchNorm1d"),
    param_count=_bn_count,
    imports=(FromModule("BatchNorm1d"),),
)


def _lrn_shape(inputs: Sequence[Shape], p: Params) -> Shape:
    need_rank("LocalResponseNorm", inputs[0], (2, 3))
    return inputs[0]


def _lrn_formula(inputs: Sequence[Shape], out: Shape, p: Params) -> str:
    paper_alpha = p["alpha"] / p["size"]
    return (
        f"b = a / ({p['k']:g} + {paper_alpha:.4g}·Σa²)^{p['beta']:g}, "
        f"Σ over {p['size']} neighbouring channels (paper α = alpha/size)"
    )


def _lrn_module(inputs: Sequence[Shape], p: Params) -> ModuleCall:
    kwargs = tuple(
        (k, p[k]) for k, d in (("alpha", 1e-4), ("beta", 0.75), ("k", 1.0)) if p[k] != d
    )
    return ModuleCall("LocalResponseNorm", (p["size"],), kwargs)


LOCALRESPONSENORM = BlockSpec(
    type="LocalResponseNorm",
    prefix="lrn",
    category="Normalization",
    help="AlexNet's local response normalisation, in torch's convention: "
    "b = a / (k + alpha/size · Σ a²)^beta over `size` neighbouring channels. "
    "The paper's α is alpha/size: its k=2, n=5, α=1e-4, β=0.75 is "
    "size=5, alpha=5e-4, beta=0.75, k=2 here.",
    params=(
        IntParam("size", 5, "Number of neighbouring channels summed over (the paper's n).", low=1, high=4096),
        FloatParam("alpha", 1e-4, "Scale of the sum, divided by size (paper α × n).", low=0),
        FloatParam("beta", 0.75, "Exponent.", low=0),
        FloatParam("k", 1.0, "Additive constant.", low=0),
    ),
    shape=_lrn_shape,
    formula=_lrn_formula,
    input_ranks=frozenset({2, 3}),
    module=_lrn_module,
    label=lambda p: f"n={p['size']} k={p['k']:g}",
    imports=(FromModule("LocalResponseNorm"),),
)

DROPOUT = BlockSpec(
    type="Dropout",
    prefix="dropout",
    category="Regularization",
    help="During training zeroes each value with probability p and scales the rest by 1/(1−p).",
    params=(FloatParam("p", 0.5, "Probability of zeroing a value.", low=0, high=1),),
    shape=_same,
    module=lambda inputs, p: ModuleCall("Dropout", (p["p"],) if p["p"] != 0.5 else ()),
    label=lambda p: f"p={p['p']:g}",
    imports=(
        FromModule("Dropout"),
        FromCall("torch.nn.functional.dropout", (("p", 0.5), ("training", True), ("inplace", False)),
                 read=lambda site: _dropout(site)),
    ),
)

# -- layer norm ------------------------------------------------------------------------


def _ln_params() -> tuple[FloatParam | BoolParam, ...]:
    return (
        FloatParam("eps", 1e-5, "Added to the variance to avoid division by zero.", low=0, low_open=True),
        BoolParam("elementwise_affine", True, "Learn a scale (and a shift, with bias) per normalised value."),
        BoolParam("bias", True, "Learn the shift too (with elementwise_affine)."),
    )


def _ln_kwargs(p: Params) -> tuple[tuple[str, Any], ...]:
    defaults = {"eps": 1e-5, "elementwise_affine": True, "bias": True}
    return tuple((k, p[k]) for k, d in defaults.items() if p[k] != d)


def _ln_count(values: int, p: Params) -> int:
    return (values * (2 if p["bias"] else 1)) if p["elementwise_affine"] else 0


def _ln_tail(x: Shape, p: Params) -> Shape:
    """The normalised sizes, torch's ``normalized_shape``: the input's last ``normalized_dims``."""
    n = p["normalized_dims"]
    if n > len(x):
        axes = f"{len(x)} axis" if len(x) == 1 else f"{len(x)} axes"
        raise ShapeError(f"the input {fmt_shape(x)} has {axes}, fewer than normalized_dims {n}: "
                         f"use at most {len(x)}", "normalized_dims")
    return x[len(x) - n:]


def _ln_shape(inputs: Sequence[Shape], p: Params) -> Shape:
    _ln_tail(inputs[0], p)
    return inputs[0]


def _ln_formula(inputs: Sequence[Shape], out: Shape, p: Params) -> str:
    x = inputs[0]
    tail = _ln_tail(x, p)
    groups = math.prod(x) // math.prod(tail)
    over = f"each {fmt_shape(tail)} ({groups:,} per sample)" if groups > 1 else "the whole sample"
    return f"(x − mean) / √(var + {p['eps']:g}) over {over}"


def _ln_module(inputs: Sequence[Shape], p: Params) -> ModuleCall:
    tail = _ln_tail(inputs[0], p)
    return ModuleCall("LayerNorm", (tail[0] if len(tail) == 1 else list(tail),), _ln_kwargs(p))


def _ln_settings(eps: float, weight: bool, bias: bool) -> dict[str, Any]:
    # Without the affine part torch has no bias either; the block's bias then keeps its default.
    return {"eps": eps, "elementwise_affine": weight, "bias": bias or not weight}


def _ln_trailing(normalized: Sequence[int], site: CallSite) -> int:
    x = site.inputs[0]
    if tuple(normalized) != tuple(x[len(x) - len(normalized):]) or len(normalized) >= len(x):
        raise Refused(f"normalized_shape {tuple(normalized)} is not the trailing sizes of a sample "
                      f"{fmt_shape(x[1:])}")
    return len(normalized)


def _ln_read(module: Any, site: CallSite) -> dict[str, Any]:
    return {"normalized_dims": _ln_trailing(module.normalized_shape, site),
            **_ln_settings(module.eps, module.weight is not None, module.bias is not None)}


def _ln_call(site: CallSite) -> dict[str, Any]:
    shape = site.arguments["normalized_shape"]
    normalized = (shape,) if isinstance(shape, int) else tuple(shape)
    return {"normalized_dims": _ln_trailing(normalized, site),
            **_ln_settings(site.arguments["eps"], False, False)}


LAYERNORM = BlockSpec(
    type="LayerNorm",
    prefix="ln",
    category="Normalization",
    help="Normalises each sample over its last normalized_dims axes (each token's features), then scales "
    "and shifts each value; unlike batch norm it needs no batch statistics. The sizes, torch's "
    "normalized_shape, are the input's.",
    params=(
        IntParam("normalized_dims", 1, "How many trailing axes are normalised together: 1 is the last "
                 "(each token's features).", low=1, high=8),
        *_ln_params(),
    ),
    shape=_ln_shape,
    formula=_ln_formula,
    module=_ln_module,
    param_count=lambda inputs, out, p: _ln_count(math.prod(_ln_tail(inputs[0], p)), p),
    label=lambda p: "last axis" if p["normalized_dims"] == 1 else f"last {p['normalized_dims']} axes",
    aliases=("layer norm", "layernorm", "ln"),
    imports=(
        FromModule("LayerNorm", read=_ln_read),
        # weight and bias given as tensors are not the block's: only the plain normalisation is.
        FromCall("torch.nn.functional.layer_norm",
                 (("normalized_shape", REQUIRED), ("weight", None), ("bias", None), ("eps", 1e-5)),
                 fixed=(("weight", None), ("bias", None)), read=_ln_call),
    ),
)


def _ln2d_shape(inputs: Sequence[Shape], p: Params) -> Shape:
    need_rank("LayerNorm2d", inputs[0], (3,), "on tokens use LayerNorm")
    return inputs[0]


def _ln2d_read(module: Any, site: CallSite) -> dict[str, Any]:
    channels = site.inputs[0][1] if len(site.inputs[0]) == 4 else None
    if tuple(module.normalized_shape) != (channels,):
        raise Refused(f"normalized_shape {tuple(module.normalized_shape)} is not the input's channels")
    return _ln_settings(module.eps, module.weight is not None, module.bias is not None)


LAYERNORM2D = BlockSpec(
    type="LayerNorm2d",
    prefix="ln",
    category="Normalization",
    help="LayerNorm over the C channels at each position of a C×H×W map, as ConvNeXt uses it in its stem, "
    "downsamplers and head (torchvision's LayerNorm2d): the same as Permute to H×W×C, LayerNorm, Permute back.",
    params=_ln_params(),
    shape=_ln2d_shape,
    formula=lambda inputs, out, p: f"(x − mean) / √(var + {p['eps']:g}) over the {inputs[0][0]} channels, "
    f"at each of the {fmt_shape(inputs[0][1:])} positions",
    input_ranks=frozenset({3}),
    rank_hint="on tokens use LayerNorm",
    module=lambda inputs, p: ModuleCall("LayerNorm2d", (inputs[0][0],), _ln_kwargs(p), helper=True),
    param_count=lambda inputs, out, p: _ln_count(inputs[0][0], p),
    helpers=("LayerNorm2d",),
    aliases=("channels-first layer norm", "convnext norm"),
    imports=(FromModule("torchvision.models.convnext.LayerNorm2d", read=_ln2d_read),),
)


# -- stochastic depth ---------------------------------------------------------------------


def _sd_call(site: CallSite) -> dict[str, Any] | None:
    """``stochastic_depth(x, p, mode, training=False)`` never drops: it changes nothing."""
    args = site.arguments
    return {"p": args["p"], "mode": args["mode"]} if args["training"] is not False else None


_TORCHVISION_SD = "torchvision.ops.stochastic_depth."

STOCHASTICDEPTH = BlockSpec(
    type="StochasticDepth",
    prefix="drop_path",
    category="Regularization",
    help="Stochastic depth (Huang et al. 2016), as torchvision.ops.StochasticDepth: while training, zeroes "
    "its whole input with probability p, for each sample (row) or for the whole batch (batch), and scales "
    "what is kept by 1/(1 − p); in evaluation it passes the input on. Put it at the end of a residual "
    "branch, before the Add, so a dropped branch leaves the shortcut.",
    params=(
        FloatParam("p", 0.1, "Probability of dropping the input.", low=0, high=1),
        ChoiceParam("mode", "row", "'row' draws once per sample, 'batch' once for the whole batch.",
                    choices=("row", "batch")),
    ),
    shape=_same,
    module=lambda inputs, p: ModuleCall("StochasticDepth", (p["p"], p["mode"]), helper=True),
    label=lambda p: f"p={p['p']:g} {p['mode']}",
    helpers=("StochasticDepth",),
    aliases=("drop path", "droppath", "drop connect"),
    imports=(
        FromModule(_TORCHVISION_SD + "StochasticDepth"),
        FromCall(_TORCHVISION_SD + "stochastic_depth",
                 (("p", REQUIRED), ("mode", REQUIRED), ("training", True)), read=_sd_call),
    ),
)

SPECS = (BATCHNORM2D, BATCHNORM1D, LAYERNORM, LAYERNORM2D, LOCALRESPONSENORM, DROPOUT, STOCHASTICDEPTH)
