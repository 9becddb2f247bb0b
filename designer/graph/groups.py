"""Named groups of blocks, nested as modules nest: a ResNet stage holding its basic blocks.

A group is a name for a set of blocks, whether the canvas shows it collapsed,
and where it sits: groups nest, so any two are either disjoint or one holds the
other (``layer1`` holds ``layer1.0``, which holds ``conv1``). ``members`` is
every block a group holds, those of the groups inside it included, so the
canvas can hide or frame them and :mod:`designer.graph.repeat` can find a
stage's boundary without walking the nesting. A group is never empty: removing
its last block removes it. The blocks and edges stay in the graph as they are,
so shape inference and compiling never see groups; the Python export writes
each group as an ``nn.Module`` class (:mod:`designer.graph.structure`).

:class:`Groups` is owned by the :class:`~designer.graph.graph.Graph`, which
tells it when blocks are removed or renamed; everything else edits groups
through it, and it announces each change with ``group_changed(name)``.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Literal

from designer.graph.errors import DuplicateNameError, GraphError, NodeNotFoundError
from designer.graph.events import Event

MAX_GROUP_NAME = 200
MAX_KIND = 200


class _Where(enum.Enum):
    INNERMOST = "innermost"


INNERMOST = _Where.INNERMOST  # put a new group inside the smallest group that holds more than it
Parent = str | None | Literal[_Where.INNERMOST]


@dataclass(frozen=True)
class Group:
    name: str
    members: frozenset[str]  # every block in it, those of the groups inside it included
    collapsed: bool = False
    parent: str | None = None
    kind: str = ""  # the class it was imported from (``BasicBlock``), which the export keeps


class Groups(Mapping[str, Group]):
    """The graph's groups by name, how they nest, and which group each block is directly in."""

    def __init__(self, has_node: Callable[[str], bool], changed: Event) -> None:
        self._has_node = has_node
        self._changed = changed
        self._groups: dict[str, Group] = {}
        self._of: dict[str, str] = {}  # block: the innermost group holding it

    # -- reading ---------------------------------------------------------------------

    def __getitem__(self, name: str) -> Group:
        try:
            return self._groups[name]
        except KeyError:
            raise GraphError(f"there is no group named {name!r}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._groups

    def __iter__(self) -> Iterator[str]:
        return iter(self._groups)

    def __len__(self) -> int:
        return len(self._groups)

    def of(self, node: str) -> str | None:
        """The innermost group ``node`` is in, or None."""
        return self._of.get(node)

    def path(self, node: str) -> list[str]:
        """The groups holding ``node``, outermost first."""
        inner = self._of.get(node)
        return self.lineage(inner) if inner is not None else []

    def lineage(self, name: str) -> list[str]:
        """Group ``name`` and the groups holding it, outermost first."""
        chain: list[str] = []
        current: str | None = name
        while current is not None:
            chain.append(current)
            current = self._groups[current].parent
        return chain[::-1]

    def children(self, name: str | None) -> list[str]:
        """The groups directly inside ``name`` (the top-level groups for None), in the order made."""
        return [g.name for g in self._groups.values() if g.parent == name]

    def direct_members(self, name: str) -> frozenset[str]:
        """The blocks in ``name`` that no group inside it holds."""
        return frozenset(n for n in self._groups[name].members if self._of[n] == name)

    def unique_name(self, stem: str = "group") -> str:
        n = 1
        while f"{stem}{n}" in self._groups:
            n += 1
        return f"{stem}{n}"

    # -- checks --------------------------------------------------------------------------

    def check_name(self, name: object, allow: str | None = None) -> str:
        if not isinstance(name, str) or not name.strip():
            raise GraphError("a group name cannot be empty")
        if len(name) > MAX_GROUP_NAME:
            raise GraphError(f"a group name can have at most {MAX_GROUP_NAME} characters")
        if name in self._groups and name != allow:
            raise DuplicateNameError(f"there is already a group named {name!r}")
        return name

    def check_new(self, name: str, members: Iterable[str], parent: Parent = INNERMOST) -> frozenset[str]:
        """Raise the GraphError that ``add(name, members, parent=parent)`` would raise; returns the members."""
        self.check_name(name)
        chosen = frozenset(members)
        if not chosen:
            raise GraphError("select the blocks to group first")
        for node in sorted(chosen):
            if not self._has_node(node):
                raise NodeNotFoundError(f"there is no block named {node!r}")
        self._placement(chosen, parent)
        return chosen

    def _placement(self, chosen: frozenset[str], parent: Parent) -> str | None:
        """Where a group of ``chosen`` goes: its parent. Groups may nest but never partly overlap."""
        for group in self._groups.values():
            inside, outside = group.members & chosen, group.members - chosen
            if inside and outside and not chosen <= group.members:
                some_in, some_out = sorted(inside)[0], sorted(outside)[0]
                raise GraphError(f"{some_in} is in group {group.name} but {some_out} of that group is not "
                                 f"chosen: choose all of {group.name} or none of it")
        if parent is INNERMOST:
            holders = [g for g in self._groups.values() if chosen < g.members]
            return max(holders, key=lambda g: len(self.lineage(g.name))).name if holders else None
        if parent is not None:
            if parent not in self._groups:
                raise GraphError(f"there is no group named {parent!r} to put it in")
            if not chosen <= self._groups[parent].members:
                stray = sorted(chosen - self._groups[parent].members)[0]
                raise GraphError(f"{stray} is not in group {parent}, so it cannot go in a group inside it")
        around = set(self.lineage(parent)) if parent is not None else set()
        for group in self._groups.values():
            if group.name not in around and chosen < group.members:
                raise GraphError(f"the blocks are all in group {group.name}: put the new group inside it")
        return parent

    # -- edits ---------------------------------------------------------------------------------

    def add(self, name: str, members: Iterable[str], collapsed: bool = False, parent: Parent = INNERMOST,
            kind: str = "") -> Group:
        """Group ``members``, inside ``parent`` (by default the smallest group holding more than them).

        The groups under that parent whose blocks are all among ``members`` move inside the new one,
        so a group chosen with exactly the blocks of another goes around it.
        """
        chosen = self.check_new(name, members, parent)
        where = self._placement(chosen, parent)
        if len(kind) > MAX_KIND:
            raise GraphError(f"a group's class name can have at most {MAX_KIND} characters")
        group = Group(name, chosen, bool(collapsed), where, kind)
        inner = [g for g in self._groups.values() if g.parent == where and g.members <= chosen]
        self._groups[name] = group
        for child in inner:
            self._groups[child.name] = replace(child, parent=name)
        for node in chosen:
            if self._of.get(node) == where:
                self._of[node] = name
        self._changed.emit(name)
        for child in inner:
            self._changed.emit(child.name)
        return group

    def remove(self, name: str) -> Group:
        """Dissolve group ``name``: what it held goes to the group around it."""
        group = self[name]
        del self._groups[name]
        moved = [g for g in self._groups.values() if g.parent == name]
        for child in moved:
            self._groups[child.name] = replace(child, parent=group.parent)
        for node in group.members:
            if self._of[node] == name:
                if group.parent is None:
                    del self._of[node]
                else:
                    self._of[node] = group.parent
        self._changed.emit(name)
        for child in moved:
            self._changed.emit(child.name)
        return group

    def set_collapsed(self, name: str, collapsed: bool) -> None:
        group = self[name]
        if group.collapsed != collapsed:
            self._groups[name] = replace(group, collapsed=collapsed)
            self._changed.emit(name)

    def rename(self, old: str, new: str) -> None:
        group = self[old]
        self.check_name(new, allow=old)
        if new == old:
            return
        self._groups = {new if k == old else k: v for k, v in self._groups.items()}
        self._groups[new] = replace(group, name=new)
        for child in [g for g in self._groups.values() if g.parent == old]:
            self._groups[child.name] = replace(child, parent=new)
        self._of.update({node: new for node, inner in self._of.items() if inner == old})
        self._changed.emit(old)
        self._changed.emit(new)

    def lineage_of(self, node: str) -> tuple[Group, ...]:
        """The groups holding ``node``, outermost first, as they are now: what :meth:`put_back` needs."""
        return tuple(self._groups[g] for g in self.path(node))

    def put_back(self, node: str, lineage: Iterable[Group]) -> None:
        """Return ``node`` to the groups it was in (the undo of a delete), making those that went with it."""
        for group in lineage:
            if group.name in self._groups:
                current = self._groups[group.name]
                if node in current.members:
                    raise GraphError(f"{node} is already in group {group.name}")
                self._groups[group.name] = replace(current, members=current.members | {node})
            else:
                self._groups[group.name] = replace(group, members=frozenset([node]))
            self._of[node] = group.name
            self._changed.emit(group.name)

    # -- told by the graph -----------------------------------------------------------------

    def node_removed(self, node: str) -> None:
        if self._of.pop(node, None) is None:
            return
        for name in [g.name for g in self._groups.values() if node in g.members][::-1]:
            members = self._groups[name].members - {node}
            if members:
                self._groups[name] = replace(self._groups[name], members=members)
            else:
                del self._groups[name]  # its parent, if any, still holds other blocks or goes next
            self._changed.emit(name)

    def node_renamed(self, old: str, new: str) -> None:
        inner = self._of.pop(old, None)
        if inner is None:
            return
        self._of[new] = inner
        for name in self.lineage(inner):
            group = self._groups[name]
            self._groups[name] = replace(group, members=(group.members - {old}) | {new})
            self._changed.emit(name)

    def validate(self, nodes: Mapping[str, object]) -> None:
        innermost: dict[str, str] = {}
        for name, group in self._groups.items():
            assert group.name == name, f"group {group.name!r} stored under {name!r}"
            assert group.members, f"group {name} is empty"
            if group.parent is not None:
                assert group.parent in self._groups, f"group {name} is in unknown group {group.parent}"
                assert group.members <= self._groups[group.parent].members, \
                    f"group {name} holds blocks its parent {group.parent} does not"
            depth = len(self.lineage(name))
            for node in group.members:
                assert node in nodes, f"group {name} holds unknown block {node}"
                if node not in innermost or depth > len(self.lineage(innermost[node])):
                    innermost[node] = name
        holding: dict[str, set[str]] = {}
        for name, group in self._groups.items():
            for node in group.members:
                holding.setdefault(node, set()).add(name)
        for node, names in holding.items():  # the groups holding a block are one chain: no partial overlaps
            assert names == set(self.lineage(innermost[node])), f"groups {sorted(names)} overlap at {node}"
        assert innermost == self._of, "group index is stale"
