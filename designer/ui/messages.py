"""What the window says when something fails: one sentence for the user, never a traceback.

The engine's own errors are already sentences; a file error names the file and
its cause once (``WriteError`` reads ``PATH: cause``); anything else gets its
type named, so a bug is still recognisable in a bug report.
"""

from __future__ import annotations

from designer.graph.errors import GraphError
from designer.graph.files import ReadOnlyError


def user_message(exc: BaseException) -> str:
    if isinstance(exc, ReadOnlyError):  # as a desktop editor does: say so and let the user choose
        return f"{exc}; make it writable or choose another name"
    if isinstance(exc, GraphError):
        return str(exc)
    if isinstance(exc, MemoryError):
        return "not enough memory"
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.filename}: {exc.strerror or exc}"
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {first_line}" if first_line else type(exc).__name__
