"""The main window's actions and menus: File, Edit, View.

Actions carry standard ``QKeySequence`` shortcuts. Undo and Redo come from the
window's ``QUndoGroup``, so their text names the command ("Undo Change
kernel_size of conv1") and they follow whichever document is open. File ▸ Open
Recent is rebuilt from the settings whenever it opens, so every window shows
the list the latest one left.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMenu

from designer.graph.templates import template_description, template_names
from designer.ui.canvas.stat_item import STAT_LABELS
from designer.ui.export_commands import ONNX_MISSING, onnx_available
from designer.ui.theme_menu import add_theme_menu

if TYPE_CHECKING:
    from designer.ui.main_window import MainWindow

Key = QKeySequence.StandardKey


class RecentMenu:
    """File ▸ Open Recent: one action per recent file, numbered, then Clear Recent."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.menu = QMenu("Open &Recent", window)
        self.menu.setToolTipsVisible(True)
        self.clear = _action(window, "&Clear Recent", window.clear_recent_files,
                             tip="Forget the recently opened files")
        self.files: list[QAction] = []
        self.menu.aboutToShow.connect(self.refresh)  # another window may have changed the list
        self.refresh()

    def refresh(self) -> None:
        for action in self.menu.actions():
            self.menu.removeAction(action)
            if action is not self.clear:
                action.deleteLater()  # later: the chosen entry may be the one still emitting triggered
        self.files = []
        for number, path in enumerate(self.window.recent_files.paths(), start=1):
            action = QAction(_recent_text(number, path), self.menu)
            action.setToolTip(path)
            action.setStatusTip(f"Open {path}")
            action.triggered.connect(lambda checked=False, p=path: self.window.open_recent(p))
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


@dataclass
class Actions:
    new: QAction
    open: QAction
    save: QAction
    save_as: QAction
    copy_to_new: QAction
    quit: QAction
    undo: QAction
    redo: QAction
    delete: QAction
    cut: QAction
    copy: QAction
    paste: QAction
    duplicate: QAction
    select_all: QAction
    fit: QAction
    zoom_in: QAction
    zoom_out: QAction
    auto_layout: QAction
    group: QAction
    ungroup: QAction
    collapse: QAction
    repeat: QAction
    rename_group: QAction
    recent: RecentMenu
    export_python: QAction
    export_train_script: QAction
    export_onnx: QAction
    export_pt2: QAction
    export_weights: QAction
    export_diagram: QAction
    templates: dict[str, QAction] = field(default_factory=dict)
    stat_keys: dict[str | None, QAction] = field(default_factory=dict)


def _action(window: MainWindow, text: str, slot: object, shortcut: Key | str | None = None,
            tip: str = "") -> QAction:
    action = QAction(text, window)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    if tip:
        action.setStatusTip(tip)
    action.triggered.connect(lambda checked=False: slot())  # type: ignore[operator]
    return action


