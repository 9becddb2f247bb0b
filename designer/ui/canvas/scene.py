"""The scene: one item per node and per edge, kept in step with the graph by its events.

The scene never edits the graph. It subscribes to the model's events in its
constructor and mirrors each one in a private ``_on_*`` handler, touching only
the items concerned (a ``shapes_changed`` repaints the named blocks and the
edges leaving them). Call :meth:`GraphScene.detach` before dropping it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene

from designer.graph.events import Event
from designer.graph.graph import Edge, Graph, Node
from designer.graph.inference import OK
from designer.ui.canvas.block_item import BlockItem
from designer.ui.canvas.edge_item import EdgeItem
from designer.ui.canvas.port_item import PortItem


class GraphScene(QGraphicsScene):
    """Mirrors ``graph``; ``item_for_node`` and ``node_for_item`` map between the two."""

    def __init__(self, graph: Graph, parent: Any = None) -> None:
        super().__init__(parent)
        self.graph = graph
        self._blocks: dict[str, BlockItem] = {}
        self._edges: dict[Edge, EdgeItem] = {}
        for node in graph.nodes.values():
            self._on_node_added(node)
        for edge in graph.edges:
            self._on_edge_added(edge)
        events = graph.events
        self._subscriptions: list[tuple[Event, Callable[..., Any]]] = [
            (events.node_added, self._on_node_added),
            (events.node_removed, self._on_node_removed),
            (events.node_renamed, self._on_node_renamed),
            (events.node_moved, self._on_node_moved),
            (events.params_changed, self._on_params_changed),
            (events.edge_added, self._on_edge_added),
            (events.edge_removed, self._on_edge_removed),
            (events.shapes_changed, self._on_shapes_changed),
        ]
        for event, callback in self._subscriptions:
            event.connect(callback)

    def detach(self) -> None:
        """Stop following the graph."""
        for event, callback in self._subscriptions:
            event.disconnect(callback)
        self._subscriptions = []

    # -- maps -------------------------------------------------------------------

    def item_for_node(self, name: str) -> BlockItem:
        return self._blocks[name]

    def node_for_item(self, item: QGraphicsItem | None) -> str | None:
        """The node an item (a block or one of its ports) stands for."""
        if isinstance(item, PortItem):
            item = item.block
        return item.name if isinstance(item, BlockItem) and self._blocks.get(item.name) is item else None

    def item_for_edge(self, edge: Edge) -> EdgeItem:
        return self._edges[edge]

    def block_items(self) -> list[BlockItem]:
        return list(self._blocks.values())

    def edge_items(self) -> list[EdgeItem]:
        return list(self._edges.values())

    # -- selection and hit tests ----------------------------------------------------

    def selected_nodes(self) -> list[str]:
        return [item.name for item in self._blocks.values() if item.isSelected()]

    def selected_edges(self) -> list[Edge]:
        return [edge for edge, item in self._edges.items() if item.isSelected()]

    def select_nodes(self, names: Iterable[str]) -> None:
        wanted = set(names)
        self.blockSignals(True)
        try:
            self.clearSelection()
            for name in wanted:
                if name in self._blocks:
                    self._blocks[name].setSelected(True)
        finally:
            self.blockSignals(False)
        self.selectionChanged.emit()

    def port_at(self, pos: QPointF, kind: str) -> PortItem | None:
        for item in self.items(pos):
            if isinstance(item, PortItem) and item.kind == kind:
                return item
        return None

    def block_at(self, pos: QPointF) -> BlockItem | None:
        for item in self.items(pos):
            if isinstance(item, PortItem):
                return item.block
            if isinstance(item, BlockItem):
                return item
        return None

    # -- model events -----------------------------------------------------------------

    def _on_node_added(self, node: Node) -> None:
        item = BlockItem(node, self.graph.results.get(node.name))
        self._blocks[node.name] = item
        self.addItem(item)

    def _on_node_removed(self, node: Node) -> None:
        item = self._blocks.pop(node.name)
        for edge in list(item.edges):  # none are left after a model removal; be safe
            edge.detach()
        self.removeItem(item)

    def _on_node_renamed(self, node: Node, old: str) -> None:
        item = self._blocks.pop(old)
        self._blocks[node.name] = item
        for edge, edge_item in list(self._edges.items()):
            if old in (edge.source, edge.target):
                renamed = Edge(node.name if edge.source == old else edge.source,
                               node.name if edge.target == old else edge.target, edge.port)
                del self._edges[edge]
                self._edges[renamed] = edge_item
                edge_item.edge = renamed
        item.set_name(node.name)

    def _on_node_moved(self, node: Node) -> None:
        self._blocks[node.name].setPos(*node.position)

    def _on_params_changed(self, node: Node, keys: list[str]) -> None:
        self._blocks[node.name].set_label(node.label)

    def _on_edge_added(self, edge: Edge) -> None:
        source, target = self._blocks[edge.source], self._blocks[edge.target]
        target.set_input_ports(e.port for e in self.graph.in_edges(edge.target))
        source.output_port.set_connected(True)
        item = EdgeItem(edge, source, target)
        self._edges[edge] = item
        self.addItem(item)
        self._label_edge(item)

    def _on_edge_removed(self, edge: Edge) -> None:
        item = self._edges.pop(edge)
        item.detach()
        self.removeItem(item)
        if edge.target in self.graph:
            self._blocks[edge.target].set_input_ports(e.port for e in self.graph.in_edges(edge.target))
        if edge.source in self.graph:
            self._blocks[edge.source].output_port.set_connected(bool(self.graph.out_edges(edge.source)))

    def _on_shapes_changed(self, names: Iterable[str]) -> None:
        for name in names:
            item = self._blocks.get(name)
            if item is None:
                continue
            item.set_result(self.graph.results.get(name))
            for edge in self.graph.out_edges(name):
                self._label_edge(self._edges[edge])

    def _label_edge(self, item: EdgeItem) -> None:
        result = self.graph.results.get(item.edge.source)
        if result is None:
            item.set_label("…", known=False)
        else:
            item.set_label(result.shape_text if result.status == OK else "?", result.status == OK)
