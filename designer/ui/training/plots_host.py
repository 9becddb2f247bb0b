"""The Plots dock's content: the live :class:`TrainingPlots`, made when first needed.

pyqtgraph costs ~0.3 s to import, so the window opens with a line of text here
and the plots are built the first time the dock comes to the front or records arrive.
Records are drawn at most ten times a second, in an event-loop turn of their own
(the next one, when the last drawing is 100 ms old): an update of the three plots
costs a few ms of the GUI thread, which on a small machine is taken from
training (benchmarks/README.md, "GUI while training"), and curves need no more.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QElapsedTimer, Qt, QTimer
from PySide6.QtWidgets import QApplication, QLabel, QVBoxLayout, QWidget

from designer.training.records import Record

if TYPE_CHECKING:
    from designer.ui.training.plots import TrainingPlots

PLACEHOLDER = "Loss, accuracy and learning rate appear here while a run trains."
DRAW_MS = 100


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
        """Draw ``records`` with the next update, within DRAW_MS."""
        self._pending.setdefault(run_id, []).extend(records)
        if not self._timer.isActive():
            since = self._drawn.elapsed() if self._drawn.isValid() else DRAW_MS
            self._timer.start(max(0, DRAW_MS - since))

    def flush(self) -> None:
        """Draw every record still waiting."""
        self._timer.stop()
        self._drawn.start()
        pending, self._pending = self._pending, {}
        for run_id, records in pending.items():
            self.plots.add_records(run_id, records)

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
