"""The decoded-image cache of an image folder: one raw uint8 file of rows and a JSON that vouches for it.

``folder-KEY-CxHxW.u8`` holds the images ``[N, C, H, W]`` (training files, then
the folder's own validation files); ``folder-KEY-CxHxW.json`` beside it gives the
shape, labels and class names. The rows are decoded by worker processes into a
temporary file, which is flushed to disk and renamed into place before the JSON
is written (atomically, last): a run killed half-way leaves no JSON, or the
previous one for a file of the same content, so a half-written cache is never used.
"""

from __future__ import annotations

import contextlib
import errno
import json
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import (
    BrokenExecutor,
    Executor,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    as_completed,
)
from pathlib import Path

import numpy as np

from designer.data.decode import Failure, decode_chunk_to_file, decode_rows
from designer.data.errors import DataFileError
from designer.data.mapped import RowFile
from designer.graph.files import WriteError, create_temp, file_problem, hold_temp, write_atomic

Progress = Callable[[int, int], None]  # (images decoded so far, images in all)
_VERSION = 1


class CacheWriteError(DataFileError):
    """The cache file cannot be written (no room, no permission): a small set can do without it."""

_PROCESSES_FROM = 2000  # files; fewer decode faster on threads than processes take to start
_MAX_WORKERS = 16


def open_cache(stem: Path, shape: tuple[int, int, int, int], labels: Sequence[int],
               class_names: Sequence[str]) -> RowFile | None:
    """The cache's rows when its JSON vouches for exactly this content; None when it must be (re)built."""
    meta = _read_meta(stem.with_suffix(".json"))
    expected = {"version": _VERSION, "complete": True, "shape": list(shape), "labels": list(labels),
                "class_names": list(class_names)}
    if meta != expected:
        return None
    data = stem.with_suffix(".u8")
    if file_problem(data) is not None:
        return None
    try:
        return RowFile(data, shape)
    except DataFileError:
        return None  # cut short or replaced since: decoded again


@contextlib.contextmanager
def building(stem: Path) -> Iterator[None]:
    """Hold the cache's build lock: processes that need the same cache decode it once, one after another.

    Where the lock cannot be had (no fcntl, a cache folder we cannot write), each decodes for itself.
    """
    try:
        import fcntl

        stem.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(stem.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o644)
    except (ImportError, OSError):
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing drops the lock


def build_cache(stem: Path, files: Sequence[str], labels: Sequence[int], class_names: Sequence[str],
                shape: tuple[int, int, int, int], *, progress: Progress | None = None,
                workers: int | None = None) -> RowFile:
    """Decode ``files`` into the cache and vouch for it.

    Raises DataFileError naming a bad image, or CacheWriteError when the cache cannot be written.
    """
    data, meta = stem.with_suffix(".u8"), stem.with_suffix(".json")
    try:
        stem.parent.mkdir(parents=True, exist_ok=True)
        meta.unlink(missing_ok=True)  # the old rows are about to be replaced: never vouch for them again
        fd, temp = create_temp(data, stem.parent, data.name)
    except OSError as exc:
        raise _unwritable(data, exc, shape) from None
    try:
        hold_temp(fd)  # a cleaner in another process leaves a locked temporary file alone
        _reserve(fd, int(np.prod(shape)))
        _decode_all(temp, files, shape, progress, workers)
        os.fsync(fd)
        os.replace(temp, data)
    except OSError as exc:
        raise _unwritable(data, exc, shape) from None
    except BrokenExecutor:  # a worker killed from outside, by the out-of-memory killer say
        raise DataFileError(data, "a process decoding the images stopped before it was done; "
                                  "run again, with more memory free") from None
    finally:
        os.close(fd)
        Path(temp).unlink(missing_ok=True)
    _vouch(meta, shape, labels, class_names)
    return RowFile(data, shape)


