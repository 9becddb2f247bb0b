"""Graph events delivered to a widget that may be gone before the graph is.

A graph is a plain Python object that can outlive the Qt widgets watching it
(a document closed, a panel rebuilt). A :class:`GraphSubscriptions` holds its
widget weakly and drops its callbacks at the first event after the widget's
C++ side has been deleted, so an event never reaches a dead widget.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping
from typing import Any

import shiboken6
from PySide6.QtCore import QObject

from designer.graph.graph import Graph


class GraphSubscriptions:
    """Connects ``graph.events.<name>`` to ``owner``'s handler, one per event name."""

    def __init__(self, graph: Graph, owner: QObject, handlers: Mapping[str, Callable[..., Any]]) -> None:
        self.graph: Graph | None = graph
        self._owner = weakref.ref(owner)
        self._callbacks: list[tuple[str, Callable[..., Any]]] = []
        for name, handler in handlers.items():
            callback = self._forward(handler.__name__)
            getattr(graph.events, name).connect(callback)
            self._callbacks.append((name, callback))

    def _forward(self, method: str) -> Callable[..., None]:
        def callback(*args: Any) -> None:
            owner = self._owner()
            if owner is None or not shiboken6.isValid(owner):
                self.close()
                return
            getattr(owner, method)(*args)

        return callback

    def close(self) -> None:
        if self.graph is not None:
            for name, callback in self._callbacks:
                getattr(self.graph.events, name).disconnect(callback)
            self.graph, self._callbacks = None, []
