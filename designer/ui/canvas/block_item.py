"""A block on the canvas: name, type, key parameters and output shape, with its ports.

The item draws what the scene tells it (from the model) and nothing else, in
the colours of its scene's theme. Its texts are measured in the fonts they are
drawn in (:mod:`designer.ui.fonts`), and the block grows to fit them: no text
is cut (up to ``MAX_WIDTH``, past which a name is shortened in the middle), and
none comes within reach of a port.

How much it shows depends on the zoom (the level of detail). At readable sizes:
everything, with its ports. Zoomed out, the name and output shape alone, drawn
larger so that they stay legible. Zoomed far out, the name alone.

Repainting a large graph stays cheap: the item, with its ports, is cached as a
pixmap in device coordinates and redrawn only when what that picture shows
changes; its bounding rectangle is Qt's own (a ``QGraphicsRectItem``), so a
repaint calls no Python per block; and an edit that changes the shapes of a
thousand blocks only stores them: the texts are laid out, and the tooltip
written, when first drawn or hovered. The item's position is the block's
centre, as the model's layout gives it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen, QStaticText
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsRectItem,
    QGraphicsSceneHoverEvent,
    QStyleOptionGraphicsItem,
    QWidget,
)

from designer.graph.graph import Node
from designer.graph.inference import ERROR, OK, UNKNOWN, NodeResult
from designer.ui.canvas.port_item import INPUT, OUTPUT, PortItem
from designer.ui.fonts import CanvasMetrics, canvas_font, canvas_generation
from designer.ui.theme import Theme, theme_of

if TYPE_CHECKING:
    from designer.ui.canvas.edge_item import EdgeItem
    from designer.ui.canvas.group_item import GroupItem

MIN_WIDTH, MAX_WIDTH, WIDTH_STEP = 150.0, 340.0, 10.0
WIDTH = MIN_WIDTH  # what a block with short texts measures
PAD = 10.0  # from the sides to the texts: clears a port's circle (at most 6.5 inside) with room to spare
GAP = 8.0  # between the type and the key parameters
PORT_GAP = 16.0
RADIUS = 6.0
PORT_REACH = 8.0  # how far the ports' circles stick out at the sides
FULL_MIN_SCALE = 0.55  # zoomed out further, the type (10 px) would be under 6 px: name and shape only
NAME_MIN_SCALE = 0.25  # and further still, the shape too: the name alone
LEGIBLE = 10.0  # pixels on screen that the name and shape are drawn at when zoomed out
SMALLEST = 5.0  # pixels on screen under which a text is not drawn at all

NAME_FONT = canvas_font(12, bold=True)
TYPE_FONT = canvas_font(10)
LABEL_FONT = canvas_font(11)
SHAPE_FONT = canvas_font(11, bold=True)
ERROR_FONT = canvas_font(10)
_METRICS = {id(f): CanvasMetrics(f) for f in (NAME_FONT, TYPE_FONT, LABEL_FONT, SHAPE_FONT, ERROR_FONT)}
ELIDE_RIGHT, ELIDE_MIDDLE = Qt.TextElideMode.ElideRight, Qt.TextElideMode.ElideMiddle
FULL, OVERVIEW, NAME_ONLY = "full", "overview", "name"


def metrics(font: QFont) -> CanvasMetrics:
    """The remembered metrics of one of this module's fonts."""
    return _METRICS[id(font)]


_HEIGHTS: dict[int, tuple[float, float, float]] = {}


def _heights() -> tuple[float, float, float]:
    """The header's height, the two lines' under it, and an error line's, in the canvas family now."""
    generation = canvas_generation()
    heights = _HEIGHTS.get(generation)
    if heights is None:
        lines = max(metrics(TYPE_FONT).height(), metrics(LABEL_FONT).height()) + metrics(SHAPE_FONT).height()
        heights = _HEIGHTS[generation] = (metrics(NAME_FONT).height() + 8, 3 + lines + 1,
                                          metrics(ERROR_FONT).height() + 1)
    return heights


_STYLES: dict[tuple[int, int, bool, bool], tuple[QPen, QColor]] = {}


