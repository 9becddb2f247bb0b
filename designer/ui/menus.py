"""The main window's actions and menus: File, Edit, View.

:data:`ACTIONS` is the table (see :mod:`designer.ui.actions`): each entry's
handler takes only what it uses. Actions carry standard ``QKeySequence``
shortcuts, and Redo also Ctrl+Y off macOS. Undo and Redo come from the
window's ``QUndoGroup``, so their text names the command ("Undo Change
kernel_size of conv1") and they follow whichever document is open. File ▸ Open
Recent is rebuilt from the settings whenever it opens, so every window shows
the list the latest one left.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QDockWidget, QMenu, QMenuBar

from designer.graph.templates import template_description, template_names
from designer.ui import export_commands as export
from designer.ui import group_commands as groups
from designer.ui.actions import (
    REDO_KEYS,
    ActionContext,
    ActionSpec,
    ActionTable,
    Key,
    build_action,
    build_table,
)
from designer.ui.canvas.stat_item import STAT_LABELS
from designer.ui.canvas.view import GraphView
from designer.ui.document import Document
from designer.ui.paste_place import paste
from designer.ui.properties_dialog import edit_properties
from designer.ui.recent_files import RecentFiles
from designer.ui.theme_menu import add_theme_menu


class RecentMenu:
    """File ▸ Open Recent: one action per recent file, numbered, then Clear Recent."""

    def __init__(self, recent_files: RecentFiles, open_recent: Callable[[str], object], clear: QAction,
                 parent: QMenuBar) -> None:
        self.recent_files = recent_files
        self.open_recent = open_recent
        self.menu = QMenu("Open &Recent", parent)
        self.menu.setToolTipsVisible(True)
        self.clear = clear
        self.files: list[QAction] = []
        self.menu.aboutToShow.connect(self.refresh)  # another window may have changed the list
        self.refresh()

    def refresh(self) -> None:
        for action in self.menu.actions():
            self.menu.removeAction(action)
            if action is not self.clear:
                action.deleteLater()  # later: the chosen entry may be the one still emitting triggered
        self.files = []
        for number, path in enumerate(self.recent_files.paths(), start=1):
            action = QAction(_recent_text(number, path), self.menu)
            action.setToolTip(path)
            action.setStatusTip(f"Open {path}")
            action.triggered.connect(lambda checked=False, p=path: self.open_recent(p))
            self.menu.addAction(action)
            self.files.append(action)
        if not self.files:
            self.menu.addAction("No recent files").setEnabled(False)
        self.menu.addSeparator()
        self.menu.addAction(self.clear)
        self.clear.setEnabled(bool(self.files))


def _recent_text(number: int, path: str) -> str:
    """The entry's text, "&1 lenet5.json  ~/nets": numbered 1 to 9, then 1&0; a file's & shows as &."""
    digits = str(number)
    mnemonic = f"{digits[:-1]}&{digits[-1]}"
    folder = str(Path(path).parent)
    home = os.path.expanduser("~")
    if folder == home or folder.startswith(home + os.sep):
        folder = "~" + folder[len(home):]
    return f"{mnemonic} " + f"{Path(path).name}  {folder}".replace("&", "&&")


def _auto_layout(document: Document, view: GraphView) -> None:
    viewport = view.viewport().rect()
    aspect = viewport.width() / max(viewport.height(), 1)
    document.auto_layout(view.graph_scene.footprints(), aspect)  # the blocks' real sizes, the window's shape
    view.fit_to_view()


ACTIONS: tuple[ActionSpec, ...] = (
    # File
    ActionSpec("new", "&New", lambda files: files.new_document(), (Key.New,), "Start an empty project"),
    ActionSpec("open", "&Open…", lambda files: files.open_file(), (Key.Open,), "Open a project file"),
    ActionSpec("clear_recent", "&Clear Recent", lambda files: files.clear_recent_files(),
               tip="Forget the recently opened files"),
    ActionSpec("save", "&Save", lambda files: files.save(), (Key.Save,), "Save the project"),
    ActionSpec("save_as", "Save &As…", lambda files: files.save_as(), (Key.SaveAs,),
               "Save the project to a new file"),
    ActionSpec("copy_to_new", "&Copy to New Document", lambda files: files.copy_to_new_document(),
               tip="Open a copy of the network to edit, say while this one trains"),
    ActionSpec("properties", "&Properties…", edit_properties,
               tip="Name the project: the summary and the exported model's class use the name", edits=True),
    ActionSpec("quit", "&Quit", lambda files: files.close(), (Key.Quit,)),
    ActionSpec("export_python", "&Python Code…", export.export_python,
               tip="A model file that imports only torch, previewed before it is saved"),
    ActionSpec("export_train_script", "&Training Script…", export.export_train_script,
               tip="model.py and a train.py that trains it as the project says, into a folder"),
    ActionSpec("export_onnx", "&ONNX…", export.export_onnx, tip="An ONNX model with fresh weights",
               enabled_when=export.onnx_available, disabled_tip=export.ONNX_MISSING),
    ActionSpec("export_pt2", "PyTorch &ExportedProgram (.pt2)…", export.export_pt2,
               tip="A torch.export program with fresh weights"),
    ActionSpec("export_weights", "Initial &Weights…", export.export_weights,
               tip="The freshly initialised state_dict, as .safetensors or .pt"),
    ActionSpec("export_diagram", "Export &Diagram…", export.export_diagram,
               tip="The network as drawn, as a PNG or SVG picture"),
    # Edit
    ActionSpec("undo", "Undo", shortcuts=(Key.Undo,),
               factory=lambda undo_group, parent: undo_group.createUndoAction(parent, "Undo")),
    ActionSpec("redo", "Redo", shortcuts=REDO_KEYS,
               factory=lambda undo_group, parent: undo_group.createRedoAction(parent, "Redo")),
    ActionSpec("cut", "Cu&t", lambda view: view.cut_selection(), (Key.Cut,),
               "Move the selected blocks to the clipboard", edits=True),
    ActionSpec("copy", "&Copy", lambda view: view.copy_selection(), (Key.Copy,),
               "Copy the selected blocks and the connections among them"),
    ActionSpec("paste", "&Paste", paste, (Key.Paste,),
               "Add the blocks on the clipboard at the pointer, or beside the selection", edits=True),
    ActionSpec("duplicate", "D&uplicate", lambda view: view.duplicate_selection(), ("Ctrl+D",),
               "Copy the selected blocks beside themselves", edits=True),
    ActionSpec("delete", "&Delete", lambda view: view.delete_selection(), (Key.Delete,),
               "Delete the selected blocks and connections", edits=True),
    ActionSpec("select_all", "Select &All", lambda view: view.select_all(), (Key.SelectAll,)),
    ActionSpec("group", "&Group…", groups.group_selection, ("Ctrl+G",),
               "Name the selected blocks as one group (a stage, a block) that can collapse", edits=True),
    ActionSpec("ungroup", "U&ngroup", groups.ungroup_selection, ("Ctrl+Shift+G",),
               "Dissolve the selected groups; their blocks stay", edits=True),
    ActionSpec("collapse", "C&ollapse/Expand Group", groups.toggle_selected_groups, ("Ctrl+E",),
               "Show the selected groups as one box each, or open them again", edits=True),
    ActionSpec("repeat", "&Repeat Group…", groups.repeat_selected_group, ("Ctrl+R",),
               "Chain copies of the selected group after it", edits=True),
    ActionSpec("rename_group", "Rena&me Group…", groups.rename_selected_group,
               tip="Give the selected group a new name", edits=True),
    # View
    ActionSpec("fit", "&Fit to View", lambda view: view.fit_to_view(), ("Ctrl+0",), "Show the whole network"),
    ActionSpec("zoom_in", "Zoom &In", lambda view: view.zoom_by(1.25), (Key.ZoomIn,)),
    ActionSpec("zoom_out", "Zoom &Out", lambda view: view.zoom_by(0.8), (Key.ZoomOut,)),
    ActionSpec("auto_layout", "Auto &Layout", _auto_layout, ("Ctrl+L",),
               "Arrange the blocks in layers, left to right", edits=True),
)

FILE_MENU = ("new", "TEMPLATES", "open", "RECENT", None, "save", "save_as", "copy_to_new", "properties", None,
             "EXPORT", "export_diagram", None, "quit")
EXPORT_MENU = ("export_python", "export_train_script", None, "export_onnx", "export_pt2", "export_weights")
EDIT_MENU = ("undo", "redo", None, "cut", "copy", "paste", "duplicate", "delete", None, "select_all", None,
             "group", "ungroup", "collapse", "repeat", "rename_group")
VIEW_MENU = ("fit", "zoom_in", "zoom_out", None, "auto_layout", None)


def build_menus(menubar: QMenuBar, context: ActionContext, recent_files: RecentFiles,
                docks: Iterable[QDockWidget], settings: QSettings) -> ActionTable:
    """Build :data:`ACTIONS` and the File, Edit and View menus of ``menubar``; returns the table."""
    table = build_table(ACTIONS, context)
    files = context.files
    recent = RecentMenu(recent_files, files.open_recent, table.clear_recent, menubar)
    templates = {name: build_action(_template_spec(name), context) for name in template_names()}
    table.extras.update(recent=recent, templates=templates, stat_keys={})

    menu = menubar.addMenu("&File")
    for entry in FILE_MENU:
        if entry == "TEMPLATES":
            _fill(menu.addMenu("New from &Template"), templates.values())
        elif entry == "RECENT":
            menu.addMenu(recent.menu)
        elif entry == "EXPORT":
            exports = menu.addMenu("&Export")
            exports.setToolTipsVisible(True)  # the disabled ONNX entry says how to get it
            _fill(exports, _named(table, EXPORT_MENU))
        else:
            _fill(menu, _named(table, (entry,)))
    _fill(menubar.addMenu("&Edit"), _named(table, EDIT_MENU))
    menu = menubar.addMenu("&View")
    _fill(menu, [*_named(table, VIEW_MENU), *(dock.toggleViewAction() for dock in docks)])
    table.extras["stat_keys"] = _stat_menu(menu.addMenu("&Colour Blocks By"), context)
    add_theme_menu(menu.addMenu("&Theme"), settings)
    return table


def _template_spec(name: str) -> ActionSpec:
    return ActionSpec(f"template_{name}", name, lambda files: files.new_from_template(name),
                      tip=template_description(name))


def _named(table: ActionTable, names: Iterable[str | None]) -> list[QAction | None]:
    return [None if name is None else table[name] for name in names]


def _stat_menu(menu: QMenu, context: ActionContext) -> dict[str | None, QAction]:
    """One exclusive choice of the live training statistic the blocks are tagged with."""
    menu.setToolTipsVisible(True)
    group = QActionGroup(menu)
    chosen: dict[str | None, QAction] = {}
    for key, text in [(None, "Nothing"), *STAT_LABELS.items()]:
        spec = ActionSpec(f"stat_{key}", text, lambda stats, k=key: stats.set_stat_key(k),
                          tip="Tag each block with this statistic while a run trains")
        action = build_action(spec, context)
        action.setCheckable(True)
        action.setChecked(key == context.stats.stat_key)
        group.addAction(action)
        menu.addAction(action)
        chosen[key] = action
    return chosen


def _fill(menu: QMenu, actions: Iterable[QAction | None]) -> None:
    """Add ``actions`` to ``menu``; None is a separator."""
    for action in actions:
        if action is None:
            menu.addSeparator()
        else:
            menu.addAction(action)
