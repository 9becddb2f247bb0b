"""Edit ▸ Paste: where the copies land.

At the pointer when it is over the canvas (the copies' middle under it);
otherwise beside the selection (to its right, the first free place that
overlaps no block), so a paste never hides what was copied. The clipboard
holds project JSON, so blocks paste between windows and between instances.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, QRectF
from PySide6.QtGui import QCursor, QGuiApplication

from designer.graph.errors import GraphError
from designer.graph.fragment import MIME_TYPE, plan_paste
from designer.ui.canvas.block_item import WIDTH
from designer.ui.canvas.view import GraphView
from designer.ui.document import Document

GAP = 40.0  # between the selection and the copies, and between the copies and any block they would cover
BLOCK_HEIGHT = 64.0  # a block's height before it is drawn, when the canvas has none to measure


def paste(document: Document, view: GraphView, pointer: QPoint | None = None) -> list[str]:
    """Paste the clipboard's blocks (see the module's rule for where); returns their names."""
    data = QGuiApplication.clipboard().mimeData()
    if data is None:
        return []
    raw = data.data(MIME_TYPE)
    text = bytes(raw.data()).decode("utf-8", "replace") if not raw.isEmpty() else data.text()
    try:
        names = document.paste_text(text, paste_offset(document, view, text, pointer))
    except GraphError as exc:
        view.show_message(f"Cannot paste: {exc}")
        return []
    if not names:
        view.show_message("Nothing to paste: the clipboard holds no blocks")
        return []
    view.graph_scene.select_nodes(names)
    return names


def paste_offset(document: Document, view: GraphView, text: str,
                 pointer: QPoint | None = None) -> tuple[float, float]:
    """How far to move the fragment in ``text`` from where it was copied."""
    try:
        plan = plan_paste(document.graph, text, (0.0, 0.0))
    except GraphError:
        return (0.0, 0.0)  # pasting it raises the error again, with the message
    if plan is None or not plan.nodes:
        return (0.0, 0.0)
    size = _block_size(view)
    piece = QRectF()
    for node in plan.nodes:
        x, y = node.position
        piece = piece.united(QRectF(x - size.x() / 2, y - size.y() / 2, size.x(), size.y()))
    target = _under_pointer(view, pointer)
    moved = target - piece.center() if target is not None else _beside_selection(view, piece) - piece.topLeft()
    return (moved.x(), moved.y())


def _under_pointer(view: GraphView, pointer: QPoint | None) -> QPointF | None:
    """The scene point under the pointer when it is over the canvas (``pointer``: global, for tests)."""
    viewport = view.viewport()
    if not viewport.isVisible():
        return None
    local = viewport.mapFromGlobal(pointer if pointer is not None else QCursor.pos())
    if not viewport.rect().contains(local):
        return None
    return view.mapToScene(local)


def _beside_selection(view: GraphView, piece: QRectF) -> QPointF:
    """The top-left for ``piece``: right of the selection (or of where it was), over no block."""
    scene = view.graph_scene
    taken = [item.sceneBoundingRect() for item in scene.block_items()]
    selected = [item.sceneBoundingRect() for item in scene.block_items() if item.isSelected()]
    anchor = selected[0] if selected else QRectF(piece)
    for rect in selected[1:]:
        anchor = anchor.united(rect)
    spot = QRectF(piece)
    spot.moveTopLeft(QPointF(anchor.right() + GAP, anchor.top()))
    for _ in range(len(taken) + 1):  # each step passes at least one block: this ends
        hit = [rect for rect in taken if rect.intersects(spot.adjusted(-GAP / 2, -GAP / 2, GAP / 2, GAP / 2))]
        if not hit:
            break
        spot.moveLeft(max(rect.right() for rect in hit) + GAP)
    return spot.topLeft()


def _block_size(view: GraphView) -> QPointF:
    items = view.graph_scene.block_items()
    if not items:
        return QPointF(WIDTH, BLOCK_HEIGHT)
    rect = items[0].boundingRect()
    return QPointF(max(WIDTH, rect.width()), rect.height())
