"""The canvas widget: shows a document's scene, zooms, pans, and routes gestures.

Wheel zooms under the cursor, and so does a touchpad or touchscreen pinch
(about its centre); the middle button, or Space with the left button, pans;
dragging from an output port draws a connection; dragging a block moves it
(one undo step); dragging on empty canvas selects with a rubber band. Blocks
dragged from the palette are dropped here, and Tab opens the quick-add popup
(:mod:`designer.ui.quick_add`) at the cursor.
"""

from __future__ import annotations

import atexit
import functools
import math
import sys

from PySide6.QtCore import QByteArray, QEvent, QMimeData, QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import (
    QCursor,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QFocusEvent,
    QGuiApplication,
    QKeyEvent,
    QMouseEvent,
    QNativeGestureEvent,
    QPainter,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QGestureEvent, QGraphicsView, QPinchGesture, QWidget

from designer.graph.errors import GraphError
from designer.graph.fragment import MIME_TYPE
from designer.ui.canvas.block_item import WIDTH
from designer.ui.canvas.interactions import (
    DropFromPalette,
    Interaction,
    NewEdgeInteraction,
    PanInteraction,
    commit_moves,
)
from designer.ui.canvas.port_item import OUTPUT
from designer.ui.canvas.scene import GraphScene
from designer.ui.document import Document
from designer.ui.quick_add import QuickAddPopup, open_quick_add

SCENE_EXTENT = 50_000.0
GRID = 20.0


class GraphView(QGraphicsView):
    """Shows one document's graph; :meth:`set_document` switches to another."""

    message = Signal(str)  # a sentence for the status bar (a refused connection)
    MIN_ZOOM, MAX_ZOOM = 0.1, 4.0

    def __init__(self, document: Document | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document: Document = None  # type: ignore[assignment]  # set just below
        self._interaction: Interaction | None = None
        self._space_held = False
        self._drop = DropFromPalette(self)
        self._keeps_fit = False  # fitted, and neither zoomed nor panned since: a resize fits again
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        if sys.platform != "darwin":
            # macOS turns a touchpad pinch into native zoom events, handled as
            # they come; its pinch recognizer would swallow them instead.
            self.viewport().grabGesture(Qt.GestureType.PinchGesture)
        if document is not None:
            self.set_document(document)

    def set_document(self, document: Document) -> None:
        old = self.scene()
        if isinstance(old, GraphScene):
            old.detach()
        if self._interaction is not None:
            self._interaction.cancel()
            self._interaction = None
        scene = GraphScene(document.graph, self)
        scene.setSceneRect(-SCENE_EXTENT, -SCENE_EXTENT, 2 * SCENE_EXTENT, 2 * SCENE_EXTENT)
        self.document = document
        scene.group_toggle_requested.connect(document.set_group_collapsed)
        self.setScene(scene)
        if old is not None:
            old.deleteLater()

    @property
    def graph_scene(self) -> GraphScene:
        return self.scene()  # type: ignore[return-value]

    def show_message(self, text: str) -> None:
        self.message.emit(text)

    # -- zoom and framing -------------------------------------------------------

    @property
    def zoom(self) -> float:
        return self.transform().m11()

    def zoom_by(self, factor: float) -> None:
        target = min(max(self.zoom * factor, self.MIN_ZOOM), self.MAX_ZOOM)
        if target != self.zoom:
            factor = target / self.zoom
            self.scale(factor, factor)

    def zoom_about(self, factor: float, pos: QPointF) -> None:
        """Zoom by ``factor`` (clamped), keeping the scene point under viewport point ``pos`` in place."""
        self._keeps_fit = False
        anchor = self.mapToScene(pos.toPoint())
        self.zoom_by(factor)
        drift = QPointF(self.mapFromScene(anchor)) - QPointF(pos.toPoint())
        bars = self.horizontalScrollBar(), self.verticalScrollBar()
        bars[0].setValue(bars[0].value() + round(drift.x()))
        bars[1].setValue(bars[1].value() + round(drift.y()))

    def fit_to_view(self) -> None:
        """Show every block, no larger than actual size; until the user zooms or pans, a change of
        the view's size (the window shown, maximised, a panel opened) fits it again."""
        self._keeps_fit = True
        rect = self.graph_scene.itemsBoundingRect()
        self.resetTransform()
        if rect.isEmpty():
            self.centerOn(0, 0)
            return
        self.fitInView(rect.adjusted(-40, -40, 40, 40), Qt.AspectRatioMode.KeepAspectRatio)
        if self.zoom > 1.0:
            self.resetTransform()
        elif self.zoom < self.MIN_ZOOM:
            self.zoom_by(1.0)  # clamps
        self.centerOn(rect.center())

    def center_on_node(self, name: str) -> None:
        self.centerOn(self.graph_scene.item_for_node(name))

    # -- edits that start here ------------------------------------------------------

    def add_block_at_center(self, block_type: str) -> str:
        """Add a block in the middle of the view, beside any block already there."""
        centre = self.mapToScene(self.viewport().rect().center())
        position = QPointF(centre)
        while self.graph_scene.block_at(position) is not None:
            position += QPointF(WIDTH / 3, 40)
        name = self.document.add_node(block_type, (position.x(), position.y()))
        self.select_only(name)
        return name

    def add_module_at_center(self, module: str) -> list[str]:
        """Add a palette module with its top-left in the middle of the view, its blocks selected."""
        centre = self.mapToScene(self.viewport().rect().center())
        names = self.document.add_module(module, (centre.x(), centre.y()))
        self.select_only(*names)
        return names

    def open_quick_add(self, position: QPointF | None = None, source: str | None = None) -> QuickAddPopup:
        """Open the quick-add popup at scene point ``position`` (default: the cursor, or the middle).

        With ``source``, the popup lists only blocks that can take its output
        and connects the new block to it.
        """
        if position is None:
            at = self.viewport().mapFromGlobal(QCursor.pos())
            if not self.viewport().rect().contains(at):
                at = self.viewport().rect().center()
            position = self.mapToScene(at)
        return open_quick_add(self, position, source)

    def select_only(self, *names: str) -> None:
        self.graph_scene.select_nodes(list(names))

    def select_all(self) -> None:
        for item in self.graph_scene.items():
            if item.flags() & item.GraphicsItemFlag.ItemIsSelectable:
                item.setSelected(True)

    def delete_selection(self) -> None:
        scene = self.graph_scene
        self.document.remove(scene.selected_nodes(), scene.selected_edges())

    # -- clipboard: project JSON, so blocks paste between windows and instances -----

    def copy_selection(self) -> bool:
        names = self.graph_scene.selected_nodes()
        if not names:
            return False
        data = QMimeData()
        text = self.document.copy_text(names)
        data.setData(MIME_TYPE, QByteArray(text.encode("utf-8")))
        data.setText(text)
        QGuiApplication.clipboard().setMimeData(data)
        _clear_clipboard_at_exit()
        return True

    def cut_selection(self) -> None:
        if self.copy_selection():
            self.delete_selection()

    def paste(self) -> None:
        data = QGuiApplication.clipboard().mimeData()
        if data is None:
            return
        raw = data.data(MIME_TYPE)
        text = bytes(raw.data()).decode("utf-8", "replace") if not raw.isEmpty() else data.text()
        self._paste_text(text, "Paste")

    def duplicate_selection(self) -> None:
        names = self.graph_scene.selected_nodes()
        if names:
            self._paste_text(self.document.copy_text(names), "Duplicate")

    def _paste_text(self, text: str, verb: str) -> None:
        try:
            names = self.document.paste_text(text, verb=verb)
        except GraphError as exc:
            self.show_message(f"Cannot paste: {exc}")
            return
        if not names:
            self.show_message("Nothing to paste: the clipboard holds no blocks")
            return
        self.graph_scene.select_nodes(names)

    # -- mouse, keyboard and gestures ----------------------------------------------

    def event(self, event: QEvent) -> bool:
        # Tab would move the focus on before keyPressEvent saw it.
        if self._is_quick_add_key(event):
            self.open_quick_add()
            return True
        return super().event(event)

    def viewportEvent(self, event: QEvent) -> bool:
        if self._is_quick_add_key(event):
            self.open_quick_add()
            return True
        zoom = Qt.NativeGestureType.ZoomNativeGesture
        if isinstance(event, QNativeGestureEvent) and event.gestureType() == zoom:
            # value() is the change of magnification since the last event.
            self.zoom_about(1.0 + event.value(), event.position())
            event.accept()
            return True
        if isinstance(event, QGestureEvent) and self._pinch(event):
            return True
        return super().viewportEvent(event)

    def _is_quick_add_key(self, event: QEvent) -> bool:
        return (isinstance(event, QKeyEvent) and event.type() == QEvent.Type.KeyPress
                and event.key() == Qt.Key.Key_Tab and self._interaction is None
                and not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier)

    def _pinch(self, event: QGestureEvent) -> bool:
        pinch = event.gesture(Qt.GestureType.PinchGesture)
        if not isinstance(pinch, QPinchGesture):
            return False
        if pinch.changeFlags() & QPinchGesture.ChangeFlag.ScaleFactorChanged:
            # scaleFactor() is relative to the last event; centerPoint() is on the screen.
            self.zoom_about(pinch.scaleFactor(), self.viewport().mapFromGlobal(pinch.centerPoint()))
        event.accept(pinch)
        return True

    def wheelEvent(self, event: QWheelEvent) -> None:
        self._keeps_fit = False
        self.zoom_by(1.0015 ** event.angleDelta().y())
        event.accept()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._keeps_fit:
            self.fit_to_view()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self._interaction is not None:
            event.accept()
            return
        button = event.button()
        if button == Qt.MouseButton.MiddleButton or (button == Qt.MouseButton.LeftButton and self._space_held):
            self._interaction = PanInteraction(self, event.position())
            self._keeps_fit = False
            event.accept()
            return
        if button == Qt.MouseButton.LeftButton:
            port = self.graph_scene.port_at(self.mapToScene(event.position().toPoint()), OUTPUT)
            if port is not None:
                self._interaction = NewEdgeInteraction(self, port)
                event.accept()
                return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._interaction is not None:
            self._interaction.move(event)
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._interaction is not None:
            interaction, self._interaction = self._interaction, None
            interaction.release(event)
            event.accept()
            return
        super().mouseReleaseEvent(event)
        if event.button() == Qt.MouseButton.LeftButton:
            commit_moves(self)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_held = True
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            event.accept()
            return
        if event.key() == Qt.Key.Key_Escape and self._interaction is not None:
            self._interaction.cancel()
            self._interaction = None
            event.accept()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._release_space()
            event.accept()
            return
        super().keyReleaseEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        self._release_space()
        super().focusOutEvent(event)

    def _release_space(self) -> None:
        if self._space_held:
            self._space_held = False
            self.viewport().unsetCursor()

    # -- drops from the palette ----------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if not self._drop.enter(event):
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if not self._drop.enter(event):
            super().dragMoveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        if not self._drop.drop(event):
            super().dropEvent(event)

    # -- painting ------------------------------------------------------------------

    def drawBackground(self, painter: QPainter, rect: QRectF | QRect) -> None:
        rect = QRectF(rect)
        colours = self.graph_scene.theme
        painter.fillRect(rect, colours.canvas_background)
        step = GRID if self.zoom >= 0.5 else GRID * 5
        # The grid lines are one-pixel rectangles in device coordinates: drawn as
        # scene lines through the zoom, they took a quarter of a full repaint.
        to_device = painter.worldTransform()  # the view neither rotates nor shears
        scale_x, scale_y, dx, dy = to_device.m11(), to_device.m22(), to_device.dx(), to_device.dy()
        device = to_device.mapRect(rect).toAlignedRect()
        grid = colours.canvas_grid
        painter.save()
        painter.resetTransform()
        x = math.floor(rect.left() / step) * step
        while x < rect.right():
            painter.fillRect(QRect(round(x * scale_x + dx), device.top(), 1, device.height()), grid)
            x += step
        y = math.floor(rect.top() / step) * step
        while y < rect.bottom():
            painter.fillRect(QRect(device.left(), round(y * scale_y + dy), device.width(), 1), grid)
            y += step
        painter.restore()


@functools.cache
def _clear_clipboard_at_exit() -> None:
    """Give our blocks up at exit while the clipboard still holds them: Qt deleting a QMimeData made in
    Python after Python has shut down crashes the process (a segmentation fault at exit, PySide6 6.11)."""
    def clear() -> None:
        clipboard = QGuiApplication.clipboard()
        data = clipboard.mimeData() if clipboard is not None else None
        if data is not None and data.hasFormat(MIME_TYPE):
            clipboard.clear()

    atexit.register(clear)
