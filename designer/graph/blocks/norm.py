"""Normalisation and regularisation: batch norm, local response norm, dropout."""

from __future__ import annotations

from collections.abc import Sequence

from designer.graph.params import BoolParam, FloatParam, IntParam
from designer.graph.shapes import need_rank
from designer.graph.spec import BlockSpec, CallSite, FromCall, FromModule, ModuleCall, Params, Shape


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

SPECS = (BATCHNORM2D, BATCHNORM1D, LOCALRESPONSENORM, DROPOUT)
