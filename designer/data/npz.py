"""``.npz`` files: ``x`` (images) and ``y`` (integer labels), read with pickling disabled.

Optional keys: ``x_val``/``y_val`` (or ``x_test``/``y_test``) for a given validation
set, and ``class_names`` (an array of strings). Without class names the classes
are numbered 0 to the largest label.
"""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

import numpy as np
import torch

from designer.data.access import require_file
from designer.data.errors import DataFileError
from designer.data.imageset import ImageSet, RawData, images_from_array, labels_from_array

_VAL_KEYS = (("x_val", "y_val"), ("x_test", "y_test"))
_KEYS = ("x", "y", *(key for pair in _VAL_KEYS for key in pair), "class_names")
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a zip with members, an empty zip
_NPY_MAGIC = b"\x93NUMPY"
# Numbered classes up to this many are made however sparse the labels; beyond it a label must not
# stand far above the others, or one stray value (2·10⁹) would make a class, and a name, for every number.
_ANY_SPREAD = 100_000
_MAX_SPREAD = 10  # classes per distinct label, beyond _ANY_SPREAD


def load_npz(path: Path) -> RawData:
    arrays, listed = _read_arrays(path)
    for key in ("x", "y"):
        if key not in arrays:
            raise DataFileError(path, f"no '{key}' array in it (it has: {', '.join(sorted(listed)) or 'none'})")
    names = _names(path, arrays)
    classes = len(names) if names else None
    pair = next(((x, y) for x, y in _VAL_KEYS if x in arrays and y in arrays), None)
    sets = {"y": _set(path, arrays, "x", "y", classes)}  # keyed by the labels' key, for messages
    if pair is not None:
        sets[pair[1]] = _set(path, arrays, *pair, classes)
    names = names or _numbered(path, sets)
    train, given = sets["y"], sets[pair[1]] if pair is not None else None
    if given is not None and given.images.shape[1:] != train.images.shape[1:]:
        raise DataFileError(path, f"the validation images are {list(given.images.shape[1:])}, "
                                  f"the training images {list(train.images.shape[1:])}")
    return RawData(train, given, names)


def _read_arrays(path: Path) -> tuple[dict[str, np.ndarray], list[str]]:
    """The arrays this loader uses, and the names of all; the file's other members are left unread."""
    require_file(path)
    _check_magic(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            listed = list(archive.files)
            return {key: _member(path, archive, key) for key in _KEYS if key in listed}, listed
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise DataFileError(path, f"not a readable .npz file, it may be truncated ({exc})") from exc


def _check_magic(path: Path) -> None:
    """An .npz is a zip archive; say what else it is in our words, before numpy tries to unpickle it."""
    try:
        with path.open("rb") as file:
            start = file.read(len(_NPY_MAGIC))
    except OSError as exc:
        raise DataFileError(path, f"cannot be read ({exc.strerror or exc})") from exc
    if start.startswith(_ZIP_MAGIC):
        return
    if not start:
        raise DataFileError(path, "the file is empty")
    if start == _NPY_MAGIC:
        raise DataFileError(path, "a single NumPy array (.npy), not an .npz archive: save the images and "
                                  "labels together with np.savez(path, x=images, y=labels)")
    raise DataFileError(path, "not an .npz file: np.savez writes a zip archive of arrays, and this is not one")


def _member(path: Path, archive: np.lib.npyio.NpzFile, key: str) -> np.ndarray:
    try:
        value = archive[key]
    except ValueError as exc:
        if "allow_pickle" in str(exc):  # numpy's words for an array of Python objects
            raise DataFileError(path, f"{key} holds Python objects, which are not loaded: save it as an "
                                      "array of numbers (or of strings, for class_names)") from exc
        raise DataFileError(path, f"{key} is damaged ({exc})") from exc
    except MemoryError as exc:
        raise DataFileError(path, f"{key} is too large to load into memory") from exc
    if not isinstance(value, np.ndarray):  # numpy hands back the raw bytes of a member that is not .npy
        raise DataFileError(path, f"{key} is not a NumPy array: an .npz holds arrays saved with np.savez")
    return value


def _set(path: Path, arrays: dict[str, np.ndarray], x_key: str, y_key: str, classes: int | None) -> ImageSet:
    images = images_from_array(arrays[x_key], path, x_key)
    labels = labels_from_array(arrays[y_key], len(images), classes, path, y_key)
    return ImageSet(images, labels)


def _numbered(path: Path, sets: dict[str, ImageSet]) -> tuple[str, ...]:
    """Classes named 0 to the largest label, or a DataFileError when that label stands far above the rest."""
    tops = {key: int(s.labels.max()) for key, s in sets.items()}
    key = max(tops, key=lambda k: tops[k])
    top = tops[key]
    if top >= _ANY_SPREAD:
        distinct = len(torch.unique(torch.cat([s.labels for s in sets.values()])))
        if top + 1 > _MAX_SPREAD * distinct:
            raise DataFileError(path, f"{key} holds the label {top} but there are only {distinct} different "
                                      f"labels, which would make {top + 1:,} classes: number the classes "
                                      f"0 to {distinct - 1} (a class_names array can keep their names)")
    return tuple(str(i) for i in range(top + 1))


def _names(path: Path, arrays: dict[str, np.ndarray]) -> tuple[str, ...]:
    if "class_names" not in arrays:
        return ()
    names = arrays["class_names"]
    if names.ndim != 1 or names.dtype.kind not in "US" or len(names) == 0:
        raise DataFileError(path, "class_names must be a non-empty 1-D array of strings")
    return tuple(n.decode() if isinstance(n, bytes) else str(n) for n in names.tolist())
