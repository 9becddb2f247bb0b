"""Undoable edits: one ``QUndoCommand`` per kind of user edit.

Commands hold names and plain values, never graphics items, and call only
:class:`~designer.graph.graph.Graph` methods; the canvas follows through the
model's events. Every command is checked before it is pushed (see
:mod:`designer.ui.document`), so ``redo`` never meets a refusal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from PySide6.QtGui import QUndoCommand

from designer.graph.fragment import Paste
from designer.graph.graph import Edge, Graph, Position
from designer.graph.layout import Footprint, layered_positions
from designer.graph.repeat import RepeatPlan

SET_PARAMS_ID = 1001


class AddNode(QUndoCommand):
    """Add one block; the first redo picks the name, later ones reuse it."""

    def __init__(self, graph: Graph, block_type: str, position: Position, name: str | None = None,
                 params: Mapping[str, Any] | None = None) -> None:
        super().__init__()
        self.graph = graph
        self.block_type = block_type
        self.position = position
        self.name = name or graph.unique_name(graph.registry[block_type].name_prefix)
        self.params = dict(params or {})
        self.setText(f"Add {self.name}")

    def redo(self) -> None:
        self.graph.add_node(self.block_type, self.name, self.params, self.position)

    def undo(self) -> None:
        self.graph.remove_node(self.name)


class Connect(QUndoCommand):
    def __init__(self, graph: Graph, edge: Edge) -> None:
        super().__init__(f"Connect {edge.source} → {edge.target}")
        self.graph = graph
        self.edge = edge

    def redo(self) -> None:
        self.graph.restore_edge(self.edge)

    def undo(self) -> None:
        self.graph.disconnect(self.edge)


class Disconnect(QUndoCommand):
    def __init__(self, graph: Graph, edge: Edge) -> None:
        super().__init__(f"Disconnect {edge.source} → {edge.target}")
        self.graph = graph
        self.edge = edge

    def redo(self) -> None:
        self.graph.disconnect(self.edge)

    def undo(self) -> None:
        self.graph.restore_edge(self.edge)


class RemoveNode(QUndoCommand):
    """Remove one block whose edges are already gone (a child of :class:`RemoveNodes`)."""

    def __init__(self, graph: Graph, name: str) -> None:
        super().__init__(f"Delete {name}")
        node = graph.node(name)
        self.graph = graph
        self.name = name
        self.block_type = node.type
        self.params = dict(node.params)
        self.position = node.position
        self.groups = graph.groups.lineage_of(name)

    def redo(self) -> None:
        self.graph.remove_node(self.name)

    def undo(self) -> None:
        self.graph.add_node(self.block_type, self.name, self.params, self.position)
        self.graph.groups.put_back(self.name, self.groups)


class RemoveNodes(QUndoCommand):
    """Delete blocks and edges in one step.

    The cascade is made of child commands: a :class:`Disconnect` for every edge
    that touches a deleted block (and every extra edge asked for), then a
    :class:`RemoveNode` per block. Redo runs them in order and undo in reverse,
    so undo puts the blocks back before their edges. Shapes are inferred once,
    after the whole cascade.
    """

    def __init__(self, graph: Graph, names: Iterable[str], edges: Iterable[Edge] = ()) -> None:
        super().__init__()
        self.graph = graph
        wanted = set(names)
        names = [n for n in graph.topological_order() if n in wanted]
        doomed: dict[Edge, None] = dict.fromkeys(edges)
        for name in names:
            doomed.update(dict.fromkeys(graph.in_edges(name) + graph.out_edges(name)))
        # Children are kept here rather than parented in Qt: a Qt parent deletes its
        # children in C++, and PySide, which still owns their wrappers, would delete
        # them a second time.
        self.children: list[QUndoCommand] = [Disconnect(graph, e) for e in doomed]
        self.children += [RemoveNode(graph, n) for n in names]
        self.setText(_delete_text(names, list(doomed)))

    def redo(self) -> None:
        with self.graph.deferred_inference():
            for child in self.children:
                child.redo()

    def undo(self) -> None:
        with self.graph.deferred_inference():
            for child in reversed(self.children):
                child.undo()


def _delete_text(names: list[str], edges: list[Edge]) -> str:
    if len(names) == 1:
        return f"Delete {names[0]}"
    if names:
        return f"Delete {len(names)} blocks"
    if len(edges) == 1:
        return f"Disconnect {edges[0].source} → {edges[0].target}"
    return f"Delete {len(edges)} connections"


class MoveNodes(QUndoCommand):
    """Move blocks from where they were to new positions (one drag, one step)."""

    def __init__(self, graph: Graph, positions: Mapping[str, Position], text: str = "") -> None:
        super().__init__()
        self.graph = graph
        self.new = dict(positions)
        self.old = {name: graph.node(name).position for name in positions}
        names = list(positions)
        self.setText(text or (f"Move {names[0]}" if len(names) == 1 else f"Move {len(names)} blocks"))

    def redo(self) -> None:
        for name, position in self.new.items():
            self.graph.move(name, position)

    def undo(self) -> None:
        for name, position in self.old.items():
            self.graph.move(name, position)


class ApplyLayout(MoveNodes):
    """Lay the whole graph out in layers (the model's layered layout)."""

    def __init__(self, graph: Graph, direction: str = "LR", *,
                 footprints: Mapping[str, Footprint] | None = None, aspect: float | None = None) -> None:
        extra: dict[str, Any] = {"aspect": aspect} if aspect is not None else {}
        positions = layered_positions(graph, direction, footprints=footprints, **extra)
        super().__init__(graph, positions, "Auto Layout")


class SetParams(QUndoCommand):
    """Change parameters of one block; typing into one field merges into one step."""

    def __init__(self, graph: Graph, name: str, changes: Mapping[str, Any]) -> None:
        super().__init__()
        node = graph.node(name)
        self.graph = graph
        self.name = name
        coerced = node.spec.coerce_params(changes, node.params)
        self.new = {key: coerced[key] for key in changes}
        self.old = {key: node.params[key] for key in changes}
        self.setText(f"Change {', '.join(changes)} of {name}")

    def id(self) -> int:
        return SET_PARAMS_ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, SetParams) or other.name != self.name or other.new.keys() != self.new.keys():
            return False
        self.new = dict(other.new)
        if self.new == self.old:
            self.setObsolete(True)  # typed back to where it was: nothing to undo
        return True

    def redo(self) -> None:
        self.graph.set_params(self.name, self.new)

    def undo(self) -> None:
        self.graph.set_params(self.name, self.old)


