"""Live statistics per block, sampled every N steps: what the canvas colours blocks by while training.

For every block that is a layer of the compiled model, a forward hook measures
the output's mean, standard deviation and fraction of exact zeros (dead ReLU
units show up here), and after the backward pass the gradient norm of the
layer's own parameters is read. Hooks do nothing on the steps between samples,
and a sample costs one device sync for all blocks together, so training at
full speed is not slowed by more than a sample's cost every N steps. Merges
(add, concat) are not layers and have no statistics.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from designer.graph.compile import plan
from designer.graph.graph import Graph
from designer.training.records import NodeStats

STATISTICS = ("mean", "std", "zeros", "grad_norm")


class Probes:
    """Forward hooks on ``model``'s layers, one per block of ``graph``; :meth:`remove` takes them off."""

    def __init__(self, graph: Graph, model: nn.Module, every: int) -> None:
        self.every = every
        self.armed = False
        self._layers: dict[str, nn.Module] = {}
        modules = dict(model.named_children())
        for name, ident in plan(graph).idents.items():
            if ident in modules:
                self._layers[name] = modules[ident]
        self._outputs: dict[str, torch.Tensor] = {}
        self._handles = [layer.register_forward_hook(self._hook(name)) for name, layer in self._layers.items()]

    def _hook(self, name: str) -> Any:
        def measure(module: nn.Module, inputs: Any, output: Any) -> None:
            if self.armed and isinstance(output, torch.Tensor) and output.numel():
                out = output.detach().float()
                self._outputs[name] = torch.stack([out.mean(), out.std() if out.numel() > 1 else out.sum() * 0,
                                                   (out == 0).float().mean()])
        return measure

    def due(self, step: int) -> bool:
        """Whether the step about to be taken (``step`` counts from 1) is sampled."""
        return self.every > 0 and (step == 1 or step % self.every == 0)

    def collect(self, step: int, grad_scale: float = 1.0) -> NodeStats:
        """The sample of the step just taken (forward measured, gradients still in place).

        ``grad_scale`` is the loss scale of mixed precision, which the gradients still carry.
        """
        self.armed = False
        names = list(self._outputs)
        rows = [torch.cat([self._outputs[n], _grad_norm(self._layers[n], self._outputs[n].device) / grad_scale])
                for n in names]
        values = torch.stack(rows).cpu().tolist() if rows else []  # the one sync
        self._outputs.clear()
        stats = {name: {key: (None if v != v else v) for key, v in zip(STATISTICS, row, strict=True)}
                 for name, row in zip(names, values, strict=True)}  # NaN: a layer without parameters
        return NodeStats(step, stats)

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []


def _grad_norm(layer: nn.Module, device: torch.device) -> torch.Tensor:
    grads = [p.grad.detach().float().norm() for p in layer.parameters() if p.grad is not None]
    if not grads:
        return torch.full((1,), float("nan"), device=device)
    return torch.linalg.vector_norm(torch.stack(grads)).reshape(1)
