"""The shape blocks against torch on ``device="meta"``: shapes, refusals, costs, and the forward line itself.

Permute, Transpose, Reshape, Select and Narrow hold no module: their forward is an expression,
and it is that very line, as compiled and exported, that runs here. Where the designer refuses on
purpose what torch accepts (anything that moves or splits the batch axis, a Select that would
leave only the batch), the refusal must say so; everywhere else the two agree exactly.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch.utils.flop_counter import FlopCounterMode

from designer.graph.errors import ParamError, ShapeError
from designer.graph.registry import REGISTRY
from designer.graph.spec import Arg
from tests.graph.test_blocks_vs_torch import BATCH, FEW, MANY, TORCH_REFUSES, compare, our_shape, shapes

Shape = tuple[int, ...]


def run_line(type_: str, params: dict[str, Any], x: Shape) -> Shape | Exception:
    """What the block's forward line gives on a meta batch, or what torch raises; it must cost nothing."""
    spec = REGISTRY[type_]
    line = spec.forward([Arg("x")], params, "layer")
    try:
        with FlopCounterMode(display=False) as counter:
            y = eval(line, {"torch": torch, "x": torch.empty((BATCH, *x), device="meta")})
    except TORCH_REFUSES as exc:
        return exc
    assert counter.get_total_flops() == 0, line
    return tuple(y.shape)


def agree(type_: str, raw: dict[str, Any], x: Shape, policy: str | None = None) -> Shape | ShapeError:
    """Ours and torch's agree; where only ours refuses, its message holds ``policy``."""
    spec = REGISTRY[type_]
    params = spec.coerce_params(raw)
    ours, theirs = our_shape(type_, [x], params), run_line(type_, params, x)
    if isinstance(ours, ShapeError):
        if not isinstance(theirs, Exception):
            assert policy is not None and policy in str(ours), f"we refuse {params} on {x} ({ours}); torch: " \
                f"{theirs}"
        return ours
    assert not isinstance(theirs, Exception), f"torch refuses {params} on {x}: {theirs}; we give {ours}"
    assert theirs == (BATCH, *ours), f"{params} on {x}"
    assert spec.param_count([x], ours, params) == 0 and spec.macs([x], ours, params) == 0
    assert spec.formula is not None and spec.formula([x], ours, params)
    return ours


@st.composite
def permutations(draw: st.DrawFn) -> tuple[list[int], Shape]:
    x = draw(shapes(ranks=(1, 2, 3, 4)))
    rank = len(x) + 1
    dims = draw(st.one_of(
        st.permutations(range(rank)).map(lambda p: [0, *[d for d in p if d != 0]]),  # batch kept first
        st.permutations(range(rank)),  # the batch may move
        st.lists(st.integers(-rank - 1, rank), min_size=2, max_size=rank + 1),  # anything at all
    ))
    negative = draw(st.booleans())
    return [d - rank if negative and d > 0 and 0 <= d < rank else d for d in dims], x


@MANY
@given(permutations())
def test_permute_matches_torch(case: tuple[list[int], Shape]) -> None:
    dims, x = case
    ours = agree("Permute", {"dims": dims}, x, policy="moves the batch axis")
    if isinstance(ours, ShapeError):
        assert ours.param == "dims"


@MANY
@given(st.integers(-5, 4), st.integers(-5, 4), shapes(ranks=(1, 2, 3, 4)))
def test_transpose_matches_torch(dim0: int, dim1: int, x: Shape) -> None:
    ours = agree("Transpose", {"dim0": dim0, "dim1": dim1}, x, policy="is the batch axis")
    if isinstance(ours, ShapeError):
        assert ours.param in ("dim0", "dim1")


@MANY
@given(st.lists(st.one_of(st.just(-1), st.integers(1, 8)), min_size=1, max_size=5), shapes(ranks=(1, 2, 3)))
def test_reshape_matches_torch(shape: list[int], x: Shape) -> None:
    ours = agree("Reshape", {"shape": shape}, x)
    if isinstance(ours, ShapeError):
        assert ours.param == "shape"


