"""Tensor transforms on whole sets and whole batches: resize, grayscale to RGB, statistics, augmentation.

Nothing here loops over samples in Python: sets are processed in chunks of many
images, batches in one indexing operation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from designer.data.mapped import Images

_CHUNK_BYTES = 64 * 2**20  # of float64 per step when a whole set is transformed: bounds the copy


@dataclass(frozen=True)
class Stats:
    """Per-channel mean and standard deviation of the training images, on the 0..1 scale."""

    mean: tuple[float, ...]
    std: tuple[float, ...]

    @classmethod
    def identity(cls, channels: int) -> Stats:
        return cls((0.0,) * channels, (1.0,) * channels)


def pixel_scale(images: Images) -> float:
    """The factor that brings stored pixels to 0..1: uint8 is 0..255, floats are already 0..1."""
    return 1.0 / 255.0 if images.dtype == torch.uint8 else 1.0


def resize_images(images: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Bilinear resize of a whole ``[N, C, H, W]`` set, done once; uint8 stays uint8 (rounded)."""
    if tuple(images.shape[2:]) == tuple(size):
        return images
    # Antialiasing matters only when shrinking; it keeps a large photo from aliasing into noise.
    shrink = size[0] < images.shape[2] or size[1] < images.shape[3]
    out = torch.empty((images.shape[0], images.shape[1], *size), dtype=images.dtype, device=images.device)
    step = min(chunk_rows(images.shape), chunk_rows(out.shape))
    for start in range(0, images.shape[0], step):
        chunk = images[start:start + step].float()
        resized = F.interpolate(chunk, size=size, mode="bilinear", align_corners=False, antialias=shrink)
        if images.dtype == torch.uint8:
            resized = resized.round_().clamp_(0, 255)
        out[start:start + step] = resized.to(images.dtype)
    return out


def chunk_rows(shape: Sequence[int]) -> int:
    """How many images of ``shape`` (``[N, C, H, W]``) make a chunk of at most ``_CHUNK_BYTES`` in float64."""
    per_image = 8 * max(1, math.prod(shape[1:]))
    return max(1, _CHUNK_BYTES // per_image)


def grayscale_to_rgb(images: torch.Tensor) -> torch.Tensor:
    """One channel copied into three."""
    return images.expand(-1, 3, -1, -1).contiguous() if images.shape[1] == 1 else images


def channel_stats(images: Images) -> Stats:
    """Mean and standard deviation per channel, summed in float64 chunk by chunk (a mapped set is read so)."""
    channels, scale = images.shape[1], pixel_scale(images)
    total = torch.zeros(channels, dtype=torch.float64)
    squares = torch.zeros(channels, dtype=torch.float64)
    step = chunk_rows(images.shape)
    for start in range(0, images.shape[0], step):
        chunk = images[start:start + step].to("cpu", torch.float64) * scale
        total += chunk.sum(dim=(0, 2, 3))
        squares += chunk.square().sum(dim=(0, 2, 3))
    count = images.shape[0] * images.shape[2] * images.shape[3]
    mean = total / count
    std = (squares / count - mean.square()).clamp(min=0).sqrt()
    # A constant channel would divide by zero; leaving it unscaled is harmless.
    std = torch.where(std < 1e-6, torch.ones_like(std), std)
    return Stats(tuple(mean.tolist()), tuple(std.tolist()))


def augment_batch(x: torch.Tensor, crop_padding: int, hflip: bool,
                  generator: torch.Generator | None = None) -> torch.Tensor:
    """Random crops after zero padding and random horizontal flips, drawn per sample.

    Both are one ``gather``: each sample's output pixel (i, j) is read from the padded
    image at (row offset + i, column offset + j), or + (W − 1 − j) when flipped. Works
    on any dtype, so it runs on uint8 pixels before they are converted.
    """
    if crop_padding <= 0 and not hflip:
        return x
    n, c, h, w = x.shape
    p = max(crop_padding, 0)
    padded = F.pad(x, (p, p, p, p)) if p else x
    offsets = _randint(2 * p + 1, (2, n), generator, x.device)
    columns = torch.arange(w, device=x.device)
    if hflip:
        flip = _rand((n,), generator, x.device) < 0.5
        columns = torch.where(flip[:, None], columns.flip(0), columns)  # [N, W]
    columns = columns + offsets[1][:, None]
    rows = (torch.arange(h, device=x.device) + offsets[0][:, None]) * (w + 2 * p)  # [N, H]
    index = (rows[:, :, None] + columns[:, None, :]).view(n, 1, h * w).expand(n, c, h * w)
    return padded.reshape(n, c, -1).gather(2, index).view(n, c, h, w)


def random_crop(x: torch.Tensor, padding: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Each sample cropped back to its size at its own offset in the zero-padded batch."""
    return augment_batch(x, padding, False, generator)


def _rand(shape: tuple[int, ...], generator: torch.Generator | None, device: torch.device) -> torch.Tensor:
    # Random numbers come from the generator's own device, so one seed gives one result anywhere.
    where = generator.device if generator is not None else torch.device("cpu")
    return torch.rand(shape, generator=generator, device=where).to(device)


def _randint(high: int, shape: tuple[int, ...], generator: torch.Generator | None,
             device: torch.device) -> torch.Tensor:
    where = generator.device if generator is not None else torch.device("cpu")
    return torch.randint(high, shape, generator=generator, device=where).to(device)
