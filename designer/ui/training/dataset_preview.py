"""The dataset picker's preview: the first training images with their class names, and a summary line.

The images are turned into QImages on the worker thread that loaded them
(:func:`to_qimages`); the GUI thread only makes pixmaps of 32 small images.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QFontMetrics, QImage, QPixmap, QResizeEvent
from PySide6.QtWidgets import QGridLayout, QLabel, QLayout, QVBoxLayout, QWidget

from designer.ui import theme

if TYPE_CHECKING:
    import numpy as np

MAX_COLUMNS = 8
THUMB = 48  # pixels a thumbnail is drawn at
SPACING = 2


def to_qimages(pixels: np.ndarray) -> list[QImage]:
    """``[N, H, W, C]`` uint8, C 1 or 3, as N QImages that own their pixels (safe on any thread)."""
    import numpy as np  # here: 0.15 s to import, and the window imports this module as it starts

    images = []
    for image in pixels:
        height, width, channels = image.shape
        fmt = QImage.Format.Format_Grayscale8 if channels == 1 else QImage.Format.Format_RGB888
        data = np.ascontiguousarray(image).tobytes()
        images.append(QImage(data, width, height, width * channels, fmt).copy())
    return images


class Thumbnail(QWidget):
    """One image, scaled up or down to THUMB pixels, with its class name under it."""

    WIDTH = THUMB + 12 + 4  # the caption's width and the margins

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image = QLabel()
        self.image.setFixedSize(THUMB, THUMB)
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.caption = QLabel()
        self.caption.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.caption.setFixedWidth(Thumbnail.WIDTH - 4)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(1)
        layout.addWidget(self.image, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.caption)

    def show_image(self, image: QImage, label: str) -> None:
        # Small images (8×8 digits) are enlarged without smoothing, so their pixels stay sharp.
        smooth = image.width() >= THUMB or image.height() >= THUMB
        modes = Qt.TransformationMode
        mode = modes.SmoothTransformation if smooth else modes.FastTransformation
        pixmap = QPixmap.fromImage(image).scaled(THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio, mode)
        self.image.setPixmap(pixmap)
        elided = QFontMetrics(self.caption.font()).elidedText(label, Qt.TextElideMode.ElideRight,
                                                              self.caption.width())
        self.caption.setText(elided)
        self.caption.setToolTip(label)


class PreviewPanel(QWidget):
    """Summary line, notes or error, and a grid of thumbnails."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.thumbnails: list[Thumbnail] = []
        self._grid = QGridLayout()
        self._grid.setSpacing(SPACING)
        self._columns = MAX_COLUMNS
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.summary)
        layout.addWidget(self.message)
        layout.addLayout(self._grid)
        layout.addStretch(1)
        # The grid's width is not a minimum (see minimumSizeHint), so the layout must not make it one.
        layout.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)
        self.clear()

    def clear(self) -> None:
        self.summary.setText("")
        self._message("")
        self._fill(0)

    def show_loading(self) -> None:
        """Keeps the last images until the new ones come, so that editing an option does not flicker."""
        self._message("Loading a preview…")

    def show_error(self, text: str) -> None:
        self.summary.setText("")
        self._message(text, theme.ERROR_TEXT)
        self._fill(0)

    def show_preview(self, images: Sequence[QImage], labels: Sequence[str], summary: str,
                     notes: Sequence[str] = ()) -> None:
        self.summary.setText(summary)
        self._message("\n".join(notes), theme.MUTED)
        self._fill(len(images))
        for cell, image, label in zip(self.thumbnails, images, labels):
            cell.show_image(image, label)

    def shown(self) -> list[tuple[QPixmap, str]]:
        """The visible thumbnails' pixmaps and full class names, in reading order."""
        cells = [cell for cell in self.thumbnails if cell.isVisibleTo(self)]
        return [(cell.image.pixmap(), cell.caption.toolTip()) for cell in cells]

    def _fill(self, count: int) -> None:
        while len(self.thumbnails) < count:
            cell = Thumbnail(self)
            index = len(self.thumbnails)
            self._grid.addWidget(cell, index // self._columns, index % self._columns)
            self.thumbnails.append(cell)
        for index, cell in enumerate(self.thumbnails):
            cell.setVisible(index < count)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._reflow(event.size().width())

    def _reflow(self, width: int) -> None:
        """As many columns as the width holds: the panel is a dock the user may make narrow."""
        cell = Thumbnail.WIDTH + SPACING
        columns = max(1, min(MAX_COLUMNS, (width + SPACING) // cell))
        if columns == self._columns:
            return
        self._columns = columns
        for index, thumbnail in enumerate(self.thumbnails):
            self._grid.addWidget(thumbnail, index // columns, index % columns)  # moves it; no copy is made

    def minimumSizeHint(self) -> QSize:
        # One column's width: _reflow makes the rest fit whatever width the panel has.
        hint = super().minimumSizeHint()
        return QSize(min(hint.width(), Thumbnail.WIDTH), hint.height())

    def _message(self, text: str, role: str | None = None) -> None:
        self.message.setText(text)
        theme.paint_text(self.message, role)
        self.message.setVisible(bool(text))
