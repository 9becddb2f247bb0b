"""Importing layer norms, learned tensors, stochastic depth, attention and Linear on tokens.

Each model is written the way torchvision writes these pieces (ViT's class token,
position embedding and encoder block, ConvNeXt's channels-last block, LayerNorm2d and
layer scale), in module and functional form, and goes through ``check_import``: the
imported graph computes exactly what the model computes with its weights.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from designer.graph.importer import ModelImportError, import_model
from tests.graph.test_importer import check_import, types
from tests.models.ops import StochasticDepth, stochastic_depth

# As torchvision does in its own module: the function is one call to fx, not traced into.
torch.fx.wrap("stochastic_depth")


class LayerNorm2d(nn.LayerNorm):
    """A look-alike of torchvision's ConvNeXt LayerNorm2d: layer norm over the channels of N×C×H×W."""

    __module__ = "torchvision.models.convnext"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.permute(0, 2, 3, 1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


def randomise(model: nn.Module) -> nn.Module:
    """Weights other than torch's ones and zeros, so copying them shows in the outputs."""
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.uniform_(-1, 1)
    return model


def params_of(imported, block: str) -> dict:  # type: ignore[no-untyped-def]
    return dict(imported.graph.node(block).params)


# -- LayerNorm --------------------------------------------------------------------------------


class TokenNorms(nn.Module):
    """4×2×3 → 4×6 tokens, a LayerNorm over each token, then one over the last two axes of a map."""

    def __init__(self) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(6, eps=1e-6, bias=False)
        self.plain = nn.LayerNorm([4, 6], elementwise_affine=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.plain(self.norm(torch.flatten(x, 2)))


def test_layernorm_modules_import_with_their_sizes_from_the_input() -> None:
    imported = check_import(randomise(TokenNorms()), (4, 2, 3))
    assert params_of(imported, "norm") == {"normalized_dims": 1, "eps": 1e-6, "elementwise_affine": True,
                                           "bias": False}
    assert params_of(imported, "plain") == {"normalized_dims": 2, "eps": 1e-5, "elementwise_affine": False,
                                            "bias": True}


class FunctionalNorm(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(F.layer_norm(x, (3, 3), eps=1e-6) + F.layer_norm(x, [3], None, None, 1e-3))


def test_layer_norm_function_without_weights_is_a_layernorm() -> None:
    imported = check_import(FunctionalNorm(), (2, 3, 3))
    norms = [params_of(imported, n) for n, t in types(imported).items() if t == "LayerNorm"]
    assert norms == [{"normalized_dims": 2, "eps": 1e-6, "elementwise_affine": False, "bias": True},
                     {"normalized_dims": 1, "eps": 1e-3, "elementwise_affine": False, "bias": True}]


def test_layernorm2d_imports_by_torchvisions_name() -> None:
    model = randomise(nn.Sequential(nn.Conv2d(3, 8, 2, stride=2), LayerNorm2d(8, eps=1e-6)))
    imported = check_import(model, (3, 8, 8))
    assert types(imported)["1"] == "LayerNorm2d"
    assert params_of(imported, "1") == {"eps": 1e-6, "elementwise_affine": True, "bias": True}


# -- StochasticDepth ----------------------------------------------------------------------------


class Residual(nn.Module):
    """A residual branch dropped by stochastic depth, as a module and as torchvision's function."""

    def __init__(self, functional: bool) -> None:
        super().__init__()
        self.conv = nn.Conv2d(4, 4, 3, padding=1)
        self.functional = functional
        self.drop = StochasticDepth(0.2, "row")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x)
        return (stochastic_depth(y, 0.3, "batch", self.training) if self.functional else self.drop(y)) + x


@pytest.mark.parametrize("training", [True, False])
def test_stochastic_depth_module_imports_in_either_mode(training: bool) -> None:
    imported = check_import(Residual(functional=False).train(training), (4, 5, 5))
    assert types(imported)["drop"] == "StochasticDepth"
    assert params_of(imported, "drop") == {"p": 0.2, "mode": "row"}


def test_stochastic_depth_function_imports_while_training_and_is_nothing_in_eval_mode() -> None:
    imported = check_import(Residual(functional=True).train(), (4, 5, 5))
    (block,) = [n for n, t in types(imported).items() if t == "StochasticDepth"]
    assert params_of(imported, block) == {"p": 0.3, "mode": "batch"}
    # Traced in eval mode, training=False never drops: the branch goes straight to the Add.
    imported = check_import(Residual(functional=True).eval(), (4, 5, 5))
    assert "StochasticDepth" not in types(imported).values()


# -- learned tensors ------------------------------------------------------------------------------


class Embedding(nn.Module):
    """ViT's first lines: patch tokens, a class token expanded over the batch, a position embedding."""

    def __init__(self) -> None:
        super().__init__()
        self.class_token = nn.Parameter(torch.zeros(1, 1, 6))
        self.pos_embedding = nn.Parameter(torch.empty(1, 5, 6).normal_(std=0.02))
        self.ln = nn.LayerNorm(6)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.flatten(x, 2)
        n = x.shape[0]
        batch_class_token = self.class_token.expand(n, -1, -1)
        x = torch.cat([batch_class_token, x], dim=1)
        return self.ln(x + self.pos_embedding)


def test_class_token_and_position_embedding_import_as_parameters() -> None:
    imported = check_import(randomise(Embedding()), (4, 2, 3))
    assert types(imported)["class_token"] == "Parameter"
    assert params_of(imported, "class_token")["shape"] == (1, 1, 6)
    assert params_of(imported, "pos_embedding")["shape"] == (1, 5, 6)
    assert params_of(imported, "pos_embedding")["batch_axis"] is True
    assert imported.graph.result("pos_embedding").shape == (5, 6)
    assert {"class_token", "pos_embedding"} <= set(imported.state_dict)


class LayerScale(nn.Module):
    """ConvNeXt's layer scale: a C×1×1 tensor, without a batch axis, times the branch."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(4, 4, 1)
        self.layer_scale = nn.Parameter(torch.ones(4, 1, 1) * 1e-6)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer_scale * self.conv(x)


def test_layer_scale_imports_as_a_parameter_without_a_batch_axis() -> None:
    imported = check_import(randomise(LayerScale()), (4, 3, 3))
    assert params_of(imported, "layer_scale")["shape"] == (4, 1, 1)
    assert params_of(imported, "layer_scale")["batch_axis"] is False
    assert imported.graph.result("layer_scale").shape == (4, 1, 1)


# -- attention ------------------------------------------------------------------------------------


class EncoderBlock(nn.Module):
    """torchvision's ViT encoder block: pre-norm self-attention and MLP, each added to its input."""

    def __init__(self, width: int = 6, heads: int = 2) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(width, eps=1e-6)
        self.self_attention = nn.MultiheadAttention(width, heads, dropout=0.0, batch_first=True)
        self.dropout = nn.Dropout(0.0)
        self.ln_2 = nn.LayerNorm(width, eps=1e-6)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Dropout(0.0),
                                 nn.Linear(4 * width, width), nn.Dropout(0.0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.flatten(x, 2)
        y = self.ln_1(x)
        y, _ = self.self_attention(y, y, y, need_weights=False)
        y = self.dropout(y)
        x = x + y
        return x + self.mlp(self.ln_2(x))


def test_vit_encoder_block_imports_attention_as_torchvision_calls_it() -> None:
    imported = check_import(randomise(EncoderBlock()), (4, 2, 3))
    assert types(imported)["self_attention"] == "MultiheadAttention"
    assert params_of(imported, "self_attention") == {"num_heads": 2, "dropout": 0.0, "bias": True}
    assert imported.graph.result("mlp.0").shape == (4, 24)


class CrossAttention(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.attention = nn.MultiheadAttention(6, 2, batch_first=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.flatten(x, 2)
        return self.attention(x, torch.tanh(x), x, need_weights=False)[0]


def test_attention_with_another_key_is_refused() -> None:
    with pytest.raises(ModelImportError, match="called with more than its input"):
        import_model(CrossAttention(), (4, 2, 3))


class SelfAttention(nn.Module):
    def __init__(self, **options: bool) -> None:
        super().__init__()
        self.attention = nn.MultiheadAttention(6, 2, **options)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.flatten(x, 2)
        return self.attention(x, x, x)[0]


def test_attention_imports_without_need_weights_and_refuses_what_the_block_cannot_hold() -> None:
    model = randomise(SelfAttention(batch_first=True, bias=False)).eval()
    imported = import_model(model, (4, 2, 3))
    assert params_of(imported, "attention") == {"num_heads": 2, "dropout": 0.0, "bias": False}
    compiled = imported.graph.to_torch().eval()
    compiled.load_state_dict(imported.state_dict, strict=True)
    x = torch.randn(3, 4, 2, 3)
    with torch.no_grad():
        # Asked for the weights too, torch takes another kernel: the same values, rounded apart.
        assert torch.allclose(compiled(x), model(x), atol=1e-6)
    with pytest.raises(ModelImportError, match=r"batch_first=False: its input is T×N×D; the block takes N×T×D"):
        import_model(SelfAttention(), (4, 2, 3))
    with pytest.raises(ModelImportError, match="add_bias_kv and add_zero_attn have no block parameter"):
        import_model(SelfAttention(batch_first=True, add_bias_kv=True), (4, 2, 3))


# -- Linear on a channels-last map (ConvNeXt) ----------------------------------------------------------


class ChannelsLast(nn.Module):
    """ConvNeXt's block: depthwise conv, permute to H×W×C, LayerNorm, Linear, GELU, Linear, permute back."""

    def __init__(self, dim: int = 4) -> None:
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, 7, padding=3, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.pwconv1 = nn.Linear(dim, 4 * dim)
        self.act = nn.GELU()
        self.pwconv2 = nn.Linear(4 * dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.dwconv(x).permute(0, 2, 3, 1)
        y = self.pwconv2(self.act(self.pwconv1(self.norm(y))))
        return x + y.permute(0, 3, 1, 2)


def test_linear_on_a_channels_last_map_imports_with_channels_last() -> None:
    imported = check_import(randomise(ChannelsLast()), (4, 5, 5))
    assert params_of(imported, "pwconv1") == {"out_features": 16, "bias": True, "channels_last": True}
    assert imported.graph.result("pwconv1").shape == (5, 5, 16)


def test_linear_on_tokens_and_flat_inputs_keeps_channels_last_off() -> None:
    model = randomise(nn.Sequential(nn.Flatten(2), nn.Linear(6, 3), nn.Flatten(1), nn.Linear(12, 2)))
    imported = check_import(model, (4, 2, 3))
    assert params_of(imported, "1") == {"out_features": 3, "bias": True, "channels_last": False}
    assert params_of(imported, "3")["channels_last"] is False
