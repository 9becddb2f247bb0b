"""Real training runs for the tests of the runs list, comparison, evaluation and predict views.

LeNet-5 on the built-in digits, one epoch of 13 steps: a few seconds each. The
runs go through :func:`designer.training.jobs.start_job`, as the command line's
``designer train`` does, so their folders are what a user's runs look like.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import designer
from designer.data import DatasetConfig
from designer.graph.graph import Graph
from designer.training import BatchRecord, TrainingConfig, TrainingError
from designer.training.jobs import TrainingJob, start_job

DIGITS = DatasetConfig()
QUICK = TrainingConfig(epochs=1, batch_size=128, log_every=2)  # 13 steps an epoch


def lenet() -> Graph:
    return designer.load("lenet5")


def changed_lenet() -> Graph:
    """LeNet-5 with 3×3 first convolutions and a Dropout after c5 (still 16×5×5 into c5)."""
    graph = lenet()
    graph.set_params("c1", {"kernel_size": 3})
    graph.add_node("Dropout", "drop", {"p": 0.25})
    for edge in list(graph.out_edges("c5")):
        graph.disconnect(edge)
    graph.connect("c5", "drop")
    graph.connect("drop", "tanh3")
    return graph


def job(root: Path, name: str, graph: Graph | None = None, **changes: object) -> TrainingJob:
    config = QUICK.replace(**changes) if changes else QUICK
    return start_job(graph or lenet(), DIGITS, config, root=root, name=name, tensorboard=False)


def finished_run(root: Path, name: str, graph: Graph | None = None, **changes: object) -> Path:
    result = job(root, name, graph, **changes).run()
    assert result.status == "finished"
    return Path(result.run_dir)


def stopped_run(root: Path, name: str) -> Path:
    """A run stopped at its first reported step, as the Stop button leaves it: last.pt to resume from."""
    running = job(root, name)
    for record in running.records():
        if isinstance(record, BatchRecord):
            running.control.request_stop()
    result = running.result()
    assert result.status == "stopped" and result.checkpoint is not None
    return Path(result.run_dir)


def failed_run(root: Path, name: str) -> Path:
    """A run whose loss overflowed: the trainer marks it diverged (an MSE loss at lr 1e6 does it)."""
    failing = job(root, name, lr=1e6, loss="mse")
    with pytest.raises(TrainingError, match=r"^loss diverged|NaN or infinite"):
        failing.run()
    runs = sorted((root / "runs").glob(f"*-{name}"))
    assert len(runs) == 1
    return runs[0]
