"""Reading the pickle files that CIFAR ships, without running arbitrary code.

A pickle can name any importable callable and call it. The CIFAR batches need
only dicts, lists, strings, bytes and numpy arrays, so this unpickler resolves
exactly the few globals that rebuild those and refuses every other name.
"""

from __future__ import annotations

import io
import pickle
from collections.abc import Callable
from typing import Any, cast

import numpy as np


def _array_rebuilders() -> dict[str, Callable[..., Any]]:
    """numpy's own rebuild functions, taken from a real array so numpy 1 and 2 both work."""
    sample = np.zeros(1, dtype=np.uint8)
    reconstruct = cast(Callable[..., Any], sample.__reduce__()[0])
    frombuffer = cast(Callable[..., Any], sample.__reduce_ex__(5)[0])
    return {"_reconstruct": reconstruct, "_frombuffer": frombuffer}


def _dtype(*args: Any) -> np.dtype[Any]:
    # An object dtype would let the pickle build arbitrary Python objects into an array.
    dtype: np.dtype[Any] = np.dtype(*args)
    if dtype.hasobject:
        raise pickle.UnpicklingError("arrays of Python objects are not allowed")
    return dtype


def _encode(text: str, encoding: str = "latin1") -> bytes:
    # What protocol-2 pickles written by Python 3 use to store bytes.
    return text.encode(encoding)


_REBUILDERS = _array_rebuilders()
_ALLOWED: dict[tuple[str, str], Callable[..., Any]] = {
    ("numpy.core.multiarray", "_reconstruct"): _REBUILDERS["_reconstruct"],
    ("numpy._core.multiarray", "_reconstruct"): _REBUILDERS["_reconstruct"],
    ("numpy.core.numeric", "_frombuffer"): _REBUILDERS["_frombuffer"],
    ("numpy._core.numeric", "_frombuffer"): _REBUILDERS["_frombuffer"],
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): _dtype,
    ("_codecs", "encode"): _encode,
    ("builtins", "bytearray"): bytearray,
}


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that knows only the globals in ``_ALLOWED``."""

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"refused to load {module}.{name}: not data") from None


def safe_loads(data: bytes) -> Any:
    """Unpickle ``data`` allowing only plain data and numpy arrays.

    ``latin1`` decodes the Python 2 strings of the original CIFAR files losslessly,
    the way numpy expects for the raw bytes of arrays pickled by Python 2.
    """
    return RestrictedUnpickler(io.BytesIO(data), encoding="latin1").load()
