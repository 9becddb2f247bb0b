"""``.npz`` files: ``x`` (images) and ``y`` (integer labels), read with pickling disabled.

Optional keys: ``x_val``/``y_val`` (or ``x_test``/``y_test``) for a given validation
set, and ``class_names`` (an array of strings).
"""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

import numpy as np

from designer.data.errors import DataFileError
from designer.data.imageset import ImageSet, RawData, images_from_array, labels_from_array

_VAL_KEYS = (("x_val", "y_val"), ("x_test", "y_test"))


def load_npz(path: Path) -> RawData:
    arrays = _read_arrays(path)
    for key in ("x", "y"):
        if key not in arrays:
            raise DataFileError(path, f"no '{key}' array in it (it has: {', '.join(sorted(arrays)) or 'none'})")
    names = _names(path, arrays)
    classes = len(names) if names else None
    train = _set(path, arrays, "x", "y", classes)
    given = None
    for x_key, y_key in _VAL_KEYS:
        if x_key in arrays and y_key in arrays:
            given = _set(path, arrays, x_key, y_key, classes)
            break
    if not names:
        top = max(int(train.labels.max()), int(given.labels.max()) if given is not None else -1)
        names = tuple(str(i) for i in range(top + 1))
    if given is not None and given.images.shape[1:] != train.images.shape[1:]:
        raise DataFileError(path, f"the validation images are {list(given.images.shape[1:])}, "
                                  f"the training images {list(train.images.shape[1:])}")
    return RawData(train, given, names)


def _read_arrays(path: Path) -> dict[str, np.ndarray]:
    if not path.is_file():
        raise DataFileError(path, "no such file")
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {key: archive[key] for key in archive.files}
    except ValueError as exc:
        # numpy says "Object arrays cannot be loaded when allow_pickle=False" for pickled arrays.
        raise DataFileError(path, f"cannot read it: {exc}") from exc
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise DataFileError(path, f"not a readable .npz file, it may be truncated ({exc})") from exc


def _set(path: Path, arrays: dict[str, np.ndarray], x_key: str, y_key: str, classes: int | None) -> ImageSet:
    images = images_from_array(arrays[x_key], path, x_key)
    labels = labels_from_array(arrays[y_key], len(images), classes, path, y_key)
    return ImageSet(images, labels)


def _names(path: Path, arrays: dict[str, np.ndarray]) -> tuple[str, ...]:
    if "class_names" not in arrays:
        return ()
    names = arrays["class_names"]
    if names.ndim != 1 or names.dtype.kind not in "US" or len(names) == 0:
        raise DataFileError(path, "class_names must be a non-empty 1-D array of strings")
    return tuple(n.decode() if isinstance(n, bytes) else str(n) for n in names.tolist())
