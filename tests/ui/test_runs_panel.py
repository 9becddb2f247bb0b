"""The runs list on real run folders: rows, selection by mouse, the actions, comparison and delete."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractItemView, QApplication, QLineEdit

from designer.training import BatchRecord, RunStarted
from designer.training.runs import RunFolder, create_run, list_runs
from designer.ui.training.runs_panel import COLUMNS, POLL_MS, RunsPanel
from tests.training.real_runs import changed_lenet, failed_run, finished_run, job, stopped_run
from tests.training.test_run_labels import made_run
from tests.ui.gestures import activate

CTRL = Qt.KeyboardModifier.ControlModifier


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    """Five runs of one project: two finished (different lr and graph), a stopped, a failed, a running one."""
    root = tmp_path_factory.mktemp("project")
    runs = {
        "base": finished_run(root, "base"),
        "changed": finished_run(root, "changed", changed_lenet(), lr=0.05),
        "stopped": stopped_run(root, "stopped"),
        "failed": failed_run(root, "failed"),
    }
    running = job(root, "running")
    records = running.records()
    for record in records:  # the run is mid-epoch, its run.json says "running", until teardown
        if isinstance(record, RunStarted):
            runs["running"] = Path(record.run_dir)
        if isinstance(record, BatchRecord):
            break
    yield root, runs
    running.control.request_stop()
    for _ in records:
        pass


@pytest.fixture
def panel(qtbot, root):
    widget = RunsPanel(root[0], "lenet5")
    qtbot.addWidget(widget)
    widget.resize(900, 400)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def _row_texts(panel, row):
    item = panel.tree.topLevelItem(row)
    return [item.text(column) for column in range(len(COLUMNS))]


def _click_run(panel, run_id, modifier=Qt.KeyboardModifier.NoModifier):
    item = panel.tree.topLevelItem(panel.row_of(run_id))
    centre = panel.tree.visualItemRect(item).center()
    QTest.mouseClick(panel.tree.viewport(), Qt.MouseButton.LeftButton, modifier, centre)


def _click_action(panel, name):
    button = panel.toolbar.widgetForAction(panel.actions_by_name[name])
    QTest.mouseClick(button, Qt.MouseButton.LeftButton)


def _enabled(panel):
    return {name for name, action in panel.actions_by_name.items() if action.isEnabled()}


def test_each_run_is_a_row_newest_first_with_status_epochs_accuracy_and_date(panel, root):
    runs = list_runs(root[0], "lenet5")
    assert panel.runs() == runs and panel.tree.topLevelItemCount() == 5
    assert [run.created for run in runs] == sorted((run.created for run in runs), reverse=True)
    assert runs[-1].name == "base"  # made first; the others may share a second, ordered then by id
    shown = [_row_texts(panel, row) for row in range(5)]
    assert [texts[0] for texts in shown] == [run.name for run in runs]
    statuses = {texts[0]: texts[1] for texts in shown}
    assert statuses == {"running": "running", "failed": "diverged", "stopped": "stopped", "changed": "finished",
                        "base": "finished"}
    base = runs[-1]
    date = base.created.replace("T", " ")[:16]
    assert shown[-1] == ["base", "finished", "1/1", f"{base.best_score:.2%}", date]
    failed = _row_texts(panel, panel.row_of(root[1]["failed"].name))
    assert failed[2:4] == ["0/1", "—"]


def test_clicking_rows_selects_runs_and_announces_them(panel, root, qtbot):
    base, changed = root[1]["base"].name, root[1]["changed"].name
    with qtbot.waitSignal(panel.selection_changed) as blocker:
        _click_run(panel, base)
    assert [run.run_id for run in blocker.args[0]] == [base]
    assert _enabled(panel) == {"rename", "evaluate", "predict", "export", "delete", "refresh"}
    with qtbot.waitSignal(panel.selection_changed) as blocker:
        _click_run(panel, changed, CTRL)
    assert [run.run_id for run in blocker.args[0]] == [changed, base]  # list order: newest first
    assert _enabled(panel) == {"compare", "delete", "refresh"}
    _click_run(panel, root[1]["stopped"].name, CTRL)
    assert "compare" not in _enabled(panel)  # compare takes exactly two


def test_compare_lists_the_changed_learning_rate_and_kernel_size(panel, root, qtbot):
    _click_run(panel, root[1]["changed"].name)
    _click_run(panel, root[1]["base"].name, CTRL)
    _click_action(panel, "compare")
    dialog = panel.compare_dialog
    assert dialog is not None and dialog.isVisible()
    qtbot.waitExposed(dialog)
    header = dialog.tree.headerItem()
    assert (header.text(1), header.text(2)) == ("base", "changed")  # the older run on the left
    assert "6 differences in settings, data and graph" in dialog.header.text()
    rows = dialog.shown_rows()
    assert ("Training", "lr", "0.01", "0.05", True) in rows
    assert ("Graph", "c1.kernel_size", "5", "3", True) in rows
    assert ("Training", "batch_size", "128", "128", False) in rows
    assert any(row[:2] == ("Graph", "drop") and row[2] == "—" and row[4] for row in rows)
    box = dialog.only_changes  # its box is at the left; the widget stretches across the dialog
    QTest.mouseClick(box, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     QPoint(8, box.height() // 2))
    assert box.isChecked()
    only = dialog.shown_rows()
    assert only and all(row[4] for row in only) and len(only) < len(rows)
    assert ("Training", "lr", "0.01", "0.05", True) in only
    _click_action(panel, "compare")  # again: the new dialog replaces the first
    assert panel.compare_dialog is not dialog and panel.compare_dialog.isVisible()
    QTest.qWait(20)  # the first is deleted meanwhile; the panel keeps the new one
    assert panel.compare_dialog is not None
    panel.compare_dialog.close()
    qtbot.waitUntil(lambda: panel.compare_dialog is None)


def test_resume_is_offered_for_the_stopped_run_and_hands_over_its_folder(panel, root, qtbot):
    for run_id in (root[1]["base"].name, root[1]["failed"].name, root[1]["running"].name):
        _click_run(panel, run_id)
        assert "resume" not in _enabled(panel)
    _click_run(panel, root[1]["stopped"].name)
    assert "resume" in _enabled(panel)
    with qtbot.waitSignal(panel.resume_requested) as blocker:
        _click_action(panel, "resume")
    assert blocker.args == [root[1]["stopped"]]


@pytest.mark.parametrize("action", ["evaluate", "predict", "export"])
def test_evaluate_predict_and_export_hand_over_the_best_checkpoint(panel, root, qtbot, action):
    _click_run(panel, root[1]["base"].name)
    signal = getattr(panel, f"{action}_requested")
    with qtbot.waitSignal(signal) as blocker:
        _click_action(panel, action)
    assert blocker.args == [root[1]["base"] / "checkpoints" / "best.pt"]
    _click_run(panel, root[1]["failed"].name)  # failed before its first epoch: no checkpoint
    assert action not in _enabled(panel)
    _click_run(panel, root[1]["stopped"].name)  # stopped mid-epoch: its last checkpoint stands for it
    with qtbot.waitSignal(signal) as blocker:
        _click_action(panel, action)
    assert blocker.args == [root[1]["stopped"] / "checkpoints" / "last.pt"]


def test_delete_asks_first_and_removes_only_the_run_folder(qtbot, root, tmp_path, monkeypatch):
    for name in ("base", "changed"):
        shutil.copytree(root[1][name], tmp_path / "runs" / root[1][name].name)
    (tmp_path / "project.json").write_text("{}")
    panel = RunsPanel(tmp_path)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitExposed(panel)
    asked = []
    monkeypatch.setattr(panel, "ask_delete", lambda runs: asked.append([r.name for r in runs]) or False)
    _click_run(panel, root[1]["base"].name)
    _click_action(panel, "delete")
    assert asked == [["base"]] and (tmp_path / "runs" / root[1]["base"].name).is_dir()
    monkeypatch.setattr(panel, "ask_delete", lambda runs: True)
    with qtbot.waitSignal(panel.deleted) as blocker:
        _click_action(panel, "delete")
    assert blocker.args == [[tmp_path / "runs" / root[1]["base"].name]]
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == [root[1]["changed"].name]
    assert (tmp_path / "project.json").is_file()
    assert [run.name for run in panel.runs()] == ["changed"]


def test_the_run_being_trained_cannot_be_deleted(panel, root):
    running = root[1]["running"]
    panel.set_active_run(running)
    _click_run(panel, running.name)
    assert "delete" not in _enabled(panel)
    _click_run(panel, root[1]["base"].name, CTRL)
    assert "delete" not in _enabled(panel)
    _click_run(panel, root[1]["base"].name)
    assert "delete" in _enabled(panel)


def test_refresh_keeps_the_selection_and_shows_new_runs(qtbot, root, tmp_path):
    shutil.copytree(root[1]["base"], tmp_path / "runs" / root[1]["base"].name)
    panel = RunsPanel(tmp_path)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitExposed(panel)
    _click_run(panel, root[1]["base"].name)
    shutil.copytree(root[1]["changed"], tmp_path / "runs" / root[1]["changed"].name)
    _click_action(panel, "refresh")
    assert [run.name for run in panel.runs()] == ["changed", "base"]
    assert [run.name for run in panel.selected_runs()] == ["base"]


@pytest.mark.skipif(sys.platform == "win32", reason="a live run is told by its flock lock (POSIX)")
def test_a_run_whose_process_died_shows_as_interrupted_and_why(qtbot, root, tmp_path):
    """What kill -9 leaves: run.json says "running", but no process holds the run's lock."""
    for name in ("stopped", "failed"):  # killed after a checkpoint, and before its first one
        copy = RunFolder(shutil.copytree(root[1][name], tmp_path / "runs" / root[1][name].name))
        copy.update_info(status="running", message="")
    shutil.copytree(root[1]["running"], tmp_path / "runs" / root[1]["running"].name)  # a copy trains nowhere
    panel = RunsPanel(tmp_path)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitExposed(panel)
    for name in ("stopped", "failed", "running"):
        item = panel.tree.topLevelItem(panel.row_of(root[1][name].name))
        assert item.text(1) == "interrupted"
        assert item.toolTip(1).startswith("its process ended without saying how")
    tip = panel.tree.topLevelItem(panel.row_of(root[1]["failed"].name)).toolTip(1)
    assert tip.endswith("before its first checkpoint")
    _click_run(panel, root[1]["stopped"].name)
    assert "resume" in _enabled(panel)
    _click_run(panel, root[1]["failed"].name)
    assert "resume" not in _enabled(panel)


