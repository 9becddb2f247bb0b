"""Layer norms, learned tensors, stochastic depth, attention and Linear on tokens, against torch itself.

As in test_blocks_vs_torch.py: hypothesis draws parameters and inputs, the block's
module is built on ``device="meta"`` from the text the compiler evaluates, and the
shape rule, refusals, parameter count and MACs (flop_counter / 2) must agree with it.
Semantics that meta cannot show (stochastic depth's draws, a Parameter's initial
values, LayerNorm2d being a layer norm over channels) run on small CPU tensors.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch
import torch.nn as nn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch.utils.flop_counter import FlopCounterMode

from designer import export
from designer.graph import Graph
from designer.graph.errors import ShapeError
from designer.graph.helpers import helper_of, helper_source
from designer.graph.registry import REGISTRY
from designer.graph.search import match_rank
from designer.graph.summary import rows
from tests.graph.test_blocks_vs_torch import (
    BATCH,
    FEW,
    MANY,
    TORCH_REFUSES,
    build,
    compare,
    note,
    our_shape,
    schema_params,
    shape_error,
    shapes,
    trainable,
)
from tests.models.ops import stochastic_depth

Shape = tuple[int, ...]
SOME = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
RUFF = Path(sys.executable).with_name("ruff")


def coerced(type_: str, **params: Any) -> dict[str, Any]:
    return REGISTRY[type_].coerce_params(params)


# -- Linear, Dropout and GELU on tokens and channels-last maps --------------------------------


@SOME
@given(schema_params("Linear"), shapes(high=6))
def test_linear_on_any_rank_matches_torch(params: dict[str, Any], x: Shape) -> None:
    params["channels_last"] = params["channels_last"] or len(x) == 3
    assert compare("Linear", params, [x]) == (*x[:-1], params["out_features"])


@FEW
@given(schema_params("Linear"), st.tuples(*[st.integers(1, 6)] * 3))
def test_linear_refuses_a_feature_map_unless_channels_last(params: dict[str, Any], x: Shape) -> None:
    # Policy: torch maps the last axis of any input; a C×H×W map wants Flatten unless it is H×W×C.
    params["channels_last"] = False
    error = our_shape("Linear", [x], coerced("Linear", **params))
    assert isinstance(error, ShapeError) and error.param == "channels_last"
    assert str(error).startswith(f"Linear needs a flat input, got {'×'.join(map(str, x))}: insert Flatten")


def test_linear_formula_names_what_each_row_maps() -> None:
    spec = REGISTRY["Linear"]
    for x, params, text in [
        ((9216,), {"out_features": 4096}, "4096 outputs, each from 9216 inputs"),
        ((197, 768), {"out_features": 3072}, "197×3072: each of the 197 tokens maps its 768 values to 3072"),
        ((56, 56, 96), {"out_features": 384, "channels_last": True},
         "56×56×384: each of the 56×56 positions maps its 96 values to 384"),
    ]:
        p = spec.coerce_params(params)
        assert spec.formula is not None and spec.formula([x], spec.shape([x], p), p) == text


@pytest.mark.parametrize("block", ["Dropout", "GELU"])
@FEW
@given(data=st.data())
def test_dropout_and_gelu_on_tokens_match_torch(block: str, data: st.DataObject) -> None:
    tokens = data.draw(st.tuples(st.integers(1, 9), st.integers(1, 16)))
    assert compare(block, data.draw(schema_params(block)), [tokens]) == tokens


# -- LayerNorm and LayerNorm2d -------------------------------------------------------------


@MANY
@given(schema_params("LayerNorm"), shapes(high=6))
def test_layernorm_matches_torch(params: dict[str, Any], x: Shape) -> None:
    params["normalized_dims"] = min(params["normalized_dims"], 4)
    if params["normalized_dims"] > len(x):
        # Policy: torch would take the batch axis in too; a sample is normalised on its own.
        error = our_shape("LayerNorm", [x], coerced("LayerNorm", **params))
        assert isinstance(error, ShapeError) and error.param == "normalized_dims"
        return
    assert compare("LayerNorm", params, [x]) == x


def test_layernorm_takes_its_sizes_from_the_input() -> None:
    spec = REGISTRY["LayerNorm"]
    p = coerced("LayerNorm", normalized_dims=2, eps=1e-6)
    assert spec.module is not None and spec.formula is not None
    assert spec.module([(3, 4, 5)], p).source() == "nn.LayerNorm([4, 5], eps=1e-06)"
    assert spec.module([(197, 768)], coerced("LayerNorm")).source() == "nn.LayerNorm(768)"
    assert spec.formula([(3, 4, 5)], (3, 4, 5), p) == "(x − mean) / √(var + 1e-06) over each 4×5 (3 per sample)"
    assert shape_error("LayerNorm", [(768,)], normalized_dims=2) == (
        "the input 768 has 1 axis, fewer than normalized_dims 2: use at most 1")


@FEW
@given(schema_params("LayerNorm2d"), shapes(high=6))
def test_layernorm2d_matches_torch(params: dict[str, Any], x: Shape) -> None:
    compare("LayerNorm2d", params, [x])


def test_layernorm2d_is_layernorm_over_the_channels_of_each_position() -> None:
    spec = REGISTRY["LayerNorm2d"]
    assert spec.module is not None
    norm2d = build(spec.module([(4, 3, 5)], coerced("LayerNorm2d", eps=1e-6)), "cpu")
    norm = nn.LayerNorm(4, eps=1e-6)
    with torch.no_grad():
        norm2d.weight.uniform_(0.5, 1.5)
        norm2d.bias.uniform_(-0.5, 0.5)
    norm.load_state_dict(norm2d.state_dict())
    x = torch.randn(2, 4, 3, 5)
    assert torch.allclose(norm2d(x), norm(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2), atol=1e-6)
    assert shape_error("LayerNorm2d", [(197, 768)]) == (
        "LayerNorm2d needs a C×H×W input, got 197×768: on tokens use LayerNorm")


# -- StochasticDepth -----------------------------------------------------------------------


@FEW
@given(schema_params("StochasticDepth"), shapes(high=5))
def test_stochastic_depth_matches_torch(params: dict[str, Any], x: Shape) -> None:
    assert compare("StochasticDepth", params, [x]) == x


def stochastic_depth_block(p: float, mode: str) -> nn.Module:
    spec = REGISTRY["StochasticDepth"]
    assert spec.module is not None
    return build(spec.module([(3, 2, 2)], coerced("StochasticDepth", p=p, mode=mode)), "cpu")


@pytest.mark.parametrize("mode", ["row", "batch"])
def test_stochastic_depth_is_the_identity_in_eval_mode(mode: str) -> None:
    block = stochastic_depth_block(0.9, mode).eval()
    x = torch.randn(16, 3, 2, 2)
    assert block(x) is x


@pytest.mark.parametrize("mode", ["row", "batch"])
@pytest.mark.parametrize("p", [0.0, 0.3, 0.5, 1.0])
def test_stochastic_depth_drops_as_torchvision_does_with_a_fixed_seed(mode: str, p: float) -> None:
    block = stochastic_depth_block(p, mode).train()
    x = torch.rand(64, 3, 2, 2) + 1  # no zeros of its own
    torch.manual_seed(7)
    got = block(x)
    torch.manual_seed(7)
    assert torch.equal(got, stochastic_depth(x, p, mode, training=True))
    # Each sample (row) or the whole batch is either dropped or scaled by 1 / (1 − p), never in part.
    kept = (got != 0).flatten(1)
    assert (kept.all(1) | ~kept.any(1)).all()
    if mode == "batch":
        assert kept.all() or not kept.any()
    if p < 1:
        assert torch.allclose(got[kept.all(1)], x[kept.all(1)] / (1 - p))
    if 0 < p < 1 and mode == "row":
        assert 0 < int(kept.all(1).sum()) < 64, "with 64 samples some are dropped and some kept"


# -- Parameter -------------------------------------------------------------------------------


@st.composite
def parameter_cases(draw: st.DrawFn) -> dict[str, Any]:
    shape = draw(st.lists(st.integers(1, 5), min_size=1, max_size=4))
    if draw(st.booleans()):
        shape[0] = 1
    return {"shape": shape, "batch_axis": draw(st.booleans()),
            "init": draw(st.sampled_from(["zeros", "ones", "normal", "constant"])),
            "std": draw(st.floats(0, 1)), "value": draw(st.floats(-2, 2))}


@MANY
@given(parameter_cases())
def test_parameter_is_the_tensor_torch_creates_and_broadcasts_as_one_sample(raw: dict[str, Any]) -> None:
    spec = REGISTRY["Parameter"]
    params = spec.coerce_params(raw)
    ours = our_shape("Parameter", [], params)
    shape = tuple(raw["shape"])
    if raw["batch_axis"] and (shape[0] != 1 or len(shape) == 1):
        note("Parameter: refused")
        assert isinstance(ours, ShapeError) and ours.param == "batch_axis"
        return
    assert not isinstance(ours, ShapeError), ours
    assert spec.module is not None
    call = spec.module([], params)
    tensor = build(call)
    assert call.parameter and isinstance(tensor, nn.Parameter) and tuple(tensor.shape) == shape
    assert ours == (shape[1:] if raw["batch_axis"] else shape)
    # Added to (or multiplied with) a batch of samples of its per-sample shape, it changes no size.
    assert torch.broadcast_shapes(tensor.shape, (BATCH, *ours)) == (BATCH, *ours)
    assert spec.param_count([], ours, params) == tensor.numel() == math.prod(shape)


def test_parameter_starts_from_its_init() -> None:
    spec = REGISTRY["Parameter"]
    assert spec.module is not None

    def made(**params: Any) -> torch.Tensor:
        assert spec.module is not None
        p = spec.coerce_params({"shape": [96, 1, 1], "batch_axis": False, **params})
        return build(spec.module([], p), "cpu")

    assert torch.equal(made(), torch.zeros(96, 1, 1))
    assert torch.equal(made(init="ones"), torch.ones(96, 1, 1))
    assert torch.equal(made(init="constant", value=1e-6), torch.full((96, 1, 1), 1e-6))
    torch.manual_seed(3)
    normal = made(init="normal", std=0.5)
    torch.manual_seed(3)
    assert torch.equal(normal, torch.empty(96, 1, 1).normal_(std=0.5))
    assert spec.module([], spec.coerce_params({"shape": [1, 197, 768], "init": "normal"})).source() == (
        "nn.Parameter(torch.empty(1, 197, 768).normal_(std=0.02))")
    assert spec.module([], spec.coerce_params({"shape": [5], "init": "constant", "value": 2.0})).source() == (
        "nn.Parameter(torch.full((5,), 2.0))")


def test_parameter_refuses_a_batch_axis_that_is_not_one() -> None:
    message = shape_error("Parameter", [], shape=[96, 1, 1])
    assert message == ("with batch_axis on, the first size stands for the batch and must be 1, not 96: "
                       "make the shape 1×96×1×1 or turn batch_axis off")


def vit_head(tokens: int = 4, width: int = 6) -> Graph:
    """Patch tokens, a class token before them and a position embedding added: ViT's first lines."""
    graph = Graph()
    graph.add_node("Input", "x", {"shape": [tokens, 2, width // 2]})
    graph.add_node("Flatten", "patches", {"start_dim": 2})
    graph.add_node("Parameter", "class_token", {"shape": [1, 1, width]})
    graph.add_node("Concat", "joined")
    graph.add_node("Parameter", "pos_embedding", {"shape": [1, tokens + 1, width], "init": "normal"})
    graph.add_node("Add", "embedded")
    graph.connect("x", "patches")
    graph.connect("class_token", "joined")
    graph.connect("patches", "joined")
    graph.connect("joined", "embedded")
    graph.connect("pos_embedding", "embedded")
    return graph


def test_class_token_and_position_embedding_compile_and_export_alike(tmp_path: Path) -> None:
    graph = vit_head()
    assert graph.errors() == [] and graph.result("embedded").shape == (5, 6)
    assert graph.result("class_token").param_count == 6 and graph.result("pos_embedding").param_count == 30
    compiled = export.model_with_weights(graph, seed=1)
    assert list(compiled.state_dict()) == ["class_token", "pos_embedding"]
    exported = load_exported(graph, tmp_path)
    exported.load_state_dict(compiled.state_dict(), strict=True)
    x = torch.randn(3, 4, 2, 3)
    with torch.no_grad():
        want = torch.cat([compiled.class_token.expand(3, 1, 6), x.flatten(2)], dim=1) + compiled.pos_embedding
        assert torch.equal(compiled(x), want) and torch.equal(exported(x), want)


def test_a_layer_scale_in_the_summary_has_no_receptive_field_of_its_own() -> None:
    graph = Graph()
    graph.add_node("Input", "x", {"shape": [4, 3, 3]})
    graph.add_node("Parameter", "layer_scale", {"shape": [4, 1, 1], "batch_axis": False, "init": "constant"})
    graph.add_node("Mul", "scaled")
    graph.connect("layer_scale", "scaled")
    graph.connect("x", "scaled")
    table = {row.name: row for row in rows(graph)}
    assert table["layer_scale"].output_shape == "4×1×1" and table["layer_scale"].rf_text() == "—"
    assert table["layer_scale"].params == 4 and table["scaled"].output_shape == "4×3×3"


def load_exported(graph: Graph, folder: Path) -> nn.Module:
    path = folder / "model.py"
    export.export_python(graph, path)
    namespace: dict[str, Any] = {}
    exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), namespace)
    from designer.graph.compile import plan

    model: nn.Module = namespace[plan(graph).class_name]()
    return model


# -- MultiheadAttention ------------------------------------------------------------------------


def attention_outcome(params: dict[str, Any], x: Shape) -> tuple[nn.Module, Shape, int] | Exception:
    """The module, its output shape and flops in eval mode on meta, called as the block's forward calls it."""
    spec = REGISTRY["MultiheadAttention"]
    assert spec.module is not None
    try:
        module = build(spec.module([x], params)).eval()
        xs = torch.empty((BATCH, *x), device="meta")
        with FlopCounterMode(display=False) as counter:
            y = module(xs, xs, xs, need_weights=False)[0]
    except (*TORCH_REFUSES, AssertionError) as exc:  # torch asserts that the heads divide embed_dim
        return exc
    return module, tuple(y.shape), counter.get_total_flops()


@SOME
@given(schema_params("MultiheadAttention"), st.integers(1, 8), st.integers(1, 8), st.integers(1, 4))
def test_multihead_attention_matches_torch(params: dict[str, Any], tokens: int, heads: int,
                                           per_head: int) -> None:
    params["num_heads"] = heads
    width = heads * per_head if per_head < 4 else heads + per_head  # mostly dividing, sometimes not
    spec, x = REGISTRY["MultiheadAttention"], (tokens, width)
    p = spec.coerce_params(params)
    ours = our_shape("MultiheadAttention", [x], p)
    if isinstance(ours, ShapeError):
        note("MultiheadAttention: we refuse")
        assert width % heads and ours.param == "num_heads"
        return
    outcome = attention_outcome(p, x)
    assert not isinstance(outcome, Exception), outcome
    module, theirs, flops = outcome
    assert theirs == (BATCH, *ours) == (BATCH, *x)
    assert spec.param_count([x], ours, p) == trainable(module)
    assert 2 * BATCH * spec.macs([x], ours, p) == flops


def test_multihead_attention_refusals() -> None:
    assert shape_error("MultiheadAttention", [(197, 768)], num_heads=5) == (
        "embed_dim 768 (the input's last size) is not divisible by num_heads 5: use 4 or 6 heads")
    assert isinstance(attention_outcome(coerced("MultiheadAttention", num_heads=5), (4, 12)), AssertionError)
    # torch would read a flat batch as one unbatched sequence, attending across the samples.
    assert shape_error("MultiheadAttention", [(768,)]) == (
        "MultiheadAttention needs a T×D input, got 768: attention runs over tokens, one row each")
    assert shape_error("MultiheadAttention", [(3, 4, 4)]).startswith("MultiheadAttention needs a T×D input")


def test_multihead_attention_vit_b_costs() -> None:
    spec, x = REGISTRY["MultiheadAttention"], (197, 768)
    p = coerced("MultiheadAttention", num_heads=12)
    assert spec.param_count([x], x, p) == 3 * 768 * 768 + 3 * 768 + 768 * 768 + 768 == 2_362_368
    assert spec.macs([x], x, p) == 197 * 3 * 768 * 768 + 197 * 768 * 768 + 2 * 197 * 197 * 768
    assert spec.formula is not None
    assert spec.formula([x], x, p) == "12 heads of 64: softmax(Q·Kᵀ / √64)·V over 197 tokens, then 768 → 768"
    assert spec.module is not None
    assert spec.module([x], p).source() == "nn.MultiheadAttention(768, 12, batch_first=True)"


# -- the exported file -------------------------------------------------------------------------


def test_helper_classes_are_known_in_the_exported_file_and_the_compiled_module(tmp_path: Path) -> None:
    graph = vit_head()
    graph.add_node("StochasticDepth", "drop", {"p": 0.2})
    graph.connect("embedded", "drop")
    exported = load_exported(graph, tmp_path)
    compiled = graph.to_torch()
    for model in (exported, compiled):
        assert helper_of(type(model.drop)) == "StochasticDepth"
        assert helper_of(type(model)) is None
    edited = tmp_path / "edited.py"
    edited.write_text((tmp_path / "model.py").read_text(encoding="utf-8").replace("x * noise", "x + noise"),
                      encoding="utf-8")
    namespace: dict[str, Any] = {}
    exec(compile(edited.read_text(encoding="utf-8"), str(edited), "exec"), namespace)
    assert helper_of(namespace["StochasticDepth"]) is None, "an edited copy computes something else"
    unsourced: dict[str, Any] = {"nn": nn, "torch": torch}
    exec(helper_source(["StochasticDepth"]), unsourced)  # no file to read its source from
    assert helper_of(unsourced["StochasticDepth"]) is None


def test_helper_classes_are_formatted_as_ruff_formats_them(tmp_path: Path) -> None:
    path = tmp_path / "helpers.py"
    source = helper_source(["LayerNorm2d", "StochasticDepth"])
    path.write_text("import torch\nfrom torch import nn\n\n\n" + source, encoding="utf-8")
    for args in (["check", "--isolated"], ["format", "--isolated", "--check"]):
        result = subprocess.run([str(RUFF), *args, str(path)], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(("typed", "block"), [
    ("dense", "Linear"), ("fully connected", "Linear"), ("attention", "MultiheadAttention"),
    ("mha", "MultiheadAttention"), ("class token", "Parameter"), ("position embedding", "Parameter"),
    ("layer scale", "Parameter"), ("drop path", "StochasticDepth"), ("layer norm", "LayerNorm"),
    ("channels-first layer norm", "LayerNorm2d"),
])
def test_search_finds_these_blocks_by_what_people_call_them(typed: str, block: str) -> None:
    ranks = {name: match_rank(spec, typed) for name, spec in REGISTRY.items()}
    found = sorted((rank, name) for name, rank in ranks.items() if rank is not None)
    assert found and found[0][0] == ranks[block], found[:3]
