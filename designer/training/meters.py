"""Running sums of loss and correct predictions, kept on the training device.

Adding a batch launches a few tiny kernels and never waits for the device;
``read`` copies every sum back in one transfer, the only synchronisation, which
the trainer does once per logging interval and once per epoch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import torch

NO_STEP = float(2**52)  # "no non-finite loss seen": above any step, exact in float32 and float64


@dataclass(frozen=True)
class Reading:
    """Sums so far: ``loss`` is the sample-weighted sum, ``correct1``/``correct5`` counts."""

    loss_sum: float
    correct1: float
    correct5: float
    count: int  # samples
    labelled: int  # samples with class labels, the denominator of the accuracies
    first_bad_step: int | None  # the first step whose loss was NaN or infinite

    @property
    def loss(self) -> float:
        return self.loss_sum / self.count if self.count else float("nan")

    @property
    def top1(self) -> float | None:
        return self.correct1 / self.labelled if self.labelled else None

    @property
    def top5(self) -> float | None:
        return self.correct5 / self.labelled if self.labelled else None

    def since(self, earlier: Reading) -> Reading:
        """The sums of the batches added after ``earlier`` was read."""
        return Reading(self.loss_sum - earlier.loss_sum, self.correct1 - earlier.correct1,
                       self.correct5 - earlier.correct5, self.count - earlier.count,
                       self.labelled - earlier.labelled, self.first_bad_step)


EMPTY = Reading(0.0, 0.0, 0.0, 0, 0, None)


def class_labels(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor | None:
    """The class index of each sample, or None where the targets are not classes.

    Integer targets are indices; float targets of the output's shape are one-hot
    or soft labels, whose largest entry is the class.
    """
    if output.dim() != 2:
        return None
    if not target.is_floating_point() and target.dim() == 1:
        return target
    if target.is_floating_point() and target.shape == output.shape:
        return target.argmax(1)
    return None


class Reducer(Protocol):
    """Adds up (or takes the least of) a tensor over the processes of a data-parallel job."""

    def sum_(self, tensor: torch.Tensor) -> torch.Tensor: ...

    def min_(self, tensor: torch.Tensor) -> torch.Tensor: ...


class Meter:
    """Sums for one epoch (or one evaluation); ``top5`` adds the top-5 count.

    With a ``reducer`` (a data-parallel job) each process adds its own shard and
    ``read`` returns the job's sums, so every rank reads the same numbers.
    """

    def __init__(self, device: torch.device, top5: bool = False, reducer: Reducer | None = None) -> None:
        self.device = device
        self.top5 = top5
        self.reducer = reducer
        # One vector [loss_sum, correct1, correct5, first_bad_step], so that reading is one
        # transfer. MPS has no float64; elsewhere float64 keeps counts and steps exact.
        self.dtype = torch.float32 if device.type == "mps" else torch.float64
        self.reset()

    def reset(self, start: Reading = EMPTY) -> None:
        self.sums = torch.tensor([start.loss_sum, start.correct1, start.correct5, NO_STEP],
                                 dtype=self.dtype, device=self.device)
        self.count = start.count
        self.labelled = start.labelled

    def add(self, loss: torch.Tensor, output: torch.Tensor, target: torch.Tensor, step: int = 0) -> None:
        """Add one batch, whose loss is the batch mean; ``step`` names it if the loss is not finite."""
        n = output.shape[0]
        loss = loss.detach().to(self.dtype)
        bad = torch.where(torch.isfinite(loss), NO_STEP, float(step)).to(self.dtype)
        labels = class_labels(output, target)
        if labels is None:
            correct1 = correct5 = torch.zeros((), dtype=self.dtype, device=self.device)
        elif self.top5:
            k = min(5, output.shape[1])
            hits = output.detach().topk(k, dim=1).indices == labels.unsqueeze(1)
            correct1, correct5 = hits[:, 0].sum(), hits.any(dim=1).sum()
        else:
            correct1 = correct5 = (output.detach().argmax(1) == labels).sum()
        self.sums[:3] += torch.stack([loss * n, correct1.to(self.dtype), correct5.to(self.dtype)])
        self.sums[3] = torch.minimum(self.sums[3], bad)
        self.count += n
        self.labelled += n if labels is not None else 0

    def read(self) -> Reading:
        """The sums so far; waits for the device once (and, in a data-parallel job, for the other ranks)."""
        if self.reducer is None:
            loss_sum, correct1, correct5, bad = self.sums.tolist()
            count, labelled = self.count, self.labelled
        else:
            totals = torch.cat([self.sums[:3], self.sums.new_tensor([self.count, self.labelled])])
            loss_sum, correct1, correct5, count_, labelled_ = self.reducer.sum_(totals).tolist()
            bad = self.reducer.min_(self.sums[3:].clone()).item()
            count, labelled = round(count_), round(labelled_)
        return Reading(loss_sum, correct1, correct5, count, labelled, None if bad >= NO_STEP else int(bad))
