"""Named groups of blocks: a VGG stage or a ResNet basic block drawn as one box.

A group is only a name for a set of blocks, and whether the canvas shows it
collapsed; the blocks and their edges stay in the graph as they are, so shape
inference, compiling and export never see groups. A block belongs to at most
one group, and a group is never empty: removing its last block removes it.
:class:`Groups` is owned by the :class:`~designer.graph.graph.Graph`, which
tells it when blocks are removed or renamed; everything else edits groups
through it, and it announces each change with ``group_changed(name)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace

from designer.graph.errors import DuplicateNameError, GraphError, NodeNotFoundError
from designer.graph.events import Event

MAX_GROUP_NAME = 200


@dataclass(frozen=True)
class Group:
    name: str
    members: frozenset[str]
    collapsed: bool = False


class Groups(Mapping[str, Group]):
    """The graph's groups by name, and which group each block is in."""

    def __init__(self, has_node: Callable[[str], bool], changed: Event) -> None:
        self._has_node = has_node
        self._changed = changed
        self._groups: dict[str, Group] = {}
        self._of: dict[str, str] = {}  # block: its group

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
        """The group ``node`` is in, or None."""
        return self._of.get(node)

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

    def check_new(self, name: str, members: Iterable[str]) -> frozenset[str]:
        """Raise the GraphError that ``add(name, members)`` would raise; returns the members."""
        self.check_name(name)
        chosen = frozenset(members)
        if not chosen:
            raise GraphError("select the blocks to group first")
        for node in sorted(chosen):
            if not self._has_node(node):
                raise NodeNotFoundError(f"there is no block named {node!r}")
            if node in self._of:
                raise GraphError(f"{node} is already in group {self._of[node]}; ungroup it first")
        return chosen

    # -- edits ---------------------------------------------------------------------------------

    def add(self, name: str, members: Iterable[str], collapsed: bool = False) -> Group:
        group = Group(name, self.check_new(name, members), bool(collapsed))
        self._groups[name] = group
        self._of.update(dict.fromkeys(group.members, name))
        self._changed.emit(name)
        return group

    def remove(self, name: str) -> Group:
        group = self[name]
        del self._groups[name]
        for node in group.members:
            del self._of[node]
        self._changed.emit(name)
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
        self._of.update(dict.fromkeys(group.members, new))
        self._changed.emit(old)
        self._changed.emit(new)

    def add_member(self, name: str, node: str, collapsed: bool = False) -> None:
        """Put ``node`` back into group ``name``, making the group if it went (undo of a delete)."""
        if name not in self._groups:
            self.add(name, [node], collapsed)
            return
        if node in self._of:
            raise GraphError(f"{node} is already in group {self._of[node]}")
        group = self._groups[name]
        self._groups[name] = replace(group, members=group.members | {node})
        self._of[node] = name
        self._changed.emit(name)

    # -- told by the graph -----------------------------------------------------------------

    def node_removed(self, node: str) -> None:
        name = self._of.pop(node, None)
        if name is None:
            return
        members = self._groups[name].members - {node}
        if members:
            self._groups[name] = replace(self._groups[name], members=members)
        else:
            del self._groups[name]
        self._changed.emit(name)

    def node_renamed(self, old: str, new: str) -> None:
        name = self._of.pop(old, None)
        if name is None:
            return
        self._of[new] = name
        group = self._groups[name]
        self._groups[name] = replace(group, members=(group.members - {old}) | {new})
        self._changed.emit(name)

    def validate(self, nodes: Mapping[str, object]) -> None:
        seen: dict[str, str] = {}
        for name, group in self._groups.items():
            assert group.name == name, f"group {group.name!r} stored under {name!r}"
            assert group.members, f"group {name} is empty"
            for node in group.members:
                assert node in nodes, f"group {name} holds unknown block {node}"
                assert node not in seen, f"{node} is in groups {seen.get(node)} and {name}"
                seen[node] = name
        assert seen == self._of, "group index is stale"
