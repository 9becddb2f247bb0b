"""Optimizers and loss functions built from a TrainingConfig.

The one implementation lives in :mod:`designer.training.portable`, which the
exported ``train.py`` carries too; this module hands it the config's settings as
the project file writes them, so the engine and the script read the same values.
Settings that do not apply to the chosen optimizer are ignored (see
:mod:`designer.training.config`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch import nn

from designer.training import portable
from designer.training.config import TrainingConfig
from designer.training.portable import ClassTargetLoss

__all__ = ["ClassTargetLoss", "make_loss", "make_optimizer", "settings_of"]


def settings_of(config: TrainingConfig) -> dict[str, Any]:
    """The settings as the exported script's ``CONFIG["training"]`` holds them."""
    return config.to_json(full=True)


def make_optimizer(params: Iterable[torch.nn.Parameter], config: TrainingConfig,
                   device: torch.device | None = None) -> torch.optim.Optimizer:
    """The optimizer ``config.optimizer`` names, over ``params`` (fused Adam and AdamW on CUDA)."""
    return portable.make_optimizer(params, settings_of(config), device)


def make_loss(config: TrainingConfig) -> nn.Module:
    """The loss ``config.loss`` names, called as ``loss(output, target)`` and averaged over the batch."""
    return portable.make_loss(settings_of(config))
