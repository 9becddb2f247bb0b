"""Reading and writing files so that a special file never hangs us and a crash never leaves half a file.

Every file the app writes (projects, exports, checkpoints, downloads) goes
through :func:`write_atomic`. Every file it reads is first checked by
:func:`file_problem`: opening a FIFO blocks until someone writes to it, and a
device can stream forever, so only regular files are read.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from pathlib import Path

_KINDS = ((stat.S_ISDIR, "is a folder, not a file"), (stat.S_ISFIFO, "is a named pipe (FIFO), not a file"),
          (stat.S_ISCHR, "is a device, not a file"), (stat.S_ISBLK, "is a device, not a file"),
          (stat.S_ISSOCK, "is a socket, not a file"))


def file_problem(path: str | os.PathLike[str]) -> str | None:
    """Why ``path`` cannot be read as a file, in words for a message (``None`` when it can).

    Links are followed; nothing is opened, so a FIFO or a device is named, not read.
    Each layer wraps the reason in its own error type with the path in front.
    """
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return "no such file"
    except NotADirectoryError:
        return "no such file (a folder on its path is a file)"
    except PermissionError:
        return "cannot be read: permission denied (on a folder of its path)"
    except OSError as exc:
        return f"cannot be read: {exc.strerror or exc}"
    except ValueError as exc:  # a NUL byte in the name
        return f"not a usable file name ({exc})"
    for is_kind, words in _KINDS:
        if is_kind(info.st_mode):
            return words
    if not stat.S_ISREG(info.st_mode):
        return "not a regular file"
    if not os.access(path, os.R_OK):
        return "cannot be read: permission denied"
    return None


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
