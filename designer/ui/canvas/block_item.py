"""A block on the canvas: name, type, key parameters and output shape, with its ports.

The item draws what the scene tells it (from the model) and nothing else. Its
texts are laid out once per change into ``QStaticText`` and the item is cached
as a pixmap, so repainting a large graph stays cheap. The item's position is
the block's centre, as the model's layout gives it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen, QStaticText
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from designer.graph.graph import Node
from designer.graph.inference import ERROR, OK, UNKNOWN, NodeResult
from designer.ui import theme
from designer.ui.canvas.port_item import INPUT, OUTPUT, PortItem

if TYPE_CHECKING:
    from designer.ui.canvas.edge_item import EdgeItem

WIDTH = 150.0
PAD = 10.0
HEADER = 22.0
LINE = 16.0
PORT_GAP = 16.0
RADIUS = 6.0

NAME_FONT = theme.canvas_font(9.0, bold=True)
TYPE_FONT = theme.canvas_font(7.5)
LABEL_FONT = theme.canvas_font(8.0)
SHAPE_FONT = theme.canvas_font(8.5, bold=True)
ERROR_FONT = theme.canvas_font(7.5)


class _Text:
    """One line of text laid out once: where, in which font and colour."""

    __slots__ = ("colour", "font", "origin", "static")

    def __init__(self, text: str, font: QFont, colour: QColor, origin: QPointF) -> None:
        self.static = QStaticText(text)
        self.static.setTextFormat(Qt.TextFormat.PlainText)
        self.static.prepare(font=font)
        self.font, self.colour, self.origin = font, colour, origin

    def draw(self, painter: QPainter) -> None:
        painter.setFont(self.font)
        painter.setPen(self.colour)
        painter.drawStaticText(self.origin, self.static)


def _elide(text: str, font: QFont, width: float) -> str:
    return QFontMetricsF(font).elidedText(text, Qt.TextElideMode.ElideRight, width)


class BlockItem(QGraphicsItem):
    """One node of the graph; the scene maps it to the node's name."""

    def __init__(self, node: Node, result: NodeResult | None) -> None:
        super().__init__()
        self.name = node.name
        self.block_type = node.type
        self.category = node.spec.category
        self.colour = theme.category_colour(self.category)
        self.label = node.label
        self.max_inputs = node.spec.max_inputs
        self.status = UNKNOWN
        self.shape_text = ""
        self.error = ""
        self.formula = ""
        self.edges: set[EdgeItem] = set()
        self.output_port = PortItem(self, OUTPUT)
        self.input_ports: dict[int, PortItem] = {}
        self._rect = QRectF()
        self._texts: list[_Text] = []
        flags = QGraphicsItem.GraphicsItemFlag
        self.setFlags(flags.ItemIsSelectable | flags.ItemIsMovable | flags.ItemSendsGeometryChanges)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setAcceptHoverEvents(True)
        self.setZValue(1)
        self.set_input_ports(())
        self.set_result(result)
        self.setPos(*node.position)

    # -- what the scene tells it --------------------------------------------------

    def set_name(self, name: str) -> None:
        self.name = name
        self._relayout()

    def set_label(self, label: str) -> None:
        if label != self.label:
            self.label = label
            self._relayout()

    def set_result(self, result: NodeResult | None) -> None:
        if result is None:  # not inferred yet (bulk edits infer once at the end)
            self.status, self.shape_text, self.error, self.formula = UNKNOWN, "…", "", ""
        else:
            self.status, self.shape_text = result.status, result.shape_text
            self.error = result.error or ""
            self.formula = result.formula if result.status == OK else ""
        self._relayout()

    def set_input_ports(self, connected: Iterable[int]) -> None:
        """One port per connected input, plus a free one where another input fits."""
        taken = sorted(set(connected))
        indices = list(taken)
        if self.max_inputs == 1:
            indices = [0]
        elif self.max_inputs is None or len(taken) < self.max_inputs:
            indices.append(next(i for i in range(len(taken) + 1) if i not in taken))
            indices.sort()
        for index in list(self.input_ports):
            if index not in indices:
                port = self.input_ports.pop(index)
                port.setParentItem(None)  # type: ignore[arg-type]  # None detaches
                if port.scene() is not None:
                    port.scene().removeItem(port)
        for index in indices:
            if index not in self.input_ports:
                self.input_ports[index] = PortItem(self, INPUT, index)
            self.input_ports[index].set_connected(index in taken)
        self._relayout()

    def input_port(self, index: int) -> PortItem | None:
        return self.input_ports.get(index)

    # -- layout and painting ------------------------------------------------------

    def _relayout(self) -> None:
        height = HEADER + 2 * LINE + PAD + (LINE if self._shows_error else 0)
        height = max(height, len(self.input_ports) * PORT_GAP + PAD)
        rect = QRectF(-WIDTH / 2, -height / 2, WIDTH, height)
        if rect != self._rect:
            self.prepareGeometryChange()
            self._rect = rect
        self._texts = self._lay_out_texts(rect)
        self.output_port.setPos(rect.right(), 0)
        ports = sorted(self.input_ports.items())
        top = -(len(ports) - 1) * PORT_GAP / 2
        for i, (_, port) in enumerate(ports):
            port.setPos(rect.left(), top + i * PORT_GAP)
        self.setToolTip(self._tooltip())
        self.update()
        for edge in self.edges:
            edge.update_path()

    @property
    def _shows_error(self) -> bool:
        # Downstream of an error the block only says "unknown"; the reason is upstream.
        return self.status == ERROR and bool(self.error)

    def _lay_out_texts(self, rect: QRectF) -> list[_Text]:
        """Name; type and key parameters; output shape; the error, if any."""
        inner, left = WIDTH - 2 * PAD, rect.left() + PAD
        muted = self.status == UNKNOWN
        name = QFontMetricsF(NAME_FONT).elidedText(self.name, Qt.TextElideMode.ElideMiddle, inner)
        texts = [_Text(name, NAME_FONT, theme.BLOCK_TEXT, QPointF(left, rect.top() + 4))]
        y = rect.top() + HEADER + 2
        label_width = min(QFontMetricsF(LABEL_FONT).horizontalAdvance(self.label), inner - 36)
        type_width = inner - label_width - (6 if self.label else 0)
        texts.append(_Text(_elide(self.block_type, TYPE_FONT, type_width), TYPE_FONT, theme.BLOCK_MUTED,
                           QPointF(left, y + 1)))
        if self.label:
            colour = theme.UNKNOWN if muted else theme.BLOCK_TEXT
            texts.append(_Text(_elide(self.label, LABEL_FONT, label_width), LABEL_FONT, colour,
                               QPointF(rect.right() - PAD - label_width, y)))
        y += LINE
        shape_colour = {ERROR: theme.ERROR, UNKNOWN: theme.UNKNOWN}.get(self.status, theme.BLOCK_TEXT)
        texts.append(_Text("→ " + self.shape_text, SHAPE_FONT, shape_colour, QPointF(left, y)))
        if self._shows_error:
            texts.append(_Text(_elide(self.error, ERROR_FONT, inner), ERROR_FONT, theme.ERROR,
                               QPointF(left, y + LINE + 1)))
        return texts

    def _tooltip(self) -> str:
        lines = [f"{self.name} ({self.block_type}) → {self.shape_text}"]
        if self.formula:
            lines.append(self.formula)
        if self.error:
            lines.append(self.error)
        return "\n".join(lines)

    @property
    def texts(self) -> list[str]:
        """The lines of text the block shows, top to bottom (for tests and accessibility)."""
        return [t.static.text() for t in self._texts]

    def boundingRect(self) -> QRectF:
        return self._rect.adjusted(-2, -2, 2, 2)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRoundedRect(self._rect, RADIUS, RADIUS)
        return path

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = self._rect
        error = self.status == ERROR
        if self.isSelected():
            pen = QPen(theme.SELECTION, 2.2)
        else:
            pen = QPen(theme.ERROR if error else theme.BLOCK_BORDER, 1.6 if error else 1.0)
        painter.setPen(pen)
        painter.setBrush(theme.ERROR_FILL if error else theme.BLOCK_FILL)
        painter.drawRoundedRect(rect, RADIUS, RADIUS)
        header = QPainterPath()
        header.addRoundedRect(rect.adjusted(1, 1, -1, 0).intersected(
            QRectF(rect.left(), rect.top(), rect.width(), HEADER)), RADIUS - 1, RADIUS - 1)
        tint = QColor(self.colour)
        tint.setAlpha(40)
        painter.fillPath(header, tint)
        painter.fillRect(QRectF(rect.left() + RADIUS, rect.top() + 0.5, rect.width() - 2 * RADIUS, 3),
                         self.colour)
        for text in self._texts:
            text.draw(painter)

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value: Any) -> Any:
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged:
            for edge in self.edges:
                edge.update_path()
        return super().itemChange(change, value)
