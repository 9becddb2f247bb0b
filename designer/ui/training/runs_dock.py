"""The window's Runs and Evaluation tabs, and what a run in the list leads to.

:class:`RunsController` lists the open project's runs (where the training panel
puts them), overlays the selected runs' curves on the plots, resumes a stopped
run in the training panel, evaluates a run's network in the Evaluation tab,
opens predict dialogs, and exports a trained network. It only connects widgets
that already exist; none of them imports torch until a run is evaluated,
predicted or exported. It is given what it drives (the training panel, the
plots, the prompts, a way to add a tab beside the plots), never the window.

Selecting runs draws them over the plots without switching tabs: the Runs tab
stays in front, with its Evaluate, Predict and Export buttons under the pointer.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QDockWidget, QWidget

from designer.training.runs import RunInfo
from designer.ui.actions import Prompts
from designer.ui.document import Document
from designer.ui.training.evaluation_panel import EvaluationPanel
from designer.ui.training.panel import TrainingPanel
from designer.ui.training.plots_host import PlotsHost
from designer.ui.training.predict_dialog import PredictDialog
from designer.ui.training.runs_panel import RunsPanel
from designer.ui.training.session import runs_root

AddTab = Callable[[str, str, QWidget], QDockWidget]  # (title, name, widget): a dock tabbed with the plots


class RunsController(QObject):
    """Owns the Runs and Evaluation tabs and answers the runs list's requests."""

    training_wanted = Signal()  # a run resumes in the training panel: show it

    def __init__(self, training: TrainingPanel, plots: PlotsHost, prompts: Prompts, add_tab: AddTab,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.training, self.plots, self.prompts = training, plots, prompts
        self.document: Document | None = None
        self.panel = RunsPanel()
        self.evaluation = EvaluationPanel()
        self.runs_dock = add_tab("Runs", "runs", self.panel)
        self.evaluation_dock = add_tab("Evaluation", "evaluation", self.evaluation)
        self.predict_dialogs: list[PredictDialog] = []
        self._overlaid: set[str] = set()  # finished runs drawn on the plots because they are selected
        self._live: str | None = None
        panel = self.panel
        panel.selection_changed.connect(self.overlay)
        panel.resume_requested.connect(self.resume)
        panel.evaluate_requested.connect(self.evaluate)
        panel.predict_requested.connect(self.predict)
        panel.export_requested.connect(self.export)
        training.run_started.connect(self._on_run_started)
        training.run_ended.connect(self._on_run_ended)

    def follow(self, document: Document) -> None:
        """List ``document``'s runs (call when the open document or its file changes)."""
        self.document = document
        self.panel.set_root(runs_root(document.path), document.graph.name)

    # -- requests from the list -------------------------------------------------------------

    def overlay(self, runs: list[RunInfo]) -> None:
        """Draw the selected runs' curves over the plots, and take away those no longer selected."""
        from designer.training.records import MetricsError
        from designer.ui.training.plot_records import read_metrics

        plots = self.plots
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
            plots.plots.load_run(run_id, self._name(run_id), records)
            self._overlaid.add(run_id)
        if problems:
            self.prompts.show_status(f"Cannot draw a run: {problems[0]}")

    def resume(self, run_dir: Path) -> None:
        self.training_wanted.emit()
        self.training.resume_run(run_dir)

    def evaluate(self, checkpoint: Path) -> None:
        self.evaluation_dock.raise_()
        self.evaluation.evaluate(checkpoint)

    def predict(self, checkpoint: Path) -> PredictDialog:
        dialog = PredictDialog(checkpoint, self.prompts.dialog_parent())
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

        if self.document is None:
            return False
        return export_trained(self.document, self.prompts, checkpoint)

    # -- the training panel's runs --------------------------------------------------------------

    def _on_run_started(self, run_id: str, label: str) -> None:
        self._live = run_id
        if run_id in self._overlaid:  # resumed while drawn from its file: the live records take over
            self.plots.plots.remove_run(run_id)
            self._overlaid.discard(run_id)
        self.panel.refresh()
        self.plots.plots.set_label(run_id, self._name(run_id))  # the legend says what the list says
        session = self.training.session
        self.panel.set_active_run(session.run_dir)

    def _name(self, run_id: str) -> str:
        """The list's name for a run ("lenet5 · lr 0.05"), or its id while the list does not show it."""
        try:
            return self.panel.label(run_id)
        except ValueError:
            return run_id

    def _on_run_ended(self, status: str, message: str) -> None:
        self._live = None
        self.panel.set_active_run(None)
        self.panel.refresh()

    def shutdown(self) -> None:
        """For closing the window: let evaluations and predictions still running end first."""
        self.evaluation.shutdown()
        for dialog in list(self.predict_dialogs):
            dialog.shutdown()
