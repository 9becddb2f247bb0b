"""Stop, pause and resume a run from another thread.

The training loop calls ``check`` between batches: reading two flags costs
nothing, and only a pause takes the lock. A paused loop sleeps on a condition
variable (no busy waiting) until ``resume`` or ``request_stop`` wakes it.
"""

from __future__ import annotations

import threading


class Control:
    """What the editor's Stop, Pause and Resume buttons hold. Safe to call from any thread."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._stop = False
        self._paused = False

    @property
    def stop_requested(self) -> bool:
        return self._stop

    @property
    def paused(self) -> bool:
        return self._paused and not self._stop

    def request_stop(self) -> None:
        """Finish the current batch, save a checkpoint and return; wakes a paused loop."""
        with self._changed:
            self._stop = True
            self._changed.notify_all()

    def pause(self) -> None:
        with self._changed:
            self._paused = True

    def resume(self) -> None:
        with self._changed:
            self._paused = False
            self._changed.notify_all()

    def wait_while_paused(self, timeout: float | None = None) -> bool:
        """Block while paused; True once running again or asked to stop, False on timeout."""
        with self._changed:
            return self._changed.wait_for(lambda: not self._paused or self._stop, timeout)
