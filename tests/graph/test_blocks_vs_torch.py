"""Every block's shape rule, refusals and costs against the real ``torch.nn`` module.

Hypothesis draws parameters inside each block's schema and input sizes, valid
and invalid alike (kernels that do not fit, padding beyond half the kernel,
groups that do not divide, dims out of range), builds the module the block
compiles to and runs it on ``device="meta"``, where no memory is touched. The
rule must predict torch's output shape (batch prepended) and raise
:class:`ShapeError` exactly where torch raises, at construction or in forward.

Where the designer refuses on purpose what torch would accept (Add never
broadcasts, Linear wants a flat input, 2-D blocks want C×H×W although torch
takes unbatched input) the properties stay on the inputs where both agree and
plain tests pin the policy messages.
"""

from __future__ import annotations

import functools
import math
import operator
import re
from collections.abc import Callable, Sequence
from typing import Any

import pytest
import torch
import torch.nn as nn
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from torch.utils.flop_counter import FlopCounterMode

from designer.graph.blocks import activations
from designer.graph.errors import ShapeError
from designer.graph.helpers import helper_namespace
from designer.graph.params import BoolParam, ChoiceParam, FloatParam, IntParam, Param
from designer.graph.registry import REGISTRY
from designer.graph.spec import ModuleCall

Shape = tuple[int, ...]
BATCH = 2
# What torch raises for a shape or argument it refuses; a TypeError would mean
# our ModuleCall is malformed and must fail the test instead.
TORCH_REFUSES = (RuntimeError, ValueError, IndexError)

FEW = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MANY = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# -- running torch -------------------------------------------------------------


def build(call: ModuleCall, device: str = "meta") -> nn.Module:
    """The layer, from the same constructor text the compiler evaluates (a helper class, an nn.Parameter)."""
    namespace = helper_namespace((call.cls,) if call.helper else ())
    with torch.device(device):
        module: nn.Module = eval(call.source(), dict(namespace))
    return module


def forward(fn: Callable[..., torch.Tensor], inputs: Sequence[Shape], device: str) -> tuple[Shape, int]:
    """The output shape (with batch) and the flops counted while running ``fn``."""
    xs = [torch.empty((BATCH, *shape), device=device) for shape in inputs]
    with FlopCounterMode(display=False) as counter:
        y = fn(*xs)
    return tuple(y.shape), counter.get_total_flops()


def note(text: str) -> None:
    """A hypothesis event (shown by --hypothesis-show-statistics), when under @given."""
    if currently_in_test_context():
        event(text)


