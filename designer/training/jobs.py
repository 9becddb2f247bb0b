"""A training job: a graph, a dataset and settings made into a trainer over prepared data.

``start_job`` and ``resume_job`` do everything that can fail before training
(graph checks, device, loading the data and fitting it to the graph) in the
caller's thread, or in the worker thread that calls them, and return a
:class:`TrainingJob` whose ``records()`` runs the loop. The command line and the
editor's worker both use it, so both train the same way. ``RunSummary`` gathers
the records into the final numbers ``designer train --json`` prints.
"""

from __future__ import annotations

import math
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from designer.data import DatasetConfig
from designer.data.image_cache import Progress
from designer.graph.graph import Graph
from designer.graph.project import loads
from designer.training.config import TrainingConfig
from designer.training.control import Control
from designer.training.distributed import SINGLE, World, join
from designer.training.errors import TrainingError
from designer.training.records import EpochRecord, Note, Record, RunEnded, RunStarted
from designer.training.run_data import DataInfo, TrainingData, absolute_dataset, prepare_training
from designer.training.runs import RunFolder
from designer.training.trainer import RunResult, Trainer, resumable_run


class TrainingJob:
    """One run of a trainer over ``data``; writes the run's ``data.json`` as soon as its folder exists."""

    def __init__(self, trainer: Trainer, data: TrainingData) -> None:
        self.trainer, self.data = trainer, data

    @property
    def control(self) -> Control:
        return self.trainer.control

    @property
    def config(self) -> TrainingConfig:
        return self.trainer.config

    def records(self) -> Iterator[Record]:
        """The trainer's records; the data layer's notes follow the start record as Note records.

        Those notes are not in the run's metrics.jsonl (the trainer writes that);
        they are in its data.json.
        """
        # records() is a generator: the data.json fault below is thrown into it
        inner = cast(Generator[Record, None, None], self.trainer.records())
        try:
            for record in inner:
                yield record
                if isinstance(record, RunStarted) and self.data.world.main:
                    self._save_data_info(inner, Path(record.run_dir))
                    for message in self.data.notes:
                        yield Note(f"data: {message}")
        finally:
            inner.close()  # a caller that stops reading ends the loop now, not when garbage is collected

    def _save_data_info(self, inner: Generator[Record, None, None], run_dir: Path) -> None:
        try:
            self.data.info().save(run_dir)
        except OSError as exc:  # thrown into the loop, so that the run is logged as failed
            reason = exc.strerror or exc
            inner.throw(TrainingError(f"cannot write {run_dir / 'data.json'}: {reason}"))

    def run(self) -> RunResult:
        for _ in self.records():
            pass
        return self.result()

    def result(self) -> RunResult:
        return self.trainer.result()

    def summary(self) -> RunSummary:
        """An empty summary for this job's records, knowing how many samples a step takes."""
        return RunSummary(len(self.data.prepared.train) / self.data.steps_per_epoch)


def start_job(graph: Graph, dataset: DatasetConfig, config: TrainingConfig, *, root: str | Path,
              base_dir: Path | None = None, name: str | None = None, control: Control | None = None,
              tensorboard: bool = True, world: World = SINGLE, sync_batchnorm: bool = False,
              progress: Progress | None = None) -> TrainingJob:
    """A new run of ``graph`` on ``dataset`` under ``root/runs``; raises before training on any fault.

    The run's graph.json holds the dataset and settings it was trained with (the
    dataset path made absolute), so ``eval`` and ``predict`` can find them later.
    ``world`` is this process's place in a data-parallel job (see
    :mod:`designer.training.distributed`); only its rank 0 writes the run folder.
    ``progress(done, total)`` hears how the first decoding of an image folder goes.
    """
    join(world)
    dataset = absolute_dataset(dataset, base_dir)
    graph = graph.copy()
    graph.meta["dataset"] = dataset.to_json()
    graph.meta["training"] = config.to_json()
    data = prepare_training(graph, dataset, config, base_dir=base_dir, world=world, progress=progress)
    trainer = Trainer(graph, config, data.train_batches, data.steps_per_epoch,
                      data.val_batches if data.has_validation else None, root=root, name=name,
                      control=control, data_state=data, tensorboard=tensorboard, world=world,
                      sync_batchnorm=sync_batchnorm)
    return TrainingJob(trainer, data)


