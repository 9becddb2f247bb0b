"""A block on the canvas: name, type, key parameters and output shape, with its ports.

The item draws what the scene tells it (from the model) and nothing else, in
the colours of its scene's theme. Repainting a large graph stays cheap: texts
are laid out once per change into ``QStaticText``; the item, with its ports,
is cached as a pixmap in device coordinates (redrawn only when it changes or
the zoom does); its bounding rectangle is Qt's own (a ``QGraphicsRectItem``),
so a repaint calls no Python per block; and zoomed far out, where text would be
a few pixels high, the block is drawn without it. The item's position is the
block's centre, as the model's layout gives it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen, QStaticText
from PySide6.QtWidgets import QGraphicsItem, QGraphicsRectItem, QStyleOptionGraphicsItem, QWidget

from designer.graph.graph import Node
from designer.graph.inference import ERROR, OK, UNKNOWN, NodeResult
from designer.ui import theme
from designer.ui.canvas.port_item import INPUT, OUTPUT, PortItem
from designer.ui.theme import Theme, theme_of

if TYPE_CHECKING:
    from designer.ui.canvas.edge_item import EdgeItem
    from designer.ui.canvas.group_item import GroupItem

WIDTH = 150.0
PAD = 10.0
HEADER = 22.0
LINE = 16.0
PORT_GAP = 16.0
RADIUS = 6.0
PORT_REACH = 8.0  # how far the ports' circles stick out at the sides
TEXT_MIN_SCALE = 0.4  # zoomed out further, texts (3-4 px high) and ports (4 px) are not drawn

NAME_FONT = theme.canvas_font(9.0, bold=True)
TYPE_FONT = theme.canvas_font(7.5)
LABEL_FONT = theme.canvas_font(8.0)
SHAPE_FONT = theme.canvas_font(8.5, bold=True)
ERROR_FONT = theme.canvas_font(7.5)
LABEL_METRICS = theme.TextMetrics(LABEL_FONT)


_METRICS: dict[int, QFontMetricsF] = {}
ELIDE_RIGHT, ELIDE_MIDDLE = Qt.TextElideMode.ElideRight, Qt.TextElideMode.ElideMiddle


def _metrics(font: QFont) -> QFontMetricsF:
    """The metrics of one of this module's fonts, made once (they are asked for on every layout)."""
    metrics = _METRICS.get(id(font))
    if metrics is None:
        metrics = _METRICS[id(font)] = QFontMetricsF(font)
    return metrics


class _Text:
    """One line of text: what it says (elided to ``width``, if given), where, in which font and
    in which of the theme's colours.

    It is elided and laid out (``QStaticText``) when first drawn or read, so an
    edit that changes the shapes of a thousand blocks costs little for the
    blocks that are off screen or too small to show text.
    """

    __slots__ = ("_static", "content", "font", "mode", "origin", "role", "width")

    def __init__(self, content: str, font: QFont, role: str, origin: QPointF, width: float | None = None,
                 mode: Qt.TextElideMode = ELIDE_RIGHT) -> None:
        self.content, self.font, self.role, self.origin = content, font, role, origin
        self.width, self.mode = width, mode
        self._static: QStaticText | None = None

    @property
    def static(self) -> QStaticText:
        if self._static is None:
            text = self.content
            if self.width is not None:
                text = _metrics(self.font).elidedText(text, self.mode, self.width)
            self._static = QStaticText(text)
            self._static.setTextFormat(Qt.TextFormat.PlainText)
            self._static.prepare(font=self.font)
        return self._static

    def draw(self, painter: QPainter, colours: Theme) -> None:
        painter.setFont(self.font)
        painter.setPen(getattr(colours, self.role))
        painter.drawStaticText(self.origin, self.static)


