"""The two datasets that need no download: UCI ``digits`` (shipped) and generated ``shapes``.

``digits`` is the 1,797 8×8 handwritten digits of the UCI "Optical Recognition of
Handwritten Digits" test set (CC BY 4.0; see ``resources/datasets/README.md``).
``shapes`` is drawn here, seeded, in ten classes, at any size, all at once with
tensor operations (no per-image Python).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from designer.data.errors import DataFileError
from designer.data.imageset import ImageSet, RawData, images_from_array, labels_from_array
from designer.graph.templates import resources_dir

DIGIT_NAMES = tuple(str(i) for i in range(10))
SHAPE_NAMES = ("circle", "square", "triangle", "diamond", "ring",
               "plus", "frame", "cross", "semicircle", "star")
_CHUNK = 2048  # images drawn at once: bounds the memory of the coordinate grids


def load_digits() -> RawData:
    """The shipped digits as uint8 ``[1797, 1, 8, 8]``, their 0..16 counts stretched to 0..255."""
    path = resources_dir() / "datasets" / "digits.npz"
    try:
        with np.load(path, allow_pickle=False) as archive:
            x, y = archive["x"], archive["y"]
    except (OSError, KeyError, ValueError) as exc:
        raise DataFileError(path, f"the built-in digits file is missing or damaged ({exc})") from exc
    stretched = ((x.astype(np.uint16) * 255 + 8) // 16).astype(np.uint8)
    images = images_from_array(stretched, path)
    return RawData(ImageSet(images, labels_from_array(y, len(x), 10, path)), None, DIGIT_NAMES)


def make_shapes(samples: int, seed: int, size: tuple[int, int] = (32, 32)) -> RawData:
    """``samples`` RGB images of coloured shapes on coloured backgrounds, as balanced as possible.

    The same ``samples``, ``seed`` and ``size`` always give the same images.
    """
    generator = torch.Generator().manual_seed(seed)
    labels = torch.randperm(samples, generator=generator) % len(SHAPE_NAMES)
    images = torch.empty((samples, 3, *size), dtype=torch.uint8)
    for start in range(0, samples, _CHUNK):
        chunk = labels[start:start + _CHUNK]
        images[start:start + len(chunk)] = _draw(chunk, size, generator)
    return RawData(ImageSet(images, labels), None, SHAPE_NAMES)


def _draw(labels: torch.Tensor, size: tuple[int, int], generator: torch.Generator) -> torch.Tensor:
    n, (height, width) = len(labels), size
    short = min(height, width)
    radius = short * (0.18 + 0.22 * torch.rand(n, generator=generator))
    # Centres keep the whole shape inside the image.
    cy = radius + torch.rand(n, generator=generator) * (height - 2 * radius)
    cx = radius + torch.rand(n, generator=generator) * (width - 2 * radius)
    ys = torch.arange(height, dtype=torch.float32) + 0.5
    xs = torch.arange(width, dtype=torch.float32) + 0.5
    # Coordinates relative to each centre, in units of its radius: u right, v down.
    v = (ys[None, :, None] - cy[:, None, None]) / radius[:, None, None]
    u = (xs[None, None, :] - cx[:, None, None]) / radius[:, None, None]
    u, v = u.expand(n, height, width), v.expand(n, height, width)
    mask = torch.zeros((n, height, width), dtype=torch.bool)
    for label, rule in enumerate(_RULES):
        chosen = labels == label
        if chosen.any():
            mask[chosen] = rule(u[chosen], v[chosen])
    background = torch.rand((n, 3, 1, 1), generator=generator)
    # Each channel of the shape differs from the background's by 0.35 to 0.65: always visible.
    foreground = (background + 0.35 + 0.3 * torch.rand((n, 3, 1, 1), generator=generator)) % 1.0
    picture = torch.where(mask[:, None], foreground, background)
    picture = picture + 0.03 * torch.randn(picture.shape, generator=generator)
    return (picture.clamp(0, 1) * 255).round().to(torch.uint8)


def _star(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    angle = torch.atan2(v, u) + math.pi / 2  # one point straight up
    reach = 0.5 + 0.5 * torch.cos(5 * angle).clamp(min=0) ** 2
    return u.hypot(v) <= reach


_Rule = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
_RULES: tuple[_Rule, ...] = (
    lambda u, v: u.hypot(v) <= 1,                                         # circle
    lambda u, v: torch.maximum(u.abs(), v.abs()) <= 0.85,                 # square
    lambda u, v: (v <= 0.8) & (u.abs() <= (v + 1) / 2),                   # triangle, apex up
    lambda u, v: u.abs() + v.abs() <= 1,                                  # diamond
    lambda u, v: (u.hypot(v) <= 1) & (u.hypot(v) >= 0.55),                # ring
    lambda u, v: (torch.minimum(u.abs(), v.abs()) <= 0.3) & (torch.maximum(u.abs(), v.abs()) <= 1),  # plus
    lambda u, v: (torch.maximum(u.abs(), v.abs()) <= 0.85) & (torch.maximum(u.abs(), v.abs()) >= 0.5),  # frame
    lambda u, v: ((u.abs() - v.abs()).abs() <= 0.35) & (torch.maximum(u.abs(), v.abs()) <= 0.85),  # cross
    lambda u, v: (u.hypot(v) <= 1) & (v <= 0.2),                          # semicircle
    _star,
)
