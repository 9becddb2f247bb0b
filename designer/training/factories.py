"""Optimizers and loss functions built from a TrainingConfig.

Settings that do not apply to the chosen optimizer are ignored (see
:mod:`designer.training.config`). Regression losses (MSE, L1) accept class
labels too: integer targets become one-hot rows, so any of the four losses can
train a classifier, as the articles our users read compare them.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
import torch.nn.functional as F
from torch import nn

from designer.training.config import TrainingConfig


def make_optimizer(params: Iterable[torch.nn.Parameter], config: TrainingConfig,
                   device: torch.device | None = None) -> torch.optim.Optimizer:
    """The optimizer ``config.optimizer`` names, over ``params``.

    On CUDA, Adam and AdamW use their fused kernels (one launch for all the
    parameters instead of several per tensor).
    """
    c = config
    params = list(params)
    fused = {"fused": True} if device is not None and device.type == "cuda" else {}
    if c.optimizer == "sgd":
        return torch.optim.SGD(params, lr=c.lr, momentum=c.momentum, nesterov=c.nesterov,
                               weight_decay=c.weight_decay)
    if c.optimizer == "adam":
        return torch.optim.Adam(params, lr=c.lr, betas=c.betas, weight_decay=c.weight_decay, **fused)
    if c.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=c.lr, betas=c.betas, weight_decay=c.weight_decay, **fused)
    if c.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=c.lr, momentum=c.momentum, weight_decay=c.weight_decay)
    raise AssertionError(f"unchecked optimizer {c.optimizer!r}")  # TrainingConfig refuses others


class ClassTargetLoss(nn.Module):
    """A regression loss that also takes class labels: integer targets become one-hot rows."""

    def __init__(self, loss: nn.Module) -> None:
        super().__init__()
        self.loss = loss

    def forward(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if not target.is_floating_point() and output.dim() == 2 and target.dim() == 1:
            target = F.one_hot(target, output.shape[1]).to(output.dtype)
        return self.loss(output, target)


def make_loss(config: TrainingConfig) -> nn.Module:
    """The loss ``config.loss`` names, called as ``loss(output, target)`` and averaged over the batch."""
    if config.loss == "cross_entropy":
        return nn.CrossEntropyLoss(label_smoothing=config.label_smoothing)
    if config.loss == "mse":
        return ClassTargetLoss(nn.MSELoss())
    if config.loss == "l1":
        return ClassTargetLoss(nn.L1Loss())
    if config.loss == "hinge":
        return nn.MultiMarginLoss()
    raise AssertionError(f"unchecked loss {config.loss!r}")
