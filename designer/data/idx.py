"""MNIST and Fashion-MNIST: the four IDX files, gzipped (as downloaded) or raw, in one folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from designer.data.access import require_file, require_folder
from designer.data.imageset import ImageSet, RawData
from designer.data.shared import engine_errors
from designer.training import portable_data

CLASS_NAMES = {
    "mnist": tuple(str(i) for i in range(10)),
    "fashion_mnist": ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                      "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
}


def load_idx_folder(folder: Path, variant: str) -> RawData:
    """The training pair is required; the t10k pair, when present, is the given validation set."""
    require_folder(folder, "no such folder: give the folder that holds the four IDX files")
    with engine_errors():
        train, test, _ = portable_data.read_idx_folder(folder, read_idx)
    notes = () if test is not None else (f"{folder}: no t10k files, so there is no given test split",)
    return RawData(ImageSet(*train), ImageSet(*test) if test is not None else None, CLASS_NAMES[variant], notes)


def read_idx(path: Path) -> np.ndarray:
    """One IDX file as a numpy array; truncated or malformed files raise naming the file."""
    require_file(path)  # a pipe or a device is named before anything opens it
    with engine_errors():
        return portable_data.read_idx(path)
