"""One run's plotted data, built from its training records; reading records back from metrics.jsonl (no Qt).

:class:`RunData` turns records into :class:`Series`: per batch record the loss
(smoothed too), learning rate and train top-1 accuracy; per epoch record the
train and validation means. Every point gets an x for each axis mode: the
optimizer step, the epoch (``step / steps_per_epoch`` from the session's
:class:`RunStarted`) and the seconds since the run first started.

Records carry no clock of their own, so the seconds are worked out from them,
the same way live and when a finished run is read back: a session starts at its
``RunStarted.time``, and a batch record's ``eta_s`` is the trainer's
``steps_left × elapsed / steps_done`` for that session, which gives the elapsed
training time (pauses left out, as the trainer leaves them out). Where that
cannot be solved (the very last step has nothing left) the session's last
seconds-per-step carries on.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from operator import attrgetter
from pathlib import Path

import numpy as np

from designer.graph.files import file_problem
from designer.training.records import (
    BatchRecord,
    EpochRecord,
    MetricsError,
    Record,
    RunEnded,
    RunStarted,
    record_from_json,
)
from designer.ui.training.plot_lod import Decimator
from designer.ui.training.plot_series import Array, Series, smoothed_key

BATCH_COLUMNS = ("epoch", "batch", "loss", "accuracy", "lr")  # accuracy NaN where not measured
EPOCH_COLUMNS = ("epoch", "train_loss", "train_accuracy", "val_loss", "val_top1", "val_top5", "lr", "seconds")
# The long curves, drawn decimated: (series attribute, column key) for each.
LONG_CURVES = {"loss": ("batches", "loss"), "smoothed_loss": ("batches", smoothed_key("loss")),
               "lr": ("batches", "lr"), "smoothed_accuracy": ("accuracy", smoothed_key("accuracy"))}


@dataclass(frozen=True)
class Divergence:
    """Where a run stopped because its loss diverged: its x in each axis mode, and the trainer's message."""

    xs: dict[str, float]
    message: str


@dataclass
class _Session:
    """One run of the trainer over this run's records: where it began and how fast it goes."""

    offset: float = 0.0  # seconds from the run's first start to this session's start
    first_step: int = 0
    total_steps: int = 0  # epochs × steps_per_epoch: the step the session aims for (0: not known)
    steps_per_epoch: int = 0
    seconds_per_step: float = 0.0

    def epoch_x(self, steps: Array, epochs: Array) -> Array:
        return steps / self.steps_per_epoch if self.steps_per_epoch else epochs

    def seconds(self, step: int, eta_s: float | None = None) -> float:
        """Seconds since the run's start at ``step``; ``eta_s`` (from a batch record) refines the pace."""
        done = step - self.first_step
        if done <= 0:
            return self.offset
        left = self.total_steps - step
        if left > 0 and eta_s is not None and eta_s == eta_s:  # NaN is not equal to itself
            self.seconds_per_step = eta_s / left
        return self.offset + done * self.seconds_per_step


