"""The window's actions as one table (issue 13 E): handlers take what they use, the lock goes by the table."""

from __future__ import annotations

import ast
import inspect

import pytest
from PySide6.QtWidgets import QMenu

from designer.ui import export_commands, menus
from designer.ui.menus import ACTIONS
from designer.ui.training import lock, runs_dock

LOCK_REASON = "A training run uses this network"


@pytest.mark.parametrize("module", [menus, export_commands, lock, runs_dock])
def test_menus_exports_lock_and_runs_never_see_the_main_window(module):
    tree = ast.parse(inspect.getsource(module))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert "designer.ui.main_window" not in imported
    assert "MainWindow" not in inspect.getsource(module)


def test_every_menu_action_comes_from_the_table(window):
    table = window.menu_actions
    names = {spec.name for spec in ACTIONS}
    in_menus = {action.objectName() for menu in window.menuBar().findChildren(QMenu)
                for action in menu.actions() if action.objectName() in names}
    assert in_menus == names
    for spec in ACTIONS:
        assert table[spec.name].text().replace("&", "") != ""


def test_the_lock_switches_off_exactly_the_actions_the_table_marks_as_edits(window, qtbot):
    table = window.menu_actions
    before = {spec.name: table[spec.name].isEnabled() for spec in ACTIONS}
    window.document.set_locked(LOCK_REASON)
    for spec in ACTIONS:
        action = table[spec.name]
        if spec.edits:
            assert not action.isEnabled(), f"{spec.name} edits the network: off while it trains"
        elif spec.name not in ("undo", "redo"):
            assert action.isEnabled() == before[spec.name], f"{spec.name} edits nothing: it stays"
    assert not table.undo.isEnabled() and not window.inspector.isEnabled()
    window.document.set_locked(None)
    assert {spec.name: table[spec.name].isEnabled() for spec in ACTIONS} == before


def test_the_shortcut_of_a_locked_edit_does_nothing(window, qtbot):
    window.view.select_only("c1")
    window.document.set_locked(LOCK_REASON)
    window.menu_actions.delete.trigger()
    assert "c1" in window.graph
    window.document.set_locked(None)
    window.menu_actions.delete.trigger()
    assert "c1" not in window.graph


def test_document_macro_makes_one_undo_step(window):
    document = window.document
    with document.macro("Widen both"):
        document.set_params("c1", {"out_channels": 8})
        document.set_params("c3", {"out_channels": 20})
    assert window.menu_actions.undo.text() == "Undo Widen both"
    window.menu_actions.undo.trigger()
    assert window.graph.node("c1").params["out_channels"] == 6
    assert window.graph.node("c3").params["out_channels"] == 16


def test_a_macro_on_a_locked_document_is_refused_before_it_opens(window):
    from designer.ui.document import DocumentLocked

    window.document.set_locked(LOCK_REASON)
    with pytest.raises(DocumentLocked, match=LOCK_REASON), window.document.macro("Anything"):
        pass
    window.document.set_locked(None)
    assert window.document.undo_stack.count() == 0


def test_each_menu_gives_every_entry_its_own_access_key(window):
    for menu in [action.menu() for action in window.menuBar().actions()]:
        keys = [action.text().split("&", 1)[1][0].lower() for action in menu.actions()
                if "&" in action.text().replace("&&", "")]
        assert len(keys) == len(set(keys)), f"{menu.title()}: {sorted(keys)}"
