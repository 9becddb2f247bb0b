"""The drag-and-drop payloads that carry a block type or a module from the palette to the canvas."""

from __future__ import annotations

from PySide6.QtCore import QMimeData

BLOCK_MIME = "application/x-designer-block"
MODULE_MIME = "application/x-designer-module"


def block_mime(block_type: str) -> QMimeData:
    mime = QMimeData()
    mime.setData(BLOCK_MIME, block_type.encode("utf-8"))
    mime.setText(block_type)
    return mime


def module_mime(name: str) -> QMimeData:
    mime = QMimeData()
    mime.setData(MODULE_MIME, name.encode("utf-8"))
    mime.setText(name)
    return mime


def block_type_of(mime: QMimeData | None) -> str | None:
    """The block type a drag carries, or None when it is not a palette drag."""
    return _text(mime, BLOCK_MIME)


def module_of(mime: QMimeData | None) -> str | None:
    """The module a drag carries, or None when it carries none."""
    return _text(mime, MODULE_MIME)


def _text(mime: QMimeData | None, kind: str) -> str | None:
    if mime is None or not mime.hasFormat(kind):
        return None
    data = bytes(mime.data(kind).data())
    try:
        return data.decode("utf-8") or None
    except UnicodeDecodeError:
        return None
