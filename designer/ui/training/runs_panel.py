"""The runs list: a project's training runs, newest first, and what can be done with them.

One row per run folder under ``<root>/runs`` (read by
:func:`designer.training.runs.list_runs`, which needs no torch): its name, status,
epochs done, best validation accuracy and start time. Selecting rows emits
``selection_changed(list[RunInfo])`` so that the plots can overlay those runs.
The actions, on the tool bar and the context menu, apply to the selection:
Compare (two runs, in a :class:`RunCompareDialog`), Resume (a stopped or interrupted run),
Evaluate, Predict… and Export… (a run's best checkpoint, else its last) are
signals for the window to act on; Delete asks first and removes the run folders
and nothing else. The run the editor is training (``set_active_run``) cannot be
deleted.
"""

from __future__ import annotations

import html
import shutil
from functools import partial
from pathlib import Path

from PySide6.QtCore import QPoint, Qt, Signal, SignalInstance
from PySide6.QtGui import QAction, QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QMenu,
    QMessageBox,
    QToolBar,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from designer.training.runs import RUNS, RunFolder, RunInfo, list_runs
from designer.ui.training.run_compare import RunCompareDialog

COLUMNS = ("Run", "Status", "Epochs", "Best val. accuracy", "Started")
STATUS_COLOURS = {"finished": "#2e7d32", "stopped": "#b26a00", "failed": "#c62828", "running": "#1565c0",
                  "interrupted": "#b26a00"}
RESUMABLE = ("stopped", "interrupted")


def checkpoint_of(run: RunInfo) -> Path | None:
    """The checkpoint that stands for a run: its best, else its last; None before the first epoch."""
    folder = RunFolder(run.path)
    for path in (folder.best_checkpoint, folder.last_checkpoint):
        if path.is_file():
            return path
    return None


