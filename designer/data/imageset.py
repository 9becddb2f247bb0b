"""In-memory image sets, and the checks that turn loaded arrays into them.

A set is one tensor of images ``[N, C, H, W]`` (uint8 0..255 where the source is
uint8, float32 0..1 otherwise) and one int64 tensor of labels, so that batches
are cut by indexing, never sample by sample.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Generic

import numpy as np
import torch
from typing_extensions import TypeVar

from designer.data.errors import DataFileError
from designer.data.mapped import Images
from designer.data.shared import engine_errors
from designer.training import portable_data

# A loader that builds a set in memory has ImageSet (of a tensor); what a source loads may be mapped.
ImagesT = TypeVar("ImagesT", bound=Images, default=torch.Tensor, covariant=True)


@dataclass(frozen=True)
class ImageSet(Generic[ImagesT]):
    """Images ``[N, C, H, W]`` and their labels ``[N]``.

    The images are a tensor, or for a set too large for memory rows of a file
    (:class:`~designer.data.mapped.MappedImages`, in what a folder source loads).
    """

    images: ImagesT
    labels: torch.Tensor

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    @property
    def channels(self) -> int:
        return int(self.images.shape[1])

    @property
    def size(self) -> tuple[int, int]:
        return int(self.images.shape[2]), int(self.images.shape[3])


@dataclass(frozen=True)
class RawData:
    """What a source loads: the training set, its own test set if it has one, the class names.

    ``notes`` tells what the loader left out or changed (skipped files, say), so that
    nothing is dropped without the user being told.
    """

    train: ImageSet[Images]
    given_val: ImageSet[Images] | None
    class_names: tuple[str, ...]
    notes: tuple[str, ...] = ()


def images_from_array(array: np.ndarray, path: str | Path, key: str = "x") -> torch.Tensor:
    """``[N, H, W]``, ``[N, C, H, W]`` or ``[N, H, W, C]`` as a ``[N, C, H, W]`` tensor."""
    with engine_errors():
        return portable_data.images_from_array(array, path, key)


def labels_from_array(array: np.ndarray, count: int, classes: int | None,
                      path: str | Path, key: str = "y") -> torch.Tensor:
    """Integer labels, one per image, each in ``0 .. classes - 1``, as int64."""
    with engine_errors():
        return portable_data.labels_from_array(array, count, classes, path, key)


def check_given_classes(given: ImageSet, classes: int, path: str | Path) -> None:
    """The test set of a source uses the training set's classes."""
    if len(given) and int(given.labels.max()) >= classes:
        raise DataFileError(path, f"the test split has label {int(given.labels.max())}, "
                                  f"but the training split has only {classes} classes")
