"""The graph model: named nodes, edges into numbered input ports, live shapes.

Everything that is saved or undone lives here: names, parameters, positions,
edges, and the project's training and dataset sections. The model decides what
is allowed (:meth:`Graph.check_connect`) and announces every change through
:class:`~designer.graph.events.GraphEvents`; it knows nothing of Qt.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import networkx as nx

from designer.graph.errors import (
    ArityError,
    CycleError,
    DuplicateNameError,
    GraphError,
    NodeNotFoundError,
    PortTakenError,
    RankMismatchError,
)
from designer.graph.events import GraphEvents
from designer.graph.groups import Groups
from designer.graph.inference import OK, Inference, NodeResult
from designer.graph.registry import REGISTRY, Registry
from designer.graph.shapes import fmt_shape, wanted_ranks
from designer.graph.spec import BlockSpec

if TYPE_CHECKING:
    import torch.nn

MAX_NAME_LENGTH = 200
Position = tuple[float, float]


@dataclass
class Node:
    """One block in the graph. Change it only through :class:`Graph` methods."""

    name: str
    spec: BlockSpec
    params: Mapping[str, Any]
    position: Position = (0.0, 0.0)

    @property
    def type(self) -> str:
        return self.spec.type

    @property
    def label(self) -> str:
        """The key parameters in a few characters (``96 @ 11×11 /4``)."""
        return self.spec.label(self.params) if self.spec.label else ""


@dataclass(frozen=True)
class Edge:
    """``source``'s output feeds input ``port`` of ``target``."""

    source: str
    target: str
    port: int = 0


@dataclass
class _Ports:
    """The edges into one node, by port, and their sources in port order.

    Shape inference asks for the sources of every node on every pass, so they
    are kept as a tuple rather than sorted out of the dict each time.
    """

    by_port: dict[int, Edge] = field(default_factory=dict)
    sources: tuple[str, ...] = ()

    def put(self, edge: Edge) -> None:
        self.by_port[edge.port] = edge
        self._resort()

    def drop(self, port: int) -> None:
        del self.by_port[port]
        self._resort()

    def _resort(self) -> None:
        self.sources = tuple(self.by_port[p].source for p in sorted(self.by_port))


def check_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise GraphError("a block name cannot be empty")
    if len(name) > MAX_NAME_LENGTH:
        raise GraphError(f"a block name can have at most {MAX_NAME_LENGTH} characters")
    return name


