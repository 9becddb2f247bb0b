"""The dataset picker: which dataset to train on, a look at it, and whether it fits the network.

``DatasetPicker`` combines the form (source, path, options), the download row, a
preview loaded on a worker thread through ``designer.data``'s own ``prepare``, and
a sentence saying whether the dataset fits the graph's Input and output, checked
with ``designer.data.fit``'s rules again whenever the graph's shapes or the
dataset change. Nothing here imports torch: the preview's worker does, lazily.

API for the training panel::

    picker = DatasetPicker(base_dir=project_folder)
    picker.set_graph(document.graph)
    picker.set_dataset_config(DatasetConfig.from_json(graph.meta["dataset"]))  # emits nothing
    picker.changed.connect(...)          # DatasetConfig, or None while the form is invalid
    picker.problem_changed.connect(...)  # str (why Start must stay disabled) or None
    picker.shutdown()                    # when the window closes: cancels a download, waits for threads
    picker.train_count()                 # training samples of the dataset as previewed, or None
    picker.details                       # the options and the preview, for a host to place apart
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import shiboken6
from PySide6.QtCore import QTimer, Signal, Slot
from PySide6.QtGui import QImage, QShowEvent
from PySide6.QtWidgets import QFileDialog, QLabel, QVBoxLayout, QWidget

from designer.data.config import DatasetConfig
from designer.data.download import CATALOG
from designer.data.downloaded import downloaded_path
from designer.data.fit_report import DISPLAY_NAMES, DatasetFacts, FitReport, describe_fit, network_shapes
from designer.graph.errors import GraphError
from designer.graph.graph import Graph
from designer.ui import theme
from designer.ui.training.background import BackgroundTask, TaskRunner
from designer.ui.training.dataset_download import DownloadRow
from designer.ui.training.dataset_form import FOLDER_SOURCES, DatasetForm
from designer.ui.training.dataset_preview import PreviewPanel, to_qimages

PREVIEW_DELAY_MS = 250  # a preview starts once the options have stayed put this long
FIT_ROLES = {"ok": theme.OK, "note": theme.NOTE, "error": theme.ERROR_TEXT}  # the theme's text colours
_FILE_FILTERS = {"npz": "NumPy arrays (*.npz)", "cifar10": "CIFAR archive (*.tar.gz *.tgz *.tar)",
                 "cifar100": "CIFAR archive (*.tar.gz *.tgz *.tar)"}
PreviewKey = tuple[object, ...]


@dataclass(frozen=True)
class LoadedPreview:
    """What the preview worker hands back: the facts, and thumbnails ready to draw."""

    facts: DatasetFacts
    images: list[QImage]
    captions: list[str]


class DatasetPicker(QWidget):
    """Choose and check the training dataset.

    Signals: ``changed(object)``, the new DatasetConfig after each user edit, or None
    while the form describes no dataset (the reason is shown, and is :meth:`problem`);
    ``problem_changed(object)``, the new :meth:`problem` whenever it changes.
    """

    changed = Signal(object)
    problem_changed = Signal(object)
    loaded = Signal()  # a preview has been shown: train_count() may have changed

    def __init__(self, parent: QWidget | None = None, *, base_dir: Path | None = None) -> None:
        super().__init__(parent)
        self._base_dir = base_dir
        self._config: DatasetConfig | None = None
        self._reason: str | None = None
        self._emitted: DatasetConfig | None = None
        self._graph: Graph | None = None
        self._watch: _GraphWatch | None = None
        self._fit: FitReport | None = None
        self._announced: str | None = None
        # The preview: the key wanted now, the key being loaded, and the last outcome with its key.
        self._wanted: PreviewKey | None = None
        self._running: PreviewKey | None = None
        self._loaded: tuple[PreviewKey, LoadedPreview | str] | None = None
        self._build()
        self._form.load(DatasetConfig())
        self._refresh(emit=False)
        self._emitted = self._config

    def _build(self) -> None:
        self.form = self._form = DatasetForm()
        self.download = DownloadRow()
        self._form.insert_below_path(self.download)
        self.status_label = _label(theme.ERROR_TEXT)
        self.fit_label = _label()
        self.preview = PreviewPanel()
        self.details = QWidget()  # the dataset's options and its preview: a host may place them apart
        details = QVBoxLayout(self.details)
        details.setContentsMargins(0, 0, 0, 0)
        details.addWidget(self._form.options)
        details.addWidget(self.preview)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self._form, self.status_label, self.fit_label, self.details):
            layout.addWidget(widget)
        self._previews = TaskRunner(self)  # one at a time: the next starts when it ends
        self._previews.succeeded.connect(self._on_preview_done)
        self._previews.failed.connect(self._on_preview_done)
        self._preview_timer = _single_shot(self, PREVIEW_DELAY_MS, self._start_preview)
        self._fit_timer = _single_shot(self, 0, self._check_fit)  # coalesces a burst of graph events
        self._form.edited.connect(self._on_edited)
        self._form.source_chosen.connect(self._on_source_chosen)
        self._form.browse_requested.connect(self.browse)
        self.download.downloaded.connect(self._on_downloaded)
        self.download.busy_changed.connect(self._on_download_busy)

    # -- public API ---------------------------------------------------------------------------

    def dataset_config(self) -> DatasetConfig | None:
        return self._config

    def set_dataset_config(self, config: DatasetConfig) -> None:
        """Show ``config`` (from the project file, say) without emitting ``changed``."""
        self._form.load(config)
        self._emitted = config
        self._refresh(emit=False)

    def train_count(self) -> int | None:
        """How many training samples the chosen dataset has, once its preview has loaded."""
        outcome = self._outcome()
        return outcome.facts.train_count if isinstance(outcome, LoadedPreview) else None

    def problem(self) -> str | None:
        """Why training cannot start with this dataset, or None (also None while it is being checked)."""
        if self.download.busy:
            return "The dataset is still downloading."
        if self._reason:
            return self._reason
        loaded = self._outcome()
        if isinstance(loaded, str):
            return loaded
        if self._fit is not None and self._fit.level == "error":
            return self._fit.text
        return None

    def set_graph(self, graph: Graph | None) -> None:
        """Check the dataset against ``graph`` now and after each change of its shapes."""
        if self._watch is not None:
            self._watch.close()
            self._watch = None
        self._graph = graph
        if graph is not None:
            self._watch = _GraphWatch(graph, self)
            self.destroyed.connect(self._watch.close)
        self._check_fit()

    def set_base_dir(self, base_dir: Path | None) -> None:
        """Where relative dataset paths start: the project file's folder."""
        self._base_dir = base_dir
        self._refresh(emit=False)

    @property
    def download_base_url(self) -> str | None:
        """Replaces the datasets' published mirrors (tests serve files from 127.0.0.1)."""
        return self.download.base_url

    @download_base_url.setter
    def download_base_url(self, url: str | None) -> None:
        self.download.base_url = url

    def shutdown(self) -> None:
        """Cancel a download and wait for the worker threads (for closing the window)."""
        self.download.shutdown()
        self._previews.shutdown()

    # -- dialogs (tests replace these) ------------------------------------------------------------

    def ask_folder(self, title: str) -> str:
        return QFileDialog.getExistingDirectory(self, title, self._form.path.text())

    def ask_file(self, title: str, filter: str) -> str:
        path, _ = QFileDialog.getOpenFileName(self, title, self._form.path.text(), filter)
        return path

    @Slot()
    def browse(self) -> None:
        name = self._form.source_name()
        title = f"Where is {DISPLAY_NAMES.get(name, name)}?"
        if name in FOLDER_SOURCES:
            path = self.ask_folder(title)
        else:
            path = self.ask_file(title, _FILE_FILTERS.get(name, "All files (*)"))
        if path:
            self._form.set_path(path)
            self._refresh(emit=True)

    # -- the form ----------------------------------------------------------------------------------

    @Slot()
    def _on_edited(self) -> None:
        self._refresh(emit=True)

    @Slot(str)
    def _on_source_chosen(self, name: str) -> None:
        # "Image folder…" and ".npz file…" open the dialog at once, once the combo has closed.
        if name in ("folder", "npz") and not self._form.path.text().strip():
            QTimer.singleShot(0, lambda: self._browse_if_still(name))

    def _browse_if_still(self, name: str) -> None:
        if shiboken6.isValid(self) and self._form.source_name() == name:
            self.browse()

    def _refresh(self, *, emit: bool) -> None:
        """Read the form, then bring everything that depends on it up to date."""
        self._config, self._reason = self._form.read()
        name = self._form.source_name()
        missing = self._config is None and name in CATALOG and downloaded_path(name) is None
        self.download.offer(name, needed=missing)
        self.status_label.setText(self._reason or "")
        self.status_label.setVisible(bool(self._reason) and self.download.isHidden())  # the row says it then
        if emit and self._config != self._emitted:
            self._emitted = self._config
            self.changed.emit(self._config)
        self._request_preview()
        self._check_fit()

    @Slot(str, str)
    def _on_downloaded(self, name: str, path: str) -> None:
        if self._form.source_name() == name:
            self._form.set_path(path)
            self._refresh(emit=True)

    @Slot(bool)
    def _on_download_busy(self, busy: bool) -> None:
        self._form.set_busy(busy)
        self._announce_problem()

    # -- the preview -------------------------------------------------------------------------------

    def _preview_key(self) -> PreviewKey | None:
        """What the preview depends on; options that cannot change it (normalize, augment) are left out."""
        config = self._config
        if config is None:
            return None
        size = self._folder_size() if config.name == "folder" else None
        return (config.name, config.path, config.samples, config.seed, config.validation, self._base_dir, size)

    def _folder_size(self) -> tuple[int, int] | None:
        """The network's image size: image folders are decoded at it, and cached for training."""
        if self._graph is None:
            return None
        try:
            shape, _ = network_shapes(self._graph)
        except GraphError:
            return None
        return (shape[1], shape[2]) if len(shape) == 3 else None

    def _request_preview(self) -> None:
        key = self._preview_key()
        if key == self._wanted:
            return
        self._wanted = key
        self._preview_timer.stop()
        outcome = self._outcome()
        if key is None:
            self.preview.clear()
        elif outcome is not None:
            self._show_outcome(outcome)  # back to what was loaded last
        else:
            self.preview.show_loading()
            self._preview_timer.start()

    @Slot()
    def _start_preview(self) -> None:
        """Load the wanted preview unless one is loading already (it starts the next when it ends)."""
        key, config = self._wanted, self._config
        if key is None or config is None or self._previews.busy or not self.isVisible():
            return
        if self._outcome() is not None:
            return
        self._running = key
        self._previews.start(_preview_work(config, self._folder_size(), self._base_dir))

    @Slot(object)
    def _on_preview_done(self, outcome: LoadedPreview | str) -> None:
        assert self._running is not None
        self._loaded = (self._running, outcome)
        if self._running == self._wanted:
            self._show_outcome(outcome)
        else:
            self._start_preview()

    def _outcome(self) -> LoadedPreview | str | None:
        """The loaded preview (or the error) for the dataset wanted now, if it has been loaded."""
        if self._loaded is not None and self._wanted is not None and self._loaded[0] == self._wanted:
            return self._loaded[1]
        return None

    def _show_outcome(self, outcome: LoadedPreview | str) -> None:
        if isinstance(outcome, str):
            self.preview.show_error(f"Cannot load this dataset: {outcome}")
        else:
            self.preview.show_preview(outcome.images, outcome.captions, outcome.facts.summary(),
                                      outcome.facts.notes)
        self._check_fit()
        self.loaded.emit()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._start_preview()  # nothing loads while the picker has never been shown

    # -- the fit --------------------------------------------------------------------------------------

    def _schedule_fit(self) -> None:
        self._fit_timer.start()

    @Slot()
    def _check_fit(self) -> None:
        self._fit = None
        outcome, config = self._outcome(), self._config
        if self._graph is None or config is None or isinstance(outcome, str):
            self._show_fit("")
        elif outcome is None:
            self._show_fit("Checking the dataset against the network…", theme.MUTED)
        else:
            try:
                shapes = network_shapes(self._graph)
            except GraphError as exc:
                self._show_fit(f"Cannot check the dataset against the network: {exc}.", theme.MUTED)
            else:
                self._fit = describe_fit(outcome.facts, config.grayscale_to_rgb, *shapes)
                self._show_fit(self._fit.text, FIT_ROLES[self._fit.level])
        self._announce_problem()

    def _show_fit(self, text: str, role: str | None = None) -> None:
        self.fit_label.setText(text)
        theme.paint_text(self.fit_label, role)
        self.fit_label.setVisible(bool(text))

    def _announce_problem(self) -> None:
        problem = self.problem()
        if problem != self._announced:
            self._announced = problem
            self.problem_changed.emit(problem)