def _overview_style(colours: Theme, colour: QColor, selected: bool, error: bool) -> tuple[QPen, QColor]:
    """The outline (in whole pixels) and the fill (tinted with the category's colour) of a block
    drawn zoomed out; made once, since a zoom step redraws a thousand of them."""
    key = id(colours), colour.rgba(), selected, error
    style = _STYLES.get(key)
    if style is None:
        pen = QPen(colours.selection if selected else colours.error if error else colours.block_border,
                   2 if selected else 1)
        pen.setCosmetic(True)
        base = colours.error_fill if error else colours.block_fill
        alpha = colours.header_alpha / 255
        fill = QColor.fromRgbF(*(b + (c - b) * alpha for b, c in zip(
            (base.redF(), base.greenF(), base.blueF()), (colour.redF(), colour.greenF(), colour.blueF()),
            strict=True)))
        style = _STYLES[key] = pen, fill
    return style


_SIZED: dict[tuple[int, int, int], QFont] = {}


def _sized(font: QFont, pixels: int) -> QFont:
    """``font`` at ``pixels`` pixels, made once per canvas family."""
    key = id(font), pixels, canvas_generation()
    sized = _SIZED.get(key)
    if sized is None:
        if len(_SIZED) > 256:
            _SIZED.clear()
        sized = _SIZED[key] = QFont(font)
        sized.setPixelSize(max(1, pixels))
    return sized


