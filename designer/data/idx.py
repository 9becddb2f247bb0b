"""MNIST and Fashion-MNIST: the four IDX files, gzipped (as downloaded) or raw, in one folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from designer.data.access import present, require_file, require_folder
from designer.data.errors import DataFileError
from designer.data.imageset import ImageSet, RawData, labels_from_array
from designer.data.shared import engine_errors
from designer.training import portable_data

SPLITS = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
CLASS_NAMES = {
    "mnist": tuple(str(i) for i in range(10)),
    "fashion_mnist": ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                      "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
}


def load_idx_folder(folder: Path, variant: str) -> RawData:
    """The training pair is required; the t10k pair, when present, is the given validation set."""
    require_folder(folder, "no such folder: give the folder that holds the four IDX files")
    names = CLASS_NAMES[variant]
    train = _pair(folder, *SPLITS["train"], len(names))
    if train is None:
        raise DataFileError(folder, f"no {SPLITS['train'][0]}(.gz) and {SPLITS['train'][1]}(.gz) in it")
    test = _pair(folder, *SPLITS["test"], len(names))
    notes = () if test is not None else (f"{folder}: no t10k files, so there is no given test split",)
    return RawData(train, test, names, notes)


def _pair(folder: Path, images_stem: str, labels_stem: str, classes: int) -> ImageSet | None:
    images_path, labels_path = _find(folder, images_stem), _find(folder, labels_stem)
    if images_path is None and labels_path is None:
        return None
    if images_path is None:
        raise DataFileError(folder, f"{images_stem}(.gz) is missing beside {labels_path}")
    if labels_path is None:
        raise DataFileError(folder, f"{labels_stem}(.gz) is missing beside {images_path}")
    pixels = read_idx(images_path)
    if pixels.ndim != 3 or pixels.dtype != np.uint8:
        raise DataFileError(images_path, f"expected uint8 images [N, H, W], got {pixels.dtype} "
                                         f"{list(pixels.shape)}")
    labels = labels_from_array(read_idx(labels_path), len(pixels), classes, labels_path, "labels")
    return ImageSet(torch.from_numpy(pixels[:, None]), labels)


def _find(folder: Path, stem: str) -> Path | None:
    """``stem``, ``stem.gz`` or the ``train-images.idx3-ubyte`` spelling, in the folder or its raw/."""
    dotted = stem.replace("-idx", ".idx")
    for where in (folder, folder / "raw"):
        for name in (stem, f"{stem}.gz", dotted, f"{dotted}.gz"):
            if present(where / name):  # whatever it is: reading it says if it is not a file
                return where / name
    return None


def read_idx(path: Path) -> np.ndarray:
    """One IDX file as a numpy array; truncated or malformed files raise naming the file."""
    require_file(path)  # a pipe or a device is named before anything opens it
    with engine_errors():
        return portable_data.read_idx(path)
