"""How the current run is going: epoch and batch progress, ETA and speed, failures, and its log.

:class:`RunMonitor` reads the run's records (:mod:`designer.training.records`)
as they arrive: the bars follow :class:`BatchRecord` and :class:`EpochRecord`,
the log gets one line per start, note, epoch, pause and end (never one per
batch), and a failure shows in red above the log until the next run starts.
Before a run the bars show the run the settings plan (:meth:`RunMonitor.show_plan`),
and the log stays hidden until its first line.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QGridLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

from designer.graph.machine import format_bytes
from designer.training.records import (
    BatchRecord,
    EpochRecord,
    Note,
    Paused,
    Record,
    Resumed,
    RunEnded,
    RunStarted,
)
from designer.ui import theme

LOG_LINES = 5000
BATCH_FORMAT = "Batch %v / %m"
UNKNOWN = "—"


def format_duration(seconds: float) -> str:
    """``0:07``, ``12:30``, ``1:02:03``; ``—`` for a duration not known (yet)."""
    if not seconds >= 0 or seconds == float("inf"):
        return "—"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02}:{secs:02}" if hours else f"{minutes}:{secs:02}"


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def epoch_line(record: EpochRecord, epochs: int) -> str:
    parts = [f"Epoch {record.epoch}/{epochs}: train loss {record.train_loss:.4g}"]
    if record.train_accuracy is not None:
        parts[0] += f", accuracy {_percent(record.train_accuracy)}"
    if record.val_loss is not None:
        parts.append(f"validation loss {record.val_loss:.4g}, top-1 {_percent(record.val_top1)}")
    parts.append(f"{record.seconds:.1f} s")
    return " · ".join(parts) + (" · best so far" if record.best else "")


def end_line(record: RunEnded) -> str:
    if record.status == "finished":
        return (f"Finished after {plural(record.epoch, 'epoch')} ({plural(record.step, 'step')}); "
                f"checkpoint {record.checkpoint}")
    if record.status == "stopped":
        return (f"Stopped at step {record.step} (epoch {record.epoch} done); checkpoint {record.checkpoint}. "
                f"Continue goes on from there.")
    return f"Run {record.status}: {record.message}"


class RunMonitor(QWidget):
    """Progress bars, a status line, a failure message and the log of the current run.

    ``log_shown`` is emitted when the first line makes the log appear.
    """

    log_shown = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # Opaque: its bars and status line change ten times a second, and Qt would otherwise repaint every
        # widget beneath them, up to the main window, each time.
        self.setAutoFillBackground(True)
        self.epochs, self.steps_per_epoch = 0, 0
        self.peak_memory: int | None = None
        self.epoch_bar = _bar("Epoch %v / %m")
        self.batch_bar = _bar(BATCH_FORMAT)
        self.status = StatusLine("No run yet.")
        self._decoding_since = 0.0
        self.error = QLabel()
        self.error.setWordWrap(True)
        theme.paint_text(self.error, theme.ERROR_TEXT, "font-weight: bold;")
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.hide()
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(LOG_LINES)
        self.log.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.log.hide()  # an empty box would take the room the settings need
        bars = QGridLayout()
        bars.addWidget(self.epoch_bar, 0, 0)
        bars.addWidget(self.batch_bar, 0, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bars)
        layout.addWidget(self.status)
        layout.addWidget(self.error)
        layout.addWidget(self.log, 1)

    # -- driven by the panel -------------------------------------------------------------

    def begin(self, line: str) -> None:
        """A new run is starting: clear the bars and the last failure, say so in the log."""
        self.epochs = self.steps_per_epoch = 0
        self.peak_memory = None
        for bar in (self.epoch_bar, self.batch_bar):
            bar.setRange(0, 0)  # busy until the run says how long it is
        self.batch_bar.setFormat(BATCH_FORMAT)
        self.status.setText("Loading the data…")
        self.show_failure("")
        self.log_line(line)

    def show_plan(self, epochs: int, steps_per_epoch: int | None) -> None:
        """Before a run: the bars read ``Epoch 0 / 10`` and ``Batch 0 / 26`` (``/ —`` while not known)."""
        self.epoch_bar.setRange(0, epochs)
        self.epoch_bar.setValue(0)
        self.batch_bar.setRange(0, steps_per_epoch or 1)
        self.batch_bar.setValue(0)
        self.batch_bar.setFormat(BATCH_FORMAT if steps_per_epoch else BATCH_FORMAT.replace("%m", UNKNOWN))

    def decoding(self, done: int, total: int) -> None:
        """The first run on an image folder decodes it into the cache: say how far, then that it is done."""
        if done == 0:
            self._decoding_since = time.monotonic()
        if done < total:
            self.status.setText(f"Decoding images for the cache: {done:,} of {total:,} (once per folder "
                                f"and size)…")
            return
        seconds = time.monotonic() - self._decoding_since
        self.log_line(f"Decoded {total:,} images into the cache in {seconds:.1f} s.")

    def log_line(self, text: str) -> None:
        self.log.appendPlainText(text)
        if self.log.isHidden():
            self.log.show()
            self.log_shown.emit()

    def show_failure(self, message: str, what: str = "Training failed") -> None:
        self.error.setText(f"{what}: {message}" if message else "")
        self.error.setVisible(bool(message))

    def failure_text(self) -> str:
        return "" if self.error.isHidden() else self.error.text()

    def ended(self, status: str, message: str) -> None:
        """The worker has ended: bars stop, a failure shows in red."""
        for bar in (self.epoch_bar, self.batch_bar):
            if bar.maximum() == 0:
                bar.setRange(0, 1)
        if status == "diverged":  # the run's last record has put the message in the log already
            self.show_failure(message, "Training stopped")
            self.status.setText("Diverged.")
        elif status == "failed":
            self.show_failure(message)
            self.log_line(f"Failed: {message}")
            self.status.setText("Failed.")
        elif message:
            self.log_line(message[0].upper() + message[1:] + ".")
            self.status.setText(status.capitalize() + ".")

    def add_records(self, records: Iterable[Record]) -> None:
        last_batch: BatchRecord | None = None  # of a run of batch records, only the latest moves the bars
        for record in records:
            if isinstance(record, BatchRecord):
                last_batch = record
                continue
            if last_batch is not None:  # shown first: it came before this record (an epoch's end, say)
                self._show_batch(last_batch)
                last_batch = None
            self._add(record)
        if last_batch is not None:
            self._show_batch(last_batch)

    # -- records -------------------------------------------------------------------------

    def _add(self, record: Record) -> None:
        if isinstance(record, RunStarted):
            self._started(record)
        elif isinstance(record, EpochRecord):
            _set_value(self.epoch_bar, record.epoch)
            _set_value(self.batch_bar, self.steps_per_epoch)
            self._peak(record.peak_memory)
            self.status.setText(f"Epoch {record.epoch} done · ETA {format_duration(record.eta_s)}")
            self.log_line(epoch_line(record, self.epochs))
        elif isinstance(record, Note):
            self.log_line(f"Note: {record.message}")
        elif isinstance(record, Paused):
            self.log_line(f"Paused at step {record.step}.")
            self.status.setText(f"Paused at step {record.step}.")
        elif isinstance(record, Resumed):
            self.log_line(f"Resumed at step {record.step}.")
        elif isinstance(record, RunEnded):
            self.log_line(end_line(record))
            self.status.setText(f"{record.status.capitalize()} at step {record.step}.")
            if record.status == "failed":
                self.show_failure(record.message)

    def _started(self, record: RunStarted) -> None:
        self.epochs, self.steps_per_epoch = record.epochs, record.steps_per_epoch
        self.epoch_bar.setRange(0, record.epochs)
        self.epoch_bar.setValue(record.epoch - 1)
        self.batch_bar.setRange(0, record.steps_per_epoch)
        self.batch_bar.setFormat(BATCH_FORMAT)
        self.batch_bar.setValue(record.step - (record.epoch - 1) * record.steps_per_epoch)
        went_on = f", going on from step {record.step}" if record.step else ""
        self.log_line(f"Run {record.run_id} on {record.device_label}: {plural(record.epochs, 'epoch')} of "
                      f"{plural(record.steps_per_epoch, 'step')}{went_on}. Its files: {record.run_dir}")
        self.status.setText("Training…")

    def _show_batch(self, record: BatchRecord) -> None:
        _set_value(self.epoch_bar, record.epoch - 1)
        _set_value(self.batch_bar, min(record.batch, self.batch_bar.maximum()))
        self._peak(record.peak_memory)
        self.status.setText(f"Epoch {record.epoch} · ETA {format_duration(record.eta_s)} · "
                            f"{record.samples_per_s:,.0f} samples/s · loss {record.loss:.4g}")

    def _peak(self, peak: int | None) -> None:
        if peak is not None:
            self.peak_memory = peak

    def peak_text(self) -> str:
        return "" if self.peak_memory is None else f"measured peak {format_bytes(self.peak_memory)}"


class StatusLine(QLineEdit):
    """A line of selectable text that can change ten times a second without laying out the window again.

    A QLabel asks its layout to re-measure it at each new text, and Qt then lays
    out every widget up to the main window (~1.5 ms a time here); a read-only,
    frameless line edit is the same size whatever it holds. It reads as the
    window's text on the window, in whichever theme is current.
    """

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.setReadOnly(True)
        self.setFrame(False)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self._follow_palette()
        theme.notifier().theme_changed.connect(self._follow_palette)

    @Slot()
    def _follow_palette(self) -> None:
        # Its own palette, set here, would otherwise keep the colours of the theme it was made in.
        palette = QApplication.palette()
        palette.setColor(QPalette.ColorRole.Base, QColor(Qt.GlobalColor.transparent))
        palette.setColor(QPalette.ColorRole.Text, palette.color(QPalette.ColorRole.WindowText))
        self.setPalette(palette)


def _set_value(bar: QProgressBar, value: int) -> None:
    """``bar.setValue(value)``, repainted with the rest of the window rather than at once.

    QProgressBar repaints itself synchronously on each visible change, ~0.7 ms
    apiece in a full window; with updates off meanwhile, turning them on again
    only schedules the repaint.
    """
    if bar.value() == value:
        return
    bar.setUpdatesEnabled(False)
    bar.setValue(value)
    bar.setUpdatesEnabled(True)


def _bar(text: str) -> QProgressBar:
    bar = QProgressBar()
    bar.setFormat(text)
    bar.setRange(0, 1)
    bar.setValue(0)
    bar.setTextVisible(True)
    return bar
