"""Batches for training and evaluation, cut from one set of images by indexing.

A split keeps its images as stored (uint8 where the source is uint8), in memory
or, for a set too large for memory, in its cache file; each batch is gathered
with one index (read from the file for a mapped set), augmented while still
uint8, moved to the device and only then converted and normalised in a single
fused multiply-add. ``shard`` gives each process of a data-parallel run its own
part of every epoch.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch

from designer.data.config import Augment
from designer.data.mapped import Images, MappedImages
from designer.data.transforms import Stats, augment_batch, pixel_scale
from designer.training.portable import shard_order

Shard = tuple[int, int]  # (this process's rank, how many processes)


@dataclass(frozen=True)
class Split:
    """One side of a dataset, ready to batch.

    ``images`` is ``[N, C, H, W]`` (a tensor, or rows of a cache file that stay on
    the CPU) and ``labels`` ``[N]`` int64, on the same device; ``stats`` normalise
    it (the training set's, for both sides); ``flatten`` makes batches
    ``[B, C·H·W]`` for flat Inputs.
    """

    images: Images
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
        """The split on ``device``; mapped images stay in their file, each batch goes to the device."""
        images = self.images if isinstance(self.images, MappedImages) else self.images.to(device)
        labels = self.labels if isinstance(self.images, MappedImages) else self.labels.to(device)
        return Split(images, labels, self.stats, self.flatten)

    def normaliser(self, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        """``(a, b)`` such that ``stored · a + b`` is the normalised float image, ``[1, C, 1, 1]`` each."""
        mean = torch.tensor(self.stats.mean, dtype=torch.float32, device=device)
        std = torch.tensor(self.stats.std, dtype=torch.float32, device=device)
        a = pixel_scale(self.images) / std
        return a.view(1, -1, 1, 1), (-mean / std).view(1, -1, 1, 1)


def batches(split: Split, batch_size: int, shuffle: bool = False, generator: torch.Generator | None = None,
            augment: Augment | None = None, device: torch.device | str | None = None,
            drop_last: bool = False, *, shard: Shard = (0, 1)) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Yield ``(x float32 normalised, y int64)`` covering every sample once.

    ``shuffle`` draws a fresh order from ``generator`` on each call (one call, one
    epoch); ``augment`` applies random crops and flips from the same generator;
    ``drop_last`` leaves out a short final batch (BatchNorm cannot train on one sample).

    ``shard=(rank, world)`` yields only this process's part: the shuffled order is
    drawn for the whole split (the same on every rank, which therefore draws the
    same numbers), cut to a multiple of ``world`` and dealt out in turn; unshuffled,
    rank ``r`` takes samples ``r, r + world, …``.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be 1 or more, not {batch_size}")
    target = torch.device(device) if device is not None else split.images.device
    order = _order(split, shuffle, generator, shard)
    n = len(split) if order is None else len(order)
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
            x = split.images.index_select(0, index)
            y = split.labels.index_select(0, index.to(split.labels.device))
        if crop or flip:
            x = augment_batch(x, crop, flip, generator)
        # Move while still uint8 (4× less to copy); ``mul`` converts into a new float tensor,
        # so the stored images are never changed in place.
        x = torch.mul(x.to(target, non_blocking=True), a).add_(b)
        y = y.to(target, non_blocking=True)
        yield (x.flatten(1) if split.flatten else x), y


def _order(split: Split, shuffle: bool, generator: torch.Generator | None, shard: Shard) -> torch.Tensor | None:
    """The samples of this epoch and rank, in order; None for all of them as stored."""
    rank, world = _check_shard(shard)
    n = len(split)
    if not shuffle:
        return None if world == 1 else torch.arange(rank, n, world, device=split.images.device)
    where = generator.device if generator is not None else torch.device("cpu")
    order = torch.randperm(n, generator=generator, device=where).to(split.images.device)
    return order if world == 1 else shard_order(order, rank, world)


def batch_count(split: Split, batch_size: int, drop_last: bool = False, *, shard: Shard = (0, 1),
                shuffle: bool = True) -> int:
    """How many batches ``batches`` yields for one pass over ``split`` with the same ``shard``.

    Sharded, a shuffled epoch (training: every rank the same count) and an
    unshuffled one (validation: the first ranks may have one sample more) differ,
    hence ``shuffle``; with one process it makes no difference.
    """
    rank, world = _check_shard(shard)
    n = len(split)
    if world > 1:
        n = n // world if shuffle else len(range(rank, n, world))
    return n // batch_size if drop_last else -(-n // batch_size)


def _check_shard(shard: Shard) -> Shard:
    rank, world = shard
    if world < 1 or not 0 <= rank < world:
        raise ValueError(f"shard must be (rank, world) with 0 <= rank < world, not {shard}")
    return rank, world
