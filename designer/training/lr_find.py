"""The learning-rate range test (Smith 2015, fastai's ``lr_find``): a short run with a growing rate.

:func:`find_lr` loads the data as a run would (``prepare_training``) and builds
the model, optimizer and loss as a run would (a :class:`Session` of the same
settings); :func:`lr_range_test` then takes ``steps`` optimizer steps with the
rate growing exponentially from ``start`` to ``end``, reading the loss after
every step (the one place where a sync per step is the point), and stops early
once the smoothed loss passes ``STOP_RISE`` × its minimum or turns NaN. The
curve's suggestions are the rate at the steepest descent of the smoothed loss
and the rate at its minimum ÷ 10; the latter is :attr:`LrFinding.suggestion`,
the more cautious of the two (it trains LeNet-5 on digits to ≥ 97%, see the tests).

Nothing is written: no run folder, no checkpoint. A model handed in is copied
first, so the caller's weights are as they were, and the random number
generators are left as they were too.
"""

from __future__ import annotations

import copy
import functools
import math
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from designer.data import DatasetConfig
from designer.graph.graph import Graph
from designer.training.config import TrainingConfig
from designer.training.devices import check_precision, pick_device, to_device
from designer.training.divergence import Smoother
from designer.training.errors import TrainingError
from designer.training.faults import guarded_batches, model_error
from designer.training.session import Session
from designer.training.snapshot import Source, take_snapshot

START_LR = 1e-7
END_LR = 10.0
DEFAULT_STEPS = 100
MIN_STEPS = 10
STOP_RISE = 4.0  # fastai stops once the smoothed loss passes 4× its minimum
SKIP_START = 0.1  # of the curve, left out of the steepest descent: the first points are mostly the smoothing
Batches = Callable[[int], Iterable[tuple[torch.Tensor, torch.Tensor]]]
OnStep = Callable[[int, float, float], None]  # (step, lr, smoothed loss); may raise to cancel


@dataclass(frozen=True)
class LrFinding:
    """The curve (one point per step) and what it suggests; ``stopped`` says why it ended early, if it did."""

    lrs: tuple[float, ...]
    losses: tuple[float, ...]
    smoothed: tuple[float, ...]
    steepest: float | None  # the rate where the smoothed loss falls fastest (per decade of the rate)
    minimum: float | None  # the rate at the smoothed loss's minimum, ÷ 10
    stopped: str
    seconds: float

    @property
    def suggestion(self) -> float | None:
        """The rate to train with: the minimum ÷ 10, else the steepest descent (None: no descent found)."""
        return self.minimum if self.minimum is not None else self.steepest

    def to_json(self) -> dict[str, Any]:
        return {"suggestion": self.suggestion, "steepest": self.steepest, "minimum_over_10": self.minimum,
                "steps": len(self.lrs), "stopped": self.stopped, "seconds": round(self.seconds, 3),
                "lrs": list(self.lrs), "losses": [_json_number(v) for v in self.losses],
                "smoothed": [_json_number(v) for v in self.smoothed]}


def find_lr(graph: Graph, dataset: DatasetConfig, config: TrainingConfig, *, steps: int = DEFAULT_STEPS,
            start: float = START_LR, end: float = END_LR, base_dir: Path | None = None,
            on_step: OnStep | None = None) -> LrFinding:
    """The range test of ``graph`` on ``dataset`` with ``config``'s optimizer, loss, batch size and device."""
    from designer.training.run_data import prepare_training  # imports the data layer only when called

    data = prepare_training(graph, dataset, config, base_dir=base_dir)
    return lr_range_test(graph, config, data.train_batches, data.steps_per_epoch, steps=steps, start=start,
                         end=end, on_step=on_step)


def lr_range_test(source: Source, config: TrainingConfig, train_batches: Batches, steps_per_epoch: int, *,
                  steps: int = DEFAULT_STEPS, start: float = START_LR, end: float = END_LR,
                  on_step: OnStep | None = None) -> LrFinding:
    """Train ``steps`` steps at rates from ``start`` to ``end`` (geometric); the caller's model is untouched."""
    _check_range(steps, start, end)
    if isinstance(source, tuple):  # the Session would move and train the caller's own module
        source = (copy.deepcopy(source[0]), source[1])
    snapshot = take_snapshot(source)
    config = config.replace(schedule="constant", warmup_steps=0, min_lr=0.0)
    device = pick_device(config)
    precision = check_precision(config, device)
    started = time.perf_counter()
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        session = Session(snapshot, config, device, precision, steps_per_epoch)
        batches = _endless(train_batches, snapshot.input_shape, snapshot.num_classes)
        curve, stopped = _sweep(session, batches, _rates(steps, start, end), on_step)
    lrs, losses, smoothed = (tuple(column) for column in zip(*curve)) if curve else ((), (), ())
    return LrFinding(lrs, losses, smoothed, steepest_lr(lrs, smoothed), minimum_lr(lrs, smoothed), stopped,
                     time.perf_counter() - started)


