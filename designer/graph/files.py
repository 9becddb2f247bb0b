"""Reading and writing files so that a special file never hangs us and a crash never leaves half a file.

Every file the app writes (projects, exports, checkpoints, renders, autosaves)
goes through :func:`write_atomic`. Every file it reads is first checked by
:func:`file_problem`: opening a FIFO blocks until someone writes to it, and a
device can stream forever, so only regular files are read.

A regular file (or a new one) is replaced atomically: the data goes to a
temporary ``.NAME.xxxxxxxx.tmp`` beside it, which is renamed over it. A named
pipe or a character device (``/dev/null``, a terminal) is written into as a
stream, since renaming over it would replace the node itself; anything else is
refused. A writer killed mid-write leaves its temporary file behind: the next
write to the same folder removes it once it is stale (see
:func:`_remove_stale_temps`).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import stat
import time
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no advisory locks, so stale temporary files are told by age alone
    fcntl = None  # type: ignore[assignment]

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



# -- writing ---------------------------------------------------------------------------------

STALE_TEMP_SECONDS = 60.0 if fcntl is not None else 24 * 3600.0
_TEMP_NAME = re.compile(r"\..+\.[0-9a-f]{8}\.tmp")
_WRITABLE = "only a regular file, a named pipe or a character device can be written"


class WriteError(OSError):
    """A file that cannot be written as asked: ``filename`` is the path given, ``strerror`` the cause.

    The cause is a phrase that names the real culprit (the file on the path that
    is not a folder, the folder that is missing), so ``f"{path}: {strerror}"``
    reads as one sentence.
    """

    def __str__(self) -> str:
        return f"{self.filename}: {self.strerror}"


class ReadOnlyError(WriteError):
    """The file to replace has no write permission; ``replace_read_only=True`` replaces it all the same."""


def write_atomic(path: str | os.PathLike[str], data: bytes, *, replace_read_only: bool = False) -> None:
    """Write ``data`` to ``path`` (readers see the old file or the new one, never half) or raise WriteError.

    A regular file keeps its permissions (a new one gets the usual ones;
    ``tempfile.mkstemp`` would make every saved project private). A read-only
    one is refused unless ``replace_read_only``, and stays read-only when
    replaced. A link is followed: what it points at is written by the same rules.
    """
    given = Path(path)
    target = Path(os.path.realpath(given)) if os.path.islink(given) else given
    is_ = "is" if target == given else f"links to {target}, which is"
    info = _stat(given, given)
    if info is None:
        _check_folder(target.parent)
        _replace(given, target, data, None)
        return
    _check_writable(given, given, info.st_mode, is_, replace_read_only)
    if stat.S_ISREG(info.st_mode):
        _replace(given, target, data, stat.S_IMODE(info.st_mode))
    else:  # opened through the link: /dev/stdout -> /proc/self/fd/1 -> "pipe:[…]" has no path to resolve
        _write_stream(given, given, data, is_, stat.S_ISFIFO(info.st_mode))


def _check_writable(given: Path, target: Path, mode: int, is_: str, replace_read_only: bool) -> None:
    """Refuse a folder, a kind of file that is neither replaced nor streamed into, and a read-only file."""
    if stat.S_ISDIR(mode):
        raise WriteError(errno.EISDIR, f"{is_} a folder, not a file", str(given))
    if not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode) or stat.S_ISCHR(mode)):
        kind = ("a block device" if stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode)
                else "not a regular file")
        raise WriteError(errno.EINVAL, f"{is_} {kind}; {_WRITABLE}", str(given))
    # The mode bits as well as access(): root may write anything, but a file made read-only is a "no".
    if not replace_read_only and (not mode & 0o222 or not os.access(target, os.W_OK)):
        done = "replaced" if stat.S_ISREG(mode) else "written"
        raise ReadOnlyError(errno.EACCES, f"{is_} read-only, so it was not {done}", str(given))


def make_folder(path: str | os.PathLike[str]) -> None:
    """``mkdir -p``; a WriteError names the file in the way or says why the folder cannot be made."""
    try:
        Path(path).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _check_folder(Path(path))
        raise WriteError(exc.errno, f"cannot make this folder: {_words(exc)}", str(path)) from None


def _stat(given: Path, target: Path) -> os.stat_result | None:
    """The target's kind and mode, or None when there is nothing there yet."""
    try:
        return os.stat(target)
    except (FileNotFoundError, NotADirectoryError):
        return None  # the folder check says which part of the path is missing or a file
    except ValueError:
        raise WriteError(errno.EINVAL, "is not a usable file name (it holds a NUL character)",
                         str(given)) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise WriteError(exc.errno, "is a link that leads round in a loop", str(given)) from None
        raise WriteError(exc.errno, f"cannot be reached: {_words(exc)}", str(given)) from None


