"""Quick-add: a small popup on the canvas that finds a block type by typing and adds it there.

Tab on the canvas opens it at the cursor; dropping a new connection on empty
canvas opens it at the drop point, listing only the block types that could
take the source's output (the model decides: :meth:`BlockSpec.could_take`).
Typing filters the list as the palette's search does, the arrow keys move,
Enter adds and Escape closes. The popup only picks a block type;
:func:`add_block` makes the edit, one undo step even when it also connects.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, Qt, Signal
from PySide6.QtGui import QCloseEvent, QGuiApplication, QKeyEvent, QUndoStack
from PySide6.QtWidgets import QFrame, QLabel, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from designer.graph.errors import ConnectError
from designer.graph.graph import Position
from designer.graph.registry import Registry
from designer.graph.search import ranked
from designer.graph.spec import BlockSpec, Shape
from designer.ui import theme
from designer.ui.document import Document
from designer.ui.palette import TYPE_ROLE, swatch

if TYPE_CHECKING:
    from designer.ui.canvas.view import GraphView

WIDTH, HEIGHT = 260, 300


class QuickAddPopup(QFrame):
    """A search field over a list of block types; Enter emits :attr:`chosen` and closes.

    ``accepts`` narrows the list (None: every block type). The popup deletes
    itself once closed, so it never outlives its use as a top-level window.
    """

    chosen = Signal(str)  # the block type picked (Enter, or a double click)
    finished = Signal()  # closed, whether or not a block type was picked

    def __init__(self, registry: Registry, accepts: Callable[[BlockSpec], bool] | None = None,
                 title: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Popup)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Add block…")
        self.search.installEventFilter(self)
        self.list = QListWidget()
        # Typing stays in the search field; the arrow keys there move the list.
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.empty = QLabel("No block type can take this input" if accepts else "No block type matches")
        theme.paint_text(self.empty, theme.MUTED)
        self._specs = [s for specs in registry.by_category().values() for s in specs
                       if accepts is None or accepts(s)]
        for spec in self._specs:
            self._add_item(spec)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        if title:
            layout.addWidget(QLabel(title))
        layout.addWidget(self.search)
        layout.addWidget(self.list)
        layout.addWidget(self.empty)
        self.resize(WIDTH, HEIGHT)
        self.search.textChanged.connect(self.filter)
        self.list.itemActivated.connect(lambda item: self.choose())
        self.filter("")

    def _add_item(self, spec: BlockSpec) -> None:
        item = QListWidgetItem(swatch(theme.category_colour(spec.category), 10), spec.type)
        item.setData(TYPE_ROLE, spec.type)
        item.setToolTip(f"{spec.category}: {spec.help}")
        self.list.addItem(item)

    # -- reading --------------------------------------------------------------

    def visible_types(self) -> list[str]:
        items = (self.list.item(row) for row in range(self.list.count()))
        return [item.data(TYPE_ROLE) for item in items if not item.isHidden()]

    def current_type(self) -> str | None:
        item = self.list.currentItem()
        return item.data(TYPE_ROLE) if item is not None and not item.isHidden() else None

    # -- filtering and moving -------------------------------------------------

    def filter(self, text: str) -> None:
        """Show the block types the search finds, best match first (designer.graph.search); select it."""
        found = [spec.type for spec in ranked(self._specs, text)]
        items = {self.list.item(row).data(TYPE_ROLE): self.list.item(row) for row in range(self.list.count())}
        order = found + [t for t in items if t not in found]
        for row, block_type in enumerate(order):
            item = items[block_type]
            if self.list.row(item) != row:
                self.list.insertItem(row, self.list.takeItem(self.list.row(item)))
            item.setHidden(block_type not in found)
        first = self.list.item(0) if found else None
        if first is None:
            self.list.setCurrentRow(-1)
        else:
            self.list.setCurrentItem(first)
        self.empty.setVisible(first is None)

    def step(self, rows: int) -> None:
        """Move the selection ``rows`` visible rows down (up when negative), stopping at the ends."""
        visible = [self.list.item(r) for r in range(self.list.count()) if not self.list.item(r).isHidden()]
        if not visible:
            return
        current = self.list.currentItem()
        index = visible.index(current) if current in visible else -1
        target = visible[min(max(index + rows, 0), len(visible) - 1)]
        self.list.setCurrentItem(target)
        self.list.scrollToItem(target)

    # -- showing and closing --------------------------------------------------

    def show_at(self, global_pos: QPoint) -> None:
        """Show with the top-left corner at ``global_pos``, moved inside the screen if need be."""
        screen = QGuiApplication.screenAt(global_pos) or QGuiApplication.primaryScreen()
        area = screen.availableGeometry()
        x = min(max(global_pos.x(), area.left()), area.right() - self.width())
        y = min(max(global_pos.y(), area.top()), area.bottom() - self.height())
        self.move(x, y)
        self.show()
        self.search.setFocus()

    def choose(self) -> None:
        block_type = self.current_type()
        if block_type is not None:
            self.close()
            self.chosen.emit(block_type)

    def closeEvent(self, event: QCloseEvent) -> None:
        super().closeEvent(event)
        self.finished.emit()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.search and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            return self._on_search_key(event)
        return super().eventFilter(watched, event)

    def _on_search_key(self, event: QKeyEvent) -> bool:
        key = event.key()
        page = max(1, self.list.height() // max(1, self.list.sizeHintForRow(0)) - 1)
        moves: dict[int, int] = {Qt.Key.Key_Down: 1, Qt.Key.Key_Up: -1,
                                 Qt.Key.Key_PageDown: page, Qt.Key.Key_PageUp: -page}
        if key in moves:
            self.step(moves[key])
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.choose()
        elif key == Qt.Key.Key_Escape:
            self.close()
        else:
            return False
        return True


# -- the edits -------------------------------------------------------------------


def add_block(document: Document, block_type: str, position: Position, source: str | None = None) -> str:
    """Add a ``block_type`` block at ``position``, fed by ``source`` when given; returns its name.

    With a source, adding and connecting are one undo step. When the model
    refuses the connection, its error is raised and nothing is left behind:
    no block, and no command in the undo history.
    """
    if source is None:
        return document.add_node(block_type, position)
    begun = False  # a locked document refuses the macro before it starts: then nothing is dropped
    try:
        with document.macro(f"Add {block_type} and connect"):
            begun = True
            name = document.add_node(block_type, position)
            document.connect_blocks(source, name)
    except BaseException:
        if begun:
            _drop_last(document.undo_stack)
        raise
    return name


def _drop_last(stack: QUndoStack) -> None:
    """Undo the newest command and take it off the stack, so Redo cannot bring it back."""
    stack.undo()
    stack.command(stack.index()).setObsolete(True)
    stack.redo()  # Qt deletes an obsolete command instead of redoing it


def open_quick_add(view: GraphView, position: QPointF, source: str | None = None) -> QuickAddPopup:
    """Open the popup on ``view`` at scene point ``position``; the block chosen is added there.

    With ``source``, only the block types that could take its output are
    listed, and the new block is connected to it.
    """
    document = view.document
    accepts = None if source is None else _taking(document.graph.result(source).shape)
    title = "" if source is None else f"Add after {source}"
    popup = QuickAddPopup(document.graph.registry, accepts, title, parent=view)
    point = (position.x(), position.y())
    popup.chosen.connect(lambda block_type: _add(view, document, block_type, point, source))
    popup.show_at(view.viewport().mapToGlobal(view.mapFromScene(position)))
    return popup


def _taking(shape: Shape | None) -> Callable[[BlockSpec], bool]:
    return lambda spec: spec.could_take(shape)


def _add(view: GraphView, document: Document, block_type: str, position: Position, source: str | None) -> None:
    if not shiboken6.isValid(view) or view.document is not document:
        return  # the view moved on to another document while the popup was open
    try:
        name = add_block(document, block_type, position, source)
    except ConnectError as exc:
        view.show_message(f"Cannot add {block_type} after {source}: {exc}")
        return
    view.select_only(name)
