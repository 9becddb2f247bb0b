"""The dataset side of a run: prepared data cut into the trainer's batches, and what the run must remember.

``prepare_training`` turns a graph, a ``DatasetConfig`` and a ``TrainingConfig``
into a :class:`TrainingData`: the data is loaded for the graph's Input and output
shapes (so a dataset that does not fit fails before any run folder exists), and
the training order comes from one seeded ``torch.Generator`` that the trainer
saves with each checkpoint, so a resumed run sees the very batches it would have.

The trainer's checkpoints hold the weights, settings and graph, not how images
were fed to the network. :class:`DataInfo` keeps that (class names, the
normalisation statistics, the image geometry, the dataset description) as
``data.json`` in the run folder, for ``predict`` and ``eval``.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from designer.data import DatasetConfig, Prepared, Split, Stats, batch_count, batches, prepare
from designer.data.image_cache import Progress
from designer.data.sources import resolve_path
from designer.graph.files import write_atomic
from designer.graph.graph import Graph
from designer.training.config import TrainingConfig
from designer.training.devices import pick_device
from designer.training.distributed import SINGLE, World, rank_batch
from designer.training.errors import CheckpointError, TrainingError
from designer.training.runs import read_run_file
from designer.training.snapshot import take_snapshot

DATA_FILE = "data.json"
DATA_FORMAT = "designer-run-data"
Batch = tuple[torch.Tensor, torch.Tensor]


@dataclass(frozen=True)
class DataInfo:
    """How a run's images were fed to its network; ``data.json`` in the run folder.

    ``channels``, ``height`` and ``width`` are the images as batched (before a flat
    Input flattens them); ``source_channels`` is what the files hold, so a
    grayscale set widened to RGB is read as grayscale first, as in training.
    """

    dataset: dict[str, Any]
    class_names: tuple[str, ...]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    input_shape: tuple[int, ...]
    channels: int
    height: int
    width: int
    source_channels: int
    train_count: int = 0
    val_count: int = 0
    notes: tuple[str, ...] = ()

    @property
    def stats(self) -> Stats:
        return Stats(self.mean, self.std)

    @classmethod
    def from_prepared(cls, prepared: Prepared, input_shape: tuple[int, ...]) -> DataInfo:
        info = prepared.info
        return cls(prepared.config.to_json(), tuple(prepared.class_names), tuple(prepared.stats.mean),
                   tuple(prepared.stats.std), tuple(input_shape), info.channels, info.height, info.width,
                   info.source_channels, info.train_count, info.val_count, tuple(info.notes))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"format": DATA_FORMAT, "version": 1}
        for key, value in dataclasses.asdict(self).items():
            out[key] = list(value) if isinstance(value, tuple) else value
        return out

    @classmethod
    def from_json(cls, data: Any, where: str = DATA_FILE) -> DataInfo:
        if not isinstance(data, dict) or data.get("format") != DATA_FORMAT:
            raise CheckpointError(f"{where}: not a Designer run data file")
        try:
            values = {f.name: data[f.name] for f in dataclasses.fields(cls) if f.name in data}
            for key in ("class_names", "mean", "std", "input_shape", "notes"):
                if key in values:
                    values[key] = tuple(values[key])
            info = cls(**values)
        except (TypeError, ValueError) as exc:
            raise CheckpointError(f"{where}: cannot be read ({exc})") from None
        if len(info.mean) != info.channels or len(info.std) != info.channels:
            raise CheckpointError(f"{where}: the statistics do not match its {info.channels} channels")
        return info

    def save(self, run_dir: Path) -> None:
        text = json.dumps(self.to_json(), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
        write_atomic(run_dir / DATA_FILE, text.encode("utf-8"))

    @classmethod
    def load(cls, run_dir: Path) -> DataInfo | None:
        """The run's ``data.json``, or None if it has none (a run made before it was written)."""
        path = run_dir / DATA_FILE
        if not os.path.lexists(path):
            return None
        try:
            data = json.loads(read_run_file(path).decode("utf-8"))
        except ValueError as exc:
            raise CheckpointError(f"{path}: cannot be read ({exc})") from None
        return cls.from_json(data, str(path))