class RunsPanel(QWidget):
    """The runs of one project under a root folder; see the module docstring for the signals."""

    selection_changed = Signal(list)  # list[RunInfo], in list order
    resume_requested = Signal(Path)  # the run folder
    evaluate_requested = Signal(Path)  # a checkpoint
    predict_requested = Signal(Path)  # a checkpoint
    export_requested = Signal(Path)  # a checkpoint
    deleted = Signal(list)  # list[Path]: the run folders removed

    def __init__(self, root: str | Path | None = None, project: str | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.root: Path | None = None
        self.project: str | None = None
        self.active_run: Path | None = None
        self.compare_dialog: RunCompareDialog | None = None
        self._runs: list[RunInfo] = []
        self.tree = _tree()
        self.tree.itemSelectionChanged.connect(self._on_selection_changed)
        self.tree.customContextMenuRequested.connect(self._show_menu)
        self.actions_by_name = self._make_actions()
        self.toolbar = QToolBar()
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for action in self.actions_by_name.values():
            self.toolbar.addAction(action)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.toolbar)
        layout.addWidget(self.tree)
        if root is not None:
            self.set_root(root, project)
        self._update_actions()

    def _make_actions(self) -> dict[str, QAction]:
        entries = (
            ("compare", "Compare", "Compare the settings and graphs of the two selected runs", self.compare),
            ("resume", "Resume", "Go on training the selected stopped or interrupted run", self.resume),
            ("evaluate", "Evaluate", "Measure the run's best network on its validation data", self.evaluate),
            ("predict", "Predict…", "Classify image files with the run's best network", self.predict),
            ("export", "Export…", "Export the run's best network", self.export),
            ("delete", "Delete", "Delete the selected run folders", self.delete),
            ("refresh", "Refresh", "Read the runs folder again", self.refresh),
        )
        actions = {}
        for name, text, tip, slot in entries:
            action = QAction(text, self)
            action.setToolTip(tip)
            action.triggered.connect(slot)
            actions[name] = action
        return actions

    # -- the list ----------------------------------------------------------------------------

    def set_root(self, root: str | Path, project: str | None = None) -> None:
        """List the runs under ``root/runs`` (only ``project``'s, when given)."""
        self.root, self.project = Path(root), project
        self.refresh()

    def set_active_run(self, run_dir: str | Path | None) -> None:
        """The run the editor is training now: it cannot be deleted or resumed."""
        self.active_run = Path(run_dir) if run_dir is not None else None
        self._update_actions()

    def refresh(self) -> None:
        """Read the runs again, keeping the selection of those still there."""
        before = [run.run_id for run in self.selected_runs()]
        self._runs = list_runs(self.root, self.project) if self.root is not None else []
        self.tree.blockSignals(True)  # one selection_changed for the whole refill, below
        self.tree.clear()
        for run in self._runs:
            item = _row(run)
            self.tree.addTopLevelItem(item)
            item.setSelected(run.run_id in before)
        self.tree.blockSignals(False)
        if [run.run_id for run in self.selected_runs()] != before:
            self.selection_changed.emit(self.selected_runs())
        self._update_actions()

    def runs(self) -> list[RunInfo]:
        """The listed runs, newest first."""
        return list(self._runs)

    def selected_runs(self) -> list[RunInfo]:
        rows = sorted(self.tree.indexOfTopLevelItem(item) for item in self.tree.selectedItems())
        return [self._runs[row] for row in rows if 0 <= row < len(self._runs)]

    def row_of(self, run_id: str) -> int:
        return [run.run_id for run in self._runs].index(run_id)

    def _on_selection_changed(self) -> None:
        self._update_actions()
        self.selection_changed.emit(self.selected_runs())

    def _update_actions(self) -> None:
        runs = self.selected_runs()
        one = runs[0] if len(runs) == 1 else None
        enabled = {
            "compare": len(runs) == 2,
            "resume": one is not None and one.status in RESUMABLE and not self._is_active(one)
                      and RunFolder(one.path).last_checkpoint.is_file(),
            "evaluate": one is not None and checkpoint_of(one) is not None,
            "delete": bool(runs) and not any(self._is_active(run) for run in runs),
        }
        enabled["predict"] = enabled["export"] = enabled["evaluate"]
        for name, on in enabled.items():
            self.actions_by_name[name].setEnabled(on)

    def _is_active(self, run: RunInfo) -> bool:
        return self.active_run is not None and _same(self.active_run, run.path)

    def _show_menu(self, position: QPoint) -> None:
        menu = QMenu(self)
        for name, action in self.actions_by_name.items():
            if name == "delete" or name == "refresh":
                menu.addSeparator()
            menu.addAction(action)
        menu.popup(self.tree.viewport().mapToGlobal(position))

    # -- actions -----------------------------------------------------------------------------

    def compare(self) -> None:
        runs = self.selected_runs()
        if len(runs) != 2:
            return
        if self.compare_dialog is not None:
            self.compare_dialog.close()
        # older on the left: the comparison reads as "what changed since"
        dialog = RunCompareDialog(runs[1].path, runs[0].path, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.destroyed.connect(partial(self._forget_compare, dialog))
        self.compare_dialog = dialog
        dialog.show()

    def _forget_compare(self, dialog: RunCompareDialog) -> None:
        if self.compare_dialog is dialog:  # a closed older one goes after the newer one replaced it
            self.compare_dialog = None

    def resume(self) -> None:
        runs = self.selected_runs()
        if len(runs) == 1 and self.actions_by_name["resume"].isEnabled():
            self.resume_requested.emit(runs[0].path)

    def evaluate(self) -> None:
        self._emit_checkpoint(self.evaluate_requested)

    def predict(self) -> None:
        self._emit_checkpoint(self.predict_requested)

    def export(self) -> None:
        self._emit_checkpoint(self.export_requested)

    def _emit_checkpoint(self, signal: SignalInstance) -> None:
        runs = self.selected_runs()
        checkpoint = checkpoint_of(runs[0]) if len(runs) == 1 else None
        if checkpoint is not None:
            signal.emit(checkpoint)

    def delete(self) -> None:
        runs = [run for run in self.selected_runs() if not self._is_active(run)]
        if not runs or not self.ask_delete(runs):
            return
        removed, problems = [], []
        for run in runs:
            try:
                self._remove(run)
            except OSError as exc:
                problems.append(f"{run.path}: {exc.strerror or exc}")
            else:
                removed.append(run.path)
        self.refresh()
        if removed:
            self.deleted.emit(removed)
        if problems:
            self.show_error("Cannot delete", "Some runs could not be deleted:\n" + "\n".join(problems))

    def _remove(self, run: RunInfo) -> None:
        """Remove one run folder, after making sure it is one: a folder with run.json in root/runs."""
        if self.root is None or not _same(run.path.parent, self.root / RUNS):
            raise OSError(f"not inside {self.root}/{RUNS}; left alone")
        RunFolder.open(run.path)  # raises unless run.json is there
        shutil.rmtree(run.path)

    # -- asking (tests replace these) --------------------------------------------------------

    def ask_delete(self, runs: list[RunInfo]) -> bool:
        names = "".join(f"<br>• {html.escape(run.run_id)} ({html.escape(run.status)})" for run in runs[:10])
        more = f"<br>… and {len(runs) - 10} more" if len(runs) > 10 else ""
        running = any(run.status == "running" for run in runs)
        warning = "<br><br>A run marked running may still be training in another window." if running else ""
        answer = QMessageBox.question(
            self, "Delete runs",
            f"Delete {len(runs)} run folder{'s' if len(runs) > 1 else ''} with their checkpoints?"
            f"{names}{more}{warning}",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Yes

    def show_error(self, title: str, message: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, self)
        box.exec()
        box.deleteLater()


def _tree() -> QTreeWidget:
    tree = QTreeWidget()
    tree.setColumnCount(len(COLUMNS))
    tree.setHeaderLabels(COLUMNS)
    tree.setRootIsDecorated(False)
    tree.setUniformRowHeights(True)
    tree.setAlternatingRowColors(True)
    tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
    tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
    tree.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    return tree


def _row(run: RunInfo) -> QTreeWidgetItem:
    item = QTreeWidgetItem([run.name or run.run_id, run.status, f"{run.epochs_done}/{run.epochs}",
                            _score(run.best_score), run.created.replace("T", " ")[:16]])
    item.setToolTip(0, str(run.path))
    if run.message:  # why it failed, or that its process died: the status alone does not say
        item.setToolTip(1, run.message)
    item.setForeground(1, QBrush(QColor(STATUS_COLOURS.get(run.status, "#1f2933"))))
    for column in (2, 3):
        item.setTextAlignment(column, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item


def _score(score: float | None) -> str:
    """The run's best score is the validation accuracy, or minus the loss when there is no accuracy."""
    if score is None:
        return "—"
    return f"{score:.2%}" if score >= 0 else f"loss {-score:.4f}"


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False