@MANY
@given(st.integers(-5, 4), st.integers(-7, 7), shapes(ranks=(1, 2, 3, 4)))
def test_select_matches_torch(dim: int, index: int, x: Shape) -> None:
    ours = agree("Select", {"dim": dim, "index": index}, x, policy="batch")
    if isinstance(ours, ShapeError) and len(x) > 1:
        assert ours.param in ("dim", "index")


@MANY
@given(st.integers(-5, 4), st.integers(0, 7), st.integers(1, 7), shapes(ranks=(1, 2, 3, 4)))
def test_narrow_matches_torch_narrow_and_its_slice(dim: int, start: int, length: int, x: Shape) -> None:
    # The forward line is a slice, which quietly takes less past the end: torch.narrow refuses there.
    params = {"dim": dim, "start": start, "length": length}
    try:
        narrowed: Shape | None = tuple(torch.empty((BATCH, *x), device="meta").narrow(dim, start, length).shape)
    except TORCH_REFUSES:
        narrowed = None
    ours = agree("Narrow", params, x, policy="batch" if narrowed is not None else "")
    if isinstance(ours, ShapeError):
        assert narrowed is None or "batch" in str(ours), f"torch.narrow takes {params} on {x}: {ours}"
    else:
        assert narrowed == (BATCH, *ours)


@FEW
@given(st.integers(1, 6), shapes(ranks=(1, 2, 3, 4), high=12))
def test_channel_shuffle_matches_torch(groups: int, x: Shape) -> None:
    compare("ChannelShuffle", {"groups": groups}, [x])


# -- the parameters people type, and the messages they read ------------------------------------


@pytest.mark.parametrize(("block", "key", "typed", "value"), [
    ("Permute", "dims", "0, 2, 3, 1", (0, 2, 3, 1)),
    ("Permute", "dims", "[0, -1, 1, 2]", (0, -1, 1, 2)),
    ("Reshape", "shape", "−1×768", (-1, 768)),
    ("Reshape", "shape", [12, 16], (12, 16)),
])
def test_axes_and_sizes_are_typed_as_a_line_of_numbers(block: str, key: str, typed: Any, value: Shape) -> None:
    assert REGISTRY[block].coerce_params({key: typed})[key] == value


@pytest.mark.parametrize(("block", "key", "typed", "message"), [
    ("Reshape", "shape", [4, 0], "shape: every number must be -1 or 1 to 1048576, got 0"),
    ("Reshape", "shape", "4, a", "shape: expected 1 to 7 whole numbers, like [-1], got '4, a'"),
    ("Permute", "dims", [0], "dims: expected 2 to 8 whole numbers, like [0, 2, 3, 1], got [0]"),
    ("Permute", "dims", [0, 1.5], "dims: expected whole numbers, got [0, 1.5]"),
])
def test_bad_typing_is_refused_in_words(block: str, key: str, typed: Any, message: str) -> None:
    with pytest.raises(ParamError) as error:
        REGISTRY[block].coerce_params({key: typed})
    assert str(error.value) == message


def shape_error(block: str, x: Shape, **params: Any) -> tuple[str, str | None]:
    spec = REGISTRY[block]
    with pytest.raises(ShapeError) as error:
        spec.shape([x], spec.coerce_params(params))
    return str(error.value), error.value.param