class _Text:
    """One line of text: what it says (elided to ``width``), where (its top left), in which font
    and in which of the theme's colours; laid out (``QStaticText``) when first drawn or read."""

    __slots__ = ("_static", "content", "font", "mode", "origin", "role", "width")

    def __init__(self, content: str, font: QFont, role: str, origin: QPointF, width: float,
                 mode: Qt.TextElideMode = ELIDE_RIGHT) -> None:
        self.content, self.font, self.role, self.origin = content, font, role, origin
        self.width, self.mode = width, mode
        self._static: QStaticText | None = None

    def key(self) -> tuple[object, ...]:
        """What the text looks like: two texts with one key are laid out alike."""
        return self.content, id(self.font), self.origin.x(), self.origin.y(), self.width, self.mode

    @property
    def shown(self) -> str:
        return metrics(self.font).elided(self.content, self.width, self.mode)

    @property
    def static(self) -> QStaticText:
        if self._static is None:
            self._static = QStaticText(self.shown)
            self._static.setTextFormat(Qt.TextFormat.PlainText)
            self._static.prepare(font=self.font)
        return self._static

    @property
    def rect(self) -> QRectF:
        """Where the text's letters lie, in the block's coordinates."""
        font_metrics = metrics(self.font)
        return QRectF(self.origin.x(), self.origin.y(), font_metrics.width(self.shown), font_metrics.height())

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
        self._result: NodeResult | None = None
        self.edges: set[EdgeItem] = set()
        self.group_item: GroupItem | None = None  # the group it is in (set by the scene)
        self.output_port = PortItem(self, OUTPUT)
        self.input_ports: dict[int, PortItem] = {}
        self._rect = QRectF()  # the block's body; the item's rect() also holds the ports
        self._header_height = 0.0
        self._header = QPainterPath()
        self._laid_out: list[_Text] | None = None  # None: to lay out when next needed
        self._stale: list[_Text] = []  # the texts laid out before, reused where unchanged
        self._drawn: tuple[object, ...] | None = None  # what the cached picture shows (see _content)
        self._drawn_kind = ""
        self._port_layout: tuple[float, float, tuple[int, ...]] | None = None
        self._hovered = False
        # Texts laid out zoomed out, by size:
        self._fitted: dict[tuple[object, ...], tuple[QStaticText, QFont]] = {}
        self._fixed_width: tuple[str, str, float] = ("", "", 0.0)  # name, label, and what they need
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
        # None: not inferred yet (bulk edits infer once at the end)
        shown = (UNKNOWN, "…", "") if result is None else (result.status, result.shape_text, result.error or "")
        self._result = result
        if shown != (self.status, self.shape_text, self.error):
            same_rows = shown[0] == self.status and shown[2] == self.error
            self.status, self.shape_text, self.error = shown
            if same_rows and self._width_needed() == self._rect.width():
                self._retext()  # the usual edit: a new shape that fits the block as it is
            else:
                self._relayout()
        elif self._hovered:
            self.setToolTip(self.tooltip_text())

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

    # -- layout ---------------------------------------------------------------------

    def _relayout(self) -> None:
        """Resize to the texts (measured, not laid out), move the ports, and drop what is out of date."""
        if self._building:
            return
        self._forget_texts()
        header, lines, error_line = _heights()
        height = max(header + lines + (error_line if self._shows_error else 0) + 6,
                     len(self.input_ports) * PORT_GAP + PAD)
        width = self._width_needed()
        rect = QRectF(-width / 2, -height / 2, width, height)
        resized = rect != self._rect
        if resized:
            self._rect, self._header_height = rect, header
            self.setRect(rect.adjusted(-PORT_REACH, -2, PORT_REACH, 2))  # tells Qt the geometry changes
            self._header = QPainterPath()
            self._header.addRoundedRect(rect.adjusted(1, 1, -1, 0).intersected(
                QRectF(rect.left(), rect.top(), rect.width(), header)), RADIUS - 1, RADIUS - 1)
        if resized or self._drawn != self._content(self._drawn_kind):
            self._drawn = None
            self.update()  # the cached picture is out of date; otherwise it still shows the truth
        if self._hovered:
            self.setToolTip(self.tooltip_text())
        ports = sorted(self.input_ports)
        if (width, height, tuple(ports)) != self._port_layout:
            # The ports moved, so the edges' ends did; otherwise they stay as they are.
            self._port_layout = width, height, tuple(ports)
            self.output_port.setPos(rect.right(), 0)
            top = -(len(ports) - 1) * PORT_GAP / 2
            for i, index in enumerate(ports):
                self.input_ports[index].setPos(rect.left(), top + i * PORT_GAP)
            for edge in self.edges:
                edge.update_path()

    def _retext(self) -> None:
        """Only the shape's text changed: lay the texts out again when next needed, and redraw the
        picture if it shows the shape."""
        self._forget_texts()
        if self._drawn is not None and self._drawn != self._content(self._drawn_kind):
            self._drawn = None
            self.update()
        if self._hovered:
            self.setToolTip(self.tooltip_text())

    def _content(self, kind: str) -> tuple[object, ...] | None:
        """What a picture of ``kind`` depends on besides the geometry (a shape edit need not redraw
        a block drawn as its name alone)."""
        if kind == FULL:
            return self.name, self.block_type, self.label, self.shape_text, self.status, self.error
        if kind == OVERVIEW:
            return self.name, self.shape_text, self.status
        if kind == NAME_ONLY:
            return self.name, self.status == ERROR
        return None

    @property
    def _shows_error(self) -> bool:
        # Downstream of an error the block only says "unknown"; the reason is upstream.
        return self.status == ERROR and bool(self.error)

    def _width_needed(self) -> float:
        name, label, fixed = self._fixed_width
        if (name, label) != (self.name, self.label):  # a shape edit, the usual change, keeps these
            params = metrics(TYPE_FONT).width(self.block_type)
            if self.label:
                params += GAP + metrics(LABEL_FONT).width(self.label)
            fixed = max(metrics(NAME_FONT).width(self.name), params)
            self._fixed_width = self.name, self.label, fixed
        needed = max(fixed, metrics(SHAPE_FONT).width("→ " + self.shape_text)) + 2 * PAD
        steps = -(-needed // WIDTH_STEP)  # rounded up, so that small changes keep the size
        return min(max(steps * WIDTH_STEP, MIN_WIDTH), MAX_WIDTH)

    def _forget_texts(self) -> None:
        if self._laid_out is not None:
            self._stale, self._laid_out = self._laid_out, None

    @property
    def _texts(self) -> list[_Text]:
        if self._laid_out is None:
            old = {_Text.key(t): t for t in self._stale}
            texts = []
            # A text that says the same at the same place keeps its prepared layout (a shape edit
            # changes one line of four).
            for text in self._lay_out_texts(self._rect):
                kept = old.get(_Text.key(text), text)
                kept.role = text.role
                texts.append(kept)
            self._laid_out = texts
            self._stale = []
        return self._laid_out

    def _lay_out_texts(self, rect: QRectF) -> list[_Text]:
        """Name; type and key parameters (sharing a baseline); output shape; the error, if any."""
        inner, left = rect.width() - 2 * PAD, rect.left() + PAD
        name_height = metrics(NAME_FONT).height()
        texts = [_Text(self.name, NAME_FONT, "block_text", QPointF(left, rect.top() + (self._header_height
                                                                                        - name_height) / 2),
                       inner, ELIDE_MIDDLE)]
        y = rect.top() + self._header_height + 3
        type_m, label_m = metrics(TYPE_FONT), metrics(LABEL_FONT)
        baseline = y + max(type_m.ascent(), label_m.ascent())
        type_width = type_m.width(self.block_type)
        # The parameters take what they need; past MAX_WIDTH both give up some (the type at most half).
        label_width = 0.0
        if self.label:
            label_width = min(label_m.width(self.label), max(inner - GAP - type_width, inner / 2))
        type_width = inner - (label_width + GAP if self.label else 0.0)
        texts.append(_Text(self.block_type, TYPE_FONT, "block_muted", QPointF(left, baseline - type_m.ascent()),
                           type_width))
        if self.label:
            role = "unknown" if self.status == UNKNOWN else "block_text"
            texts.append(_Text(self.label, LABEL_FONT, role,
                               QPointF(rect.right() - PAD - label_width, baseline - label_m.ascent()),
                               label_width))
        y += max(type_m.height(), label_m.height()) + 1
        shape_role = {ERROR: "error", UNKNOWN: "unknown"}.get(self.status, "block_text")
        texts.append(_Text("→ " + self.shape_text, SHAPE_FONT, shape_role, QPointF(left, y), inner))
        if self._shows_error:
            below = y + metrics(SHAPE_FONT).height() + 1
            texts.append(_Text(self.error, ERROR_FONT, "error", QPointF(left, below), inner))
        return texts

    # -- what a user reads ------------------------------------------------------------

    def tooltip_text(self) -> str:
        """What hovering the block shows: name, type, shape, and the formula or the error."""
        lines = [f"{self.name} ({self.block_type}) → {self.shape_text}"]
        result = self._result
        if result is not None and result.status == OK and result.formula:
            lines.append(result.formula)
        if self.error:
            lines.append(self.error)
        return "\n".join(lines)

    def hoverEnterEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        # Written when asked for: an edit that changes a thousand shapes need not write a thousand tips.
        self._hovered = True
        self.setToolTip(self.tooltip_text())
        super().hoverEnterEvent(event)

    def hoverLeaveEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        self._hovered = False
        super().hoverLeaveEvent(event)

    @property
    def texts(self) -> list[str]:
        """The lines of text the block shows at readable sizes, top to bottom (for tests and accessibility)."""
        return [t.static.text() for t in self._texts]

    def text_rects(self) -> list[QRectF]:
        """Where those texts lie, in scene coordinates."""
        return [self.mapRectToScene(t.rect) for t in self._texts]

    def body_rect(self) -> QRectF:
        """The block without its ports, in scene coordinates."""
        return self.mapRectToScene(self._rect)

    def port_rects(self) -> list[QRectF]:
        """The ports' circles, in scene coordinates."""
        r = PortItem.RADIUS
        return [self.mapRectToScene(QRectF(p.x() - r, p.y() - r, 2 * r, 2 * r))
                for p in (self.output_port.pos(), *(port.pos() for port in self.input_ports.values()))]

    @property
    def colour(self) -> QColor:
        """The block's category colour in its theme."""
        return theme_of(self).category_colour(self.category)

    # -- painting ------------------------------------------------------------------

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRoundedRect(self._rect, RADIUS, RADIUS)
        return path

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        colours = theme_of(self)
        colour = colours.category_colour(self.category)
        scale = option.levelOfDetailFromTransform(painter.worldTransform())
        kind = FULL if scale >= FULL_MIN_SCALE else OVERVIEW if scale >= NAME_MIN_SCALE else NAME_ONLY
        self._drawn_kind, self._drawn = kind, self._content(kind)
        if kind != FULL:
            self._paint_overview(painter, colours, colour, scale, kind == OVERVIEW)
            return
        error = self.status == ERROR
        rect = self._rect
        if self.isSelected():
            pen = QPen(colours.selection, 2.2)
        else:
            pen = QPen(colours.error if error else colours.block_border, 1.6 if error else 1.0)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(pen)
        painter.setBrush(colours.error_fill if error else colours.block_fill)
        painter.drawRoundedRect(rect, RADIUS, RADIUS)
        tint = QColor(colour)
        tint.setAlpha(colours.header_alpha)
        painter.fillPath(self._header, tint)
        painter.fillRect(QRectF(rect.left() + RADIUS, rect.top() + 0.5, rect.width() - 2 * RADIUS, 3), colour)
        for text in self._texts:
            text.draw(painter, colours)
        for port in (self.output_port, *self.input_ports.values()):
            port.draw(painter, colours, colour)

    def _paint_overview(self, painter: QPainter, colours: Theme, colour: QColor, scale: float,
                        with_shape: bool) -> None:
        """Zoomed out: the box tinted in the category's colour, outlined in whole pixels, with the name
        (and the shape) drawn large enough to read, as large as the box lets them be."""
        pen, fill = _overview_style(colours, colour, self.isSelected(), self.status == ERROR)
        rect = self._rect
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        painter.setPen(pen)
        painter.setBrush(fill)
        painter.drawRect(rect)
        painter.fillRect(QRectF(rect.left(), rect.top(), rect.width(), min(6.0, 3 / scale)), colour)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        inner = rect.adjusted(PAD / 2, min(6.0, 3 / scale), -PAD / 2, 0)
        if with_shape:
            name_box = QRectF(inner.left(), inner.top(), inner.width(), inner.height() * 0.55)
            shape_box = QRectF(inner.left(), name_box.bottom(), inner.width(),
                               inner.bottom() - name_box.bottom())
            self._draw_fitted(painter, self.name, NAME_FONT, name_box, scale, "block_text", colours)
            role = {ERROR: "error", UNKNOWN: "unknown"}.get(self.status, "block_text")
            self._draw_fitted(painter, self.shape_text, SHAPE_FONT, shape_box, scale, role, colours)
        else:
            self._draw_fitted(painter, self.name, NAME_FONT, inner, scale, "block_text", colours)

    def _draw_fitted(self, painter: QPainter, text: str, font: QFont, box: QRectF, scale: float, role: str,
                     colours: Theme) -> None:
        """``text`` centred in ``box``, LEGIBLE pixels high on screen if the box has room, else as high
        as it has; not drawn when that would be under SMALLEST pixels."""
        pixels = round(min(LEGIBLE / scale, box.height() * 0.8))
        if pixels * scale < SMALLEST:
            return
        key = text, id(font), pixels, int(box.width())
        laid = self._fitted.get(key)
        if laid is None:
            # Zoomed far out every zoom step redraws a thousand pictures; the box caps the size there,
            # so the same laid-out text serves step after step.
            if len(self._fitted) > 3:
                self._fitted.clear()
            wide = QFontMetricsF(_sized(font, pixels)).horizontalAdvance(text)
            if wide > box.width():  # smaller, down to what still reads, before cutting letters out
                fits = int(pixels * box.width() / wide * 0.95)  # glyphs do not scale quite linearly
                pixels = max(fits, min(pixels, round(SMALLEST / scale) + 1))
            sized = _sized(font, pixels)
            static = QStaticText(QFontMetricsF(sized).elidedText(text, ELIDE_MIDDLE, box.width()))
            static.setTextFormat(Qt.TextFormat.PlainText)
            static.prepare(font=sized)
            laid = self._fitted[key] = static, sized
        static, sized = laid
        size = static.size()
        painter.setFont(sized)
        painter.setPen(getattr(colours, role))
        centre = box.center()
        painter.drawStaticText(QPointF(centre.x() - size.width() / 2, centre.y() - size.height() / 2), static)

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value: Any) -> Any:
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged:
            for edge in self.edges:
                edge.update_path()
            if self.group_item is not None and not self.group_item.collapsed:
                self.group_item.follow_members()  # the frame keeps around its blocks while one is dragged
        return super().itemChange(change, value)
