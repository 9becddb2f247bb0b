"""The plotted data as CSV: one row per batch or epoch record, runs one after another (no Qt).

Columns are the union of both kinds; a cell a record has no value for is
empty (so is a value the run did not measure, such as accuracy under an MSE
loss). ``time_s`` is the x the plots use on the time axis and ``smoothed_loss``
the EMA drawn at the current smoothing. Within a run, rows follow the steps,
an epoch's row after the batch records of its last step.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator, Sequence

from designer.ui.training.plot_records import RunData

CSV_COLUMNS = ("run", "kind", "step", "epoch", "batch", "time_s", "loss", "smoothed_loss", "accuracy", "lr",
               "train_loss", "train_accuracy", "val_loss", "val_top1", "val_top5", "epoch_seconds")
INTEGER_COLUMNS = frozenset({"step", "epoch", "batch"})


def csv_text(runs: Sequence[tuple[str, RunData]]) -> str:
    """The CSV for ``(label, data)`` pairs, header first."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for label, data in runs:
        writer.writerows(_rows(label, data))
    return out.getvalue()


def _cell(column: str, value: float) -> str:
    if not math.isfinite(value):
        return ""
    return str(int(value)) if column in INTEGER_COLUMNS else repr(value)


def _rows(label: str, data: RunData) -> Iterator[list[str]]:
    batches = _columns(data, "batch")
    epochs = _columns(data, "epoch")
    epoch_steps = data.epochs.x("step").tolist()
    batch_steps = data.batches.x("step").tolist()
    e = 0
    for b, step in enumerate(batch_steps):
        while e < len(epoch_steps) and epoch_steps[e] < step:
            yield _row(label, "epoch", epochs, e)
            e += 1
        yield _row(label, "batch", batches, b)
    for rest in range(e, len(epoch_steps)):
        yield _row(label, "epoch", epochs, rest)


def _columns(data: RunData, kind: str) -> dict[str, list[float]]:
    """Each CSV column that records of ``kind`` fill, as a plain list (fast to index row by row)."""
    if kind == "batch":
        series = data.batches
        named = {"epoch": "epoch", "batch": "batch", "loss": "loss", "accuracy": "accuracy", "lr": "lr"}
        out = {column: series.y(name).tolist() for column, name in named.items()}
        out["smoothed_loss"] = series.smoothed("loss").tolist()
    else:
        series = data.epochs
        named = {"epoch": "epoch", "lr": "lr", "train_loss": "train_loss", "train_accuracy": "train_accuracy",
                 "val_loss": "val_loss", "val_top1": "val_top1", "val_top5": "val_top5",
                 "epoch_seconds": "seconds"}
        out = {column: series.y(name).tolist() for column, name in named.items()}
    out["step"] = series.x("step").tolist()
    out["time_s"] = series.x("time").tolist()
    return out


def _row(label: str, kind: str, columns: dict[str, list[float]], i: int) -> list[str]:
    row = [label, kind]
    for column in CSV_COLUMNS[2:]:
        values = columns.get(column)
        row.append("" if values is None else _cell(column, values[i]))
    return row