class Rename(QUndoCommand):
    def __init__(self, graph: Graph, old: str, new: str) -> None:
        super().__init__(f"Rename {old} to {new}")
        self.graph = graph
        self.old = old
        self.new = new

    def redo(self) -> None:
        self.graph.rename(self.old, self.new)

    def undo(self) -> None:
        self.graph.rename(self.new, self.old)


class PasteBlocks(QUndoCommand):
    """Add pasted blocks, the edges among them and their groups as one step."""

    def __init__(self, graph: Graph, paste: Paste, text: str = "Paste") -> None:
        count = len(paste.nodes)
        super().__init__(f"{text} {count} block{'s' if count != 1 else ''}")
        self.graph = graph
        self.paste = paste

    @property
    def names(self) -> list[str]:
        return [node.name for node in self.paste.nodes]

    def redo(self) -> None:
        with self.graph.deferred_inference():
            for node in self.paste.nodes:
                self.graph.add_node(node.type, node.name, node.params, node.position)
            for edge in self.paste.edges:
                self.graph.restore_edge(edge)
        for group in self.paste.groups:  # inner groups first: each outer one then goes around them
            self.graph.groups.add(group.name, group.members, group.collapsed, kind=group.kind)

    def undo(self) -> None:
        for group in reversed(self.paste.groups):
            self.graph.groups.remove(group.name)
        with self.graph.deferred_inference():
            for node in reversed(self.paste.nodes):
                self.graph.remove_node(node.name)


class GroupBlocks(QUndoCommand):
    def __init__(self, graph: Graph, name: str, members: Iterable[str]) -> None:
        self.members = frozenset(members)
        super().__init__(f"Group {len(self.members)} blocks as {name}")
        self.graph = graph
        self.name = name

    def redo(self) -> None:
        self.graph.groups.add(self.name, self.members)

    def undo(self) -> None:
        self.graph.groups.remove(self.name)


