"""Measuring a model on labelled batches: loss, top-1/top-5, confusion matrix, per-sample results.

``measure`` is what the trainer runs on the validation set every epoch: sums on
the device, one transfer at the end. ``evaluate`` adds what the editor shows
after training: the confusion matrix, precision and recall per class, and each
sample's predicted class and confidence, so that the samples of one cell of the
matrix can be listed from the most to the least confident.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import torch
from torch import nn

from designer.training.devices import Precision, to_device
from designer.training.errors import TrainingError
from designer.training.faults import Batch, guarded_batches, model_error
from designer.training.meters import Meter, Reading, Reducer, class_labels


@dataclass(frozen=True)
class Evaluation:
    """A model's results on a labelled set; tensors are on the CPU.

    ``confusion[t, p]`` counts samples of true class ``t`` predicted as ``p``.
    Precision is NaN for a class nothing was predicted as, recall for a class
    with no samples. ``predicted``, ``confidence`` (the softmax probability of
    the predicted class) and ``targets`` follow the order the batches gave.
    """

    loss: float
    top1: float
    top5: float
    count: int
    confusion: torch.Tensor  # [C, C] int64
    precision: torch.Tensor  # [C] float64
    recall: torch.Tensor  # [C] float64
    predicted: torch.Tensor  # [N] int64
    confidence: torch.Tensor  # [N] float32
    targets: torch.Tensor  # [N] int64

    def samples(self, true_class: int, predicted_class: int) -> torch.Tensor:
        """Indices of the samples in one confusion cell, the most confident first."""
        cell = torch.nonzero((self.targets == true_class) & (self.predicted == predicted_class)).flatten()
        order = torch.argsort(self.confidence[cell], descending=True, stable=True)
        return cell[order]


def _outputs(model: nn.Module, batches: Iterable[Batch], device: torch.device, loss_fn: nn.Module,
             precision: Precision, channels_last: bool) -> Iterator[tuple[torch.Tensor, ...]]:
    """(output, target, mean loss) per batch, without gradients, in eval mode."""
    was_training = model.training
    model.eval()
    try:
        for x, y in batches:
            x, y = to_device(x, device, channels_last), to_device(y, device)
            try:
                with torch.no_grad(), precision.autocast():
                    output = model(x)
                    loss = loss_fn(output, y)
            except Exception as exc:
                raise model_error(exc, "while evaluating", x.shape[0], False) from exc
            yield output.float(), y, loss
    finally:
        model.train(was_training)


def measure(model: nn.Module, batches: Iterable[Batch], device: torch.device, loss_fn: nn.Module,
            precision: Precision | None = None, channels_last: bool = False,
            reducer: Reducer | None = None) -> Reading:
    """Mean loss and top-1/top-5 counts over ``batches`` (over every rank's batches, with a ``reducer``)."""
    meter = Meter(device, top5=True, reducer=reducer)
    for output, y, loss in _outputs(model, batches, device, loss_fn, precision or _fp32(device), channels_last):
        meter.add(loss, output, y)
    return meter.read()


def _fp32(device: torch.device) -> Precision:
    return Precision(device.type, None, False)


def evaluate(model: nn.Module, batches: Iterable[Batch], device: torch.device | str, num_classes: int,
             loss_fn: nn.Module | None = None, precision: Precision | None = None,
             channels_last: bool = False) -> Evaluation:
    """Run ``model`` over labelled ``batches`` (class indices or one-hot targets) and measure it."""
    device = torch.device(device)
    loss_fn = loss_fn if loss_fn is not None else nn.CrossEntropyLoss()
    checked = guarded_batches(lambda: batches, "the evaluation", classes=num_classes)
    meter = Meter(device, top5=True)
    predicted, confidence, targets = [], [], []
    for output, y, loss in _outputs(model, checked, device, loss_fn, precision or _fp32(device), channels_last):
        labels = class_labels(output, y)
        if labels is None:
            raise TrainingError("data: evaluation needs class labels as targets (class indices, or "
                                f"one-hot rows of {num_classes}); got targets of shape {tuple(y.shape)}")
        meter.add(loss, output, y)
        best = output.softmax(dim=1).max(dim=1)
        predicted.append(best.indices)
        confidence.append(best.values)
        targets.append(labels)
    reading = meter.read()
    if not reading.count:
        raise TrainingError("data: the evaluation batches are empty")
    return _summarise(reading, torch.cat(predicted).cpu(), torch.cat(confidence).cpu(),
                      torch.cat(targets).cpu(), num_classes)


def _summarise(reading: Reading, predicted: torch.Tensor, confidence: torch.Tensor, targets: torch.Tensor,
               num_classes: int) -> Evaluation:
    for what, values in (("a target", targets), ("the model's output", predicted)):
        outside = values[(values < 0) | (values >= num_classes)]
        if len(outside):
            raise TrainingError(f"data: {what} has class {int(outside[0])}, but num_classes is "
                                f"{num_classes} (classes 0 to {num_classes - 1})")
    confusion = torch.bincount(targets * num_classes + predicted, minlength=num_classes * num_classes)
    confusion = confusion.view(num_classes, num_classes)
    hits = confusion.diagonal().double()
    precision = hits / confusion.sum(dim=0).double()  # 0/0 is NaN: nothing predicted as that class
    recall = hits / confusion.sum(dim=1).double()
    return Evaluation(reading.loss, reading.top1 or 0.0, reading.top5 or 0.0, reading.count, confusion,
                      precision, recall, predicted, confidence, targets)
