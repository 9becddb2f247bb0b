"""A group on the canvas: a labelled frame around its blocks, or one box standing in for them.

Expanded, the item draws a frame behind its member blocks with a header
(``▾ stage1 · 7 blocks``); a click on the header asks to collapse it.
Collapsed, the member blocks are hidden and the item is a movable box showing
the group's name, size, parameters and output shape; edges that cross the
group's boundary end on the box (the scene arranges that), and a double click or
a click on ``▸`` asks to expand it. Either way the item asks through the
scene's ``group_toggle_requested`` signal and never edits the model itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsSceneMouseEvent,
    QStyleOptionGraphicsItem,
    QWidget,
)

from designer.ui import fonts, theme

if TYPE_CHECKING:
    from designer.ui.canvas.block_item import BlockItem
    from designer.ui.canvas.edge_item import EdgeItem
    from designer.ui.canvas.scene import GraphScene

PAD = 14.0
HEADER = 22.0
BOX_WIDTH = 170.0
BOX_HEIGHT = 64.0
RADIUS = 8.0
NAME_FONT = fonts.canvas_font(12, bold=True)
INFO_FONT = fonts.canvas_font(10)
SHAPE_FONT = fonts.canvas_font(11, bold=True)
FRAME_COLOUR = QColor("#5c6bc0")


class GroupItem(QGraphicsItem):
    """Group ``name``; :meth:`sync` brings it in line with the model after any change."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.collapsed = False
        self.members: list[BlockItem] = []  # every block inside, those of inner groups too
        self.outer: GroupItem | None = None  # the group around it (set by the scene)
        self.edges: set[EdgeItem] = set()  # edges that end on the box while collapsed
        self.info = ""
        self.shape_text = ""
        self._rect = QRectF()
        self._syncing = False
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges)
        self.setAcceptHoverEvents(True)

    # -- what the scene tells it -------------------------------------------------------

    def sync(self, name: str, members: Iterable[BlockItem], collapsed: bool, info: str,
             shape_text: str) -> None:
        self.name, self.members, self.collapsed = name, list(members), collapsed
        self.info, self.shape_text = info, shape_text
        flags = QGraphicsItem.GraphicsItemFlag
        self.setFlag(flags.ItemIsMovable, collapsed)
        self.setFlag(flags.ItemIsSelectable, collapsed)
        if not collapsed:
            self.setSelected(False)
        self.setZValue(1 if collapsed else -1)  # a box among blocks; a frame behind them
        if collapsed:
            for block in self.members:
                block.setSelected(False)
        # Which blocks show and which group each is in depends on the groups around this one too:
        # the scene settles that for all groups at once (GraphScene._apply_nesting).
        self.follow_members()
        hint = "Double-click to expand" if collapsed else "Click ▾ to collapse"
        self.setToolTip(f"{name}: {info}\n{hint}")

    def follow_members(self, outward: bool = True) -> None:
        """Fit the frame around the members and the frames inside it, or centre the box on the members
        (after they moved); then, with ``outward``, the frames around it."""
        if not self.members:
            return
        bounds = QRectF()
        for block in self.members:
            rect = block.mapRectToScene(block.boundingRect())
            bounds = rect if bounds.isNull() else bounds.united(rect)
        scene = self.scene()
        if not self.collapsed and scene is not None:
            for item in scene.group_items():  # type: ignore[attr-defined]  # a GraphScene
                if item.outer is self and item.isVisible():
                    bounds = bounds.united(item.mapRectToScene(item._rect))
        self._syncing = True
        try:
            self.prepareGeometryChange()
            if self.collapsed:
                self.setPos(bounds.center())
                self._rect = QRectF(-BOX_WIDTH / 2, -BOX_HEIGHT / 2, BOX_WIDTH, BOX_HEIGHT)
            else:
                self.setPos(0, 0)
                self._rect = bounds.adjusted(-PAD, -PAD - HEADER, PAD, PAD)
        finally:
            self._syncing = False
        self.update()
        for edge in self.edges:
            edge.update_path()
        if outward and self.outer is not None:
            self.outer.follow_members()

    def input_anchor(self) -> QPointF:
        return self.mapToScene(QPointF(self._rect.left(), self._rect.center().y()))

    def output_anchor(self) -> QPointF:
        return self.mapToScene(QPointF(self._rect.right(), self._rect.center().y()))

    @property
    def texts(self) -> list[str]:
        """What the item shows, top to bottom (for tests and accessibility)."""
        if self.collapsed:
            return [self.name, self.info, "→ " + self.shape_text]
        return [f"▾ {self.name} · {self.info}"]

    # -- geometry and painting -----------------------------------------------------------

    def boundingRect(self) -> QRectF:
        return self._rect.adjusted(-2, -2, 2, 2)

    def _header_rect(self) -> QRectF:
        return QRectF(self._rect.left(), self._rect.top(), self._rect.width(), HEADER)

    def shape(self) -> QPainterPath:
        # Expanded, only the header takes clicks: the blocks inside and the empty
        # canvas around them must stay reachable for selection and rubber bands.
        path = QPainterPath()
        path.addRoundedRect(self._rect if self.collapsed else self._header_rect(), RADIUS, RADIUS)
        return path

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if self.collapsed:
            self._paint_box(painter)
        else:
            self._paint_frame(painter)

    def _paint_frame(self, painter: QPainter) -> None:
        fill = QColor(FRAME_COLOUR)
        fill.setAlpha(18)
        painter.setPen(QPen(FRAME_COLOUR, 1.2, Qt.PenStyle.DashLine))
        painter.setBrush(fill)
        painter.drawRoundedRect(self._rect, RADIUS, RADIUS)
        painter.setFont(NAME_FONT)
        painter.setPen(FRAME_COLOUR)
        painter.drawText(self._header_rect().adjusted(8, 0, -8, 0),
                         int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft), self.texts[0])

    def _paint_box(self, painter: QPainter) -> None:
        rect = self._rect
        selected = self.isSelected()
        colours = theme.theme_of(self)
        painter.setPen(QPen(colours.selection if selected else FRAME_COLOUR, 2.2 if selected else 1.4))
        painter.setBrush(colours.block_fill)
        painter.drawRoundedRect(rect, RADIUS, RADIUS)
        # a second outline offset behind suggests a stack of blocks
        painter.setPen(QPen(FRAME_COLOUR, 1.0))
        below = rect.bottom() + 3
        painter.drawLine(QPointF(rect.left() + 4, below), QPointF(rect.right() - 4, below))
        tint = QColor(FRAME_COLOUR)
        tint.setAlpha(40)
        painter.fillRect(QRectF(rect.left() + 1, rect.top() + 1, rect.width() - 2, HEADER - 1), tint)
        left = rect.left() + 10
        painter.setPen(colours.block_text)
        painter.setFont(NAME_FONT)
        painter.drawText(QRectF(left, rect.top(), rect.width() - 20, HEADER),
                         int(Qt.AlignmentFlag.AlignVCenter), f"▸ {self.name}")
        painter.setFont(INFO_FONT)
        painter.setPen(colours.block_muted)
        painter.drawText(QPointF(left, rect.top() + HEADER + 12), self.info)
        painter.setFont(SHAPE_FONT)
        painter.setPen(colours.block_text)
        painter.drawText(QPointF(left, rect.top() + HEADER + 30), "→ " + self.shape_text)
        painter.setBrush(FRAME_COLOUR)
        painter.setPen(Qt.PenStyle.NoPen)
        for point in (QPointF(rect.left(), 0), QPointF(rect.right(), 0)):
            painter.drawEllipse(point, 4.5, 4.5)

    # -- mouse -----------------------------------------------------------------------------

    def _scene(self) -> GraphScene:
        return self.scene()  # type: ignore[return-value]

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        on_toggle = event.pos().x() < self._rect.left() + 26 and event.pos().y() < self._rect.top() + HEADER
        if event.button() == Qt.MouseButton.LeftButton and (on_toggle or not self.collapsed):
            self._scene().group_toggle_requested.emit(self.name, not self.collapsed)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseDoubleClickEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self.collapsed:
            self._scene().group_toggle_requested.emit(self.name, False)
            event.accept()
            if self.scene() is not None and self.scene().mouseGrabberItem() is self:
                # Now a frame, it must not keep the mouse: the next click on a block inside it
                # would reach the frame's header handler and fold the group up again.
                self.ungrabMouse()
            return
        super().mouseDoubleClickEvent(event)

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value: Any) -> Any:
        moving = change == QGraphicsItem.GraphicsItemChange.ItemPositionChange
        if moving and self.collapsed and not self._syncing:
            delta = value - self.pos()  # dragging the box carries its hidden blocks along
            for block in self.members:
                block.setPos(block.pos() + delta)
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged:
            for edge in self.edges:
                edge.update_path()
        return super().itemChange(change, value)
