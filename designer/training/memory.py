"""An estimate of the memory one training step needs, from the graph's shapes alone (no torch).

The editor shows it before a run starts, so that a batch size too large for the
device is seen before the device says so. It adds up four parts:

- parameters: every block's parameter count, in float32 (autocast keeps the
  weights in float32 and casts copies as it goes);
- gradients: one float32 value per parameter;
- optimizer state: float32 buffers per parameter, as many as the optimizer
  keeps (:func:`optimizer_slots`);
- activations kept for the backward pass: the sum of every block's output
  size (the summary's "activations per sample"), times the batch size, at two
  bytes a value under bf16 or fp16 autocast and four under fp32.

It leaves out what depends on the library rather than the network: the CUDA
context, cuDNN workspaces, the allocator's rounding and the cast weight copies
of mixed precision. So it is a floor to compare with the measured peak, not a
promise.
"""

from __future__ import annotations

from dataclasses import dataclass

from designer.graph.graph import Graph
from designer.graph.machine import FLOAT32, format_bytes
from designer.training.config import TrainingConfig

HALF = 2


def optimizer_slots(optimizer: str, momentum: float) -> int:
    """Buffers the optimizer keeps per parameter: SGD 1 with momentum, Adam 2, RMSprop 1 or 2."""
    if optimizer == "sgd":
        return 1 if momentum > 0 else 0
    if optimizer in ("adam", "adamw"):
        return 2  # the first and second moment
    if optimizer == "rmsprop":
        return 2 if momentum > 0 else 1  # the squared average, and the momentum buffer
    raise ValueError(f"unknown optimizer {optimizer!r}")


def activation_bytes(precision: str) -> int:
    return FLOAT32 if precision == "fp32" else HALF


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes for each part of one training step; ``total`` adds them up."""

    params: int
    grads: int
    optimizer: int
    activations: int

    @property
    def total(self) -> int:
        return self.params + self.grads + self.optimizer + self.activations

    def text(self) -> str:
        """``≈ 4.8 MB (params 247 kB, grads 247 kB, optimizer 247 kB, activations 4.1 MB)``."""
        parts = [("params", self.params), ("grads", self.grads), ("optimizer", self.optimizer),
                 ("activations", self.activations)]
        detail = ", ".join(f"{name} {format_bytes(size)}" for name, size in parts)
        return f"≈ {format_bytes(self.total)} ({detail})"


def estimate_memory(graph: Graph, config: TrainingConfig) -> MemoryEstimate:
    """The memory a training step of ``graph`` takes with ``config``; blocks in error count as 0."""
    params = sum(result.param_count for result in graph.results.values())
    values = sum(result.activations for result in graph.results.values())
    return MemoryEstimate(
        params=params * FLOAT32,
        grads=params * FLOAT32,
        optimizer=params * FLOAT32 * optimizer_slots(config.optimizer, config.momentum),
        activations=values * config.batch_size * activation_bytes(config.precision),
    )
