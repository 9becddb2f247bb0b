"""What a training run reports: small frozen records, one ``kind`` each.

The trainer yields them (and hands them to a callback); the run folder's
``metrics.jsonl`` holds one per line as ``to_json()`` writes it. Epochs and steps
count from 1: ``epoch`` is the epoch a record belongs to, ``step`` the number of
optimizer steps taken so far. A value that does not apply (accuracy under an MSE
loss on non-class targets, validation without validation data) is ``None``.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar


@dataclass(frozen=True)
class Record:
    kind: ClassVar[str] = "record"

    def to_json(self) -> dict[str, Any]:
        """A JSON object: ``kind`` first, NaN and infinities as ``None`` (JSON has neither)."""
        out: dict[str, Any] = {"kind": self.kind}
        for key, value in asdict(self).items():
            out[key] = None if isinstance(value, float) and not math.isfinite(value) else value
        return out


@dataclass(frozen=True)
class RunStarted(Record):
    """The run is set up: where it writes, on what, and from which step it goes on."""

    kind: ClassVar[str] = "start"
    run_id: str
    run_dir: str
    device: str  # "cuda:0", "cpu"
    device_label: str
    epochs: int
    steps_per_epoch: int
    step: int = 0  # above 0 when resumed
    epoch: int = 1  # the epoch it starts or goes on with
    time: float = field(default_factory=time.time)
    processes: int = 1  # of a data-parallel job


@dataclass(frozen=True)
class BatchRecord(Record):
    """Every ``log_every`` steps: means over the steps since the last batch record."""

    kind: ClassVar[str] = "batch"
    epoch: int
    step: int
    batch: int  # batches done in this epoch
    loss: float
    accuracy: float | None
    lr: float
    samples_per_s: float
    eta_s: float  # to the end of the run, from this session's pace
    peak_memory: int | None = None  # bytes the device allocated at most so far (CUDA only)


@dataclass(frozen=True)
class EpochRecord(Record):
    """One finished epoch: training and validation means, its time and what is left."""

    kind: ClassVar[str] = "epoch"
    epoch: int
    step: int
    train_loss: float
    train_accuracy: float | None
    val_loss: float | None
    val_top1: float | None
    val_top5: float | None
    lr: float  # the rate the next step will use
    seconds: float
    eta_s: float
    best: bool  # this epoch set a new best validation score; best.pt holds it
    peak_memory: int | None = None  # bytes the device allocated at most so far (CUDA only)


@dataclass(frozen=True)
class NodeStats(Record):
    """Every ``stats_every`` steps: per block, activation mean, std, fraction of zeros, gradient norm.

    ``stats[block][statistic]``; a value is None where it does not apply (the
    gradient norm of a layer without parameters).
    """

    kind: ClassVar[str] = "node_stats"
    step: int
    stats: dict[str, dict[str, float | None]]


@dataclass(frozen=True)
class Note(Record):
    """A line for the run's log that is no measurement (TensorBoard missing, a setting ignored)."""

    kind: ClassVar[str] = "note"
    message: str


@dataclass(frozen=True)
class Paused(Record):
    kind: ClassVar[str] = "paused"
    step: int


@dataclass(frozen=True)
class Resumed(Record):
    kind: ClassVar[str] = "resumed"
    step: int


@dataclass(frozen=True)
class RunEnded(Record):
    """The last record: ``status`` is finished, stopped (a checkpoint to resume from) or failed."""

    kind: ClassVar[str] = "end"
    status: str
    epoch: int  # epochs completed
    step: int
    message: str = ""
    checkpoint: str | None = None  # the one to resume from, or to export
    best_score: float | None = None



RECORD_TYPES: dict[str, type[Record]] = {
    cls.kind: cls for cls in (RunStarted, BatchRecord, EpochRecord, Note, Paused, Resumed, RunEnded)}


class MetricsError(ValueError):
    """metrics.jsonl could not be read; the message names the file and line."""


def record_from_json(data: Any, where: str = "") -> Record | None:
    """The record a ``to_json()`` object describes; None for a kind this editor does not plot or know."""
    if not isinstance(data, dict) or not isinstance(data.get("kind"), str):
        raise MetricsError(f"{where}: expected a record object with a 'kind', got {str(data)[:60]!r}")
    cls = RECORD_TYPES.get(data["kind"])
    if cls is None:
        return None
    names = {f.name for f in fields(cls)}
    try:
        return cls(**{key: value for key, value in data.items() if key in names})
    except TypeError as exc:
        raise MetricsError(f"{where}: a {data['kind']!r} record {exc}") from exc
