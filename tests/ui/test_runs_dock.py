"""The issue's whole story in the window: train LeNet-5 twice with different rates, compare, evaluate, export.

Two one-epoch runs are trained from the Training tab, then the Runs tab lists
them: selecting both overlays their curves on the plots, Compare lists the
changed rate, Evaluate fills the confusion matrix, Predict… opens a dialog,
and Export… writes the trained weights, which equal the run's checkpoint.
"""

from __future__ import annotations

import pytest
import torch
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from safetensors.torch import load_file

from designer.training import load_checkpoint
from tests.ui.test_training_panel import TIMEOUT, press, retype, trainer, wait_idle  # noqa: F401  # a fixture

CTRL = Qt.KeyboardModifier.ControlModifier


def click_run(panel, run_id: str, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    item = panel.tree.topLevelItem(panel.row_of(run_id))
    QTest.mouseClick(panel.tree.viewport(), Qt.MouseButton.LeftButton, modifier,
                     panel.tree.visualItemRect(item).center())


def click_action(panel, name: str) -> None:
    QTest.mouseClick(panel.toolbar.widgetForAction(panel.actions_by_name[name]), Qt.MouseButton.LeftButton)


@pytest.fixture
def two_runs(trainer, qtbot):  # noqa: F811  # the fixture imported above
    window, training, seen = trainer(epochs=1, batch_size=128)
    ids = []
    for lr in ("0.05", "0.01"):
        retype(training.form.editor("lr").field(), lr)
        press(training.start_button)
        wait_idle(qtbot, training)
        ids.append(next(run_id for run_id in seen.records if run_id not in ids))
    assert [status for status, _ in seen.ended] == ["finished", "finished"]
    return window, ids


def test_the_runs_tab_lists_the_projects_runs_and_overlays_the_selected_ones(two_runs, qtbot):
    window, (fast, slow) = two_runs
    runs = window.runs.panel
    window.runs.runs_dock.raise_()
    assert [run.run_id for run in runs.runs()] == [slow, fast]  # newest first
    plots = window.plots.plots
    for run_id in (fast, slow):
        plots.remove_run(run_id)  # as after reopening the project: nothing drawn yet
    click_run(runs, fast)
    click_run(runs, slow, CTRL)
    assert sorted(plots.run_ids()) == sorted([fast, slow])
    QApplication.processEvents()
    assert window.runs.runs_dock.isVisible() and not window.runs.runs_dock.visibleRegion().isEmpty(), \
        "the Runs tab stays in front, its buttons where they were"
    assert window.plots_dock.visibleRegion().isEmpty()
    x, y = plots.curves(fast).loss_raw.getData()
    assert len(x) == len(y) > 0
    assert plots.label(fast) == runs.label(fast) and plots.label(slow) == runs.label(slow)
    assert "lr 0.05" in plots.label(fast) and "lr 0.01" in plots.label(slow)  # the legend tells them apart
    click_run(runs, slow)  # only the slow run stays selected: the fast one's curves go
    assert plots.run_ids() == [slow]
    click_run(runs, fast, CTRL)
    click_action(runs, "compare")
    dialog = runs.compare_dialog
    changed = {(row.section, row.key): (row.left, row.right) for row in dialog.diff.rows if row.changed}
    assert changed[("Training", "lr")] == ("0.05", "0.01")
    dialog.close()


def test_evaluate_predict_and_export_a_trained_run(two_runs, qtbot, tmp_path, monkeypatch):
    window, (fast, _slow) = two_runs
    runs = window.runs.panel
    window.runs.runs_dock.raise_()
    click_run(runs, fast)
    click_action(runs, "evaluate")
    evaluation = window.runs.evaluation
    qtbot.waitUntil(lambda: evaluation.result is not None, timeout=TIMEOUT)
    assert sum(map(sum, evaluation.result.confusion)) == 179  # the digits validation split
    assert window.runs.evaluation_dock.isVisible()

    click_action(runs, "predict")
    [dialog] = window.runs.predict_dialogs
    assert dialog.isVisible()
    dialog.close()
    QApplication.processEvents()

    target = tmp_path / "trained.safetensors"
    monkeypatch.setattr(window, "ask_export_path", lambda title, suggested, filter: str(target))
    click_action(runs, "export")
    qtbot.waitUntil(target.exists, timeout=TIMEOUT)
    checkpoint = load_checkpoint(next((tmp_path / "runs" / fast / "checkpoints").glob("best.pt")))
    written = load_file(target)
    assert written.keys() == checkpoint["model"].keys()
    assert all(torch.equal(written[key], checkpoint["model"][key]) for key in written)
    assert "Exported" in window.statusBar().currentMessage()


def test_exporting_a_run_with_a_corrupt_checkpoint_says_so_and_writes_nothing(two_runs, tmp_path, monkeypatch):
    window, (fast, _slow) = two_runs
    runs = window.runs.panel
    window.runs.runs_dock.raise_()
    for checkpoint in (tmp_path / "runs" / fast / "checkpoints").glob("*.pt"):
        checkpoint.write_bytes(b"not a checkpoint")
    errors: list[tuple[str, str]] = []
    monkeypatch.setattr(window, "show_error", lambda title, message: errors.append((title, message)))
    target = tmp_path / "trained.safetensors"
    monkeypatch.setattr(window, "ask_export_path", lambda title, suggested, filter: str(target))
    click_run(runs, fast)
    click_action(runs, "export")
    assert len(errors) == 1 and errors[0][0] == "Cannot export trained network"
    assert "not a Designer training checkpoint" in errors[0][1] and "best.pt" in errors[0][1]
    assert not target.exists()
