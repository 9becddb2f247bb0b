"""The graph model: blocks, shapes, costs, compilation and project files.

This package imports no Qt; the user interface observes it through events.
"""

from designer.graph.errors import (
    ConnectError,
    CycleError,
    GraphError,
    ParamError,
    PortTakenError,
    ProjectFileError,
    RankMismatchError,
    ShapeError,
)
from designer.graph.graph import Edge, Graph, Node
from designer.graph.registry import REGISTRY
from designer.graph.source import load

__all__ = [
    "REGISTRY",
    "ConnectError",
    "CycleError",
    "Edge",
    "Graph",
    "GraphError",
    "Node",
    "ParamError",
    "PortTakenError",
    "ProjectFileError",
    "RankMismatchError",
    "ShapeError",
    "load",
]
