"""Whether a downloadable dataset is already in the default download folder, without reading it.

The editor asks this on the GUI thread whenever a source is chosen, so it only
looks for the files' names; checksums are the downloader's business and bad
data the loader's.
"""

from __future__ import annotations

from pathlib import Path

from designer.data.download import CATALOG
from designer.data.paths import downloads_dir


def download_folder(name: str) -> Path:
    """Where ``download_dataset(name)`` puts the files unless told otherwise."""
    return downloads_dir() / name


def downloaded_path(name: str) -> Path | None:
    """The path to give a dataset description if all of ``name``'s files are there, else None."""
    spec = CATALOG.get(name)
    if spec is None:
        return None
    folder = download_folder(name)
    if not all((folder / file.name).is_file() for file in spec.files):
        return None
    return (folder / spec.result).resolve()