def decode_in_memory(files: Sequence[str], shape: tuple[int, int, int, int],
                     progress: Progress | None = None) -> np.ndarray:
    """Every image decoded into one array, on threads: for a small set whose cache cannot be written."""
    out = np.empty(shape, np.uint8)
    starts = _chunk_starts(len(files), _thread_count())

    def chunk(start: int, stop: int) -> Failure | None:
        def put(i: int, pixels: np.ndarray) -> None:
            out[start + i] = pixels

        return decode_rows(files[start:stop], shape[1], (shape[2], shape[3]), put)

    with ThreadPoolExecutor(_thread_count()) as pool:
        futures = {pool.submit(chunk, a, b): b - a for a, b in starts}
        _collect(futures, len(files), progress)
    return out


def _decode_all(temp: str, files: Sequence[str], shape: tuple[int, int, int, int],
                progress: Progress | None, workers: int | None) -> None:
    """Rows of ``temp`` from ``files``, chunk by chunk in a pool; the first bad image is raised."""
    count = workers if workers is not None else (_process_count() if len(files) >= _PROCESSES_FROM else 0)
    size = (shape[2], shape[3])
    with _pool(count) as pool:
        futures = {pool.submit(decode_chunk_to_file, temp, a, list(files[a:b]), shape[1], size): b - a
                   for a, b in _chunk_starts(len(files), max(count, _thread_count()))}
        _collect(futures, len(files), progress)


def _pool(processes: int) -> Executor:
    if processes <= 0:
        return ThreadPoolExecutor(_thread_count())  # Pillow releases the GIL while it decodes
    # Spawned, not forked: the app and torch run threads, and a forked child may inherit a held lock.
    return ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"))


def _collect(futures: dict[Future[Failure | None], int], total: int, progress: Progress | None) -> None:
    """Wait for every chunk, telling ``progress``; the first bad image cancels the rest and is raised."""
    done = 0
    if progress is not None:
        progress(0, total)
    for future in as_completed(futures):
        failure = future.result()
        if failure is not None:
            for other in futures:
                other.cancel()
            raise DataFileError(*failure)
        done += futures[future]
        if progress is not None:
            progress(done, total)


def _chunk_starts(count: int, workers: int) -> list[tuple[int, int]]:
    """Chunks small enough to share the work and show progress, large enough to cost little to hand out."""
    size = max(16, min(512, count // (8 * max(workers, 1)) or 1))
    return [(start, min(start + size, count)) for start in range(0, count, size)]


def _thread_count() -> int:
    return min(8, os.cpu_count() or 1)


def _process_count() -> int:
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(_MAX_WORKERS, usable))


def _reserve(fd: int, size: int) -> None:
    """Claim the file's blocks now, so that a disk without room says so before any image is decoded."""
    if hasattr(os, "posix_fallocate"):
        try:
            os.posix_fallocate(fd, 0, size)
            return
        except OSError as exc:
            if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):
                raise
    os.ftruncate(fd, size)  # a file system that cannot reserve: a full disk shows in the writes instead


def _unwritable(data: Path, exc: OSError, shape: tuple[int, int, int, int]) -> CacheWriteError:
    reason = exc.strerror if isinstance(exc, WriteError) else (exc.strerror or str(exc))
    reason = f"{reason[:1].lower()}{reason[1:]}" if reason else "it cannot be written"
    needed = int(np.prod(shape))
    return CacheWriteError(data, f"the decoded images ({needed / 2**20:,.0f} MiB) cannot be written: {reason}; "
                               "free some space there, or set DESIGNER_CACHE_DIR to a folder on a disk "
                               "with room")


def _read_meta(path: Path) -> object:
    if file_problem(path) is not None:
        return None
    try:
        return json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None  # a damaged JSON of ours: the images are decoded again


def _vouch(meta: Path, shape: tuple[int, int, int, int], labels: Sequence[int],
           class_names: Sequence[str]) -> None:
    text = json.dumps({"version": _VERSION, "shape": list(shape), "labels": list(labels),
                       "class_names": list(class_names), "complete": True})
    # The rows are in place and used now; without the JSON they are only decoded again next time.
    with contextlib.suppress(OSError):
        write_atomic(meta, text.encode())
