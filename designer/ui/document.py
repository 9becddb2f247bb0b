"""One open project: the graph, its undo stack, its file, and the edits a user can make.

Views and gestures edit through :class:`Document`: each method checks the edit
with the model (so a refusal raises here, with the model's message, and nothing
is pushed), then pushes the matching command from :mod:`designer.ui.commands`.
Whether the project is dirty is the undo stack's business (its clean index).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from designer.graph.errors import GraphError
from designer.graph.fragment import fragment_text, plan_paste
from designer.graph.graph import MAX_NAME_LENGTH, Edge, Graph, Position
from designer.graph.layout import Footprint
from designer.graph.modules import module_text
from designer.graph.project import save
from designer.graph.repeat import plan_repeat
from designer.graph.source import load
from designer.graph.templates import template_names
from designer.ui.commands import (
    AddNode,
    ApplyLayout,
    Connect,
    GroupBlocks,
    MoveNodes,
    PasteBlocks,
    RemoveNodes,
    Rename,
    RenameGroup,
    RepeatGroup,
    SetGroupCollapsed,
    SetMeta,
    SetName,
    SetParams,
    Ungroup,
)

UNTITLED = "untitled"


class Document(QObject):
    """A graph being edited, with its undo history and the file it came from."""

    modified_changed = Signal(bool)
    path_changed = Signal()
    name_changed = Signal(str)  # the project's name (graph.name), after an edit or its undo

    def __init__(self, graph: Graph | None = None, path: str | os.PathLike[str] | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.graph = graph if graph is not None else new_graph()
        self.path = Path(path) if path is not None else None
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)
        self._shown_name = self.graph.name
        self._given_name = False  # named by the user: the first save keeps it
        self.undo_stack.indexChanged.connect(self._on_index_changed)

    @classmethod
    def open(cls, src: str | os.PathLike[str]) -> Document:
        """A project file, or a template by name (which has no file yet).

        Raises :class:`~designer.graph.errors.GraphError` with the loader's message.
        """
        graph = load(src)
        text = os.fspath(src)
        is_template = text in template_names() and not Path(text).exists()
        return cls(graph, None if is_template else Path(text))

    # -- state ------------------------------------------------------------------

    @property
    def dirty(self) -> bool:
        return not self.undo_stack.isClean()

    @property
    def display_name(self) -> str:
        return self.path.name if self.path is not None else self.graph.name

    def save(self, path: str | os.PathLike[str] | None = None) -> None:
        """Write the project (to ``path``, or where it came from); raises OSError."""
        target = Path(path) if path is not None else self.path
        if target is None:
            raise ValueError("the project has no file yet; give a path")
        if (self.path is None and not self._given_name and self.locked_reason is None
                and target.stem and target.stem != self.graph.name):
            self.push(SetName(self.graph, target.stem[:MAX_NAME_LENGTH]))  # undoable, like any naming
        save(self.graph, target)
        moved = target != self.path
        self.path = target
        self.undo_stack.setClean()
        if moved:
            self.path_changed.emit()

    def _on_clean_changed(self, clean: bool) -> None:
        self.modified_changed.emit(not clean)

    def _on_index_changed(self, index: int) -> None:
        if self.graph.name != self._shown_name:
            self._shown_name = self.graph.name
            self.name_changed.emit(self.graph.name)

    # -- edits ------------------------------------------------------------------

    def push(self, command: QUndoCommand) -> None:
        if self.locked_reason is not None:  # the one gate every edit passes
            raise DocumentLocked(self.locked_reason)
        self.undo_stack.push(command)

    @contextmanager
    def macro(self, text: str) -> Iterator[None]:
        """Make the edits inside the ``with`` block one undo step named ``text``."""
        if self.locked_reason is not None:
            raise DocumentLocked(self.locked_reason)
        self.undo_stack.beginMacro(text)
        try:
            yield
        finally:
            self.undo_stack.endMacro()

    def set_name(self, name: str) -> None:
        """Name the project, or raise a :class:`GraphError` saying why ``name`` cannot be one."""
        name = name.strip()
        if not name:
            raise GraphError("a project name cannot be empty")
        if len(name) > MAX_NAME_LENGTH:
            raise GraphError(f"a project name can have at most {MAX_NAME_LENGTH} characters")
        self._given_name = True
        if name != self.graph.name:
            self.push(SetName(self.graph, name))

    def add_node(self, block_type: str, position: Position, params: Mapping[str, Any] | None = None) -> str:
        command = AddNode(self.graph, block_type, position, params=params)
        self.push(command)
        return command.name

    def remove(self, names: Iterable[str], edges: Iterable[Edge] = ()) -> None:
        names, edges = list(names), list(edges)
        if names or edges:
            self.push(RemoveNodes(self.graph, names, edges))

    def connect_blocks(self, source: str, target: str, port: int | None = None) -> Edge:
        """Connect, or raise the model's :class:`ConnectError` and change nothing."""
        edge = Edge(source, target, self.graph.check_connect(source, target, port))
        self.push(Connect(self.graph, edge))
        return edge

    def move_nodes(self, positions: Mapping[str, Position]) -> None:
        moved = {n: p for n, p in positions.items() if self.graph.node(n).position != p}
        if moved:
            self.push(MoveNodes(self.graph, moved))

    def set_params(self, name: str, changes: Mapping[str, Any]) -> None:
        """Change parameters, or raise the model's :class:`ParamError` and change nothing."""
        node = self.graph.node(name)
        coerced = node.spec.coerce_params(changes, node.params)
        if any(coerced[key] != node.params[key] for key in changes):
            self.push(SetParams(self.graph, name, changes))

    def check_rename(self, old: str, new: str) -> None:
        """Raise the :class:`GraphError` that renaming ``old`` to ``new`` would raise."""
        self.graph.check_rename(old, new)

    def rename(self, old: str, new: str) -> None:
        self.check_rename(old, new)
        if new != old:
            self.push(Rename(self.graph, old, new))

    def copy_text(self, names: Iterable[str]) -> str:
        """The blocks ``names`` and the edges among them as clipboard text (project JSON)."""
        return fragment_text(self.graph, names)

    def paste_text(self, text: str, offset: Position = (40.0, 40.0), verb: str = "Paste") -> list[str]:
        """Add the blocks in ``text``; returns their names ([] when ``text`` is no fragment).

        A fragment that fails the project file's checks raises its ProjectFileError.
        """
        paste = plan_paste(self.graph, text, offset)
        if paste is None or not paste.nodes:
            return []
        command = PasteBlocks(self.graph, paste, verb)
        self.push(command)
        return command.names

    def add_module(self, name: str, position: Position) -> list[str]:
        """Drop the palette's module ``name`` with its top-left at ``position``, as one undo step."""
        return self.paste_text(module_text(name), position, verb=f"Add {name} with")

    # -- groups -------------------------------------------------------------------

    def group(self, names: Iterable[str], name: str | None = None) -> str:
        """Group blocks under ``name`` (a free one when None), or raise the model's GraphError."""
        name = self.graph.groups.unique_name() if name is None else name
        members = self.graph.groups.check_new(name, names)
        self.push(GroupBlocks(self.graph, name, members))
        return name

    def ungroup(self, name: str) -> None:
        self.push(Ungroup(self.graph, name))

    def set_group_collapsed(self, name: str, collapsed: bool) -> None:
        if self.graph.groups[name].collapsed != collapsed:
            self.push(SetGroupCollapsed(self.graph, name, collapsed))

    def rename_group(self, old: str, new: str) -> None:
        self.graph.groups.check_name(new, allow=old)
        if new != old:
            self.push(RenameGroup(self.graph, old, new))

    def repeat_group(self, name: str, copies: int) -> list[str]:
        """Chain copies of group ``name`` so it occurs ``copies`` times; returns the new groups."""
        plan = plan_repeat(self.graph, name, copies)
        self.push(RepeatGroup(self.graph, plan))
        return [group for group, _ in plan.groups]

    def auto_layout(self, footprints: Mapping[str, Footprint] | None = None,
                    aspect: float | None = None) -> None:
        """Lay the graph out in layers, with the blocks' drawn sizes and for a window of ``aspect``."""
        command = ApplyLayout(self.graph, footprints=footprints, aspect=aspect)
        if any(command.old[n] != p for n, p in command.new.items()):
            self.push(command)

    # -- project settings and the training lock ---------------------------------------

    def set_meta(self, key: str, value: Mapping[str, Any]) -> None:
        """Replace the project's ``key`` section (``training``, ``dataset``) as an undoable edit."""
        if dict(value) != self.graph.meta.get(key, {}):
            self.push(SetMeta(self.graph, key, value))

    locked_changed = Signal(object)  # the reason (str), or None when unlocked
    locked_reason: str | None = None

    def set_locked(self, reason: str | None) -> None:
        """Refuse every edit (``push`` raises :class:`DocumentLocked`) while ``reason`` is set."""
        if reason != self.locked_reason:
            self.locked_reason = reason
            self.locked_changed.emit(reason)


class DocumentLocked(GraphError):
    """An edit of a document that a training run has locked; the message says why."""


def new_graph() -> Graph:
    """What File ▸ New starts from: one Input block to build on."""
    graph = Graph()
    graph.name = UNTITLED
    graph.add_node("Input", "input")
    return graph