def test_the_views_import_no_torch():
    # the window may build these panels at startup; torch costs more than a second to import
    code = ("import sys\n"
            "import designer.ui.training.runs_panel, designer.ui.training.run_compare\n"
            "import designer.ui.training.evaluation_panel, designer.ui.training.predict_dialog\n"
            "assert 'torch' not in sys.modules, 'torch was imported'\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


# -- runs told apart: names from what differs, names the user gives, a list that follows training ----------


@pytest.fixture
def two_lrs(tmp_path):
    """Two runs of LeNet-5 that differ only in their learning rate, as the Train button leaves them."""
    return made_run(tmp_path, lr=0.05), made_run(tmp_path, lr=0.1)


def _shown_panel(qtbot, root):
    widget = RunsPanel(root, "lenet5")
    qtbot.addWidget(widget)
    widget.resize(900, 300)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def _names(panel):
    return [panel.tree.topLevelItem(row).text(0) for row in range(panel.tree.topLevelItemCount())]


def _rename_by_keyboard(panel, qtbot, run_id, text):
    _click_run(panel, run_id)
    activate(panel)  # F2 is a shortcut: it goes to the active window
    QTest.keyClick(panel.tree, Qt.Key.Key_F2)
    editor = QApplication.focusWidget()
    assert isinstance(editor, QLineEdit) and editor.text() == panel.label(run_id)
    editor.selectAll()
    QTest.keyClick(editor, Qt.Key.Key_Backspace)
    qtbot.keyClicks(editor, text)
    QTest.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: panel.tree.state() != QAbstractItemView.State.EditingState)  # Qt commits queued


