"""Decoding image files into rows of a raw uint8 file ``[N, C, H, W]``, in worker processes.

Torch-free on purpose: each worker process imports this module (numpy and
Pillow only), so it starts in a fraction of a second where importing torch
would take seconds. A worker decodes a chunk of files and writes each row
straight into the file with ``pwrite``, so nothing passes through the parent
but the count of rows done, and a full disk is an ``OSError`` rather than the
SIGBUS that writing through a memory map would raise.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

import numpy as np
from PIL import Image

# What Pillow raises for a file that is not an image it can read, or is cut short.
BAD_IMAGE = (OSError, ValueError, SyntaxError, Image.DecompressionBombError)

Failure = tuple[str, str]  # (the file, why it could not be decoded)


class BadImage(Exception):
    """An image that cannot be decoded: ``path`` and ``reason`` as the message should say them."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(path, reason)
        self.path, self.reason = path, reason


def decode_image(path: str | os.PathLike[str], channels: int, size: tuple[int, int]) -> np.ndarray:
    """One image as uint8 ``[channels, height, width]`` at ``size``, or BadImage."""
    try:
        with Image.open(path) as opened:
            image = opened.convert("L" if channels == 1 else "RGB")
        if image.size != (size[1], size[0]):
            image = image.resize((size[1], size[0]), Image.Resampling.BILINEAR)
        pixels = np.asarray(image, dtype=np.uint8)
    except BAD_IMAGE as exc:
        raise BadImage(str(path), f"not a readable image ({exc})") from exc
    return pixels[None] if channels == 1 else pixels.transpose(2, 0, 1)


def decode_rows(paths: Sequence[str], channels: int, size: tuple[int, int],
                put: Callable[[int, np.ndarray], None]) -> Failure | None:
    """Decode ``paths`` in order, handing row ``i`` to ``put(i, pixels)``; the first failure, or None."""
    for i, path in enumerate(paths):
        try:
            put(i, decode_image(path, channels, size))
        except BadImage as bad:
            return bad.path, bad.reason
    return None


def decode_chunk_to_file(target: str, first_row: int, paths: Sequence[str], channels: int,
                         size: tuple[int, int]) -> Failure | None:
    """A worker's task: rows ``first_row …`` of the raw file ``target`` from ``paths``.

    Returns the first image that cannot be decoded (the parent names it); an
    ``OSError`` from writing (a full disk) travels back to the parent as raised.
    """
    row_bytes = channels * size[0] * size[1]
    fd = os.open(target, os.O_WRONLY | getattr(os, "O_BINARY", 0))
    try:
        def put(i: int, pixels: np.ndarray) -> None:
            write_at(fd, pixels.tobytes(), (first_row + i) * row_bytes)

        return decode_rows(paths, channels, size, put)
    finally:
        os.close(fd)


def write_at(fd: int, data: bytes, offset: int) -> None:
    """All of ``data`` at ``offset``; a write that stops short without an error is a full disk."""
    view = memoryview(data)
    while view:
        if hasattr(os, "pwrite"):
            written = os.pwrite(fd, view, offset)
        else:  # Windows: each worker has its own descriptor, so seeking is safe
            os.lseek(fd, offset, os.SEEK_SET)
            written = os.write(fd, view)
        if written <= 0:
            raise OSError(28, "No space left on device")  # ENOSPC, the only cause of a zero-byte write here
        view, offset = view[written:], offset + written
