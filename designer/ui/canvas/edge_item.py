"""A connection on the canvas: a cubic curve from an output port to an input port,
labelled with the tensor shape that flows along it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QFontMetricsF,
    QPainter,
    QPainterPath,
    QPainterPathStroker,
    QPen,
    QStaticText,
)
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QStyleOptionGraphicsItem, QWidget

from designer.graph.graph import Edge
from designer.ui import theme

if TYPE_CHECKING:
    from designer.ui.canvas.block_item import BlockItem
    from designer.ui.canvas.group_item import GroupItem

LABEL_FONT = theme.canvas_font(7.5)


def curve(start: QPointF, end: QPointF) -> QPainterPath:
    """A left-to-right S curve; it bends further when the target lies behind the source."""
    reach = max(abs(end.x() - start.x()) / 2, 40.0)
    path = QPainterPath(start)
    path.cubicTo(QPointF(start.x() + reach, start.y()), QPointF(end.x() - reach, end.y()), end)
    return path


class EdgeItem(QGraphicsItem):
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
        self._label_rect = QRectF()
        self._static = QStaticText()
        self._static.setTextFormat(Qt.TextFormat.PlainText)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
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
            self._static.setText(text)
            self._static.prepare(font=LABEL_FONT)
            self.update_path()

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
        self.prepareGeometryChange()
        self._path = curve(start, end)
        if self.label:
            metrics = QFontMetricsF(LABEL_FONT)
            width, height = metrics.horizontalAdvance(self.label) + 8, metrics.height() + 2
            middle = self._path.pointAtPercent(0.5)
            self._label_rect = QRectF(middle.x() - width / 2, middle.y() - height - 6, width, height)
        else:
            self._label_rect = QRectF()
        self.update()

    def boundingRect(self) -> QRectF:
        return self._path.controlPointRect().united(self._label_rect).adjusted(-6, -6, 6, 6)

    def shape(self) -> QPainterPath:
        stroker = QPainterPathStroker()
        stroker.setWidth(10)
        return stroker.createStroke(self._path)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        selected = self.isSelected()
        painter.setPen(QPen(theme.SELECTION if selected else theme.EDGE, 2.4 if selected else 1.5))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self._path)
        if self.label:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(theme.EDGE_LABEL_FILL)
            painter.drawRoundedRect(self._label_rect, 3, 3)
            painter.setFont(LABEL_FONT)
            painter.setPen(theme.BLOCK_MUTED if self.label_known else theme.UNKNOWN)
            painter.drawStaticText(self._label_rect.topLeft() + QPointF(4, 1), self._static)


class DraftEdge(QGraphicsPathItem):
    """The dashed curve that follows the cursor while a connection is being drawn."""

    def __init__(self, start: QPointF) -> None:
        super().__init__()
        self.start = start
        pen = QPen(theme.SELECTION, 1.6, Qt.PenStyle.DashLine)
        self.setPen(pen)
        self.setBrush(QBrush(Qt.BrushStyle.NoBrush))
        self.setZValue(3)
        self.set_end(start)

    def set_end(self, end: QPointF) -> None:
        self.setPath(curve(self.start, end))