def resume_job(run_dir: str | Path, *, epochs: int | None = None, dataset: DatasetConfig | None = None,
               device: str | None = None, control: Control | None = None,
               tensorboard: bool = True, world: World = SINGLE, sync_batchnorm: bool = False,
               progress: Progress | None = None) -> TrainingJob:
    """Go on with the run in ``run_dir`` from its last checkpoint, on the data it was trained on.

    ``dataset`` replaces that data (the order then differs from an unbroken run);
    ``device`` moves the run to another device (its config.json is updated).
    In a data-parallel job every rank reads the run folder (at the same path on
    every machine); rank 0 alone locks and writes it. The number of processes
    may differ from the run's before: the batches stay the same.
    """
    join(world)
    folder = resumable_run(run_dir) if world.main else RunFolder.open(run_dir)
    config = TrainingConfig.from_json(folder.read_json(folder.config_path))
    graph = loads(folder.read_bytes(folder.graph_path), source=str(folder.graph_path))
    moved = device is not None and device != config.device
    if moved:
        config = config.replace(device=device)
    saved = DataInfo.load(folder.path)
    if dataset is None:
        dataset = DatasetConfig.from_json(saved.dataset if saved else graph.meta.get("dataset", {}))
    data = prepare_training(graph, dataset, config, world=world, progress=progress)
    if moved and world.main:  # Trainer.resuming reads the settings from config.json
        folder.write_json(folder.config_path, config.to_json(full=True))
    trainer = Trainer.resuming(folder.path, data.train_batches, data.steps_per_epoch,
                               data.val_batches if data.has_validation else None, epochs=epochs,
                               control=control, data_state=data, tensorboard=tensorboard, world=world,
                               sync_batchnorm=sync_batchnorm, config=config if moved else None)
    return TrainingJob(trainer, data)


@dataclass
class RunSummary:
    """The numbers a run ends with, gathered record by record.

    ``samples_per_second`` counts training samples over the wall time of this
    session, validation and checkpoints included: what a user waits for.
    """

    samples_per_step: float
    status: str = "running"
    run_dir: str = ""
    checkpoint: str | None = None
    message: str = ""
    last: EpochRecord | None = None
    best_val_accuracy: float | None = None
    first_step: int = 0
    steps: int = 0
    epochs: int = 0
    notes: list[str] = field(default_factory=list)
    _started: float = field(default_factory=time.perf_counter)
    _seconds: float | None = None

    def add(self, record: Record) -> None:
        if isinstance(record, RunStarted):
            self.run_dir, self.first_step, self.steps = record.run_dir, record.step, record.step
            self.epochs, self._started = record.epoch - 1, time.perf_counter()
        elif isinstance(record, EpochRecord):
            self.last, self.steps, self.epochs = record, record.step, record.epoch
            if record.val_top1 is not None:
                self.best_val_accuracy = max(self.best_val_accuracy or 0.0, record.val_top1)
        elif isinstance(record, Note):
            self.notes.append(record.message)
        elif isinstance(record, RunEnded):
            self.status, self.message, self.checkpoint = record.status, record.message, record.checkpoint
            self.steps, self.epochs = record.step, record.epoch
            self._seconds = time.perf_counter() - self._started

    @property
    def seconds(self) -> float:
        return self._seconds if self._seconds is not None else time.perf_counter() - self._started

    @property
    def samples_per_second(self) -> float:
        samples = (self.steps - self.first_step) * self.samples_per_step
        return samples / self.seconds if self.seconds > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        last = self.last
        best = Path(self.run_dir) / "checkpoints" / "best.pt" if self.run_dir else None
        out = {
            "status": self.status, "epochs": self.epochs, "steps": self.steps,
            "train_loss": last.train_loss if last else None,
            "train_accuracy": last.train_accuracy if last else None,
            "val_loss": last.val_loss if last else None,
            "val_accuracy": last.val_top1 if last else None,
            "val_top5": last.val_top5 if last else None,
            "best_val_accuracy": self.best_val_accuracy,
            "samples_per_second": round(self.samples_per_second, 1),
            "seconds": round(self.seconds, 3),
            "run_dir": self.run_dir, "checkpoint": self.checkpoint,
            "best_checkpoint": str(best) if best is not None and best.is_file() else None,
        }
        return {key: None if isinstance(v, float) and not math.isfinite(v) else v for key, v in out.items()}
