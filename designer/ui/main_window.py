"""The main window: the canvas in the middle, palette, inspector and summary docked around it.

It owns the open :class:`~designer.ui.document.Document` and the file
commands. Its actions are the table in :mod:`designer.ui.menus`, whose
handlers get the document, the view, and this window only as
:class:`~designer.ui.actions.Prompts` (questions to the user through small
methods, :meth:`MainWindow.ask_unsaved_changes`, :meth:`~MainWindow.ask_open_path`,
:meth:`~MainWindow.show_error` and the like, that tests replace) or as
:class:`~designer.ui.actions.FileCommands`. File ▸ Export's commands live in
:mod:`designer.ui.export_commands`, Edit's group commands in
:mod:`designer.ui.group_commands`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QShowEvent, QUndoGroup
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QInputDialog,
    QMainWindow,
    QMessageBox,
    QWidget,
)

from designer.graph.errors import GraphError
from designer.graph.graph import Graph
from designer.graph.repeat import MAX_COPIES
from designer.graph.templates import load_template
from designer.ui.actions import ActionContext
from designer.ui.autosave import Autosaver
from designer.ui.canvas.stat_item import TAG_LABELS
from designer.ui.canvas.view import GraphView
from designer.ui.document import Document
from designer.ui.field_undo import install_field_undo
from designer.ui.inspector import InspectorPanel
from designer.ui.menus import build_menus
from designer.ui.messages import user_message
from designer.ui.palette import PalettePanel
from designer.ui.recent_files import RecentFiles
from designer.ui.summary_table import SummaryPanel, SummaryTable
from designer.ui.training.lock import GraphLockGuard
from designer.ui.training.panel import TrainingPanel
from designer.ui.training.plots_host import PlotsHost
from designer.ui.training.runs_dock import RunsController
from designer.ui.wheel_guard import install_wheel_guard

ORGANISATION = "Designer"
APPLICATION = "Designer"
FILE_FILTER = "Designer projects (*.json)"
PLOTS_SIZED_KEY = "main_window/plots_sized"  # true once a run has sized the plots: the user's size stands
PLOTS_SHARE = 0.42  # of the window's height the plots take when a run starts, unless the user chose
Button = QMessageBox.StandardButton


class MainWindow(QMainWindow):
    def __init__(self, source: Graph | Document | None = None, settings: QSettings | None = None) -> None:
        super().__init__()
        app = QApplication.instance()
        if isinstance(app, QApplication):  # before any panel is polished: the guard sets focus policies
            install_wheel_guard(app)
            install_field_undo(app)
        self.settings = settings if settings is not None else QSettings(ORGANISATION, APPLICATION)
        self.recent_files = RecentFiles(self.settings)
        self.resize(1280, 800)
        self.node_stats: Mapping[str, Mapping[str, float | None]] = {}  # the latest sample while training
        self.stat_key: str | None = "zeros"
        self.undo_group = QUndoGroup(self)
        self.view = GraphView()
        self.setCentralWidget(self.view)
        self.palette_panel = PalettePanel()
        self.inspector = InspectorPanel()
        self.summary = SummaryPanel()
        self.docks = [
            self.add_dock("Blocks", "palette", self.palette_panel, Qt.DockWidgetArea.LeftDockWidgetArea),
            self.add_dock("Inspector", "inspector", self.inspector, Qt.DockWidgetArea.RightDockWidgetArea),
            self.add_dock("Summary", "summary", self.summary, Qt.DockWidgetArea.BottomDockWidgetArea),
        ]
        self.resizeDocks(self.docks[:2], [200, 340], Qt.Orientation.Horizontal)
        # The right column (Inspector, Training) runs down to the bottom: when the plots grow for a run,
        # the training panel keeps its height, with Pause and Stop where they were.
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.resizeDocks(self.docks[2:], [190], Qt.Orientation.Vertical)
        self.training_panel = TrainingPanel()
        self.training_dock = self.add_dock("Training", "training", self.training_panel,
                                           Qt.DockWidgetArea.RightDockWidgetArea)
        self.docks.append(self.training_dock)
        self.tabifyDockWidget(self.docks[1], self.training_dock)
        self.docks[1].raise_()  # the inspector in front; the Training tab beside it
        self.plots = PlotsHost()  # the plots themselves are built when first shown or fed
        self.plots_dock = self.add_dock("Plots", "plots", self.plots, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.docks.append(self.plots_dock)
        self.tabifyDockWidget(self.docks[2], self.plots_dock)
        self.docks[2].raise_()
        self.training_dock.visibilityChanged.connect(self.training_panel.dock_visibility_changed)
        self.plots_dock.visibilityChanged.connect(self.plots.dock_visibility_changed)
        self.training_panel.node_stats.connect(self.show_node_stats)
        self.training_panel.run_started.connect(self.plots.set_label)
        self.training_panel.run_started.connect(self._show_plots)
        self.training_panel.records.connect(self.plots.add_records)
        self.training_panel.run_ended.connect(lambda status, message: self.plots.flush())
        self.runs = RunsController(self.training_panel, self.plots, self, self._add_bottom_tab, self)
        self.runs.training_wanted.connect(self.training_dock.raise_)
        self.docks[2].raise_()
        context = ActionContext(lambda: self.document, self.view, self, self, self, self.undo_group, self)
        self.menu_actions = build_menus(self.menuBar(), context, self.recent_files, self.docks, self.settings)
        self.lock_guard = GraphLockGuard(self.view, self.menu_actions.set_locked,
                                         [self.inspector, self.palette_panel], self.show_status)
        self.statusBar()
        self.palette_panel.block_activated.connect(self.view.add_block_at_center)
        self.palette_panel.module_activated.connect(self.view.add_module_at_center)
        self.view.message.connect(lambda text: self.statusBar().showMessage(text, 10_000))
        self.summary.table.node_clicked.connect(self.select_node)
        self.autosaver = Autosaver(parent=self)
        self.document: Document = None  # type: ignore[assignment]  # set just below
        self._frame_pending = True
        self.set_document(source if isinstance(source, Document) else Document(source))
        self._restore_settings()

    def add_dock(self, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"{name}_dock")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _add_bottom_tab(self, title: str, name: str, widget: QWidget) -> QDockWidget:
        """A dock tabbed with the plots (the Runs and Evaluation tabs)."""
        dock = self.add_dock(title, name, widget, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.tabifyDockWidget(self.plots_dock, dock)
        self.docks.append(dock)
        return dock

    @property
    def graph(self) -> Graph:
        return self.document.graph

    @property
    def table(self) -> SummaryTable:
        return self.summary.table

    # -- the open document ----------------------------------------------------------

    def set_document(self, document: Document) -> None:
        old = self.document
        if old is not None:
            self.undo_group.removeStack(old.undo_stack)
            old.modified_changed.disconnect(self._update_title)
            old.path_changed.disconnect(self._update_title)
            old.name_changed.disconnect(self._on_name_changed)
        document.setParent(self)
        self.document = document
        self.node_stats = {}  # they were another graph's
        self.undo_group.addStack(document.undo_stack)
        self.undo_group.setActiveStack(document.undo_stack)
        self.view.set_document(document)
        self.view.graph_scene.selectionChanged.connect(self._on_selection_changed)
        self.inspector.set_document(document)
        self.summary.set_graph(document.graph)
        self.autosaver.watch(document)
        self.training_panel.set_document(document)
        self.runs.follow(document)
        document.path_changed.connect(lambda: self.runs.follow(document))
        self.lock_guard.watch(document)
        document.modified_changed.connect(self._update_title)
        document.path_changed.connect(self._update_title)
        document.name_changed.connect(self._on_name_changed)
        self._update_title()
        if document.path is not None:
            self._remember(document.path)
        if old is not None:
            old.deleteLater()
        if self.isVisible():
            self.frame_document()
        else:
            self._frame_pending = True

    def _update_title(self, *args: object) -> None:
        marker = "*" if self.document.dirty else ""
        self.setWindowTitle(f"{self.document.display_name}{marker} — Designer")

    def _on_name_changed(self, name: str) -> None:
        self.summary.table.refresh()  # its header names the project
        self.runs.follow(self.document)
        self._update_title()

    def frame_document(self) -> None:
        """Show the whole network: zoomed out, blocks still show their names and shapes."""
        self._frame_pending = False
        self.view.fit_to_view()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._frame_pending:
            QTimer.singleShot(0, self.frame_document)

    def _on_selection_changed(self) -> None:
        names = self.view.graph_scene.selected_nodes()
        self.inspector.set_selection(names)
        self.summary.table.select_name(names[0] if len(names) == 1 else None)

    def select_node(self, name: str) -> None:
        """Select ``name`` on the canvas and bring it to the middle of the view."""
        if name in self.graph:
            self.view.select_only(name)
            self.view.center_on_node(name)

    # -- live statistics while training ---------------------------------------------------

    def show_node_stats(self, stats: Mapping[str, Mapping[str, float | None]]) -> None:
        """Keep the latest sample of per-block statistics and tag the blocks with the chosen one."""
        self.node_stats = stats
        self.view.graph_scene.show_stats(stats, self.stat_key, TAG_LABELS.get(self.stat_key or "", ""))

    def set_stat_key(self, key: str | None) -> None:
        """Colour blocks by statistic ``key`` (see STAT_LABELS), or by none."""
        self.stat_key = key
        self.show_node_stats(self.node_stats)

    # -- file commands ----------------------------------------------------------------

    def new_document(self) -> bool:
        if not self.maybe_save():
            return False
        self.set_document(Document())
        return True

    def new_from_template(self, name: str) -> bool:
        try:
            graph = load_template(name)
        except GraphError as exc:
            self.show_error("Cannot open template", str(exc))
            return False
        if not self.maybe_save():
            return False
        self.set_document(Document(graph))
        return True

    def copy_to_new_document(self) -> bool:
        """Open a copy of the network as a new, unsaved project (to keep editing while a run trains)."""
        if not self.maybe_save():
            return False
        graph = self.graph.copy()
        graph.name = f"{graph.name}-copy"
        self.set_document(Document(graph))
        self.statusBar().showMessage("Editing a copy; the run goes on with the original", 10_000)
        return True

    def open_file(self) -> bool:
        path = self.ask_open_path()
        return bool(path) and self.open_source(path)

    def open_source(self, src: str | os.PathLike[str]) -> bool:
        """Open a project file or a template; a bad one leaves the open document as it is."""
        try:
            document = Document.open(src)
        except GraphError as exc:
            self.show_error("Cannot open", str(exc))
            return False
        if not self.maybe_save():
            return False
        self.set_document(document)
        self.statusBar().showMessage(f"Opened {document.display_name}", 5000)
        return True

    def save(self) -> bool:
        if self.document.path is None:
            return self.save_as()
        return self._save_to(self.document.path)

    def save_as(self) -> bool:
        document = self.document
        suggested = document.path or Path.cwd() / f"{document.graph.name}.json"
        path = self.ask_save_path(str(suggested))
        if not path:
            return False
        target = Path(path)
        if not target.suffix:
            target = target.with_suffix(".json")
        return self._save_to(target)

    def _save_to(self, path: Path) -> bool:
        try:
            self.document.save(path)
        except (OSError, GraphError) as exc:
            self.show_error("Cannot save", user_message(exc))
            return False
        self._remember(path)
        self.statusBar().showMessage(f"Saved {path}", 5000)
        return True

    def open_recent(self, path: str) -> bool:
        """Open a file from File ▸ Open Recent; one that has gone is dropped from the list."""
        if not Path(path).is_file():
            self.recent_files.remove(path)
            self.menu_actions.recent.refresh()
            self.statusBar().showMessage(f"{path} no longer exists; removed it from Open Recent", 10_000)
            return False
        return self.open_source(path)

    def clear_recent_files(self) -> None:
        self.recent_files.clear()
        self.menu_actions.recent.refresh()

    def _remember(self, path: Path) -> None:
        self.recent_files.add(path)
        self.menu_actions.recent.refresh()

    def maybe_save(self) -> bool:
        """Whether the open document may be replaced: clean, saved, or discarded."""
        if not self.document.dirty:
            return True
        answer = self.ask_unsaved_changes()
        if answer == Button.Save:
            return self.save()
        return answer == Button.Discard

    # -- questions to the user (tests replace these) ----------------------------------

    def ask_unsaved_changes(self) -> QMessageBox.StandardButton:
        return QMessageBox.question(
            self, "Unsaved changes", f"Save the changes to {self.document.display_name}?",
            Button.Save | Button.Discard | Button.Cancel, Button.Save,
        )

    def ask_open_path(self) -> str:
        path, _ = QFileDialog.getOpenFileName(self, "Open project", "", FILE_FILTER)
        return path

    def ask_save_path(self, suggested: str) -> str:
        path, _ = QFileDialog.getSaveFileName(self, "Save project", suggested, FILE_FILTER)
        return path

    def ask_export_path(self, title: str, suggested: str, filter: str) -> str:
        path, _ = QFileDialog.getSaveFileName(self, title, suggested, filter)
        return path

    def ask_group_name(self, suggested: str) -> str:
        name, ok = QInputDialog.getText(self, "Group blocks", "Name of the group:", text=suggested)
        return name.strip() if ok else ""

    def ask_repeat_count(self, group: str) -> int | None:
        count, ok = QInputDialog.getInt(self, f"Repeat {group}",
                                        f"How many times should {group} occur in a row?", 2, 2, MAX_COPIES)
        return count if ok else None

    def ask_stop_training(self) -> bool:
        answer = QMessageBox.question(
            self, "Training in progress", "A run is training. Stop it and close? Its checkpoint is saved, "
            "so it can go on later.", Button.Yes | Button.No, Button.No)
        return answer == Button.Yes

    def show_status(self, text: str, timeout_ms: int = 10_000) -> None:
        self.statusBar().showMessage(text, timeout_ms)

    def dialog_parent(self) -> QWidget:
        return self

    def show_error(self, title: str, message: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Warning, title, message, Button.Ok, self)
        box.exec()
        box.deleteLater()

    # -- closing and settings ---------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.training_panel.session.active and not self.ask_stop_training():
            event.ignore()
            return
        if not self.maybe_save():
            event.ignore()
            return
        self.training_panel.shutdown()  # stops a run after its batch and waits for its checkpoint
        self.runs.shutdown()
        self.settings.setValue("main_window/geometry", self.saveGeometry())
        self.settings.setValue("main_window/state", self.saveState())
        self.settings.sync()
        self.autosaver.discard()  # saved or discarded on purpose: nothing to restore
        event.accept()

    # -- the plots when a run starts ------------------------------------------------------

    def _show_plots(self, *args: object) -> None:
        """Bring the plots to the front; the first run ever also makes them readable.

        From then on the docks keep the size the user gives them: the window's saved state has it.
        """
        self.plots_dock.raise_()
        if self.settings.value(PLOTS_SIZED_KEY) in (True, "true"):
            return
        self.settings.setValue(PLOTS_SIZED_KEY, True)
        height = max(self.plots_dock.height(), round(self.height() * PLOTS_SHARE))
        self.resizeDocks([self.plots_dock], [height], Qt.Orientation.Vertical)

    def _restore_settings(self) -> None:
        geometry = self.settings.value("main_window/geometry")
        state = self.settings.value("main_window/state")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        if isinstance(state, QByteArray):
            self.restoreState(state)
