"""Batches for training and evaluation, cut from one in-memory tensor by indexing.

A split keeps its images as stored (uint8 where the source is uint8); each batch
is gathered with one index, augmented while still uint8, moved to the device and
only then converted and normalised in a single fused multiply-add.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch

from designer.data.config import Augment
from designer.data.transforms import Stats, augment_batch, pixel_scale


@dataclass(frozen=True)
class Split:
    """One side of a dataset, ready to batch.

    ``images`` is ``[N, C, H, W]`` and ``labels`` ``[N]`` int64, on the same device;
    ``stats`` normalise it (the training set's, for both sides); ``flatten`` makes
    batches ``[B, C·H·W]`` for flat Inputs.
    """

    images: torch.Tensor
    labels: torch.Tensor
    stats: Stats
    flatten: bool = False

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    @property
    def sample_shape(self) -> tuple[int, ...]:
        c, h, w = (int(d) for d in self.images.shape[1:])
        return (c * h * w,) if self.flatten else (c, h, w)

    def to(self, device: torch.device | str) -> Split:
        return Split(self.images.to(device), self.labels.to(device), self.stats, self.flatten)

    def normaliser(self, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        """``(a, b)`` such that ``stored · a + b`` is the normalised float image, ``[1, C, 1, 1]`` each."""
        mean = torch.tensor(self.stats.mean, dtype=torch.float32, device=device)
        std = torch.tensor(self.stats.std, dtype=torch.float32, device=device)
        a = pixel_scale(self.images) / std
        return a.view(1, -1, 1, 1), (-mean / std).view(1, -1, 1, 1)


def batches(split: Split, batch_size: int, shuffle: bool = False, generator: torch.Generator | None = None,
            augment: Augment | None = None, device: torch.device | str | None = None,
            drop_last: bool = False) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Yield ``(x float32 normalised, y int64)`` covering every sample once.

    ``shuffle`` draws a fresh order from ``generator`` on each call (one call, one
    epoch); ``augment`` applies random crops and flips from the same generator;
    ``drop_last`` leaves out a short final batch (BatchNorm cannot train on one sample).
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be 1 or more, not {batch_size}")
    target = torch.device(device) if device is not None else split.images.device
    n = len(split)
    order = None
    if shuffle:
        where = generator.device if generator is not None else torch.device("cpu")
        order = torch.randperm(n, generator=generator, device=where).to(split.images.device)
    a, b = split.normaliser(target)
    crop, flip = (augment.crop_padding, augment.hflip) if augment is not None else (0, False)
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        if drop_last and stop - start < batch_size:
            break
        if order is None:
            x, y = split.images[start:stop], split.labels[start:stop]
        else:
            # index_select, not x[index]: a plain gather of rows, many times faster on CPU.
            index = order[start:stop]
            x, y = split.images.index_select(0, index), split.labels.index_select(0, index)
        if crop or flip:
            x = augment_batch(x, crop, flip, generator)
        # Move while still uint8 (4× less to copy); ``mul`` converts into a new float tensor,
        # so the stored images are never changed in place.
        x = torch.mul(x.to(target, non_blocking=True), a).add_(b)
        y = y.to(target, non_blocking=True)
        yield (x.flatten(1) if split.flatten else x), y


def batch_count(split: Split, batch_size: int, drop_last: bool = False) -> int:
    """How many batches ``batches`` yields for one pass over ``split``."""
    return len(split) // batch_size if drop_last else -(-len(split) // batch_size)
