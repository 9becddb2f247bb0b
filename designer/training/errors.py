"""The error types of the training engine.

As elsewhere in Designer, every message is a sentence for the person training the
network: it names the setting, the step or the place that failed and, when it is
knowable, what would fix it.
"""

from __future__ import annotations

from designer.graph.errors import GraphError


class TrainingError(GraphError):
    """Base of every error the training engine raises on purpose.

    A failure inside the run says where it happened first: ``"data: ..."`` for
    the batch callables, ``"model: ..."`` for the forward and backward passes.
    The original exception, where there is one, is the ``__cause__``.
    """


class ConfigError(TrainingError, ValueError):
    """A training setting with a wrong type, an unknown name or a value out of range."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"training.{key}: {message}" if key else f"training: {message}")
        self.key = key
        self.reason = message


class DeviceError(TrainingError):
    """A device that is not there, or a setting the chosen device cannot do."""


class CheckpointError(TrainingError):
    """A run folder or checkpoint that cannot be read back."""