def _double_click(panel, point):
    # A click first, as a hand makes it: QTest's double click alone is not always taken for one.
    QTest.mouseClick(panel.tree.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point)
    QTest.mouseDClick(panel.tree.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point)


def test_runs_of_one_network_are_named_by_the_setting_that_differs(qtbot, tmp_path, two_lrs):
    panel = _shown_panel(qtbot, tmp_path)
    assert _names(panel) == ["lenet5 · lr 0.1", "lenet5 · lr 0.05"]  # newest first


def test_f2_renames_a_run_in_place_and_its_folder_keeps_the_name(qtbot, tmp_path, two_lrs):
    slow = two_lrs[0]
    panel = _shown_panel(qtbot, tmp_path)
    _rename_by_keyboard(panel, qtbot, slow.name, "baseline")
    assert _names(panel) == ["lenet5 · lr 0.1", "baseline"]
    assert (slow / "label.txt").read_text() == "baseline\n"
    again = _shown_panel(qtbot, tmp_path)  # another window, or the app started again
    assert _names(again) == ["lenet5 · lr 0.1", "baseline"]
    _rename_by_keyboard(panel, qtbot, slow.name, "")  # no name: back to the automatic one
    assert _names(panel) == ["lenet5 · lr 0.1", "lenet5 · lr 0.05"]
    assert not (slow / "label.txt").exists()