class Ungroup(QUndoCommand):
    def __init__(self, graph: Graph, name: str) -> None:
        super().__init__(f"Ungroup {name}")
        self.graph = graph
        self.group = graph.groups[name]

    def redo(self) -> None:
        self.graph.groups.remove(self.group.name)

    def undo(self) -> None:
        group = self.group
        self.graph.groups.add(group.name, group.members, group.collapsed, parent=group.parent, kind=group.kind)


class SetGroupCollapsed(QUndoCommand):
    def __init__(self, graph: Graph, name: str, collapsed: bool) -> None:
        super().__init__(f"{'Collapse' if collapsed else 'Expand'} {name}")
        self.graph = graph
        self.name = name
        self.collapsed = collapsed

    def redo(self) -> None:
        self.graph.groups.set_collapsed(self.name, self.collapsed)

    def undo(self) -> None:
        self.graph.groups.set_collapsed(self.name, not self.collapsed)


class RenameGroup(QUndoCommand):
    def __init__(self, graph: Graph, old: str, new: str) -> None:
        super().__init__(f"Rename group {old} to {new}")
        self.graph = graph
        self.old = old
        self.new = new

    def redo(self) -> None:
        self.graph.groups.rename(self.old, self.new)

    def undo(self) -> None:
        self.graph.groups.rename(self.new, self.old)


class RepeatGroup(QUndoCommand):
    """Chain copies of a group after it (see :mod:`designer.graph.repeat`), as one step."""

    def __init__(self, graph: Graph, plan: RepeatPlan) -> None:
        super().__init__(f"Repeat {plan.group} ×{len(plan.groups) + 1}")
        self.graph = graph
        self.plan = plan
        self.old_positions = {n: graph.node(n).position for n in plan.moves}

    def redo(self) -> None:
        plan = self.plan
        with self.graph.deferred_inference():
            for edge in plan.remove_edges:
                self.graph.disconnect(edge)
            for node in plan.nodes:
                self.graph.add_node(node.type, node.name, node.params, node.position)
            for edge in plan.add_edges:
                self.graph.restore_edge(edge)
            for name, members in plan.groups:
                self.graph.groups.add(name, members, plan.collapsed)
            for name, position in plan.moves.items():
                self.graph.move(name, position)

    def undo(self) -> None:
        plan = self.plan
        with self.graph.deferred_inference():
            for name, position in self.old_positions.items():
                self.graph.move(name, position)
            for node in reversed(plan.nodes):
                self.graph.remove_node(node.name)  # its edges and its group go with it
            for edge in plan.remove_edges:
                self.graph.restore_edge(edge)


SET_META_ID = 1002


class SetMeta(QUndoCommand):
    """Replace a project-level section (``training``, ``dataset``); edits of one setting merge.

    Typing a learning rate sends one command per keystroke; consecutive commands
    that change the same keys of the same section merge into one undo step, like
    :class:`SetParams`.
    """

    def __init__(self, graph: Graph, key: str, value: Mapping[str, Any]) -> None:
        super().__init__()
        self.graph = graph
        self.key = key
        self.old = dict(graph.meta.get(key, {}))
        self.new = dict(value)
        self.changed = frozenset(k for k in self.old.keys() | self.new.keys()
                                 if self.old.get(k) != self.new.get(k))
        names = sorted(self.changed)
        self.setText(f"Change {key}.{names[0]}" if len(names) == 1 else f"Change {key} settings")

    def id(self) -> int:
        return SET_META_ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, SetMeta) or other.key != self.key or other.changed != self.changed:
            return False
        self.new = dict(other.new)
        if self.new == self.old:
            self.setObsolete(True)  # typed back to where it was: nothing to undo
        return True

    def redo(self) -> None:
        self.graph.set_meta(self.key, self.new)

    def undo(self) -> None:
        self.graph.set_meta(self.key, self.old)


class SetName(QUndoCommand):
    """Name the project: the summary's header, the export's docstring and class name use it."""

    def __init__(self, graph: Graph, name: str) -> None:
        super().__init__(f"Name the project {name}")
        self.graph = graph
        self.old = graph.name
        self.new = name

    def redo(self) -> None:
        self.graph.name = self.new

    def undo(self) -> None:
        self.graph.name = self.old
