"""A piece of a graph as project JSON: what copy puts on the clipboard and paste reads back.

A fragment is a project document holding the chosen blocks, the edges
between them and the groups wholly among them, so it can be pasted into
another window or another program instance, and read back with the same
checks as a project file. Pasting gives every block and group a name that is
free in the target graph and keeps the edges and groups among the pasted
blocks; edges to blocks left behind are not copied. The palette's modules (an
SE block, an inverted residual) are fragments too, dropped the same way.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from designer.graph.graph import Edge, Graph, Position
from designer.graph.project import FORMAT, VERSION, graph_from_dict, graph_to_dict

MIME_TYPE = "application/x-designer-fragment+json"


def fragment_text(graph: Graph, names: Iterable[str]) -> str:
    """The blocks ``names`` and the edges among them, as a project document."""
    chosen = set(names)
    data = graph_to_dict(graph)
    data["nodes"] = [n for n in data["nodes"] if n["name"] in chosen]
    data["edges"] = [e for e in data["edges"] if e["source"] in chosen and e["target"] in chosen]
    groups = [g for g in data.pop("groups", []) if set(g["members"]) <= chosen]
    kept = {g["name"] for g in groups}
    for group in groups:
        if group.get("parent") not in kept:  # its parent stays behind: the copy sits at the top level
            group.pop("parent", None)
    if groups:
        data["groups"] = groups
    data.pop("training", None)
    data.pop("dataset", None)
    return json.dumps(data, ensure_ascii=False)


@dataclass(frozen=True)
class PastedNode:
    name: str
    type: str
    params: dict[str, Any]
    position: Position


@dataclass(frozen=True)
class PastedGroup:
    name: str
    members: frozenset[str]
    collapsed: bool
    kind: str = ""


@dataclass(frozen=True)
class Paste:
    """What pasting a fragment adds: blocks with free names, their edges and their groups."""

    nodes: tuple[PastedNode, ...]
    edges: tuple[Edge, ...]
    groups: tuple[PastedGroup, ...] = ()


def plan_paste(graph: Graph, text: str, offset: Position = (40.0, 40.0)) -> Paste | None:
    """The blocks and edges ``text`` would add to ``graph``; None if it is not a fragment.

    Raises :class:`~designer.graph.errors.ProjectFileError` for a fragment that
    fails the project file's checks, like a project file would.
    """
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT or \
            data.get("version") not in range(1, VERSION + 1):
        return None
    piece = graph_from_dict(data, graph.registry)  # every check of a project file
    taken = set(graph.nodes)
    names: dict[str, str] = {}
    for name in piece.topological_order():
        names[name] = _free_name(name, taken)
        taken.add(names[name])
    dx, dy = offset
    nodes = tuple(
        PastedNode(names[n], piece.node(n).type, dict(piece.node(n).params),
                   (piece.node(n).position[0] + dx, piece.node(n).position[1] + dy))
        for n in piece.topological_order()
    )
    edges = tuple(Edge(names[e.source], names[e.target], e.port) for e in piece.edges)
    groups: list[PastedGroup] = []
    taken_groups = set(graph.groups)
    # Inner groups first, so that each outer one, added later, goes around them.
    for group in sorted(piece.groups.values(), key=lambda g: -len(piece.groups.lineage(g.name))):
        name = _free_name(group.name, taken_groups)
        taken_groups.add(name)
        groups.append(PastedGroup(name, frozenset(names[m] for m in group.members), group.collapsed,
                                  group.kind))
    return Paste(nodes, edges, tuple(groups))


def _free_name(name: str, taken: set[str]) -> str:
    if name not in taken:
        return name
    stem = name.rstrip("0123456789") or name
    n = 2
    while f"{stem}{n}" in taken:
        n += 1
    return f"{stem}{n}"
