"""CIFAR-10 and CIFAR-100, "python version": the ``.tar.gz`` as downloaded or its extracted folder.

Each batch is a pickled dict holding ``data`` (uint8 ``[N, 3072]``, the red, green
and blue planes of 32×32 images) and the labels; it is read with the restricted
unpickler, never ``pickle.load``.
"""

from __future__ import annotations

import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from designer.data.access import cannot_read, present, require_file, require_folder
from designer.data.errors import DataFileError
from designer.data.imageset import ImageSet, RawData, labels_from_array
from designer.data.safe_pickle import safe_loads


@dataclass(frozen=True)
class CifarLayout:
    """Where one CIFAR variant keeps its batches and which keys hold labels and names."""

    folder: str
    train: tuple[str, ...]
    test: tuple[str, ...]
    meta: str
    labels_key: str
    names_key: str
    classes: int


LAYOUTS = {
    "cifar10": CifarLayout("cifar-10-batches-py", tuple(f"data_batch_{i}" for i in range(1, 6)),
                           ("test_batch",), "batches.meta", "labels", "label_names", 10),
    "cifar100": CifarLayout("cifar-100-python", ("train",), ("test",), "meta",
                            "fine_labels", "fine_label_names", 100),
}


def load_cifar(path: Path, variant: str) -> RawData:
    """Read a CIFAR archive or folder; its test batch becomes the given validation set."""
    layout = LAYOUTS[variant]
    wanted = (*layout.train, *layout.test, layout.meta)
    if path.is_dir():
        files = _read_folder(path, layout)
    else:
        require_file(path, "no such file or folder")
        files = _read_archive(path, wanted)
    missing = [name for name in (*layout.train, *layout.test) if name not in files]
    if missing:
        raise DataFileError(path, f"no {', '.join(missing)} in it: is this the {variant} python version "
                                  f"(the folder {layout.folder} or the .tar.gz holding it)?")
    notes: list[str] = []
    names = _class_names(path, files.get(layout.meta), layout, notes)
    train = _join([_batch(path, name, files[name], layout) for name in layout.train])
    test = _join([_batch(path, name, files[name], layout) for name in layout.test])
    return RawData(train, test, names, tuple(notes))


def _read_archive(path: Path, wanted: tuple[str, ...]) -> dict[str, bytes]:
    """The wanted members of a tar (gzip or not), by base name, read in one pass."""
    found: dict[str, bytes] = {}
    try:
        with tarfile.open(path, "r:*") as archive:
            for member in archive:
                base = member.name.rsplit("/", 1)[-1]
                if member.isfile() and base in wanted and base not in found:
                    stream = archive.extractfile(member)
                    if stream is not None:
                        found[base] = stream.read()
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise DataFileError(path, f"cannot read the archive, it is truncated or corrupt ({exc})") from exc
    return found


def _read_folder(path: Path, layout: CifarLayout) -> dict[str, bytes]:
    """Batches in ``path`` itself or in its ``cifar-10-batches-py`` (or -100-) sub-folder."""
    folder = path / layout.folder if (path / layout.folder).is_dir() else path
    require_folder(folder)
    found: dict[str, bytes] = {}
    for name in (*layout.train, *layout.test, layout.meta):
        file = folder / name
        if present(file):
            require_file(file)
            try:
                found[name] = file.read_bytes()
            except OSError as exc:
                raise DataFileError(file, cannot_read(exc)) from exc
    return found


def _unpickle(path: Path, name: str, data: bytes) -> dict[str, Any]:
    try:
        value = safe_loads(data)
    except Exception as exc:  # any failure of a hostile or truncated pickle is "unreadable"
        raise DataFileError(path, f"{name} is not a readable CIFAR pickle ({exc})") from exc
    if not isinstance(value, dict):
        raise DataFileError(path, f"{name} holds a {type(value).__name__}, not a CIFAR batch dict")
    # Python 2 pickles read with encoding="bytes" elsewhere may have bytes keys.
    return {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in value.items()}


def _batch(path: Path, name: str, data: bytes, layout: CifarLayout) -> ImageSet:
    batch = _unpickle(path, name, data)
    pixels = batch.get("data")
    if not isinstance(pixels, np.ndarray) or pixels.dtype != np.uint8 or pixels.ndim != 2 \
            or pixels.shape[1] != 3 * 32 * 32:
        got = f"{pixels.dtype} {list(pixels.shape)}" if isinstance(pixels, np.ndarray) \
            else type(pixels).__name__
        raise DataFileError(path, f"{name}: 'data' must be uint8 [N, 3072], got {got}")
    if layout.labels_key not in batch:
        raise DataFileError(path, f"{name}: no '{layout.labels_key}' key")
    labels = labels_from_array(np.asarray(batch[layout.labels_key]), len(pixels), layout.classes,
                               path, f"{name}: {layout.labels_key}")
    images = torch.from_numpy(np.ascontiguousarray(pixels.reshape(-1, 3, 32, 32)))
    return ImageSet(images, labels)


def _class_names(path: Path, meta: bytes | None, layout: CifarLayout, notes: list[str]) -> tuple[str, ...]:
    numbers = tuple(str(i) for i in range(layout.classes))
    if meta is None:
        notes.append(f"{path}: no {layout.meta}, so classes are named by number")
        return numbers
    names = _unpickle(path, layout.meta, meta).get(layout.names_key)
    if not isinstance(names, list) or len(names) != layout.classes:
        raise DataFileError(path, f"{layout.meta}: '{layout.names_key}' must list {layout.classes} names")
    return tuple(n.decode("latin1") if isinstance(n, bytes) else str(n) for n in names)


def _join(sets: list[ImageSet]) -> ImageSet:
    return ImageSet(torch.cat([s.images for s in sets]), torch.cat([s.labels for s in sets]))
