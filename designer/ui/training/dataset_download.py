"""The dataset picker's download row: offers CIFAR or MNIST when it is not on this computer yet.

``download_dataset`` runs on a worker thread; the row shows its progress over all
of the dataset's files, a Cancel button, and how it ended, errors as a sentence.
Cancelling keeps the partial ``.part`` file so that the next download resumes;
the final file name only ever holds a complete, checked download.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from designer.data.download import CATALOG, download_dataset
from designer.data.downloaded import download_folder
from designer.data.fit_report import DISPLAY_NAMES
from designer.ui import theme
from designer.ui.training.background import BackgroundTask, TaskRunner

PROGRESS_STEPS = 1000  # the bar's range: tenths of a percent
_PROGRESS_INTERVAL = 0.05  # seconds between progress reports: the GUI thread gets at most 20 a second
SIZES = {"cifar10": "163 MB", "cifar100": "161 MB", "mnist": "11 MB", "fashion_mnist": "30 MB"}


class DownloadRow(QWidget):
    """Download offer, progress and outcome for one dataset at a time.

    ``downloaded(name, path)`` is emitted on success with the path to use in the
    dataset description; ``busy_changed(bool)`` when a download starts or ends.
    ``base_url`` replaces the published mirrors (tests serve files from 127.0.0.1).
    """

    downloaded = Signal(str, str)
    busy_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.base_url: str | None = None
        self._name: str | None = None
        self._finished: str | None = None  # the dataset whose download succeeded last
        self._downloads = TaskRunner(self)
        self._downloads.progressed.connect(self._on_progress)
        self._downloads.succeeded.connect(self._on_succeeded)
        self._downloads.failed.connect(self._on_failed)
        self._downloads.cancelled.connect(self._on_cancelled)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.download_button = QPushButton("Download")
        self.download_button.clicked.connect(self.start)
        self.progress = QProgressBar()
        self.progress.setRange(0, PROGRESS_STEPS)
        self.progress.setFormat("%p%")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.progress, 1)
        row.addWidget(self.cancel_button)
        row.addWidget(self.download_button)
        row.addStretch(0)
        fixed = QSizePolicy.Policy.Fixed
        for button in (self.download_button, self.cancel_button):
            button.setSizePolicy(fixed, fixed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.message)
        layout.addLayout(row)
        self.setVisible(False)

    @property
    def busy(self) -> bool:
        return self._downloads.busy

    def offer(self, name: str, *, needed: bool) -> None:
        """Offer to download ``name`` if ``needed``, else hide (but keep showing a finished download of it).

        Ignored while a download runs: the source cannot change then.
        """
        if self.busy:
            return
        if not needed or name not in CATALOG:
            self.setVisible(self._finished == name)
            return
        self._name, self._finished = name, None
        self._show(f"{DISPLAY_NAMES[name]} is not in {download_folder(name)} yet: download it "
                   f"(about {SIZES.get(name, '?')}), or Browse… to where it is.", button="Download")
        self.setVisible(True)

    @Slot()
    def start(self) -> None:
        if self.busy or self._name is None:
            return
        name = self._name
        self.progress.setValue(0)
        self._show(f"Downloading {DISPLAY_NAMES[name]}…", progress=True, cancel=True)
        self._downloads.start(_download_work(name, self.base_url))
        self.busy_changed.emit(True)

    @Slot()
    def cancel(self) -> None:
        if self.busy:
            self._downloads.cancel()
            self._show("Cancelling…", progress=True)

    def shutdown(self) -> None:
        """Cancel a running download and wait for its thread (for closing the window)."""
        self._downloads.shutdown()

    # -- outcomes, on the GUI thread -------------------------------------------------------

    @Slot(object)
    def _on_progress(self, state: tuple[float, str]) -> None:
        fraction, text = state
        if not self._downloads.cancel_requested:
            self.progress.setValue(round(fraction * PROGRESS_STEPS))
            self.message.setText(text)

    @Slot(object)
    def _on_succeeded(self, path: Path) -> None:
        name = self._finished = self._end()
        self.progress.setValue(PROGRESS_STEPS)
        self._show(f"{DISPLAY_NAMES[name]} downloaded to {path}.", progress=True)
        self.downloaded.emit(name, str(path))

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._end()
        self._show(f"Download failed: {message}", button="Try again", error=True)

    @Slot()
    def _on_cancelled(self) -> None:
        self._end()
        self._show("Download cancelled; the next download resumes where this one stopped.", button="Download")

    def _end(self) -> str:
        self.busy_changed.emit(False)
        return self._name or ""

    def _show(self, text: str, *, button: str = "", progress: bool = False, cancel: bool = False,
              error: bool = False) -> None:
        self.message.setText(text)
        theme.paint_text(self.message, theme.ERROR_TEXT if error else None)
        self.download_button.setText(button)
        self.download_button.setVisible(bool(button))
        self.progress.setVisible(progress)
        self.cancel_button.setVisible(cancel)


def _download_work(name: str, base_url: str | None) -> Callable[[BackgroundTask], Path]:
    """The function the worker thread runs: the whole dataset, reporting progress over all its files."""
    files = [file.name for file in CATALOG[name].files]

    def work(task: BackgroundTask) -> Path:
        last = 0.0

        def progress(file: str, done: int, total: int | None) -> None:
            nonlocal last
            task.check_cancelled()  # raising here stops the download and keeps the .part file
            now = time.monotonic()
            if now - last >= _PROGRESS_INTERVAL or (total is not None and done >= total):
                last = now
                task.report(_progress_state(name, files, file, done, total))

        return download_dataset(name, base_url=base_url, progress=progress)

    return work


def _progress_state(name: str, files: list[str], file: str, done: int, total: int | None) -> tuple[float, str]:
    index = files.index(file) if file in files else 0
    part = done / total if total else 0.0
    which = f" ({index + 1} of {len(files)})" if len(files) > 1 else ""
    of = f" of {total / 1e6:.1f}" if total else ""
    return ((index + part) / len(files),
            f"Downloading {DISPLAY_NAMES[name]}: {file}{which}, {done / 1e6:.1f}{of} MB")
