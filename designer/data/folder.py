"""Image folders: one sub-folder per class, PNG/JPEG/BMP decoded once with Pillow, then cached.

``root/<class>/*.png`` is a training set; ``root/train/<class>/…`` beside
``root/val/<class>/…`` (or ``test``) also gives a validation set. Images are decoded
at the size the Input asks for, in worker processes, into a raw file keyed by the
folder, its file list with sizes and modification times, and that size
(:mod:`designer.data.image_cache`), so a second run reads one file instead of
decoding thousands. A set too large for memory is read from that file a batch at
a time (:mod:`designer.data.mapped`).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from designer.data import mapped as mapped_module
from designer.data.access import cannot_read, require_folder
from designer.data.decode import BAD_IMAGE
from designer.data.errors import DataFileError
from designer.data.image_cache import (
    CacheWriteError,
    Progress,
    build_cache,
    building,
    decode_in_memory,
    open_cache,
)
from designer.data.imageset import ImageSet, RawData
from designer.data.mapped import MappedImages
from designer.graph.files import file_problem, write_atomic

EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp")
_VAL_FOLDERS = ("val", "valid", "validation", "test")
_CACHE_VERSION = 1
_NAMED = 3  # colour images named in a message; the rest are counted
Labelled = tuple[tuple[Path, int], ...]


@dataclass(frozen=True)
class FolderScan:
    """The folder's classes and image files, listed without decoding anything."""

    root: Path
    class_names: tuple[str, ...]
    train: Labelled
    given: Labelled | None
    notes: tuple[str, ...]
    cache_dir: Path

    @cached_property
    def key(self) -> str:
        """Changes whenever a file is added, removed, renamed or rewritten."""
        listing = [(str(p.relative_to(self.root)), label, p.stat().st_size, p.stat().st_mtime_ns)
                   for p, label in (*self.train, *(self.given or ()))]
        text = json.dumps([_CACHE_VERSION, str(self.root.resolve()), self.class_names, listing])
        return hashlib.sha256(text.encode()).hexdigest()[:24]

    @property
    def channels(self) -> int:
        """1 if every image is grayscale, else 3."""
        return 3 if self._colour[0] else 1

    @property
    def colour_note(self) -> str:
        """Which images make a mostly grayscale folder RGB, for the fit message ('' if none or most do)."""
        count, first = self._colour
        total = len(self.train) + len(self.given or ())
        if not count or 2 * count >= total:
            return ""
        more = f" and {count - len(first)} more" if count > len(first) else ""
        return (f"the {count} colour image{'' if count == 1 else 's'} among the {total} in {self.root}: "
                f"{', '.join(first)}{more}")

    @cached_property
    def _colour(self) -> tuple[int, tuple[str, ...]]:
        """How many images are not grayscale, and the first few (from the root); read from headers once."""
        meta = self.cache_dir / f"folder-{self.key}.json"
        try:
            saved = json.loads(_read_ours(meta) or b"")
            return int(saved["colour_count"]), tuple(str(name) for name in saved["colour_first"])
        except (ValueError, KeyError, TypeError):
            pass
        colour = [p for p, _ in (*self.train, *(self.given or ()))
                  if Image.getmodebase(_header_mode(p)) != "L"]
        first = tuple(str(p.relative_to(self.root)) for p in colour[:_NAMED])
        _write_quietly(meta, json.dumps({"colour_count": len(colour), "colour_first": first}).encode())
        return len(colour), first


def scan_folder(root: Path, cache_dir: Path) -> FolderScan:
    notes: list[str] = []
    subdirs = _subdirs(root)
    val_name = next((n for n in _VAL_FOLDERS if n in subdirs), None)
    if "train" in subdirs and val_name and set(subdirs) == {"train", val_name}:
        names, train = _classes(root / "train", notes, None)
        _, given = _classes(root / val_name, notes, names)
        return FolderScan(root, names, train, given, tuple(notes), cache_dir)
    names, train = _classes(root, notes, None)
    return FolderScan(root, names, train, None, tuple(notes), cache_dir)


def _subdirs(folder: Path) -> list[str]:
    require_folder(folder)
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def _classes(folder: Path, notes: list[str], known: tuple[str, ...] | None) -> tuple[tuple[str, ...], Labelled]:
    """Class names (sorted sub-folder names) and every image with its label."""
    names = tuple(_subdirs(folder))
    if not names:
        raise DataFileError(folder, "no class sub-folders in it: put each class's images in a folder of "
                                    "its own")
    strays = [p.name for p in folder.iterdir() if p.is_file()]
    if strays:
        notes.append(f"{folder}: ignored {len(strays)} file(s) outside the class folders: {_some(strays)}")
    if known is not None and not set(names) <= set(known):
        extra = sorted(set(names) - set(known))
        raise DataFileError(folder, f"class folder(s) {', '.join(extra)} are not among the training classes")
    labels = {name: i for i, name in enumerate(known or names)}
    found: list[tuple[Path, int]] = []
    for name in names:
        images = _class_images(folder / name, notes)
        found += [(p, labels[name]) for p in images]
    return names if known is None else known, tuple(found)


