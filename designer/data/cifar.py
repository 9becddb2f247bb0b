"""CIFAR-10 and CIFAR-100, "python version": the ``.tar.gz`` as downloaded or its extracted folder.

Each batch is a pickled dict holding ``data`` (uint8 ``[N, 3072]``, the red, green
and blue planes of 32×32 images) and the labels; it is read with the restricted
unpickler, never ``pickle.load``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from designer.data.access import cannot_read, present, require_file, require_folder
from designer.data.errors import DataFileError
from designer.data.imageset import ImageSet, RawData
from designer.data.shared import engine_errors
from designer.training import portable_data


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
        with engine_errors():
            files = portable_data.cifar_archive(path, wanted)
    missing = [name for name in (*layout.train, *layout.test) if name not in files]
    if missing:
        raise DataFileError(path, portable_data.cifar_missing(missing, variant, layout.folder))
    notes: list[str] = []
    with engine_errors():
        names = _class_names(path, files.get(layout.meta), layout, notes)
        train = _join([_batch(path, name, files[name], layout) for name in layout.train])
        test = _join([_batch(path, name, files[name], layout) for name in layout.test])
    return RawData(train, test, names, tuple(notes))


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


def _batch(path: Path, name: str, data: bytes, layout: CifarLayout) -> ImageSet:
    return ImageSet(*portable_data.cifar_batch(path, name, data, layout.labels_key, layout.classes))


def _class_names(path: Path, meta: bytes | None, layout: CifarLayout, notes: list[str]) -> tuple[str, ...]:
    numbers = tuple(str(i) for i in range(layout.classes))
    if meta is None:
        notes.append(f"{path}: no {layout.meta}, so classes are named by number")
        return numbers
    names = portable_data.unpickle_dict(path, layout.meta, meta).get(layout.names_key)
    if not isinstance(names, list) or len(names) != layout.classes:
        raise DataFileError(path, f"{layout.meta}: '{layout.names_key}' must list {layout.classes} names")
    return tuple(n.decode("latin1") if isinstance(n, bytes) else str(n) for n in names)


def _join(sets: list[ImageSet]) -> ImageSet:
    return ImageSet(torch.cat([s.images for s in sets]), torch.cat([s.labels for s in sets]))
