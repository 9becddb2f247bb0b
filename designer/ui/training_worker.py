"""Runs a training job on a QThread and hands its records to the GUI thread in batches.

The loop (:meth:`TrainingJob.records`) runs on a worker thread, data preparation
included, and puts each record into a lock-guarded queue. A timer on the GUI
thread empties the queue at most 10 times a second and emits ``records(list)``:
however fast batches come, the GUI thread handles a bounded number of updates,
and every record arrives, in order; the first batch record is handed over at
once, for the first point of the live plot. ``start``, ``pause``, ``resume`` and
``stop`` only start the thread or flip the run's :class:`Control`, so they
return at once; ``shutdown`` (for closing the window) is the one call that
waits, for the current batch and its checkpoint. The pattern is superqt's
``GeneratorWorker`` with its ``abort_requested``. The worker thread trains at a
lower priority than the GUI thread
(:func:`designer.ui.training.background.run_in_background`).
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QThread, QTimer, Signal, Slot

from designer.data import DatasetConfig
from designer.graph.errors import GraphError
from designer.graph.graph import Graph
from designer.training.config import TrainingConfig
from designer.training.control import Control
from designer.training.distributed import Launch, every_gpu
from designer.training.jobs import TrainingJob, resume_job, start_job
from designer.training.launched import LaunchedJob, LaunchedResult
from designer.training.records import BatchRecord, Record
from designer.training.trainer import RunResult
from designer.ui.training.background import run_in_background

JobFactory = Callable[[Control], TrainingJob | LaunchedJob]
# ≤ 10 deliveries a second, as tqdm refreshes: every delivery repaints the progress bars and the status
# line, and at 30 a second that was a few per cent of a core taken from training (benchmarks/README.md).
DELIVERY_MS = 100
SWITCH_INTERVAL_S = 0.001
DECODING_EVERY_S = 0.1


class RecordQueue:
    """Records on their way from the worker thread to the GUI thread; ``take`` empties it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[Record] = []

    def put(self, record: Record) -> None:
        with self._lock:
            self._items.append(record)

    def take(self) -> list[Record]:
        with self._lock:
            items, self._items = self._items, []
        return items


class _Loop(QObject):
    """Lives on the worker thread: makes the job, runs it into the queue, then says how it ended."""

    began = Signal()
    first_batch = Signal()  # the first batch record is queued: delivered now, not at the next tick
    done = Signal()

    def __init__(self, make_job: JobFactory, control: Control, queue: RecordQueue) -> None:
        super().__init__()
        self._make_job, self._control, self._queue = make_job, control, queue
        self.result: RunResult | LaunchedResult | None = None
        self.error: str | None = None

    @Slot()
    def run(self) -> None:
        run_in_background()
        self.began.emit()
        try:
            if self._control.stop_requested:
                return  # stopped before it began: no run folder is made
            job = self._make_job(self._control)
            waiting = True
            for record in job.records():
                self._queue.put(record)
                if waiting and isinstance(record, BatchRecord):
                    waiting = False
                    self.first_batch.emit()
            self.result = job.result()
        except Exception as exc:  # every fault reaches the GUI as `failed`; none may end the thread silently
            self.error = _message(exc)
        finally:
            self.done.emit()


def _message(exc: Exception) -> str:
    if isinstance(exc, GraphError):  # the engine's own errors are sentences for the user
        return str(exc)
    return f"{type(exc).__name__}: {exc}".rstrip(": ")


