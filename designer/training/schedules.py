"""The learning-rate schedules, each combinable with a linear warm-up.

The one implementation is :class:`designer.training.portable.Schedule`, shared
with the exported ``train.py``; the engine's ``Schedule`` only takes a
TrainingConfig where the portable one takes the settings' plain values.
"""

from __future__ import annotations

import torch

from designer.training import portable
from designer.training.config import TrainingConfig
from designer.training.factories import settings_of
from designer.training.portable import PLATEAU_THRESHOLD

__all__ = ["PLATEAU_THRESHOLD", "Schedule", "make_scheduler"]


class Schedule(portable.Schedule):
    """Sets the learning rate of ``optimizer`` for each step; call ``step()`` after every optimizer step."""

    def __init__(self, optimizer: torch.optim.Optimizer, config: TrainingConfig, steps_per_epoch: int) -> None:
        self.config = config
        super().__init__(optimizer, settings_of(config), steps_per_epoch)


def make_scheduler(optimizer: torch.optim.Optimizer, config: TrainingConfig, steps_per_epoch: int) -> Schedule:
    """The schedule ``config`` names, with its warm-up; it has set the rate for the first step already."""
    return Schedule(optimizer, config, steps_per_epoch)
