"""The summary: one row per block with shapes, costs and formulas, and the totals above.

It follows the graph's events and rebuilds once per burst of edits (a deferred
refresh), so deleting twenty blocks costs one rebuild, not sixty. Clicking a
row asks for that block to be selected (:attr:`SummaryTable.node_clicked`).

The panel's "what if the input were …" field shows the table for another input
size: each refresh runs on a fresh copy of the graph with the first Input's shape
replaced, so the document itself (its undo stack, its saved state) never changes.
"""

from __future__ import annotations

import contextlib
import html
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from designer.graph.errors import GraphError
from designer.graph.events import Event
from designer.graph.graph import Graph
from designer.graph.shapes import fmt_shape, parse_shape
from designer.graph.summary import human, rows, totals, warning_list
from designer.ui import theme

COLUMNS = ("Name", "Type", "Connected to", "Output", "Params", "MACs", "RF", "Formula")
# The colour of a row's text, by its status: the theme's, taken at each refresh (a new theme refreshes).
STATUS_ROLES = {"error": theme.ERROR_TEXT, "unknown": theme.MUTED}


class SummaryTable(QTableWidget):
    node_clicked = Signal(str)
    refreshed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.setHorizontalHeaderLabels(COLUMNS)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setAlternatingRowColors(True)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self._graph: Graph | None = None
        # derive: what to show instead of the graph itself (the what-if copy); shown: what was shown.
        self.derive: Callable[[Graph], Graph] | None = None
        self.shown: Graph | None = None
        self._names: list[str] = []
        self._subscriptions: list[tuple[Event, Callable[..., Any]]] = []
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self.refresh)
        self.cellClicked.connect(self._on_cell_clicked)
        theme.notifier().theme_changed.connect(self._on_graph_changed)

    def set_graph(self, graph: Graph) -> None:
        for event, callback in self._subscriptions:
            event.disconnect(callback)
        self._graph = graph
        events = graph.events
        self._subscriptions = [(event, self._on_graph_changed) for event in (
            events.shapes_changed, events.params_changed, events.node_renamed,
            events.node_added, events.node_removed, events.edge_added, events.edge_removed,
        )]
        for event, callback in self._subscriptions:
            event.connect(callback)
        self.refresh()

    def _on_graph_changed(self, *args: object) -> None:
        self._timer.start()

    @property
    def pending(self) -> bool:
        """Whether a refresh is waiting for the event loop."""
        return self._timer.isActive()

    def refresh(self) -> None:
        self._timer.stop()
        if self._graph is None:
            return
        self.shown = self._graph if self.derive is None else self.derive(self._graph)
        table = rows(self.shown)
        selected = [self._names[i.row()] for i in self.selectionModel().selectedRows()
                    if i.row() < len(self._names)]
        scrolled = self.verticalScrollBar().value()
        # Empty the table first: replacing the items of a filled one re-measures the
        # ResizeToContents columns for every cell (quadratic: 49 s for 400 rows, 0.04 s so).
        self.setRowCount(0)
        self._names = [row.name for row in table]
        self.setRowCount(len(table))
        role = {status: QBrush(theme.text_colour(role)) for status, role in STATUS_ROLES.items()}
        for i, row in enumerate(table):
            note = row.formula if row.status == "ok" else (row.error or "")
            cells = (row.name, row.type, ", ".join(row.inputs), row.output_shape,
                     f"{row.params:,}", f"{row.macs:,}", row.rf_text(), note)
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if j in (4, 5):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if row.status in role:
                    item.setForeground(role[row.status])
                if row.status == "error":
                    item.setToolTip(row.error or "")
                self.setItem(i, j, item)
        self.verticalScrollBar().setValue(scrolled)
        self.select_name(selected[0] if selected else None)
        self.refreshed.emit()

    def row_of(self, name: str) -> int:
        return self._names.index(name)

    def select_name(self, name: str | None) -> None:
        """Highlight ``name``'s row (or none) without announcing a click."""
        blocker = QSignalBlocker(self)
        if name in self._names:
            self.selectRow(self._names.index(name))
        else:
            self.clearSelection()
        blocker.unblock()

    def _on_cell_clicked(self, row: int, column: int) -> None:
        if 0 <= row < len(self._names):
            self.node_clicked.emit(self._names[row])


