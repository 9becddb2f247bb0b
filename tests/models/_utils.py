"""Helpers the reference model families share, with the meaning torchvision's ``models._utils`` gives them."""

from typing import Any

from torch import nn


def _make_divisible(v: float, divisor: int, min_value: int | None = None) -> int:
    """``v`` rounded to the nearest multiple of ``divisor`` (at least ``min_value``), never more than 10 % below
    ``v``: the channel rounding of the MobileNet family, kept so widths (and so parameter counts) match."""
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def _no_weights(weights: Any) -> None:
    """The factories take torchvision's ``weights`` argument, but these fixtures have no weights to download."""
    if weights is not None:
        raise ValueError(f"weights={weights!r}: the reference models have no pretrained weights; "
                         "leave weights=None and load a state_dict instead")


def _init_mobilenet(model: nn.Module) -> None:
    """torchvision's MobileNet v2/v3 initialisation: He (fan-out) convs, unit norms, N(0, 0.01) Linear."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0, 0.01)
            nn.init.zeros_(m.bias)
