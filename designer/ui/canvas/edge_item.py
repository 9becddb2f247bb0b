"""A connection on the canvas: a curve from an output port to an input port, with the tensor
shape that flows along it.

The shape is written once per output, on a tag just right of the output port
where the block's edges leave it (every edge of one output carries the same
tensor), so it can never sit under the next block: the layout leaves the tag
room there, and a tag that would touch a block the user moved close is not
drawn. Hovering an edge tells its shape, the formula that produced it, and its
two ends.

An edge running back to the left (a long chain wrapped into bands) is routed
around the blocks, along the free lane between the source's band and the
target's.

Like a block, an edge is cached as a pixmap in device coordinates and keeps its
bounding rectangle in Qt (the rectangle is the path of a ``QGraphicsPathItem``
without a pen; the curve itself is kept apart), so repainting a large graph
calls no Python per edge. Zoomed far out the tag, unreadable there, is left out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QPainter, QPainterPath, QPainterPathStroker, QPen, QStaticText
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsSceneHoverEvent,
    QStyleOptionGraphicsItem,
    QWidget,
)

from designer.graph.graph import Edge
from designer.graph.inference import OK, NodeResult
from designer.ui import theme
from designer.ui.canvas.port_item import PortItem
from designer.ui.fonts import CanvasMetrics, canvas_font
from designer.ui.theme import theme_of

if TYPE_CHECKING:
    from designer.ui.canvas.block_item import BlockItem
    from designer.ui.canvas.group_item import GroupItem

LABEL_FONT = canvas_font(10)
LABEL_METRICS = CanvasMetrics(LABEL_FONT)
LABEL_MIN_SCALE = 0.5  # zoomed out further, the tag would be under 5 pixels high: not drawn
LABEL_OFFSET = PortItem.RADIUS + 4  # from the output port's centre to the tag
LABEL_PAD = 4.0  # inside the tag, left and right of the text
LANE_CLEARANCE = 14.0  # how far a routed edge keeps from the blocks it passes
MIN_REACH = 40.0
CROSS_SAMPLES = 16  # points along a curve checked against the blocks it passes
LANE_SEARCH = 400.0  # how far above and below its ends an edge looks for a free lane


def label_room(text: str) -> float:
    """How far right of a block's body the tag of ``text`` reaches, with a margin before the next block."""
    return LABEL_OFFSET - PortItem.RADIUS + LABEL_METRICS.width(text) + 2 * LABEL_PAD + 14


def curve(start: QPointF, end: QPointF) -> QPainterPath:
    """A left-to-right S curve; it bends further when the target lies behind the source."""
    reach = max(abs(end.x() - start.x()) / 2, MIN_REACH)
    path = QPainterPath(start)
    path.cubicTo(QPointF(start.x() + reach, start.y()), QPointF(end.x() - reach, end.y()), end)
    return path


