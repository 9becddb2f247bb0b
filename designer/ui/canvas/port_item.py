"""A block's input or output port: a small circle that connections start and end at."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QRectF
from PySide6.QtGui import QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from designer.ui import theme

if TYPE_CHECKING:
    from designer.ui.canvas.block_item import BlockItem

INPUT, OUTPUT = "input", "output"
NORMAL, DIMMED, ALLOWED, TARGET = "normal", "dimmed", "allowed", "target"


class PortItem(QGraphicsItem):
    """Port ``index`` of its parent block; ``kind`` is INPUT or OUTPUT."""

    RADIUS = 5.0
    HIT = 9.0  # grabbing a 10-pixel circle is fiddly; the hit area is larger

    def __init__(self, block: BlockItem, kind: str, index: int = 0) -> None:
        super().__init__(block)
        self.kind = kind
        self.index = index
        self.connected = False
        self.state = NORMAL
        self.setAcceptHoverEvents(True)
        self.setToolTip(f"input {index}" if kind == INPUT else "output: drag to an input to connect")

    @property
    def block(self) -> BlockItem:
        return self.parentItem()  # type: ignore[return-value]

    def set_connected(self, connected: bool) -> None:
        if connected != self.connected:
            self.connected = connected
            self.update()

    def set_state(self, state: str) -> None:
        """NORMAL, DIMMED (a drop here would be refused), ALLOWED, or TARGET (under the cursor)."""
        if state != self.state:
            self.state = state
            self.setOpacity(0.25 if state == DIMMED else 1.0)
            self.update()

    def boundingRect(self) -> QRectF:
        return QRectF(-self.HIT, -self.HIT, 2 * self.HIT, 2 * self.HIT)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addEllipse(self.boundingRect())
        return path

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        colour = self.block.colour
        radius = self.RADIUS
        if self.state in (ALLOWED, TARGET):
            colour = theme.PORT_ALLOWED
            radius += 1.5 if self.state == TARGET else 0.5
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(colour, 1.6))
        painter.setBrush(colour if self.connected or self.state == TARGET else theme.PORT_FREE)
        painter.drawEllipse(QRectF(-radius, -radius, 2 * radius, 2 * radius))
