"""Image sets that stay in their file: uint8 rows ``[N, C, H, W]`` read a batch at a time.

A decoded set larger than :data:`MAP_ABOVE` bytes is not loaded into memory.
:class:`MappedImages` stands where a tensor of images would, holding only the
file and the rows that belong to one split; a batch reads its rows into a fresh
array and nothing else stays resident, so memory does not grow with the set.

Rows are read with ``preadv`` in file order rather than through a memory map:
every page of a map that is touched counts in the process's resident memory
until it is unmapped (one epoch over a 1.2 GB map grows RSS by 1.2 GB, and
the kernel maps whole folios around each row touched), and a map cut short
under us kills the process with SIGBUS where a short read is an error we can
name. Rows close together in the file (consecutive, or a few small rows apart)
are read in one call, so small images cost few system calls.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from designer.data.access import cannot_read
from designer.data.errors import DataFileError

# A file this small is mapped whole and gathered from: its pages, at most this much, may stay resident.
_WHOLE_MAP_BYTES = 256 * 2**20
_GAP_BYTES = 32 * 2**10  # rows closer than this in the file are read in one call, the gap thrown away


def _default_map_above() -> int:
    """1 GiB, or a quarter of the machine's memory if that is less."""
    try:
        memory = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # Windows has no sysconf
        return 2**30
    return min(2**30, memory // 4)


MAP_ABOVE = _default_map_above()  # decoded sets larger than this (bytes) are read from their file

Index = torch.Tensor | np.ndarray | Sequence[int]


class RowFile:
    """An open raw file of ``shape[0]`` uint8 rows of ``shape[1:]``; reads any rows into a new array."""

    def __init__(self, path: Path, shape: tuple[int, int, int, int],
                 whole_map_bytes: int = _WHOLE_MAP_BYTES) -> None:
        self.path, self.shape = path, shape
        self.row_bytes = shape[1] * shape[2] * shape[3]
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        except OSError as exc:
            raise DataFileError(path, cannot_read(exc)) from None
        self._fd = fd
        weakref.finalize(self, os.close, fd)
        self._check_size()
        self._seek_lock = threading.Lock()  # only where there is no preadv (Windows)
        # Reading a small file's rows straight from a map skips copying the span around them each batch.
        size = shape[0] * self.row_bytes
        self._whole = np.memmap(path, np.uint8, "r", shape=shape) if 0 < size <= whole_map_bytes else None

    def read(self, rows: np.ndarray) -> np.ndarray:
        """Rows ``rows`` (file row numbers, any order) as a new ``[len(rows), C, H, W]`` array."""
        if not len(rows):
            return np.empty((0, *self.shape[1:]), np.uint8)
        if self._whole is not None:
            self._check_size()  # a map of a file cut short kills the process (SIGBUS) instead of raising
            return self._whole[rows]
        low, high = int(rows.min()), int(rows.max())
        if (high - low + 1) * self.row_bytes <= len(rows) * _GAP_BYTES:
            # Close together on the whole (a small set, or rows in order): one read, then a gather.
            span = np.empty((high - low + 1, *self.shape[1:]), np.uint8)
            self._read_into(span.reshape(len(span), -1), low * self.row_bytes)
            return span[rows - low]
        out = np.empty((len(rows), *self.shape[1:]), np.uint8)
        if not bool(np.all(rows[1:] > rows[:-1])):
            order = np.argsort(rows, kind="stable")  # read in file order, put back in the batch's
            out[order] = self.read(rows[order])
            return out
        flat = out.reshape(len(rows), -1)
        # One read per group of rows lying close together: a gap of a few small rows costs less to
        # read and skip than another system call.
        gap = max(1, _GAP_BYTES // self.row_bytes)
        breaks = np.flatnonzero(rows[1:] - rows[:-1] > gap) + 1
        starts, ends = np.concatenate(([0], breaks)), np.concatenate((breaks, [len(rows)]))
        for start, end in zip(starts.tolist(), ends.tolist()):
            first, last = int(rows[start]), int(rows[end - 1])
            if last - first == end - start - 1:  # consecutive rows: straight into place
                self._read_into(flat[start:end], first * self.row_bytes)
            else:
                span = np.empty((last - first + 1, self.row_bytes), np.uint8)
                self._read_into(span, first * self.row_bytes)
                flat[start:end] = span[rows[start:end] - first]
        return out

    def _read_into(self, buffer: np.ndarray, offset: int) -> None:
        view = buffer.data.cast("B")
        while view:
            try:
                got = self._read_at(view, offset)
            except OSError as exc:
                raise DataFileError(self.path, cannot_read(exc)) from None
            if got <= 0:
                self._check_size()
                raise DataFileError(self.path, "the image cache ended early")
            view, offset = view[got:], offset + got

    def _read_at(self, view: memoryview, offset: int) -> int:
        if hasattr(os, "preadv"):
            return os.preadv(self._fd, [view], offset)
        with self._seek_lock:
            os.lseek(self._fd, offset, os.SEEK_SET)
            return os.readv(self._fd, [view])

    def _check_size(self) -> None:
        size, expected = os.fstat(self._fd).st_size, self.shape[0] * self.row_bytes
        if size != expected:
            raise DataFileError(self.path, f"the image cache holds {size:,} bytes where {expected:,} were "
                                           "written: it was cut short or changed by another program; "
                                           "delete it and run again to decode the images anew")


class MappedImages:
    """uint8 images ``[N, C, H, W]`` that stay in a :class:`RowFile`: row ``i`` is file row ``index[i]``.

    It answers what the dataset layer asks of an image tensor (``shape``,
    ``dtype``, ``device``, ``nbytes``, slicing and ``index_select`` along the
    first axis, which return tensors), and splits into subsets without reading
    anything. ``rgb`` repeats a single channel three times as rows are read.
    """

    dtype = torch.uint8
    device = torch.device("cpu")

    def __init__(self, file: RowFile, index: np.ndarray | None = None, rgb: bool = False) -> None:
        self.file = file
        self.index = np.arange(file.shape[0], dtype=np.int64) if index is None else index
        self.rgb = rgb and file.shape[1] == 1

    def __len__(self) -> int:
        return len(self.index)

    def __repr__(self) -> str:
        return f"MappedImages({self.file.path}, {list(self.shape)})"

    @property
    def shape(self) -> torch.Size:
        _, c, h, w = self.file.shape
        return torch.Size((len(self.index), 3 if self.rgb else c, h, w))

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape))

    def take(self, positions: Index) -> torch.Tensor:
        """The images at ``positions`` of this set, in that order, as a new uint8 tensor."""
        rows = self.index[_positions(positions)]
        images = torch.from_numpy(self.file.read(rows))
        return images.expand(-1, 3, -1, -1).contiguous() if self.rgb else images

    def index_select(self, dim: int, index: torch.Tensor) -> torch.Tensor:
        if dim != 0:
            raise ValueError("mapped images are selected along the first axis only")
        return self.take(index)

    def __getitem__(self, key: slice | Index) -> torch.Tensor:
        if isinstance(key, slice):
            return self.take(np.arange(len(self))[key])
        return self.take(key)

    def subset(self, positions: Index) -> MappedImages:
        """The images at ``positions``, still in the file: nothing is read."""
        return MappedImages(self.file, self.index[_positions(positions)], self.rgb)

    def as_rgb(self) -> MappedImages:
        return MappedImages(self.file, self.index, rgb=True)

    def cpu(self) -> torch.Tensor:
        """Every image read into memory, as ``Tensor.cpu`` brings a set from the GPU: mind the size."""
        return self.take(np.arange(len(self)))


Images = torch.Tensor | MappedImages  # what a split holds: a tensor in memory, or rows in a file


def _positions(positions: Index) -> np.ndarray:
    if isinstance(positions, torch.Tensor):
        return positions.cpu().numpy().astype(np.int64, copy=False)
    return np.asarray(positions, dtype=np.int64)
