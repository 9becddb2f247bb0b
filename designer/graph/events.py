"""A minimal synchronous event: the model announces what happened, views listen.

Events are named in the past tense (``node_added``) and carry plain Python
values, so the model never depends on Qt.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Event:
    """A list of callbacks called in connection order."""

    __slots__ = ("_callbacks", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self._callbacks: list[Callable[..., Any]] = []

    def connect(self, callback: Callable[..., Any]) -> Callable[..., Any]:
        self._callbacks.append(callback)
        return callback

    def disconnect(self, callback: Callable[..., Any]) -> None:
        self._callbacks.remove(callback)

    def emit(self, *args: Any) -> None:
        for callback in tuple(self._callbacks):
            callback(*args)

    def __len__(self) -> int:
        return len(self._callbacks)

    def __repr__(self) -> str:
        return f"Event({self.name!r}, {len(self._callbacks)} listeners)"


class GraphEvents:
    """The events a :class:`~designer.graph.graph.Graph` emits.

    ``node_added(node)``, ``node_removed(node)``, ``node_renamed(node, old_name)``,
    ``node_moved(node)``, ``params_changed(node, changed_keys)``,
    ``edge_added(edge)``, ``edge_removed(edge)``,
    ``shapes_changed(names)`` after inference updated the results of ``names``,
    ``meta_changed(key)`` when a project-level section (training, dataset) changed,
    ``group_changed(name)`` when group ``name`` was made, removed, renamed, collapsed,
    expanded, or gained or lost a block.
    """

    def __init__(self) -> None:
        self.node_added = Event("node_added")
        self.node_removed = Event("node_removed")
        self.node_renamed = Event("node_renamed")
        self.node_moved = Event("node_moved")
        self.params_changed = Event("params_changed")
        self.edge_added = Event("edge_added")
        self.edge_removed = Event("edge_removed")
        self.shapes_changed = Event("shapes_changed")
        self.meta_changed = Event("meta_changed")
        self.group_changed = Event("group_changed")

    def all(self) -> list[Event]:
        return [value for value in vars(self).values() if isinstance(value, Event)]
