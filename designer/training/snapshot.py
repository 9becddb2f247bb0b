"""What a run trains: a private copy of the graph, checked, and the model built from it.

The trainer takes its copy in the caller's thread, before the run starts, so the
editor can go on changing the project while the run trains what it was given.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from torch import nn

from designer.graph.graph import Graph
from designer.graph.project import graph_from_dict
from designer.training.errors import TrainingError

Source = Graph | tuple[nn.Module, Mapping[str, Any]]


@dataclass(frozen=True)
class Snapshot:
    """The graph as trained, its Input shape and class count, and a model given with it, if any."""

    graph: Graph
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    model: nn.Module | None = None

    @property
    def num_classes(self) -> int | None:
        return self.output_shape[0] if len(self.output_shape) == 1 else None


def take_snapshot(source: Source) -> Snapshot:
    """A checked copy of ``source``: a Graph, or a model with its graph as ``graph.to_dict()`` gives it."""
    if isinstance(source, Graph):
        graph, model = source.copy(), None
    elif isinstance(source, tuple) and len(source) == 2 and isinstance(source[0], nn.Module):
        model, data = source
        graph = graph_from_dict(dict(data))
    else:
        raise TypeError("train a Graph, or a (torch.nn.Module, graph.to_dict()) pair")
    errors = graph.errors()
    if errors:
        node, message = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise TrainingError(f"the graph has errors; fix them before training: "
                            f"{f'{node}: ' if node else ''}{message}{more}")
    inputs, outputs = graph.inputs(), graph.outputs()
    if len(inputs) != 1 or len(outputs) != 1:
        raise TrainingError(f"training needs a graph with one Input and one output; this one has "
                            f"{len(inputs)} and {len(outputs)} ({', '.join(outputs)})")
    input_shape = graph.result(inputs[0]).shape
    output_shape = graph.result(outputs[0]).shape
    if input_shape is None or output_shape is None:
        raise TrainingError("the graph's shapes are not all known yet; fix the blocks marked unknown")
    return Snapshot(graph, tuple(input_shape), tuple(output_shape), model)