class SummaryPanel(QWidget):
    """The totals line and the what-if input size over the table."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.header = QLabel()
        self.header.setWordWrap(True)
        self.what_if = QLineEdit()
        self.what_if.setPlaceholderText("C×H×W")
        self.what_if.setToolTip("See the table for another input size; the graph itself is not changed.")
        self.what_if.setMaximumWidth(140)
        self.reset_button = QPushButton("Reset")
        self.what_if_message = QLabel()
        theme.paint_text(self.what_if_message, theme.ERROR_TEXT)
        self.table = SummaryTable()
        row = QHBoxLayout()
        row.addWidget(QLabel("What if the input were"))
        row.addWidget(self.what_if)
        row.addWidget(self.reset_button)
        row.addWidget(self.what_if_message, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.header)
        layout.addLayout(row)
        layout.addWidget(self.table)
        self.table.refreshed.connect(self._update_header)
        self.what_if.returnPressed.connect(self._on_what_if_entered)
        self.reset_button.clicked.connect(self.reset_what_if)
        self._graph: Graph | None = None
        self._shape: tuple[int, ...] | None = None  # the what-if input shape, None: the real graph

    def set_graph(self, graph: Graph) -> None:
        self._graph = graph
        self._clear_what_if()  # another network: its own input size
        self.table.set_graph(graph)

    @property
    def what_if_shape(self) -> tuple[int, ...] | None:
        """The input shape the table shows instead of the real one; None when it shows the graph."""
        return self._shape

    def reset_what_if(self) -> None:
        self._clear_what_if()
        self.table.refresh()

    def _clear_what_if(self) -> None:
        self._shape = None
        self.table.derive = None
        self.what_if.clear()
        self.what_if_message.clear()

    def _on_what_if_entered(self) -> None:
        text = self.what_if.text()
        if not text.strip():
            self.reset_what_if()
            return
        try:
            shape = parse_shape(text)
            self._check_shape(shape)
        except (ValueError, GraphError) as error:
            self.what_if_message.setText(str(error))  # the table stays as it was
            return
        self.what_if_message.clear()
        self._shape = shape
        self.table.derive = self._derive
        self.table.refresh()

    def _check_shape(self, shape: tuple[int, ...]) -> None:
        """Raise the reason the first Input block would refuse ``shape``."""
        if self._graph is None or not self._graph.inputs():
            raise ValueError("the graph has no Input block")
        node = self._graph.node(self._graph.inputs()[0])
        node.spec.coerce_params({"shape": shape}, node.params)

    def _derive(self, graph: Graph) -> Graph:
        """A fresh copy of ``graph`` with the what-if shape on its first Input (the graph as is if it can't)."""
        copy = graph.copy()
        inputs = copy.inputs()
        if self._shape is not None and inputs:
            # The first Input may have changed under the what-if and refuse it: the header says so.
            with contextlib.suppress(GraphError):
                copy.set_params(inputs[0], {"shape": self._shape})
        return copy

    def _what_if_text(self, graph: Graph) -> str:
        if self._shape is None:
            return ""
        inputs = graph.inputs()
        if not inputs:
            note = " (the graph has no Input block: nothing to apply it to)"
        elif graph.node(inputs[0]).params["shape"] != self._shape:
            note = f" ({_escape(inputs[0])} does not accept it)"
        elif len(inputs) > 1:
            note = f" (applied to {_escape(inputs[0])}, the first of {len(inputs)} Input blocks)"
        else:
            note = ""
        return theme.span(f"<b>What if the input were {fmt_shape(self._shape)}</b>{note}:", theme.WHAT_IF) + " "

    def _update_header(self) -> None:
        graph = self.table.shown
        if graph is None:
            return
        total = totals(graph)
        errors = graph.errors()
        status = theme.span(f"{len(errors)} error(s)", theme.ERROR_TEXT) if errors else "no errors"
        status += "".join(f"<br>{theme.span(_escape(w), theme.ERROR_TEXT)}" for w in warning_list(graph))
        description = f" — {_escape(graph.description)}" if graph.description else ""
        self.header.setText(
            f"<b>{_escape(graph.name)}</b>{description}<br>{self._what_if_text(graph)}"
            f"{len(graph)} blocks · {total['params']:,} parameters ({human(total['params'])}) · "
            f"{human(total['macs'])} MACs per sample · {status}"
        )


def _escape(text: str) -> str:
    return html.escape(text, quote=False)
