"""SE-ResNet-50 (Hu, Shen and Sun, 2018, "Squeeze-and-Excitation Networks", CVPR; arXiv 1709.01507, 2017).

torchvision has no SENet, so this is torchvision's ``resnet50`` (Bottleneck blocks 3, 4, 6, 3, stride on the 3×3
convolution as torchvision's ResNet-50 has it, the same module names, so every ResNet-50 key is torchvision's)
with a squeeze-and-excitation gate ``se`` in every bottleneck: on the residual branch, after ``bn3`` and before
the addition, reduction ratio 16, as in the paper's Figure 3. The gate is ``ops.SqueezeExcitation``: its two
fully connected layers are 1×1 convolutions with bias (``layerN.i.se.fc1``, ``layerN.i.se.fc2``).

Parameters at 1,000 classes: 28,088,024 = ResNet-50's 25,557,032 + 2,530,992 for the gates (each gate on C
channels adds 2·C²/16 weights and C/16 + C biases), counted by tests/models/test_reference_models.py. The
paper reports about 2.5 million parameters added to ResNet-50's 25 million and lists SE-ResNet-50 at r = 16 as
28.1 M in its reduction-ratio ablation; this count rounds to that (28.09 M; with bias-free gates it would be
28.07 M).

Forward idioms the importer meets here: Conv2d, BatchNorm2d, ``nn.ReLU(inplace=True)`` modules, MaxPool2d,
``self.se(out)`` (AdaptiveAvgPool2d(1), Conv2d, ReLU, Conv2d, Sigmoid, ``scale * input``), the downsample
``nn.Sequential`` of 1×1 Conv2d and BatchNorm2d, ``out += identity``, ``nn.AdaptiveAvgPool2d((1, 1))`` then
``torch.flatten(x, 1)`` and Linear.
"""

from typing import Any

import torch
from torch import Tensor, nn

from tests.models._utils import _no_weights
from tests.models.ops import SqueezeExcitation


class SEBottleneck(nn.Module):
    """1×1 reduce, 3×3 (strided), 1×1 expand ×4, squeeze-and-excitation, then the shortcut is added."""

    expansion: int = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None,
                 reduction: int = 16) -> None:
        super().__init__()
        width = planes
        self.conv1 = nn.Conv2d(inplanes, width, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, planes * self.expansion, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.se = SqueezeExcitation(planes * self.expansion, planes * self.expansion // reduction)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        # The gate recalibrates the residual branch only; the identity path is left alone (the paper's Fig. 3).
        out = self.se(out)
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return self.relu(out)


class SEResNet(nn.Module):
    def __init__(self, layers: list[int], num_classes: int = 1000, reduction: int = 16) -> None:
        super().__init__()
        self.inplanes = 64
        self.reduction = reduction
        self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(64, layers[0])
        self.layer2 = self._make_layer(128, layers[1], stride=2)
        self.layer3 = self._make_layer(256, layers[2], stride=2)
        self.layer4 = self._make_layer(512, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * SEBottleneck.expansion, num_classes)
        # torchvision's ResNet initialisation; the gates' 1×1 convolutions are convolutions too.
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)

    def _make_layer(self, planes: int, blocks: int, stride: int = 1) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes * SEBottleneck.expansion:
            out = planes * SEBottleneck.expansion
            downsample = nn.Sequential(nn.Conv2d(self.inplanes, out, kernel_size=1, stride=stride, bias=False),
                                       nn.BatchNorm2d(out))
        layers = [SEBottleneck(self.inplanes, planes, stride, downsample, self.reduction)]
        self.inplanes = planes * SEBottleneck.expansion
        layers += [SEBottleneck(self.inplanes, planes, reduction=self.reduction) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def _forward_impl(self, x: Tensor) -> Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer1(x)
        x = self.layer2(x)
        x = self.layer3(x)
        x = self.layer4(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.fc(x)

    def forward(self, x: Tensor) -> Tensor:
        return self._forward_impl(x)


def se_resnet50(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> SEResNet:
    """SE-ResNet-50, reduction 16: 28,088,024 parameters at 1,000 classes."""
    _no_weights(weights)
    return SEResNet([3, 4, 6, 3], **kwargs)
