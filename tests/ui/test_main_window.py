"""The main window: docks, file commands with the dirty marker, prompts, errors, settings."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

import designer
from designer.graph.project import load
from designer.ui.main_window import MainWindow
from tests.ui.gestures import assert_mirrors

Button = QMessageBox.StandardButton


def test_window_shows_alexnet_with_formulas(make_window, qtbot):
    window = make_window("alexnet")
    table = window.summary.table
    row = table.row_of("conv1")
    assert table.item(row, 3).text() == "96×55×55"
    assert table.item(row, 7).text() == "55 = ⌊(227 − 11 + 2·0) / 4⌋ + 1"
    assert "60,965,224 parameters" in window.summary.header.text()
    assert window.windowTitle() == "alexnet — Designer"
    view = window.view

    def whole_network_shown() -> bool:
        seen = view.mapToScene(view.viewport().rect()).boundingRect()
        return all(seen.contains(block.sceneBoundingRect()) for block in view.graph_scene.block_items())

    qtbot.waitUntil(whole_network_shown, timeout=3000)  # a template opens showing the whole network


def test_table_follows_model_edits(window, qtbot):
    graph = window.graph
    graph.set_params("c1", {"kernel_size": 40})
    table = window.summary.table
    qtbot.waitUntil(lambda: table.item(table.row_of("c1"), 3).text() == "error", timeout=2000)
    row = table.row_of("c1")
    assert "kernel 40 is larger than the padded input 32" in table.item(row, 7).text()
    assert table.item(row + 1, 3).text() == "unknown"


def test_clicking_a_summary_row_selects_and_centres_the_block(window, qtbot):
    table, view = window.summary.table, window.view
    rect = table.visualItemRect(table.item(table.row_of("output"), 0))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert view.graph_scene.selected_nodes() == ["output"]
    assert window.inspector.node_name == "output"
    centre = view.mapToScene(view.viewport().rect().center())
    block = view.graph_scene.item_for_node("output").pos()
    assert abs(centre.x() - block.x()) < 2 and abs(centre.y() - block.y()) < 2


def test_templates_open_from_the_file_menu(window):
    window.menu_actions.templates["vgg16"].trigger()
    assert window.windowTitle() == "vgg16 — Designer"
    assert len(window.view.graph_scene.block_items()) == len(window.graph)
    assert_mirrors(window.view.graph_scene, window.graph)


def test_dirty_marker_save_and_open_through_the_file_actions(window, tmp_path):
    actions, document = window.menu_actions, window.document
    assert window.windowTitle() == "lenet5 — Designer"
    document.set_params("c1", {"out_channels": 8})
    assert window.windowTitle() == "lenet5* — Designer"
    path = tmp_path / "lenet5.json"
    asked = []
    window.ask_save_path = lambda suggested: asked.append(suggested) or str(path)
    actions.save.trigger()
    assert asked == [str(Path.cwd() / "lenet5.json")]
    assert load(path).node("c1").params["out_channels"] == 8
    assert window.windowTitle() == "lenet5.json — Designer"
    document.set_params("c1", {"out_channels": 9})
    assert window.windowTitle() == "lenet5.json* — Designer"
    document.undo_stack.undo()
    assert window.windowTitle() == "lenet5.json — Designer", "undoing back to the save is clean"
    document.undo_stack.redo()
    actions.save.trigger()
    assert len(asked) == 1, "Save writes to the known file without asking"
    assert load(path).node("c1").params["out_channels"] == 9

    actions.new.trigger()
    assert window.windowTitle() == "untitled — Designer" and list(window.graph.nodes) == ["input"]
    window.ask_open_path = lambda: str(path)
    actions.open.trigger()
    assert window.windowTitle() == "lenet5.json — Designer"
    assert window.graph.node("c1").params["out_channels"] == 9
    assert not window.document.undo_stack.canUndo()


def test_save_as_adds_the_extension(window, tmp_path):
    window.ask_save_path = lambda suggested: str(tmp_path / "copy")
    window.menu_actions.save_as.trigger()
    assert (tmp_path / "copy.json").is_file()
    assert window.windowTitle() == "copy.json — Designer"


def test_unsaved_changes_prompt_before_new_open_and_close(window, tmp_path):
    window.document.set_params("c1", {"out_channels": 8})
    answers = [Button.Cancel]
    window.ask_unsaved_changes = lambda: answers.pop(0)
    window.menu_actions.new.trigger()
    assert window.graph.node("c1").params["out_channels"] == 8, "Cancel keeps the document"
    answers.append(Button.Cancel)
    window.close()
    assert window.isVisible(), "Cancel keeps the window open"
    answers.append(Button.Save)
    window.ask_save_path = lambda suggested: str(tmp_path / "kept.json")
    window.menu_actions.templates["alexnet"].trigger()
    assert window.windowTitle() == "alexnet — Designer"
    assert load(tmp_path / "kept.json").node("c1").params["out_channels"] == 8
    assert not answers


def test_opening_a_bad_file_shows_the_message_and_keeps_the_document(window, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "designer-project", "version": 1, "nodes": [{"name": "a", "type": "Conv3d"}]}')
    window.document.set_params("c1", {"out_channels": 8})
    document = window.document
    window.ask_open_path = lambda: str(bad)
    seen = []

    def read_the_box():
        box = QApplication.activeModalWidget()
        seen.append((box.windowTitle(), box.text()))
        box.accept()

    QTimer.singleShot(0, read_the_box)
    window.menu_actions.open.trigger()
    assert seen == [("Cannot open", f'{bad}: nodes[0] "a": unknown block type \'Conv3d\'; '
                                    "did you mean 'Conv2d'?")]
    assert window.document is document and window.graph.node("c1").params["out_channels"] == 8
    assert window.windowTitle() == "lenet5* — Designer"


def test_edit_menu_names_undo_and_redo(window):
    actions = window.menu_actions
    assert not actions.undo.isEnabled()
    window.document.set_params("c1", {"kernel_size": 3})
    assert actions.undo.text() == "Undo Change kernel_size of c1"
    actions.undo.trigger()
    assert actions.redo.text() == "Redo Change kernel_size of c1"
    assert actions.undo.shortcut().toString() == "Ctrl+Z"


def test_auto_layout_is_one_undoable_step(window):
    window.document.move_nodes({"c1": (100.0, 400.0), "s2": (0.0, -300.0)})
    window.menu_actions.auto_layout.trigger()
    assert window.graph.node("c1").position[1] == window.graph.node("input").position[1]  # one row again
    assert window.graph.node("c1").position[0] > window.graph.node("input").position[0]
    assert window.menu_actions.undo.text() == "Undo Auto Layout"
    window.menu_actions.undo.trigger()
    assert window.graph.node("c1").position == (100.0, 400.0)


def test_window_geometry_and_docks_are_remembered(qtbot, tmp_path):
    settings = QSettings(str(tmp_path / "remember.ini"), QSettings.Format.IniFormat)
    window = MainWindow(designer.load("lenet5"), settings)
    window.resize(700, 500)
    window.show()
    qtbot.waitExposed(window)
    window.docks[2].hide()
    window.close()
    window.deleteLater()
    again = MainWindow(designer.load("lenet5"), settings)
    qtbot.addWidget(again)
    assert (again.width(), again.height()) == (700, 500)
    assert again.docks[2].isHidden()
