"""The runs list: a project's training runs, newest first, and what can be done with them.

One row per run folder under ``<root>/runs`` (read by
:func:`designer.training.runs.list_runs`, which needs no torch): its name, status,
epochs done, best validation accuracy and start time. A run is called by the
name the user gave it (Rename, F2 or a double click on the name), else by its
project's name and what sets it apart from the project's other runs
("lenet5 · lr 0.05", :func:`~designer.training.run_diff.distinct_labels`). While a
listed run trains the list reads the folder again every few seconds. Selecting rows emits
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

from PySide6.QtCore import QPoint, Qt, QTimer, Signal, SignalInstance
from PySide6.QtGui import QAction, QBrush, QKeySequence
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

from designer.training.errors import CheckpointError
from designer.training.run_diff import distinct_labels, run_settings
from designer.training.runs import RUNS, RunFolder, RunInfo, list_runs
from designer.ui import theme
from designer.ui.training.run_compare import RunCompareDialog

COLUMNS = ("Run", "Status", "Epochs", "Best val. accuracy", "Started")
STATUS_ROLES = {"finished": theme.OK, "stopped": theme.NOTE, "failed": theme.ERROR_TEXT, "running": theme.INFO,
                "interrupted": theme.NOTE, "diverged": theme.ERROR_TEXT}
RESUMABLE = ("stopped", "interrupted")
POLL_MS = 2000  # how often the list is read again while a listed run trains


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
        self._labels: list[str] = []
        self._settings: dict[str, dict[str, str]] = {}  # run_settings by run id: what a run was given stays
        self.tree = _tree()
        self.tree.itemSelectionChanged.connect(self._on_selection_changed)
        self.tree.customContextMenuRequested.connect(self._show_menu)
        self.tree.itemDoubleClicked.connect(self._on_double_clicked)
        self.tree.itemChanged.connect(self._on_item_changed)
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self._on_poll)
        theme.notifier().theme_changed.connect(self._on_theme_changed)
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
            ("rename", "Rename", "Give the selected run a name of your own (F2)", self.rename),
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
        actions["rename"].setShortcut(QKeySequence(Qt.Key.Key_F2))
        actions["rename"].setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.tree.addAction(actions["rename"])
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
        listed = [run.run_id for run in self._runs]
        self._runs = list_runs(self.root, self.project) if self.root is not None else []
        self._labels = self._label_runs(self._runs)
        self.tree.blockSignals(True)  # one selection_changed for the whole refill, below
        if [run.run_id for run in self._runs] == listed:  # the same rows: new texts, the view left as it is
            for row, run in enumerate(self._runs):
                _fill(self.tree.topLevelItem(row), run, self._labels[row])
        else:
            self.tree.clear()
            for run, label in zip(self._runs, self._labels):
                item = _fill(QTreeWidgetItem(), run, label)
                self.tree.addTopLevelItem(item)
                item.setSelected(run.run_id in before)
        self.tree.blockSignals(False)
        if [run.run_id for run in self.selected_runs()] != before:
            self.selection_changed.emit(self.selected_runs())
        self._update_actions()
        training = any(run.status == "running" for run in self._runs)
        if not training:
            self._poll.stop()
        elif not self._poll.isActive():
            self._poll.start()

    def label(self, run_id: str) -> str:
        """What the list calls a run: the user's name for it, else its name and what sets it apart."""
        return self._labels[self.row_of(run_id)]

    def _label_runs(self, runs: list[RunInfo]) -> list[str]:
        names = [run.name or run.run_id for run in runs]
        shared = {name for name in names if names.count(name) > 1}
        settings = [self._settings_of(run) if name in shared else {} for run, name in zip(runs, names)]
        automatic = distinct_labels(names, settings)
        return [run.label or label for run, label in zip(runs, automatic)]

    def _settings_of(self, run: RunInfo) -> dict[str, str]:
        if run.run_id not in self._settings:
            try:
                self._settings[run.run_id] = run_settings(run.path)
            except (CheckpointError, OSError):
                return {}  # unreadable now, perhaps not in a moment: not remembered
        return self._settings[run.run_id]

    def _on_poll(self) -> None:
        if self.tree.state() != QAbstractItemView.State.EditingState:  # a refresh would end the edit
            self.refresh()

    def _on_theme_changed(self) -> None:
        for row, run in enumerate(self._runs):
            _colour_status(self.tree.topLevelItem(row), run)

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
            "rename": one is not None,
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

    def rename(self) -> None:
        """Edit the selected run's name in place; Enter keeps it, an empty one brings the automatic one back."""
        runs = self.selected_runs()
        item = self.tree.topLevelItem(self.row_of(runs[0].run_id)) if len(runs) == 1 else None
        if item is not None:
            self.tree.scrollToItem(item)
            self.tree.editItem(item, 0)

    def _on_double_clicked(self, item: QTreeWidgetItem, column: int) -> None:
        if column == 0:
            self.tree.editItem(item, 0)

    def _on_item_changed(self, item: QTreeWidgetItem, column: int) -> None:
        row = self.tree.indexOfTopLevelItem(item)
        if column != 0 or not 0 <= row < len(self._runs) or item.text(0) == self._labels[row]:
            return
        run = self._runs[row]
        try:
            RunFolder(run.path).set_label(item.text(0))
        except ValueError as exc:
            self.show_error("Cannot rename the run", f"{run.path}: {exc}.")
        except OSError as exc:
            self.show_error("Cannot rename the run",
                            f"{run.path}: cannot write its name ({exc.strerror or exc}).")
        self.refresh()

    def compare(self) -> None:
        runs = self.selected_runs()
        if len(runs) != 2:
            return
        if self.compare_dialog is not None:
            self.compare_dialog.close()
        # older on the left: the comparison reads as "what changed since"
        dialog = RunCompareDialog(runs[1].path, runs[0].path, self,
                                  (self.label(runs[1].run_id), self.label(runs[0].run_id)))
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
    tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)  # Rename, F2, a double click on the name
    tree.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    return tree


def _fill(item: QTreeWidgetItem | None, run: RunInfo, label: str) -> QTreeWidgetItem:
    """``item`` showing ``run`` as ``label``."""
    if item is None:
        item = QTreeWidgetItem()
    item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)  # the name only: edits start in column 0
    texts = (label, run.status, f"{run.epochs_done}/{run.epochs}", _score(run.best_score),
             run.created.replace("T", " ")[:16])
    for column, text in enumerate(texts):
        item.setText(column, text)
    item.setToolTip(0, f"{run.run_id}\n{run.path}")
    item.setToolTip(1, run.message)  # why it failed, or that its process died: the status alone does not say
    _colour_status(item, run)
    for column in (2, 3):
        item.setTextAlignment(column, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item


def _colour_status(item: QTreeWidgetItem | None, run: RunInfo) -> None:
    role = STATUS_ROLES.get(run.status)
    if item is not None:
        item.setForeground(1, QBrush(theme.text_colour(role)) if role else QBrush())


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
