"""Mul, Mean, ConvTranspose2d and Upsample against torch itself, on ``device="meta"``.

As in test_blocks_vs_torch.py, hypothesis draws parameters and input sizes, valid and
invalid, and the shape rule must give torch's output shape and refuse exactly where torch
refuses; parameters and MACs must equal the real module's count and flop_counter / 2.
Where the designer refuses on purpose what torch would accept (Mul of inputs with
different numbers of axes, a Mean that leaves no axis) the property checks the policy's
message instead, and plain tests pin the messages people read.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch.utils.flop_counter import FlopCounterMode

from designer.graph.errors import ParamError, ShapeError
from designer.graph.params import pair
from designer.graph.registry import REGISTRY
from designer.graph.spec import ModuleCall
from tests.graph.test_blocks_vs_torch import (
    BATCH,
    MANY,
    TORCH_REFUSES,
    build,
    compare,
    evaluate_formula,
    our_shape,
    pairs,
    shapes,
)

Shape = tuple[int, ...]
SOME = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEWER = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def torch_outcome(fn: Any, *tensors: torch.Tensor) -> Shape | Exception:
    """torch's output shape, or what it raised (flops are counted once, on a whole network, below:
    a FlopCounterMode costs 40 ms a run)."""
    try:
        return tuple(fn(*tensors).shape)
    except TORCH_REFUSES as exc:
        return exc


def meta(shape: Shape, batched: bool = True) -> torch.Tensor:
    return torch.empty((BATCH, *shape) if batched else shape, device="meta")


# -- Mul --------------------------------------------------------------------------------------


@st.composite
def mul_cases(draw: st.DrawFn) -> tuple[Shape, Shape]:
    a = draw(shapes(high=4))
    ones = st.tuples(*[st.sampled_from([1, d]) for d in a])  # broadcastable: each axis equal or 1
    b = draw(st.one_of(st.just(a), ones, ones, shapes(high=4)))
    return (a, b) if draw(st.booleans()) else (b, a)


@SOME
@given(mul_cases(), st.booleans())
def test_mul_matches_torch(case: tuple[Shape, Shape], second_learned: bool) -> None:
    a, b = case
    ours = our_shape("Mul", [a, b], {})
    # A learned tensor (layer scale) has no batch axis and broadcasts over it.
    theirs = torch_outcome(torch.mul, meta(a), meta(b, batched=not second_learned))
    if len(a) != len(b):
        # Policy: equal numbers of axes, whatever torch makes of it.
        assert isinstance(ours, ShapeError)
        assert str(ours).startswith("Mul needs inputs with the same number of axes")
    elif isinstance(theirs, Exception):
        assert isinstance(ours, ShapeError), f"torch refuses {a} · {b}: {theirs}"
        assert str(ours).startswith(f"Mul cannot broadcast {'×'.join(map(str, a))}")
    else:
        assert not isinstance(ours, ShapeError), f"we refuse {a} · {b} ({ours}), torch gives {theirs}"
        assert theirs == (BATCH, *ours)
        spec = REGISTRY["Mul"]
        assert spec.macs([a, b], ours, {}) == 0 and spec.param_count([a, b], ours, {}) == 0


def test_mul_refusals_say_which_axis_and_how_to_fix_it() -> None:
    assert shape_error("Mul", [(64, 28, 28), (32, 1, 1)]) == (
        "Mul cannot broadcast 64×28×28 with 32×1×1: axis 1 (channels) is 64 against 32; "
        "each size must be equal or 1")
    assert shape_error("Mul", [(197, 768), (197, 384)]) == (
        "Mul cannot broadcast 197×768 with 197×384: axis 2 (features) is 768 against 384; "
        "each size must be equal or 1")
    # The squeeze without keepdim: the fix is the C×1×1 gate, not numpy's 1×1×C.
    assert shape_error("Mul", [(64, 28, 28), (64,)]) == (
        "Mul needs inputs with the same number of axes, got 64×28×28 and 64: torch lines shapes up "
        "from the right, so the batch axis would meet a sample axis; reshape 64 to 64×1×1")
    assert shape_error("Mul", [(4,), (3, 5)]).endswith("would meet a sample axis")


def test_mul_formula_and_the_se_gate() -> None:
    spec = REGISTRY["Mul"]
    out = spec.shape([(64, 28, 28), (64, 1, 1)], {})
    assert out == (64, 28, 28)
    assert spec.formula is not None
    assert spec.formula([(64, 28, 28), (64, 1, 1)], out, {}) == "64×28×28 = 64×28×28 · 64×1×1"


# -- Mean -------------------------------------------------------------------------------------


@st.composite
def mean_cases(draw: st.DrawFn) -> tuple[Shape, list[int], bool]:
    x = draw(shapes(ranks=(1, 2, 3, 4), high=5))
    # Mostly axes that exist, sometimes one past the last.
    axes = draw(st.lists(st.integers(1, len(x) + 1), min_size=1, max_size=len(x), unique=True))
    return x, axes, draw(st.booleans())


@MANY
@given(mean_cases())
def test_mean_matches_torch(case: tuple[Shape, list[int], bool]) -> None:
    x, axes, keepdim = case
    spec = REGISTRY["Mean"]
    params = spec.coerce_params({"dim": axes, "keepdim": keepdim})
    ours = our_shape("Mean", [x], params)
    theirs = torch_outcome(lambda t: t.mean(tuple(axes), keepdim=keepdim), meta(x))
    if isinstance(theirs, Exception):
        assert isinstance(ours, ShapeError), f"torch refuses mean {axes} of {x}: {theirs}"
        assert ours.param == "dim"
    elif len(axes) == len(x) and not keepdim:
        # Policy: torch leaves one number per sample, a shape no block takes.
        assert isinstance(ours, ShapeError) and ours.param == "keepdim"
    else:
        assert not isinstance(ours, ShapeError), f"we refuse mean {axes} of {x}: {ours}"
        assert theirs == (BATCH, *ours)
        assert spec.macs([x], ours, params) == 0
        assert spec.formula is not None
        claimed, over = spec.formula([x], ours, params).split(" = mean over ")
        assert claimed == "×".join(map(str, ours))
        # What is averaged and what is left account for every value.
        assert math.prod(int(v) for v in over.split("×")) * math.prod(ours) == math.prod(x)


def test_mean_axes_are_held_sorted_once_and_never_the_batch() -> None:
    param = REGISTRY["Mean"].schema["dim"]
    assert param.coerce([3, 2]) == (2, 3)
    assert param.coerce(1) == (1,)
    assert param.coerce("3, 2") == (2, 3)  # as typed in the inspector
    assert param.to_json((2, 3)) == [2, 3]
    for value, reason in [
        ([0, 2], "dim: axis 0 is the batch, which a block never averages; the axes after it are 1 and up"),
        ([2, 2], "dim: axis 2 is given twice"),
        ([], "dim: expected 1 to 7 whole numbers, like [2, 3], got []"),
        ("2, a", "dim: expected 1 to 7 whole numbers, like [2, 3], got '2, a'"),
        ([-1], "dim: every number must be between 1 and 7, got -1"),
        ("0, 2", "dim: axis 0 is the batch, which a block never averages; the axes after it are 1 and up"),
    ]:
        with pytest.raises(ParamError) as info:
            REGISTRY["Mean"].coerce_params({"dim": value})
        assert str(info.value) == reason


def test_mean_messages_name_the_field() -> None:
    spec = REGISTRY["Mean"]
    with pytest.raises(ShapeError) as info:
        spec.shape([(64, 7)], spec.coerce_params({"dim": [3]}))
    assert str(info.value) == "dim 3 is out of range for batch × 64×7: the axes after the batch are 1 to 2"
    assert info.value.param == "dim"
    with pytest.raises(ShapeError) as info:
        spec.shape([(64,)], spec.coerce_params({"dim": [1]}))
    assert str(info.value) == ("averaging every axis of 64 leaves no axis per sample; "
                               "set keepdim or average fewer axes")
    assert info.value.param == "keepdim"


def test_mean_formula_is_the_squeeze() -> None:
    spec = REGISTRY["Mean"]
    params = spec.coerce_params({"dim": [2, 3], "keepdim": True})
    assert spec.shape([(64, 28, 28)], params) == (64, 1, 1)
    assert spec.formula is not None
    assert spec.formula([(64, 28, 28)], (64, 1, 1), params) == "64×1×1 = mean over 28×28"


def test_a_kept_mean_sees_the_whole_image() -> None:
    from designer.graph import Graph
    from designer.graph.summary import receptive_fields

    graph = Graph()
    graph.add_node("Input", "x", {"shape": [3, 8, 10]})
    graph.add_node("Conv2d", "conv", {"out_channels": 4, "kernel_size": 3})
    graph.add_node("Mean", "squeeze", {"dim": [2, 3], "keepdim": True})
    graph.connect("x", "conv")
    graph.connect("conv", "squeeze")
    assert graph.result("squeeze").shape == (4, 1, 1)
    assert receptive_fields(graph)["squeeze"] == (8, 10, 6, 8)


# -- ConvTranspose2d ---------------------------------------------------------------------------


@st.composite
def transpose_cases(draw: st.DrawFn) -> tuple[dict[str, Any], Shape]:
    groups = draw(st.integers(1, 3))
    # Mostly channel counts that divide, sometimes ones that do not.
    c = draw(st.one_of(st.integers(1, 3).map(lambda n: n * groups), st.integers(1, 6)))
    out = draw(st.one_of(st.integers(1, 3).map(lambda n: n * groups), st.integers(1, 6)))
    params = {
        "out_channels": out,
        "kernel_size": draw(pairs(1, 5)),
        "stride": draw(st.one_of(pairs(1, 3), st.just(1))),
        "padding": draw(st.one_of(st.just(0), pairs(0, 4))),
        "output_padding": draw(st.one_of(st.just(0), pairs(0, 2))),
        "dilation": draw(st.one_of(st.just(1), pairs(1, 3))),
        "groups": groups,
        "bias": draw(st.booleans()),
    }
    return params, (c, draw(st.integers(1, 6)), draw(st.integers(1, 6)))


@FEWER
@given(transpose_cases())
def test_conv_transpose2d_matches_torch(case: tuple[dict[str, Any], Shape]) -> None:
    params, x = case
    spec = REGISTRY["ConvTranspose2d"]
    assert spec.module is not None
    if too_much_output_padding(spec.coerce_params(params)):
        # The meta kernel does not check this; the CPU's does.
        assert isinstance(our_shape("ConvTranspose2d", [x], spec.coerce_params(params)), ShapeError)
        with pytest.raises(TORCH_REFUSES):
            build(spec.module([x], spec.coerce_params(params)), "cpu")(torch.zeros(BATCH, *x))
        return
    if empty_output(spec.module([x], spec.coerce_params(params)), x):
        # Policy: torch makes an empty image where padding trims every pixel; no block can use one.
        ours_now = our_shape("ConvTranspose2d", [x], spec.coerce_params(params))
        assert isinstance(ours_now, ShapeError) and ours_now.param == "padding"
        return
    ours = compare("ConvTranspose2d", params, [x])
    if ours is not None:
        text = formula_of("ConvTranspose2d", [x], ours, params)
        axes = evaluate_formula(text)
        axes *= 3 - len(axes)  # one formula stands for both axes when they agree
        for size, (claimed, computed) in zip(ours[1:], axes, strict=True):
            assert claimed == computed == size, text
        assert spec.window([x], spec.coerce_params(params)) is None


def empty_output(call: ModuleCall, x: Shape) -> bool:
    try:
        return 0 in build(call)(torch.empty(BATCH, *x, device="meta")).shape
    except TORCH_REFUSES:
        return False


def too_much_output_padding(params: dict[str, Any]) -> bool:
    extra, stride, dilation = (pair(params[key]) for key in ("output_padding", "stride", "dilation"))
    return any(e >= max(s, d) for e, s, d in zip(extra, stride, dilation))


def test_conv_transpose2d_formula_and_costs_of_a_decoder_step() -> None:
    spec = REGISTRY["ConvTranspose2d"]
    params = spec.coerce_params({"out_channels": 32, "kernel_size": 3, "stride": 2, "padding": 1,
                                 "output_padding": 1})
    out = spec.shape([(64, 28, 28)], params)
    assert out == (32, 56, 56)
    assert formula_of("ConvTranspose2d", [(64, 28, 28)], out, params) == \
        "56 = (28 − 1)·2 − 2·1 + (3 − 1) + 1 + 1"
    params = spec.coerce_params({"out_channels": 4, "kernel_size": [2, 3], "dilation": [1, 2]})
    assert formula_of("ConvTranspose2d", [(2, 5, 5)], (4, 6, 9), params) == (
        "H: 6 = (5 − 1)·1 − 2·0 + (2 − 1) + 1; W: 9 = (5 − 1)·1 − 2·0 + 2·(3 − 1) + 1")
    for raw, x in [({"out_channels": 32, "kernel_size": 4, "stride": 2, "padding": 1}, (64, 7, 7)),
                   ({"out_channels": 6, "kernel_size": (2, 3), "groups": 3, "bias": False}, (9, 4, 5))]:
        assert compare("ConvTranspose2d", raw, [x], device="cpu") is not None  # flops on real tensors


def test_conv_transpose2d_refusals_name_the_field_and_the_fix() -> None:
    for params, message, field in [
        ({"out_channels": 4, "kernel_size": 3, "stride": 2, "output_padding": 2},
         "output_padding 2 must be smaller than stride 2 or dilation 1; use output_padding ≤ 1",
         "output_padding"),
        ({"out_channels": 4, "kernel_size": 3, "padding": 3},
         "padding 3 trims more than the 3 the transposed convolution makes from 1; use padding ≤ 1",
         "padding"),
        ({"out_channels": 4, "kernel_size": 3, "groups": 3},
         "in_channels 2 is not divisible by groups 3", "groups"),
    ]:
        spec = REGISTRY["ConvTranspose2d"]
        with pytest.raises(ShapeError) as info:
            spec.shape([(2, 1, 1)], spec.coerce_params(params))
        assert (str(info.value), info.value.param) == (message, field)
        # torch refuses the same.
        with pytest.raises(TORCH_REFUSES):
            assert spec.module is not None
            build(spec.module([(2, 1, 1)], spec.coerce_params(params)), "cpu")(torch.zeros(BATCH, 2, 1, 1))
    assert shape_error("ConvTranspose2d", [(64,)]) == (
        "ConvTranspose2d needs a C×H×W input, got 64: insert a block that keeps height and width, "
        "or change the Input")


def formula_of(type_: str, inputs: list[Shape], out: Shape, params: dict[str, Any]) -> str:
    spec = REGISTRY[type_]
    assert spec.formula is not None
    return spec.formula(inputs, out, spec.coerce_params(params))


# -- Upsample ----------------------------------------------------------------------------------


@st.composite
def upsample_cases(draw: st.DrawFn) -> tuple[dict[str, Any], Shape]:
    params: dict[str, Any] = {
        "mode": draw(st.sampled_from(REGISTRY["Upsample"].schema["mode"].choices)),
        "align_corners": draw(st.booleans()),
    }
    if draw(st.booleans()):
        params["size"] = draw(pairs(1, 12))
    else:
        # Whole factors, halves, and floats whose products sit near a whole number.
        params["scale_factor"] = draw(st.one_of(
            st.integers(1, 4).map(float), st.integers(1, 8).map(lambda n: n / 2),
            st.floats(0.05, 4.0, allow_nan=False, allow_infinity=False)))
    return params, (draw(st.integers(1, 3)), draw(st.integers(1, 9)), draw(st.integers(1, 9)))


@SOME
@given(upsample_cases())
def test_upsample_matches_torch(case: tuple[dict[str, Any], Shape]) -> None:
    params, x = case
    ours = upsample_outcome(params, x)
    if ours is not None:
        text = formula_of("Upsample", [x], ours, params)
        if "⌋" in text:
            axes = evaluate_formula(text)
            axes *= 3 - len(axes)  # one formula stands for both axes when they agree
            for size, (claimed, computed) in zip(ours[1:], axes, strict=True):
                assert claimed == computed == size, text
        assert REGISTRY["Upsample"].window([x], REGISTRY["Upsample"].coerce_params(params)) is None


def upsample_outcome(raw: dict[str, Any], x: Shape) -> Shape | None:
    """compare() without its FlopCounterMode, under which torch's interpolations skip their size
    checks (a zero-pixel output comes back); on the CPU, where they are plain."""
    spec = REGISTRY["Upsample"]
    params = spec.coerce_params(raw)
    ours = our_shape("Upsample", [x], params)
    assert spec.module is not None
    module = build(spec.module([x], params), "cpu")
    try:
        theirs = tuple(module(torch.zeros((BATCH, *x))).shape)
    except TORCH_REFUSES as exc:
        assert isinstance(ours, ShapeError), f"torch refuses {params} on {x}: {exc}; we predicted {ours}"
        return None
    assert not isinstance(ours, ShapeError), f"we refuse {params} on {x} ({ours}) but torch gives {theirs}"
    assert theirs == (BATCH, *ours), (params, x)
    return ours


def test_upsample_formulas_and_refusals() -> None:
    spec = REGISTRY["Upsample"]
    params = spec.coerce_params({"scale_factor": 2})
    assert spec.shape([(64, 28, 14)], params) == (64, 56, 28)
    assert formula_of("Upsample", [(64, 28, 14)], (64, 56, 28), {"scale_factor": 2}) == \
        "H: 56 = ⌊28·2⌋; W: 28 = ⌊14·2⌋"
    assert formula_of("Upsample", [(3, 7, 7)], (3, 7, 7), {"scale_factor": 1.1}) == "7 = ⌊7·1.1⌋"
    assert formula_of("Upsample", [(3, 7, 5)], (3, 9, 9), {"size": 9}) == "size 9 from 7×5"
    for params, message, field in [
        ({"scale_factor": 0.1}, "scale_factor 0.1 leaves no pixel of 7×9; use scale_factor ≥ 0.1429",
         "scale_factor"),
        ({"align_corners": True}, "align_corners applies to bilinear and bicubic only, not nearest; "
                                  "clear it or change the mode", "align_corners"),
    ]:
        with pytest.raises(ShapeError) as info:
            spec.shape([(3, 7, 9)], spec.coerce_params(params))
        assert (str(info.value), info.value.param) == (message, field)
        assert upsample_outcome(params, (3, 7, 9)) is None  # torch refuses too
    # The suggested factor is enough.
    assert upsample_outcome({"scale_factor": 0.1429}, (3, 7, 9)) == (3, 1, 1)
    assert shape_error("Upsample", [(64,)]) == \
        "Upsample needs a C×H×W input, got 64: it enlarges height and width"


# -- costs of a whole network ------------------------------------------------------------------


def test_a_squeeze_and_excitation_network_costs_what_flop_counter_counts() -> None:
    from designer.graph import Graph
    from designer.graph.summary import totals

    graph = Graph()
    graph.add_node("Input", "x", {"shape": [4, 6, 6]})
    graph.add_node("Conv2d", "conv", {"out_channels": 8, "kernel_size": 3, "padding": 1})
    graph.add_node("Mean", "squeeze", {"dim": [2, 3], "keepdim": True})
    graph.add_node("Conv2d", "excite", {"out_channels": 8, "kernel_size": 1})
    graph.add_node("Sigmoid", "gate")
    graph.add_node("Mul", "scale")
    for source, target, port in [("x", "conv", 0), ("conv", "squeeze", 0), ("squeeze", "excite", 0),
                                 ("excite", "gate", 0), ("conv", "scale", 0), ("gate", "scale", 1)]:
        graph.connect(source, target, port)
    assert graph.result("scale").shape == (8, 6, 6)
    module = graph.to_torch().eval()
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        module(torch.zeros(3, 4, 6, 6))
    assert totals(graph)["macs"] == counter.get_total_flops() // (2 * 3) == 8 * 36 * 4 * 9 + 8 * 8


def test_a_decoder_costs_what_flop_counter_counts() -> None:
    from designer.graph import Graph
    from designer.graph.summary import totals

    graph = Graph()
    graph.add_node("Input", "x", {"shape": [4, 5, 5]})
    graph.add_node("ConvTranspose2d", "up1", {"out_channels": 6, "kernel_size": 4, "stride": 2, "padding": 1,
                                               "groups": 2})
    graph.add_node("Upsample", "up2", {"scale_factor": 1.5, "mode": "bicubic"})
    graph.add_node("Conv2d", "head", {"out_channels": 2, "kernel_size": 1})
    for source, target in [("x", "up1"), ("up1", "up2"), ("up2", "head")]:
        graph.connect(source, target)
    assert graph.result("up2").shape == (6, 15, 15)
    module = graph.to_torch().eval()
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        module(torch.zeros(3, 4, 5, 5))
    assert totals(graph)["macs"] == counter.get_total_flops() // (2 * 3) == 4 * 25 * 3 * 16 + 2 * 225 * 6


# -- the messages people read --------------------------------------------------------------------


def shape_error(type_: str, inputs: list[Shape], **params: Any) -> str:
    spec = REGISTRY[type_]
    with pytest.raises(ShapeError) as info:
        spec.shape(tuple(inputs), spec.coerce_params(params))
    return str(info.value)

