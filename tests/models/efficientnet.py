"""EfficientNet-B0 (Tan and Le, 2019, "EfficientNet: Rethinking Model Scaling for Convolutional Neural
Networks"), as torchvision defines it.

``efficientnet_b0()`` is torchvision's ``efficientnet_b0`` (width and depth 1.0, dropout 0.2, stochastic depth
0.2 rising linearly over the blocks, BatchNorm2d with PyTorch's defaults): 5,288,548 parameters at 1,000
classes, initialised as torchvision does.

Forward idioms the importer meets here: ``Conv2dNormActivation`` (Conv2d, BatchNorm2d, SiLU), a
``SqueezeExcitation`` with a SiLU and a Sigmoid gate returning ``scale * input``, the residual
``result = self.stochastic_depth(result); result += input`` where ``StochasticDepth`` calls
``torchvision.ops.stochastic_depth`` (an fx leaf), ``nn.AdaptiveAvgPool2d(1)`` then ``torch.flatten(x, 1)``,
and ``Dropout(inplace=True)`` before the Linear classifier.
"""

import copy
import math
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import torch
from torch import Tensor, nn

from tests.models._utils import _make_divisible, _no_weights
from tests.models.ops import Conv2dNormActivation, SqueezeExcitation, StochasticDepth


class MBConvConfig:
    """One stage of the paper's Table 1: expansion, kernel, first stride, widths and depth, scaled."""

    def __init__(self, expand_ratio: float, kernel: int, stride: int, input_channels: int, out_channels: int,
                 num_layers: int, width_mult: float = 1.0, depth_mult: float = 1.0,
                 block: Callable[..., nn.Module] | None = None) -> None:
        self.expand_ratio = expand_ratio
        self.kernel = kernel
        self.stride = stride
        self.input_channels = self.adjust_channels(input_channels, width_mult)
        self.out_channels = self.adjust_channels(out_channels, width_mult)
        self.num_layers = self.adjust_depth(num_layers, depth_mult)
        self.block = block or MBConv

    @staticmethod
    def adjust_channels(channels: int, width_mult: float, min_value: int | None = None) -> int:
        return _make_divisible(channels * width_mult, 8, min_value)

    @staticmethod
    def adjust_depth(num_layers: int, depth_mult: float) -> int:
        return math.ceil(num_layers * depth_mult)