@pytest.mark.parametrize(("block", "x", "params", "message", "param"), [
    ("Permute", (96, 7, 7), {"dims": [0, 2, 1]},
     "dims has 3 axes but the input, batch × 96×7×7, has 4: give each of 0 to 3 once, 0 first", "dims"),
    ("Permute", (96, 7, 7), {"dims": [1, 0, 2, 3]},
     "dims (1, 0, 2, 3) moves the batch axis; keep 0 first", "dims"),
    ("Permute", (96, 7, 7), {"dims": [0, 2, 2, 1]},
     "dims (0, 2, 2, 1) names an axis twice; give each of 0 to 3 once", "dims"),
    ("Transpose", (197, 768), {"dim0": 0, "dim1": 1},
     "dim0 0 is the batch axis, which stays as it is; use 1 to 2", "dim0"),
    ("Transpose", (197, 768), {"dim0": 1, "dim1": 3},
     "dim1 3 is out of range for a 3-axis tensor (batch × 197×768); use 1 to 2", "dim1"),
    ("Reshape", (768, 14, 14), {"shape": [768, 195]},
     "shape 768×195 holds 149,760 values but 768×14×14 has 150,528; make the sizes multiply to that, "
     "or write -1 for one of them", "shape"),
    ("Reshape", (3, 5), {"shape": [2, -1]},
     "shape 2×-1 cannot hold the 15 values of 3×5: 15 is not a multiple of 2", "shape"),
    ("Reshape", (3, 4), {"shape": [-1, -1]},
     "shape -1×-1 has more than one -1; only one size can be left to follow", "shape"),
    ("Select", (197, 768), {"dim": 1, "index": 197},
     "index 197 is out of range for the 197 along axis 1; use 0 to 196 (or −197 to −1 from the end)", "index"),
    ("Select", (768,), {"dim": 1, "index": 0},
     "Select needs two or more axes per sample, got 768; taking one of its values would leave only the batch",
     "dim"),
    ("Narrow", (116, 28, 28), {"dim": 1, "start": 58, "length": 64},
     "start 58 + length 64 runs past the 116 along axis 1; use length ≤ 58", "length"),
    ("Narrow", (116, 28, 28), {"dim": 1, "start": 116, "length": 1},
     "start 116 is past the 116 along axis 1; use 0 to 115", "start"),
    ("ChannelShuffle", (116, 28, 28), {"groups": 3},
     "the 116 channels do not split into 3 groups; use a groups that divides 116", "groups"),
])
def test_refusals_name_the_parameter_and_the_fix(block: str, x: Shape, params: dict[str, Any], message: str,
                                                 param: str) -> None:
    assert shape_error(block, x, **params) == (message, param)


@pytest.mark.parametrize(("block", "x", "params", "formula", "label"), [
    ("Permute", (96, 7, 7), {"dims": [0, 2, 3, 1]}, "7×7×96 = 96×7×7 in the order 2, 3, 1", "0, 2, 3, 1"),
    ("Transpose", (768, 196), {"dim0": 1, "dim1": 2}, "196×768 = 768×196 with axes 1 and 2 swapped", "1 ↔ 2"),
    ("Reshape", (768, 14, 14), {"shape": [768, -1]}, "768×196: −1 is 150,528 / 768 = 196", "768×−1"),
    ("Reshape", (768, 14, 14), {"shape": [768, 196]}, "768×196: the 150,528 values of 768×14×14", "768×196"),
    ("Select", (197, 768), {"dim": 1, "index": 0}, "768: item 0 of the 197 along axis 1", "[:, 0]"),
    ("Narrow", (116, 28, 28), {"dim": 1, "start": 58, "length": 58},
     "58×28×28: items 58 to 115 of the 116 along axis 1", "[:, 58:116]"),
    ("ChannelShuffle", (116, 28, 28), {"groups": 2}, "116 channels: 2 groups of 58, interleaved", "g2"),
])
def test_formulas_and_labels_with_real_numbers(block: str, x: Shape, params: dict[str, Any], formula: str,
                                               label: str) -> None:
    spec = REGISTRY[block]
    p = spec.coerce_params(params)
    out = spec.shape([x], p)
    assert spec.formula is not None and spec.formula([x], out, p) == formula
    assert spec.label is not None and spec.label(p) == label


@pytest.mark.parametrize(("block", "params", "line"), [
    ("Permute", {"dims": [0, 2, 3, 1]}, "x.permute(0, 2, 3, 1)"),
    ("Transpose", {"dim0": 1, "dim1": -1}, "x.transpose(1, -1)"),
    ("Reshape", {"shape": [768, -1]}, "x.reshape(x.shape[0], 768, -1)"),
    ("Select", {"dim": 1, "index": 0}, "x[:, 0]"),
    ("Select", {"dim": -2, "index": -1}, "x[..., -1, :]"),
    ("Narrow", {"dim": 1, "start": 0, "length": 58}, "x[:, :58]"),
    ("Narrow", {"dim": 2, "start": 3, "length": 2}, "x[:, :, 3:5]"),
    ("Narrow", {"dim": -1, "start": 1, "length": 2}, "x[..., 1:3]"),
])
def test_forward_lines_read_as_people_write_them(block: str, params: dict[str, Any], line: str) -> None:
    spec = REGISTRY[block]
    assert spec.forward([Arg("x")], spec.coerce_params(params), "self.layer") == line