class _GraphWatch:
    """Subscribes to a graph's shape-changing events for a picker it does not keep alive."""

    EVENTS = ("shapes_changed", "node_added", "node_removed", "edge_added", "edge_removed")

    def __init__(self, graph: Graph, picker: DatasetPicker) -> None:
        self._graph: Graph | None = graph
        self._picker = weakref.ref(picker)
        for name in self.EVENTS:
            getattr(graph.events, name).connect(self._on_event)

    def _on_event(self, *_args: object) -> None:
        picker = self._picker()
        if picker is not None and shiboken6.isValid(picker):
            picker._schedule_fit()
        else:
            self.close()

    def close(self) -> None:
        if self._graph is not None:
            for name in self.EVENTS:
                getattr(self._graph.events, name).disconnect(self._on_event)
            self._graph = None


def _preview_work(config: DatasetConfig, folder_size: tuple[int, int] | None,
                  base_dir: Path | None) -> Callable[[BackgroundTask], LoadedPreview]:
    def work(_task: BackgroundTask) -> LoadedPreview:
        from designer.data.preview import load_preview  # torch: on the worker thread only

        preview = load_preview(config, folder_size, base_dir=base_dir)
        names = preview.facts.class_names
        return LoadedPreview(preview.facts, to_qimages(preview.images), [names[i] for i in preview.labels])

    return work


def _label(role: str | None = None) -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    label.setVisible(False)
    theme.paint_text(label, role)
    return label


def _single_shot(parent: QWidget, ms: int, slot: Callable[[], None]) -> QTimer:
    timer = QTimer(parent)
    timer.setSingleShot(True)
    timer.setInterval(ms)
    timer.timeout.connect(slot)
    return timer
