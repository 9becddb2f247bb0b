"""Work the dataset picker does off the GUI thread: loading a preview, downloading a dataset.

Each task is one QThread running one function. Its outcome comes back as a signal,
delivered on the GUI thread: ``succeeded(result)``, ``failed(message)`` (a sentence,
never a traceback) or ``cancelled()``. A task stays referenced here until its thread
has ended, so dropping a task (or closing the widget that started it) never
destroys a running thread; :meth:`BackgroundTask.cancel` only sets a flag that the
function checks through :meth:`BackgroundTask.check_cancelled`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QThread, QTimer, Signal, Slot

from designer.graph.errors import GraphError

_RUNNING: set[BackgroundTask] = set()


class Cancelled(Exception):
    """Raised inside a task's function when the task was asked to stop."""


class BackgroundTask(QThread):
    """One function on a worker thread; at most one outcome signal is emitted, then the thread ends."""

    succeeded = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    progressed = Signal(object)  # whatever the function reports, e.g. a download's fraction and text

    def __init__(self, work: Callable[[BackgroundTask], Any]) -> None:
        super().__init__()
        self._work = work
        self._cancel = threading.Event()
        self.finished.connect(self._forget)

    def begin(self) -> None:
        _RUNNING.add(self)
        self.start()

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancel_requested(self) -> bool:
        return self._cancel.is_set()

    def check_cancelled(self) -> None:
        """Called by the function between steps: raises Cancelled once :meth:`cancel` was called."""
        if self._cancel.is_set():
            raise Cancelled

    def run(self) -> None:
        try:
            result = self._work(self)
        except Cancelled:
            self.cancelled.emit()
        except GraphError as exc:  # the data layer's errors are sentences for the user
            self.failed.emit(str(exc))
        except MemoryError:
            self.failed.emit("not enough memory to load this dataset")
        except Exception as exc:  # any fault reaches the widget as text; none may end the thread silently
            self.failed.emit(f"{type(exc).__name__}: {exc}".rstrip(": "))
        else:
            self.succeeded.emit(result)

    @Slot()
    def _forget(self) -> None:
        # Not dropped here: the last reference must not go while Qt is inside this object's own slot.
        QTimer.singleShot(0, self._release)

    def _release(self) -> None:
        _RUNNING.discard(self)


def running_tasks() -> int:
    """How many tasks have not ended yet (for tests and shutdown)."""
    return len(_RUNNING)
