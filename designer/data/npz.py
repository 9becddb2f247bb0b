"""``.npz`` files: ``x`` (images) and ``y`` (integer labels), read with pickling disabled.

Optional keys: ``x_val``/``y_val`` (or ``x_test``/``y_test``) for a given validation
set, and ``class_names`` (an array of strings). Without class names the classes
are numbered 0 to the largest label.
"""

from __future__ import annotations

from pathlib import Path

from designer.data.access import require_file
from designer.data.imageset import ImageSet, RawData
from designer.data.shared import engine_errors
from designer.training import portable_data


def load_npz(path: Path) -> RawData:
    """The sets and class names of an .npz, read by the exported script's reader."""
    require_file(path)  # a pipe, a device or an unreadable file is named before numpy opens it
    with engine_errors():
        train, given, names = portable_data.read_npz_named(path)
    return RawData(ImageSet(*train), ImageSet(*given) if given is not None else None, names)
