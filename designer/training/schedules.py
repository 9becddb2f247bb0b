"""The learning-rate schedules, each combinable with a linear warm-up.

One class does them all: before every step it sets each parameter group's rate
to ``base · warm-up(step) · decay``, where the decay is a pure function of the
step for constant, step, exponential and cosine, and a factor that
``epoch_end`` lowers for reduce-on-plateau. Computing the rate from the step,
rather than multiplying it step by step, keeps a resumed run exactly on the
curve, and lets warm-up and plateau share the optimizer's rate without
overwriting each other (torch's LambdaLR and ReduceLROnPlateau would).
"""

from __future__ import annotations

import math
from typing import Any

import torch

from designer.training.config import TrainingConfig

PLATEAU_THRESHOLD = 1e-4  # relative improvement that counts, as torch's ReduceLROnPlateau


class Schedule:
    """Sets the learning rate of ``optimizer`` for each step; call ``step()`` after every optimizer step."""

    def __init__(self, optimizer: torch.optim.Optimizer, config: TrainingConfig, steps_per_epoch: int) -> None:
        self.optimizer = optimizer
        self.config = config
        self.steps_per_epoch = max(1, steps_per_epoch)
        self.base_lrs = [float(group.get("initial_lr", group["lr"])) for group in optimizer.param_groups]
        for group, base in zip(optimizer.param_groups, self.base_lrs):
            group["initial_lr"] = base
        self.steps = 0  # optimizer steps taken so far
        self.plateau_scale = 1.0
        self.plateau_best = math.inf
        self.plateau_bad_epochs = 0
        self._apply()

    @property
    def per_epoch(self) -> bool:
        """Whether the schedule also needs ``epoch_end`` with the validation loss."""
        return self.config.schedule == "plateau"

    @property
    def lr(self) -> float:
        """The rate of the first parameter group for the next step."""
        return float(self.optimizer.param_groups[0]["lr"])

    def factor(self, step: int) -> float:
        """The decay for the ``step``-th step (0-based), before warm-up and the min_lr floor."""
        c = self.config
        epochs = step / self.steps_per_epoch
        if c.schedule == "step":
            return c.gamma ** math.floor(step / (c.decay_epochs * self.steps_per_epoch))
        if c.schedule == "exponential":
            return c.gamma ** (epochs / c.decay_epochs)
        if c.schedule == "cosine":
            progress = min(1.0, step / (c.epochs * self.steps_per_epoch))
            return 0.5 * (1 + math.cos(math.pi * progress))
        if c.schedule == "plateau":
            return self.plateau_scale
        return 1.0

    def warmup(self, step: int) -> float:
        """Linear warm-up: step 0 gets 1/W of the rate, step W−1 all of it."""
        warm = self.config.warmup_steps
        return 1.0 if step >= warm else (step + 1) / warm

    def lr_at(self, step: int, base: float) -> float:
        c = self.config
        if c.schedule == "cosine":
            decayed = c.min_lr + (base - c.min_lr) * self.factor(step)
        else:
            decayed = max(c.min_lr, base * self.factor(step))
        return decayed * self.warmup(step)

    def _apply(self) -> None:
        for group, base in zip(self.optimizer.param_groups, self.base_lrs):
            group["lr"] = self.lr_at(self.steps, base)

    def step(self) -> None:
        self.steps += 1
        self._apply()

    def epoch_end(self, val_loss: float | None) -> None:
        """Reduce-on-plateau: lower the rate by ``gamma`` after ``patience`` epochs without improvement."""
        if not self.per_epoch or val_loss is None or not math.isfinite(val_loss):
            return
        if val_loss < self.plateau_best * (1 - PLATEAU_THRESHOLD):
            self.plateau_best = val_loss
            self.plateau_bad_epochs = 0
        else:
            self.plateau_bad_epochs += 1
        if self.plateau_bad_epochs > self.config.patience:
            self.plateau_scale *= self.config.gamma
            self.plateau_bad_epochs = 0
        self._apply()

    def state_dict(self) -> dict[str, Any]:
        return {"steps": self.steps, "plateau_scale": self.plateau_scale,
                "plateau_best": self.plateau_best, "plateau_bad_epochs": self.plateau_bad_epochs}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.steps = int(state["steps"])
        self.plateau_scale = float(state["plateau_scale"])
        self.plateau_best = float(state["plateau_best"])
        self.plateau_bad_epochs = int(state["plateau_bad_epochs"])
        self._apply()


def make_scheduler(optimizer: torch.optim.Optimizer, config: TrainingConfig, steps_per_epoch: int) -> Schedule:
    """The schedule ``config`` names, with its warm-up; it has set the rate for the first step already."""
    return Schedule(optimizer, config, steps_per_epoch)