def _class_images(folder: Path, notes: list[str]) -> list[Path]:
    files = _files_under(folder)
    images = [p for p in files if p.suffix.lower() in EXTENSIONS]
    for image in images:  # a named pipe would block the decoder; say so before decoding anything
        problem = file_problem(image)
        if problem is not None:
            raise DataFileError(image, problem)
    others = [str(p.relative_to(folder)) for p in files if p.suffix.lower() not in EXTENSIONS]
    if not images:
        has = f" (it has only: {_some(others)})" if others else ""
        raise DataFileError(folder, f"this class folder holds no PNG, JPEG or BMP images{has}")
    if others:
        notes.append(f"{folder}: ignored {len(others)} file(s) that are not PNG/JPEG/BMP: {_some(others)}")
    return images


def _files_under(folder: Path) -> list[Path]:
    """Every file below ``folder``, sorted; a folder that cannot be listed is an error, not an empty one."""
    require_folder(folder)

    def refuse(exc: OSError) -> None:
        raise DataFileError(exc.filename or folder, cannot_read(exc))

    found: list[Path] = []
    for top, _, names in os.walk(folder, onerror=refuse):
        found += [Path(top, name) for name in names]
    return sorted(found)


def _some(names: Sequence[str], shown: int = 3) -> str:
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def _header_mode(path: Path) -> str:
    try:
        with Image.open(path) as image:
            return str(image.mode)
    except BAD_IMAGE as exc:
        raise DataFileError(path, f"not a readable image ({exc})") from exc


def load_folder(scan: FolderScan, size: tuple[int, int], *, progress: Progress | None = None,
                map_above: int | None = None, workers: int | None = None) -> RawData:
    """Every image decoded at ``size`` (height, width), from the cache when it is current.

    A decoded set larger than ``map_above`` bytes (default: :data:`~designer.data.mapped.MAP_ABOVE`)
    stays in the cache file (:class:`MappedImages`); a smaller one is read into memory. ``progress(done,
    total)`` hears of the decoding, which runs in ``workers`` processes (None:
    as many as there are cores, for a large folder; 0: threads of this process).
    """
    files = (*scan.train, *(scan.given or ()))
    shape = (len(files), scan.channels, *size)
    labels = [label for _, label in files]
    stem = scan.cache_dir / f"folder-{scan.key}-{scan.channels}x{size[0]}x{size[1]}"
    names = [str(path) for path, _ in files]
    mapped = int(np.prod(shape)) > (mapped_module.MAP_ABOVE if map_above is None else map_above)
    try:
        rows = open_cache(stem, shape, labels, scan.class_names)
        if rows is None:
            with building(stem):  # a second process (a rank of the same job) waits, then finds it built
                rows = open_cache(stem, shape, labels, scan.class_names) or build_cache(
                    stem, names, labels, scan.class_names, shape, progress=progress, workers=workers)
    except CacheWriteError:
        if mapped:
            raise
        # A small set needs no cache: decode it into memory, as the next run will again.
        images: torch.Tensor | MappedImages = torch.from_numpy(decode_in_memory(names, shape, progress))
    else:
        images = MappedImages(rows) if mapped else MappedImages(rows)[:]
    count = len(scan.train)
    every = torch.tensor(labels, dtype=torch.int64)
    train = ImageSet(_rows(images, 0, count), every[:count])
    given = None if scan.given is None else ImageSet(_rows(images, count, len(files)), every[count:])
    return RawData(train, given, scan.class_names, scan.notes)


def _rows(images: torch.Tensor | MappedImages, start: int, stop: int) -> torch.Tensor | MappedImages:
    """Rows ``start:stop`` without copying them."""
    if isinstance(images, MappedImages):
        return images.subset(np.arange(start, stop))
    return images[start:stop]


def _read_ours(path: Path) -> bytes | None:
    """A file of our cache, or None when it is missing, unreadable or not a regular file."""
    if file_problem(path) is not None:
        return None
    try:
        return path.read_bytes()
    except OSError:
        return None


def _write_quietly(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, data)
    except OSError:
        pass  # an unwritable cache only costs decoding (or reading the headers) again next time
