"""Gestures on the canvas, one small class each.

The view hands mouse events to the gesture in progress until it ends. A
gesture asks the model what is allowed (``graph.check_connect``) and edits
through the :class:`~designer.ui.document.Document`, never the items.
Rubber-band selection is Qt's own (``QGraphicsView.RubberBandDrag``), and
moving blocks is Qt's item dragging, committed as one command on release by
:func:`commit_moves`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent, QMouseEvent

from designer.graph.errors import ConnectError
from designer.graph.modules import module_names
from designer.ui.canvas.edge_item import DraftEdge
from designer.ui.canvas.port_item import ALLOWED, DIMMED, INPUT, NORMAL, TARGET, PortItem
from designer.ui.mime import block_type_of, module_of

if TYPE_CHECKING:
    from designer.ui.canvas.view import GraphView


class Interaction:
    """A gesture in progress on ``view``."""

    def __init__(self, view: GraphView) -> None:
        self.view = view

    def scene_pos(self, event: QMouseEvent) -> QPointF:
        return self.view.mapToScene(event.position().toPoint())

    def move(self, event: QMouseEvent) -> None:
        pass

    def release(self, event: QMouseEvent) -> None:
        pass

    def cancel(self) -> None:
        pass


class PanInteraction(Interaction):
    """Drag the canvas with the middle button, or the left one while Space is held."""

    def __init__(self, view: GraphView, pos: QPointF) -> None:
        super().__init__(view)
        self._last = pos
        view.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)

    def move(self, event: QMouseEvent) -> None:
        delta = event.position() - self._last
        self._last = event.position()
        bars = self.view.horizontalScrollBar(), self.view.verticalScrollBar()
        bars[0].setValue(bars[0].value() - round(delta.x()))
        bars[1].setValue(bars[1].value() - round(delta.y()))

    def release(self, event: QMouseEvent) -> None:
        self.cancel()

    def cancel(self) -> None:
        self.view.viewport().unsetCursor()


class NewEdgeInteraction(Interaction):
    """Drag from an output port to an input port (or a block) to connect them.

    While dragging, every input port that the model would refuse is dimmed;
    a refused drop shows the model's sentence in the status bar. A drop on
    empty canvas opens the quick-add popup there, for a new block fed by the
    source; the draft connection stays drawn until the popup closes.
    """

    def __init__(self, view: GraphView, port: PortItem) -> None:
        super().__init__(view)
        self.scene = view.graph_scene
        self.graph = self.scene.graph
        self.source = port.block.name
        self.draft = DraftEdge(port.scenePos())
        self.scene.addItem(self.draft)
        self._target_port: PortItem | None = None
        self._allowed: dict[PortItem, bool] = {}
        for block in self.scene.block_items():
            for index, input_port in block.input_ports.items():
                allowed = self._check(block.name, index) is None
                self._allowed[input_port] = allowed
                input_port.set_state(ALLOWED if allowed else DIMMED)

    def _check(self, target: str, port: int | None) -> str | None:
        """Why the model refuses ``source -> target``, or None when it allows it."""
        try:
            self.graph.check_connect(self.source, target, port)
        except ConnectError as exc:
            return str(exc)
        return None

    def move(self, event: QMouseEvent) -> None:
        pos = self.scene_pos(event)
        port = self.scene.port_at(pos, INPUT)
        if port is not self._target_port:
            if self._target_port is not None and self._target_port in self._allowed:
                self._target_port.set_state(ALLOWED if self._allowed[self._target_port] else DIMMED)
            if port is not None and self._allowed.get(port):
                port.set_state(TARGET)
            self._target_port = port
        self.draft.set_end(port.scenePos() if port is not None and self._allowed.get(port) else pos)

    def release(self, event: QMouseEvent) -> None:
        pos = self.scene_pos(event)
        port = self.scene.port_at(pos, INPUT)
        block = self.scene.block_at(pos)
        self._reset_ports()
        if port is None and block is None:
            self.draft.set_end(pos)
            popup = self.view.open_quick_add(pos, source=self.source)
            draft = self.draft  # the gesture object is gone by the time the popup closes
            popup.finished.connect(lambda: _remove(draft))
            return
        _remove(self.draft)
        if port is not None:
            target, index = port.block.name, port.index
        elif block is not None and block.name != self.source:
            target, index = block.name, None
        else:
            return  # dropped back on its own block: nothing to do
        try:
            self.view.document.connect_blocks(self.source, target, index)
        except ConnectError as exc:
            self.view.show_message(str(exc))

    def cancel(self) -> None:
        self._reset_ports()
        _remove(self.draft)

    def _reset_ports(self) -> None:
        for port in self._allowed:
            port.set_state(NORMAL)
        self._allowed = {}



def _remove(draft: DraftEdge) -> None:
    # The quick-add popup may close after the view has moved on to another scene.
    if shiboken6.isValid(draft) and draft.scene() is not None:
        draft.scene().removeItem(draft)


def commit_moves(view: GraphView) -> None:
    """Push one move for every selected block (or block in a selected group) that Qt's dragging moved."""
    scene = view.graph_scene
    positions = {name: (scene.item_for_node(name).pos().x(), scene.item_for_node(name).pos().y())
                 for name in scene.selected_nodes()}
    view.document.move_nodes(positions)


class DropFromPalette:
    """Accept a block type or a module dragged from the palette and add it where it is dropped."""

    def __init__(self, view: GraphView) -> None:
        self.view = view

    def block_type(self, event: QDropEvent | QDragEnterEvent | QDragMoveEvent) -> str | None:
        block_type = block_type_of(event.mimeData())
        return block_type if block_type in self.view.document.graph.registry else None

    def module(self, event: QDropEvent | QDragEnterEvent | QDragMoveEvent) -> str | None:
        name = module_of(event.mimeData())
        return name if name in module_names() else None

    def enter(self, event: QDragEnterEvent | QDragMoveEvent) -> bool:
        if self.block_type(event) is None and self.module(event) is None:
            return False
        self._accept_as_copy(event)
        return True

    @staticmethod
    def _accept_as_copy(event: QDropEvent | QDragEnterEvent | QDragMoveEvent) -> None:
        # Never a move: a move would let the palette remove the block type it dragged.
        event.setDropAction(Qt.DropAction.CopyAction)
        event.accept()

    def drop(self, event: QDropEvent) -> bool:
        block_type, module = self.block_type(event), self.module(event)
        if block_type is None and module is None:
            return False
        pos = self.view.mapToScene(event.position().toPoint())
        if block_type is not None:
            self.view.select_only(self.view.document.add_node(block_type, (pos.x(), pos.y())))
        elif module is not None:
            self.view.select_only(*self.view.document.add_module(module, (pos.x(), pos.y())))
        self._accept_as_copy(event)
        return True
