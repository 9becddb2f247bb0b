"""The "Find learning rate" button and dialog: the curve on a log axis, its suggestion, "Use" as one edit."""

from __future__ import annotations

import math

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

import designer
from designer.data import DatasetConfig
from designer.training import TrainingConfig
from designer.ui.document import Document
from designer.ui.training.background import running_tasks
from designer.ui.training.lr_find_dialog import LrFindDialog
from tests.ui.test_training_panel import TIMEOUT, log, press, trainer  # noqa: F401  # trainer: a fixture


def test_the_dialog_draws_the_curve_marks_the_suggestion_and_use_hands_it_over(qtbot):
    document = Document(designer.load("lenet5"))
    dialog = LrFindDialog(document.graph, DatasetConfig(), TrainingConfig(), steps=20)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.finding is not None, timeout=TIMEOUT)
    finding = dialog.finding
    xs, ys = dialog.curve.getData()
    assert len(xs) == len(finding.lrs) and list(ys) == list(finding.smoothed)
    assert dialog.plot.getPlotItem().ctrl.logXCheck.isChecked()  # the rate on a log axis
    assert finding.suggestion is not None and dialog.suggestion_line.isVisible()
    assert dialog.suggestion_line.value() == pytest.approx(math.log10(finding.suggestion))
    assert "Suggested learning rate: " in dialog.status.text()
    assert dialog.use_button.isEnabled() and dialog.use_button.text().startswith("Use ")
    with qtbot.waitSignal(dialog.used) as used:
        QTest.mouseClick(dialog.use_button, Qt.MouseButton.LeftButton)
    assert used.args == [finding.suggestion] and not dialog.isVisible()


def test_closing_the_dialog_while_it_runs_cancels_the_finder(qtbot):
    dialog = LrFindDialog(designer.load("lenet5"), DatasetConfig(), TrainingConfig(), steps=10_000)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: len(dialog.curve.getData()[0] or ()) > 0, timeout=TIMEOUT)  # it is stepping
    dialog.reject()
    qtbot.waitUntil(lambda: running_tasks() == 0, timeout=TIMEOUT)
    assert dialog.finding is None and len(dialog.curve.getData()[0]) < 10_000


def test_the_panels_button_finds_a_rate_and_use_is_one_undoable_edit(trainer, qtbot):  # noqa: F811
    window, panel, _seen = trainer()
    assert window.graph.meta["training"] == {"lr": 0.05}
    press(panel.find_lr_button)
    dialog = panel.findChild(LrFindDialog)
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(lambda: dialog.finding is not None, timeout=TIMEOUT)
    press(dialog.use_button)
    chosen = float(f"{dialog.finding.suggestion:.3g}")
    assert window.graph.meta["training"]["lr"] == chosen and panel.form.config().lr == chosen
    assert f"Learning rate set to {chosen:g}" in log(panel)
    stack = window.document.undo_stack
    assert stack.count() == 1 and stack.undoText() == "Change training.lr"
    window.menu_actions.undo.trigger()
    assert window.graph.meta["training"] == {"lr": 0.05}
    assert not (window.document.path.parent / "runs").exists()  # the finder writes nothing
