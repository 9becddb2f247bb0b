"""Predict: drop an image (or Open… one) and see a trained network's five likeliest classes.

The dialog opens the checkpoint on a background thread as soon as it is made,
and runs :func:`designer.training.trained.predict` there for each image, so
neither a large network nor a large photo stalls the editor. The image is shown
as given, with a line saying how it was fitted to the network's input (resized,
widened to RGB). A file that is no image, or a checkpoint that cannot be read,
is said in the dialog, in red, naming the file.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QImageReader, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from designer.graph.files import file_problem
from designer.ui import theme
from designer.ui.training.background import TaskRunner

if TYPE_CHECKING:
    from designer.training.trained import TrainedModel

TOP = 5
PREVIEW = 160  # pixels a side
BAR_STEPS = 1000
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.gif *.tif *.tiff *.webp);;All files (*)"


def _open(checkpoint: Path) -> TrainedModel:
    from designer.training.trained import open_trained

    return open_trained(checkpoint)


def _predict(trained: TrainedModel, image: Path) -> list[tuple[str, float]]:
    from designer.training.trained import predict

    return predict(trained, image, TOP)


class PredictDialog(QDialog):
    """Top-5 predictions of one checkpoint for images dropped or opened; ``predicted(list)`` after each."""

    loaded = Signal()  # the network is ready
    predicted = Signal(list)  # [(class name, probability)], likeliest first
    failed = Signal(str)

    def __init__(self, checkpoint: str | Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.checkpoint = Path(checkpoint)
        self.setWindowTitle(f"Predict — {self.checkpoint.name}")
        self.setAcceptDrops(True)
        self.trained: TrainedModel | None = None
        self.image_path: Path | None = None
        self.predictions: list[tuple[str, float]] = []
        self._pending: Path | None = None  # an image given before the network was ready
        self.preview = QLabel("Drop an image here\nor click Open…")
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setFixedSize(PREVIEW, PREVIEW)
        self.preview.setStyleSheet("border: 1px dashed #b8c0cc; color: #6b7785")
        self.message = QLabel("Loading the network…")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.open_button = QPushButton("Open…")
        self.open_button.clicked.connect(self.open_file)
        self.names = [QLabel() for _ in range(TOP)]
        self.bars = [_bar() for _ in range(TOP)]
        self._lay_out()
        self._clear_bars()
        self._loader = TaskRunner(self)
        self._loader.succeeded.connect(self._on_loaded)
        self._loader.failed.connect(self._on_failed)
        self._runner = TaskRunner(self)
        self._runner.succeeded.connect(self._on_predicted)
        self._runner.failed.connect(self._on_failed)
        checkpoint = self.checkpoint  # the thread must not touch the dialog, which may be gone by then
        self._loader.start(lambda _task: _open(checkpoint))

    def _lay_out(self) -> None:
        grid = QGridLayout()
        for row, (name, bar) in enumerate(zip(self.names, self.bars)):
            grid.addWidget(name, row, 0)
            grid.addWidget(bar, row, 1)
        grid.setColumnStretch(1, 1)
        side = QVBoxLayout()
        side.addLayout(grid)
        side.addStretch(1)
        side.addWidget(self.open_button, 0, Qt.AlignmentFlag.AlignRight)
        top = QHBoxLayout()
        top.addWidget(self.preview)
        top.addLayout(side, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.message)
        self.resize(520, 260)

    # -- asking (tests replace these) --------------------------------------------------------

    def ask_image_path(self) -> str:
        path, _ = QFileDialog.getOpenFileName(self, "Open an image", "", IMAGE_FILTER)
        return path

    # -- input -------------------------------------------------------------------------------

    def open_file(self) -> None:
        path = self.ask_image_path()
        if path:
            self.predict_file(path)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if _local_file(event.mimeData().urls()) is not None:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        path = _local_file(event.mimeData().urls())
        if path is not None:
            event.acceptProposedAction()
            self.predict_file(path)

    def predict_file(self, path: str | Path) -> None:
        """Show ``path`` and start predicting it (once the network is ready); returns at once."""
        path = Path(path)
        self.image_path = path
        self.predictions = []
        self._clear_bars()
        problem = file_problem(path)  # reading a named pipe would wait for a writer, the editor frozen
        self._show_image(path if problem is None else None)
        if problem is not None:
            self._pending = None
            self._on_failed(f"{path}: {problem}")
            return
        if self.trained is None:
            self._pending = path
            return
        self._start(path)

    def _start(self, path: Path) -> None:
        trained = self.trained
        assert trained is not None
        self._set_message(f"Predicting {html.escape(path.name)}…")
        self._runner.start(lambda _task: _predict(trained, path))

    # -- results -----------------------------------------------------------------------------

    def _on_loaded(self, trained: TrainedModel) -> None:
        self.trained = trained
        notes = "".join(f"<br>note: {html.escape(n)}" for n in trained.notes)
        self._set_message(f"{len(trained.class_names)} classes, input {_shape(trained.info.input_shape)}. "
                          f"Drop an image or click Open….{notes}")
        self.loaded.emit()
        if self._pending is not None:
            path, self._pending = self._pending, None
            self._start(path)

    def _on_predicted(self, predictions: list[tuple[str, float]]) -> None:
        self.predictions = predictions
        for row, (name, bar) in enumerate(zip(self.names, self.bars)):
            shown = row < len(predictions)
            name.setText(predictions[row][0] if shown else "")
            bar.setValue(round(predictions[row][1] * BAR_STEPS) if shown else 0)
            bar.setFormat(f"{predictions[row][1]:.1%}" if shown else "")
            bar.setVisible(shown)
        self._set_message(self._fitted_line())
        self.predicted.emit(predictions)

    def _on_failed(self, message: str) -> None:
        self._set_message(theme.span(html.escape(message), theme.ERROR_TEXT))
        self.failed.emit(message)

    def _fitted_line(self) -> str:
        """How the image was fitted to the Input: the user should know a photo was shrunk to 32×32."""
        if self.image_path is None or self.trained is None:
            return ""
        info = self.trained.info
        size = QImageReader(str(self.image_path)).size()
        if not size.isValid():
            return html.escape(self.image_path.name)
        fitted = f"{size.width()}×{size.height()}"
        if (size.height(), size.width()) != (info.height, info.width):
            fitted += f", resized to {info.width}×{info.height} as the network expects"
        return f"{html.escape(self.image_path.name)}: {fitted}"

    def _show_image(self, path: Path | None) -> None:
        pixmap = QPixmap(str(path)) if path is not None else QPixmap()
        if pixmap.isNull():
            self.preview.setPixmap(QPixmap())
            self.preview.setText("(cannot show\nthis file)")
            return
        mode = (Qt.TransformationMode.FastTransformation if max(pixmap.width(), pixmap.height()) < PREVIEW
                else Qt.TransformationMode.SmoothTransformation)  # small digits stay crisp
        self.preview.setPixmap(pixmap.scaled(PREVIEW, PREVIEW, Qt.AspectRatioMode.KeepAspectRatio, mode))

    def _clear_bars(self) -> None:
        for name, bar in zip(self.names, self.bars):
            name.setText("")
            bar.setValue(0)
            bar.setVisible(False)

    def _set_message(self, text: str) -> None:
        self.message.setText(text)

    def shown_predictions(self) -> list[tuple[str, str]]:
        """The rows as the user reads them: (class name, the bar's percentage text)."""
        return [(name.text(), bar.text()) for name, bar in zip(self.names, self.bars) if bar.isVisibleTo(self)]

    def shutdown(self, ms: int = 60_000) -> bool:
        """Wait for the calls still running (when the application quits); False on time-out.

        Closing the dialog need not wait: a call that ends after it is simply not shown.
        """
        return self._loader.shutdown(ms) and self._runner.shutdown(ms)


def _bar() -> QProgressBar:
    bar = QProgressBar()
    bar.setRange(0, BAR_STEPS)
    bar.setTextVisible(True)
    return bar


def _local_file(urls: list[QUrl]) -> Path | None:
    for url in urls:
        if url.isLocalFile():
            return Path(url.toLocalFile())
    return None


def _shape(shape: tuple[int, ...]) -> str:
    return "×".join(str(d) for d in shape)
