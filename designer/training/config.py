"""The training settings a project file holds in its ``training`` section.

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
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from designer.training.errors import ConfigError

OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop")
# step: the rate falls by `gamma` every `decay_epochs` epochs, in stairs (Paddle's
# "discexp", TensorFlow's staircase decay); exponential: the same fall, smoothly,
# step by step (Paddle's "exp"); plateau: by `gamma` when the validation loss has
# not improved for `patience` epochs.
SCHEDULES = ("constant", "step", "exponential", "cosine", "plateau")
LOSSES = ("cross_entropy", "mse", "l1", "hinge")
PRECISIONS = ("fp32", "bf16", "fp16")
_ALIASES = {
    "schedule": {"discexp": "step", "exp": "exponential", "reduce_on_plateau": "plateau"},
    "loss": {"crossentropy": "cross_entropy", "cross-entropy": "cross_entropy", "multi_margin": "hinge"},
    "optimizer": {"momentum": "sgd"},
}
_DEVICE = re.compile(r"auto|cpu|mps|cuda(:\d{1,3})?")
MAX_BATCH = 1 << 20
MAX_EPOCHS = 1_000_000
MAX_SEED = 2**63 - 1  # torch.manual_seed takes more, but numpy and the data layer's generators do not
SHOWN_DIGITS = 32  # of a value too long to repeat whole in a one-line message


@dataclass(frozen=True)
class TrainingConfig:
    """How to train: optimizer, schedule, loss, batches, device, precision. Checked on construction."""

    optimizer: str = "sgd"
    lr: float = 0.01
    momentum: float = 0.9  # SGD and RMSprop
    nesterov: bool = False  # SGD
    weight_decay: float = 0.0
    betas: tuple[float, float] = (0.9, 0.999)  # Adam and AdamW
    schedule: str = "constant"
    decay_epochs: float = 5.0  # step, exponential
    gamma: float = 0.1  # step, exponential, plateau
    patience: int = 2  # plateau
    min_lr: float = 0.0  # cosine, plateau
    warmup_steps: int = 0  # linear warm-up, combined with any schedule
    loss: str = "cross_entropy"
    label_smoothing: float = 0.0  # cross-entropy
    batch_size: int = 64
    epochs: int = 10
    seed: int = 0
    device: str = "auto"
    precision: str = "fp32"
    channels_last: bool = False
    clip_grad_norm: float = 0.0  # 0 turns clipping off
    compile: bool = False
    log_every: int = 10  # steps between batch records (each costs one device sync)
    stats_every: int = 50  # steps between samples of per-block statistics; 0 turns them off

    def __post_init__(self) -> None:
        for f in fields(self):
            _CHECKS[f.name](f.name, getattr(self, f.name))
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
        values = dict(data)
        for key, aliases in _ALIASES.items():
            if isinstance(values.get(key), str):
                name = values[key].strip().lower()
                values[key] = aliases.get(name, name)
        if isinstance(values.get("betas"), list):
            values["betas"] = tuple(values["betas"])
        return cls(**values)

    def to_json(self, full: bool = False) -> dict[str, Any]:
        """The settings as JSON values; only those that differ from the defaults unless ``full``."""
        default = _DEFAULT_VALUES
        out = {}
        for key, value in asdict(self).items():
            if full or value != default[key]:
                out[key] = list(value) if isinstance(value, tuple) else value
        return out

    def replace(self, **changes: Any) -> TrainingConfig:
        """A copy with ``changes``, checked like any other."""
        return dataclasses.replace(self, **changes)


# -- checks ------------------------------------------------------------------------------


def _got(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**SHOWN_DIGITS:
        digits = str(value)  # JSON holds at most the 4,300 digits Python converts
        return f"{digits[:SHOWN_DIGITS]}… ({len(digits.lstrip('-'))} digits)"
    text = f"{value:g}" if isinstance(value, float) else repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 2 * SHOWN_DIGITS else f"{text[:2 * SHOWN_DIGITS]}…"


def _is_number(value: Any) -> bool:
    # bool is an int in Python, but `"lr": true` is a mistake, not 1.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int beyond any float, like 10**400: no setting takes that
        return False


def _number(low: float, high: float = math.inf, low_open: bool = False,
            high_open: bool = False) -> Callable[[str, Any], None]:
    def check(key: str, value: Any) -> None:
        fits = (_is_number(value) and (value > low if low_open else value >= low)
                and (value < high if high_open else value <= high))
        if not fits:
            raise ConfigError(key, f"must be a number {_range(low, high, low_open, high_open)}, "
                                   f"got {_got(value)}")
    return check


def _range(low: float, high: float, low_open: bool, high_open: bool) -> str:
    lower = f"{'>' if low_open else '≥'} {low:g}"
    if math.isinf(high):
        return lower
    return f"{'>' if low_open else '≥'} {low:g} and {'<' if high_open else '≤'} {high:g}"


def _whole(low: int, high: int) -> Callable[[str, Any], None]:
    def check(key: str, value: Any) -> None:
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise ConfigError(key, f"must be a whole number from {low} to {high:,}, got {_got(value)}")
    return check


def _choice(options: tuple[str, ...]) -> Callable[[str, Any], None]:
    def check(key: str, value: Any) -> None:
        if value not in options:
            raise ConfigError(key, f"must be one of {', '.join(options)}; got {_got(value)}")
    return check


def _flag(key: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise ConfigError(key, f"must be true or false, got {_got(value)}")


def _betas(key: str, value: Any) -> None:
    if not (isinstance(value, tuple) and len(value) == 2
            and all(_is_number(b) and 0 <= b < 1 for b in value)):
        shown = list(value) if isinstance(value, tuple) else value
        raise ConfigError(key, f"must be two numbers ≥ 0 and < 1, like [0.9, 0.999]; got {_got(shown)}")


def _device(key: str, value: Any) -> None:
    if not isinstance(value, str) or not _DEVICE.fullmatch(value):
        raise ConfigError(key, f"must be auto, cpu, cuda, cuda:N (N a GPU number) or mps; got {_got(value)}")


_CHECKS: dict[str, Callable[[str, Any], None]] = {
    "optimizer": _choice(OPTIMIZERS),
    "lr": _number(0, low_open=True),
    "momentum": _number(0, 1, high_open=True),
    "nesterov": _flag,
    "weight_decay": _number(0),
    "betas": _betas,
    "schedule": _choice(SCHEDULES),
    "decay_epochs": _number(0, low_open=True),
    "gamma": _number(0, 1, low_open=True),
    "patience": _whole(0, 10_000),
    "min_lr": _number(0),
    "warmup_steps": _whole(0, 100_000_000),
    "loss": _choice(LOSSES),
    "label_smoothing": _number(0, 1, high_open=True),
    "batch_size": _whole(1, MAX_BATCH),
    "epochs": _whole(1, MAX_EPOCHS),
    "seed": _whole(0, MAX_SEED),
    "device": _device,
    "precision": _choice(PRECISIONS),
    "channels_last": _flag,
    "clip_grad_norm": _number(0),
    "compile": _flag,
    "log_every": _whole(1, 1_000_000),
    "stats_every": _whole(0, 1_000_000),
}
_DEFAULT_VALUES = asdict(TrainingConfig())
