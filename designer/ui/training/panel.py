"""The training panel: dataset, hyperparameters, device, memory estimate, Start/Pause/Stop, progress and log.

It edits the open document's ``dataset`` and ``training`` sections (undoable,
saved with the project) and drives a :class:`TrainingSession`. Start stays
disabled, with the reason as its tooltip, while the graph has errors, the
dataset picker reports a problem, the project's settings are invalid, or a run
is under way. Records go on to the window as signals: ``records(run_id, list)``
for the plots, ``node_stats(stats)`` for the canvas.

Nothing here imports torch when the window opens. The panel's content stays
hidden, so that the dataset picker loads no preview, until :meth:`activate`
(the window calls it when the Training tab is first brought up: a tabbed dock
counts as shown even behind another tab); then the device list is probed on a
worker thread. Once the window has been up for WARM_UP_DELAY_MS, a background
thread at low priority imports the worker module (torch with it) and runs one
tiny step (:func:`designer.training.trainer.warm_up`), so that Start shows the
first loss within a second or so rather than after torch has loaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from designer.data.config import DatasetConfig
from designer.data.errors import DataConfigError
from designer.graph.errors import GraphError
from designer.training.memory import estimate_memory
from designer.training.records import NodeStats, Record, RunEnded, RunStarted
from designer.ui.document import Document
from designer.ui.training.background import BackgroundTask, TaskRunner, run_in_background
from designer.ui.training.config_form import TrainingForm
from designer.ui.training.dataset_picker import DatasetPicker
from designer.ui.training.lock import lock_banner
from designer.ui.training.monitor import RunMonitor
from designer.ui.training.session import IDLE, PAUSED, STOPPING, TrainingSession
from designer.ui.training.subscriptions import GraphSubscriptions

WARM_UP_DELAY_MS = 500  # after the window first shows: its first paint and layout come first
# Once per process: a second window finds torch imported and its first step made.
_warm = {"running": False, "done": False}  # written on the warm-up's thread, read on the GUI thread
GRAPH_EVENTS = ("shapes_changed", "params_changed", "node_added", "node_removed", "edge_added",
                "edge_removed")


def warm_up(_task: BackgroundTask) -> None:
    """Import what Start needs and run one tiny step, at low priority (on a background thread)."""
    try:
        run_in_background()
        from designer.training.trainer import warm_up as run_one_step
        from designer.ui.training_worker import TrainingWorker  # noqa: F401  # imported now, not at Start

        run_one_step()
        _warm["done"] = True
    finally:
        _warm["running"] = False


def probe_devices(_task: BackgroundTask) -> list[Any]:
    """Lists the devices (``describe_devices`` imports torch: run it off the GUI thread)."""
    try:
        from designer.training.devices import describe_devices

        return describe_devices()
    except Exception:  # no devices listed is no reason to fail: "auto" still trains
        return []


class TrainingPanel(QWidget):
    """Set up, start and watch training of the open document's graph.

    Signals: ``run_started(run_id, label)``, ``records(run_id, records)``,
    ``node_stats(stats)`` (the latest per-block statistics), ``run_ended(status, message)``.
    """

    run_started = Signal(str, str)
    records = Signal(str, list)
    node_stats = Signal(object)
    run_ended = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document: Document | None = None
        self.session = TrainingSession(self)
        self.devices: list[Any] | None = None  # DeviceInfo, once probed
        self.last_stopped: Path | None = None  # the run Continue goes on with
        self._pausable = True  # until a run says it is a job of several processes
        self._watch: GraphSubscriptions | None = None
        self._build()
        self._device_probe = TaskRunner(self)
        self._device_probe.succeeded.connect(self._on_devices)
        self.warm_up_done = False  # set once the background warm-up has ended, however it ended
        self._warm_up = TaskRunner(self)
        for outcome in (self._warm_up.succeeded, self._warm_up.failed):
            outcome.connect(self._on_warmed_up)
        self._warm_up_timer = QTimer(self, singleShot=True, interval=WARM_UP_DELAY_MS)
        self._warm_up_timer.timeout.connect(self._start_warm_up)
        self._refresh_timer = QTimer(self, singleShot=True, interval=0)  # one refresh per burst of edits
        self._refresh_timer.timeout.connect(self._refresh)
        self.session.state_changed.connect(self._on_state_changed)
        self.session.run_started.connect(self._on_run_started)
        self.session.records.connect(self._on_records)
        self.session.decoding.connect(self.monitor.decoding)
        self.session.ended.connect(self._on_ended)
        self._show_state(IDLE)
        self._refresh()

    def _build(self) -> None:
        self.banner = lock_banner()
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self._settings_area())
        self.splitter.addWidget(self._run_area())
        self.splitter.setStretchFactor(0, 1)  # the settings take what the buttons and bars leave
        self.splitter.setStretchFactor(1, 0)
        self.content = QWidget()
        column = QVBoxLayout(self.content)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.banner)
        column.addWidget(self.splitter, 1)
        self.content.hide()  # until activate(): a hidden picker loads no preview
        layout = QVBoxLayout(self)
        layout.addWidget(self.content, 1)
        self.start_button.clicked.connect(self.start)
        self.pause_button.clicked.connect(self._toggle_pause)
        self.stop_button.clicked.connect(self.session.stop)
        self.continue_button.clicked.connect(self._continue)
        self.find_lr_button.clicked.connect(self.find_lr)
        self.picker.changed.connect(self._on_dataset_edited)
        self.picker.problem_changed.connect(self._schedule_refresh)
        self.picker.loaded.connect(self._show_plan)
        self.form.config_changed.connect(self._schedule_refresh)
        self.form.config_changed.connect(self._show_plan)
        self.monitor.log_shown.connect(self._make_room_for_log)

    def _settings_area(self) -> QWidget:
        """The settings, scrolling: what a newcomer sets first (the dataset, epochs, batch size, optimizer,
        learning rate), then the dataset's options and preview, then the other hyperparameters."""
        self.picker = DatasetPicker()
        self.form = TrainingForm()
        settings = QWidget()
        column = QVBoxLayout(settings)
        for title, widget in (("Dataset", self.picker), ("Training", self.form),
                              ("Dataset options", self.picker.details), ("More settings", self.form.more)):
            column.addWidget(_title(title))
            column.addWidget(widget)
        column.addStretch()
        self.settings_scroll = QScrollArea()
        self.settings_scroll.setWidgetResizable(True)
        self.settings_scroll.setFrameShape(QFrame.Shape.NoFrame)
        # Every row fits the dock's width (the fields shrink, the preview wraps): a sideways bar would only
        # ever show a few pixels.
        self.settings_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.settings_scroll.setWidget(settings)
        return self.settings_scroll

    def _run_area(self) -> QWidget:
        """The memory estimate, the buttons, the progress and the log."""
        self.memory_label = QLabel()
        self.memory_label.setWordWrap(True)
        self.memory_label.setToolTip("Parameters, gradients and optimizer state in float32, and every block's "
                                     "output kept for the backward pass, at this batch size and precision")
        self.start_button = QPushButton("Start")
        self.pause_button = QPushButton("Pause")
        self.stop_button = QPushButton("Stop")
        self.continue_button = QPushButton("Continue")
        self.find_lr_button = QPushButton("Find learning rate…")
        buttons = QHBoxLayout()
        for button in (self.start_button, self.pause_button, self.stop_button, self.continue_button,
                       self.find_lr_button):
            buttons.addWidget(button)
        buttons.addStretch()
        self.monitor = RunMonitor()
        self.run_area = QWidget()
        box = QVBoxLayout(self.run_area)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.memory_label)
        box.addLayout(buttons)
        box.addWidget(self.monitor, 1)
        return self.run_area

    def _make_room_for_log(self) -> None:
        """The log has appeared: give it its height from the settings, which need not all show at once."""
        if not self.splitter.isVisible():
            return  # laid out when shown, each part at its size hint
        top, bottom = self.splitter.sizes()
        wanted = self.run_area.sizeHint().height()
        spare = top - self.settings_scroll.minimumSizeHint().height()
        grow = max(0, min(wanted - bottom, spare))
        if grow:
            self.splitter.setSizes([top - grow, bottom + grow])

    # -- the open document -------------------------------------------------------------------

    def set_document(self, document: Document) -> None:
        """Show and edit ``document``'s settings; a run under way goes on with the graph it copied."""
        if self.document is not None and self.document is not document:
            self.document.locked_changed.disconnect(self._show_lock)
        if self._watch is not None:
            self._watch.close()
        self.document = document
        document.locked_changed.connect(self._show_lock)
        handlers = dict.fromkeys(GRAPH_EVENTS, self._schedule_refresh)
        self._watch = GraphSubscriptions(document.graph, self, {**handlers, "meta_changed": self._on_meta})
        self.form.set_document(document)
        self.picker.set_base_dir(document.path.parent if document.path is not None else None)
        self.picker.set_graph(document.graph)
        self._load_dataset()
        self._show_lock(document.locked_reason)
        self._refresh()

    def _on_meta(self, key: str) -> None:
        if key == "dataset":
            self._load_dataset()
        self._schedule_refresh()

    def _load_dataset(self) -> None:
        if self.document is None:
            return
        try:
            config = DatasetConfig.from_json(self.document.graph.meta.get("dataset", {}))
        except DataConfigError as exc:
            self.monitor.log_line(f"The project's dataset cannot be read ({exc}); showing the default.")
            config = DatasetConfig()
        self.picker.set_dataset_config(config)

    def _on_dataset_edited(self, config: DatasetConfig | None) -> None:
        if config is None or self.document is None:
            return  # the picker says why; the project keeps the last dataset that made sense
        try:
            self.document.set_meta("dataset", config.to_json())
        except GraphError as exc:  # locked while a run trains
            self.monitor.log_line(str(exc))
            self._load_dataset()

    def _show_lock(self, reason: str | None) -> None:
        self.banner.setText(reason or "")
        self.banner.setVisible(reason is not None)

    # -- what Start needs ---------------------------------------------------------------------

    def start_problem(self) -> str | None:
        """Why Start is disabled, or None."""
        if self.document is None:
            return "No project is open."
        if self.session.active:
            return "A run is under way: stop it first."
        if (problem := self.form.problem()) is not None:
            return problem
        errors = self.document.graph.errors()
        if errors:
            node, message = errors[0]
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            return f"The graph has errors: {f'{node}: ' if node else ''}{message}{more}"
        if (problem := self.picker.problem()) is not None:
            return problem
        if self.picker.dataset_config() is None:
            return "Choose a dataset."
        return None

    def _schedule_refresh(self, *_args: object) -> None:
        self._refresh_timer.start()

    def _refresh(self) -> None:
        problem = self.start_problem()
        self.start_button.setEnabled(problem is None)
        self.start_button.setToolTip(problem or "Train the network on the dataset with these settings")
        self.find_lr_button.setEnabled(problem is None)
        self.find_lr_button.setToolTip(problem or "A short run at a growing learning rate suggests one; "
                                                  "nothing is saved")
        self._show_memory()

    def _show_plan(self) -> None:
        """Between runs, the bars show the run these settings make (the last run's end, until an edit)."""
        if self.session.active:
            return
        config = self.form.config()
        train = self.picker.train_count()
        steps = None if train is None else steps_per_epoch(train, config.batch_size)
        self.monitor.show_plan(config.epochs, steps)

    def _show_memory(self) -> None:
        if self.document is None:
            return
        text = f"Memory: {estimate_memory(self.document.graph, self.form.config()).text()}"
        peak = self.monitor.peak_text()
        self.memory_label.setText(f"{text} · {peak}" if peak else text)

    # -- Start, Pause, Resume, Stop, Continue -------------------------------------------------------

    def start(self) -> bool:
        """Start a new run (the Start button); False, with the reason shown, when it cannot."""
        problem = self.start_problem()
        dataset = self.picker.dataset_config()
        if problem is not None or self.document is None or dataset is None:
            self.monitor.log_line(f"Cannot start: {problem}")
            return False
        config = self.form.config()
        self.monitor.begin(f"Starting {self.document.graph.name} on {dataset.name}…")
        try:
            root = self.session.start(self.document, dataset, config)
        except Exception as exc:  # nothing may reach the user as a traceback
            self._on_ended("failed", f"{type(exc).__name__}: {exc}")
            return False
        where = "beside the project" if self.document.path is not None else "in the user data folder (the " \
            "project is not saved yet)"
        self.monitor.log_line(f"Runs are kept {where}: {root / 'runs'}")
        return True

    def resume_run(self, run_dir: str | Path, epochs: int | None = None) -> bool:
        """Go on with the stopped run in ``run_dir`` from its last checkpoint."""
        if self.session.active:
            self.monitor.log_line("Cannot continue: a run is under way.")
            return False
        self.monitor.begin(f"Continuing the run in {run_dir}…")
        try:
            self.session.resume_run(run_dir, self.document, epochs)
        except Exception as exc:
            self._on_ended("failed", f"{type(exc).__name__}: {exc}")
            return False
        return True

    def find_lr(self) -> QDialog | None:
        """Open the learning-rate finder on these settings; None, with the reason logged, when it cannot."""
        problem = self.start_problem()
        dataset = self.picker.dataset_config()
        if problem is not None or self.document is None or dataset is None:
            self.monitor.log_line(f"Cannot find a learning rate: {problem}")
            return None
        from designer.ui.training.lr_find_dialog import LrFindDialog  # pyqtgraph: loaded when first used

        base_dir = self.document.path.parent if self.document.path is not None else None
        dialog = LrFindDialog(self.document.graph, dataset, self.form.config(), base_dir=base_dir, parent=self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.used.connect(self._use_lr)
        dialog.open()
        return dialog

    def _use_lr(self, lr: float) -> None:
        from designer.ui.training.lr_find_dialog import set_learning_rate

        if self.document is None:
            return
        try:
            value = set_learning_rate(self.document, lr)
        except GraphError as exc:  # a min_lr above it, or a run started meanwhile
            self.monitor.log_line(f"Cannot use the learning rate {lr:.3g}: {exc}")
            return
        self.monitor.log_line(f"Learning rate set to {value:g} (Edit ▸ Undo goes back).")

    def _continue(self) -> None:
        if self.last_stopped is not None:
            self.resume_run(self.last_stopped)

    def _toggle_pause(self) -> None:
        if self.session.state == PAUSED:
            self.session.resume()
        else:
            self.session.pause()

    def shutdown(self) -> None:
        """Stop a run and wait for its checkpoint, and for the picker's threads (closing the window)."""
        self._warm_up_timer.stop()
        self.session.shutdown()
        self.picker.shutdown()
        self._device_probe.shutdown()
        self._warm_up.shutdown()

    # -- warming up ---------------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self.warm_up_done and not self._warm_up.busy:
            self._warm_up_timer.start()

    def _start_warm_up(self) -> None:
        if _warm["done"]:  # another window of this process did: what it imported stays imported
            self.warm_up_done = True
        elif _warm["running"]:  # another window's is on its way: look again soon
            self._warm_up_timer.start()
        elif not self.session.active and not self._warm_up.busy:  # Start imports the same anyway
            _warm["running"] = True
            self._warm_up.start(warm_up)

    def _on_warmed_up(self, *_outcome: object) -> None:
        self.warm_up_done = True  # a failure shows again, with its message, when Start is clicked

    # -- the session -------------------------------------------------------------------------------

    def _on_state_changed(self, state: str) -> None:
        self._show_state(state)
        if state == IDLE:
            self._detect_devices()  # starting a run imported torch anyway
        self._refresh()

    def _show_state(self, state: str) -> None:
        idle = state == IDLE
        if idle:
            self._pausable = True
        self.pause_button.setEnabled(state not in (IDLE, STOPPING) and self._pausable)
        self.pause_button.setText("Resume" if state == PAUSED else "Pause")
        self.stop_button.setEnabled(state not in (IDLE, STOPPING))
        self.continue_button.setEnabled(idle and self.last_stopped is not None)
        for part in (self.form, self.form.more, self.picker, self.picker.details):
            part.setEnabled(idle)

    def _on_run_started(self, record: RunStarted) -> None:
        # The ranks of a data-parallel job cannot wait for each other: stop it and continue later instead.
        self._pausable = record.processes == 1
        self.pause_button.setEnabled(self._pausable)
        self.pause_button.setToolTip("" if self._pausable else "A job of several processes cannot pause; "
                                     "Stop saves it, Continue goes on")
        config = self.form.config()
        self.run_started.emit(record.run_id, f"{record.run_id} (lr {config.lr:g}, batch {config.batch_size})")

    def _on_records(self, run_id: str, items: list[Record]) -> None:
        peak = self.monitor.peak_memory
        self.monitor.add_records(items)
        stats = [record for record in items if isinstance(record, NodeStats)]
        if stats:
            self.node_stats.emit(stats[-1].stats)
        for record in items:
            if isinstance(record, RunEnded):
                self.last_stopped = self.session.run_dir if record.status == "stopped" else None
        if run_id:
            self.records.emit(run_id, items)
        if self.monitor.peak_memory != peak:  # the estimate stands while a run trains; only the peak moves
            self._show_memory()

    def _on_ended(self, status: str, message: str) -> None:
        self.monitor.ended(status, message)
        if status == "finished":
            self.last_stopped = None  # a stopped run is remembered from its RunEnded record
        self.continue_button.setEnabled(self.last_stopped is not None and not self.session.active)
        if self.last_stopped is not None:
            self.continue_button.setToolTip(f"Go on with {self.last_stopped.name} from its checkpoint")
        self.run_ended.emit(status, message)

    # -- devices -----------------------------------------------------------------------------------

    def activate(self) -> None:
        """The user looks at the panel: show its content (the picker starts its preview), list devices."""
        self.content.show()
        self._detect_devices()

    def dock_visibility_changed(self, visible: bool) -> None:
        """For ``QDockWidget.visibilityChanged``: activate when the dock's tab first comes to the front."""
        if visible and self.content.isHidden():
            self.activate()

    def _detect_devices(self) -> None:
        if self.devices is not None or self._device_probe.busy:
            return
        self._device_probe.start(probe_devices)

    def _on_devices(self, devices: list[Any]) -> None:
        self.devices = devices
        self.form.set_devices(devices)


def steps_per_epoch(samples: int, batch_size: int) -> int:
    """Batches in an epoch of ``samples``, as the trainer counts them: a last batch of one sample is left out
    (BatchNorm cannot train on it), as ``designer.training.run_data.TrainingData`` does."""
    drop_last = samples > batch_size and samples % batch_size == 1
    return samples // batch_size if drop_last else -(-samples // batch_size)


def _title(text: str) -> QLabel:
    return QLabel(f"<b>{text}</b>")
