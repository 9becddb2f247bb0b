"""The training settings, each declared once: its kind, range, default, words and when it applies.

:data:`SETTINGS` is the one list. :class:`~designer.training.config.TrainingConfig`
takes its fields' defaults and its checks from it, the editor's hyperparameter
form its editors, tooltips and hidden rows, ``designer train`` its flags
(:func:`add_training_flags`), and the exported ``train.py`` the comments on its
``CONFIG`` lines (:func:`config_comments`). A setting that only some optimizers,
schedules or losses use says so with a :class:`When` rule, which the form uses
to hide it and a test compares with what the engine really does.

Neither Qt nor torch is imported here: the editor reads this at startup.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from designer.training.errors import ConfigError

OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop")
# step: the rate falls by `gamma` every `decay_epochs` epochs, in stairs (Paddle's
# "discexp", TensorFlow's staircase decay); exponential: the same fall, smoothly,
# step by step (Paddle's "exp"); plateau: by `gamma` when the validation loss has
# not improved for `patience` epochs.
SCHEDULES = ("constant", "step", "exponential", "cosine", "plateau")
LOSSES = ("cross_entropy", "mse", "l1", "hinge")
PRECISIONS = ("fp32", "bf16", "fp16")
MAX_BATCH = 1 << 20
MAX_EPOCHS = 1_000_000
MAX_SEED = 2**63 - 1  # torch.manual_seed takes more, but numpy and the data layer's generators do not
SHOWN_DIGITS = 32  # of a value too long to repeat whole in a one-line message
MAIN = ""  # the section a newcomer sets: the form shows it first, without a title
SECTIONS = (MAIN, "Optimizer", "Schedule", "Loss", "Run", "Advanced")

# The values `device` takes, and how a message names them: change both together.
DEVICE_PATTERN = re.compile(r"auto|cpu|mps|cuda(:\d{1,3}|:all)?")
DEVICE_WORDS = "auto, cpu, mps, cuda, cuda:N or cuda:all (every GPU, data parallel)"
ALL_GPUS = "cuda:all"  # one process per GPU of this machine, under DistributedDataParallel


class FoundDevice(Protocol):
    """What :func:`device_choices` reads of a device found here (a ``devices.DeviceInfo``)."""

    @property
    def name(self) -> str: ...

    @property
    def label(self) -> str: ...


def device_choices(found: Iterable[FoundDevice]) -> list[tuple[str, str]]:
    """The device list a user picks from: ``(value, text)`` pairs, ``auto`` first, then each device found,
    then, with several GPUs, all of them at once."""
    found = list(found)
    gpus = sum(info.name.startswith("cuda:") for info in found)
    every = [(ALL_GPUS, f"all {gpus} GPUs (data parallel)")] if gpus > 1 else []
    listed = [(info.name, f"{info.name}: {info.label}") for info in found]
    return [("auto", "auto (best found)"), *listed, *every]


@dataclass(frozen=True)
class When:
    """The rule of a setting that only some choices use: it applies when ``key`` is one of ``values``."""

    key: str
    values: tuple[str, ...]

    def __call__(self, config: Any) -> bool:
        return getattr(config, self.key) in self.values

    def words(self) -> str:
        """``sgd and rmsprop``: the choices that use the setting, for a comment."""
        return _listed(self.values, "and")


@dataclass(frozen=True)
class Setting:
    """One training setting. ``kind`` is number, whole, choice, flag, pair (two numbers) or device.

    ``low``/``high`` bound a number, a whole number or each number of a pair
    (``low_open``/``high_open`` leave the bound out); ``choices`` and ``aliases``
    (other names a file may use, lower case) belong to a choice; ``when`` says
    when the setting is used, None for always.
    """

    key: str
    kind: str
    default: Any
    label: str
    help: str
    section: str = MAIN
    low: float = -math.inf
    high: float = math.inf
    low_open: bool = False
    high_open: bool = False
    choices: tuple[str, ...] = ()
    aliases: tuple[tuple[str, str], ...] = ()
    when: When | None = None

    def applies(self, config: Any) -> bool:
        """Whether training with ``config`` uses this setting (a TrainingConfig or anything with its fields)."""
        return self.when is None or self.when(config)

    def allowed(self) -> str:
        """The values it takes, as a message says them: ``a number > 0``, ``one of sgd, adam``."""
        if self.kind == "number":
            return f"a number {_range(self.low, self.high, self.low_open, self.high_open)}"
        if self.kind == "whole":
            return f"a whole number from {self.low} to {self.high:,}"
        if self.kind == "choice":
            return f"one of {', '.join(self.choices)}"
        if self.kind == "pair":
            example = list(self.default)
            return f"two numbers {_range(self.low, self.high, self.low_open, self.high_open)}, like {example}"
        if self.kind == "device":
            return DEVICE_WORDS
        return "true or false"

    def problem(self, value: Any, typed: str | None = None) -> str | None:
        """Why ``value`` is refused, as ``must be …, got …``; None when it is fine.

        ``typed`` is the text the value was read from, shown instead of it (a flag's ``1e999``, not inf).
        """
        if self._fits(value):
            return None
        # A list of values ends in a semicolon, so that the value shown stands apart from it.
        joint = ";" if self.kind in ("choice", "pair", "device") else ","
        shown = list(value) if self.kind == "pair" and isinstance(value, tuple) else value
        got = shown_value(shown) if typed is None else _cut(typed)
        return f"must be {self.allowed()}{joint} got {got}"

    def check(self, value: Any) -> None:
        """Raise ConfigError naming the setting when ``value`` is refused."""
        problem = self.problem(value)
        if problem is not None:
            raise ConfigError(self.key, problem)

    def _fits(self, value: Any) -> bool:
        if self.kind == "number":
            return self._in_range(value)
        if self.kind == "whole":
            return isinstance(value, int) and not isinstance(value, bool) and self.low <= value <= self.high
        if self.kind == "choice":
            return value in self.choices
        if self.kind == "pair":
            return isinstance(value, tuple) and len(value) == 2 and all(map(self._in_range, value))
        if self.kind == "device":
            return isinstance(value, str) and DEVICE_PATTERN.fullmatch(value) is not None
        return isinstance(value, bool)

    def _in_range(self, value: Any) -> bool:
        return (is_number(value) and (value > self.low if self.low_open else value >= self.low)
                and (value < self.high if self.high_open else value <= self.high))

    def read(self, value: Any) -> Any:
        """A value as a project file holds it, made canonical: a choice's other names, a pair's list."""
        if self.kind == "choice" and isinstance(value, str):
            name = value.strip().lower()
            return dict(self.aliases).get(name, name)
        if self.kind == "pair" and isinstance(value, list):
            return tuple(value)
        return value

    def to_json(self, value: Any) -> Any:
        return list(value) if isinstance(value, tuple) else value

    def comment(self, width: int | None = None) -> str:
        """A note for a person editing the setting in a file: who uses it or what it takes, and its help."""
        head = (self.when.words() if self.when is not None else _listed(self.choices, "or")
                if self.kind == "choice" else DEVICE_WORDS if self.kind == "device" else "")
        whole = f"{head}: {self.help}" if head else self.help
        return head if head and width is not None and len(whole) > width else whole


def _listed(words: Sequence[str], last: str) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} {last} {words[-1]}"


def _range(low: float, high: float, low_open: bool, high_open: bool) -> str:
    lower = f"{'>' if low_open else '≥'} {low:g}"
    if math.isinf(high):
        return lower
    return f"{lower} and {'<' if high_open else '≤'} {high:g}"


def is_number(value: Any) -> bool:
    """A finite int or float, not a bool: ``"lr": true`` is a mistake, not 1."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int beyond any float, like 10**400: no setting takes that
        return False


def shown_value(value: Any) -> str:
    """``value`` as a one-line message repeats it: strings quoted, very long numbers cut."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**SHOWN_DIGITS:
        digits = str(value)  # JSON holds at most the 4,300 digits Python converts
        return f"{digits[:SHOWN_DIGITS]}… ({len(digits.lstrip('-'))} digits)"
    text = f"{value:g}" if isinstance(value, float) else repr(value) if isinstance(value, str) else str(value)
    return _cut(text)


def _cut(text: str) -> str:
    return text if len(text) <= 2 * SHOWN_DIGITS else f"{text[:2 * SHOWN_DIGITS]}…"


def _optimizer(*names: str) -> When:
    return When("optimizer", names)


def _schedule(*names: str) -> When:
    return When("schedule", names)


# In the order TrainingConfig holds them, a file lists them and the form shows each section.
SETTINGS: tuple[Setting, ...] = (
    Setting("optimizer", "choice", "sgd", "Optimizer", "how the weights follow the gradients",
            choices=OPTIMIZERS, aliases=(("momentum", "sgd"),)),
    Setting("lr", "number", 0.01, "Learning rate", "the step size of each update", low=0, low_open=True),
    Setting("momentum", "number", 0.9, "Momentum", "fraction of the last update carried into the next",
            low=0, high=1, high_open=True, when=_optimizer("sgd", "rmsprop")),
    Setting("nesterov", "flag", False, "Nesterov", "the gradient taken one momentum step ahead",
            when=_optimizer("sgd")),
    Setting("weight_decay", "number", 0.0, "Weight decay", "L2 penalty on the weights (decoupled for AdamW)",
            "Optimizer", low=0),
    Setting("betas", "pair", (0.9, 0.999), "Betas", "Adam's decay rates of the first and second moments",
            low=0, high=1, high_open=True, when=_optimizer("adam", "adamw")),
    Setting("schedule", "choice", "constant", "Schedule", "how the learning rate changes over the run",
            "Schedule", choices=SCHEDULES,
            aliases=(("discexp", "step"), ("exp", "exponential"), ("reduce_on_plateau", "plateau"))),
    Setting("decay_epochs", "number", 5.0, "Decay epochs", "epochs per fall of the rate by gamma", "Schedule",
            low=0, low_open=True, when=_schedule("step", "exponential")),
    Setting("gamma", "number", 0.1, "Gamma", "factor of each fall of the rate", "Schedule",
            low=0, high=1, low_open=True, when=_schedule("step", "exponential", "plateau")),
    Setting("patience", "whole", 2, "Patience", "epochs without a better validation loss before the rate falls",
            "Schedule", low=0, high=10_000, when=_schedule("plateau")),
    # The engine floors every decaying schedule at min_lr (cosine ends there); a constant rate never falls.
    Setting("min_lr", "number", 0.0, "Lowest rate", "the rate never falls below this", "Schedule",
            low=0, when=_schedule("step", "exponential", "cosine", "plateau")),
    Setting("warmup_steps", "whole", 0, "Warm-up steps",
            "steps of linear warm-up from 0 to the rate, with any schedule", "Schedule",
            low=0, high=100_000_000),
    Setting("loss", "choice", "cross_entropy", "Loss", "what training minimises", "Loss", choices=LOSSES,
            aliases=(("crossentropy", "cross_entropy"), ("cross-entropy", "cross_entropy"),
                     ("multi_margin", "hinge"))),
    Setting("label_smoothing", "number", 0.0, "Label smoothing",
            "share of each target spread over the other classes", "Loss",
            low=0, high=1, high_open=True, when=When("loss", ("cross_entropy",))),
    Setting("batch_size", "whole", 64, "Batch size",
            "samples per optimizer step, all processes together", low=1, high=MAX_BATCH),
    Setting("epochs", "whole", 10, "Epochs", "how many passes over the training set", low=1, high=MAX_EPOCHS),
    Setting("seed", "whole", 0, "Seed", "seeds the weights and the order of the batches", "Run",
            low=0, high=MAX_SEED),
    Setting("device", "device", "auto", "Device", "where to train; auto takes the first GPU, else the CPU",
            "Run"),
    Setting("precision", "choice", "fp32", "Precision",
            "fp32, or mixed precision (bf16, fp16) on a device that has it", "Run", choices=PRECISIONS),
    Setting("channels_last", "flag", False, "Channels last",
            "NHWC memory layout (faster convolutions on recent GPUs)", "Advanced"),
    Setting("clip_grad_norm", "number", 0.0, "Gradient clipping",
            "clip the gradients to this norm; 0 turns clipping off", "Optimizer", low=0),
    Setting("compile", "flag", False, "Compile", "torch.compile the network (slow start, faster steps)",
            "Advanced"),
    Setting("log_every", "whole", 10, "Log every", "steps between loss readings (each costs one device sync)",
            "Advanced", low=1, high=1_000_000),
    Setting("stats_every", "whole", 50, "Statistics every",
            "steps between samples of per-block statistics; 0 turns them off", "Advanced",
            low=0, high=1_000_000),
)
BY_KEY: Mapping[str, Setting] = {setting.key: setting for setting in SETTINGS}


def default(key: str) -> Any:
    """The default of setting ``key``."""
    return BY_KEY[key].default


def config_comments(width: int | None = None) -> dict[str, str]:
    """A comment per setting for an exported ``CONFIG``: who uses it (or what it takes), and its help.

    A comment longer than ``width`` keeps only who uses the setting or what it
    takes (``constant, step, exponential, cosine or plateau``), the words a person
    editing the value needs.
    """
    return {setting.key: setting.comment(width) for setting in SETTINGS}


# -- command-line flags --------------------------------------------------------------------

CLI_FLAGS = ("epochs", "batch_size", "lr", "device", "optimizer", "momentum", "weight_decay", "schedule",
             "seed", "precision")
_METAVARS = {"number": "X", "whole": "N", "device": "D", "pair": "X,Y"}


def flag_name(key: str) -> str:
    """``--batch-size`` for ``batch_size``."""
    return "--" + key.replace("_", "-")


def add_training_flags(parser: argparse.ArgumentParser, names: Sequence[str] = CLI_FLAGS,
                       notes: Mapping[str, str] | None = None) -> None:
    """Add a flag per setting in ``names`` (``--lr``, ``--batch-size``), each checked as the config checks it.

    A flag left out stays None, so that :func:`training_changes` keeps only those
    given. ``notes`` adds words to a flag's help (``{"epochs": "with --resume:
    raise to go on"}``).
    """
    notes = notes or {}
    parser.set_defaults(training_flags=tuple(names))  # what training_changes looks at
    for key in names:
        setting = BY_KEY[key]
        words = f"{setting.label}: {setting.help}" + (f" ({notes[key]})" if key in notes else "")
        if setting.kind == "flag":
            parser.add_argument(flag_name(key), dest=key, action=argparse.BooleanOptionalAction, default=None,
                                help=_escaped(f"{words}; default: the project's"))
            continue
        if setting.kind == "choice":  # the metavar lists the choices
            metavar, takes = "{" + ",".join(setting.choices) + "}", ""
        else:
            metavar, takes = _METAVARS[setting.kind], f"; {setting.allowed()}"
        parser.add_argument(flag_name(key), dest=key, type=_parser(setting), default=None, metavar=metavar,
                            help=_escaped(f"{words}{takes}; default: the project's"))


def training_changes(args: argparse.Namespace) -> dict[str, Any]:
    """The settings given as flags, by key, ready for ``TrainingConfig.replace(**changes)``."""
    names = getattr(args, "training_flags", ())
    return {key: value for key in names if (value := getattr(args, key)) is not None}


def _escaped(text: str) -> str:
    return text.replace("%", "%%")  # argparse formats help with %


def _parser(setting: Setting) -> Any:
    def parse(text: str) -> Any:
        value = setting.read(_value_of(text, setting.kind))
        problem = setting.problem(value, typed=text)
        if problem is not None:
            raise argparse.ArgumentTypeError(problem)  # argparse puts "argument --lr: " in front
        return value

    parse.__name__ = setting.key  # what argparse names when a parser raises something else
    return parse


def _value_of(text: str, kind: str) -> Any:
    """What a flag's text stands for: a number where one is wanted, else the text, to be refused as typed."""
    if kind == "pair":
        parts = [p for p in re.split(r"[\s,]+", text.strip().strip("[]()")) if p]
        numbers = [_number(p, "number") for p in parts]
        return tuple(numbers) if len(numbers) == 2 else text
    if kind in ("number", "whole"):
        return _number(text, kind)
    return text


def _number(text: str, kind: str) -> Any:
    if kind == "whole":
        with contextlib.suppress(ValueError):  # Python refuses "9" * 5000 too: then it is shown as typed
            return int(text)
    try:
        value = float(text)
    except ValueError:
        return text
    # A whole number typed as 1e3 is 1000; 2.5 stays 2.5, to be refused as the file's 2.5 is.
    return int(value) if kind == "whole" and value.is_integer() else value
