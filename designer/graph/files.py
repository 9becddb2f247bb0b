"""Writing files so that a crash or a full disk never leaves half a file behind.

Every file the app writes (projects, exports, checkpoints, downloads) goes
through :func:`write_atomic`.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from pathlib import Path


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that readers see the old file or the new one, never half.

    The data goes to a temporary file beside the target, is flushed to disk and
    renamed over it. A link is followed, so the file it points at is replaced.
    The new file keeps the old one's permissions, or gets the usual ones for a
    new file (``tempfile.mkstemp`` would make every saved project private).
    """
    if path.is_symlink():
        path = Path(os.path.realpath(path))
    directory = path.parent if str(path.parent) else Path(".")
    try:
        mode: int | None = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        mode = None
    if not directory.is_dir():
        raise FileNotFoundError(errno.ENOENT, "no such folder", str(directory))
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a folder, not a file", str(path))
    fd, temp = _create_temp(directory, path.name)
    try:
        with os.fdopen(fd, "wb") as handle:
            if mode is not None and hasattr(os, "fchmod"):
                os.fchmod(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    try:  # make the rename itself durable where the platform allows it
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def _create_temp(directory: Path, name: str) -> tuple[int, str]:
    """A new, exclusive file beside the target, created with the default permissions."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        temp = os.path.join(directory, f".{name}.{secrets.token_hex(4)}.tmp")
        try:
            return os.open(temp, flags, 0o666), temp
        except FileExistsError:
            continue
        except PermissionError:
            raise PermissionError(errno.EACCES, "cannot write in this folder", str(directory)) from None
    raise FileExistsError(f"cannot create a temporary file in {directory}")
