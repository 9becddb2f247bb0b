"""Telling a run that diverges from one that is only noisy.

The trainer hands a :class:`DivergenceWatcher` each loss it reads back from the
device anyway (every ``log_every`` steps and at each epoch's end): watching adds
no synchronisation. The watcher smooths those losses with an exponential moving
average, bias-corrected as fastai's learning-rate finder does, at ``BETA`` per
optimizer step whatever ``log_every`` is, so that one noisy interval does not
count. A run has diverged when

- a loss is NaN or infinite (the meter names the first such step), or
- the smoothed loss has risen ``RISE`` times above its best *and* above where
  this session began. The second condition spares a run late in training whose
  loss of 0.01 spikes to 0.1 and comes back; a loss worse than an untrained
  network's is progress lost, not noise.

:func:`diverged_message` words what happened and what to try. It does not run
the learning-rate finder: that builds a second model and trains it for a few
hundred steps (seconds on a CPU, see benchmarks/lr_find.py), which a run that
has just failed should not spend unasked; it names ``designer lr-find`` instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from designer.training.errors import TrainingError
from designer.training.faults import nonfinite_loss

BETA = 0.98  # smoothing per optimizer step (fastai's LR finder: 0.98 per step)
RISE = 10.0  # how far above its best the smoothed loss may rise


class DivergedError(TrainingError):
    """The loss diverged: the run ends with status "diverged", its checkpoints from before kept."""


@dataclass(frozen=True)
class Divergence:
    """Where the loss went: from ``best`` (smoothed, at ``best_step``) to ``now`` at ``step``."""

    step: int
    best: float
    best_step: int
    now: float
    nonfinite: bool = False


class Smoother:
    """An exponential moving average with bias correction, weighted by the steps each value stands for."""

    def __init__(self, beta: float = BETA) -> None:
        self.beta = beta
        self._sum = 0.0
        self._weight = 0.0

    def add(self, value: float, steps: int = 1) -> float:
        """Take the mean ``value`` of ``steps`` steps; returns the smoothed value."""
        keep = self.beta ** max(1, steps)
        self._sum = keep * self._sum + (1 - keep) * value
        self._weight = keep * self._weight + (1 - keep)
        return self._sum / self._weight


class DivergenceWatcher:
    """Fed each loss reading of a session in order; :meth:`observe` says when the run has diverged."""

    def __init__(self, beta: float = BETA, rise: float = RISE) -> None:
        self.rise = rise
        self._smoother = Smoother(beta)
        self._start: float | None = None
        self._best = math.inf
        self._best_step = 0
        self._step = 0

    def observe(self, step: int, loss: float, bad_step: int | None = None) -> Divergence | None:
        """The mean ``loss`` of the steps after the last reading up to ``step``; None while all is well.

        ``bad_step`` is the first step whose loss was NaN or infinite, where the meter saw one.
        """
        steps, self._step = step - self._step, step
        if bad_step is not None or not math.isfinite(loss):
            return Divergence(bad_step if bad_step is not None else step, self._best, self._best_step, loss,
                              nonfinite=True)
        smoothed = self._smoother.add(loss, steps)
        if self._start is None:
            self._start = smoothed
        if smoothed < self._best:
            self._best, self._best_step = smoothed, step
        if smoothed > self.rise * self._best and smoothed > self._start:
            return Divergence(step, self._best, self._best_step, smoothed)
        return None


def diverged_message(divergence: Divergence, lr: float, step_lr: float | None = None) -> str:
    """One line: what the loss did and what to try. ``lr`` is training.lr; ``step_lr`` the rate in use then."""
    if divergence.nonfinite:
        return str(nonfinite_loss(divergence.step, lr if step_lr is None else step_lr))
    steps = divergence.step - divergence.best_step
    return (f"loss diverged: rose from {loss_text(divergence.best)} to {loss_text(divergence.now)} in "
            f"{steps} step{'' if steps == 1 else 's'}; the learning rate {number_text(lr)} (training.lr) is "
            f"probably too high: try {number_text(lr / 10)}, 10× lower, or run `designer lr-find` for a "
            f"suggestion")


def loss_text(value: float) -> str:
    """2.30, 0.0123, 463,034; 1.2e+18 for what no thousands separator makes readable."""
    if not math.isfinite(value) or abs(value) >= 1e12:
        return f"{value:.3g}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.2f}" if abs(value) >= 1 else f"{value:.3g}"


def number_text(value: float) -> str:
    """A learning rate as people write it: 0.01, 3e-4, 1e9 (Python's ``g`` writes 1e+09)."""
    text = f"{value:.3g}"
    mantissa, _, exponent = text.partition("e")
    return f"{mantissa}e{int(exponent)}" if exponent else text
