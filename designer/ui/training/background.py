"""Slow calls (list devices, load a preview, download a dataset, evaluate, predict) run off the GUI thread.

A view owns a :class:`TaskRunner` and hands it a function; the function runs on
its own QThread (a :class:`BackgroundTask`), and its outcome reaches the GUI
thread queued, after it has returned: ``succeeded(result)``, ``failed(message)``
(a sentence, never a traceback) or ``cancelled()``; ``progressed(value)`` is
whatever the function reports on the way. Only the newest call's signals are
delivered: a call still running when a newer one starts finishes unseen.

A thread cannot be interrupted, only outlived: every task stays referenced here
until its thread has ended, so dropping a runner or closing the view that owns
it never destroys a running thread (that would take the process down).
:meth:`TaskRunner.cancel` only sets a flag that the function checks through
:meth:`BackgroundTask.check_cancelled`; :meth:`TaskRunner.shutdown` is for
closing the window: cancel, deliver nothing more, wait for the threads.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from designer.ui.messages import user_message

SUCCEEDED, FAILED, CANCELLED = "succeeded", "failed", "cancelled"
NICE = 10  # added to a training thread's nice value on Linux, as `nice -n 10` would
MAX_NICE = 19


class Cancelled(Exception):
    """Raised inside a task's function when the task was asked to stop."""


class BackgroundTask(QThread):
    """Runs ``work(task)`` once on its thread; emits ``outcome((task, kind, value))`` from there, then ends.

    ``work`` receives the task to call :meth:`check_cancelled` between steps and
    :meth:`report` with its progress.
    """

    outcome = Signal(object)
    progress = Signal(object)

    def __init__(self, work: Callable[[BackgroundTask], Any]) -> None:
        super().__init__()
        self._work = work
        self._cancel = threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancel_requested(self) -> bool:
        return self._cancel.is_set()

    def check_cancelled(self) -> None:
        """Called by the function between steps: raises Cancelled once :meth:`cancel` was called."""
        if self._cancel.is_set():
            raise Cancelled

    def report(self, value: object) -> None:
        """Called by the function: ``value`` reaches the runner's ``progressed`` (if still the newest)."""
        self.progress.emit((self, value))

    def run(self) -> None:
        try:
            result = self._work(self)
        except Cancelled:
            self.outcome.emit((self, CANCELLED, None))
        except Exception as exc:  # every fault reaches the view as a message; none may end the thread silently
            self.outcome.emit((self, FAILED, user_message(exc)))
        else:
            self.outcome.emit((self, SUCCEEDED, result))


def run_in_background() -> None:
    """Lower the priority of the calling thread, and of the threads torch starts from it, below the GUI's.

    Training keeps every core busy. At equal priority the GUI thread, waking for
    a repaint or a click, queues behind torch's threads for its share of a core;
    below it, training gets what the window leaves, which is nearly everything
    (benchmarks/README.md, "GUI while training"). On Linux a thread has its own
    nice value and the threads it starts inherit it: torch's OpenMP pool, made on
    the first parallel operation, does. Elsewhere Qt lowers this thread only.
    """
    if sys.platform.startswith("linux"):
        thread = threading.get_native_id()
        with contextlib.suppress(OSError):  # a sandbox may forbid it: training runs as before
            nice = min(MAX_NICE, os.getpriority(os.PRIO_PROCESS, thread) + NICE)
            os.setpriority(os.PRIO_PROCESS, thread, nice)
    else:
        QThread.currentThread().setPriority(QThread.Priority.LowPriority)


class _Reaper(QObject):
    """Holds every task until its thread has ended, whether or not its runner or view still exists."""

    def __init__(self) -> None:
        super().__init__()
        self.alive: set[BackgroundTask] = set()

    def keep(self, task: BackgroundTask) -> None:
        self.alive.add(task)
        task.finished.connect(self._on_finished)  # queued: this object lives on the GUI thread

    @Slot()
    def _on_finished(self) -> None:
        task = self.sender()
        assert isinstance(task, BackgroundTask)
        task.wait()  # it has emitted its last signal; its thread is ending now
        self.alive.discard(task)
        task.deleteLater()  # not deleted here: Qt is still delivering this task's signal


_reaper: _Reaper | None = None


def _keep(task: BackgroundTask) -> None:
    global _reaper
    if _reaper is None:  # made on first use, so on the GUI thread that starts tasks
        _reaper = _Reaper()
        atexit.register(_outlive_tasks)
    _reaper.keep(task)


def _outlive_tasks() -> None:
    """At exit, wait for the threads still running (asked to stop first): Python must not be torn
    down under a thread that is still running Python code (a warm-up, a preview)."""
    if _reaper is not None:
        for task in list(_reaper.alive):
            task.cancel()
            task.wait()


def running_tasks() -> int:
    """How many tasks, of every runner, have not ended yet (for tests)."""
    return 0 if _reaper is None else len(_reaper.alive)


class TaskRunner(QObject):
    """Runs calls on their own threads for one view; only the newest call's signals are delivered."""

    succeeded = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    progressed = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tasks: list[BackgroundTask] = []
        self._current: BackgroundTask | None = None

    @property
    def busy(self) -> bool:
        """Whether the newest call is still running (its outcome not delivered yet)."""
        return self._current is not None

    @property
    def pending(self) -> int:
        """How many of the calls this runner started have not returned yet, outdated ones included."""
        return len(self._tasks)

    @property
    def cancel_requested(self) -> bool:
        """Whether the newest call, still running, was asked to stop."""
        return self._current is not None and self._current.cancel_requested

    def start(self, work: Callable[[BackgroundTask], Any]) -> None:
        """Run ``work(task)`` on a new thread; a call still running is not stopped, only no longer heard."""
        task = BackgroundTask(work)
        _keep(task)
        self._tasks.append(task)
        self._current = task
        task.outcome.connect(self._on_outcome)  # queued to the GUI thread, where this object lives
        task.progress.connect(self._on_progress)
        task.start()

    def cancel(self) -> None:
        """Ask the newest call to stop; it ends with ``cancelled()`` if its function checks the flag."""
        if self._current is not None:
            self._current.cancel()

    def shutdown(self, ms: int | None = None) -> bool:
        """Cancel every call, deliver nothing more, wait ``ms`` (None: until they end); False on time-out."""
        self._current = None
        for task in self._tasks:
            task.cancel()
        return all(task.wait() if ms is None else task.wait(ms) for task in list(self._tasks))

    @Slot(object)
    def _on_progress(self, progress: tuple[BackgroundTask, object]) -> None:
        task, value = progress
        if task is self._current:
            self.progressed.emit(value)

    @Slot(object)
    def _on_outcome(self, outcome: tuple[BackgroundTask, str, object]) -> None:
        task, kind, value = outcome
        if task in self._tasks:
            self._tasks.remove(task)
        if task is not self._current:
            return
        self._current = None
        if kind == SUCCEEDED:
            self.succeeded.emit(value)
        elif kind == FAILED:
            self.failed.emit(str(value))
        else:
            self.cancelled.emit()
