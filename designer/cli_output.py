"""What ``designer train``, ``eval`` and ``predict`` print: the progress bar, the summary and the reports.

Progress goes to stderr: on a terminal one line redrawn in place (at most ten
times a second) with a permanent line per epoch; elsewhere (a log, a pipe) only
the permanent lines. Results go to stdout, where ``--json`` puts one object.
"""

from __future__ import annotations

import math
import time
from typing import Any, TextIO

from designer.training.jobs import RunSummary
from designer.training.records import BatchRecord, EpochRecord, Note, Paused, Record, Resumed, RunStarted
from designer.training.trained import DatasetEvaluation, misclassified

BAR = 24
REDRAW_S = 0.1
MAX_MATRIX = 20  # classes; a wider confusion matrix is left to --json
MISTAKES = 10


def duration(seconds: float) -> str:
    """``0:07``, ``12:30``, ``1:02:03``; ``?`` before anything is known."""
    if not math.isfinite(seconds) or seconds < 0:
        return "?"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02}:{secs:02}" if hours else f"{minutes}:{secs:02}"


def percent(value: float | None) -> str:
    return "–" if value is None or not math.isfinite(value) else f"{100 * value:.1f}%"


class Progress:
    """Shows a run's records on ``stream``; ``close`` ends a half-drawn bar before anything else prints."""

    def __init__(self, stream: TextIO, tty: bool | None = None) -> None:
        self.stream = stream
        self.tty = stream.isatty() if tty is None else tty
        self.epochs = self.steps_per_epoch = 1
        self._drawn = 0  # length of the bar on screen; 0 when the cursor is at a line's start
        self._last_draw = 0.0

    def show(self, record: Record) -> None:
        if isinstance(record, RunStarted):
            self.epochs, self.steps_per_epoch = record.epochs, record.steps_per_epoch
            where = "starts" if record.step == 0 else f"goes on from epoch {record.epoch}, step {record.step}"
            self._line(f"run {record.run_id} {where} on {record.device_label}: {record.epochs} epochs of "
                       f"{record.steps_per_epoch} steps\n  in {record.run_dir}")
        elif isinstance(record, BatchRecord):
            self._bar(record)
        elif isinstance(record, EpochRecord):
            self._line(self._epoch_line(record))
        elif isinstance(record, Note):
            self._line(f"note: {record.message}")
        elif isinstance(record, Paused | Resumed):
            self._line(f"{record.kind} at step {record.step}")

    def close(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = 0

    def _line(self, text: str) -> None:
        if self._drawn:
            self.stream.write("\r" + " " * self._drawn + "\r")
            self._drawn = 0
        self.stream.write(text + "\n")
        self.stream.flush()

    def _bar(self, record: BatchRecord) -> None:
        now = time.monotonic()
        if not self.tty or now - self._last_draw < REDRAW_S:
            return
        self._last_draw = now
        done = min(record.batch / self.steps_per_epoch, 1.0)
        filled = round(done * BAR)
        text = (f"epoch {record.epoch}/{self.epochs} [{'#' * filled}{'-' * (BAR - filled)}] {100 * done:3.0f}%"
                f"  loss {record.loss:.4f}  acc {percent(record.accuracy)}"
                f"  {record.samples_per_s:,.0f} samples/s  ETA {duration(record.eta_s)}")
        self.stream.write("\r" + text.ljust(self._drawn))
        self.stream.flush()
        self._drawn = len(text)

    def _epoch_line(self, r: EpochRecord) -> str:
        text = f"epoch {r.epoch}/{self.epochs}  train loss {r.train_loss:.4f} acc {percent(r.train_accuracy)}"
        if r.val_loss is not None:
            text += f"  val loss {r.val_loss:.4f} acc {percent(r.val_top1)}"
        best = "  best" if r.best else ""
        return f"{text}  {r.seconds:.1f} s  ETA {duration(r.eta_s)}{best}"


def summary_text(summary: RunSummary) -> str:
    """The lines printed when a run ends."""
    s = summary.to_json()
    lines = [f"{s['status']}: {s['epochs']} epochs, {s['steps']} steps in {duration(s['seconds'])} "
             f"({s['samples_per_second']:,.0f} samples/s)"]
    if summary.last is not None:
        line = f"train loss {s['train_loss']:.4f}, accuracy {percent(s['train_accuracy'])}"
        if s["val_loss"] is not None:
            line += (f"; validation loss {s['val_loss']:.4f}, accuracy {percent(s['val_accuracy'])} "
                     f"(best {percent(s['best_val_accuracy'])})")
        lines.append(line)
    if summary.message:
        lines.append(summary.message)
    lines.append(f"run: {s['run_dir']}")
    if s["status"] == "stopped":
        lines.append(f"go on with: designer train --resume {s['run_dir']}")
    if s["best_checkpoint"]:
        lines.append(f"best checkpoint: {s['best_checkpoint']}")
    return "\n".join(lines) + "\n"


# -- eval --------------------------------------------------------------------------------


def _number(value: float) -> float | None:
    return value if math.isfinite(value) else None


def evaluation_json(result: DatasetEvaluation, checkpoint: str, mistakes: int = MISTAKES) -> dict[str, Any]:
    e, names = result.evaluation, result.class_names
    samples = e.confusion.sum(dim=1).tolist()
    correct = e.confusion.diagonal().tolist()
    classes = [{"name": name, "samples": n, "correct": c, "accuracy": c / n if n else None,
                "precision": _number(float(p)), "recall": _number(float(r))}
               for name, n, c, p, r in zip(names, samples, correct, e.precision.tolist(), e.recall.tolist())]
    wrong = [{"index": int(i), "true": names[int(e.targets[i])], "predicted": names[int(e.predicted[i])],
              "confidence": float(e.confidence[i])} for i in misclassified(e)[:mistakes].tolist()]
    return {"checkpoint": checkpoint, "dataset": result.dataset, "split": "validation", "count": e.count,
            "loss": _number(e.loss), "top1": e.top1, "top5": e.top5, "classes": classes,
            "confusion": e.confusion.tolist(), "misclassified": wrong,
            "misclassified_count": int((e.predicted != e.targets).sum())}


def evaluation_text(report: dict[str, Any]) -> str:
    lines = [f"{report['dataset']}, validation split ({report['count']:,} images), {report['checkpoint']}",
             f"top-1 accuracy  {percent(report['top1'])}", f"top-5 accuracy  {percent(report['top5'])}",
             f"loss            {report['loss']:.4f}" if report["loss"] is not None else "loss            –",
             ""]
    width = max(5, *(len(c["name"]) for c in report["classes"]))
    lines.append(f"{'class'.ljust(width)}  samples  accuracy  precision  recall")
    for c in report["classes"]:
        lines.append(f"{c['name'].ljust(width)}  {c['samples']:7,}  {percent(c['accuracy']):>8}  "
                     f"{percent(c['precision']):>9}  {percent(c['recall']):>6}")
    lines += ["", *_matrix_lines(report), "", *_mistake_lines(report)]
    return "\n".join(lines) + "\n"


def _matrix_lines(report: dict[str, Any]) -> list[str]:
    matrix, names = report["confusion"], [c["name"] for c in report["classes"]]
    if len(names) > MAX_MATRIX:
        return [f"confusion matrix: {len(names)}×{len(names)}, too wide to show; see --json"]
    labels = names if max(map(len, names)) <= 6 else [str(i) for i in range(len(names))]
    cell = max(4, *(len(label) for label in labels), *(len(str(v)) for row in matrix for v in row))
    left = max(map(len, labels))
    lines = ["confusion matrix (rows: true class, columns: predicted class)",
             " " * left + " " + "".join(label.rjust(cell + 1) for label in labels)]
    lines += [label.rjust(left) + " " + "".join(str(v).rjust(cell + 1) for v in row)
              for label, row in zip(labels, matrix)]
    if labels is not names:
        lines += [f"  {i}: {name}" for i, name in enumerate(names)]
    return lines


def _mistake_lines(report: dict[str, Any]) -> list[str]:
    wrong = report["misclassified"]
    if not wrong:
        return ["no misclassified samples"]
    lines = [f"most confident mistakes ({len(wrong)} of {report['misclassified_count']:,}):",
             "  sample  true → predicted  confidence"]
    lines += [f"  {w['index']:6}  {w['true']} → {w['predicted']}  {percent(w['confidence'])}" for w in wrong]
    return lines


def predictions_text(predictions: list[tuple[str, float]]) -> str:
    width = max(len(name) for name, _ in predictions)
    return "".join(f"{name.ljust(width)}  {100 * p:6.2f}%\n" for name, p in predictions)