class RunData:
    """The series one run plots, fed its records in order (:meth:`add`)."""

    def __init__(self, beta: float = 0.6) -> None:
        self.batches = Series(BATCH_COLUMNS, smooth=("loss",), beta=beta)
        self.accuracy = Series(("accuracy",), smooth=("accuracy",), beta=beta)  # batches that measured it
        self.epochs = Series(EPOCH_COLUMNS)
        self._decimators = {name: Decimator(getattr(self, name), [key for series, key in LONG_CURVES.values()
                                                                  if series == name])
                            for name in ("batches", "accuracy")}
        self._session = _Session()
        self._start_time: float | None = None
        self.divergence: Divergence | None = None  # a diverged run's end, marked on the loss plot

    def set_beta(self, beta: float) -> None:
        self.batches.set_beta(beta)
        self.accuracy.set_beta(beta)
        self._sync()

    def curve_points(self, curve: str, mode: str, x_range: tuple[float, float] | None,
                     pixels: int) -> tuple[Array, Array]:
        """A long curve (a key of LONG_CURVES) as drawn: within ``x_range`` (None: all), ~2 points a pixel."""
        series, key = LONG_CURVES[curve]
        return self._decimators[series].points(key, mode, x_range, pixels)

    def planned_end(self, mode: str) -> float | None:
        """Where the latest session means to end on the ``mode`` axis (its last step); None when not known.

        Seconds are not known ahead: the pace changes as the run goes.
        """
        session = self._session
        if not session.total_steps or mode == "time":
            return None
        return session.total_steps / session.steps_per_epoch if mode == "epoch" else float(session.total_steps)

    def curve_bounds(self, curve: str) -> tuple[float, float] | None:
        """The least and greatest value of a long curve (a key of LONG_CURVES), in O(1); None when empty."""
        series, key = LONG_CURVES[curve]
        return self._decimators[series].bounds(key)

    def epoch_bounds(self, column: str) -> tuple[float, float] | None:
        """The least and greatest measured value of a per-epoch column; None when none was measured."""
        values = self.epochs.y(column)
        values = values[np.isfinite(values)]
        return (float(values.min()), float(values.max())) if len(values) else None

    def _sync(self) -> None:
        for decimator in self._decimators.values():
            decimator.sync()

    def add(self, records: Iterable[Record]) -> None:
        """Append what ``records`` measured; other kinds (notes, pauses, node statistics) plot nothing."""
        batches: list[BatchRecord] = []
        batch_seconds: list[float] = []  # worked out in record order: each batch record refines the pace
        epochs: list[EpochRecord] = []
        epoch_seconds: list[float] = []
        session = self._session
        for record in records:
            if type(record) is BatchRecord:  # the common case first, and exact: a million may come
                if record.loss is not None and math.isfinite(record.loss):
                    batches.append(record)
                    batch_seconds.append(session.seconds(record.step, record.eta_s))
            elif isinstance(record, EpochRecord):
                epochs.append(record)
                epoch_seconds.append(session.seconds(record.step))
            elif isinstance(record, RunStarted):
                self._flush(batches, batch_seconds, epochs, epoch_seconds)
                batches, batch_seconds, epochs, epoch_seconds = [], [], [], []
                session = self._start(record)
            elif isinstance(record, RunEnded) and record.status == "diverged":
                self.divergence = self._diverged(record)
        self._flush(batches, batch_seconds, epochs, epoch_seconds)
        self._sync()

    def _diverged(self, record: RunEnded) -> Divergence:
        session, step = self._session, float(record.step)
        epoch = session.epoch_x(np.array([step]), np.array([float(record.epoch)]))
        return Divergence({"step": step, "epoch": float(epoch[0]), "time": session.seconds(record.step)},
                          record.message)

    def _start(self, record: RunStarted) -> _Session:
        if self._start_time is None:
            self._start_time = record.time
        for series in (self.batches, self.accuracy, self.epochs):
            series.truncate_after(record.step)  # resumed from an earlier checkpoint: those steps come again
        self.divergence = None  # going on again
        total = record.epochs * record.steps_per_epoch
        self._session = _Session(record.time - self._start_time, record.step, total, record.steps_per_epoch,
                                 self._session.seconds_per_step)
        return self._session

    def _flush(self, batches: Sequence[BatchRecord], batch_seconds: list[float], epochs: Sequence[EpochRecord],
               epoch_seconds: list[float]) -> None:
        if batches:
            table = _table(batches, BATCH_COLUMNS)
            xs = self._xs(batches, table[:, BATCH_COLUMNS.index("epoch")], batch_seconds)
            self.batches.append(xs, dict(zip(BATCH_COLUMNS, table.T)))
            accuracy = table[:, BATCH_COLUMNS.index("accuracy")]
            measured = np.isfinite(accuracy)
            if measured.any():
                self.accuracy.append({mode: x[measured] for mode, x in xs.items()},
                                     {"accuracy": accuracy[measured]})
        if epochs:
            table = _table(epochs, EPOCH_COLUMNS)
            xs = self._xs(epochs, table[:, EPOCH_COLUMNS.index("epoch")], epoch_seconds)
            self.epochs.append(xs, dict(zip(EPOCH_COLUMNS, table.T)))

    def _xs(self, records: Sequence[BatchRecord | EpochRecord], epochs: Array,
            seconds: list[float]) -> dict[str, Array]:
        """The x of each record in every axis mode (the seconds are worked out already)."""
        steps = np.fromiter((r.step for r in records), dtype=np.float64, count=len(records))
        return {"step": steps, "epoch": self._session.epoch_x(steps, epochs), "time": np.asarray(seconds)}


def _table(records: Sequence[Record], columns: Sequence[str]) -> Array:
    """One row per record, one column per name; None (not measured) becomes NaN."""
    row = attrgetter(*columns)
    return np.array([row(r) for r in records], dtype=np.float64).reshape(len(records), len(columns))


def read_metrics(path: str | Path) -> list[Record]:
    """The records of a run's metrics.jsonl, in order; a cut-off last line (a run still writing) is left out."""
    path = Path(path)
    problem = file_problem(path)
    if problem is not None:  # read on the GUI thread: a named pipe would freeze the window
        raise MetricsError(f"{path}: {problem}")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise MetricsError(f"{path}: cannot be read ({exc})") from exc
    records: list[Record] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            if number == len(lines):
                break  # the trainer was writing it
            raise MetricsError(f"{path}, line {number}: not JSON ({exc.msg})") from exc
        record = record_from_json(data, f"{path}, line {number}")
        if record is not None:
            records.append(record)
    return records
