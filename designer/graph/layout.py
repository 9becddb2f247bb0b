"""Automatic layered layout that uses the window's shape.

Nodes go in layers by longest path from the inputs, left to right, and within a
layer they are ordered by the mean row of their inputs (the barycenter
heuristic), which keeps branches side by side. A long sequence of layers is
then wrapped into bands, one under the other, like lines of text, as many as
make the whole fit a window of the given aspect ratio at the largest zoom;
bands break, where they can, after a layer that a single edge leaves, so that
only one edge runs back to the start of the next band.

Why left to right, wrapped, rather than top to bottom as Netron draws: a block
is wider than tall (a name, a line of parameters, a shape) and its ports face
left and right, so a layer is narrow across and a chain reads along a line; and
the window (1600×1000) is wider than tall. Top to bottom, AlexNet's 24 blocks
make a column 24 blocks high, shown at a third of their size; in bands of six
they fit at nearly full size. resnet18's residual pairs and an inception
module's four branches become a band two or four blocks high, and ViT's
encoder layers wrap the same way. "TB" is kept for pictures that want a
column (``designer render --direction TB``).

Sizes come from whoever draws the blocks (:class:`Footprint`: the block's
width and height and the room its output's shape tag takes right of it); the
model itself knows no fonts, so without them a typical block is assumed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from designer.graph.graph import Graph, Position

COLUMN_GAP = 220.0  # the pitch of layers of typical blocks, kept for callers that ask for a pitch
ROW_GAP = 110.0
ROW_SPACING = 34.0  # between two blocks of one layer
LANE_SPACING = 6.0  # between a block and a lane kept free for an edge
BAND_GAP = 70.0  # between bands: room for the edges that run back to the left
UNTIDY = 0.8  # what a break with several edges running back costs, as a factor on the zoom
ASPECT = 1.45  # the canvas of a 1600×1000 window beside its palette and inspector


@dataclass(frozen=True)
class Footprint:
    """The room one node takes: its block's size, and how far right of it its shape tag reaches."""

    width: float = 150.0
    height: float = 66.0
    tag: float = 90.0


TYPICAL = Footprint()
LANE_FOOTPRINT = Footprint(0.0, 18.0, 0.0)  # a lane for an edge between two blocks of one layer


def layered_positions(graph: Graph, direction: str = "LR", column_gap: float | None = None,
                      row_gap: float | None = None, *, footprints: Mapping[str, Footprint] | None = None,
                      aspect: float = ASPECT) -> dict[str, Position]:
    """Positions (block centres) in layers; "LR" wraps the layers into bands to fit ``aspect``
    (width ÷ height), "TB" runs them top to bottom. ``column_gap`` and ``row_gap``, when given,
    set the pitch of layers and rows instead of the footprints."""
    if not graph.nodes:
        return {}
    sizes = footprints or {}

    def size(name: str) -> Footprint:
        return LANE_FOOTPRINT if name.startswith(LANE) else sizes.get(name, TYPICAL)

    layers = _ordered_layers(graph)
    if direction != "LR":
        return _top_to_bottom(layers, size, column_gap, row_gap)
    columns = [_column(members, size, row_gap) for members in layers]
    pitches = [_pitch(layers[i], layers[i + 1], size, column_gap) for i in range(len(layers) - 1)]
    clean = _clean_breaks(graph, layers)
    best: tuple[float, list[int]] | None = None
    for count in range(1, len(layers) + 1):
        breaks = _breaks(pitches, clean, count)
        width, height = _extent(breaks, columns, pitches, layers, size)
        zoom = min(aspect / width, 1.0 / height)  # the zoom that fits a window of that aspect
        zoom *= UNTIDY ** sum(1 for b in breaks if b not in clean)
        if best is None or zoom > best[0] * 1.001:
            best = zoom, breaks
        if len(breaks) < count - 1:
            break  # no more ways to break
    assert best is not None
    return _place(best[1], columns, pitches, layers, size)


LANE = "\0lane"  # names of the stand-ins that keep a lane free for an edge skipping layers


def _ordered_layers(graph: Graph) -> list[list[str]]:
    """The layers, each ordered; an edge that skips layers has a stand-in in each layer it crosses
    (stacked like a thin block), so that the blocks leave it a lane."""
    order = graph.topological_order()
    depth: dict[str, int] = {}
    for name in order:
        depth[name] = 1 + max((depth[s] for s in graph.sources(name)), default=-1)
    layers: list[list[str]] = [[] for _ in range(max(depth.values()) + 1)]
    sources: dict[str, list[str]] = {name: [] for name in order}
    for name in order:
        layers[depth[name]].append(name)
    for edge in graph.edges:
        previous = edge.source
        for layer in range(depth[edge.source] + 1, depth[edge.target]):
            lane = f"{LANE}{layer}:{edge.source}>{edge.target}:{edge.port}"
            layers[layer].append(lane)
            sources[lane] = [previous]
            previous = lane
        sources[edge.target].append(previous)
    row: dict[str, float] = {}
    for members in layers:
        members.sort(key=lambda n: _barycenter(sources[n], row))
        for i, name in enumerate(members):
            row[name] = i - (len(members) - 1) / 2
    return layers


def _barycenter(sources: list[str], row: dict[str, float]) -> float:
    return sum(row[s] for s in sources) / len(sources) if sources else 0.0