def build_menus(window: MainWindow) -> Actions:
    view = window.view
    undo = window.undo_group.createUndoAction(window, "Undo")
    undo.setShortcut(QKeySequence(Key.Undo))
    redo = window.undo_group.createRedoAction(window, "Redo")
    redo.setShortcut(QKeySequence(Key.Redo))
    actions = Actions(
        new=_action(window, "&New", window.new_document, Key.New, "Start an empty project"),
        open=_action(window, "&Open…", window.open_file, Key.Open, "Open a project file"),
        save=_action(window, "&Save", window.save, Key.Save, "Save the project"),
        save_as=_action(window, "Save &As…", window.save_as, Key.SaveAs, "Save the project to a new file"),
        copy_to_new=_action(window, "Copy to &New Document", window.copy_to_new_document,
                            tip="Open a copy of the network to edit, say while this one trains"),
        quit=_action(window, "&Quit", window.close, Key.Quit),
        undo=undo,
        redo=redo,
        delete=_action(window, "&Delete", view.delete_selection, Key.Delete,
                       "Delete the selected blocks and connections"),
        cut=_action(window, "Cu&t", view.cut_selection, Key.Cut, "Move the selected blocks to the clipboard"),
        copy=_action(window, "&Copy", view.copy_selection, Key.Copy,
                     "Copy the selected blocks and the connections among them"),
        paste=_action(window, "&Paste", view.paste, Key.Paste, "Add the blocks on the clipboard"),
        duplicate=_action(window, "D&uplicate", view.duplicate_selection, "Ctrl+D",
                          "Copy the selected blocks beside themselves"),
        select_all=_action(window, "Select &All", view.select_all, Key.SelectAll),
        fit=_action(window, "&Fit to View", view.fit_to_view, "Ctrl+0", "Show the whole network"),
        zoom_in=_action(window, "Zoom &In", lambda: view.zoom_by(1.25), Key.ZoomIn),
        zoom_out=_action(window, "Zoom &Out", lambda: view.zoom_by(0.8), Key.ZoomOut),
        auto_layout=_action(window, "Auto &Layout", window.auto_layout, "Ctrl+L",
                            "Arrange the blocks in layers, left to right"),
        group=_action(window, "&Group…", window.group_selection, "Ctrl+G",
                      "Name the selected blocks as one group (a stage, a block) that can collapse"),
        ungroup=_action(window, "U&ngroup", window.ungroup_selection, "Ctrl+Shift+G",
                        "Dissolve the selected groups; their blocks stay"),
        collapse=_action(window, "C&ollapse/Expand Group", window.toggle_selected_groups, "Ctrl+E",
                         "Show the selected groups as one box each, or open them again"),
        repeat=_action(window, "&Repeat Group…", window.repeat_selected_group, "Ctrl+R",
                       "Chain copies of the selected group after it"),
        rename_group=_action(window, "Rena&me Group…", window.rename_selected_group,
                             tip="Give the selected group a new name"),
        recent=RecentMenu(window),
        export_python=_action(window, "&Python Code…", window.export_python,
                              tip="A model file that imports only torch, previewed before it is saved"),
        export_train_script=_action(window, "&Training Script…", window.export_train_script,
                                    tip="model.py and a train.py that trains it as the project says, "
                                        "into a folder"),
        export_onnx=_action(window, "&ONNX…", window.export_onnx, tip="An ONNX model with fresh weights"),
        export_pt2=_action(window, "PyTorch &ExportedProgram (.pt2)…", window.export_pt2,
                           tip="A torch.export program with fresh weights"),
        export_weights=_action(window, "Initial &Weights…", window.export_weights,
                               tip="The freshly initialised state_dict, as .safetensors or .pt"),
        export_diagram=_action(window, "Export &Diagram…", window.export_diagram,
                               tip="The network as drawn, as a PNG or SVG picture"),
    )
    if not onnx_available():
        actions.export_onnx.setEnabled(False)
        actions.export_onnx.setToolTip(ONNX_MISSING)
        actions.export_onnx.setStatusTip(ONNX_MISSING)
    menu = window.menuBar().addMenu("&File")
    menu.addAction(actions.new)
    templates = menu.addMenu("New from &Template")
    for name in template_names():
        action = _action(window, name, lambda n=name: window.new_from_template(n),
                         tip=template_description(name))
        actions.templates[name] = action
        templates.addAction(action)
    menu.addAction(actions.open)
    menu.addMenu(actions.recent.menu)
    menu.addSeparator()
    menu.addAction(actions.save)
    menu.addAction(actions.save_as)
    menu.addAction(actions.copy_to_new)
    menu.addSeparator()
    exports = menu.addMenu("&Export")
    exports.setToolTipsVisible(True)  # the disabled ONNX entry says how to get it
    _fill(exports, [actions.export_python, actions.export_train_script, None, actions.export_onnx,
                    actions.export_pt2, actions.export_weights])
    menu.addAction(actions.export_diagram)
    menu.addSeparator()
    menu.addAction(actions.quit)

    menu = window.menuBar().addMenu("&Edit")
    _fill(menu, [actions.undo, actions.redo, None, actions.cut, actions.copy, actions.paste,
                 actions.duplicate, actions.delete, None, actions.select_all, None,
                 actions.group, actions.ungroup, actions.collapse, actions.repeat, actions.rename_group])

    menu = window.menuBar().addMenu("&View")
    _fill(menu, [actions.fit, actions.zoom_in, actions.zoom_out, None, actions.auto_layout, None,
                 *(dock.toggleViewAction() for dock in window.docks)])
    _stat_menu(window, menu.addMenu("&Colour Blocks By"), actions)
    add_theme_menu(menu.addMenu("&Theme"), window.settings)
    return actions


def _stat_menu(window: MainWindow, menu: QMenu, actions: Actions) -> None:
    """One exclusive choice of the live training statistic the blocks are tagged with."""
    menu.setToolTipsVisible(True)
    group = QActionGroup(window)
    for key, text in [(None, "Nothing"), *STAT_LABELS.items()]:
        action = _action(window, text, lambda k=key: window.set_stat_key(k),
                         tip="Tag each block with this statistic while a run trains")
        action.setCheckable(True)
        action.setChecked(key == window.stat_key)
        group.addAction(action)
        menu.addAction(action)
        actions.stat_keys[key] = action


def _fill(menu: QMenu, actions: list[QAction | None]) -> None:
    """Add ``actions`` to ``menu``; None is a separator."""
    for action in actions:
        if action is None:
            menu.addSeparator()
        else:
            menu.addAction(action)