class TrainingData:
    """A prepared dataset as the trainer takes it: ``train_batches``, ``val_batches``, ``steps_per_epoch``.

    ``generator`` draws the order and the augmentation of every epoch in turn.
    This object is the trainer's ``data_state`` (``get_state``/``set_state`` are
    the generator's), so the state at each epoch's start goes into the
    checkpoints and comes back on resume.

    In a data-parallel job ``batch_size`` is still the batch of one step in all:
    every rank draws the same order and takes its share of each batch (rank r
    the samples r, r + world, …), so the job trains on the batches a single
    process would, whatever the number of processes, and a run can resume with
    another number of them.
    """

    def __init__(self, prepared: Prepared, input_shape: tuple[int, ...], batch_size: int, seed: int,
                 device: torch.device | str = "cpu", world: World = SINGLE) -> None:
        self.prepared, self.input_shape = prepared, tuple(input_shape)
        self.batch_size, self.device, self.world = batch_size, torch.device(device), world
        self.rank_batch = rank_batch(batch_size, world.size)
        self.generator = torch.Generator().manual_seed(seed)
        # A last batch of one sample breaks BatchNorm in training mode; leave it for the next epoch.
        share = len(prepared.train) // world.size
        self.drop_last = share > self.rank_batch and share % self.rank_batch == 1
        self.steps_per_epoch = batch_count(prepared.train, self.rank_batch, self.drop_last, shard=world.shard)
        if self.steps_per_epoch < 1:
            raise TrainingError(f"data: the training split of {prepared.config.name!r} holds no images; "
                                f"lower dataset.validation or add images")

    def get_state(self) -> torch.Tensor:
        """The data order's random state: with ``set_state``, this object is the trainer's ``data_state``."""
        return self.generator.get_state()

    def set_state(self, state: Any) -> None:
        self.generator.set_state(state)

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.prepared.class_names

    @property
    def notes(self) -> tuple[str, ...]:
        """What preparing the data skipped or ignored; the user must see these."""
        return tuple(self.prepared.info.notes)

    @property
    def has_validation(self) -> bool:
        return len(self.prepared.val) > 0

    def train_batches(self, epoch: int) -> Iterator[Batch]:
        """One epoch in the generator's next order; ``epoch`` is implied by the generator's state."""
        return batches(self.prepared.train, self.rank_batch, shuffle=True, generator=self.generator,
                       augment=self.prepared.augment, device=self.device, drop_last=self.drop_last,
                       shard=self.world.shard)

    def val_batches(self) -> Iterator[Batch]:
        return batches(self.prepared.val, self.rank_batch, device=self.device, shard=self.world.shard)

    def info(self) -> DataInfo:
        return DataInfo.from_prepared(self.prepared, self.input_shape)


def prepare_training(graph: Graph, dataset: DatasetConfig, config: TrainingConfig, *,
                     base_dir: Path | None = None, cache_dir: Path | None = None,
                     world: World = SINGLE, progress: Progress | None = None) -> TrainingData:
    """Load ``dataset`` for ``graph``'s Input and output; graph, device and data errors come first.

    ``progress(done, total)`` hears how the first decoding of an image folder goes.
    """
    snapshot = take_snapshot(graph)
    device = pick_device(config, world)
    prepared = prepare(dataset, snapshot.input_shape, device, output_shape=snapshot.output_shape,
                       cache_dir=cache_dir, base_dir=base_dir, progress=progress)
    return TrainingData(prepared, snapshot.input_shape, config.batch_size, config.seed, device, world)


def absolute_dataset(dataset: DatasetConfig, base_dir: Path | None) -> DatasetConfig:
    """``dataset`` with its path made absolute, so the run can find the data from any folder later."""
    if dataset.path is None:
        return dataset
    return dataclasses.replace(dataset, path=str(resolve_path(dataset.path, base_dir or Path.cwd()).resolve()))


def with_stats(split: Split, stats: Stats) -> Split:
    """``split`` normalised with another set's statistics (a trained network's, not this data's own)."""
    if len(stats.mean) != split.images.shape[1]:
        raise TrainingError(f"data: the network was trained on {len(stats.mean)}-channel images, "
                            f"these have {split.images.shape[1]}")
    return Split(split.images, split.labels, stats, split.flatten)