class Graph:
    """A network as a DAG of blocks, with inferred shapes kept up to date."""

    def __init__(self, registry: Registry = REGISTRY) -> None:
        self.registry = registry
        self.events = GraphEvents()
        self.name = "network"
        self.description = ""
        self.meta: dict[str, Any] = {"training": {}, "dataset": {}}
        self._nodes: dict[str, Node] = {}
        self._ports: dict[str, _Ports] = {}
        self._nx = nx.MultiDiGraph()
        self.groups = Groups(self.__contains__, self.events.group_changed)
        # The topological order is the lexicographic one by creation rank, so it
        # depends only on the graph, not on the history of edits. It is kept up to
        # date where an edit provably leaves it unchanged (see _connected) and
        # rebuilt lazily otherwise.
        self._order: list[str] | None = None
        self._index: dict[str, int] | None = None
        self._serial = itertools.count()
        self._rank: dict[str, int] = {}
        self._deferred = 0
        self._inference = Inference(self.topological_order, self._position_of, self.sources,
                                    self._successors, self._spec_params)

    # -- reading -------------------------------------------------------------

    @property
    def nodes(self) -> Mapping[str, Node]:
        return self._nodes

    def node(self, name: str) -> Node:
        try:
            return self._nodes[name]
        except KeyError:
            raise NodeNotFoundError(f"there is no block named {name!r}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._nodes

    def __len__(self) -> int:
        return len(self._nodes)

    @property
    def edges(self) -> list[Edge]:
        return [edge for name in self._nodes for edge in self.in_edges(name)]

    def in_edges(self, name: str) -> list[Edge]:
        ports = self._ports[name].by_port
        return [ports[p] for p in sorted(ports)]

    def out_edges(self, name: str) -> list[Edge]:
        return [self._ports[t].by_port[p] for _, t, p in self._nx.out_edges(name, keys=True)]

    def sources(self, name: str) -> tuple[str, ...]:
        """The blocks feeding ``name``, in port order."""
        return self._ports[name].sources

    def _successors(self, name: str) -> Iterator[str]:
        return iter(self._nx.successors(name))

    def _spec_params(self, name: str) -> tuple[BlockSpec, Mapping[str, Any]]:
        node = self._nodes[name]
        return node.spec, node.params

    def topological_order(self) -> list[str]:
        """Every node after the ones feeding it; among free choices, the older node first."""
        if self._order is None:
            self._order = self._sorted()
        return self._order

    def _sorted(self) -> list[str]:
        # Kahn's algorithm with a heap on creation rank: what
        # nx.lexicographical_topological_sort computes, five times faster here.
        rank, ports = self._rank, self._ports
        waiting = {name: len(p.by_port) for name, p in ports.items()}
        heap = [(rank[name], name) for name, count in waiting.items() if not count]
        heapq.heapify(heap)
        successors = self._nx.adj
        order: list[str] = []
        while heap:
            name = heapq.heappop(heap)[1]
            order.append(name)
            for successor, keys in successors[name].items():
                waiting[successor] -= len(keys)
                if not waiting[successor]:
                    heapq.heappush(heap, (rank[successor], successor))
        if len(order) != len(ports):
            raise CycleError("the graph has a loop")
        return order

    def _position_of(self) -> dict[str, int]:
        if self._index is None:
            self._index = {name: i for i, name in enumerate(self.topological_order())}
        return self._index

    def _reorder(self) -> None:
        self._order = self._index = None

    def inputs(self) -> list[str]:
        return [n for n in self.topological_order() if self._nodes[n].spec.is_input]

    def outputs(self) -> list[str]:
        """Nodes whose output nothing consumes: what the network returns."""
        return [n for n in self.topological_order()
                if not self._nodes[n].spec.is_input and self._nx.out_degree(n) == 0]

    def result(self, name: str) -> NodeResult:
        self.node(name)
        return self._inference.results[name]

    @property
    def results(self) -> Mapping[str, NodeResult]:
        return self._inference.results

    def errors(self) -> list[tuple[str | None, str]]:
        """``(node, message)`` for every problem; node None for the graph as a whole."""
        found: list[tuple[str | None, str]] = []
        inputs = self.inputs()
        if not inputs:
            found.append((None, "the graph has no Input block"))
        elif not self.outputs():
            found.append((None, "the graph has no block after its Input: add a layer that reads it"))
        else:
            found += [(name, "nothing reads this Input: connect its output to a block, or delete it")
                      for name in inputs if self._nx.out_degree(name) == 0]
        for name in self.topological_order():
            result = self._inference.results[name]
            if result.status == "error" and result.error:
                found.append((name, result.error))
        return found

    def unique_name(self, stem: str) -> str:
        for i in itertools.count(1):
            candidate = f"{stem}{i}"
            if candidate not in self._nodes:
                return candidate
        raise AssertionError("unreachable")

    # -- editing ---------------------------------------------------------------

    def add_node(self, type: str, name: str | None = None, params: Mapping[str, Any] | None = None,
                 position: Position = (0.0, 0.0)) -> Node:
        spec = self.registry[type]
        name = self.unique_name(spec.name_prefix) if name is None else check_name(name)
        if name in self._nodes:
            raise DuplicateNameError(f"there is already a block named {name!r}")
        node = Node(name, spec, spec.coerce_params(params or {}), _position(position))
        self._nodes[name] = node
        self._ports[name] = _Ports()
        self._rank[name] = next(self._serial)
        self._nx.add_node(name)
        if self._order is not None:
            # The newest node, with no edges yet, is the last free choice.
            self._order = [*self._order, name]
            if self._index is not None:
                self._index[name] = len(self._order) - 1
        self.events.node_added.emit(node)
        self._update([name])
        return node

    def remove_node(self, name: str) -> Node:
        node = self.node(name)
        for edge in self.out_edges(name):
            self.disconnect(edge)
        for edge in self.in_edges(name):
            # The node goes too, so dropping the edges into it moves nothing else.
            self._drop_edge(edge)
            self.events.edge_removed.emit(edge)
        del self._nodes[name], self._ports[name], self._rank[name]
        self._nx.remove_node(name)
        if self._order is not None:
            self._order = [n for n in self._order if n != name]
            self._index = None
        self._inference.forget(name)
        self.events.node_removed.emit(node)
        self.groups.node_removed(name)
        return node

    def check_connect(self, source: str, target: str, port: int | None = None) -> int:
        """Raise a :class:`ConnectError` if ``source -> target`` is not allowed.

        Returns the port the edge would use: ``port`` itself, or the first
        free one when it is None.
        """
        self.node(source)
        spec = self.node(target).spec
        if source == target:
            raise CycleError(f"{source} cannot feed itself")
        if spec.max_inputs == 0:
            raise ArityError(f"{target} is {'an Input' if spec.is_input else f'a {spec.type}'} block "
                             "and takes no inputs")
        if self._would_loop(source, target):
            raise CycleError(f"connecting {source} → {target} would make a loop: "
                             f"{target} already feeds {source}")
        ports = self._ports[target].by_port
        if port is None:
            free = (p for p in itertools.count() if p not in ports)
            port = next(free)
            if spec.max_inputs is not None and port >= spec.max_inputs:
                port = 0  # all taken: report the first one
        if port < 0 or (spec.max_inputs is not None and port >= spec.max_inputs):
            raise ArityError(f"{target} ({spec.type}) has no input port {port}")
        if port in ports:
            if spec.max_inputs == 1:
                raise PortTakenError(
                    f"{target} already has an input from {ports[port].source}; disconnect it first"
                )
            raise PortTakenError(f"input {port} of {target} is taken by {ports[port].source}")
        self._check_rank(source, target, spec)
        return port

    def _check_rank(self, source: str, target: str, spec: BlockSpec) -> None:
        shape = self._inference.results[source].shape
        if shape is None or spec.input_ranks is None or len(shape) in spec.input_ranks:
            return
        want = wanted_ranks(spec.input_ranks)
        message = f"{spec.type} needs {want} input, but {source} gives {fmt_shape(shape)}"
        raise RankMismatchError(message + (f": {spec.rank_hint}" if spec.rank_hint else ""))

    def connect(self, source: str, target: str, port: int | None = None) -> Edge:
        edge = Edge(source, target, self.check_connect(source, target, port))
        self._add_edge(edge)
        return edge

    def restore_edge(self, edge: Edge) -> None:
        """Put back an edge that was valid before (undo, loading a saved file).

        The rank check is skipped: a saved graph may hold a rank error that
        shape inference reports on the node, and it must load as it was saved.
        Cycles are still refused, by the caller's final check or here.
        """
        self.node(edge.source)
        spec = self.node(edge.target).spec
        if spec.max_inputs is not None and edge.port >= spec.max_inputs:
            raise ArityError(f"{edge.target} ({spec.type}) has no input port {edge.port}")
        taken = self._ports[edge.target].by_port.get(edge.port)
        if taken is not None or edge.port < 0:
            raise PortTakenError(f"input {edge.port} of {edge.target} is already connected")
        if not self._deferred and self._would_loop(edge.source, edge.target):
            raise CycleError(f"connecting {edge.source} → {edge.target} would make a loop")
        self._add_edge(edge)

    def _would_loop(self, source: str, target: str) -> bool:
        if self._order is not None:
            index = self._position_of()
            if index[source] < index[target]:
                return False  # target comes later, so it cannot reach source
        return bool(nx.has_path(self._nx, target, source))

    def _add_edge(self, edge: Edge) -> None:
        # An edge that agrees with the order leaves the lexicographic order as it
        # was: the target only becomes free later, and it was not picked before
        # its source anyway. Any other edge needs a new order.
        if self._order is not None:
            index = self._position_of()
            if index[edge.source] > index[edge.target]:
                self._reorder()
        self._ports[edge.target].put(edge)
        self._nx.add_edge(edge.source, edge.target, key=edge.port)
        self.events.edge_added.emit(edge)
        self._update([edge.target])

    def disconnect(self, edge: Edge) -> None:
        self._drop_edge(edge)
        self._reorder()  # the target may now come earlier
        self.events.edge_removed.emit(edge)
        self._update([edge.target])

    def _drop_edge(self, edge: Edge) -> None:
        if self._ports.get(edge.target, _Ports()).by_port.get(edge.port) != edge:
            raise GraphError(f"there is no connection {edge.source} → {edge.target}")
        self._ports[edge.target].drop(edge.port)
        self._nx.remove_edge(edge.source, edge.target, key=edge.port)

    def set_params(self, name: str, changes: Mapping[str, Any]) -> None:
        """Validate and apply parameter changes; nothing changes if one is invalid."""
        node = self.node(name)
        params = node.spec.coerce_params(changes, node.params)
        changed = [key for key in changes if params[key] != node.params[key]]
        if not changed:
            return
        node.params = params
        self.events.params_changed.emit(node, changed)
        self._update([name])

    def check_rename(self, old: str, new: str) -> None:
        """Raise the :class:`GraphError` that renaming ``old`` to ``new`` would raise."""
        self.node(old)
        check_name(new)
        if new != old and new in self._nodes:
            raise DuplicateNameError(f"there is already a block named {new!r}")

    def rename(self, old: str, new: str) -> None:
        self.check_rename(old, new)
        node = self._nodes[old]
        if new == old:
            return
        self._nodes = {new if k == old else k: v for k, v in self._nodes.items()}
        node.name = new
        self._ports[new] = self._ports.pop(old)
        self._rank[new] = self._rank.pop(old)
        nx.relabel_nodes(self._nx, {old: new}, copy=False)
        for ports in self._ports.values():
            for edge in list(ports.by_port.values()):
                if old in (edge.source, edge.target):
                    ports.put(Edge(new if edge.source == old else edge.source,
                                   new if edge.target == old else edge.target, edge.port))
        self._inference.rename(old, new)
        if self._order is not None:
            # Creation ranks move with the name, so the order keeps its shape.
            self._order = [new if n == old else n for n in self._order]
            self._index = None
        self.events.node_renamed.emit(node, old)
        self.groups.node_renamed(old, new)
        self._update(list(self._nx.successors(new)))  # their messages may name the old name

    def move(self, name: str, position: Position) -> None:
        node = self.node(name)
        node.position = _position(position)
        self.events.node_moved.emit(node)

    def set_meta(self, key: str, value: Mapping[str, Any]) -> None:
        self.meta[key] = dict(value)
        self.events.meta_changed.emit(key)

    @contextmanager
    def deferred_inference(self) -> Iterator[None]:
        """Make many edits, then infer shapes once (loading, pasting)."""
        self._deferred += 1
        try:
            yield
        finally:
            self._deferred -= 1
            if not self._deferred:
                self.recompute()

    def _update(self, dirty: Iterable[str]) -> None:
        if self._deferred:
            return
        changed = self._inference.run_from(dirty)
        if changed:
            self.events.shapes_changed.emit(changed)

    def recompute(self) -> set[str]:
        """Recompute every shape from scratch (used after bulk loading)."""
        changed = self._inference.run_all()
        if changed:
            self.events.shapes_changed.emit(changed)
        return changed

    # -- checks and conversion -----------------------------------------------

    def validate(self) -> None:
        """Assert the model's invariants; raises AssertionError naming the broken one."""
        assert set(self._nodes) == set(self._ports) == set(self._rank), "node tables disagree"
        assert set(self._nx.nodes) == set(self._nodes), "topology and nodes disagree"
        count = 0
        for name, node in self._nodes.items():
            assert node.name == name, f"node {node.name!r} stored under {name!r}"
            assert node.spec.coerce_params(node.params) == dict(node.params), f"{name}: bad params"
            for port, edge in self._ports[name].by_port.items():
                count += 1
                assert edge.target == name and edge.port == port, f"{edge} filed under {name}:{port}"
                assert edge.source in self._nodes, f"{edge} has no source"
                assert self._nx.has_edge(edge.source, name, key=port), f"{edge} not in topology"
                spec = node.spec
                assert spec.max_inputs is None or port < spec.max_inputs, f"{edge}: bad port"
        assert count == self._nx.number_of_edges(), "topology has extra edges"
        self.groups.validate(self._nodes)
        assert nx.is_directed_acyclic_graph(self._nx), "the graph has a cycle"
        for name, ports in self._ports.items():
            assert ports.sources == tuple(e.source for _, e in sorted(ports.by_port.items())), \
                f"{name}: stale sources"
        expected = list(nx.lexicographical_topological_sort(self._nx, key=self._rank.__getitem__))
        assert self.topological_order() == expected, "stale topological order"
        if self._index is not None:
            assert self._index == {n: i for i, n in enumerate(expected)}, "stale order index"
        fresh = Inference(self.topological_order, self._position_of, self.sources, self._successors,
                          self._spec_params)
        fresh.run_all()
        assert set(fresh.results) == set(self._inference.results), "results out of date"
        for name, result in fresh.results.items():
            assert result.same_as(self._inference.results[name]), f"{name}: stale shape"

    def is_valid(self) -> bool:
        return not self.errors() and all(r.status == OK for r in self.results.values())

    def to_torch(self) -> torch.nn.Module:
        """A ``torch.nn.Module`` that runs this graph; see :mod:`designer.graph.compile`."""
        from designer.graph.compile import compile_graph

        return compile_graph(self)

    def to_dict(self) -> dict[str, Any]:
        from designer.graph.project import graph_to_dict

        return graph_to_dict(self)

    def copy(self) -> Graph:
        from designer.graph.project import graph_from_dict

        return graph_from_dict(self.to_dict(), self.registry)


def _position(position: Sequence[float]) -> Position:
    x, y = position
    return (float(x), float(y))
