"""Element-wise activations; none changes the shape."""

from __future__ import annotations

from collections.abc import Sequence

from designer.graph.errors import ShapeError
from designer.graph.params import ChoiceParam, FloatParam, IntParam, Param
from designer.graph.spec import BlockSpec, ModuleCall, Params, Shape


def _same(inputs: Sequence[Shape], p: Params) -> Shape:
    return inputs[0]


def _simple(name: str, help: str, params: tuple[Param, ...] = ()) -> BlockSpec:
    defaults = {q.name: q.default for q in params}

    def module(inputs: Sequence[Shape], p: Params) -> ModuleCall:
        kwargs = tuple((k, p[k]) for k, d in defaults.items() if p[k] != d)
        return ModuleCall(name, (), kwargs)

    return BlockSpec(type=name, category="Activation", help=help, params=params,
                     shape=_same, module=module)


def _prelu_shape(inputs: Sequence[Shape], p: Params) -> Shape:
    n, channels = p["num_parameters"], inputs[0][0]
    if n not in (1, channels):
        raise ShapeError(
            f"num_parameters must be 1 or the input's {channels} channels, got {n}",
            "num_parameters",
        )
    return inputs[0]


def _prelu_module(inputs: Sequence[Shape], p: Params) -> ModuleCall:
    kwargs = tuple(
        (k, p[k]) for k, d in (("num_parameters", 1), ("init", 0.25)) if p[k] != d
    )
    return ModuleCall("PReLU", (), kwargs)


PRELU = BlockSpec(
    type="PReLU",
    category="Activation",
    help="Leaky ReLU whose negative slope is learned, shared or one per channel.",
    params=(
        IntParam("num_parameters", 1, "1 for one shared slope, or the channel count.", low=1),
        FloatParam("init", 0.25, "Initial slope.", ),
    ),
    shape=_prelu_shape,
    module=_prelu_module,
    param_count=lambda inputs, out, p: p["num_parameters"],
)

SPECS = (
    _simple("ReLU", "max(0, x): the non-saturating activation that made AlexNet train fast."),
    _simple("LeakyReLU", "x for x > 0, negative_slope·x otherwise.",
            (FloatParam("negative_slope", 0.01, "Slope for negative inputs."),)),
    PRELU,
    _simple("ELU", "x for x > 0, alpha·(eˣ − 1) otherwise.",
            (FloatParam("alpha", 1.0, "Value approached for large negative inputs."),)),
    _simple("GELU", "x·Φ(x), the Gaussian error linear unit.",
            (ChoiceParam("approximate", "none", "'tanh' uses the faster approximation.",
                         choices=("none", "tanh")),)),
    _simple("Softplus", "log(1 + e^(beta·x)) / beta, a smooth ReLU.",
            (FloatParam("beta", 1.0, "Sharpness."),
             FloatParam("threshold", 20.0, "Above beta·x > threshold it is linear."))),
    _simple("Sigmoid", "1 / (1 + e⁻ˣ), squashes to (0, 1)."),
    _simple("Tanh", "Hyperbolic tangent, squashes to (−1, 1)."),
)
