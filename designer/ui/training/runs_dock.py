"""The window's Runs and Evaluation tabs, and what a run in the list leads to.

:class:`RunsController` lists the open project's runs (where the training panel
puts them), overlays the selected runs' curves on the plots, resumes a stopped
run in the training panel, evaluates a run's network in the Evaluation tab,
opens predict dialogs, and exports a trained network. It only connects widgets
that already exist; none of them imports torch until a run is evaluated,
predicted or exported.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt

from designer.training.runs import RunInfo
from designer.ui.training.evaluation_panel import EvaluationPanel
from designer.ui.training.predict_dialog import PredictDialog
from designer.ui.training.runs_panel import RunsPanel
from designer.ui.training.session import runs_root

if TYPE_CHECKING:
    from designer.ui.main_window import MainWindow


class RunsController(QObject):
    """Owns the Runs and Evaluation docks of ``window`` and answers the runs list's requests."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.panel = RunsPanel()
        self.evaluation = EvaluationPanel()
        bottom = Qt.DockWidgetArea.BottomDockWidgetArea
        self.runs_dock = window.add_dock("Runs", "runs", self.panel, bottom)
        self.evaluation_dock = window.add_dock("Evaluation", "evaluation", self.evaluation, bottom)
        for dock in (self.runs_dock, self.evaluation_dock):
            window.tabifyDockWidget(window.plots_dock, dock)
            window.docks.append(dock)
        self.predict_dialogs: list[PredictDialog] = []
        self._overlaid: set[str] = set()  # finished runs drawn on the plots because they are selected
        self._live: str | None = None
        panel, training = self.panel, window.training_panel
        panel.selection_changed.connect(self.overlay)
        panel.resume_requested.connect(self.resume)
        panel.evaluate_requested.connect(self.evaluate)
        panel.predict_requested.connect(self.predict)
        panel.export_requested.connect(self.export)
        training.run_started.connect(self._on_run_started)
        training.run_ended.connect(self._on_run_ended)

    def follow(self) -> None:
        """List the open document's runs (call when the document or its file changes)."""
        document = self.window.document
        self.panel.set_root(runs_root(document.path), document.graph.name)

    # -- requests from the list -------------------------------------------------------------

    def overlay(self, runs: list[RunInfo]) -> None:
        """Draw the selected runs' curves over the plots, and take away those no longer selected."""
        from designer.ui.training.plot_records import MetricsError, read_metrics

        plots = self.window.plots
        wanted = {run.run_id: run for run in runs if run.run_id != self._live}
        for run_id in self._overlaid - set(wanted):
            plots.plots.remove_run(run_id)
        self._overlaid &= set(wanted)
        problems = []
        for run_id, run in wanted.items():
            if run_id in self._overlaid:
                continue
            try:
                records = read_metrics(run.path / "metrics.jsonl")
            except (MetricsError, OSError) as exc:
                problems.append(str(exc))
                continue
            plots.plots.load_run(run_id, run_id, records)
            self._overlaid.add(run_id)
        if problems:
            self.window.statusBar().showMessage(f"Cannot draw a run: {problems[0]}", 10_000)
        if wanted:
            self.window.plots_dock.raise_()

    def resume(self, run_dir: Path) -> None:
        self.window.training_dock.raise_()
        self.window.training_panel.resume_run(run_dir)

    def evaluate(self, checkpoint: Path) -> None:
        self.evaluation_dock.raise_()
        self.evaluation.evaluate(checkpoint)

    def predict(self, checkpoint: Path) -> PredictDialog:
        dialog = PredictDialog(checkpoint, self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.destroyed.connect(lambda: self._forget(dialog))
        self.predict_dialogs.append(dialog)
        dialog.show()
        return dialog

    def _forget(self, dialog: PredictDialog) -> None:
        if dialog in self.predict_dialogs:
            self.predict_dialogs.remove(dialog)

    def export(self, checkpoint: Path) -> bool:
        from designer.ui.export_commands import export_trained

        return export_trained(self.window, checkpoint)

    # -- the training panel's runs --------------------------------------------------------------

    def _on_run_started(self, run_id: str, label: str) -> None:
        self._live = run_id
        if run_id in self._overlaid:  # resumed while drawn from its file: the live records take over
            self.window.plots.plots.remove_run(run_id)
            self._overlaid.discard(run_id)
        self.panel.refresh()
        session = self.window.training_panel.session
        self.panel.set_active_run(session.run_dir)

    def _on_run_ended(self, status: str, message: str) -> None:
        self._live = None
        self.panel.set_active_run(None)
        self.panel.refresh()

    def shutdown(self) -> None:
        """For closing the window: let evaluations and predictions still running end first."""
        self.evaluation.shutdown()
        for dialog in list(self.predict_dialogs):
            dialog.shutdown()
