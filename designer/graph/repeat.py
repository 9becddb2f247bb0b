"""Repeating a group: N copies of a stage chained one after another (VGG stages, ResNet blocks).

:func:`plan_repeat` works out what repeating a group adds and rewires, without
changing the graph; an undoable command applies the plan. A group can be
repeated when everything entering it comes from one block outside it (the
input every copy takes from the copy before) and everything leaving it comes
from one block inside it (the output the next copy takes). A ResNet basic
block qualifies: its convolution and its skip connection both read the same
outside block, and only its final activation feeds on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import networkx as nx

from designer.graph.errors import GraphError
from designer.graph.fragment import PastedNode
from designer.graph.graph import Edge, Graph, Position

MAX_COPIES = 64
COPY_GAP = 220.0  # a block's width and room for an edge label between copies


@dataclass(frozen=True)
class RepeatPlan:
    group: str
    nodes: tuple[PastedNode, ...]
    add_edges: tuple[Edge, ...]
    remove_edges: tuple[Edge, ...]
    groups: tuple[tuple[str, frozenset[str]], ...]
    collapsed: bool
    moves: Mapping[str, Position]  # blocks downstream of the group, shifted to make room


@dataclass(frozen=True)
class _Boundary:
    source: str  # the outside block the group reads
    exit: str  # the member whose output leaves the group
    inputs: tuple[Edge, ...]  # edges from source into the group
    outputs: tuple[Edge, ...]  # edges from exit out of the group
    internal: tuple[Edge, ...]


def plan_repeat(graph: Graph, group: str, copies: int) -> RepeatPlan:
    """What repeating ``group`` so that it occurs ``copies`` times in a row would do.

    Raises :class:`GraphError` saying why a group cannot be repeated.
    """
    members = graph.groups[group].members
    if isinstance(copies, bool) or not isinstance(copies, int) or not 2 <= copies <= MAX_COPIES:
        raise GraphError(f"repeat {group}: the number of copies must be between 2 and {MAX_COPIES}, "
                         f"got {copies!r}")
    boundary = _boundary(graph, group, members)
    order = [n for n in graph.topological_order() if n in members]
    taken = set(graph.nodes)
    group_names = set(graph.groups)
    step = _step(graph, members, boundary)
    nodes: list[PastedNode] = []
    edges: list[Edge] = []
    groups: list[tuple[str, frozenset[str]]] = []
    previous_exit = boundary.exit
    for k in range(2, copies + 1):
        names = {m: _free(f"{m}_{k}", taken) for m in order}
        offset = (step[0] * (k - 1), step[1] * (k - 1))
        for m in order:
            node = graph.node(m)
            nodes.append(PastedNode(names[m], node.type, dict(node.params),
                                    (node.position[0] + offset[0], node.position[1] + offset[1])))
        edges += [Edge(names[e.source], names[e.target], e.port) for e in boundary.internal]
        edges += [Edge(previous_exit, names[e.target], e.port) for e in boundary.inputs]
        groups.append((_free(f"{group}_{k}", group_names), frozenset(names.values())))
        previous_exit = names[boundary.exit]
    edges += [Edge(previous_exit, e.target, e.port) for e in boundary.outputs]
    shift = (step[0] * (copies - 1), step[1] * (copies - 1))
    downstream = _downstream(graph, boundary, members)
    moves = {n: (graph.node(n).position[0] + shift[0], graph.node(n).position[1] + shift[1])
             for n in downstream}
    return RepeatPlan(group, tuple(nodes), tuple(edges), boundary.outputs, tuple(groups),
                      graph.groups[group].collapsed, moves)


def _boundary(graph: Graph, group: str, members: frozenset[str]) -> _Boundary:
    inputs: list[Edge] = []
    outputs: list[Edge] = []
    internal: list[Edge] = []
    for name in members:
        for edge in graph.in_edges(name):
            (internal if edge.source in members else inputs).append(edge)
        outputs += [e for e in graph.out_edges(name) if e.target not in members]
    sources = sorted({e.source for e in inputs})
    if not sources:
        raise GraphError(f"cannot repeat {group}: nothing outside it feeds it, so a copy would have "
                         "no input (repeat a stage that follows another block)")
    if len(sources) > 1:
        raise GraphError(f"cannot repeat {group}: it reads from {len(sources)} blocks outside it "
                         f"({', '.join(sources)}); each copy can take one input, the copy before")
    exits = sorted({e.source for e in outputs})
    if not exits:
        exits = sorted(m for m in members if not any(e.target in members for e in graph.out_edges(m)))
    if len(exits) != 1:
        raise GraphError(f"cannot repeat {group}: its output comes from {len(exits)} blocks "
                         f"({', '.join(exits)}); the next copy needs one output to read")
    return _Boundary(sources[0], exits[0], tuple(sorted(inputs, key=_edge_key)),
                     tuple(sorted(outputs, key=_edge_key)), tuple(sorted(internal, key=_edge_key)))


def _edge_key(edge: Edge) -> tuple[str, str, int]:
    return (edge.source, edge.target, edge.port)


def _step(graph: Graph, members: frozenset[str], boundary: _Boundary) -> Position:
    """How far each copy sits from the one before: along the direction the network flows."""
    xs = [graph.node(m).position[0] for m in members]
    ys = [graph.node(m).position[1] for m in members]
    source = graph.node(boundary.source).position
    exit_ = graph.node(boundary.exit).position
    if abs(exit_[1] - source[1]) > abs(exit_[0] - source[0]):  # laid out top to bottom
        return (0.0, max(ys) - min(ys) + COPY_GAP / 2)
    return (max(xs) - min(xs) + COPY_GAP, 0.0)


def _downstream(graph: Graph, boundary: _Boundary, members: frozenset[str]) -> set[str]:
    topology = nx.DiGraph((e.source, e.target) for e in graph.edges)
    found: set[str] = set()
    for edge in boundary.outputs:
        found.add(edge.target)
        found |= nx.descendants(topology, edge.target)
    return found - members


def _free(name: str, taken: set[str]) -> str:
    candidate, n = name, 2
    while candidate in taken:
        candidate = f"{name}_{n}"
        n += 1
    taken.add(candidate)
    return candidate
