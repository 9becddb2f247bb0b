"""Editing in the window as a person does it (issue 13 B5–B8, B10): the wheel, undo keys, paste, the name."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QCursor, QKeySequence, QWheelEvent
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QComboBox, QLineEdit, QWidget

from designer.graph.python_code import python_source
from designer.ui.properties_dialog import ProjectPropertiesDialog

CTRL = Qt.KeyboardModifier.ControlModifier


def wheel(widget: QWidget, steps: int = -1) -> None:
    """Turn the wheel ``steps`` notches over the middle of ``widget`` (negative: down)."""
    at = QPointF(widget.rect().center())
    event = QWheelEvent(at, QPointF(widget.mapToGlobal(at.toPoint())), QPoint(), QPoint(0, 120 * steps),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase,
                        False)
    QApplication.sendEvent(widget, event)


def value_of(field: QWidget) -> object:
    return field.currentText() if isinstance(field, QComboBox) else field.text()  # type: ignore[attr-defined]


def test_the_wheel_over_the_training_panel_scrolls_it_and_edits_nothing(make_window, qtbot):
    window = make_window("lenet5")
    window.resize(1000, 620)  # small enough that the settings scroll
    window.training_dock.raise_()
    panel = window.training_panel
    qtbot.waitUntil(lambda: panel.settings_scroll.isVisible(), timeout=3000)
    bar = panel.settings_scroll.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0, timeout=3000)
    fields = [w for w in panel.settings_scroll.widget().findChildren(QWidget)
              if isinstance(w, (QAbstractSpinBox, QComboBox)) and w.isVisible() and w.isEnabled()]
    assert any(isinstance(f, QComboBox) for f in fields)
    assert any(isinstance(f, QAbstractSpinBox) for f in fields)
    window.view.setFocus()
    stack = window.document.undo_stack
    for field in fields:
        bar.setValue(0)
        before = value_of(field)
        wheel(field)
        assert value_of(field) == before, f"the wheel changed {field!r}"
        assert bar.value() > 0 or field.mapTo(panel.settings_scroll, QPoint()).y() < 0, "the panel scrolled"
    assert stack.count() == 0 and not window.document.dirty


def test_the_wheel_still_steps_a_field_that_has_keyboard_focus(window, qtbot):
    window.view.select_only("c1")
    field = window.inspector.editor("out_channels").field()
    assert isinstance(field, QAbstractSpinBox)
    qtbot.mouseClick(field, Qt.MouseButton.LeftButton)  # a click gives it focus; a wheel does not
    assert field.hasFocus()
    before = field.value()  # type: ignore[attr-defined]
    wheel(field, 1)
    assert field.value() == before + 1  # type: ignore[attr-defined]


def _edit_in_inspector(window, qtbot, param: str, text: str) -> QWidget:
    window.view.select_only("c1")
    field = window.inspector.editor(param).field()
    qtbot.mouseClick(field, Qt.MouseButton.LeftButton)
    qtbot.keyClick(field, Qt.Key.Key_A, CTRL)
    qtbot.keyClicks(field, text)
    qtbot.keyClick(field, Qt.Key.Key_Return)
    return field


def test_ctrl_z_in_the_field_just_edited_undoes_the_edit_and_ctrl_y_redoes_it(window, qtbot):
    window.activateWindow()
    qtbot.waitActive(window)
    assert window.graph.node("c1").params["kernel_size"] == 5
    field = _edit_in_inspector(window, qtbot, "kernel_size", "3")
    assert window.graph.node("c1").params["kernel_size"] == 3
    assert QApplication.focusWidget() is field
    qtbot.keyClick(field, Qt.Key.Key_Z, CTRL)
    assert window.graph.node("c1").params["kernel_size"] == 5, "Ctrl+Z undid the edit from inside the field"
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Y, CTRL)
    assert window.graph.node("c1").params["kernel_size"] == 3, "Ctrl+Y redid it"
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Z, CTRL | Qt.KeyboardModifier.ShiftModifier)
    assert window.graph.node("c1").params["kernel_size"] == 3, "Ctrl+Shift+Z with nothing to redo: no change"
    window.document.undo_stack.undo()
    qtbot.keyClick(window.view, Qt.Key.Key_Z, CTRL | Qt.KeyboardModifier.ShiftModifier)
    assert window.graph.node("c1").params["kernel_size"] == 3, "the platform's redo keys work too"


def test_a_field_with_typing_of_its_own_undoes_that_first(window, qtbot):
    window.activateWindow()
    qtbot.waitActive(window)
    window.document.set_params("c1", {"out_channels": 8})  # a document edit to undo later
    window.view.select_only("c1")
    name = window.inspector.name_edit
    assert isinstance(name, QLineEdit)
    qtbot.mouseClick(name, Qt.MouseButton.LeftButton)
    qtbot.keyClick(name, Qt.Key.Key_End)
    qtbot.keyClicks(name, "x")
    assert name.text() == "c1x"
    qtbot.keyClick(name, Qt.Key.Key_Z, CTRL)
    assert name.text() == "c1" and window.graph.node("c1").params["out_channels"] == 8, "the field undid first"
    qtbot.keyClick(name, Qt.Key.Key_Z, CTRL)
    assert window.graph.node("c1").params["out_channels"] == 6, "then the document"


def test_redo_offers_the_platform_keys_and_ctrl_y(window):
    keys = [key.toString() for key in window.menu_actions.redo.shortcuts()]
    assert "Ctrl+Y" in keys and "Ctrl+Shift+Z" in keys
    for standard in QKeySequence.keyBindings(QKeySequence.StandardKey.Redo):
        assert standard.toString() in keys


# -- paste ------------------------------------------------------------------------------------


def _copy(window, *names: str) -> None:
    window.view.select_only(*names)
    window.menu_actions.copy.trigger()


def _rects(window, names):
    scene = window.view.graph_scene
    return {name: scene.item_for_node(name).sceneBoundingRect() for name in names}


def test_paste_lands_at_the_pointer_over_the_canvas(window, qtbot):
    view = window.view
    _copy(window, "c1", "s2")
    spot = view.viewport().rect().center() + QPoint(30, 90)
    QCursor.setPos(view.viewport().mapToGlobal(spot))
    before = set(window.graph.nodes)
    window.menu_actions.paste.trigger()
    new = sorted(set(window.graph.nodes) - before)
    assert len(new) == 2
    box = _rects(window, new)
    union = box[new[0]].united(box[new[1]])
    aimed = view.mapToScene(spot)
    assert abs(union.center().x() - aimed.x()) < 2 and abs(union.center().y() - aimed.y()) < 2


def test_paste_without_the_pointer_on_the_canvas_goes_beside_the_selection_over_nothing(window, qtbot):
    _copy(window, "c1", "s2", "c3")
    QCursor.setPos(window.mapToGlobal(QPoint(-50, -50)))  # off the window
    old = set(window.graph.nodes)
    copied = _rects(window, ["c1", "s2", "c3"])
    window.menu_actions.paste.trigger()
    new = sorted(set(window.graph.nodes) - old)
    assert len(new) == 3
    new_rects, old_rects = _rects(window, new), _rects(window, old)
    for name, rect in new_rects.items():
        for other, taken in old_rects.items():
            assert not rect.intersects(taken), f"{name} pasted over {other}"
    right_of_copied = max(r.right() for r in copied.values())
    assert min(r.left() for r in new_rects.values()) > right_of_copied - 1
    assert sorted(window.view.graph_scene.selected_nodes()) == new
    window.document.undo_stack.undo()
    assert set(window.graph.nodes) == old


# -- the project's name -----------------------------------------------------------------------


def test_file_properties_names_the_project_undoably(window, qtbot):
    window.menu_actions.properties.trigger()
    dialog = window.findChild(ProjectPropertiesDialog)
    assert dialog is not None and dialog.isVisible()
    field = dialog.name_field
    assert field.text() == "lenet5"
    qtbot.keyClick(field, Qt.Key.Key_A, CTRL)
    qtbot.keyClicks(field, "Digits net")
    qtbot.keyClick(field, Qt.Key.Key_Return)
    assert window.graph.name == "Digits net"
    assert "<b>Digits net</b>" in window.summary.header.text()
    source = python_source(window.graph)
    assert "class DigitsNet(" in source and "Digits net: a network exported from Designer." in source
    assert window.menu_actions.undo.text() == "Undo Name the project Digits net"
    window.menu_actions.undo.trigger()
    assert window.graph.name == "lenet5" and "<b>lenet5</b>" in window.summary.header.text()


def test_an_empty_name_is_refused_with_a_message(window, qtbot):
    errors = []
    window.show_error = lambda title, message: errors.append((title, message))  # type: ignore[method-assign]
    window.menu_actions.properties.trigger()
    dialog = window.findChild(ProjectPropertiesDialog)
    dialog.name_field.clear()
    qtbot.mouseClick(dialog.buttons.button(dialog.buttons.StandardButton.Ok), Qt.MouseButton.LeftButton)
    assert errors == [("Cannot name the project", "a project name cannot be empty")]
    assert window.graph.name == "lenet5"


def test_the_first_save_names_the_project_after_its_file(make_window, tmp_path):
    window = make_window("lenet5")  # a template: no file yet
    window.ask_save_path = lambda suggested: str(tmp_path / "mylenet.json")  # type: ignore[method-assign]
    window.menu_actions.save_as.trigger()
    assert window.graph.name == "mylenet"
    assert "<b>mylenet</b>" in window.summary.header.text()
    assert "class Mylenet(" in python_source(window.graph)
    assert not window.document.dirty
    window.menu_actions.undo.trigger()
    assert window.graph.name == "lenet5", "naming on save is undoable"
    window.menu_actions.new.trigger()
    assert window.graph.name == "untitled"
    window.document.set_name("kept")
    window.ask_save_path = lambda suggested: str(tmp_path / "other.json")  # type: ignore[method-assign]
    window.menu_actions.save_as.trigger()
    assert window.graph.name == "kept", "a name the user gave stays"
