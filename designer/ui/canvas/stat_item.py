"""A block's live training statistic: a small coloured tag under the block (``zeros 43%``).

The scene gives each block the latest sample of the chosen statistic and a
colour for where that value lies among all blocks (low blue, high red), so a
layer of dead ReLUs or a vanishing gradient stands out at a glance.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from designer.ui.fonts import CanvasMetrics, canvas_font

FONT = canvas_font(10, bold=True)  # measured and drawn in the canvas family, like the blocks
METRICS = CanvasMetrics(FONT)
HEIGHT = 15.0
GAP = 4.0
LOW, HIGH = QColor("#3b6fd8"), QColor("#d8433b")
# The statistics of designer.training.probes (not imported here: it needs torch), as menus name them.
STAT_LABELS = {"mean": "Activation Mean", "std": "Activation Std", "zeros": "Zero Outputs",
               "grad_norm": "Gradient Norm"}
TAG_LABELS = {"mean": "mean", "std": "std", "zeros": "zeros", "grad_norm": "‖∇‖"}


def heat(fraction: float) -> QColor:
    """Blue at 0, through a pale middle, to red at 1."""
    fraction = min(max(fraction, 0.0), 1.0)
    middle = QColor("#ece7f2")
    a, b, t = (LOW, middle, fraction * 2) if fraction < 0.5 else (middle, HIGH, fraction * 2 - 1)
    return QColor.fromRgbF(a.redF() + (b.redF() - a.redF()) * t, a.greenF() + (b.greenF() - a.greenF()) * t,
                           a.blueF() + (b.blueF() - a.blueF()) * t)


def fractions(key: str, values: Mapping[str, float | None]) -> dict[str, float | None]:
    """Where each value lies among all blocks, 0 to 1: zeros as they are, gradient norms on a log scale."""
    finite = {n: v for n, v in values.items() if v is not None and math.isfinite(v)}
    if key == "zeros":
        return {n: finite.get(n) for n in values}
    if key == "grad_norm":
        finite = {n: math.log10(v) for n, v in finite.items() if v > 0}
    if not finite:
        return dict.fromkeys(values)
    low, high = min(finite.values()), max(finite.values())
    span = high - low
    return {n: ((finite[n] - low) / span if span else 0.5) if n in finite else None for n in values}


def format_value(key: str, value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    if key == "zeros":
        return f"{value:.0%}"
    return f"{value:.3g}"


class StatItem(QGraphicsItem):
    """The tag under one block; ``text`` is what it shows."""

    def __init__(self, parent: QGraphicsItem) -> None:
        super().__init__(parent)
        self.text = ""
        self.colour = QColor(LOW)
        self._rect = QRectF()
        self.setZValue(2)

    def show_value(self, label: str, text: str, colour: QColor, below: float) -> None:
        self.text = f"{label} {text}"
        self.colour = colour
        width = METRICS.width(self.text) + 12
        self.prepareGeometryChange()
        self._rect = QRectF(-width / 2, below + GAP, width, HEIGHT)
        self.setToolTip(self.text)
        self.update()

    def boundingRect(self) -> QRectF:
        return self._rect

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(self.colour.darker(130), 1.0))
        painter.setBrush(self.colour)
        painter.drawRoundedRect(self._rect, HEIGHT / 2, HEIGHT / 2)
        painter.setFont(FONT)
        light = self.colour.lightnessF() > 0.6
        painter.setPen(QColor("#1f2933") if light else QColor("#ffffff"))
        painter.drawText(self._rect, int(Qt.AlignmentFlag.AlignCenter), self.text)
