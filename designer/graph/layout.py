"""Automatic layered layout: columns by longest path, rows ordered to untangle edges."""

from __future__ import annotations

from designer.graph.graph import Graph, Position

COLUMN_GAP = 220.0
ROW_GAP = 110.0


def layered_positions(graph: Graph, direction: str = "LR", column_gap: float = COLUMN_GAP,
                      row_gap: float = ROW_GAP) -> dict[str, Position]:
    """Positions placing each node one layer after its deepest input.

    Within a layer nodes are sorted by the mean row of their inputs
    (the barycenter heuristic), which keeps branches side by side.
    ``direction`` is "LR" (left to right) or "TB" (top to bottom).
    """
    layer: dict[str, int] = {}
    for name in graph.topological_order():
        sources = graph.sources(name)
        layer[name] = 1 + max((layer[s] for s in sources), default=-1)
    layers: dict[int, list[str]] = {}
    for name in graph.topological_order():
        layers.setdefault(layer[name], []).append(name)
    row: dict[str, float] = {}
    positions: dict[str, Position] = {}
    for depth in sorted(layers):
        members = layers[depth]
        members.sort(key=lambda n: _barycenter(graph, n, row))
        offset = (len(members) - 1) / 2
        for i, name in enumerate(members):
            row[name] = i - offset
            if direction == "LR":
                positions[name] = (depth * column_gap, (i - offset) * row_gap)
            else:  # blocks are wider than tall: columns apart across, rows apart down
                positions[name] = ((i - offset) * column_gap, depth * row_gap * 1.2)
    return positions


def _barycenter(graph: Graph, name: str, row: dict[str, float]) -> float:
    sources = graph.sources(name)
    return sum(row[s] for s in sources) / len(sources) if sources else 0.0


def apply_layout(graph: Graph, direction: str = "LR", column_gap: float = COLUMN_GAP,
                 row_gap: float = ROW_GAP) -> None:
    for name, position in layered_positions(graph, direction, column_gap, row_gap).items():
        graph.move(name, position)