class BlockItem(QGraphicsRectItem):
    """One node of the graph; the scene maps it to the node's name."""

    def __init__(self, node: Node, result: NodeResult | None) -> None:
        super().__init__()
        self.name = node.name
        self.block_type = node.type
        self.category = node.spec.category
        self.label = node.label
        self.max_inputs = node.spec.max_inputs
        self.status = UNKNOWN
        self.shape_text = ""
        self.error = ""
        self.formula = ""
        self.edges: set[EdgeItem] = set()
        self.group_item: GroupItem | None = None  # the group it is in (set by the scene)
        self.output_port = PortItem(self, OUTPUT)
        self.input_ports: dict[int, PortItem] = {}
        self._rect = QRectF()  # the block's body; the item's rect() also holds the ports
        self._header = QPainterPath()
        self._texts: list[_Text] = []
        self._laid_out: dict[tuple[object, ...], _Text] = {}  # to reuse the texts that did not change
        self._texts_drawn = False  # whether the cached picture shows texts and ports (see _relayout)
        self._framed = False
        self._port_layout: tuple[float, tuple[int, ...]] | None = None
        self._tip = ""
        self._building = True  # lay out once, at the end of __init__
        self.setPen(Qt.PenStyle.NoPen)  # so that boundingRect() is rect(), computed by Qt
        flags = QGraphicsItem.GraphicsItemFlag
        self.setFlags(flags.ItemIsSelectable | flags.ItemIsMovable | flags.ItemSendsGeometryChanges)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setAcceptHoverEvents(True)
        self.setZValue(1)
        self.set_input_ports(())
        self.set_result(result)
        self._building = False
        self._relayout()
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
            shown = UNKNOWN, "…", "", ""
        else:
            formula = result.formula if result.status == OK else ""
            shown = result.status, result.shape_text, result.error or "", formula
        if shown != (self.status, self.shape_text, self.error, self.formula):
            self.status, self.shape_text, self.error, self.formula = shown
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
        if self._building:
            return
        height = HEADER + 2 * LINE + PAD + (LINE if self._shows_error else 0)
        height = max(height, len(self.input_ports) * PORT_GAP + PAD)
        rect = QRectF(-WIDTH / 2, -height / 2, WIDTH, height)
        resized = rect != self._rect
        if resized:
            self._rect = rect
            self.setRect(rect.adjusted(-PORT_REACH, -2, PORT_REACH, 2))  # tells Qt the geometry changes
            self._header = QPainterPath()
            self._header.addRoundedRect(rect.adjusted(1, 1, -1, 0).intersected(
                QRectF(rect.left(), rect.top(), rect.width(), HEADER)), RADIUS - 1, RADIUS - 1)
        self._texts = self._lay_out_texts(rect)
        tip = self._tooltip()
        if tip != self._tip:
            self._tip = tip
            self.setToolTip(tip)
        framed = self.status == ERROR  # what the picture shows besides texts and ports: the error frame
        if resized or framed != self._framed or self._texts_drawn:
            # The cached picture is out of date. (Drawn zoomed far out, it has no texts
            # and is still right when only texts changed: a thousand blocks' new shapes
            # then cost no redrawing at all.)
            self._framed, self._texts_drawn = framed, False
            self.update()
        ports = sorted(self.input_ports.items())
        if (height, tuple(i for i, _ in ports)) != self._port_layout:
            # The ports moved, so the edges' ends did; otherwise they stay as they are.
            self._port_layout = height, tuple(i for i, _ in ports)
            self.output_port.setPos(rect.right(), 0)
            top = -(len(ports) - 1) * PORT_GAP / 2
            for i, (_, port) in enumerate(ports):
                port.setPos(rect.left(), top + i * PORT_GAP)
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
        reuse, self._laid_out = self._laid_out, {}

        def text(content: str, font: QFont, role: str, x: float, y: float, width: float | None = None,
                 mode: Qt.TextElideMode = ELIDE_RIGHT) -> _Text:
            key = content, id(font), x, y, width, mode
            laid = reuse.get(key) or _Text(content, font, role, QPointF(x, y), width, mode)
            laid.role = role
            self._laid_out[key] = laid
            return laid

        texts = [text(self.name, NAME_FONT, "block_text", left, rect.top() + 4, inner, ELIDE_MIDDLE)]
        y = rect.top() + HEADER + 2
        label_width = min(LABEL_METRICS.width(self.label), inner - 36) if self.label else 0
        type_width = inner - label_width - (6 if self.label else 0)
        texts.append(text(self.block_type, TYPE_FONT, "block_muted", left, y + 1, type_width))
        if self.label:
            texts.append(text(self.label, LABEL_FONT, "unknown" if muted else "block_text",
                              rect.right() - PAD - label_width, y, label_width))
        y += LINE
        shape_role = {ERROR: "error", UNKNOWN: "unknown"}.get(self.status, "block_text")
        texts.append(text("→ " + self.shape_text, SHAPE_FONT, shape_role, left, y))
        if self._shows_error:
            texts.append(text(self.error, ERROR_FONT, "error", left, y + LINE + 1, inner))
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

    @property
    def colour(self) -> QColor:
        """The block's category colour in its theme."""
        return theme_of(self).category_colour(self.category)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRoundedRect(self._rect, RADIUS, RADIUS)
        return path

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        colours = theme_of(self)
        colour = colours.category_colour(self.category)
        rect = self._rect
        error = self.status == ERROR
        fill = colours.error_fill if error else colours.block_fill
        if option.levelOfDetailFromTransform(painter.worldTransform()) < TEXT_MIN_SCALE:
            self._paint_overview(painter, colours, colour, fill)
            return
        self._texts_drawn = True
        if self.isSelected():
            pen = QPen(colours.selection, 2.2)
        else:
            pen = QPen(colours.error if error else colours.block_border, 1.6 if error else 1.0)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(pen)
        painter.setBrush(fill)
        painter.drawRoundedRect(rect, RADIUS, RADIUS)
        tint = QColor(colour)
        tint.setAlpha(colours.header_alpha)
        painter.fillPath(self._header, tint)
        painter.fillRect(QRectF(rect.left() + RADIUS, rect.top() + 0.5, rect.width() - 2 * RADIUS, 3), colour)
        for text in self._texts:
            text.draw(painter, colours)
        for port in (self.output_port, *self.input_ports.values()):
            port.draw(painter, colours, colour)

    def _paint_overview(self, painter: QPainter, colours: Theme, colour: QColor, fill: QColor) -> None:
        """Zoomed far out, where texts and ports would be a few pixels across: a box with its header
        in the category's colour, outlined in whole pixels (a selected one two pixels wide)."""
        selected = self.isSelected()
        if selected or self.status == ERROR:
            pen = QPen(colours.selection if selected else colours.error, 2 if selected else 1)
        else:
            pen = QPen(colours.block_border, 1)
        pen.setCosmetic(True)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        painter.setPen(pen)
        painter.setBrush(fill)
        painter.drawRect(self._rect)
        rect = self._rect
        painter.fillRect(QRectF(rect.left(), rect.top(), rect.width(), HEADER), colour)

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value: Any) -> Any:
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged:
            for edge in self.edges:
                edge.update_path()
            if self.group_item is not None and not self.group_item.collapsed:
                self.group_item.follow_members()  # the frame keeps around its blocks while one is dragged
        return super().itemChange(change, value)