def _check_folder(folder: Path) -> None:
    """Raise a WriteError naming the first missing folder of ``folder``'s path, or the file in its way.

    The error names that path, not the file to write: "a: no such folder" for
    a/b/out.py says which part to make.
    """
    missing = None
    for candidate in (folder, *folder.parents):
        try:
            info = os.stat(candidate)
        except FileNotFoundError:
            missing = candidate
            continue
        except NotADirectoryError:
            continue  # a file further up, found on the way there
        except (OSError, ValueError):
            return  # the write itself will say why
        if stat.S_ISDIR(info.st_mode):
            if missing is not None:
                raise WriteError(errno.ENOENT, "no such folder", str(missing))
            return
        kind = "a file" if stat.S_ISREG(info.st_mode) else "a special file"
        raise WriteError(errno.ENOTDIR, f"is {kind}, not a folder", str(candidate))


def _words(exc: OSError) -> str:
    """The system's reason as the end of a sentence of ours: 'No space left on device' -> 'no space ...'."""
    text = exc.strerror or str(exc)
    return text[:1].lower() + text[1:]


def _write_stream(given: Path, target: Path, data: bytes, is_: str, fifo: bool) -> None:
    """Write into a named pipe or a device as it is; a pipe nobody reads is refused instead of waited on."""
    flags = os.O_WRONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(target, flags)
    except OSError as exc:
        if fifo and exc.errno == errno.ENXIO:
            raise WriteError(exc.errno, f"{is_} a named pipe (FIFO) that no program is reading; "
                                        "start the reader first", str(given)) from None
        raise WriteError(exc.errno, f"cannot be written: {_words(exc)}", str(given)) from None
    try:
        os.set_blocking(fd, True)  # non-blocking was only for the open
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    except BrokenPipeError:
        raise WriteError(errno.EPIPE, "the program reading this named pipe stopped before it had all the data",
                         str(given)) from None
    except OSError as exc:
        raise WriteError(exc.errno, f"cannot be written: {_words(exc)}", str(given)) from None
    finally:
        os.close(fd)


def _replace(given: Path, target: Path, data: bytes, mode: int | None) -> None:
    """Write a temporary file beside ``target``, flush it to disk and rename it over ``target``."""
    directory = target.parent
    _remove_stale_temps(directory)
    fd, temp = create_temp(given, directory, target.name)
    try:
        with os.fdopen(fd, "wb") as handle:
            hold_temp(handle.fileno())
            if mode is not None and hasattr(os, "fchmod"):
                os.fchmod(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
            if fcntl is not None:  # renamed while still locked: a cleaner never takes a file being renamed
                os.replace(temp, target)
        if fcntl is None:  # Windows cannot rename a file that is open
            os.replace(temp, target)
    except OSError as exc:
        Path(temp).unlink(missing_ok=True)
        raise WriteError(exc.errno, f"cannot be written: {_words(exc)}", str(given)) from None
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    _sync_folder(directory)


def create_temp(given: Path, directory: Path, name: str) -> tuple[int, str]:
    """A new, exclusive file beside the target, created with the default permissions."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    # Keep the temporary name within the 255 bytes a name may have, whatever the target's length.
    stem = os.fsdecode(os.fsencode(name)[:200])
    for _ in range(100):
        temp = os.path.join(directory, f".{stem}.{secrets.token_hex(4)}.tmp")
        try:
            return os.open(temp, flags, 0o666), temp
        except FileExistsError:
            continue
        except OSError as exc:
            reason = f"cannot write in the folder {directory or '.'}: {_words(exc)}"
            raise WriteError(exc.errno, reason, str(given)) from None
    raise WriteError(errno.EEXIST, f"cannot make a temporary file in {directory}", str(given))


def hold_temp(fd: int) -> None:
    """Lock our temporary file for as long as we write it, so that no cleaner takes it for a dead writer's."""
    if fcntl is not None:
        with contextlib.suppress(OSError):  # a file system without locks: no cleaner can lock it either
            fcntl.flock(fd, fcntl.LOCK_EX)


def _remove_stale_temps(directory: Path) -> None:
    """Remove temporary files of ours that a killed writer left here.

    One is stale when no process holds its lock (the kernel drops a dead
    process's locks) and it is older than :data:`STALE_TEMP_SECONDS`, which
    covers the instant between a writer creating its file and locking it.
    Without locks (Windows) age alone decides, with a far longer wait.
    """
    try:
        names = [entry.name for entry in os.scandir(directory) if _TEMP_NAME.fullmatch(entry.name)]
    except OSError:
        return
    now = time.time()
    for name in names:
        _remove_if_stale(os.path.join(directory, name), now)


def _remove_if_stale(path: str, now: float) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return  # gone already, a link, or not ours to read
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or now - info.st_mtime < STALE_TEMP_SECONDS:
            return
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises while a live writer holds it
        current = os.stat(path, follow_symlinks=False)
        if (current.st_dev, current.st_ino) == (info.st_dev, info.st_ino):  # not renamed and replaced meanwhile
            os.unlink(path)
    except OSError:
        pass
    finally:
        os.close(fd)


def _sync_folder(directory: Path) -> None:
    """Make the rename itself durable where the platform allows it."""
    try:
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)
