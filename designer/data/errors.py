"""The error types of the dataset layer.

As in the graph model, every message is a sentence for the person training the
network: it names the file, the key or the numbers involved and, when it is
knowable, what would fix it.
"""

from __future__ import annotations

from pathlib import Path

from designer.graph.errors import GraphError


class DataError(GraphError):
    """Base of every error the dataset layer raises on purpose."""


class DataConfigError(DataError, ValueError):
    """A dataset description (the project file's ``dataset`` object) that is not valid."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"dataset {key}: {message}")
        self.key = key
        self.reason = message


class DataFileError(DataError):
    """A data file that is missing, unreadable, truncated or holds values out of range."""

    def __init__(self, path: str | Path, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = Path(path)
        self.reason = message


class DataFitError(DataError):
    """The dataset's channels, size or classes cannot fit the graph's input or output."""


class DownloadError(DataError):
    """A download that failed; a partial file is kept so that the next try resumes."""


class ChecksumError(DownloadError):
    """A downloaded file whose checksum is not the published one."""
