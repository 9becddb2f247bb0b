"""The training engine: configuration, the training loop, run folders, checkpoints and evaluation.

It imports no Qt: the editor runs :meth:`Trainer.records` on a worker thread and
turns the records into signals. Typical use::

    from designer.training import Trainer, TrainingConfig

    config = TrainingConfig.from_json(graph.meta["training"])
    trainer = Trainer(graph, config, train_batches, steps_per_epoch, val_batches, root=project_folder)
    for record in trainer.records():
        ...
"""

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

__all__ = [
    "LOSSES", "OPTIMIZERS", "PRECISIONS", "SCHEDULES", "BatchRecord", "CheckpointError", "ConfigError",
    "Control", "DataState", "DeviceError", "DeviceInfo", "EpochRecord", "Evaluation", "Note", "Paused",
    "Precision", "Record", "Resumed", "RunEnded", "RunFolder", "RunInfo", "RunResult", "RunStarted",
    "Schedule", "Trainer", "TrainingConfig", "TrainingError", "check_precision", "describe_devices",
    "evaluate", "list_runs", "load_checkpoint", "make_loss", "make_optimizer", "make_scheduler", "measure",
    "pick_device", "resume", "train",
]
