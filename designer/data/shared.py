"""The exported script's readers (:mod:`designer.training.portable_data`) as the engine calls them.

The readers, checks and transforms that an exported ``train.py`` needs exist
once, in portable_data.py, which raises its own DataProblem because the script
cannot import Designer. The engine's modules call them inside
:func:`engine_errors`, which turns that into the dataset layer's error types
with the same words.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from designer.data.errors import DataError, DataFileError
from designer.training.portable_data import DataProblem


@contextmanager
def engine_errors() -> Iterator[None]:
    """Raise a DataProblem from the shared code as a DataFileError (or, naming no file, a DataError)."""
    try:
        yield
    except DataProblem as exc:
        if exc.path is None:
            raise DataError(exc.reason) from exc
        raise DataFileError(exc.path, exc.reason) from exc
