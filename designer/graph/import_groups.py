"""An imported network's groups, from the modules that made it: ``layer1`` holding ``layer1.0``, a BasicBlock.

Each block knows, from torch.fx's ``nn_module_stack``, the chain of modules whose
forward called it; every module in a chain becomes a group named by its path and
nested as the modules are, with the module's class as the group's kind, so that
the Python export writes the same classes and the same state_dict keys back.
A module called from a forward other than its parent's (possible, rare) would
make groups that overlap; such a group is left out, since groups only help.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from designer.graph.errors import GraphError

if TYPE_CHECKING:
    from torch import fx

    from designer.graph.graph import Graph


def module_chain(node: fx.Node) -> list[tuple[str, str]]:
    """(path, class name) of each module whose forward called ``node``, outermost first.

    A module call's own module is the block itself, not a group around it.
    """
    stack = list((node.meta.get("nn_module_stack") or {}).values())
    chain = [(str(path), getattr(cls, "__name__", str(cls))) for path, cls in stack]
    if node.op == "call_module" and chain and chain[-1][0] == str(node.target):
        chain.pop()
    return [(path, kind) for path, kind in chain if path]


def add_module_groups(graph: Graph, nodes: Mapping[str, fx.Node]) -> None:
    """Group ``graph``'s blocks by the modules the fx ``nodes`` they came from were called in."""
    members: dict[str, set[str]] = {}
    parent: dict[str, str | None] = {}
    kind: dict[str, str] = {}
    for block, node in nodes.items():
        previous: str | None = None
        for path, cls in module_chain(node):
            members.setdefault(path, set()).add(block)
            parent.setdefault(path, previous)
            kind.setdefault(path, cls)
            previous = path
    made: set[str] = set()
    for path in sorted(members, key=lambda p: _depth(p, parent)):
        above = parent[path]
        while above is not None and above not in made:  # its parent was left out: nest it further up
            above = parent[above]
        try:
            graph.groups.add(path, members[path], parent=above, kind=kind[path])
        except GraphError:
            continue
        made.add(path)


def _depth(path: str, parent: Mapping[str, str | None]) -> int:
    depth = 0
    above = parent[path]
    while above is not None:
        depth += 1
        above = parent.get(above)
    return depth
