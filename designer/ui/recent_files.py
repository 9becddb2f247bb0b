"""The list behind File ▸ Open Recent: project files, most recent first, kept in QSettings.

The list logic is plain Python (:func:`push_path`); :class:`RecentFiles` only
reads and writes it under one settings key. Every window reads the settings
afresh, so windows on the same settings share one list.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from PySide6.QtCore import QSettings

KEY = "recent_files"
LIMIT = 10


def normalised(path: str | os.PathLike[str]) -> str:
    """One spelling per file, so that ``./a.json`` and ``/home/me/a.json`` are one entry."""
    return os.path.normcase(os.path.abspath(os.fspath(path)))


def push_path(paths: Iterable[str], path: str | os.PathLike[str], limit: int = LIMIT) -> list[str]:
    """``paths`` with ``path`` moved (or added) to the front, without duplicates, at most ``limit``."""
    first = normalised(path)
    rest = [p for p in paths if normalised(p) != first]
    return [first, *rest][:limit]


class RecentFiles:
    """The recent project files of one settings store."""

    def __init__(self, settings: QSettings, limit: int = LIMIT) -> None:
        self.settings = settings
        self.limit = limit

    def paths(self) -> list[str]:
        value = self.settings.value(KEY)
        # An INI file gives back a one-item list as a bare string, and an empty one as None.
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, (list, tuple)):
            return []
        return [p for p in value if isinstance(p, str) and p][: self.limit]

    def add(self, path: str | os.PathLike[str]) -> None:
        self._store(push_path(self.paths(), path, self.limit))

    def remove(self, path: str | os.PathLike[str]) -> None:
        gone = normalised(path)
        self._store([p for p in self.paths() if normalised(p) != gone])

    def clear(self) -> None:
        self._store([])

    def _store(self, paths: list[str]) -> None:
        if paths:
            self.settings.setValue(KEY, paths)
        else:
            self.settings.remove(KEY)
        self.settings.sync()
