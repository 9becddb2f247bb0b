"""Thumbnails of evaluated samples, each captioned with its predicted class and confidence.

The evaluation panel fills it with the samples of one confusion-matrix cell, the
most confident first. Images come as the data layer stores them (``[N, C, H, W]``
tensors, uint8 or 0..1 floats); only the shown ones are converted, and at most
``MAX_SHOWN`` of them, so a large cell costs no more than a small one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import QListView, QListWidget, QListWidgetItem, QWidget

THUMBNAIL = 56  # pixels a side
MAX_SHOWN = 300
SAMPLE_ROLE = Qt.ItemDataRole.UserRole  # the sample's index in the evaluated set


def to_pixels(images: Any, indices: Sequence[int]) -> Any:
    """``images[indices]`` (``[N, C, H, W]``, uint8 or 0..1 floats) as one uint8 ``[n, H, W, C]`` array.

    One conversion for the whole selection: per image, the tensor calls cost
    more than the pixels.
    """
    chosen = images[list(indices)]
    if chosen.dtype.is_floating_point:
        chosen = (chosen.float() * 255).clamp_(0, 255).round_()
    return chosen.to("cpu").byte().permute(0, 2, 3, 1).contiguous().numpy()


def to_qimage(pixels: Any) -> QImage:
    """One uint8 ``[H, W, C]`` array (C is 1 or 3) as a QImage that owns its pixels."""
    height, width, channels = pixels.shape
    if channels == 1:
        fmt, line = QImage.Format.Format_Grayscale8, width
    elif channels == 3:
        fmt, line = QImage.Format.Format_RGB888, 3 * width
    else:
        raise ValueError(f"a thumbnail needs 1 or 3 channels, this image has {channels}")
    return QImage(pixels.tobytes(), width, height, line, fmt).copy()  # copy: the bytes go away


class SampleGallery(QListWidget):
    """A grid of thumbnails; ``show_samples`` replaces them, ``indices`` says which are shown."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setIconSize(QSize(THUMBNAIL, THUMBNAIL))
        self.setGridSize(QSize(THUMBNAIL + 28, THUMBNAIL + 38))
        self.setWordWrap(True)
        self.setUniformItemSizes(True)

    def show_samples(self, images: Any, indices: Sequence[int], predicted: Sequence[int],
                     confidence: Sequence[float], class_names: Sequence[str]) -> None:
        """Thumbnails of ``images[i]`` for the first MAX_SHOWN ``indices``, in that order."""
        self.setUpdatesEnabled(False)  # one layout and paint for the lot, not one per thumbnail
        try:
            self._fill(images, list(indices[:MAX_SHOWN]), predicted, confidence, class_names)
        finally:
            self.setUpdatesEnabled(True)

    def _fill(self, images: Any, shown: list[int], predicted: Sequence[int], confidence: Sequence[float],
              class_names: Sequence[str]) -> None:
        self.clear()
        pixels = to_pixels(images, shown) if images is not None and shown else None
        # small images (8×8 digits) are enlarged without smoothing, so that their pixels stay sharp
        large = pixels is not None and max(pixels.shape[1:3]) > THUMBNAIL
        mode = Qt.TransformationMode.SmoothTransformation if large else Qt.TransformationMode.FastTransformation
        for row, i in enumerate(shown):
            name = class_names[predicted[i]]
            item = QListWidgetItem(f"{name}\n{confidence[i]:.1%}")
            if pixels is not None:
                pixmap = QPixmap.fromImage(to_qimage(pixels[row]))
                keep = Qt.AspectRatioMode.KeepAspectRatio
                item.setIcon(QIcon(pixmap.scaled(THUMBNAIL, THUMBNAIL, keep, mode)))
            item.setToolTip(f"sample {i}: predicted {name} with confidence {confidence[i]:.1%}")
            item.setData(SAMPLE_ROLE, i)
            self.addItem(item)

    def indices(self) -> list[int]:
        return [int(self.item(row).data(SAMPLE_ROLE)) for row in range(self.count())]
