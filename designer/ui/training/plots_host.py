"""The Plots dock's content: the live :class:`TrainingPlots`, made when first needed.

pyqtgraph costs ~0.3 s to import, so the window opens with a line of text here
and the plots are built the first time the dock comes to the front or records arrive.
Records are drawn in an event-loop turn of their own, at most ten times a
second, and no more often than keeps the drawing (the curves' update and the
paint that follows, in CPU time) within BUDGET of a core: on a small machine
whatever the window takes is taken from training (benchmarks/README.md, "GUI
while training"). A fast machine draws ten times a second; this one, where an
update costs ~3.5 ms, about six; and a draw that had to lay out axes anew
stretches the wait after it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QElapsedTimer, Qt, QTimer
from PySide6.QtWidgets import QApplication, QLabel, QVBoxLayout, QWidget

from designer.training.records import Record

if TYPE_CHECKING:
    from designer.ui.training.plots import TrainingPlots

PLACEHOLDER = "Loss, accuracy and learning rate appear here while a run trains."
DRAW_MS = 100  # the shortest wait between draws
MAX_DRAW_MS = 500  # the longest: slower than this, curves no longer look live
BUDGET = 0.02  # the share of a core the live drawing may take


def draw_interval(cost_s: float) -> int:
    """Milliseconds between draws that each cost ``cost_s`` seconds of CPU, to stay within BUDGET."""
    return round(min(MAX_DRAW_MS, max(DRAW_MS, 1000 * cost_s / BUDGET)))


class PlotsHost(QWidget):
    """Forwards ``add_records`` and ``set_label`` to the plots, building them on first use."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._plots: TrainingPlots | None = None
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._placeholder = QLabel(PLACEHOLDER)
        self._placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._placeholder.setWordWrap(True)
        self._layout.addWidget(self._placeholder)
        self._pending: dict[str, list[Record]] = {}
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DRAW_MS)
        self._timer.timeout.connect(self.flush)
        self._drawn = QElapsedTimer()  # since the last flush
        self._cost = 0.0  # CPU seconds a draw takes, smoothed over the last few
        self._flush_cost = 0.0
        self._painted = 0.0  # the plots' paint time when the last flush ended

    @property
    def built(self) -> bool:
        return self._plots is not None

    @property
    def plots(self) -> TrainingPlots:
        if self._plots is None:
            from designer.ui.training.plots import TrainingPlots

            before = set(QApplication.topLevelWidgets())
            self._plots = TrainingPlots()
            self._placeholder.hide()
            self._layout.addWidget(self._plots)
            self._adopt(set(QApplication.topLevelWidgets()) - before)
        return self._plots

    def _adopt(self, orphans: set[QWidget]) -> None:
        """pyqtgraph makes its context menus without a parent: give them one, so they go with the plots.

        Otherwise they outlive the window as top-level widgets until Python's cycle
        collector happens to run. Their window flags are kept, so a menu stays a popup.
        """
        for widget in orphans:
            widget.setParent(self, widget.windowFlags())

    def add_records(self, run_id: str, records: Sequence[Record]) -> None:
        """Draw ``records`` with the next draw (paced as the module says)."""
        self._pending.setdefault(run_id, []).extend(records)
        if not self._timer.isActive():
            since = self._drawn.elapsed() if self._drawn.isValid() else MAX_DRAW_MS
            self._timer.start(max(0, self.interval() - since))

    def interval(self) -> int:
        """Milliseconds to wait between draws now, from what the last ones cost."""
        if self._plots is not None and self._drawn.isValid():
            cost = self._flush_cost + self._plots.graphics.paint_seconds - self._painted
            self._cost = 0.5 * self._cost + 0.5 * cost
        return draw_interval(self._cost)

    def flush(self) -> None:
        """Draw every record still waiting."""
        self._timer.stop()
        self._drawn.start()
        pending, self._pending = self._pending, {}
        started = time.thread_time()
        for run_id, records in pending.items():
            self.plots.add_records(run_id, records, spread=True)
        self._flush_cost = time.thread_time() - started
        self._painted = self.plots.graphics.paint_seconds

    def set_label(self, run_id: str, text: str) -> None:
        self.flush()  # a new run: what is waiting belongs to the one before
        self.plots.set_label(run_id, text)

    def dock_visibility_changed(self, visible: bool) -> None:
        """For ``QDockWidget.visibilityChanged``: build the plots when the dock's tab comes to the front.

        (A tabbed dock counts as shown even behind another tab, so ``showEvent`` would
        build them as the window opens.)
        """
        if visible:
            _ = self.plots
