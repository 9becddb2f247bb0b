"""A trained network read back from a run folder or a checkpoint: predict one image, evaluate a dataset.

``open_trained`` takes a run folder (its best checkpoint, else its last) or a
checkpoint file. The checkpoint holds the graph and the weights; the run's
``data.json`` says how images were fed to the network. A checkpoint without one
beside it (copied out of its run) gets that back by preparing the dataset its
graph names, which gives the same split and statistics again.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch import nn

from designer.data import DatasetConfig, batches, prepare
from designer.data.errors import DataFileError
from designer.data.transforms import grayscale_to_rgb, pixel_scale, resize_images
from designer.export import model_with_weights
from designer.graph.files import file_problem
from designer.graph.graph import Graph
from designer.graph.project import graph_from_dict
from designer.training.checkpoints import load_checkpoint
from designer.training.errors import CheckpointError, TrainingError
from designer.training.evaluate import Evaluation, evaluate
from designer.training.run_data import DataInfo, with_stats
from designer.training.runs import RunFolder
from designer.training.snapshot import take_snapshot


@dataclass(frozen=True)
class TrainedModel:
    """A network with its trained weights (on the CPU, in eval mode) and how to feed it."""

    graph: Graph
    model: nn.Module
    info: DataInfo
    checkpoint: Path
    notes: tuple[str, ...] = ()

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.info.class_names


def open_trained(path: str | Path) -> TrainedModel:
    """The network of a run folder or a checkpoint file; a TrainingError says why it cannot be read."""
    checkpoint = _checkpoint_of(Path(path))
    if not zipfile.is_zipfile(checkpoint):  # torch.save writes zip archives
        raise CheckpointError(f"{checkpoint}: not a Designer training checkpoint (a .pt file a run saved)")
    data = load_checkpoint(checkpoint)
    graph = _graph(data, checkpoint)
    if not isinstance(data.get("model"), dict):
        raise CheckpointError(f"{checkpoint}: holds no model weights")
    _check_finite(data["model"], checkpoint)
    model = model_with_weights(graph, data["model"])
    run_dir = checkpoint.parent.parent
    info = DataInfo.load(run_dir) if os.path.lexists(run_dir / "run.json") else None
    notes: tuple[str, ...] = ()
    if info is None:
        info = _recover_info(graph)
        notes = (f"{checkpoint}: no data.json beside it; the class names and normalisation were worked "
                 f"out again from the dataset its graph names ({info.dataset.get('name')})",)
    return TrainedModel(graph, model, info, checkpoint, notes)


def _checkpoint_of(path: Path) -> Path:
    """The checkpoint file ``path`` names (a run folder's best, else its last), checked to be readable."""
    if path.is_dir():
        folder = RunFolder.open(path)
        if not folder.best_checkpoint.exists() and not folder.last_checkpoint.exists():
            raise CheckpointError(f"{path}: the run has no checkpoint yet; it stopped before its first "
                                  f"epoch ended")
        path = folder.best_checkpoint if folder.best_checkpoint.exists() else folder.last_checkpoint
    problem = file_problem(path)
    if problem is not None:  # before anything opens it: a named pipe would block the reader for ever
        raise CheckpointError(f"{path}: {problem}")
    return path


def _check_finite(weights: dict[str, Any], checkpoint: Path) -> None:
    """Weights with NaN or infinity make every output NaN: say so, naming the first such tensor."""
    for name, tensor in weights.items():
        if isinstance(tensor, torch.Tensor) and tensor.is_floating_point() and not torch.isfinite(tensor).all():
            raise CheckpointError(f"{checkpoint}: the weights are not finite ({name} holds NaN or infinite "
                                  f"values), so the network's outputs would be meaningless; train again, "
                                  f"with a lower learning rate if the loss blew up")


def _graph(data: dict[str, Any], checkpoint: Path) -> Graph:
    try:
        return graph_from_dict(dict(data["graph"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{checkpoint}: holds no readable graph ({exc})") from None


def _recover_info(graph: Graph) -> DataInfo:
    """What data.json would say, from preparing the dataset in the graph's ``dataset`` section."""
    snapshot = take_snapshot(graph)
    dataset = DatasetConfig.from_json(graph.meta.get("dataset", {}))
    prepared = prepare(dataset, snapshot.input_shape, "cpu", output_shape=snapshot.output_shape)
    return DataInfo.from_prepared(prepared, snapshot.input_shape)


# -- predict -----------------------------------------------------------------------------


def read_image(path: str | Path, info: DataInfo) -> torch.Tensor:
    """An image file as one normalised batch ``[1, *input_shape]``, prepared as the training images were.

    Read as grayscale or RGB like the training files, resized to the Input's size
    with the data layer's resize, widened to RGB where training did that, then
    normalised with the training set's statistics.
    """
    path = Path(path)
    problem = file_problem(path)
    if problem is not None:  # before Image.open, which would wait for ever on a named pipe
        raise DataFileError(path, problem)
    try:
        with Image.open(path) as opened:
            image = opened.convert("L" if info.source_channels == 1 else "RGB")
        pixels = np.asarray(image, dtype=np.uint8)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise DataFileError(path, f"not a readable image ({exc})") from None
    x = torch.from_numpy(pixels.copy())
    x = x[None, None] if x.dim() == 2 else x.permute(2, 0, 1)[None]
    x = resize_images(x, (info.height, info.width))
    if info.channels == 3:
        x = grayscale_to_rgb(x)
    mean = torch.tensor(info.mean).view(1, -1, 1, 1)
    std = torch.tensor(info.std).view(1, -1, 1, 1)
    x = (x.float() * pixel_scale(x) - mean) / std
    return x.flatten(1) if len(info.input_shape) == 1 else x


def predict(trained: TrainedModel, image: str | Path, top: int = 5) -> list[tuple[str, float]]:
    """The ``top`` most likely classes of one image file, with their softmax probabilities."""
    x = read_image(image, trained.info)
    with torch.no_grad():
        output = trained.model(x)
    if output.dim() != 2 or output.shape[1] != len(trained.class_names):
        raise TrainingError(f"model: the network gives {list(output.shape[1:])} outputs for "
                            f"{len(trained.class_names)} classes")
    if not torch.isfinite(output).all():
        raise TrainingError(f"model: the network's outputs for {image} are not finite (NaN or infinite), "
                            f"so they give no probabilities")
    probabilities = output.float().softmax(dim=1)[0]
    values, indices = probabilities.topk(min(top, len(probabilities)))
    return [(trained.class_names[i], float(p)) for p, i in zip(values.tolist(), indices.tolist())]


# -- evaluate ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DatasetEvaluation:
    """A trained network's results on a dataset's validation split, with that split's class names."""

    evaluation: Evaluation
    class_names: tuple[str, ...]
    dataset: str
    notes: tuple[str, ...]
    # The evaluated images as stored (uint8 or 0..1 floats, [N, C, H, W], on the CPU), in the order of
    # ``evaluation.samples``' indices: what the editor shows as thumbnails of a confusion cell.
    images: torch.Tensor | None = field(default=None, repr=False, compare=False)


def evaluate_trained(trained: TrainedModel, dataset: DatasetConfig | None = None, batch_size: int = 256,
                     device: torch.device | str = "cpu") -> DatasetEvaluation:
    """Evaluate on the validation split of ``dataset`` (default: the one the network was trained on).

    Images are normalised with the statistics of the network's training set,
    whatever set they come from, since those are what its weights expect.
    """
    config = dataset if dataset is not None else DatasetConfig.from_json(trained.info.dataset)
    snapshot = take_snapshot(trained.graph)
    prepared = prepare(config, snapshot.input_shape, device, output_shape=snapshot.output_shape)
    if not len(prepared.val):
        raise TrainingError(f"data: {config.name!r} has no validation images to evaluate on; "
                            f"set dataset.validation to a fraction such as 0.1")
    split = with_stats(prepared.val, trained.info.stats)
    model = trained.model.to(device)
    evaluation = evaluate(model, batches(split, batch_size, device=device), device,
                          len(prepared.class_names))
    return DatasetEvaluation(evaluation, prepared.class_names, config.name, tuple(prepared.info.notes),
                             prepared.val.images.cpu())


def misclassified(evaluation: Evaluation) -> torch.Tensor:
    """Indices of the wrongly classified samples, the most confident mistakes first."""
    wrong = torch.nonzero(evaluation.predicted != evaluation.targets).flatten()
    order = torch.argsort(evaluation.confidence[wrong], descending=True, stable=True)
    return wrong[order]
