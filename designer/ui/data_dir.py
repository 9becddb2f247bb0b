"""Designer's folder in the user's data location: runs of unsaved projects and autosaves live there.

``~/.local/share/Designer`` on Linux; ``DESIGNER_DATA_DIR`` overrides it. Not Qt's
AppDataLocation: that is ``<organisation>/<application>``, and both are "Designer",
which made ``…/Designer/Designer``. That old folder is still used while it holds
runs, so that they stay listed, and its autosaves are still offered back.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QStandardPaths

DATA_DIR_VARIABLE = "DESIGNER_DATA_DIR"  # overrides the platform's user data folder
DATA_FOLDER = "Designer"  # in the platform's data location, whatever the running program is called


def user_data_dir() -> Path:
    if root := os.environ.get(DATA_DIR_VARIABLE):
        return Path(root)
    if old := _doubled_data_dir_with_runs():
        return old  # where the runs of earlier versions are: they stay listed, and new ones join them
    generic = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericDataLocation)
    return Path(generic) / DATA_FOLDER


def doubled_data_dir() -> Path:
    """The folder earlier versions used (Qt's AppDataLocation)."""
    return Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation))


def _doubled_data_dir_with_runs() -> Path | None:
    old = doubled_data_dir()
    try:
        return old if any((old / "runs").iterdir()) else None
    except OSError:  # no such folder, or one that cannot be read: nothing to keep finding there
        return None