def routed(start: QPointF, end: QPointF, lane: float) -> QPainterPath:
    """Out of ``start`` to the right, along the horizontal ``lane``, into ``end`` from its left: the way
    round the blocks for an edge whose target lies left of its source, or whose curve would cross a block."""
    x1, x2 = start.x() + MIN_REACH / 2, end.x() - MIN_REACH / 2
    ahead = 1.0 if x2 >= x1 else -1.0
    radius = min(12.0, abs(lane - start.y()) / 2, abs(end.y() - lane) / 2, abs(x1 - x2) / 2)
    down1 = 1.0 if lane >= start.y() else -1.0
    down2 = 1.0 if end.y() >= lane else -1.0
    path = QPainterPath(start)
    path.lineTo(x1 - radius, start.y())
    path.quadTo(QPointF(x1, start.y()), QPointF(x1, start.y() + radius * down1))
    path.lineTo(x1, lane - radius * down1)
    path.quadTo(QPointF(x1, lane), QPointF(x1 + radius * ahead, lane))
    path.lineTo(x2 - radius * ahead, lane)
    path.quadTo(QPointF(x2, lane), QPointF(x2, lane + radius * down2))
    path.lineTo(x2, end.y() - radius * down2)
    path.quadTo(QPointF(x2, end.y()), QPointF(x2 + radius, end.y()))
    path.lineTo(end)
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
        self._result: NodeResult | None = None
        self.leads = True  # whether this edge draws its output's tag (the scene picks one per output)
        self.source_box: GroupItem | None = None  # set by the scene while a group is collapsed
        self.target_box: GroupItem | None = None
        self._path = QPainterPath()
        self._start = QPointF()
        self._label_rect = QRectF()
        self._bounds = QRectF()
        self._label_drawn = False  # whether the cached picture shows the tag (see _place_label)
        self._tag_place: tuple[float, float, float, bool] | None = None  # what the tag's place was found for
        self._hovered = False
        self._static = QStaticText()
        self._static.setTextFormat(Qt.TextFormat.PlainText)
        self.setPen(Qt.PenStyle.NoPen)  # path() is only the bounds, see update_path
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setAcceptHoverEvents(True)
        self.setZValue(0)
        source.edges.add(self)
        target.edges.add(self)
        self.update_path()

    def detach(self) -> None:
        """Forget the blocks, which no longer move this edge."""
        self.source.edges.discard(self)
        self.target.edges.discard(self)

    def set_label(self, text: str, known: bool = True, result: NodeResult | None = None) -> None:
        """Show shape ``text`` (``known`` or not), which ``result`` (the source's) explains."""
        self._result = result
        if (text, known) != (self.label, self.label_known):
            self.label, self.label_known = text, known
            self._static.setText(text)  # laid out when first drawn
            self._place_label(moved=False)
        if self._hovered:
            self.setToolTip(self.tooltip_text())

    def set_leads(self, leads: bool) -> None:
        if leads != self.leads:
            self.leads = leads
            self._place_label(moved=True)

    def path_point(self, fraction: float) -> QPointF:
        """The point ``fraction`` of the way along the curve, in scene coordinates."""
        return self._path.pointAtPercent(fraction)

    def label_rect(self) -> QRectF:
        """Where the tag is drawn, in scene coordinates; empty when it is not."""
        return QRectF(self._label_rect)

    @property
    def formula(self) -> str:
        """How the source computed the shape, with its numbers (empty when it did not)."""
        result = self._result
        return result.formula if result is not None and result.status == OK else ""

    @property
    def routed(self) -> bool:
        """Whether the edge goes round the blocks (its target lies left of its source)."""
        start, end = self.endpoints()
        return end.x() - start.x() < MIN_REACH and abs(end.y() - start.y()) > 2 * LANE_CLEARANCE

    def tooltip_text(self) -> str:
        """The shape, the formula that produced it, and the two ends."""
        lines = [f"Shape: {self.label}" if self.label_known else "Shape: unknown (see the blocks above)"]
        if self.formula:
            lines.append(self.formula)
        end = self.edge.target
        if self.target.max_inputs != 1:
            end += f" (input {self.edge.port})"
        lines.append(f"{self.edge.source} → {end}")
        return "\n".join(lines)

    def hoverEnterEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        self._hovered = True
        self.setToolTip(self.tooltip_text())  # written when asked for, not on every edit
        super().hoverEnterEvent(event)

    def hoverLeaveEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        self._hovered = False
        super().hoverLeaveEvent(event)

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
        path = curve(start, end)
        if self.routed or self._crosses_a_block(path):
            path = routed(start, end, self._lane(start, end))
        self._path = path
        self._start = start
        self._place_label(moved=True)

    def _blocks_near(self, rect: QRectF) -> list[QRectF]:
        """The bodies of the shown blocks in ``rect``, besides this edge's own two."""
        from designer.ui.canvas.block_item import BlockItem  # a module that imports this one

        scene = self.scene()
        if scene is None:
            return []
        return [item.body_rect() for item in scene.items(rect, Qt.ItemSelectionMode.IntersectsItemBoundingRect)
                if isinstance(item, BlockItem) and item.isVisible() and item is not self.source
                and item is not self.target]

    def _crosses_a_block(self, path: QPainterPath) -> bool:
        bodies = self._blocks_near(path.controlPointRect().adjusted(-1, -2, 1, 2))  # a flat curve's is empty
        if not bodies:
            return False
        points = [path.pointAtPercent(i / CROSS_SAMPLES) for i in range(1, CROSS_SAMPLES)]
        return any(body.contains(point) for body in bodies for point in points)

    def _lane(self, start: QPointF, end: QPointF) -> float:
        """The height nearest the middle of the two ends where no block lies across the way."""
        top, bottom = min(start.y(), end.y()), max(start.y(), end.y())
        middle = (top + bottom) / 2
        low, high = top - LANE_SEARCH, bottom + LANE_SEARCH
        left, right = min(start.x(), end.x()) - MIN_REACH, max(start.x(), end.x()) + MIN_REACH
        taken = sorted((r.top() - LANE_CLEARANCE, r.bottom() + LANE_CLEARANCE)
                       for r in self._blocks_near(QRectF(QPointF(left, low), QPointF(right, high))))
        free, reach = [], low
        for block_top, block_bottom in taken:
            if block_top > reach:
                free.append((reach, block_top))
            reach = max(reach, block_bottom)
        free.append((reach, high))
        return min((min(max(middle, a), b) for a, b in free if b > a), key=lambda y: abs(y - middle),
                   default=middle)

    def _place_label(self, moved: bool) -> None:
        """Put the tag right of the output port unless it would touch a block; tell Qt the item's
        bounds, and what to repaint."""
        wanted = bool(self.label) and self.leads and self.source_box is None
        width = LABEL_METRICS.width(self.label) + 2 * LABEL_PAD if wanted else 0.0
        place = self._start.x(), self._start.y(), width, wanted
        if not moved and place == self._tag_place:  # a new shape of the same width keeps the tag's place
            if self._label_drawn:
                self._label_drawn = False
                self.update(self._label_rect.adjusted(-1, -1, 1, 1))  # the rest of the cached picture stands
            return
        self._tag_place = place
        self._label_rect = QRectF()
        if wanted:
            height = LABEL_METRICS.height() + 2
            rect = QRectF(self._start.x() + LABEL_OFFSET, self._start.y() - height / 2, width, height)
            if not any(rect.intersects(edge.target.body_rect()) for edge in self.source.edges
                       if edge.source is self.source):
                self._label_rect = rect
        bounds = self._path.controlPointRect().united(self._label_rect).adjusted(-6, -6, 6, 6)
        if bounds != self._bounds:
            self._bounds = bounds
            path = QPainterPath()
            path.addRect(bounds)
            self.setPath(path)  # Qt's boundingRect() is now this rectangle
            moved = True
        if moved or self._label_drawn:
            # The cached picture is out of date. (Drawn zoomed far out, it has no tag
            # and stays right when only the tag's text changed.)
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
        self._label_drawn = (not self._label_rect.isEmpty()
                             and option.levelOfDetailFromTransform(painter.worldTransform()) >= LABEL_MIN_SCALE)
        if self._label_drawn:
            painter.setPen(QPen(colours.edge, 1.0))
            painter.setBrush(colours.edge_label_fill)
            painter.drawRoundedRect(self._label_rect, 3, 3)
            painter.setFont(LABEL_FONT)
            painter.setPen(colours.block_muted if self.label_known else colours.unknown)
            painter.drawStaticText(self._label_rect.topLeft() + QPointF(LABEL_PAD, 1), self._static)


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
