"""A connection on the canvas: a cubic curve from an output port to an input port,
labelled with the tensor shape that flows along it.

Like a block, an edge is cached as a pixmap in device coordinates and keeps its
bounding rectangle in Qt (the rectangle is the path of a ``QGraphicsPathItem``
without a pen; the curve itself is kept apart), so repainting a large graph
calls no Python per edge. Zoomed far out the label, unreadable there, is left out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QPainter,
    QPainterPath,
    QPainterPathStroker,
    QPen,
    QStaticText,
)
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QStyleOptionGraphicsItem, QWidget

from designer.graph.graph import Edge
from designer.ui import theme
from designer.ui.theme import theme_of

if TYPE_CHECKING:
    from designer.ui.canvas.block_item import BlockItem
    from designer.ui.canvas.group_item import GroupItem

LABEL_FONT = theme.canvas_font(7.5)
LABEL_MIN_SCALE = 0.5  # zoomed out further, the label would be under 5 pixels high: not drawn
LABEL_METRICS = theme.TextMetrics(LABEL_FONT)


def curve(start: QPointF, end: QPointF) -> QPainterPath:
    """A left-to-right S curve; it bends further when the target lies behind the source."""
    reach = max(abs(end.x() - start.x()) / 2, 40.0)
    path = QPainterPath(start)
    path.cubicTo(QPointF(start.x() + reach, start.y()), QPointF(end.x() - reach, end.y()), end)
    return path


class EdgeItem(QGraphicsPathItem):
    """The edge ``edge`` between two block items; it follows them as they move."""

    def __init__(self, edge: Edge, source: BlockItem, target: BlockItem) -> None:
        super().__init__()
        self.edge = edge
        self.source = source
        self.target = target
        self.label = ""
        self.label_known = True
        self.source_box: GroupItem | None = None  # set by the scene while a group is collapsed
        self.target_box: GroupItem | None = None
        self._path = QPainterPath()
        self._middle = QPointF()
        self._label_rect = QRectF()
        self._bounds = QRectF()
        self._label_drawn = False  # whether the cached picture shows the label (see _place_label)
        self._static = QStaticText()
        self._static.setTextFormat(Qt.TextFormat.PlainText)
        self.setPen(Qt.PenStyle.NoPen)  # path() is only the bounds, see update_path
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setZValue(0)
        source.edges.add(self)
        target.edges.add(self)
        self.update_path()

    def detach(self) -> None:
        """Forget the blocks, which no longer move this edge."""
        self.source.edges.discard(self)
        self.target.edges.discard(self)

    def set_label(self, text: str, known: bool = True) -> None:
        if (text, known) != (self.label, self.label_known):
            self.label, self.label_known = text, known
            self._static.setText(text)  # laid out when first drawn
            self._place_label(moved=False)

    def endpoints(self) -> tuple[QPointF, QPointF]:
        if self.source_box is not None:  # the source is hidden in a collapsed group
            start = self.source_box.output_anchor()
        else:
            start = self.source.output_port.scenePos()
        if self.target_box is not None:
            return start, self.target_box.input_anchor()
        port = self.target.input_port(self.edge.port)
        end = port.scenePos() if port is not None else self.target.scenePos()
        return start, end

    def update_path(self) -> None:
        start, end = self.endpoints()
        self._path = curve(start, end)
        self._middle = self._path.pointAtPercent(0.5)
        self._place_label(moved=True)

    def _place_label(self, moved: bool) -> None:
        """Put the label over the middle of the curve; tell Qt the item's bounds, and what to repaint."""
        if self.label:
            width, height = LABEL_METRICS.width(self.label) + 8, LABEL_METRICS.metrics.height() + 2
            middle = self._middle
            self._label_rect = QRectF(middle.x() - width / 2, middle.y() - height - 6, width, height)
        else:
            self._label_rect = QRectF()
        bounds = self._path.controlPointRect().united(self._label_rect).adjusted(-6, -6, 6, 6)
        if bounds != self._bounds:
            self._bounds = bounds
            path = QPainterPath()
            path.addRect(bounds)
            self.setPath(path)  # Qt's boundingRect() is now this rectangle
            moved = True
        if moved or self._label_drawn:
            # The cached picture is out of date. (Drawn zoomed far out, it has no label
            # and stays right when only the label's text changed.)
            self._label_drawn = False
            self.update()

    def shape(self) -> QPainterPath:
        stroker = QPainterPathStroker()
        stroker.setWidth(10)
        return stroker.createStroke(self._path)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        colours = theme_of(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        selected = self.isSelected()
        painter.setPen(QPen(colours.selection if selected else colours.edge, 2.4 if selected else 1.5))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self._path)
        if self.label and option.levelOfDetailFromTransform(painter.worldTransform()) >= LABEL_MIN_SCALE:
            self._label_drawn = True
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colours.edge_label_fill)
            painter.drawRoundedRect(self._label_rect, 3, 3)
            painter.setFont(LABEL_FONT)
            painter.setPen(colours.block_muted if self.label_known else colours.unknown)
            painter.drawStaticText(self._label_rect.topLeft() + QPointF(4, 1), self._static)


class DraftEdge(QGraphicsPathItem):
    """The dashed curve that follows the cursor while a connection is being drawn."""

    def __init__(self, start: QPointF) -> None:
        super().__init__()
        self.start = start
        pen = QPen(theme.current().selection, 1.6, Qt.PenStyle.DashLine)
        self.setPen(pen)
        self.setBrush(QBrush(Qt.BrushStyle.NoBrush))
        self.setZValue(3)
        self.set_end(start)

    def set_end(self, end: QPointF) -> None:
        self.setPath(curve(self.start, end))
