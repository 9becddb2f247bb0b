"""Shape inference: one pass in topological order, re-run only downstream of an edit.

Each node gets a :class:`NodeResult`: its output shape, or the error that
stops it, or "unknown" when something upstream failed. Formulas and costs are
derived from a result on demand, so an edit pays only for the shapes.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from designer.graph.errors import ShapeError
from designer.graph.shapes import fmt_shape
from designer.graph.spec import BlockSpec, Shape

OK, ERROR, UNKNOWN = "ok", "error", "unknown"


@dataclass(eq=False)
class NodeResult:
    """What inference found for one node, and what follows from it."""

    spec: BlockSpec
    params: Mapping[str, Any]
    inputs: tuple[Shape, ...]
    shape: Shape | None
    error: str | None = None
    error_param: str | None = None
    status: str = OK

    def same_as(self, other: NodeResult | None) -> bool:
        return other is not None and self.shape == other.shape and self.error == other.error

    @property
    def shape_text(self) -> str:
        if self.shape is None:
            return "unknown" if self.status == UNKNOWN else "error"
        return fmt_shape(self.shape)

    @cached_property
    def formula(self) -> str:
        if self.shape is None or self.spec.formula is None:
            return ""
        return self.spec.formula(self.inputs, self.shape, self.params)

    @cached_property
    def param_count(self) -> int:
        return 0 if self.shape is None else self.spec.param_count(self.inputs, self.shape, self.params)

    @cached_property
    def macs(self) -> int:
        return 0 if self.shape is None else self.spec.macs(self.inputs, self.shape, self.params)

    @property
    def activations(self) -> int:
        """Output elements per sample."""
        return 0 if self.shape is None else math.prod(self.shape)


def compute(spec: BlockSpec, params: Mapping[str, Any], sources: Sequence[str],
            results: Mapping[str, NodeResult]) -> NodeResult:
    """The result of one node from the results of its sources, in port order."""
    # The hot path of every pass: one lookup per source and no intermediate list
    # for the usual single input.
    count = len(sources)
    if count < spec.min_inputs:
        if spec.min_inputs == 1:
            message = "no input connected: connect a block to it"
        else:
            message = f"{spec.type} needs at least {spec.min_inputs} inputs, has {count}"
        return NodeResult(spec, params, (), None, message, None, ERROR)
    if count == 1:
        source = sources[0]
        first = results[source].shape
        if first is None:
            return NodeResult(spec, params, (), None, f"unknown: {source} has no shape", None, UNKNOWN)
        inputs: tuple[Shape, ...] = (first,)
    else:
        shapes = []
        for source in sources:
            shape = results[source].shape
            if shape is None:
                return NodeResult(spec, params, (), None, f"unknown: {source} has no shape",
                                  None, UNKNOWN)
            shapes.append(shape)
        inputs = tuple(shapes)
    try:
        out = spec.shape(inputs, params)
    except ShapeError as exc:
        return NodeResult(spec, params, inputs, None, str(exc), exc.param, ERROR)
    return NodeResult(spec, params, inputs, out)


class Inference:
    """Keeps a result per node and brings them up to date after edits.

    ``order`` returns the node names in topological order and ``index`` their
    positions in it; ``sources(name)``
    the names feeding a node by port; ``successors(name)`` those it feeds;
    ``node(name)`` gives ``(spec, params)``.
    """

    def __init__(
        self,
        order: Callable[[], Sequence[str]],
        index: Callable[[], Mapping[str, int]],
        sources: Callable[[str], Sequence[str]],
        successors: Callable[[str], Iterable[str]],
        node: Callable[[str], tuple[BlockSpec, Mapping[str, Any]]],
    ) -> None:
        self._order, self._index = order, index
        self._sources, self._successors, self._node = sources, successors, node
        self.results: dict[str, NodeResult] = {}

    def run_all(self) -> set[str]:
        """Recompute every node; returns the names whose result changed."""
        old = self.results
        results: dict[str, NodeResult] = {}
        self.results = results
        node, sources, previous = self._node, self._sources, old.get
        changed: set[str] = set()
        for name in self._order():
            spec, params = node(name)
            result = compute(spec, params, sources(name), results)
            results[name] = result
            # result.same_as(before), inlined: this loop runs once per node.
            before = previous(name)
            if before is None or result.shape != before.shape or result.error != before.error:
                changed.add(name)
        if len(results) != len(old) or changed:
            changed.update(old.keys() - results.keys())
        return changed

    def run_from(self, dirty: Iterable[str]) -> set[str]:
        """Recompute the existing nodes ``dirty`` and whatever downstream changes.

        Propagation stops at a node whose shape and error did not change, so
        editing dropout's ``p`` touches one node, not the rest of the graph.
        Returns the dirty nodes and every node whose result changed.
        """
        order = self._order()
        index = self._index()
        results = self.results
        node, sources, successors = self._node, self._sources, self._successors
        queued = set(dirty)
        # Positions in topological order: plain ints compare faster than tuples.
        heap = [index[name] for name in queued]
        heapq.heapify(heap)
        push, pop = heapq.heappush, heapq.heappop
        changed = set(queued)
        while heap:
            name = order[pop(heap)]
            spec, params = node(name)
            result = compute(spec, params, sources(name), results)
            before = results.get(name)
            results[name] = result
            # result.same_as(before), inlined.
            if before is not None and result.shape == before.shape and result.error == before.error:
                continue
            changed.add(name)
            for successor in successors(name):
                if successor not in queued:
                    queued.add(successor)
                    push(heap, index[successor])
        return changed

    def forget(self, name: str) -> None:
        self.results.pop(name, None)

    def rename(self, old: str, new: str) -> None:
        self.results[new] = self.results.pop(old)