def _column(members: list[str], size: Callable[[str], Footprint], row_gap: float | None) -> list[float]:
    """The rows' centres of one layer, stacked about 0 (a lane close to its neighbours)."""
    if row_gap is not None:
        return [(i - (len(members) - 1) / 2) * row_gap for i in range(len(members))]
    tops, top = [], 0.0
    for i, name in enumerate(members):
        if i:
            lanes = name.startswith(LANE) or members[i - 1].startswith(LANE)
            top += LANE_SPACING if lanes else ROW_SPACING
        tops.append(top + size(name).height / 2)
        top += size(name).height
    return [y - top / 2 for y in tops]


def _pitch(left: list[str], right: list[str], size: Callable[[str], Footprint], gap: float | None) -> float:
    """From one layer's centre to the next's: half of each's widest block and the widest tag between."""
    if gap is not None:
        return gap
    return (max(size(n).width for n in left) / 2 + max(size(n).tag for n in left)
            + max(size(n).width for n in right) / 2)


def _clean_breaks(graph: Graph, layers: list[list[str]]) -> set[int]:
    """Layer indices i such that breaking the bands after layer i leaves one edge running back."""
    layer_of = {n: i for i, members in enumerate(layers) for n in members}
    crossing = [0] * len(layers)
    for edge in graph.edges:
        for i in range(layer_of[edge.source], layer_of[edge.target]):
            crossing[i] += 1
    return {i for i, count in enumerate(crossing) if count == 1}


def _breaks(pitches: list[float], clean: set[int], count: int) -> list[int]:
    """Where to break the layers into ``count`` bands of about equal length: after the layer
    indices returned, at the clean break nearest each band's ideal end if one lies within reach
    (a band may then be up to 40% longer or half as long), else at the layer nearest it."""
    x = [0.0]
    for pitch in pitches:
        x.append(x[-1] + pitch)
    target = x[-1] / count
    breaks: list[int] = []
    start = 0
    while len(breaks) < count - 1:
        ideal = x[start] + target
        low, high = x[start] + target / 2, x[start] + target * 1.4
        reach = [j for j in range(start, len(pitches)) if low <= x[j] <= high]
        tidy = [j for j in reach if j in clean]
        options = tidy or reach or [j for j in range(start, len(pitches))]
        if not options:
            break
        cut = min(options, key=lambda j: abs(x[j] - ideal))
        breaks.append(cut)
        start = cut + 1
    return breaks


def _bands(breaks: list[int], layers: list[list[str]]) -> list[range]:
    edges = [-1, *breaks, len(layers) - 1]
    return [range(edges[k] + 1, edges[k + 1] + 1) for k in range(len(edges) - 1)]


def _band_height(band: range, columns: list[list[float]], layers: list[list[str]],
                 size: Callable[[str], Footprint]) -> tuple[float, float]:
    """How far a band reaches above and below its middle line."""
    above = max(-y + size(n).height / 2 for i in band for n, y in zip(layers[i], columns[i], strict=True))
    below = max(y + size(n).height / 2 for i in band for n, y in zip(layers[i], columns[i], strict=True))
    return above, below


def _extent(breaks: list[int], columns: list[list[float]], pitches: list[float], layers: list[list[str]],
            size: Callable[[str], Footprint]) -> tuple[float, float]:
    width = height = 0.0
    for band in _bands(breaks, layers):
        span = sum(pitches[i] for i in range(band.start, band.stop - 1))
        widest = max(size(n).width for i in (band.start, band.stop - 1) for n in layers[i])
        width = max(width, span + widest + max(size(n).tag for n in layers[band.stop - 1]))
        above, below = _band_height(band, columns, layers, size)
        height += above + below + BAND_GAP
    return width, height - BAND_GAP


def _place(breaks: list[int], columns: list[list[float]], pitches: list[float], layers: list[list[str]],
           size: Callable[[str], Footprint]) -> dict[str, Position]:
    positions: dict[str, Position] = {}
    top = 0.0
    for band in _bands(breaks, layers):
        above, below = _band_height(band, columns, layers, size)
        middle = top + above
        x = 0.0
        for i in band:
            for name, y in zip(layers[i], columns[i], strict=True):
                if not name.startswith(LANE):
                    positions[name] = (round(x, 1), round(middle + y, 1))
            if i < len(pitches):
                x += pitches[i]
        top = middle + below + BAND_GAP
    return positions


def _top_to_bottom(layers: list[list[str]], size: Callable[[str], Footprint], column_gap: float | None,
                   row_gap: float | None) -> dict[str, Position]:
    """Layers as rows, one under the other; a layer's blocks side by side, tags between them."""
    positions: dict[str, Position] = {}
    y = 0.0
    for members in ([n for n in layer if not n.startswith(LANE)] for layer in layers):
        widths = [size(n).width + size(n).tag if column_gap is None else column_gap for n in members]
        total = sum(widths)
        x = -total / 2
        for name, width in zip(members, widths, strict=True):
            positions[name] = (round(x + width / 2, 1), round(y, 1))
            x += width
        tallest = max(size(n).height for n in members)
        y += row_gap * 1.2 if row_gap is not None else tallest + 60
    return positions


def apply_layout(graph: Graph, direction: str = "LR", column_gap: float | None = None,
                 row_gap: float | None = None, *, footprints: Mapping[str, Footprint] | None = None,
                 aspect: float = ASPECT) -> None:
    positions = layered_positions(graph, direction, column_gap, row_gap, footprints=footprints, aspect=aspect)
    for name, position in positions.items():
        graph.move(name, position)
