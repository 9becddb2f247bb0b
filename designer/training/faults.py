"""Turning what goes wrong inside a run into a TrainingError that says where and what to do.

Failures in the batch callables start with ``data:``, failures in the forward
or backward pass with ``model:``; the original exception is kept as the cause.
Nothing is swallowed: every exception leaves the loop, so a failure can never
turn into a hang.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import torch

from designer.training.errors import TrainingError

MAX_MESSAGE = 400
Batch = tuple[torch.Tensor, torch.Tensor]


def _what(exc: BaseException) -> str:
    text = " ".join(str(exc).split())  # torch's messages can run over many lines
    if len(text) > MAX_MESSAGE:
        text = text[:MAX_MESSAGE] + "…"
    return f"{text} ({type(exc).__name__})" if text else type(exc).__name__


def data_error(exc: BaseException, where: str) -> TrainingError:
    error = TrainingError(f"data: {_what(exc)}, {where}")
    error.__cause__ = exc
    return error


def guarded_batches(open_batches: Callable[[], Iterable[Any]], where: str,
                    input_shape: tuple[int, ...] | None = None, classes: int | None = None) -> Iterator[Batch]:
    """The batches ``open_batches()`` yields, checked; any failure becomes a ``data:`` error.

    ``where`` says which batches ("epoch 3", "the validation set"); ``input_shape`` is the
    Input block's shape, which every batch's samples must have; class labels must be
    below ``classes``.
    """
    index = 0
    try:
        iterator = iter(open_batches())
    except Exception as exc:
        raise data_error(exc, f"while opening the batches of {where}") from exc
    while True:
        index += 1
        try:
            batch = next(iterator)
        except StopIteration:
            return
        except Exception as exc:
            raise data_error(exc, f"while reading batch {index} of {where}") from exc
        yield check_batch(batch, f"batch {index} of {where}", input_shape, classes)


def check_batch(batch: Any, where: str, input_shape: tuple[int, ...] | None = None,
                classes: int | None = None) -> Batch:
    if not (isinstance(batch, (tuple, list)) and len(batch) == 2
            and all(isinstance(t, torch.Tensor) for t in batch)):
        raise TrainingError(f"data: each batch must be a pair (inputs, targets) of tensors; "
                            f"{where} is a {type(batch).__name__}")
    x, y = batch
    if input_shape is not None and tuple(x.shape[1:]) != input_shape:
        raise TrainingError(f"data: {where} holds samples of {_dims(x.shape[1:])}, but the Input block "
                            f"expects {_dims(input_shape)}")
    if x.shape[0] != y.shape[0]:
        raise TrainingError(f"data: {where} has {x.shape[0]} inputs but {y.shape[0]} targets")
    if classes is not None:
        _check_labels(y, classes, where)
    return x, y


def _check_labels(y: torch.Tensor, classes: int, where: str) -> None:
    """Refuse a class label the output has no place for.

    Only labels still on the CPU are checked, where it costs no device sync; on a
    GPU the loss would fail with a device-side assert that ends the process's
    use of the GPU, so a data layer that moves labels early should check them.
    """
    if y.device.type != "cpu" or y.is_floating_point() or y.dim() != 1 or not len(y):
        return
    low, high = int(y.min()), int(y.max())
    if low < 0 or high >= classes:
        raise TrainingError(f"data: {where} has a target of class {low if low < 0 else high}, but the "
                            f"network's output has {classes} classes (0 to {classes - 1})")


def _dims(shape: Iterable[int]) -> str:
    return "×".join(map(str, shape)) or "scalars"


def is_out_of_memory(exc: BaseException) -> bool:
    # MPS and some CUDA paths raise a plain RuntimeError that says so.
    return isinstance(exc, torch.cuda.OutOfMemoryError) or "out of memory" in str(exc).lower()


def model_error(exc: BaseException, where: str, batch_size: int, compiled: bool) -> TrainingError:
    """The error for an exception from the forward pass, the loss, the backward pass or the update.

    ``where`` reads like "at step 12" or "while evaluating".
    """
    if is_out_of_memory(exc):
        if torch.cuda.is_available():
            torch.cuda.empty_cache()  # give the memory back for whatever the user tries next
        smaller = max(1, batch_size // 2)
        error = TrainingError(f"model: out of GPU memory {where} with batches of {batch_size}; "
                              f"lower training.batch_size (to {smaller}, say), train in bf16 or fp16 "
                              f"(training.precision), or make the network smaller")
    else:
        hint = "; training.compile is on: turn it off if the compiler is the problem" if compiled else ""
        error = TrainingError(f"model: {_what(exc)}, {where}{hint}")
    error.__cause__ = exc
    return error


def nonfinite_loss(step: int, lr: float) -> TrainingError:
    return TrainingError(f"the loss became NaN or infinite at step {step}, so training stopped: "
                         f"lower the learning rate (training.lr, {lr:g} at that point), turn on "
                         f"gradient clipping (training.clip_grad_norm), or check the data for NaN "
                         f"or infinite values")
