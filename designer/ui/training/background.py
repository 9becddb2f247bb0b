"""One slow call (open a checkpoint, evaluate a network, predict an image) run on its own QThread.

The evaluation and predict views hand their torch work to a :class:`TaskRunner`
so that the GUI thread never waits for it: the outcome reaches the GUI thread
queued, after the call has returned, as ``succeeded(result)`` or
``failed(message)``. A call cannot be cancelled halfway (those calls have no
stop flag), so the runner keeps each thread alive until it ends, drops results
nobody waits for any more, and ``wait`` lets a closing view block until the
calls it started have returned.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from designer.graph.errors import GraphError


def user_message(exc: BaseException) -> str:
    """The engine's own errors are sentences for the user; anything else gets its type named."""
    if isinstance(exc, GraphError):
        return str(exc)
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.filename}: {exc.strerror or exc}"
    return f"{type(exc).__name__}: {exc}".rstrip(": ")


class _Task(QThread):
    """Runs ``call()`` once on its thread and emits ``outcome((task, ok, value))`` from there."""

    outcome = Signal(object)

    def __init__(self, call: Callable[[], Any]) -> None:
        super().__init__()
        self._call = call

    def run(self) -> None:
        try:
            result = self._call()
        except Exception as exc:  # every fault reaches the view as a message; none may end the thread silently
            self.outcome.emit((self, False, user_message(exc)))
        else:
            self.outcome.emit((self, True, result))


class _Reaper(QObject):
    """Holds every running task until its thread has ended, whether or not its view still exists.

    A QThread whose Python object is collected while it runs takes the process
    down; a view closed halfway through an evaluation must not do that.
    """

    def __init__(self) -> None:
        super().__init__()
        self.alive: set[_Task] = set()

    def keep(self, task: _Task) -> None:
        self.alive.add(task)
        task.outcome.connect(self._on_outcome)  # queued: this object lives on the GUI thread

    @Slot(object)
    def _on_outcome(self, outcome: tuple[_Task, bool, object]) -> None:
        task = outcome[0]
        task.wait()  # it has emitted its last signal; its thread is ending now
        self.alive.discard(task)
        task.deleteLater()


_reaper: _Reaper | None = None


def _keep(task: _Task) -> None:
    global _reaper
    if _reaper is None:  # made on first use, so on the GUI thread that starts tasks
        _reaper = _Reaper()
    _reaper.keep(task)


class TaskRunner(QObject):
    """Runs calls on their own threads for one view; only the newest call's outcome is delivered.

    ``succeeded(result)`` or ``failed(message)`` come on the GUI thread after the
    call returned. A call still running when a newer one starts finishes unseen
    (its thread cannot be interrupted, only outlived).
    """

    succeeded = Signal(object)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tasks: list[_Task] = []
        self._current: _Task | None = None

    @property
    def busy(self) -> bool:
        """Whether the newest call is still running."""
        return self._current is not None

    @property
    def pending(self) -> int:
        """How many of the calls this runner started have not returned yet, outdated ones included."""
        return len(self._tasks)

    def start(self, call: Callable[[], Any]) -> None:
        task = _Task(call)
        _keep(task)
        self._tasks.append(task)
        self._current = task
        task.outcome.connect(self._on_outcome)  # queued to the GUI thread, where this object lives
        task.start()

    @Slot(object)
    def _on_outcome(self, outcome: tuple[_Task, bool, object]) -> None:
        task, ok, value = outcome
        if task in self._tasks:
            self._tasks.remove(task)
        if task is not self._current:
            return
        self._current = None
        if ok:
            self.succeeded.emit(value)
        else:
            self.failed.emit(str(value))

    def wait(self, ms: int = 60_000) -> bool:
        """Block until every call this runner started has returned (for closing); False on time-out."""
        self._current = None  # a closing view takes no more results
        return all(task.wait(ms) for task in list(self._tasks))
