"""The window's actions as one table: name, text, shortcuts, enabled-when, handler.

Each :class:`ActionSpec` names its handler's needs by the handler's parameter
names (``document``, ``view``, ``prompts``, ``files``, ``stats``), and
:class:`ActionTable` passes exactly those, looked up when the action fires (the
open document changes under a window). No handler sees the main window.
An ``edits`` spec is switched off while a training run locks the document, by
:meth:`ActionTable.set_locked`; nothing else keeps a list of them.
napari's ``_qt/_qapp_model`` is the model: actions declared as data, their
callbacks given what they ask for.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence, QUndoGroup
from PySide6.QtWidgets import QMessageBox, QWidget

if TYPE_CHECKING:
    from designer.ui.canvas.view import GraphView
    from designer.ui.document import Document

Key = QKeySequence.StandardKey
Shortcut = Key | str
Handler = Callable[..., object]


class Prompts(Protocol):
    """The questions and messages a command may put to the user (tests answer them instead)."""

    def ask_unsaved_changes(self) -> QMessageBox.StandardButton: ...
    def ask_open_path(self) -> str: ...
    def ask_save_path(self, suggested: str) -> str: ...
    def ask_export_path(self, title: str, suggested: str, filter: str) -> str: ...
    def ask_group_name(self, suggested: str) -> str: ...
    def ask_repeat_count(self, group: str) -> int | None: ...
    def show_error(self, title: str, message: str) -> None: ...
    def show_status(self, text: str, timeout_ms: int = 10_000) -> None: ...
    def dialog_parent(self) -> QWidget: ...


class FileCommands(Protocol):
    """What File's actions do to the window's open document."""

    def new_document(self) -> bool: ...
    def new_from_template(self, name: str) -> bool: ...
    def open_file(self) -> bool: ...
    def open_recent(self, path: str) -> bool: ...
    def clear_recent_files(self) -> None: ...
    def save(self) -> bool: ...
    def save_as(self) -> bool: ...
    def copy_to_new_document(self) -> bool: ...
    def close(self) -> bool: ...


class StatChoice(Protocol):
    """View ▸ Colour Blocks By: which live statistic tags the blocks."""

    stat_key: str | None

    def set_stat_key(self, key: str | None) -> None: ...


@dataclass(frozen=True)
class ActionSpec:
    """One action. ``handler``'s parameter names say what it receives (see :class:`ActionContext`)."""

    name: str
    text: str
    handler: Handler | None = None  # None: ``factory`` makes the action (Undo, Redo)
    shortcuts: tuple[Shortcut, ...] = ()
    tip: str = ""
    edits: bool = False  # changes the document: off while a training run locks it
    enabled_when: Callable[[], bool] | None = None
    disabled_tip: str = ""  # why it is off, when ``enabled_when`` says so
    factory: Handler | None = None


@dataclass
class ActionContext:
    """What handlers may ask for, by parameter name; ``document`` is looked up at each call."""

    current_document: Callable[[], Document]
    view: GraphView
    prompts: Prompts
    files: FileCommands
    stats: StatChoice
    undo_group: QUndoGroup
    parent: QObject

    @property
    def document(self) -> Document:
        return self.current_document()

    def call(self, handler: Handler, **extra: Any) -> object:
        """Call ``handler`` with the arguments its parameters name."""
        args: dict[str, Any] = {}
        for name, parameter in inspect.signature(handler).parameters.items():
            if name in extra:
                args[name] = extra[name]
            elif parameter.default is inspect.Parameter.empty:  # one with a default is the handler's own
                args[name] = getattr(self, name)
        return handler(**args)


def shortcut_list(shortcuts: Iterable[Shortcut]) -> list[QKeySequence]:
    """Every key sequence of ``shortcuts`` (a standard key brings all of the platform's), once each."""
    found: dict[str, QKeySequence] = {}
    for shortcut in shortcuts:
        keys = QKeySequence.keyBindings(shortcut) if isinstance(shortcut, Key) else [QKeySequence(shortcut)]
        for key in keys:
            found.setdefault(key.toString(), key)
    return list(found.values())


# Off macOS both habits work whatever the desktop's key theme says: Ctrl+Y (Windows) and Ctrl+Shift+Z.
REDO_KEYS: tuple[Shortcut, ...] = (
    (Key.Redo,) if sys.platform == "darwin" else (Key.Redo, "Ctrl+Shift+Z", "Ctrl+Y"))


@dataclass
class ActionTable:
    """The built actions of a table, by name (``table.save`` or ``table["save"]``)."""

    specs: dict[str, ActionSpec]
    actions: dict[str, QAction]
    extras: dict[str, Any] = field(default_factory=dict)  # recent, templates, stat_keys
    locked: bool = False

    def __getattr__(self, name: str) -> Any:
        if name in ("specs", "actions", "extras"):
            raise AttributeError(name)
        if name in self.actions:
            return self.actions[name]
        if name in self.extras:
            return self.extras[name]
        raise AttributeError(f"no action named {name!r}")

    def __getitem__(self, name: str) -> QAction:
        return self.actions[name]

    def set_locked(self, locked: bool) -> None:
        """Switch the actions that edit the document off (or back on) while a run locks it."""
        self.locked = locked
        self.refresh()

    def refresh(self) -> None:
        for name, spec in self.specs.items():
            if spec.factory is None:
                _apply_enabled(self.actions[name], spec, self.locked)


def _apply_enabled(action: QAction, spec: ActionSpec, locked: bool) -> None:
    available = spec.enabled_when is None or spec.enabled_when()
    action.setEnabled(available and not (locked and spec.edits))
    tip = spec.tip if available else spec.disabled_tip or spec.tip
    action.setToolTip(tip or spec.text.replace("&", "").rstrip("…"))
    action.setStatusTip(tip)


def build_action(spec: ActionSpec, context: ActionContext, **extra: Any) -> QAction:
    """The QAction for ``spec``; triggering it calls the handler with what it asks for."""
    if spec.factory is not None:
        action = context.call(spec.factory)
        assert isinstance(action, QAction)
    else:
        action = QAction(spec.text, context.parent)
        handler = spec.handler
        assert handler is not None, f"{spec.name} has neither a handler nor a factory"
        action.triggered.connect(lambda checked=False: context.call(handler, **extra))
        _apply_enabled(action, spec, False)
    action.setObjectName(spec.name)
    if spec.shortcuts:
        action.setShortcuts(shortcut_list(spec.shortcuts))
    return action


def build_table(specs: Iterable[ActionSpec], context: ActionContext,
                extras: Mapping[str, Any] | None = None) -> ActionTable:
    by_name = {spec.name: spec for spec in specs}
    actions = {name: build_action(spec, context) for name, spec in by_name.items()}
    return ActionTable(by_name, actions, dict(extras or {}))
