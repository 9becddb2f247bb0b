"""The block palette: every block type by category, the reusable modules, and a search field.

Drag a block onto the canvas, or double-click it (or press Enter) to add it
in the middle of the view (:attr:`PalettePanel.block_activated`); a module
(an Inception module, an SE block) is dropped the same way, as a named group
(:attr:`PalettePanel.module_activated`).
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QLineEdit, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from designer.graph.modules import module_description, module_names
from designer.graph.registry import REGISTRY, Registry
from designer.graph.search import match_rank
from designer.ui import theme
from designer.ui.mime import BLOCK_MIME, MODULE_MIME, block_mime, module_mime

TYPE_ROLE = Qt.ItemDataRole.UserRole
SEARCH_ROLE = Qt.ItemDataRole.UserRole + 1
MODULE_ROLE = Qt.ItemDataRole.UserRole + 2
MODULES = "Modules"


def module_matches(name: str, description: str, query: str) -> bool:
    """Whether a module's name or description mentions every word of ``query``."""
    text = f"{name} {description}".lower()
    return all(word in text for word in query.lower().split())


def swatch(colour: QColor, size: int = 12) -> QIcon:
    pixmap = QPixmap(size, size)
    pixmap.fill(colour)
    return QIcon(pixmap)


class BlockTree(QTreeWidget):
    """The tree of categories and blocks; dragging a block carries its type (as a copy)."""

    def startDrag(self, supportedActions: Qt.DropAction) -> None:
        # Copy only: a move would let the tree remove the item once it is dropped.
        super().startDrag(Qt.DropAction.CopyAction)

    def mimeTypes(self) -> list[str]:
        return [BLOCK_MIME, MODULE_MIME]

    def mimeData(self, items: Sequence[QTreeWidgetItem]) -> QMimeData:
        modules = [item.data(0, MODULE_ROLE) for item in items if item.data(0, MODULE_ROLE)]
        if modules:
            return module_mime(modules[0])
        types = [item.data(0, TYPE_ROLE) for item in items if item.data(0, TYPE_ROLE)]
        return block_mime(types[0] if types else "")


class PalettePanel(QWidget):
    block_activated = Signal(str)  # a block type to add at the centre of the canvas
    module_activated = Signal(str)  # a module to add at the centre of the canvas

    def __init__(self, registry: Registry = REGISTRY, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search blocks…")
        self.search.setClearButtonEnabled(True)
        self.tree = BlockTree()
        self.tree.setHeaderHidden(True)
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.tree.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.tree.setIndentation(12)
        self._items: dict[str, QTreeWidgetItem] = {}
        self._categories: list[QTreeWidgetItem] = []
        self._specs = dict(registry.items())
        for category, specs in registry.by_category().items():
            self._add_category(category, [(s.type, s.help) for s in specs])
        if module_names():
            self._add_category(MODULES, [(name, module_description(name)) for name in module_names()],
                               MODULE_ROLE)
        self.tree.expandAll()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.search)
        layout.addWidget(self.tree)
        self.search.textChanged.connect(self.filter)
        self.tree.itemActivated.connect(self._on_item_activated)
        theme.notifier().theme_changed.connect(self._paint_swatches)

    def _paint_swatches(self) -> None:
        """Each category's swatch in the colour the canvas now gives it (the theme changed)."""
        for top in self._categories:
            colour = theme.category_colour(top.text(0))
            top.setIcon(0, swatch(colour))
            for child in (top.child(i) for i in range(top.childCount())):
                if child is not None:
                    child.setIcon(0, swatch(colour, 10))

    def _add_category(self, category: str, blocks: list[tuple[str, str]],
                      role: int | Qt.ItemDataRole = TYPE_ROLE) -> None:
        colour = theme.category_colour(category)
        top = QTreeWidgetItem([category])
        top.setFlags(Qt.ItemFlag.ItemIsEnabled)
        font = top.font(0)
        font.setBold(True)
        top.setFont(0, font)
        top.setIcon(0, swatch(colour))
        self.tree.addTopLevelItem(top)
        self._categories.append(top)
        for block_type, help_text in blocks:
            item = QTreeWidgetItem([block_type])
            item.setData(0, role, block_type)
            item.setData(0, SEARCH_ROLE, help_text)
            item.setToolTip(0, help_text)
            item.setIcon(0, swatch(colour, 10))
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                          | Qt.ItemFlag.ItemIsDragEnabled)
            top.addChild(item)
            self._items[block_type if role == TYPE_ROLE else f"{MODULES}/{block_type}"] = item

    def item_for(self, block_type: str) -> QTreeWidgetItem:
        return self._items[block_type]

    def module_item(self, name: str) -> QTreeWidgetItem:
        return self._items[f"{MODULES}/{name}"]

    def mime_for(self, block_type: str) -> QMimeData:
        """What dragging ``block_type`` (or ``Modules/<name>``) out of the palette carries."""
        return self.tree.mimeData([self._items[block_type]])

    def filter(self, text: str) -> None:
        """Show the blocks the search finds (designer.graph.search) and the modules it names."""
        shown: dict[int, int] = {}
        for key, item in self._items.items():
            spec = self._specs.get(key)
            visible = (match_rank(spec, text) is not None if spec is not None
                       else module_matches(key.split("/", 1)[1], item.data(0, SEARCH_ROLE), text))
            item.setHidden(not visible)
            category = item.parent()
            shown[id(category)] = shown.get(id(category), 0) + visible
        for category in self._categories:
            category.setHidden(not shown.get(id(category)))

    def visible_types(self) -> list[str]:
        """The block types the search shows."""
        return [key for key in self._visible() if not key.startswith(f"{MODULES}/")]

    def visible_modules(self) -> list[str]:
        """The modules the search shows."""
        return [key.split("/", 1)[1] for key in self._visible() if key.startswith(f"{MODULES}/")]

    def _visible(self) -> list[str]:
        hidden = {id(c) for c in self._categories if c.isHidden()}
        return [t for t, item in self._items.items() if not item.isHidden() and id(item.parent()) not in hidden]

    def _on_item_activated(self, item: QTreeWidgetItem, column: int) -> None:
        block_type = item.data(0, TYPE_ROLE)
        if block_type:
            self.block_activated.emit(block_type)
        module = item.data(0, MODULE_ROLE)
        if module:
            self.module_activated.emit(module)
