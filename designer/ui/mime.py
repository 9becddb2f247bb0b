"""The drag-and-drop payload that carries a block type from the palette to the canvas."""

from __future__ import annotations

from PySide6.QtCore import QMimeData

BLOCK_MIME = "application/x-designer-block"


def block_mime(block_type: str) -> QMimeData:
    mime = QMimeData()
    mime.setData(BLOCK_MIME, block_type.encode("utf-8"))
    mime.setText(block_type)
    return mime


def block_type_of(mime: QMimeData | None) -> str | None:
    """The block type a drag carries, or None when it is not a palette drag."""
    if mime is None or not mime.hasFormat(BLOCK_MIME):
        return None
    data = bytes(mime.data(BLOCK_MIME).data())
    try:
        return data.decode("utf-8") or None
    except UnicodeDecodeError:
        return None
