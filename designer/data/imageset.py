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
    stored = "×".join(str(d) for d in array.shape)
    if array.ndim == 3:
        array = array[:, None]
    elif array.ndim == 4:
        # Channels first unless only the last axis looks like channels: [N, 32, 32, 3].
        if array.shape[1] not in (1, 3) and array.shape[3] in (1, 3):
            array = array.transpose(0, 3, 1, 2)
    else:
        raise DataFileError(path, f"{key} must be images [N, H, W], [N, C, H, W] or [N, H, W, C], "
                                  f"not an array of shape {stored}")
    if array.shape[0] == 0:
        raise DataFileError(path, f"{key} has shape {stored}: it holds no images")
    if 0 in array.shape:
        raise DataFileError(path, f"{key} has shape {stored}: an image needs at least one row, one column "
                                  "and one channel")
    return torch.from_numpy(np.ascontiguousarray(_pixels(array, path, key)))


def _pixels(array: np.ndarray, path: str | Path, key: str) -> np.ndarray:
    """uint8 as it is, floats as float32 (taken to be 0..1), other integers if they fit 0..255."""
    if array.dtype == np.uint8:
        return array
    if np.issubdtype(array.dtype, np.floating):
        if not np.isfinite(array).all():
            raise DataFileError(path, f"{key} holds NaN or infinite pixel values")
        return array.astype(np.float32)
    if np.issubdtype(array.dtype, np.integer):
        low, high = int(array.min()), int(array.max())
        if low < 0 or high > 255:
            raise DataFileError(path, f"{key} holds integer pixels from {low} to {high}; "
                                      "expected 0..255 (uint8) or floats 0..1")
        return array.astype(np.uint8)
    raise DataFileError(path, f"{key} has pixels of type {array.dtype}; expected uint8 or float")


def labels_from_array(array: np.ndarray, count: int, classes: int | None,
                      path: str | Path, key: str = "y") -> torch.Tensor:
    """Integer labels, one per image, each in ``0 .. classes - 1``, as int64."""
    array = np.asarray(array)
    if array.ndim != 1 or not np.issubdtype(array.dtype, np.integer):
        raise DataFileError(path, f"{key} must be a 1-D array of integer class labels, "
                                  f"got {array.dtype} of shape {list(array.shape)}")
    if len(array) != count:
        raise DataFileError(path, f"{key} has {len(array)} labels for {count} images")
    labels = array.astype(np.int64)
    bad = (labels < 0) if classes is None else ((labels < 0) | (labels >= classes))
    if bad.any():
        at = int(np.flatnonzero(bad)[0])
        allowed = "be 0 or more" if classes is None else f"be in 0..{classes - 1}"
        raise DataFileError(path, f"{key}[{at}] = {labels[at]} is out of range: labels must {allowed}")
    return torch.from_numpy(labels)


def check_given_classes(given: ImageSet, classes: int, path: str | Path) -> None:
    """The test set of a source uses the training set's classes."""
    if len(given) and int(given.labels.max()) >= classes:
        raise DataFileError(path, f"the test split has label {int(given.labels.max())}, "
                                  f"but the training split has only {classes} classes")
