"""A plot item that draws a curve, with or without point markers, in a single painter call or two.

pyqtgraph's PlotDataItem wraps a curve and a scatter item, and each of them
runs a few hundred lines of Python per paint and per bounds query (pens,
downsampling, clipping, symbols rendered through pixmaps): with seven of them
per run, that Python was most of a live update of the training plots
(benchmarks/README.md, "GUI while training"). The curves here come decimated
already, so :class:`Curve` keeps only what a paint needs: the line segments,
the marker points and the bounds, all worked out once per ``setData``.

The line is drawn as separate segments (``drawLines``), as pyqtgraph draws its
own: Qt's raster engine joins the segments of a path or polyline, and for a pen
wider than a pixel over a dense min/max envelope that took ~400× longer.

Markers are the pen's cap drawn at each point (``drawPoints`` with a wide
pen): a round cap makes discs, a square cap squares.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from pyqtgraph.graphicsItems.PlotCurveItem import arrayToLineSegments
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen, QPolygonF

from designer.ui.training.plot_series import Array

MARKER_PX = 7
EDGE_PX = 4  # room around the data for the pen and the markers, in pixels


class Curve(pg.GraphicsObject):  # type: ignore[misc]  # pyqtgraph has no type hints
    """``setData(x, y)`` draws a polyline through the finite points; ``marker`` adds a mark at each.

    ``opts`` holds the ``pen`` and ``name`` pyqtgraph's legend reads. Plots in
    log-y mode hand it ``setLogMode``; then it draws, reports and bounds log10(y).
    """

    def __init__(self, pen: QPen, name: str | None = None, marker: Qt.PenCapStyle | None = None) -> None:
        super().__init__()
        self.opts: dict[str, Any] = {"pen": pen, "name": name}
        self._marker_pen: QPen | None = None
        if marker is not None:
            self._marker_pen = QPen(pen.color(), MARKER_PX)
            self._marker_pen.setCosmetic(True)
            self._marker_pen.setCapStyle(marker)
        self._log_y = False
        self._given: tuple[Array, Array] = (np.empty(0), np.empty(0))
        self._x: Array = np.empty(0)
        self._y: Array = np.empty(0)
        self._segments = arrayToLineSegments(np.empty(0), np.empty(0), connect="all", finiteCheck=False)
        self._points = QPolygonF()
        self._bounds = QRectF()  # of the data; empty when there is none
        self._rect: QRectF | None = None  # the bounds with room for the pen, in data units: depends on the view

    def name(self) -> str | None:
        return self.opts["name"]

    def set_colour(self, colour: QColor) -> None:
        """Draw the line and the markers in ``colour`` from now on (the theme changed)."""
        self.opts["pen"].setColor(colour)  # the legend's sample draws with this pen too
        if self._marker_pen is not None:
            self._marker_pen.setColor(colour)
        self.update()

    def setData(self, x: Array, y: Array) -> None:
        self._given = (np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
        self._rebuild()

    def getData(self) -> tuple[Array, Array]:
        """The points as drawn (log10 of y in log mode), non-finite ones left out."""
        return self._x, self._y

    def setLogMode(self, x: bool, y: bool) -> None:
        if y != self._log_y:
            self._log_y = y
            self._rebuild()

    def _rebuild(self) -> None:
        x, y = self._given
        if self._log_y:
            with np.errstate(divide="ignore", invalid="ignore"):
                y = np.log10(y)
        keep = np.isfinite(x) & np.isfinite(y)
        if not keep.all():
            x, y = x[keep], y[keep]
        self.prepareGeometryChange()
        self._x, self._y = x, y
        self._segments = arrayToLineSegments(x, y, connect="all", finiteCheck=False, out=self._segments)
        if self._marker_pen is not None:
            self._points = QPolygonF([QPointF(a, b) for a, b in zip(x.tolist(), y.tolist())])
        if len(x):
            left, right, low, high = float(x.min()), float(x.max()), float(y.min()), float(y.max())
            self._bounds = QRectF(left, low, right - left, high - low)
        else:
            self._bounds = QRectF()
        self._rect = None
        self.informViewBoundsChanged()
        self.update()

    # -- what pyqtgraph and Qt ask of an item ----------------------------------------------

    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange: Any = None) -> tuple[float, float] | None:
        """For pyqtgraph's autorange: the least and greatest x (``ax`` 0) or y (1), all of them."""
        if not len(self._x):
            return None
        values = self._x if ax == 0 else self._y
        return float(values.min()), float(values.max())

    def viewTransformChanged(self) -> None:
        super().viewTransformChanged()
        self.prepareGeometryChange()
        self._rect = None  # a pixel is another length in data units now

    def boundingRect(self) -> QRectF:
        if self._rect is None:
            view = self.getViewBox()
            pixel_w, pixel_h = view.viewPixelSize() if view is not None else (0.0, 0.0)
            dx, dy = EDGE_PX * pixel_w, EDGE_PX * pixel_h
            self._rect = self._bounds.adjusted(-dx, -dy, dx, dy) if len(self._x) else QRectF()
        return self._rect

    def paint(self, painter: QPainter, *args: Any) -> None:
        if not len(self._x):
            return
        painter.setPen(self.opts["pen"])
        if len(self._x) > 1:
            painter.drawLines(*self._segments.drawargs())
        elif self._marker_pen is None:  # a line of one point (a run's first step) shows as a dot
            dot = QPen(self.opts["pen"].color(), MARKER_PX)
            dot.setCosmetic(True)
            dot.setCapStyle(Qt.PenCapStyle.RoundCap)
            painter.setPen(dot)
            painter.drawPoint(QPointF(float(self._x[0]), float(self._y[0])))
        if self._marker_pen is not None:
            smooth = painter.testRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)  # round marks, not octagons
            painter.setPen(self._marker_pen)
            painter.drawPoints(self._points)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, smooth)
