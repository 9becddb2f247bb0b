"""Element-wise activations; none changes the shape."""

from __future__ import annotations

from collections.abc import Sequence

from designer.graph.errors import ShapeError
from designer.graph.params import ChoiceParam, FloatParam, IntParam, Param
from designer.graph.spec import BlockSpec, FromCall, FromModule, ImportRule, ModuleCall, Params, Shape

F = "torch.nn.functional."


def _same(inputs: Sequence[Shape], p: Params) -> Shape:
    return inputs[0]


def _simple(name: str, help: str, params: tuple[Param, ...] = (),
            calls: tuple[ImportRule, ...] = (), aliases: tuple[str, ...] = ()) -> BlockSpec:
    """An activation that is ``nn.<name>(**params)``, and the functions and methods that compute it."""
    defaults = {q.name: q.default for q in params}

    def module(inputs: Sequence[Shape], p: Params) -> ModuleCall:
        kwargs = tuple((k, p[k]) for k, d in defaults.items() if p[k] != d)
        return ModuleCall(name, (), kwargs)

    return BlockSpec(type=name, category="Activation", help=help, params=params,
                     shape=_same, module=module, imports=(FromModule(name), *calls), aliases=aliases)


def _everywhere(function: str, *signature: tuple[str, object]) -> tuple[FromCall, ...]:
    """``torch.f``, ``torch.f_``, ``Tensor.f`` and ``Tensor.f_``: one function, written four ways."""
    return tuple(FromCall(target, signature) for target in (
        f"torch.{function}", f"torch.{function}_", f"Tensor.{function}", f"Tensor.{function}_"))


def _functional(function: str) -> tuple[FromCall, ...]:
    """``F.function(x, inplace=False)``; writing in place changes nothing a block computes."""
    return (FromCall(F + function, (("inplace", False),)),)


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
    imports=(FromModule("PReLU"),),
)

IDENTITY = BlockSpec(
    type="Identity",
    category="Activation",
    help="Passes its input on unchanged: a placeholder where a block may go later, as nn.Identity.",
    params=(),
    shape=_same,
    module=lambda inputs, p: ModuleCall("Identity"),
    # contiguous() changes the memory layout only: the same values go on, and no block is made.
    imports=(FromModule("Identity"), FromCall("Tensor.contiguous", read=lambda site: None)),
)

SPECS = (
    _simple("ReLU", "max(0, x): the non-saturating activation that made AlexNet train fast.",
            calls=(FromCall(F + "relu", (("inplace", False),)), *_everywhere("relu"))),
    _simple("LeakyReLU", "x for x > 0, negative_slope·x otherwise.",
            (FloatParam("negative_slope", 0.01, "Slope for negative inputs."),),
            (FromCall(F + "leaky_relu", (("negative_slope", 0.01), ("inplace", False))),)),
    PRELU,
    _simple("ELU", "x for x > 0, alpha·(eˣ − 1) otherwise.",
            (FloatParam("alpha", 1.0, "Value approached for large negative inputs."),),
            (FromCall(F + "elu", (("alpha", 1.0), ("inplace", False))),)),
    _simple("GELU", "x·Φ(x), the Gaussian error linear unit.",
            (ChoiceParam("approximate", "none", "'tanh' uses the faster approximation.",
                         choices=("none", "tanh")),),
            (FromCall(F + "gelu", (("approximate", "none"),)),)),
    _simple("Softplus", "log(1 + e^(beta·x)) / beta, a smooth ReLU.",
            (FloatParam("beta", 1.0, "Sharpness."),
             FloatParam("threshold", 20.0, "Above beta·x > threshold it is linear.")),
            (FromCall(F + "softplus", (("beta", 1.0), ("threshold", 20.0))),)),
    _simple("Sigmoid", "1 / (1 + e⁻ˣ), squashes to (0, 1).",
            calls=(FromCall(F + "sigmoid"), *_everywhere("sigmoid"))),
    _simple("Tanh", "Hyperbolic tangent, squashes to (−1, 1).",
            calls=(FromCall(F + "tanh"), *_everywhere("tanh"))),
    # The activations of mobile networks: none has a torch.* or Tensor method, only F.*.
    _simple("ReLU6", "min(max(0, x), 6): a ReLU capped at 6, which keeps low-precision "
            "arithmetic exact (MobileNet v1 and v2).", calls=_functional("relu6"),
            aliases=("clipped relu", "relu 6")),
    _simple("Hardswish", "x·ReLU6(x + 3) / 6, the hard swish (h-swish): swish made of "
            "piecewise-linear parts, cheap on phones (MobileNet v3).", calls=_functional("hardswish"),
            aliases=("hard swish", "h-swish", "hswish")),
    _simple("Hardsigmoid", "ReLU6(x + 3) / 6, the hard sigmoid: the squeeze-and-excitation "
            "gate of MobileNet v3.", calls=_functional("hardsigmoid"),
            aliases=("hard sigmoid", "h-sigmoid", "hsigmoid")),
    _simple("SiLU", "x·σ(x), the sigmoid-weighted linear unit, also called swish "
            "(EfficientNet, MnasNet's successors, RegNet-Y).", calls=_functional("silu"),
            aliases=("swish", "sigmoid linear unit")),
    _simple("Mish", "x·tanh(softplus(x)), a smooth, non-monotonic self-gated activation.",
            calls=_functional("mish"), aliases=("self-gated",)),
    IDENTITY,
)
