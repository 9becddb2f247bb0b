"""The training engine: configuration, the training loop, run folders, checkpoints and evaluation.

It imports no Qt: the editor runs :meth:`Trainer.records` on a worker thread and
turns the records into signals. Typical use::

    from designer.training import Trainer, TrainingConfig

    config = TrainingConfig.from_json(graph.meta["training"])
    trainer = Trainer(graph, config, train_batches, steps_per_epoch, val_batches, root=project_folder)
    for record in trainer.records():
        ...
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from designer.lazy import lazy_names

if TYPE_CHECKING:
    from designer.training.checkpoints import DataState, load_checkpoint
    from designer.training.config import LOSSES, OPTIMIZERS, PRECISIONS, SCHEDULES, TrainingConfig
    from designer.training.control import Control
    from designer.training.devices import DeviceInfo, Precision, check_precision, describe_devices, pick_device
    from designer.training.errors import CheckpointError, ConfigError, DeviceError, TrainingError
    from designer.training.evaluate import Evaluation, evaluate, measure
    from designer.training.factories import make_loss, make_optimizer
    from designer.training.records import (
        BatchRecord,
        EpochRecord,
        Note,
        Paused,
        Record,
        Resumed,
        RunEnded,
        RunStarted,
    )
    from designer.training.runs import RunFolder, RunInfo, list_runs
    from designer.training.schedules import Schedule, make_scheduler
    from designer.training.trainer import RunResult, Trainer, resume, train

# The names are loaded on first use (PEP 562), so that the editor can import the torch-free
# modules (config, records, errors) without paying ~1.5 s for torch at startup.
_HOMES = {
    "DataState": "checkpoints", "load_checkpoint": "checkpoints",
    "LOSSES": "config", "OPTIMIZERS": "config", "PRECISIONS": "config", "SCHEDULES": "config",
    "TrainingConfig": "config",
    "Control": "control",
    "DeviceInfo": "devices", "Precision": "devices", "check_precision": "devices",
    "describe_devices": "devices", "pick_device": "devices",
    "CheckpointError": "errors", "ConfigError": "errors", "DeviceError": "errors", "TrainingError": "errors",
    "Evaluation": "evaluate", "evaluate": "evaluate", "measure": "evaluate",
    "make_loss": "factories", "make_optimizer": "factories",
    "BatchRecord": "records", "EpochRecord": "records", "Note": "records", "Paused": "records",
    "Record": "records", "Resumed": "records", "RunEnded": "records", "RunStarted": "records",
    "RunFolder": "runs", "RunInfo": "runs", "list_runs": "runs",
    "Schedule": "schedules", "make_scheduler": "schedules",
    "RunResult": "trainer", "Trainer": "trainer", "resume": "trainer", "train": "trainer",
}
__all__ = [
    "LOSSES",
    "OPTIMIZERS",
    "PRECISIONS",
    "SCHEDULES",
    "BatchRecord",
    "CheckpointError",
    "ConfigError",
    "Control",
    "DataState",
    "DeviceError",
    "DeviceInfo",
    "EpochRecord",
    "Evaluation",
    "Note",
    "Paused",
    "Precision",
    "Record",
    "Resumed",
    "RunEnded",
    "RunFolder",
    "RunInfo",
    "RunResult",
    "RunStarted",
    "Schedule",
    "Trainer",
    "TrainingConfig",
    "TrainingError",
    "check_precision",
    "describe_devices",
    "evaluate",
    "list_runs",
    "load_checkpoint",
    "make_loss",
    "make_optimizer",
    "make_scheduler",
    "measure",
    "pick_device",
    "resume",
    "train",
]


__getattr__ = lazy_names(__name__, _HOMES)