class MBConv(nn.Module):
    """Mobile inverted bottleneck with squeeze-and-excitation; the residual branch is dropped stochastically."""

    def __init__(self, cnf: MBConvConfig, stochastic_depth_prob: float, norm_layer: Callable[..., nn.Module],
                 se_layer: Callable[..., nn.Module] = SqueezeExcitation) -> None:
        super().__init__()
        if not 1 <= cnf.stride <= 2:
            raise ValueError(f"illegal stride value {cnf.stride}")
        self.use_res_connect = cnf.stride == 1 and cnf.input_channels == cnf.out_channels
        activation_layer = nn.SiLU
        layers: list[nn.Module] = []
        expanded = cnf.adjust_channels(cnf.input_channels, cnf.expand_ratio)
        if expanded != cnf.input_channels:
            layers.append(Conv2dNormActivation(cnf.input_channels, expanded, kernel_size=1,
                                               norm_layer=norm_layer, activation_layer=activation_layer))
        layers.append(Conv2dNormActivation(expanded, expanded, kernel_size=cnf.kernel, stride=cnf.stride,
                                           groups=expanded, norm_layer=norm_layer,
                                           activation_layer=activation_layer))
        # The squeeze width is a quarter of the block's input, not of its expanded width (the paper's 0.25).
        squeeze_channels = max(1, cnf.input_channels // 4)
        layers.append(se_layer(expanded, squeeze_channels, activation=partial(nn.SiLU, inplace=True)))
        layers.append(Conv2dNormActivation(expanded, cnf.out_channels, kernel_size=1, norm_layer=norm_layer,
                                           activation_layer=None))
        self.block = nn.Sequential(*layers)
        self.stochastic_depth = StochasticDepth(stochastic_depth_prob, "row")
        self.out_channels = cnf.out_channels

    def forward(self, input: Tensor) -> Tensor:
        result = self.block(input)
        if self.use_res_connect:
            result = self.stochastic_depth(result)
            result += input
        return result


class EfficientNet(nn.Module):
    def __init__(
        self,
        inverted_residual_setting: Sequence[MBConvConfig],
        dropout: float,
        stochastic_depth_prob: float = 0.2,
        num_classes: int = 1000,
        norm_layer: Callable[..., nn.Module] | None = None,
        last_channel: int | None = None,
    ) -> None:
        super().__init__()
        if not inverted_residual_setting:
            raise ValueError("The inverted_residual_setting should not be empty")
        norm_layer = norm_layer or nn.BatchNorm2d
        first = inverted_residual_setting[0].input_channels
        layers: list[nn.Module] = [Conv2dNormActivation(3, first, kernel_size=3, stride=2,
                                                        norm_layer=norm_layer, activation_layer=nn.SiLU)]
        layers += _stages(inverted_residual_setting, stochastic_depth_prob, norm_layer)
        lastconv_input = inverted_residual_setting[-1].out_channels
        lastconv_output = last_channel if last_channel is not None else 4 * lastconv_input
        layers.append(Conv2dNormActivation(lastconv_input, lastconv_output, kernel_size=1,
                                           norm_layer=norm_layer, activation_layer=nn.SiLU))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout, inplace=True),
                                        nn.Linear(lastconv_output, num_classes))
        _init_efficientnet(self)

    def _forward_impl(self, x: Tensor) -> Tensor:
        x = self.features(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.classifier(x)

    def forward(self, x: Tensor) -> Tensor:
        return self._forward_impl(x)


def _stages(setting: Sequence[MBConvConfig], stochastic_depth_prob: float,
            norm_layer: Callable[..., nn.Module]) -> list[nn.Module]:
    """One ``nn.Sequential`` per stage; the drop probability grows linearly with the block's index."""
    total_blocks = sum(cnf.num_layers for cnf in setting)
    block_id = 0
    stages: list[nn.Module] = []
    for cnf in setting:
        stage: list[nn.Module] = []
        for _ in range(cnf.num_layers):
            block_cnf = copy.copy(cnf)
            if stage:  # only a stage's first block changes width or stride
                block_cnf.input_channels = block_cnf.out_channels
                block_cnf.stride = 1
            sd_prob = stochastic_depth_prob * float(block_id) / total_blocks
            stage.append(block_cnf.block(block_cnf, sd_prob, norm_layer))
            block_id += 1
        stages.append(nn.Sequential(*stage))
    return stages


def _init_efficientnet(model: nn.Module) -> None:
    """torchvision's EfficientNet initialisation: He (fan-out) convs, unit norms, uniform ±1/√out Linear."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            init_range = 1.0 / math.sqrt(m.out_features)
            nn.init.uniform_(m.weight, -init_range, init_range)
            nn.init.zeros_(m.bias)


def _efficientnet_conf(width_mult: float, depth_mult: float) -> list[MBConvConfig]:
    """The seven MBConv stages of the paper's Table 1 (the B0 baseline), scaled."""
    conf = partial(MBConvConfig, width_mult=width_mult, depth_mult=depth_mult)
    return [conf(1, 3, 1, 32, 16, 1), conf(6, 3, 2, 16, 24, 2), conf(6, 5, 2, 24, 40, 2),
            conf(6, 3, 2, 40, 80, 3), conf(6, 5, 1, 80, 112, 3), conf(6, 5, 2, 112, 192, 4),
            conf(6, 3, 1, 192, 320, 1)]


def efficientnet_b0(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> EfficientNet:
    """EfficientNet-B0: 5,288,548 parameters at 1,000 classes."""
    _no_weights(weights)
    return EfficientNet(_efficientnet_conf(1.0, 1.0), kwargs.pop("dropout", 0.2), **kwargs)
