"""The training settings a project file holds in its ``training`` section.

Each setting (its default, range and words) is declared once, in
:mod:`designer.training.settings`; this is the checked value object built from them.

``TrainingConfig.from_json`` checks every key and value and names the one it
rejects (``training.lr: must be a number > 0, got -1``); a missing key takes its
default. The defaults suit a first run of LeNet-5 on a small digits set: SGD with
momentum 0.9, learning rate 0.01, batches of 64, 10 epochs, cross-entropy.

Settings that do not apply to the chosen optimizer or schedule (``momentum`` for
Adam, ``patience`` for a cosine schedule) are kept and ignored, so switching the
optimizer back and forth in the editor never makes a project invalid. Whether
the chosen device can do the chosen precision is checked when training starts
(:func:`designer.training.devices.check_precision`), since it depends on the
machine, not on the file.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from designer.training.errors import ConfigError
from designer.training.settings import (
    BY_KEY,
    LOSSES,
    MAX_BATCH,
    MAX_EPOCHS,
    MAX_SEED,
    OPTIMIZERS,
    PRECISIONS,
    SCHEDULES,
    SETTINGS,
    default,
)

__all__ = ["LOSSES", "MAX_BATCH", "MAX_EPOCHS", "MAX_SEED", "OPTIMIZERS", "PRECISIONS", "SCHEDULES",
           "TrainingConfig"]


@dataclass(frozen=True)
class TrainingConfig:
    """How to train: optimizer, schedule, loss, batches, device, precision. Checked on construction.

    Each field is a setting of :data:`designer.training.settings.SETTINGS`, in its
    order, with its default and its check; a test holds the two together.
    """

    optimizer: str = default("optimizer")
    lr: float = default("lr")
    momentum: float = default("momentum")
    nesterov: bool = default("nesterov")
    weight_decay: float = default("weight_decay")
    betas: tuple[float, float] = default("betas")
    schedule: str = default("schedule")
    decay_epochs: float = default("decay_epochs")
    gamma: float = default("gamma")
    patience: int = default("patience")
    min_lr: float = default("min_lr")
    warmup_steps: int = default("warmup_steps")
    loss: str = default("loss")
    label_smoothing: float = default("label_smoothing")
    batch_size: int = default("batch_size")
    epochs: int = default("epochs")
    seed: int = default("seed")
    device: str = default("device")
    precision: str = default("precision")
    channels_last: bool = default("channels_last")
    clip_grad_norm: float = default("clip_grad_norm")
    compile: bool = default("compile")
    log_every: int = default("log_every")
    stats_every: int = default("stats_every")

    def __post_init__(self) -> None:
        for setting in SETTINGS:
            setting.check(getattr(self, setting.key))
        if self.nesterov and self.optimizer == "sgd" and self.momentum == 0:
            raise ConfigError("nesterov", "needs a momentum above 0 (training.momentum is 0)")
        if self.min_lr > self.lr:
            raise ConfigError("min_lr", f"must be at most training.lr ({self.lr:g}), got {self.min_lr:g}")

    @classmethod
    def from_json(cls, data: Any) -> TrainingConfig:
        """Build from a project file's ``training`` object; a ConfigError names the bad key."""
        if not isinstance(data, Mapping):
            raise ConfigError("", 'must be an object like {"optimizer": "sgd", "lr": 0.01}')
        known = [f.name for f in fields(cls)]
        for key in data:
            if key not in known:
                raise ConfigError(str(key), f"unknown setting; the settings are {', '.join(known)}")
        return cls(**{key: BY_KEY[key].read(value) for key, value in data.items()})

    def to_json(self, full: bool = False) -> dict[str, Any]:
        """The settings as JSON values; only those that differ from the defaults unless ``full``."""
        out = {}
        for key, value in asdict(self).items():
            if full or value != _DEFAULT_VALUES[key]:
                out[key] = BY_KEY[key].to_json(value)
        return out

    def replace(self, **changes: Any) -> TrainingConfig:
        """A copy with ``changes``, checked like any other."""
        return dataclasses.replace(self, **changes)


_DEFAULT_VALUES = asdict(TrainingConfig())