def trainable(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def our_shape(type_: str, inputs: Sequence[Shape], params: dict[str, Any]) -> Shape | ShapeError:
    spec = REGISTRY[type_]
    try:
        return spec.shape(tuple(inputs), params)
    except ShapeError as exc:
        assert str(exc), "a ShapeError must say what is wrong"
        return exc


def compare(type_: str, raw: dict[str, Any], inputs: Sequence[Shape], device: str = "meta") -> Shape | None:
    """Check the block against its torch module; returns our shape, None if both refuse."""
    spec = REGISTRY[type_]
    params = spec.coerce_params(raw)  # the strategies stay inside the schema
    inputs = tuple(tuple(s) for s in inputs)
    ours = our_shape(type_, inputs, params)
    assert spec.module is not None
    call = spec.module(inputs, params)
    try:
        module = build(call, device)
        theirs, flops = forward(module, inputs, device)
    except TORCH_REFUSES as exc:
        note(f"{type_}: both refuse")
        assert isinstance(ours, ShapeError), (
            f"torch refuses {call.source()} on {inputs}: {exc}; we predicted {ours}"
        )
        return None
    note(f"{type_}: both accept")
    assert not isinstance(ours, ShapeError), (
        f"we refuse {call.source()} on {inputs} ({ours}) but torch gives {theirs}"
    )
    assert theirs == (BATCH, *ours), f"{call.source()} on {inputs}"
    assert spec.param_count(inputs, ours, params) == trainable(module), call.source()
    # FlopCounterMode counts a multiply-add as 2 flops, for the whole batch.
    assert 2 * BATCH * spec.macs(inputs, ours, params) == flops, call.source()
    if spec.formula is not None:
        text = spec.formula(inputs, ours, params)
        if "⌋" in text or "⌉" in text:
            axes = evaluate_formula(text)
            axes *= 3 - len(axes)  # one formula stands for both axes when they agree
            for size, (claimed, computed) in zip(ours[1:], axes, strict=True):
                assert claimed == computed == size, f"{text!r} for {call.source()} on {inputs}"
    return ours


def _evaluate(expression: str) -> int:
    """Integer value of formula arithmetic: ``⌊(227 − 11 + 2·0) / 4⌋ + 1``."""
    python = (expression.replace("−", "-").replace("·", "*")
              .replace("⌊", "math.floor(").replace("⌋", ")")
              .replace("⌈", "math.ceil(").replace("⌉", ")"))
    assert re.fullmatch(r"[0-9+\-*/() .a-z]*", python), expression
    value = eval(python, {"math": math})
    assert value == int(value)
    return int(value)


def evaluate_formula(text: str) -> list[tuple[int, int]]:
    """(the size a formula claims, what its arithmetic gives) per axis, H before W."""
    axes = [part.split(": ", 1)[1] for part in text.split("; ")] if text.startswith("H: ") else [text]
    results = []
    for axis in axes:
        dilated = re.search(r" \(dilated kernel (.*)\)$", axis)
        if dilated:
            axis = axis[: dilated.start()]
            if " = " in dilated.group(1):  # conv spells out d·(k − 1) + 1 = extent
                work, extent = dilated.group(1).split(" = ")
                assert _evaluate(work) == int(extent), text
        axis = axis.replace(" (the last window would start in the padding)", "")
        claimed, expression = axis.split(" = ")
        results.append((int(claimed), _evaluate(expression)))
    return results


# -- strategies ------------------------------------------------------------------


def pairs(low: int, high: int) -> st.SearchStrategy[int | tuple[int, int]]:
    """A pair parameter: one int for both axes, or an (h, w) tuple."""
    one = st.integers(low, high)
    return st.one_of(one, st.tuples(one, one))


def shapes(ranks: Sequence[int] = (1, 2, 3), low: int = 1, high: int = 6) -> st.SearchStrategy[Shape]:
    return st.sampled_from(tuple(ranks)).flatmap(
        lambda rank: st.tuples(*[st.integers(low, high)] * rank)
    )


def images(channels: int = 8, size: int = 12) -> st.SearchStrategy[Shape]:
    return st.tuples(st.integers(1, channels), st.integers(1, size), st.integers(1, size))


def from_schema(param: Param) -> st.SearchStrategy[Any]:
    """Any value the schema accepts, kept small."""
    if isinstance(param, BoolParam):
        return st.booleans()
    if isinstance(param, ChoiceParam):
        return st.sampled_from(param.choices)
    if isinstance(param, IntParam):
        return st.integers(max(param.low, -8), min(param.high, 16))
    if isinstance(param, FloatParam):
        low = max(param.low, -10.0)
        return st.floats(low, min(param.high, 10.0), exclude_min=param.low_open and low == param.low,
                         allow_nan=False, allow_infinity=False)
    raise AssertionError(f"no strategy for {param!r}")


def schema_params(type_: str) -> st.SearchStrategy[dict[str, Any]]:
    spec = REGISTRY[type_]
    return st.fixed_dictionaries({p.name: from_schema(p) for p in spec.params})


# -- convolution -------------------------------------------------------------------


@st.composite
def conv_cases(draw: st.DrawFn) -> tuple[dict[str, Any], Shape]:
    groups = draw(st.integers(1, 4))
    # Mostly channel counts that divide, sometimes ones that do not.
    c = draw(st.one_of(st.integers(1, 3).map(lambda n: n * groups), st.integers(1, 8)))
    out = draw(st.one_of(st.integers(1, 3).map(lambda n: n * groups), st.integers(1, 8)))
    params = {
        "out_channels": out,
        "kernel_size": draw(pairs(1, 9)),
        "stride": draw(st.one_of(pairs(1, 4), st.just(1))),
        "padding": draw(st.one_of(pairs(0, 5), st.sampled_from(["same", "valid"]))),
        "dilation": draw(st.one_of(st.just(1), pairs(1, 3))),
        "groups": groups,
        "bias": draw(st.booleans()),
    }
    return params, (c, draw(st.integers(1, 14)), draw(st.integers(1, 14)))


# torch warns that 'same' with an even kernel copies the input; only the shape matters here.
SAME_EVEN_KERNEL = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel:UserWarning")


@SAME_EVEN_KERNEL
@MANY
@given(conv_cases())
def test_conv2d_matches_torch(case: tuple[dict[str, Any], Shape]) -> None:
    params, x = case
    compare("Conv2d", params, [x])


@settings(max_examples=150, deadline=None)
@given(
    st.integers(1, 12), st.integers(1, 12), st.integers(1, 3), st.integers(1, 3), st.integers(0, 3)
)
def test_conv2d_suggested_padding_is_the_least_that_fits(
    size: int, kernel: int, dilation: int, stride: int, padding: int
) -> None:
    params = {"out_channels": 2, "kernel_size": kernel, "dilation": dilation, "stride": stride,
              "padding": padding}
    error = our_shape("Conv2d", [(1, size, size)], REGISTRY["Conv2d"].coerce_params(params))
    if not isinstance(error, ShapeError):
        return
    found = re.fullmatch(r"(dilated )?kernel (\d+) is larger than the padded input (\d+); "
                         r"reduce kernel_size or add padding ≥ (\d+)", str(error))
    assert found, str(error)
    extent, padded, need = (int(g) for g in found.groups()[1:])
    assert extent == dilation * (kernel - 1) + 1 and padded == size + 2 * padding
    assert error.param == "kernel_size"
    # torch accepts the suggested padding and refuses one less.
    assert compare("Conv2d", {**params, "padding": need}, [(1, size, size)]) is not None
    if need > 0:
        assert compare("Conv2d", {**params, "padding": need - 1}, [(1, size, size)]) is None


def test_conv2d_refuses_inputs_that_are_not_images() -> None:
    # torch would take a C×L input as an unbatched image; the designer wants C×H×W.
    for x in [(3,), (3, 32)]:
        with pytest.raises(ShapeError, match="Conv2d needs a C×H×W input"):
            REGISTRY["Conv2d"].shape([x], REGISTRY["Conv2d"].defaults())


# -- pooling -------------------------------------------------------------------------


@st.composite
def pool_cases(draw: st.DrawFn, dilation: bool) -> tuple[dict[str, Any], Shape]:
    kernel = draw(pairs(1, 7))
    kh, kw = kernel if isinstance(kernel, tuple) else (kernel, kernel)
    # Mostly padding up to half the kernel, which torch allows, plus one more.
    padding = draw(st.one_of(
        st.tuples(st.integers(0, kh // 2 + 1), st.integers(0, kw // 2 + 1)),
        st.integers(0, min(kh, kw) // 2 + 1),
        pairs(0, 4),
    ))
    params: dict[str, Any] = {
        "kernel_size": kernel,
        "stride": draw(st.one_of(st.none(), pairs(1, 4))),
        "padding": padding,
        "ceil_mode": draw(st.booleans()),
    }
    if dilation:
        params["dilation"] = draw(st.one_of(st.just(1), pairs(1, 3)))
    else:
        params["count_include_pad"] = draw(st.booleans())
    return params, draw(images(4, 12))


@MANY
@given(pool_cases(dilation=True))
def test_maxpool2d_matches_torch(case: tuple[dict[str, Any], Shape]) -> None:
    params, x = case
    compare("MaxPool2d", params, [x])


@MANY
@given(pool_cases(dilation=False))
def test_avgpool2d_matches_torch(case: tuple[dict[str, Any], Shape]) -> None:
    params, x = case
    compare("AvgPool2d", params, [x])


@FEW
@given(pairs(1, 12), images(4, 10))
def test_adaptive_avgpool2d_matches_torch(output_size: int | tuple[int, int], x: Shape) -> None:
    compare("AdaptiveAvgPool2d", {"output_size": output_size}, [x])


@pytest.mark.parametrize("block", ["MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d"])
def test_pooling_refuses_inputs_that_are_not_images(block: str) -> None:
    spec = REGISTRY[block]
    for x in [(3,), (3, 32)]:
        with pytest.raises(ShapeError, match=f"{block} needs a C×H×W input"):
            spec.shape([x], spec.defaults())


# -- normalisation and regularisation ----------------------------------------------


@FEW
@given(schema_params("LocalResponseNorm"), shapes())
def test_local_response_norm_matches_torch(params: dict[str, Any], x: Shape) -> None:
    compare("LocalResponseNorm", params, [x])


@FEW
@given(schema_params("BatchNorm2d"), shapes())
def test_batchnorm2d_matches_torch(params: dict[str, Any], x: Shape) -> None:
    compare("BatchNorm2d", params, [x])


@FEW
@given(schema_params("BatchNorm1d"), shapes())
def test_batchnorm1d_matches_torch(params: dict[str, Any], x: Shape) -> None:
    compare("BatchNorm1d", params, [x])


@FEW
@given(schema_params("Dropout"), shapes())
def test_dropout_matches_torch(params: dict[str, Any], x: Shape) -> None:
    compare("Dropout", params, [x])


# -- activations ---------------------------------------------------------------------

ACTIVATIONS = [spec.type for spec in activations.SPECS]


def test_every_activation_block_is_covered() -> None:
    registered = {spec.type for spec in REGISTRY.values() if spec.category == "Activation"}
    assert registered == set(ACTIVATIONS)


@pytest.mark.parametrize("block", ACTIVATIONS)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_activation_matches_torch(block: str, data: st.DataObject) -> None:
    params = data.draw(schema_params(block))
    compare(block, params, [data.draw(shapes())])


@FEW
@given(st.integers(1, 6), schema_params("PReLU"), shapes(high=6))
def test_prelu_num_parameters_matches_torch(n: int, params: dict[str, Any], x: Shape) -> None:
    # One slope, one per channel, or a count torch refuses.
    params["num_parameters"] = n
    compare("PReLU", params, [x])


@FEW
@given(schema_params("PReLU"), shapes())
def test_prelu_with_one_slope_per_channel_matches_torch(params: dict[str, Any], x: Shape) -> None:
    params["num_parameters"] = x[0]
    assert compare("PReLU", params, [x]) == x


# -- shape, linear and outputs -------------------------------------------------------


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 4), st.integers(-5, 4), shapes(high=5))
def test_flatten_matches_torch(start: int, end: int, x: Shape) -> None:
    compare("Flatten", {"start_dim": start, "end_dim": end}, [x])


@FEW
@given(schema_params("Flatten"), shapes(high=5))
def test_flatten_whole_schema_matches_torch(params: dict[str, Any], x: Shape) -> None:
    compare("Flatten", params, [x])


@FEW
@given(schema_params("Linear"), st.integers(1, 64))
def test_linear_matches_torch(params: dict[str, Any], features: int) -> None:
    compare("Linear", params, [(features,)])


@pytest.mark.parametrize("block", ["Softmax", "LogSoftmax"])
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_softmax_dim_matches_torch(block: str, data: st.DataObject) -> None:
    # The meta kernels of softmax do not check dim; a few floats on the CPU do.
    compare(block, data.draw(schema_params(block)), [data.draw(shapes(high=3))], device="cpu")


# -- merges --------------------------------------------------------------------------


def merge_outcome(fn: Callable[..., torch.Tensor], inputs: Sequence[Shape]) -> Shape | Exception:
    try:
        theirs, flops = forward(fn, inputs, "meta")
    except TORCH_REFUSES as exc:
        return exc
    assert flops == 0
    return theirs


@st.composite
def add_cases(draw: st.DrawFn) -> list[Shape]:
    first = draw(shapes(high=4))
    others = st.one_of(st.just(first), shapes(high=4), st.tuples(*[st.sampled_from([1, d]) for d in first]))
    return [first, *draw(st.lists(others, min_size=1, max_size=3))]


@settings(max_examples=100, deadline=None)
@given(add_cases())
def test_add_matches_torch_where_no_broadcast_is_needed(inputs: list[Shape]) -> None:
    ours = our_shape("Add", inputs, {})
    theirs = merge_outcome(lambda *xs: functools.reduce(operator.add, xs), inputs)
    if isinstance(theirs, Exception):
        assert isinstance(ours, ShapeError), f"torch refuses {inputs}: {theirs}"
    elif isinstance(ours, ShapeError):
        # Policy: torch would broadcast, the designer wants equal shapes.
        assert str(ours).startswith("Add inputs differ: ")
        assert len(set(inputs)) > 1
    else:
        assert theirs == (BATCH, *ours)
    if len(set(inputs)) == 1:
        assert ours == inputs[0]
    assert REGISTRY["Add"].macs(inputs, inputs[0], {}) == 0
    assert REGISTRY["Add"].param_count(inputs, inputs[0], {}) == 0


@st.composite
def concat_cases(draw: st.DrawFn) -> list[Shape]:
    first = draw(shapes(high=4))
    same_spatial = st.integers(1, 5).map(lambda c: (c, *first[1:]))
    others = st.one_of(same_spatial, same_spatial, shapes(high=4))
    return [first, *draw(st.lists(others, min_size=1, max_size=3))]


@settings(max_examples=100, deadline=None)
@given(concat_cases())
def test_concat_matches_torch(inputs: list[Shape]) -> None:
    ours = our_shape("Concat", inputs, {})
    theirs = merge_outcome(lambda *xs: torch.cat(xs, dim=1), inputs)
    if isinstance(theirs, Exception):
        assert isinstance(ours, ShapeError), f"torch refuses {inputs}: {theirs}"
    else:
        assert not isinstance(ours, ShapeError), f"we refuse {inputs} ({ours}), torch gives {theirs}"
        assert theirs == (BATCH, *ours)
        assert REGISTRY["Concat"].macs(inputs, ours, {}) == 0


# -- the messages people read --------------------------------------------------------


def shape_error(type_: str, inputs: Sequence[Shape], **params: Any) -> str:
    spec = REGISTRY[type_]
    with pytest.raises(ShapeError) as info:
        spec.shape(tuple(inputs), spec.coerce_params(params))
    return str(info.value)


def test_add_refuses_different_shapes() -> None:
    assert shape_error("Add", [(64, 28, 28), (128, 28, 28)]) == "Add inputs differ: 64×28×28 vs 128×28×28"
    # Even where torch would broadcast.
    assert shape_error("Add", [(64, 28, 28), (1, 28, 28)]) == "Add inputs differ: 64×28×28 vs 1×28×28"


def test_linear_refuses_a_feature_map() -> None:
    message = shape_error("Linear", [(256, 6, 6)], out_features=4096)
    assert message == ("Linear needs a flat input, got 256×6×6: insert Flatten (to use all 9,216 values), "
                       "or turn on channels_last if it is H×W×C (after a Permute)")


def test_conv2d_kernel_larger_than_input() -> None:
    message = shape_error("Conv2d", [(3, 8, 8)], kernel_size=11)
    assert message == "kernel 11 is larger than the padded input 8; reduce kernel_size or add padding ≥ 2"
    # The suggested padding is enough, and one less is not.
    conv = REGISTRY["Conv2d"]
    assert conv.shape([(3, 8, 8)], conv.coerce_params({"kernel_size": 11, "padding": 2}))[1:] == (2, 2)
    shape_error("Conv2d", [(3, 8, 8)], kernel_size=11, padding=1)


def test_conv2d_groups_must_divide_in_channels() -> None:
    message = shape_error("Conv2d", [(96, 27, 27)], out_channels=256, kernel_size=5, groups=5)
    assert message == "in_channels 96 is not divisible by groups 5"


def test_pool_padding_more_than_half_the_kernel() -> None:
    message = shape_error("MaxPool2d", [(3, 8, 8)], kernel_size=3, padding=2)
    assert message == "padding 2 is more than half of kernel 3; use padding ≤ 1"


def test_formula_text_of_alexnet_conv1() -> None:
    conv = REGISTRY["Conv2d"]
    params = conv.coerce_params({"out_channels": 96, "kernel_size": 11, "stride": 4})
    out = conv.shape([(3, 227, 227)], params)
    assert out == (96, 55, 55)
    assert conv.formula is not None
    assert conv.formula([(3, 227, 227)], out, params) == "55 = ⌊(227 − 11 + 2·0) / 4⌋ + 1"


# -- costs on a real tensor ------------------------------------------------------------


@SAME_EVEN_KERNEL
@pytest.mark.parametrize(
    ("type_", "params", "x"),
    [
        ("Conv2d", {"out_channels": 96, "kernel_size": 11, "stride": 4}, (3, 67, 67)),
        ("Conv2d", {"out_channels": 8, "kernel_size": (3, 2), "groups": 2, "bias": False}, (6, 9, 7)),
        ("Conv2d", {"out_channels": 4, "kernel_size": 3, "padding": "same", "dilation": 2}, (4, 6, 6)),
        ("Conv2d", {"out_channels": 3, "kernel_size": (2, 4), "padding": "same"}, (2, 5, 5)),
        ("Linear", {"out_features": 10}, (50,)),
        ("Linear", {"out_features": 3, "bias": False}, (7,)),
    ],
)
def test_costs_on_a_cpu_tensor(type_: str, params: dict[str, Any], x: Shape) -> None:
    spec = REGISTRY[type_]
    p = spec.coerce_params(params)
    out = spec.shape([x], p)
    assert spec.module is not None
    module = build(spec.module([x], p), "cpu")
    with FlopCounterMode(display=False) as counter:
        y = module(torch.zeros((1, *x)))
    assert tuple(y.shape) == (1, *out)
    assert spec.macs([x], out, p) == counter.get_total_flops() // 2
    assert spec.param_count([x], out, p) == trainable(module)