def _check_range(steps: int, start: float, end: float) -> None:
    if not isinstance(steps, int) or steps < MIN_STEPS:
        raise TrainingError(f"the learning-rate finder needs at least {MIN_STEPS} steps, got {steps!r}")
    if not (0 < start < end and math.isfinite(end)):
        raise TrainingError(f"the learning-rate finder's rates must grow from above 0: got {start:g} to "
                            f"{end:g}")


def _rates(steps: int, start: float, end: float) -> list[float]:
    return [start * (end / start) ** (i / (steps - 1)) for i in range(steps)]


def _endless(train_batches: Batches, input_shape: tuple[int, ...],
             classes: int | None) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """The training batches epoch after epoch, checked as a run checks them."""
    epoch = 1
    while True:
        count = 0
        for batch in guarded_batches(functools.partial(train_batches, epoch), f"epoch {epoch}", input_shape,
                                     classes):
            count += 1
            yield batch
        if not count:
            raise TrainingError(f"data: epoch {epoch} gave no batches; check the training set and the "
                                f"batch size")
        epoch += 1


def _sweep(session: Session, batches: Iterator[tuple[torch.Tensor, torch.Tensor]], rates: list[float],
           on_step: OnStep | None) -> tuple[list[tuple[float, float, float]], str]:
    """Step at each rate in turn; the (rate, loss, smoothed loss) points and why it stopped ("" at the end)."""
    smoother, lowest = Smoother(), math.inf
    curve: list[tuple[float, float, float]] = []
    config, last = session.config, session.meter.read()
    session.train_model.train()
    for i, lr in enumerate(rates):
        x, y = next(batches)
        x, y = to_device(x, session.device, config.channels_last), to_device(y, session.device)
        for group in session.optimizer.param_groups:
            group["lr"] = lr
        try:
            session.train_step(x, y)
        except Exception as exc:
            raise model_error(exc, f"at step {i + 1} of the learning-rate finder", x.shape[0],
                              config.compile) from exc
        reading = session.meter.read()
        loss, last = reading.since(last).loss, reading
        if reading.first_bad_step is not None or not math.isfinite(loss):
            return curve, f"the loss became NaN or infinite at {lr:.3g}"
        smoothed = smoother.add(loss)
        curve.append((lr, loss, smoothed))
        if on_step is not None:
            on_step(i + 1, lr, smoothed)
        lowest = min(lowest, smoothed)
        if smoothed > STOP_RISE * lowest and i < len(rates) - 1:
            return curve, f"the smoothed loss passed {STOP_RISE:g}× its minimum at {lr:.3g}"
    return curve, ""


def minimum_lr(lrs: tuple[float, ...], smoothed: tuple[float, ...]) -> float | None:
    """The rate at the smoothed loss's minimum, ÷ 10 (None for a curve too short to tell)."""
    if len(lrs) < MIN_STEPS:
        return None
    return lrs[min(range(len(smoothed)), key=smoothed.__getitem__)] / 10


def steepest_lr(lrs: tuple[float, ...], smoothed: tuple[float, ...]) -> float | None:
    """The rate where the smoothed loss falls fastest per decade of the rate, before its minimum."""
    if len(lrs) < MIN_STEPS:
        return None
    first = max(1, int(len(lrs) * SKIP_START))
    lowest = min(range(len(smoothed)), key=smoothed.__getitem__)
    slopes = [(smoothed[i] - smoothed[i - 1]) / math.log10(lrs[i] / lrs[i - 1])
              for i in range(first, lowest + 1)]
    if not slopes or min(slopes) >= 0:
        return None
    return lrs[first + slopes.index(min(slopes))]


def _json_number(value: float) -> float | None:
    return value if math.isfinite(value) else None
