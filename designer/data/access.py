"""Checks that a file or folder the user named can be read, made before anything opens it.

Opening a named pipe blocks until someone writes to it, and a folder that cannot
be listed looks empty to ``glob``: either would mislead or hang a loader. These
checks turn both into a DataFileError that names the path and says why.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from designer.data.errors import DataFileError
from designer.graph.files import file_problem
from designer.training.portable_data import cannot_read, present

__all__ = ["cannot_read", "present", "require_file", "require_folder"]


def require_file(path: Path, missing: str = "no such file") -> None:
    """Raise unless ``path`` is a regular file we may read; ``missing`` is what to say when nothing is there."""
    if not present(path):
        raise DataFileError(path, missing)
    problem = file_problem(path)
    if problem is not None:
        raise DataFileError(path, problem)


def require_folder(path: Path, missing: str = "no such folder") -> None:
    """Raise unless ``path`` is a folder we may list and enter."""
    try:
        info = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        raise DataFileError(path, missing) from None
    except OSError as exc:
        raise DataFileError(path, cannot_read(exc)) from None
    if not stat.S_ISDIR(info.st_mode):
        kind = "a file" if stat.S_ISREG(info.st_mode) else "a special file"
        raise DataFileError(path, f"is {kind}, not a folder")
    if not os.access(path, os.R_OK | os.X_OK):
        raise DataFileError(path, "cannot be read: permission denied")
