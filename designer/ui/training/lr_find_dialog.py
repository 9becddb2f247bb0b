"""The "Find learning rate" dialog: the range test on a worker thread, its curve, and "Use".

:class:`LrFindDialog` runs :func:`designer.training.lr_find.find_lr` on a
:class:`TaskRunner` thread (at low priority, like training), draws the smoothed
loss against the rate on a log axis as the steps come, then marks the
suggestion (the minimum ÷ 10) and the steepest descent. "Use" emits
``used(lr)``; :func:`set_learning_rate` makes that one undoable edit of the
project's ``training.lr``, through the same ``Document.set_meta`` the training
form edits with. Closing the dialog while the finder runs cancels it after the
current step. The finder writes nothing and trains its own copy of the graph.

pyqtgraph costs ~0.3 s to import: the panel imports this module when the button is clicked.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPushButton, QVBoxLayout, QWidget

from designer.data.config import DatasetConfig
from designer.graph.graph import Graph
from designer.training.config import TrainingConfig
from designer.training.divergence import number_text
from designer.ui import theme
from designer.ui.document import Document
from designer.ui.training.background import BackgroundTask, TaskRunner, run_in_background

DEFAULT_STEPS = 100  # designer.training.lr_find.DEFAULT_STEPS, without importing torch here


def set_learning_rate(document: Document, lr: float) -> float:
    """Set the project's training.lr to ``lr`` (3 significant digits) as one undoable edit; returns it.

    A ConfigError (a min_lr above the new rate, say) or DocumentLocked says why it cannot.
    """
    value = float(f"{lr:.3g}")
    section = dict(document.graph.meta.get("training", {}))
    section["lr"] = value
    document.set_meta("training", TrainingConfig.from_json(section).to_json())
    return value


class LrFindDialog(QDialog):
    """Finds a learning rate for ``graph`` on ``dataset`` with ``config``; ``used(lr)`` when it is taken."""

    used = Signal(float)

    def __init__(self, graph: Graph, dataset: DatasetConfig, config: TrainingConfig, *,
                 base_dir: Path | None = None, steps: int = DEFAULT_STEPS,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Find learning rate")
        self.suggestion: float | None = None
        self.finding: Any = None  # the LrFinding, once found
        self._xs: list[float] = []
        self._ys: list[float] = []
        self._build()
        self._runner = TaskRunner(self)
        self._runner.progressed.connect(self._on_step)
        self._runner.succeeded.connect(self._on_found)
        self._runner.failed.connect(self._on_failed)
        graph = graph.copy()  # the editor may change the graph meanwhile

        def work(task: BackgroundTask) -> Any:
            from designer.training.lr_find import find_lr

            run_in_background()

            def on_step(step: int, lr: float, loss: float) -> None:
                task.check_cancelled()
                task.report((step, lr, loss))

            return find_lr(graph, dataset, config, steps=steps, base_dir=base_dir, on_step=on_step)

        self.status.setText(f"Training {steps} steps at rates from 1e-7 to 10 ({config.optimizer}, batch "
                            f"{config.batch_size}); nothing is saved…")
        self._runner.start(work)

    def _build(self) -> None:
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        colours = theme.current()
        self.plot: Any = pg.PlotWidget(background=colours.plot_background)
        self.plot.setLogMode(x=True, y=False)
        self.plot.setLabel("bottom", "Learning rate")
        self.plot.setLabel("left", "Loss (smoothed)")
        self.curve = self.plot.plot([], [], pen=pg.mkPen(colours.run_colours[0], width=2))
        self.suggestion_line = self._marker(Qt.PenStyle.SolidLine, "suggested")
        self.steepest_line = self._marker(Qt.PenStyle.DotLine, "steepest")
        self.use_button = QPushButton("Use")
        self.use_button.setEnabled(False)
        self.use_button.setToolTip("Set training.lr to the suggested rate (undoable)")
        self.use_button.clicked.connect(self._use)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.buttons.addButton(self.use_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.buttons)
        self.resize(560, 420)

    def _marker(self, style: Qt.PenStyle, label: str) -> Any:
        line = pg.InfiniteLine(angle=90, movable=False, label=label, labelOpts={"position": 0.85},
                               pen=pg.mkPen(theme.current().plot_foreground, width=1.5, style=style))
        line.setVisible(False)
        self.plot.addItem(line, ignoreBounds=True)
        return line

    @property
    def running(self) -> bool:
        return self._runner.busy

    # -- the finder's outcome -------------------------------------------------------------

    def _on_step(self, point: tuple[int, float, float]) -> None:
        _step, lr, loss = point
        self._xs.append(lr)
        self._ys.append(loss)
        self.curve.setData(self._xs, self._ys)

    def _on_found(self, finding: Any) -> None:
        self.finding, self.suggestion = finding, finding.suggestion
        if finding.lrs:
            self.curve.setData(list(finding.lrs), list(finding.smoothed))
        for line, value in ((self.suggestion_line, finding.suggestion), (self.steepest_line, finding.steepest)):
            line.setVisible(value is not None)
            if value is not None:
                line.setValue(math.log10(value))  # the axis is in log units
        self.status.setText(_summary(finding))
        if self.suggestion is not None:
            self.use_button.setText(f"Use {number_text(self.suggestion)}")
            self.use_button.setEnabled(True)

    def _on_failed(self, message: str) -> None:
        self.status.setText(f"The learning-rate finder failed: {message}")
        theme.paint_text(self.status, theme.ERROR_TEXT)

    def _use(self) -> None:
        if self.suggestion is not None:
            self.used.emit(self.suggestion)
            self.accept()

    def done(self, result: int) -> None:
        self._runner.cancel()  # closed while it runs: stop after this step; its outcome goes unheard
        super().done(result)


def _summary(finding: Any) -> str:
    ended = f"; stopped early: {finding.stopped}" if finding.stopped else ""
    steps = f"{len(finding.lrs)} steps in {finding.seconds:.1f} s{ended}."
    if finding.suggestion is None:
        return f"{steps} The loss never fell, so there is no suggestion: check the data and the network."
    steepest = f"; the loss falls fastest at {number_text(finding.steepest)}" if finding.steepest else ""
    return (f"{steps} Suggested learning rate: {number_text(finding.suggestion)} (a tenth of the rate at the "
            f"lowest loss){steepest}.")
