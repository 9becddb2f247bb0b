"""A block's input or output port: a small circle that connections start and end at.

The port is an item of its own for hit tests and tooltips, but its block draws
it (:meth:`PortItem.draw`), into the block's cached picture: painting a large
graph then costs one picture per block rather than three items.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from designer.ui.theme import Theme

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
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemHasNoContents)  # the block draws it
        self.setAcceptHoverEvents(True)
        self.setToolTip(f"input {index}" if kind == INPUT else "output: drag to an input to connect")

    @property
    def block(self) -> BlockItem:
        return self.parentItem()  # type: ignore[return-value]

    def set_connected(self, connected: bool) -> None:
        if connected != self.connected:
            self.connected = connected
            self.block.update()

    def set_state(self, state: str) -> None:
        """NORMAL, DIMMED (a drop here would be refused), ALLOWED, or TARGET (under the cursor)."""
        if state != self.state:
            self.state = state
            self.block.update()

    def boundingRect(self) -> QRectF:
        return QRectF(-self.HIT, -self.HIT, 2 * self.HIT, 2 * self.HIT)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addEllipse(self.boundingRect())
        return path

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        pass  # ItemHasNoContents: the block draws the port

    def draw(self, painter: QPainter, colours: Theme, block_colour: QColor) -> None:
        """Draw the port where it sits in its block's coordinates (``painter`` paints the block)."""
        colour, radius = block_colour, self.RADIUS
        if self.state in (ALLOWED, TARGET):
            colour = colours.port_allowed
            radius += 1.5 if self.state == TARGET else 0.5
        opacity = painter.opacity()
        if self.state == DIMMED:
            painter.setOpacity(opacity * 0.25)
        painter.setPen(QPen(colour, 1.6))
        painter.setBrush(colour if self.connected or self.state == TARGET else colours.port_free)
        centre = self.pos()
        painter.drawEllipse(QRectF(centre.x() - radius, centre.y() - radius, 2 * radius, 2 * radius))
        painter.setOpacity(opacity)
