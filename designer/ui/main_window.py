"""The main window. Until the node editor lands it shows the live summary of a project."""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QLabel, QMainWindow, QMessageBox, QVBoxLayout, QWidget

from designer.graph import Graph, GraphError, load
from designer.graph.summary import human, totals
from designer.graph.templates import template_description, template_names
from designer.ui.summary_table import SummaryTable


class MainWindow(QMainWindow):
    def __init__(self, graph: Graph) -> None:
        super().__init__()
        self.resize(1200, 720)
        self.table = SummaryTable()
        self.header = QLabel()
        self.header.setWordWrap(True)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addWidget(self.header)
        layout.addWidget(self.table)
        self.setCentralWidget(central)
        self._build_menus()
        self.graph = graph
        self.show_graph(graph)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        open_action = QAction("&Open…", self, shortcut=QKeySequence.StandardKey.Open)
        open_action.triggered.connect(self._open_dialog)
        file_menu.addAction(open_action)
        templates = file_menu.addMenu("New from &Template")
        for name in template_names():
            action = QAction(name, self)
            action.setStatusTip(template_description(name))
            action.triggered.connect(lambda checked=False, n=name: self.open_source(n))
            templates.addAction(action)
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self, shortcut=QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)

    def show_graph(self, graph: Graph) -> None:
        self.graph = graph
        self.table.set_graph(graph)
        total = totals(graph)
        errors = graph.errors()
        status = f"{len(errors)} error(s)" if errors else "no errors"
        self.header.setText(
            f"<b>{graph.name}</b> — {graph.description}<br>"
            f"{len(graph)} blocks · {total['params']:,} parameters ({human(total['params'])}) · "
            f"{human(total['macs'])} MACs per sample · {status}"
        )
        self.setWindowTitle(f"{graph.name} — Designer")

    def open_source(self, src: str) -> bool:
        try:
            graph = load(src)
        except GraphError as exc:
            QMessageBox.warning(self, "Cannot open", str(exc))
            return False
        self.show_graph(graph)
        self.statusBar().showMessage(f"Opened {src}", 5000)
        return True

    def _open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open project", "", "Designer projects (*.json)")
        if path:
            self.open_source(path)
