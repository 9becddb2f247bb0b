"""The summary table: one row per block, updated live from the graph's events."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from designer.graph.graph import Graph
from designer.graph.summary import rows

COLUMNS = ("Name", "Type", "Connected to", "Output", "Params", "MACs", "RF", "Formula")
ERROR_BRUSH = QBrush(QColor("#c62828"))
UNKNOWN_BRUSH = QBrush(QColor("#8a8a8a"))


class SummaryTable(QTableWidget):
    def __init__(self, parent: object = None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.setHorizontalHeaderLabels(COLUMNS)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setAlternatingRowColors(True)
        self.verticalHeader().setVisible(False)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self._graph: Graph | None = None

    def set_graph(self, graph: Graph) -> None:
        if self._graph is not None:
            self._graph.events.shapes_changed.disconnect(self._on_shapes_changed)
        self._graph = graph
        graph.events.shapes_changed.connect(self._on_shapes_changed)
        self.refresh()

    def _on_shapes_changed(self, names: object) -> None:
        self.refresh()

    def refresh(self) -> None:
        if self._graph is None:
            return
        table = rows(self._graph)
        self.setRowCount(len(table))
        for i, row in enumerate(table):
            note = row.formula if row.status == "ok" else (row.error or "")
            cells = (row.name, row.type, ", ".join(row.inputs), row.output_shape,
                     f"{row.params:,}", f"{row.macs:,}", row.rf_text(), note)
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if j in (4, 5):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if row.status == "error":
                    item.setForeground(ERROR_BRUSH)
                    item.setToolTip(row.error or "")
                elif row.status == "unknown":
                    item.setForeground(UNKNOWN_BRUSH)
                self.setItem(i, j, item)
