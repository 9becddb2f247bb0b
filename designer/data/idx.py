"""MNIST and Fashion-MNIST: the four IDX files, gzipped (as downloaded) or raw, in one folder."""

from __future__ import annotations

import gzip
import math
import struct
import zlib
from pathlib import Path

import numpy as np
import torch

from designer.data.access import cannot_read, present, require_file, require_folder
from designer.data.errors import DataFileError
from designer.data.imageset import ImageSet, RawData, labels_from_array

SPLITS = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
CLASS_NAMES = {
    "mnist": tuple(str(i) for i in range(10)),
    "fashion_mnist": ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                      "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
}
# The IDX type byte: unsigned byte, signed byte, short, int, float, double; all big-endian.
_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


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
    data = _read_bytes(path)
    if len(data) < 4 or data[:2] != b"\0\0" or data[2] not in _TYPES:
        raise DataFileError(path, "not an IDX file (bad magic number)")
    dtype, ndim = np.dtype(_TYPES[data[2]]), data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataFileError(path, "truncated: the header ends early")
    dims = struct.unpack(f">{ndim}I", data[4:header])
    expected = math.prod(dims) * dtype.itemsize
    if len(data) - header != expected:
        state = "truncated" if len(data) - header < expected else "longer than its header says"
        raise DataFileError(path, f"{state}: the header promises {expected:,} bytes of data "
                                  f"({'×'.join(map(str, dims))}), the file has {len(data) - header:,}")
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(dims).astype(dtype.newbyteorder("="))


def _read_bytes(path: Path) -> bytes:
    require_file(path)
    try:
        with path.open("rb") as file:
            data = file.read()
        # Decide by content, not by name: some mirrors serve gunzipped files under .gz names.
        return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise DataFileError(path, f"the gzip stream is truncated or corrupt ({exc})") from exc
    except OSError as exc:
        raise DataFileError(path, cannot_read(exc)) from exc
