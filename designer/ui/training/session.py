"""The current training run: the worker that runs it, the document it locks, and what it says.

A :class:`TrainingSession` holds at most one :class:`TrainingWorker` at a time.
Starting a run locks the document (edits are refused while the network on
screen is the one training) and unlocks it when the run ends, however it ends.
Records pass through with the run's id, so that plots can tell runs apart.

The worker module imports torch, so it is imported when the first run starts,
not when the window opens.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import QObject, Signal

from designer.training.records import Record, RunEnded, RunStarted
from designer.ui.data_dir import user_data_dir
from designer.ui.document import Document

if TYPE_CHECKING:
    from designer.data.config import DatasetConfig
    from designer.training.config import TrainingConfig
    from designer.training.distributed import Launch
    from designer.ui.training_worker import TrainingWorker

LOCK_REASON = "The graph is locked while training — File ▸ Copy to New Document to keep editing"
IDLE, STARTING, RUNNING, PAUSED, STOPPING = "idle", "starting", "running", "paused", "stopping"
def runs_root(project_path: Path | None) -> Path:
    """Where a project's runs go, as ``<root>/runs/<run id>``: beside the project file, or the data folder."""
    return project_path.parent if project_path is not None else user_data_dir()


class TrainingSession(QObject):
    """Starts, pauses, resumes and stops one run at a time; signals say what it does.

    ``state_changed(state)``: idle, starting, running, paused or stopping.
    ``run_started(record)``: the run's :class:`RunStarted`. ``records(run_id, records)``:
    every record, in order, in the worker's throttled batches. ``ended(status, message)``
    once the worker has ended: finished, stopped or failed (message: why).
    """

    state_changed = Signal(str)
    run_started = Signal(object)
    records = Signal(str, list)
    decoding = Signal(int, int)  # images decoded of all, while a new image folder fills its cache
    ended = Signal(str, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker: TrainingWorker | None = None
        self.document: Document | None = None
        self.run_id = ""
        self.run_dir: Path | None = None
        self._last_status = ""  # of the running run's RunEnded record, once it comes
        self._state = IDLE

    @property
    def state(self) -> str:
        return self._state

    @property
    def active(self) -> bool:
        """Whether a run is under way (starting, training, paused or stopping)."""
        return self._state != IDLE

    # -- starting --------------------------------------------------------------------------

    def start(self, document: Document, dataset: DatasetConfig, config: TrainingConfig,
              launch: Launch | None = None) -> Path:
        """Train the document's graph in a new run; returns the runs root it writes under.

        ``launch`` trains in several processes (``training.device`` cuda:all does so by itself).
        """
        from designer.ui.training_worker import TrainingWorker

        root = runs_root(document.path)
        base_dir = document.path.parent if document.path is not None else None
        self._begin(TrainingWorker.for_graph(document.graph, dataset, config, root=root, base_dir=base_dir,
                                             launch=launch), document)
        return root

    def resume_run(self, run_dir: str | Path, document: Document | None = None,
                   epochs: int | None = None) -> None:
        """Go on with the stopped run in ``run_dir``; ``document`` is locked meanwhile."""
        from designer.ui.training_worker import TrainingWorker

        self._begin(TrainingWorker.resuming(run_dir, epochs=epochs), document)

    def _begin(self, worker: TrainingWorker, document: Document | None) -> None:
        if self.active:
            raise RuntimeError("a run is under way; stop it first")
        if self.worker is not None:
            self.worker.deleteLater()  # the last run's worker: its thread has ended
        self.worker, self.document, self.run_id, self.run_dir = worker, document, "", None
        self._last_status = ""
        worker.records.connect(self._on_records)
        worker.decoding.connect(self.decoding)
        worker.finished.connect(self._on_finished)
        worker.failed.connect(self._on_failed)
        if document is not None:
            document.set_locked(LOCK_REASON)
        self._set_state(STARTING)
        worker.start()

    # -- driving -----------------------------------------------------------------------------

    def pause(self) -> None:
        if self.worker is not None and self._state in (STARTING, RUNNING):
            self.worker.pause()
            self._set_state(PAUSED)

    def resume(self) -> None:
        if self.worker is not None and self._state == PAUSED:
            self.worker.resume()
            self._set_state(RUNNING)

    def stop(self) -> None:
        """Ask the run to stop after this batch and save a checkpoint; ``ended`` follows."""
        if self.worker is not None and self.active:
            self.worker.stop()
            self._set_state(STOPPING)

    def shutdown(self) -> None:
        """Stop and wait for the checkpoint (closing the window); ``ended`` is emitted before it returns."""
        if self.worker is not None and self.active:
            self._set_state(STOPPING)
            self.worker.shutdown()

    # -- what the worker says -------------------------------------------------------------

    def _on_records(self, items: list[Record]) -> None:
        for record in items:
            if isinstance(record, RunEnded):
                self._last_status = record.status
            if isinstance(record, RunStarted):
                self.run_id, self.run_dir = record.run_id, Path(record.run_dir)
                if self._state == STARTING:  # paused while the data loaded: it stays paused
                    self._set_state(RUNNING)
                self.run_started.emit(record)
        self.records.emit(self.run_id, items)

    def _on_finished(self, result: Any) -> None:
        status = "stopped" if result is None else str(result.status)
        self._end(status, "stopped before the run began" if result is None else "")

    def _on_failed(self, message: str) -> None:
        # A diverged run ends in an error too; its last record says which.
        self._end("diverged" if self._last_status == "diverged" else "failed", message)

    def _end(self, status: str, message: str) -> None:
        document, self.document = self.document, None
        if document is not None and shiboken6.isValid(document):  # it may have been closed meanwhile
            document.set_locked(None)
        self._set_state(IDLE)
        self.ended.emit(status, message)

    def _set_state(self, state: str) -> None:
        if state != self._state:
            self._state = state
            self.state_changed.emit(state)
