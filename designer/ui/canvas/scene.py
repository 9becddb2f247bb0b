"""The scene: one item per node and per edge, kept in step with the graph by its events.

The scene never edits the graph. It subscribes to the model's events in its
constructor and mirrors each one in a private ``_on_*`` handler, touching only
the items concerned (a ``shapes_changed`` repaints the named blocks and the
edges leaving them). Call :meth:`GraphScene.detach` before dropping it.

Its items paint in the scene's :attr:`~GraphScene.theme`: the application's
current theme, repainting when it changes, or a fixed one (an exported picture
is always light).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from PySide6.QtCore import QPointF, QTimer, Signal
from PySide6.QtGui import QColor, QPixmapCache
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene

from designer.graph.events import Event
from designer.graph.graph import Edge, Graph, Node
from designer.graph.inference import OK, NodeResult
from designer.graph.layout import Footprint
from designer.graph.summary import human
from designer.ui.canvas.block_item import BlockItem
from designer.ui.canvas.edge_item import EdgeItem, label_room
from designer.ui.canvas.group_item import GroupItem
from designer.ui.canvas.port_item import PortItem
from designer.ui.canvas.stat_item import StatItem, format_value, fractions, heat
from designer.ui.theme import Theme, current, notifier

# The items' cached pictures live in QPixmapCache; its default 10 MB would not
# hold a thousand blocks and edges on a high-density screen, and an evicted
# picture is redrawn on every repaint.
PIXMAP_CACHE_KB = 64 * 1024


class GraphScene(QGraphicsScene):
    """Mirrors ``graph``; ``item_for_node`` and ``node_for_item`` map between the two."""

    group_toggle_requested = Signal(str, bool)  # a group's header or box asks to (un)collapse it

    def __init__(self, graph: Graph, parent: Any = None, theme: Theme | None = None) -> None:
        super().__init__(parent)
        self.graph = graph
        self._fixed_theme = theme
        if QPixmapCache.cacheLimit() < PIXMAP_CACHE_KB:
            QPixmapCache.setCacheLimit(PIXMAP_CACHE_KB)
        self._blocks: dict[str, BlockItem] = {}
        self._edges: dict[Edge, EdgeItem] = {}
        self._groups: dict[str, GroupItem] = {}
        self._stat_items: dict[str, StatItem] = {}
        self._reroute_pending = False
        self._moved = 0  # blocks moved since the edges last looked for their ways
        for node in graph.nodes.values():
            self._on_node_added(node)
        for edge in graph.edges:
            self._on_edge_added(edge)
        self._settling = False  # while True, group changes wait for one _apply_nesting at the end
        with self._groups_settled():
            for name in graph.groups:
                self._on_group_changed(name)
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
            (events.group_changed, self._on_group_changed),
        ]
        for event, callback in self._subscriptions:
            event.connect(callback)
        self._follows_theme = theme is None
        if self._follows_theme:
            notifier().theme_changed.connect(self._on_theme_changed)

    def detach(self) -> None:
        """Stop following the graph (and the application's theme)."""
        for event, callback in self._subscriptions:
            event.disconnect(callback)
        self._subscriptions = []
        if self._follows_theme:
            notifier().theme_changed.disconnect(self._on_theme_changed)
            self._follows_theme = False

    @property
    def theme(self) -> Theme:
        """The colours the items paint in."""
        return self._fixed_theme or current()

    def _on_theme_changed(self, theme: Theme) -> None:
        for item in self.items():
            item.update()  # drops the cached pictures drawn in the old colours
        self.update()

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

    def footprints(self) -> dict[str, Footprint]:
        """The room each block takes as drawn, and its shape tag right of it, for the layout."""
        sizes = {}
        for name, item in self._blocks.items():
            body = item.body_rect()
            leaving = [e for e in item.edges if e.source is item and e.label]
            tag = max((label_room(e.label) for e in leaving), default=30.0)
            sizes[name] = Footprint(body.width(), body.height(), tag)
        return sizes

    # -- selection and hit tests ----------------------------------------------------

    def group_items(self) -> list[GroupItem]:
        return list(self._groups.values())

    def item_for_group(self, name: str) -> GroupItem:
        return self._groups[name]

    def selected_nodes(self) -> list[str]:
        """Selected blocks, and the blocks of selected collapsed groups."""
        names = [item.name for item in self._blocks.values() if item.isSelected()]
        for item in self._groups.values():
            if item.isSelected():
                names += [block.name for block in item.members]
        return names

    def selected_groups(self) -> list[str]:
        """Selected collapsed groups, and the groups of selected blocks."""
        names = [name for name, item in self._groups.items() if item.isSelected()]
        for item in self._blocks.values():
            group = self.graph.groups.of(item.name)
            if item.isSelected() and group is not None and group not in names:
                names.append(group)
        return names

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
        self._refresh_groups_of([node.name], sync=False)
        self._moved += 1
        if not self._reroute_pending:
            # A layout moves every block; the edges look for their ways round them after it. (One
            # block's own edges follow it as it moves.)
            self._reroute_pending = True
            QTimer.singleShot(0, self._reroute_after_moves)

    def _reroute_after_moves(self) -> None:
        if self._moved > 1:
            self.reroute_edges()
        self._moved, self._reroute_pending = 0, False

    def reroute_edges(self) -> None:
        """Find again each edge's way: a curve, or round the blocks in its way."""
        for item in self._edges.values():
            item.update_path()

    def _on_params_changed(self, node: Node, keys: list[str]) -> None:
        self._blocks[node.name].set_label(node.label)
        self._refresh_groups_of([node.name])

    def _on_edge_added(self, edge: Edge) -> None:
        source, target = self._blocks[edge.source], self._blocks[edge.target]
        target.set_input_ports(e.port for e in self.graph.in_edges(edge.target))
        source.output_port.set_connected(True)
        item = EdgeItem(edge, source, target)
        self._edges[edge] = item
        self.addItem(item)
        item.update_path()  # whether it must go round blocks is found in the scene
        self._label_edge(item, self.graph.results.get(edge.source))
        self._choose_tag(source)
        if self._groups:
            self._route_edges([edge.source, edge.target])

    def _on_edge_removed(self, edge: Edge) -> None:
        item = self._edges.pop(edge)
        item.detach()
        for box in (item.source_box, item.target_box):
            if box is not None:
                box.edges.discard(item)
        self.removeItem(item)
        if edge.target in self.graph:
            self._blocks[edge.target].set_input_ports(e.port for e in self.graph.in_edges(edge.target))
        if edge.source in self.graph:
            self._blocks[edge.source].output_port.set_connected(bool(self.graph.out_edges(edge.source)))
            self._choose_tag(self._blocks[edge.source])

    def _on_shapes_changed(self, names: Iterable[str]) -> None:
        results = self.graph.results
        for name in names:
            item = self._blocks.get(name)
            if item is None:
                continue
            result = results.get(name)
            item.set_result(result)
            for edge in item.edges:  # the block's own edge items: quicker than asking the graph
                if edge.source is item:
                    self._label_edge(edge, result, item.shape_text)
        if self._groups:
            self._refresh_groups_of(names)

    def _label_edge(self, item: EdgeItem, result: NodeResult | None, shape_text: str | None = None) -> None:
        """``shape_text``: the result's, when the caller has it (computing it again costs)."""
        if result is None:
            item.set_label("…", known=False)
        elif result.status == OK:
            item.set_label(result.shape_text if shape_text is None else shape_text, True, result)
        else:
            item.set_label("?", False, result)

    @staticmethod
    def _choose_tag(source: BlockItem) -> None:
        """One edge per output draws the shape's tag: every edge leaving the output carries that shape."""
        leaving = [e for e in source.edges if e.source is source]
        lead = min(leaving, key=lambda e: (e.edge.target, e.edge.port), default=None)
        for edge in leaving:
            edge.set_leads(edge is lead)

    # -- groups -----------------------------------------------------------------------

    def _on_group_changed(self, name: str) -> None:
        item = self._groups.get(name)
        touched = [block.name for block in item.members] if item is not None else []
        if name in self.graph.groups:
            if item is None:
                item = self._groups[name] = GroupItem(name)
                self.addItem(item)
            self._sync_group(item)
            touched += [block.name for block in item.members]
        elif item is not None:
            del self._groups[name]
            for block in item.members:
                block.setVisible(True)
                block.group_item = None
            item.members = []
            item.edges.clear()
            self.removeItem(item)
        if not self._settling:  # else once, when they are all in (_groups_settled)
            self._apply_nesting()
            self._route_edges(n for n in touched if n in self._blocks)

    @contextlib.contextmanager
    def _groups_settled(self) -> Iterator[None]:
        self._settling = True
        try:
            yield
        finally:
            self._settling = False
            if self._groups:
                self._apply_nesting()
                hidden = [n for n, block in self._blocks.items() if not block.isVisible()]
                if hidden:  # edges end on the boxes of collapsed groups; the others are drawn already
                    self._route_edges(hidden)

    def _apply_nesting(self) -> None:
        """Show what no collapsed group hides, tell each block its innermost group and each frame the one
        around it, and fit the frames inside out, so that an outer one holds the inner ones."""
        groups = self.graph.groups
        for name, item in self._groups.items():
            parent = groups[name].parent
            item.outer = self._groups.get(parent) if parent is not None else None
            item.setVisible(not any(groups[g].collapsed for g in groups.lineage(name)[:-1]))
        for name, block in self._blocks.items():
            path = groups.path(name)
            block.group_item = self._groups.get(path[-1]) if path else None
            block.setVisible(not any(groups[g].collapsed for g in path))
        for name in sorted(self._groups, key=lambda g: -len(groups.lineage(g))):
            self._groups[name].follow_members(outward=False)

    def _sync_group(self, item: GroupItem) -> None:
        group = self.graph.groups[item.name]
        order = [n for n in self.graph.topological_order() if n in group.members]
        results = self.graph.results
        params = sum(results[n].param_count for n in order if n in results)
        leaving = [n for n in order if any(e.target not in group.members for e in self.graph.out_edges(n))]
        last = (leaving or order)[-1]
        shape = results[last].shape_text if last in results else "…"
        count = f"{len(order)} block{'s' if len(order) != 1 else ''}"
        item.sync(group.name, [self._blocks[n] for n in order], group.collapsed,
                  f"{count} · {human(params)} params", shape)

    def _refresh_groups_of(self, names: Iterable[str], sync: bool = True) -> None:
        groups = {g for n in names if n in self.graph for g in self.graph.groups.path(n)}
        for name in groups:
            if name in self._groups:
                if sync:
                    self._sync_group(self._groups[name])
                else:
                    self._groups[name].follow_members()
        if sync and groups:
            self._apply_nesting()

    def _box_for(self, node: str) -> GroupItem | None:
        """The box standing in for ``node``: its outermost collapsed group's, if any."""
        for name in self.graph.groups.path(node):
            item = self._groups.get(name)
            if item is not None and item.collapsed:
                return item
        return None

    def _route_edges(self, names: Iterable[str]) -> None:
        """End each edge of ``names`` on the box of a collapsed group, or hide it inside one."""
        edges: set[Edge] = set()
        for name in names:
            edges.update(self.graph.in_edges(name) + self.graph.out_edges(name))
        for edge in edges:
            item = self._edges[edge]
            for box in (item.source_box, item.target_box):
                if box is not None:
                    box.edges.discard(item)
            source, target = self._box_for(edge.source), self._box_for(edge.target)
            inside = source is not None and source is target
            item.source_box, item.target_box = (None, None) if inside else (source, target)
            item.setVisible(not inside)
            for box in (item.source_box, item.target_box):
                if box is not None:
                    box.edges.add(item)
            item.update_path()

    # -- live training statistics ----------------------------------------------------------

    def show_stats(self, stats: Mapping[str, Mapping[str, float | None]], key: str | None,
                   label: str = "") -> None:
        """Tag each block with statistic ``key`` of ``stats`` (a NodeStats sample); None removes the tags."""
        wanted = {} if key is None else {n: s.get(key) for n, s in stats.items() if n in self._blocks}
        for name in [n for n in self._stat_items if n not in wanted or self._blocks.get(n) is None]:
            old = self._stat_items.pop(name)
            old.setParentItem(None)  # type: ignore[arg-type]  # None detaches
            if old.scene() is self:
                self.removeItem(old)
        if key is None:
            return
        for name, fraction in fractions(key, wanted).items():
            block = self._blocks[name]
            item = self._stat_items.get(name)
            if item is None or item.parentItem() is not block:
                item = self._stat_items[name] = StatItem(block)
            colour = heat(fraction) if fraction is not None else QColor("#c4c9d0")
            below = block.boundingRect().bottom()
            item.show_value(label or key, format_value(key, wanted[name]), colour, below)

    def stat_items(self) -> dict[str, StatItem]:
        return dict(self._stat_items)

    def stat_texts(self) -> dict[str, str]:
        """What each block's statistic tag says (for tests and accessibility)."""
        return {name: item.text for name, item in self._stat_items.items()}