def test_a_double_click_edits_the_name_and_only_the_name(qtbot, tmp_path, two_lrs):
    panel = _shown_panel(qtbot, tmp_path)
    y = panel.tree.visualItemRect(panel.tree.topLevelItem(0)).center().y()
    _double_click(panel, QPoint(panel.tree.header().sectionViewportPosition(1) + 5, y))  # the status
    assert panel.tree.state() != QAbstractItemView.State.EditingState
    _double_click(panel, QPoint(10, y))  # the name
    assert panel.tree.state() == QAbstractItemView.State.EditingState
    assert panel.tree.currentColumn() == 0


def test_a_name_too_long_is_refused_in_words_and_nothing_is_written(qtbot, tmp_path, two_lrs):
    panel = _shown_panel(qtbot, tmp_path)
    errors = []
    panel.show_error = lambda title, message: errors.append(message)
    _rename_by_keyboard(panel, qtbot, two_lrs[0].name, "x" * 81)
    assert errors == [f"{two_lrs[0]}: a run's name is at most 80 characters; this one has 81."]
    assert _names(panel) == ["lenet5 · lr 0.1", "lenet5 · lr 0.05"]
    assert not (two_lrs[0] / "label.txt").exists()


def test_the_list_follows_a_run_while_it_trains(qtbot, tmp_path, two_lrs):
    folder, lock = create_run(tmp_path, "lenet5", "lenet5", {"epochs": 3, "lr": 0.5}, "{}", 13)
    try:
        panel = _shown_panel(qtbot, tmp_path)
        row = panel.row_of(folder.run_id)
        assert _row_texts(panel, row)[1:3] == ["running", "0/3"]
        folder.update_info(epochs_done=1, best_score=0.5)  # the trainer, at the end of an epoch
        qtbot.waitUntil(lambda: _row_texts(panel, row)[2:4] == ["1/3", "50.00%"], timeout=POLL_MS * 3)
        folder.update_info(status="finished", epochs_done=3)
    finally:
        lock.release()
    qtbot.waitUntil(lambda: _row_texts(panel, row)[1:3] == ["finished", "3/3"], timeout=POLL_MS * 3)
    assert not panel._poll.isActive()  # nothing trains: the list stops reading the folder


def test_a_comparison_heads_its_columns_with_the_names_the_list_gives(qtbot, tmp_path, two_lrs):
    panel = _shown_panel(qtbot, tmp_path)
    _click_run(panel, two_lrs[0].name)
    _click_run(panel, two_lrs[1].name, CTRL)
    _click_action(panel, "compare")
    header = panel.compare_dialog.tree.headerItem()
    assert [header.text(1), header.text(2)] == ["lenet5 · lr 0.05", "lenet5 · lr 0.1"]  # older on the left
    panel.compare_dialog.close()
    qtbot.waitUntil(lambda: panel.compare_dialog is None)
