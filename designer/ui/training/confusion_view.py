"""The confusion matrix as a heat map: a table of counts, each cell coloured by its share of the row.

Rows are the true classes, columns the predicted ones, labelled with the class
names. Colour follows the row-normalised count (the share of a class's samples
that went to each prediction), so a rare class's mistakes show as clearly as a
common one's; the cell's text is the count itself. Clicking a cell emits
``cell_clicked(true_class, predicted_class)``. The matrix is plain lists of
ints: this module needs no torch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from designer.ui import theme

CELL = 34  # pixels a side: enough for a four-digit count

Index = QModelIndex | QPersistentModelIndex


def heat(share: float) -> QColor:
    """The theme's cold colour (the plain background) at 0, its accent colour at 1, straight between."""
    share = min(max(share, 0.0), 1.0)
    cold, hot = (QColor(colour) for colour in theme.current().heat)
    return QColor.fromRgbF(*(c + share * (h - c) for c, h in zip(_rgb(cold), _rgb(hot))))


def _rgb(colour: QColor) -> tuple[float, float, float]:
    return colour.redF(), colour.greenF(), colour.blueF()


class ConfusionMatrixModel(QAbstractTableModel):
    """``counts[t][p]`` with class names as headers; BackgroundRole is the row share's heat colour."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._counts: list[list[int]] = []
        self._names: list[str] = []
        self._row_totals: list[int] = []

    def set_matrix(self, counts: Sequence[Sequence[int]], class_names: Sequence[str]) -> None:
        if len(counts) != len(class_names) or any(len(row) != len(class_names) for row in counts):
            raise ValueError(f"a {len(class_names)}-class confusion matrix must be "
                             f"{len(class_names)}×{len(class_names)}")
        self.beginResetModel()
        self._counts = [[int(c) for c in row] for row in counts]
        self._names = [str(name) for name in class_names]
        self._row_totals = [sum(row) for row in self._counts]
        self.endResetModel()

    def clear(self) -> None:
        self.set_matrix([], [])

    def count(self, true_class: int, predicted_class: int) -> int:
        return self._counts[true_class][predicted_class]

    def share(self, true_class: int, predicted_class: int) -> float:
        """The cell's share of its row: of the samples of ``true_class``, how many went here."""
        total = self._row_totals[true_class]
        return self._counts[true_class][predicted_class] / total if total else 0.0

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt's own signature)
        return 0 if parent.isValid() else len(self._counts)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt's own signature)
        return 0 if parent.isValid() else len(self._names)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        t, p = index.row(), index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return str(self._counts[t][p])
        if role == Qt.ItemDataRole.BackgroundRole:
            return heat(self.share(t, p))
        if role == Qt.ItemDataRole.ForegroundRole:
            return theme.readable_on(heat(self.share(t, p)))
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return Qt.AlignmentFlag.AlignCenter
        if role == Qt.ItemDataRole.ToolTipRole:
            return (f"true {self._names[t]}, predicted {self._names[p]}: {self._counts[t][p]} "
                    f"({self.share(t, p):.1%} of {self._names[t]})")
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not 0 <= section < len(self._names):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self._names[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            side = "predicted" if orientation == Qt.Orientation.Horizontal else "true"
            return f"{side} class {self._names[section]}"
        return None


class ConfusionMatrixView(QTableView):
    """The heat map: rows are true classes, columns predicted classes; a click names the cell."""

    cell_clicked = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.matrix = ConfusionMatrixModel(self)
        self.setModel(self.matrix)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setCornerButtonEnabled(False)
        for header in (self.horizontalHeader(), self.verticalHeader()):
            header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
            header.setDefaultSectionSize(CELL)
            header.setMinimumSectionSize(CELL)
        self.horizontalHeader().setToolTip("predicted class")
        self.verticalHeader().setToolTip("true class")
        self.clicked.connect(self._on_clicked)
        theme.notifier().theme_changed.connect(self._on_theme_changed)

    def _on_theme_changed(self) -> None:
        self.viewport().update()  # the model's colours come from the theme as each cell is drawn

    def set_matrix(self, counts: Sequence[Sequence[int]], class_names: Sequence[str]) -> None:
        self.matrix.set_matrix(counts, class_names)

    def cell_rect_centre(self, true_class: int, predicted_class: int) -> Any:
        """Where a cell is drawn, in viewport coordinates (for a click)."""
        return self.visualRect(self.matrix.index(true_class, predicted_class)).center()

    def _on_clicked(self, index: QModelIndex) -> None:
        if index.isValid():
            self.cell_clicked.emit(index.row(), index.column())