class TrainingWorker(QObject):
    """One training run on its own thread, driven and watched from the GUI thread.

    Signals (all delivered on the GUI thread): ``started`` once the thread runs;
    ``records(list)`` with the records made since the last delivery; then either
    ``finished(result)`` (a :class:`RunResult`, or None when stopped before the
    run began) or ``failed(message)``, each after the last ``records`` and after
    the thread has ended. A worker runs once.
    """

    started = Signal()
    records = Signal(list)
    decoding = Signal(int, int)  # images decoded, in all: the first run on an image folder fills its cache
    finished = Signal(object)
    failed = Signal(str)

    def __init__(self, make_job: JobFactory, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.control = Control()
        self._make_job = make_job
        self._queue = RecordQueue()
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)  # a coarse timer may fire up to 5% early
        self._timer.setInterval(DELIVERY_MS)
        self._timer.timeout.connect(self._deliver)
        self._thread: QThread | None = None
        self._loop: _Loop | None = None
        self._ended = False
        self._decoding_said = 0.0

    @classmethod
    def for_graph(cls, graph: Graph, dataset: DatasetConfig, config: TrainingConfig, *, root: str | Path,
                  base_dir: Path | None = None, parent: QObject | None = None,
                  launch: Launch | None = None) -> TrainingWorker:
        """A worker for a new run of ``graph``, copied now: the editor may change it while it trains.

        A data-parallel job (``launch``, or ``training.device`` cuda:all on a machine with several GPUs)
        runs in processes of its own, watched from the worker thread as one run.
        """
        graph = graph.copy()

        worker: TrainingWorker

        def make(control: Control) -> TrainingJob | LaunchedJob:
            processes = launch or every_gpu(config.device)
            if processes is not None:
                return LaunchedJob(graph, dataset, config, processes, root=root, base_dir=base_dir,
                                   control=control)
            return start_job(graph, dataset, config, root=root, base_dir=base_dir, control=control,
                             progress=worker.decoded)

        worker = cls(make, parent)
        return worker

    def decoded(self, done: int, total: int) -> None:
        """Hand the decoding's progress to the GUI thread (from the worker thread), a few times a second."""
        now = time.monotonic()
        if done in (0, total) or now - self._decoding_said >= DECODING_EVERY_S:
            self._decoding_said = now
            self.decoding.emit(done, total)

    @classmethod
    def resuming(cls, run_dir: str | Path, *, epochs: int | None = None,
                 parent: QObject | None = None) -> TrainingWorker:
        """A worker that goes on with the run in ``run_dir`` from its last checkpoint."""
        return cls(lambda control: resume_job(run_dir, epochs=epochs, control=control), parent)

    # -- driven from the GUI thread ------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._thread is not None and not self._ended

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("this worker has run already; make a new one")
        # Python hands the GIL between threads every 5 ms by default: the GUI thread, waking for a
        # repaint or a click, would wait that long for the training thread each time it needs it.
        sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL_S))
        self._thread = QThread()
        self._loop = _Loop(self._make_job, self.control, self._queue)
        self._loop.moveToThread(self._thread)
        self._thread.started.connect(self._loop.run)
        self._loop.began.connect(self._on_began)
        self._loop.first_batch.connect(self._deliver)  # the first point of the live plot, without delay
        self._loop.done.connect(self._on_done)  # queued: emitted on the worker thread
        self._timer.start()
        self._thread.start()

    def pause(self) -> None:
        self.control.pause()

    def resume(self) -> None:
        self.control.resume()

    def stop(self) -> None:
        """Ask the run to stop after the current batch and save a checkpoint; returns at once."""
        self.control.request_stop()

    def shutdown(self) -> None:
        """Stop, wait for the run to save and end, and deliver what is left (for closing the window)."""
        self.control.request_stop()
        if self._thread is not None and not self._ended:
            self._thread.quit()  # the thread's event loop ends as soon as the loop returns
            self._thread.wait()  # the only wait: one batch and a checkpoint, or the data still loading
            self._on_done()
        self._timer.stop()

    # -- on the GUI thread ----------------------------------------------------------------

    @Slot()
    def _on_began(self) -> None:
        self.started.emit()

    @Slot()
    def _deliver(self) -> None:
        items = self._queue.take()
        if items:
            self.records.emit(items)

    @Slot()
    def _on_done(self) -> None:
        if self._ended or self._thread is None or self._loop is None:
            return  # shutdown() got here first
        self._ended = True
        self._timer.stop()
        self._deliver()
        self._thread.quit()
        self._thread.wait()  # run() has returned: this only waits for the thread's event loop to exit
        loop = self._loop
        self._loop = None  # no parent: Python owns it, and the thread that could deleteLater() it has ended
        if loop.error is not None:
            self.failed.emit(loop.error)
        else:
            self.finished.emit(loop.result)

    def thread_finished(self) -> bool:
        """Whether the worker thread has ended."""
        return self._thread is not None and self._thread.isFinished()
