"""Where a run's records go besides the caller: metrics.jsonl, log.txt and TensorBoard.

The two text files are appended and flushed record by record, so a crash loses
at most the line being written and the editor can follow a run by reading them.
TensorBoard event files are written when ``torch.utils.tensorboard`` imports;
when it does not, the log says so once.
"""

from __future__ import annotations

import json
import time
from typing import IO, Any

from designer.training.records import BatchRecord, EpochRecord, Note, Record, RunEnded, RunStarted
from designer.training.runs import RunFolder


class RunLog:
    """Appends each record to the run's files; ``close`` when the run ends."""

    def __init__(self, folder: RunFolder, tensorboard: bool = True) -> None:
        self.folder = folder
        self._metrics: IO[str] = folder.metrics_path.open("a", encoding="utf-8")
        self._text: IO[str] = folder.log_path.open("a", encoding="utf-8")
        self._board: Any = None
        self.tensorboard_note = ""
        if tensorboard:
            self._board, self.tensorboard_note = _open_tensorboard(folder)

    def write(self, record: Record) -> None:
        self._metrics.write(json.dumps(record.to_json(), ensure_ascii=False) + "\n")
        self._metrics.flush()
        line = _describe(record)
        if line:
            self._text.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')}  {line}\n")
            self._text.flush()
        if self._board is not None:
            _to_board(self._board, record)

    def close(self) -> None:
        self._metrics.close()
        self._text.close()
        if self._board is not None:
            self._board.close()


def _open_tensorboard(folder: RunFolder) -> tuple[Any, str]:
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # torch's module imports the tensorboard package, which is optional
        return None, "TensorBoard is not installed, so no event files are written (pip install tensorboard)"
    return SummaryWriter(log_dir=str(folder.tensorboard_dir)), ""


def _describe(record: Record) -> str:
    """One line for log.txt; batch records stay in metrics.jsonl only."""
    if isinstance(record, RunStarted):
        where = "starts" if record.step == 0 else f"goes on from step {record.step}"
        return f"run {record.run_id} {where} on {record.device} ({record.device_label})"
    if isinstance(record, EpochRecord):
        parts = [f"epoch {record.epoch}: train loss {record.train_loss:.4f}"]
        if record.val_loss is not None:
            parts.append(f"val loss {record.val_loss:.4f}")
        if record.val_top1 is not None:
            parts.append(f"val top-1 {record.val_top1:.2%}")
        parts.append(f"{record.seconds:.1f} s" + (", best so far" if record.best else ""))
        return ", ".join(parts)
    if isinstance(record, Note):
        return record.message
    if isinstance(record, RunEnded):
        return f"run {record.status} at step {record.step}, {record.epoch} epochs done" + (
            f": {record.message}" if record.message else "")
    return ""


def _to_board(board: Any, record: Record) -> None:
    if isinstance(record, BatchRecord):
        board.add_scalar("train/loss", record.loss, record.step)
        board.add_scalar("train/lr", record.lr, record.step)
        if record.accuracy is not None:
            board.add_scalar("train/accuracy", record.accuracy, record.step)
    elif isinstance(record, EpochRecord):
        for name in ("train_loss", "train_accuracy", "val_loss", "val_top1", "val_top5"):
            value = getattr(record, name)
            if value is not None:
                board.add_scalar(f"epoch/{name}", value, record.epoch)
        board.flush()


class SilentLog:
    """The log of a data-parallel job's other ranks: rank 0 alone writes the run's files."""

    tensorboard_note = ""

    def write(self, record: Record) -> None:
        pass

    def close(self) -> None:
        pass
