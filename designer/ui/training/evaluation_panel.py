"""The evaluation panel: a trained network measured on its validation split, off the GUI thread.

``evaluate(checkpoint)`` opens the checkpoint and runs
:func:`designer.training.trained.evaluate_trained` on a background thread; the
panel then shows the overall accuracy line, the confusion matrix as a heat map,
a per-class table (precision, recall — the class's accuracy — and support) and,
for the confusion cell last clicked, that cell's samples as thumbnails, the most
confident first. Nothing here imports torch until an evaluation starts.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from designer.ui import theme
from designer.ui.training.background import TaskRunner
from designer.ui.training.confusion_view import ConfusionMatrixView
from designer.ui.training.sample_gallery import MAX_SHOWN, SampleGallery

if TYPE_CHECKING:
    from designer.data import DatasetConfig
    from designer.training.trained import DatasetEvaluation

CLASS_COLUMNS = ("Class", "Precision", "Recall (accuracy)", "Support")


@dataclass(frozen=True)
class EvaluationResult:
    """What the background thread hands over: the evaluation and plain lists for the views."""

    checkpoint: Path
    result: DatasetEvaluation
    notes: tuple[str, ...]
    confusion: list[list[int]]  # [true][predicted]
    precision: list[float]  # per class, NaN where nothing was predicted as it
    recall: list[float]  # per class: the share of its samples predicted right
    support: list[int]  # per class: its samples
    predicted: list[int]  # per sample
    confidence: list[float]  # per sample

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.result.class_names


def run_evaluation(checkpoint: Path, dataset: DatasetConfig | None, device: str) -> EvaluationResult:
    """Open and evaluate ``checkpoint`` (on a background thread: this is the slow part)."""
    from designer.training import TrainingConfig, pick_device
    from designer.training.trained import evaluate_trained, open_trained

    trained = open_trained(checkpoint)
    result = evaluate_trained(trained, dataset, device=pick_device(TrainingConfig(device=device)))
    e = result.evaluation
    return EvaluationResult(trained.checkpoint, result, trained.notes + result.notes, e.confusion.tolist(),
                            e.precision.tolist(), e.recall.tolist(), e.confusion.sum(dim=1).tolist(),
                            e.predicted.tolist(), e.confidence.tolist())


class EvaluationPanel(QWidget):
    """Evaluate a checkpoint and explore the result; ``evaluated`` or ``failed`` says how it went."""

    evaluated = Signal(object)  # EvaluationResult
    failed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.result: EvaluationResult | None = None
        self.status = QLabel("Choose a run and Evaluate to measure its network on the validation data.")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.matrix = ConfusionMatrixView()
        self.classes = _class_table()
        self.samples_caption = QLabel("Click a cell of the matrix to see its samples.")
        self.samples_caption.setWordWrap(True)
        self.samples = SampleGallery()
        self.tasks = TaskRunner(self)
        self.tasks.succeeded.connect(self._on_evaluated)
        self.tasks.failed.connect(self._on_failed)
        self.matrix.cell_clicked.connect(self.show_cell)
        self._status_text: Callable[[], str] | None = None
        theme.notifier().theme_changed.connect(self._on_theme_changed)
        self._lay_out()

    def _lay_out(self) -> None:
        caption = QLabel("Rows: true class · columns: predicted class · colour: share of the row")
        theme.paint_text(caption, theme.MUTED)
        left = _column(caption, self.matrix)
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.classes)
        right.addWidget(_column(self.samples_caption, self.samples))
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.status)
        layout.addWidget(split, 1)

    @property
    def busy(self) -> bool:
        return self.tasks.busy

    def evaluate(self, checkpoint: str | Path, dataset: DatasetConfig | None = None,
                 device: str = "auto") -> None:
        """Start measuring ``checkpoint`` (a .pt file or a run folder); returns at once."""
        path = Path(checkpoint)
        self.result = None
        self.matrix.matrix.clear()
        self.classes.setRowCount(0)
        self.samples.clear()
        self._set_status(f"Evaluating {html.escape(_short(path))} on its validation data…")
        self.tasks.start(lambda _task: run_evaluation(path, dataset, device))

    def _on_evaluated(self, outcome: EvaluationResult) -> None:
        self.result = outcome
        self.matrix.set_matrix(outcome.confusion, outcome.class_names)
        self._fill_classes(outcome)
        self._set_status(lambda: _summary(outcome))
        self.samples_caption.setText("Click a cell of the matrix to see its samples.")
        self.evaluated.emit(outcome)

    def _on_failed(self, message: str) -> None:
        self._set_status(lambda: theme.span(f"Cannot evaluate: {html.escape(message)}", theme.ERROR_TEXT))
        self.failed.emit(message)

    def _set_status(self, text: str | Callable[[], str]) -> None:
        """Show ``text``; one made by a function (its colours are the theme's) is made again for a new theme."""
        self._status_text = text if callable(text) else None
        self.status.setText(text() if callable(text) else text)

    def _on_theme_changed(self) -> None:
        if self._status_text is not None:
            self.status.setText(self._status_text())

    def _fill_classes(self, outcome: EvaluationResult) -> None:
        self.classes.setRowCount(len(outcome.class_names))
        for row, name in enumerate(outcome.class_names):
            cells = (name, _percent(outcome.precision[row]), _percent(outcome.recall[row]),
                     str(outcome.support[row]))
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.classes.setItem(row, column, item)

    def show_cell(self, true_class: int, predicted_class: int) -> None:
        """List the samples of one confusion cell as thumbnails, the most confident first."""
        outcome = self.result
        if outcome is None:
            return
        indices = outcome.result.evaluation.samples(true_class, predicted_class).tolist()
        names = outcome.class_names
        shown = f", the {MAX_SHOWN} most confident shown" if len(indices) > MAX_SHOWN else ""
        self.samples_caption.setText(f"True {names[true_class]}, predicted {names[predicted_class]}: "
                                     f"{len(indices)} sample{'' if len(indices) == 1 else 's'}{shown}")
        self.samples.show_samples(outcome.result.images, indices, outcome.predicted, outcome.confidence,
                                  names)

    def shutdown(self, ms: int = 60_000) -> bool:
        """Wait for an evaluation still running (when the application quits); False on time-out.

        Closing the panel need not wait: an evaluation that ends after it is simply not shown.
        """
        return self.tasks.shutdown(ms)


def _class_table() -> QTableWidget:
    table = QTableWidget(0, len(CLASS_COLUMNS))
    table.setHorizontalHeaderLabels(CLASS_COLUMNS)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    return table


def _column(*widgets: QWidget) -> QWidget:
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    for widget in widgets:
        layout.addWidget(widget)
    return box


def _percent(value: float) -> str:
    return "—" if math.isnan(value) else f"{value:.1%}"


def _short(path: Path) -> str:
    """``run-id/checkpoints/best.pt`` rather than the whole path."""
    return str(Path(*path.parts[-3:])) if len(path.parts) > 3 else str(path)


def _summary(outcome: EvaluationResult) -> str:
    e = outcome.result.evaluation
    correct = sum(outcome.confusion[i][i] for i in range(len(outcome.confusion)))
    text = (f"<b>Accuracy {e.top1:.2%}</b> ({correct} of {e.count}) · top-5 {e.top5:.2%} · "
            f"loss {e.loss:.4f} — {html.escape(outcome.result.dataset)} validation split, "
            f"{html.escape(_short(outcome.checkpoint))}")
    for note in outcome.notes:
        text += "<br>" + theme.span(f"note: {html.escape(note)}", theme.MUTED)
    return text
