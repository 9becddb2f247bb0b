"""A first look at a dataset for the editor: its counts, classes and first training images.

Everything goes through ``prepare``, the loader training uses, so the counts are
the ones training will see. The look ignores what cannot change them
(normalisation, augmentation, grayscale to RGB): toggling those needs no reload.
Imports torch: the editor calls this on a worker thread only.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from designer.data.config import Augment, DatasetConfig
from designer.data.fit_report import DatasetFacts
from designer.data.prepare import prepare
from designer.data.sources import open_source

PREVIEW_COUNT = 32
ANY_SIZE = (32, 32)  # shapes are drawn at this size for a look; training draws them at the Input's


@dataclass(frozen=True)
class Preview:
    """``images`` are the first training images as uint8 ``[N, H, W, C]``; ``labels`` their classes."""

    facts: DatasetFacts
    images: np.ndarray
    labels: tuple[int, ...]


def load_preview(config: DatasetConfig, folder_size: tuple[int, int] | None = None, *,
                 count: int = PREVIEW_COUNT, base_dir: Path | None = None,
                 cache_dir: Path | None = None) -> Preview:
    """Load ``config``'s dataset as training would and keep its first ``count`` training images.

    ``folder_size`` is the size to decode an image folder at: the network's, so that
    training later finds the decoded images in the cache. Raises what ``prepare`` raises.
    """
    plain = replace(config, normalize=False, augment=Augment(), grayscale_to_rgb=False)
    source = open_source(plain, base_dir, cache_dir)
    size = source.native_size or (folder_size if config.name == "folder" and folder_size else ANY_SIZE)
    data = prepare(plain, (source.channels, *size), "cpu", base_dir=base_dir, cache_dir=cache_dir)
    info = data.info
    facts = DatasetFacts(config.name, info.source_channels, (info.height, info.width),
                         source.native_size is None, info.classes, info.class_names,
                         info.train_count, info.val_count, info.notes, source.colour_note)
    first = data.train.images[:count]
    return Preview(facts, _as_pixels(first), tuple(int(v) for v in data.train.labels[:count]))


def _as_pixels(images: torch.Tensor) -> np.ndarray:
    """``[N, C, H, W]`` uint8 or float 0..1 as contiguous uint8 ``[N, H, W, C]``."""
    if images.dtype != torch.uint8:
        images = (images.float() * 255).round().clamp(0, 255).to(torch.uint8)
    return np.ascontiguousarray(images.permute(0, 2, 3, 1).cpu().numpy())
