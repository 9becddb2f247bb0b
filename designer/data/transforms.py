"""Tensor transforms on whole sets and whole batches: resize, grayscale to RGB, statistics, augmentation.

Nothing here loops over samples in Python: sets are processed in chunks of many
images, batches in one indexing operation. The code is the exported script's
(:mod:`designer.training.portable_data` and :mod:`designer.training.portable`),
so that the app and the script train on the same pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

from designer.data.mapped import Images
from designer.training import portable_data
from designer.training.portable import augment_batch, random_crop
from designer.training.portable_data import chunk_rows, grayscale_to_rgb, pixel_scale, resize_images

__all__ = ["Stats", "augment_batch", "channel_stats", "chunk_rows", "grayscale_to_rgb", "pixel_scale",
           "random_crop", "resize_images"]


@dataclass(frozen=True)
class Stats:
    """Per-channel mean and standard deviation of the training images, on the 0..1 scale."""

    mean: tuple[float, ...]
    std: tuple[float, ...]

    @classmethod
    def identity(cls, channels: int) -> Stats:
        return cls((0.0,) * channels, (1.0,) * channels)


def channel_stats(images: Images) -> Stats:
    """Mean and standard deviation per channel, summed in float64 chunk by chunk (a mapped set is read so)."""
    return Stats(*portable_data.channel_stats(images))
