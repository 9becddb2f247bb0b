"""ConvNeXt-Tiny (Liu, Mao, Wu, Feichtenhofer, Darrell and Xie, 2022, "A ConvNet for the 2020s"), as torchvision
defines it.

``convnext_tiny()`` is torchvision's ``convnext_tiny``: stages of 3, 3, 9, 3 blocks at widths 96, 192, 384,
768, layer scale 1e-6, stochastic depth 0.1 rising linearly to the last block, LayerNorm eps 1e-6: 28,589,128
parameters at 1,000 classes, initialised as torchvision does (truncated normal, std 0.02).

Forward idioms the importer meets here: a patchify stem ``Conv2dNormActivation`` (4×4 stride-4 Conv2d with bias,
then ``LayerNorm2d``); ``CNBlock``: depthwise 7×7 Conv2d, ``Permute([0, 2, 3, 1])``, ``nn.LayerNorm`` over the
last axis, Linear, GELU, Linear, ``Permute([0, 3, 1, 2])``, ``self.layer_scale * result`` with a learned
``nn.Parameter`` of shape C×1×1, ``StochasticDepth`` (``torchvision.ops.stochastic_depth``, an fx leaf) and
``result += input``; ``LayerNorm2d`` written as ``x.permute(0, 2, 3, 1)``, ``F.layer_norm``,
``x.permute(0, 3, 1, 2)``; downsampling by LayerNorm2d then a 2×2 stride-2 Conv2d; the head
``nn.AdaptiveAvgPool2d(1)``, LayerNorm2d, ``nn.Flatten(1)``, Linear.
"""

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from tests.models._utils import _no_weights
from tests.models.ops import Conv2dNormActivation, Permute, StochasticDepth


class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channels of an N×C×H×W tensor: ConvNeXt's norm in its stem and downsamplers."""

    # As torchvision names it, so an importer keyed on torchvision's qualified names sees it as it would
    # see torchvision's own (see ops.py).
    __module__ = "torchvision.models.convnext"

    def forward(self, x: Tensor) -> Tensor:
        x = x.permute(0, 2, 3, 1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


class CNBlock(nn.Module):
    """Depthwise 7×7, then an inverted-bottleneck MLP in channels-last layout, scaled and added to the input."""

    def __init__(self, dim: int, layer_scale: float, stochastic_depth_prob: float,
                 norm_layer: Callable[..., nn.Module] | None = None) -> None:
        super().__init__()
        norm_layer = norm_layer or partial(nn.LayerNorm, eps=1e-6)
        self.block = nn.Sequential(
            nn.Conv2d(dim, dim, kernel_size=7, padding=3, groups=dim, bias=True),
            Permute([0, 2, 3, 1]),
            norm_layer(dim),
            nn.Linear(in_features=dim, out_features=4 * dim, bias=True),
            nn.GELU(),
            nn.Linear(in_features=4 * dim, out_features=dim, bias=True),
            Permute([0, 3, 1, 2]),
        )
        self.layer_scale = nn.Parameter(torch.ones(dim, 1, 1) * layer_scale)
        self.stochastic_depth = StochasticDepth(stochastic_depth_prob, "row")

    def forward(self, input: Tensor) -> Tensor:
        result = self.layer_scale * self.block(input)
        result = self.stochastic_depth(result)
        result += input
        return result


class CNBlockConfig:
    """One stage: its width, the width the downsampler after it leads to (None for the last), its depth."""

    def __init__(self, input_channels: int, out_channels: int | None, num_layers: int) -> None:
        self.input_channels = input_channels
        self.out_channels = out_channels
        self.num_layers = num_layers


class ConvNeXt(nn.Module):
    def __init__(
        self,
        block_setting: list[CNBlockConfig],
        stochastic_depth_prob: float = 0.0,
        layer_scale: float = 1e-6,
        num_classes: int = 1000,
        block: Callable[..., nn.Module] | None = None,
        norm_layer: Callable[..., nn.Module] | None = None,
    ) -> None:
        super().__init__()
        if not block_setting:
            raise ValueError("The block_setting should not be empty")
        block = block or CNBlock
        norm_layer = norm_layer or partial(LayerNorm2d, eps=1e-6)
        first = block_setting[0].input_channels
        stem = Conv2dNormActivation(3, first, kernel_size=4, stride=4, padding=0, norm_layer=norm_layer,
                                    activation_layer=None, bias=True)
        layers: list[nn.Module] = [stem]
        layers += _stages(block_setting, block, norm_layer, layer_scale, stochastic_depth_prob)
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        last = block_setting[-1]
        last_channels = last.out_channels if last.out_channels is not None else last.input_channels
        self.classifier = nn.Sequential(norm_layer(last_channels), nn.Flatten(1),
                                        nn.Linear(last_channels, num_classes))
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.trunc_normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def _forward_impl(self, x: Tensor) -> Tensor:
        x = self.features(x)
        x = self.avgpool(x)
        return self.classifier(x)

    def forward(self, x: Tensor) -> Tensor:
        return self._forward_impl(x)


def _stages(block_setting: Sequence[CNBlockConfig], block: Callable[..., nn.Module],
            norm_layer: Callable[..., nn.Module], layer_scale: float,
            stochastic_depth_prob: float) -> list[nn.Module]:
    """Each stage's blocks, then its downsampler (LayerNorm2d, 2×2 stride-2 Conv2d) where one follows."""
    total_blocks = sum(cnf.num_layers for cnf in block_setting)
    block_id = 0
    layers: list[nn.Module] = []
    for cnf in block_setting:
        stage: list[nn.Module] = []
        for _ in range(cnf.num_layers):
            # From 0 at the first block to stochastic_depth_prob at the last.
            sd_prob = stochastic_depth_prob * block_id / (total_blocks - 1.0)
            stage.append(block(cnf.input_channels, layer_scale, sd_prob))
            block_id += 1
        layers.append(nn.Sequential(*stage))
        if cnf.out_channels is not None:
            downsample = nn.Conv2d(cnf.input_channels, cnf.out_channels, kernel_size=2, stride=2)
            layers.append(nn.Sequential(norm_layer(cnf.input_channels), downsample))
    return layers


def convnext_tiny(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> ConvNeXt:
    """ConvNeXt-Tiny: 28,589,128 parameters at 1,000 classes."""
    _no_weights(weights)
    block_setting = [CNBlockConfig(96, 192, 3), CNBlockConfig(192, 384, 3), CNBlockConfig(384, 768, 9),
                     CNBlockConfig(768, None, 3)]
    stochastic_depth_prob = kwargs.pop("stochastic_depth_prob", 0.1)
    return ConvNeXt(block_setting, stochastic_depth_prob, **kwargs)
