"""The minimal window shows the live summary of a project."""

from PySide6.QtCore import Qt

import designer
from designer.ui.main_window import MainWindow


def test_window_shows_alexnet_with_formulas(qtbot):
    window = MainWindow(designer.load("alexnet"))
    qtbot.addWidget(window)
    window.show()
    table = window.table
    names = [table.item(r, 0).text() for r in range(table.rowCount())]
    row = names.index("conv1")
    assert table.item(row, 3).text() == "96×55×55"
    assert table.item(row, 7).text() == "55 = ⌊(227 − 11 + 2·0) / 4⌋ + 1"
    assert "60,965,224 parameters" in window.header.text()
    assert window.windowTitle() == "alexnet — Designer"


def test_table_follows_model_edits(qtbot):
    graph = designer.load("lenet5")
    window = MainWindow(graph)
    qtbot.addWidget(window)
    graph.set_params("c1", {"kernel_size": 40})
    names = [window.table.item(r, 0).text() for r in range(window.table.rowCount())]
    row = names.index("c1")
    assert window.table.item(row, 3).text() == "error"
    assert "kernel 40 is larger than the padded input 32" in window.table.item(row, 7).text()
    assert window.table.item(row + 1, 3).text() == "unknown"


def test_file_menu_opens_a_template(qtbot):
    window = MainWindow(designer.load("alexnet"))
    qtbot.addWidget(window)
    window.show()
    menu = window.menuBar().actions()[0].menu()
    templates = next(a.menu() for a in menu.actions() if a.menu() is not None)
    vgg = next(a for a in templates.actions() if a.text() == "vgg16")
    vgg.trigger()
    assert window.windowTitle() == "vgg16 — Designer"
    qtbot.keyClick(window, Qt.Key.Key_Escape)
