"""The training panel in the main window: settings, Start/Pause/Stop/Continue, failures, the lock, closing.

Runs are short: LeNet-5 on the built-in digits, one or two epochs, with a loss
reading every step (``log_every`` 1) so that the bars move at once. Settings are
typed into the form key by key, buttons are clicked with QTest.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from designer.training import load_checkpoint
from designer.training.records import BatchRecord, EpochRecord, RunStarted
from designer.ui.commands import SetMeta
from designer.ui.document import Document, DocumentLocked
from designer.ui.training.session import LOCK_REASON
from tests.ui.gestures import at, click

TIMEOUT = 90_000


def retype(widget, text: str) -> None:
    """Select what the field holds and type over it, key by key, then Enter."""
    widget.setFocus()
    line = widget.lineEdit() if hasattr(widget, "lineEdit") else widget
    line.selectAll()
    QTest.keyClicks(widget, text)
    QTest.keyClick(widget, Qt.Key.Key_Return)


def choose(combo, text: str) -> None:
    """Pick an item of a combo box by typing its first letters, as a keyboard user does."""
    QTest.qWait(QApplication.keyboardInputInterval() + 20)  # a new search, not the last one's continuation
    combo.setFocus()
    QTest.keyClicks(combo, text)
    assert combo.currentText().startswith(text), combo.currentText()


def press(button) -> None:
    assert button.isEnabled(), button.toolTip()
    QTest.mouseClick(button, Qt.MouseButton.LeftButton)


class Seen:
    """What the panel hands on to the window: records per run, ended runs."""

    def __init__(self, panel) -> None:
        self.records: dict[str, list] = {}
        self.ended: list[tuple[str, str]] = []
        panel.records.connect(lambda run_id, items: self.records.setdefault(run_id, []).extend(items))
        panel.run_ended.connect(lambda status, message: self.ended.append((status, message)))

    def batches(self) -> list[BatchRecord]:
        return [r for items in self.records.values() for r in items if isinstance(r, BatchRecord)]


@pytest.fixture
def trainer(make_window, tmp_path):
    """A window on a saved LeNet-5 project with the Training tab in front; closing it stops a run."""
    def make(**settings):
        window = make_window("lenet5")
        window.ask_stop_training = lambda: True  # teardown closes the window: never wait on a dialog
        window.document.save(tmp_path / "lenet5.json")
        window.training_dock.raise_()
        QApplication.processEvents()
        panel = window.training_panel
        for key, value in settings.items():
            retype(panel.form.editor(key).field(), str(value))
        assert panel.form.errors_shown() == {}
        return window, panel, Seen(panel)

    return make


def wait_idle(qtbot, panel) -> None:
    qtbot.waitUntil(lambda: not panel.session.active, timeout=TIMEOUT)


def log(panel) -> str:
    return panel.monitor.log.toPlainText()


# -- a run from the panel -------------------------------------------------------------------------


def test_start_trains_on_digits_and_the_panel_shows_progress_and_the_log(trainer, qtbot, tmp_path):
    window, panel, seen = trainer(epochs=1, batch_size=64, log_every=1)
    assert window.graph.meta["training"] == {"lr": 0.05, "epochs": 1, "log_every": 1}  # 64 is the default
    assert panel.memory_label.text().startswith("Memory: ≈ 4.84 MB (params 247 kB")
    assert not any(b.isEnabled() for b in (panel.pause_button, panel.stop_button, panel.continue_button))
    window.plots_dock.raise_()
    press(panel.start_button)
    qtbot.waitUntil(lambda: len(seen.batches()) >= 3, timeout=TIMEOUT)
    assert "samples/s" in panel.monitor.status.text() and "ETA" in panel.monitor.status.text()
    plots = window.plots.plots
    qtbot.waitUntil(lambda: plot_points(plots) >= 3, timeout=TIMEOUT)  # the loss curve grows as it trains
    assert panel.monitor.batch_bar.value() >= 1 and panel.monitor.batch_bar.maximum() == 26
    wait_idle(qtbot, panel)
    [run_id] = seen.records
    first = seen.records[run_id][0]
    assert isinstance(first, RunStarted) and first.run_dir.startswith(str(tmp_path / "runs"))
    text = log(panel)
    assert f"Runs are kept beside the project: {tmp_path / 'runs'}" in text
    assert "Epoch 1/1: train loss" in text and "Finished after 1 epoch (26 steps)" in text
    assert panel.monitor.epoch_bar.value() == 1 and panel.monitor.failure_text() == ""
    assert seen.ended == [("finished", "")] and panel.start_button.isEnabled()
    assert json.loads((tmp_path / "runs" / run_id / "run.json").read_text())["status"] == "finished"
    assert plots.run_ids() == [run_id] and plots.label(run_id) == "lenet5"  # as the Runs list names it
    assert plot_points(plots) == 26


def plot_points(plots) -> int:
    """Points on the raw training-loss curve of the only run plotted."""
    if len(plots.run_ids()) != 1:
        return 0
    x, _y = plots.curves(plots.run_ids()[0]).loss_raw.getData()
    return 0 if x is None else len(x)


def test_pause_resume_stop_mid_epoch_and_continue_with_the_buttons(trainer, qtbot):
    _window, panel, seen = trainer(epochs=1, batch_size=16, log_every=1)
    press(panel.start_button)
    assert not panel.start_button.isEnabled() and "under way" in panel.start_button.toolTip()
    qtbot.waitUntil(lambda: len(seen.batches()) >= 3, timeout=TIMEOUT)
    press(panel.pause_button)
    assert panel.pause_button.text() == "Resume"
    qtbot.waitUntil(lambda: "Paused at step" in log(panel), timeout=TIMEOUT)
    held = len(seen.batches())
    qtbot.wait(300)
    assert len(seen.batches()) == held  # nothing trains while paused
    press(panel.pause_button)
    assert panel.pause_button.text() == "Pause"
    qtbot.waitUntil(lambda: len(seen.batches()) > held + 2, timeout=TIMEOUT)
    assert "Resumed at step" in log(panel)
    press(panel.stop_button)
    wait_idle(qtbot, panel)
    assert seen.ended[-1][0] == "stopped" and "Stopped at step" in log(panel)
    run_dir = panel.session.run_dir
    checkpoint = load_checkpoint(run_dir / "checkpoints" / "last.pt")
    assert checkpoint["epoch"] == 0 and 0 < checkpoint["batch"] < 102  # in the middle of epoch 1
    assert panel.continue_button.isEnabled() and run_dir.name in panel.continue_button.toolTip()
    press(panel.continue_button)
    qtbot.waitUntil(lambda: "going on from step" in log(panel), timeout=TIMEOUT)
    wait_idle(qtbot, panel)
    assert seen.ended[-1] == ("finished", "") and list(seen.records) == [run_dir.name]
    assert "Finished after 1 epoch (102 steps)" in log(panel) and not panel.continue_button.isEnabled()


def test_a_diverging_loss_shows_its_message_in_the_panel_and_the_app_goes_on(trainer, qtbot):
    window, panel, seen = trainer(epochs=1, batch_size=16, log_every=1)
    choose(panel.form.editor("loss").field(), "mse")
    retype(panel.form.editor("lr").field(), "1e12")
    assert window.graph.meta["training"]["loss"] == "mse" and window.graph.meta["training"]["lr"] == 1e12
    press(panel.start_button)
    wait_idle(qtbot, panel)
    failure = panel.monitor.failure_text()
    assert failure.startswith("Training stopped: loss diverged: rose from") and "training.lr" in failure
    assert panel.monitor.error.isVisible() and log(panel).count("loss diverged") == 1
    assert panel.monitor.status.text() == "Diverged."
    assert seen.ended[0][0] == "diverged" and window.document.locked_reason is None
    assert panel.start_button.isEnabled()  # fix the rate and go again
    retype(panel.form.editor("lr").field(), "0.05")
    assert window.graph.meta["training"]["lr"] == 0.05


# -- the settings -------------------------------------------------------------------------------


def test_a_form_edit_is_one_undoable_step_and_undo_shows_the_old_value(trainer):
    window, panel, _seen = trainer()
    lr = panel.form.editor("lr")
    retype(lr.field(), "0.125")
    assert window.graph.meta["training"]["lr"] == 0.125
    stack = window.document.undo_stack
    assert stack.count() == 1 and stack.undoText() == "Change training.lr"  # the keystrokes merged
    window.menu_actions.undo.trigger()
    assert window.graph.meta["training"] == {"lr": 0.05} and lr.value() == 0.05
    window.menu_actions.redo.trigger()
    assert lr.value() == 0.125
    retype(lr.field(), "0")
    assert panel.form.error_text("lr") == "training.lr: must be a number > 0, got 0"
    assert window.graph.meta["training"]["lr"] == 0.125 and stack.count() == 1  # refused: nothing changed


def test_rows_follow_the_optimizer_and_the_saved_project_keeps_the_settings(trainer, qtbot, tmp_path):
    window, panel, _seen = trainer()
    form = panel.form
    assert form.rows["momentum"].isVisibleTo(form) and not form.rows["betas"].isVisibleTo(form)
    choose(form.editor("optimizer").field(), "adam")
    assert form.rows["betas"].isVisibleTo(form) and not form.rows["momentum"].isVisibleTo(form)
    retype(form.editor("betas").spins[1], "0.99")
    # Adam keeps two buffers per weight
    qtbot.waitUntil(lambda: panel.memory_label.text().startswith("Memory: ≈ 5.09 MB"), timeout=5000)
    window.save()
    saved = json.loads((tmp_path / "lenet5.json").read_text())["training"]
    assert saved == {"optimizer": "adam", "lr": 0.05, "betas": [0.9, 0.99]}
    assert Document.open(tmp_path / "lenet5.json").graph.meta["training"] == saved


def test_the_device_selector_lists_the_devices_found(trainer, qtbot):
    window, panel, _seen = trainer()
    qtbot.waitUntil(lambda: panel.devices is not None, timeout=TIMEOUT)
    combo = panel.form.editor("device").field()
    names = [combo.itemData(i) for i in range(combo.count())]
    assert names[0] == "auto" and names[-1] == "cpu" and names[1:] == [d.name for d in panel.devices]
    assert "CPU, " in combo.itemText(combo.count() - 1)
    choose(combo, "cpu")
    assert window.graph.meta["training"]["device"] == "cpu"


def test_start_is_disabled_with_the_reason_while_the_graph_or_the_dataset_is_wrong(trainer, qtbot):
    window, panel, _seen = trainer()
    qtbot.waitUntil(panel.start_button.isEnabled, timeout=TIMEOUT)
    window.document.set_params("c1", {"kernel_size": 40})
    qtbot.waitUntil(lambda: not panel.start_button.isEnabled(), timeout=5000)
    assert panel.start_button.toolTip().startswith("The graph has errors: c1: ")
    window.menu_actions.undo.trigger()
    qtbot.waitUntil(panel.start_button.isEnabled, timeout=TIMEOUT)
    panel.picker.ask_folder = lambda title: ""  # the folder dialog it opens: cancelled
    choose(panel.picker.form.source, "Image folder")
    qtbot.waitUntil(lambda: not panel.start_button.isEnabled(), timeout=5000)
    assert panel.start_button.toolTip() == panel.picker.problem() and panel.picker.problem()
    choose(panel.picker.form.source, "Shapes")
    assert window.graph.meta["dataset"] == {"name": "shapes"}  # the picker's choice is saved, undoably
    window.menu_actions.undo.trigger()
    assert window.graph.meta["dataset"] == {} and panel.picker.dataset_config().name == "digits"


# -- the lock, and closing ----------------------------------------------------------------------------


def test_edits_are_refused_while_training_and_allowed_after(trainer, qtbot):
    window, panel, seen = trainer(epochs=1, batch_size=16, log_every=1)
    press(panel.start_button)
    qtbot.waitUntil(lambda: len(seen.batches()) >= 1, timeout=TIMEOUT)
    document = window.document
    assert document.locked_reason == LOCK_REASON and panel.banner.isVisible()
    assert window.lock_guard.banner.isVisible() and panel.banner.text() == LOCK_REASON
    assert not window.inspector.isEnabled() and not panel.form.isEnabled()
    assert not window.menu_actions.delete.isEnabled() and not window.menu_actions.undo.isEnabled()
    view = window.view
    click(view, at(view, view.graph_scene.item_for_node("c1")))
    assert window.statusBar().currentMessage() == LOCK_REASON
    assert view.graph_scene.selected_nodes() == []
    with pytest.raises(DocumentLocked):
        document.set_params("c1", {"kernel_size": 3})
    press(panel.stop_button)
    wait_idle(qtbot, panel)
    assert document.locked_reason is None and not panel.banner.isVisible()
    assert window.inspector.isEnabled() and window.menu_actions.delete.isEnabled()
    click(view, at(view, view.graph_scene.item_for_node("c1")))
    assert view.graph_scene.selected_nodes() == ["c1"]
    document.set_params("c1", {"kernel_size": 3})
    assert window.graph.node("c1").params["kernel_size"] == 3


def test_copy_to_new_document_keeps_editing_while_the_run_goes_on(trainer, qtbot):
    window, panel, seen = trainer(epochs=1, batch_size=16, log_every=1)
    press(panel.start_button)
    qtbot.waitUntil(lambda: len(seen.batches()) >= 1, timeout=TIMEOUT)
    trained = window.document
    window.menu_actions.copy_to_new.trigger()
    copy = window.document
    assert copy is not trained and copy.locked_reason is None and copy.path is None
    assert window.graph.name == "lenet5-copy" and not panel.banner.isVisible()
    assert window.inspector.isEnabled() and window.menu_actions.undo.isEnabled() is False  # nothing to undo
    copy.set_params("c1", {"kernel_size": 3})
    assert window.menu_actions.undo.isEnabled() and panel.session.active
    press(panel.stop_button)
    wait_idle(qtbot, panel)
    assert seen.ended[-1][0] == "stopped" and copy.locked_reason is None


def test_closing_during_training_asks_then_stops_and_leaves_a_checkpoint(trainer, qtbot):
    window, panel, seen = trainer(epochs=5, batch_size=16, log_every=1)
    asked: list[bool] = []
    window.ask_stop_training = lambda: asked.append(False) or False
    press(panel.start_button)
    qtbot.waitUntil(lambda: len(seen.batches()) >= 2, timeout=TIMEOUT)
    assert not window.close() and window.isVisible() and panel.session.active  # "no": nothing happens
    window.ask_stop_training = lambda: asked.append(True) or True
    assert window.close() and asked == [False, True]
    assert not panel.session.active and seen.ended[-1][0] == "stopped"
    run_dir = panel.session.run_dir
    assert json.loads((run_dir / "run.json").read_text())["status"] == "stopped"
    assert load_checkpoint(run_dir / "checkpoints" / "last.pt")["step"] >= 2


# -- the model side of the lock and of settings ---------------------------------------------------------


def test_set_meta_merges_edits_of_one_setting_and_round_trips(qtbot):
    document = Document.open("lenet5")
    graph = document.graph
    seen: list[str] = []
    graph.events.meta_changed.connect(seen.append)
    document.set_meta("training", {"lr": 0.1})
    document.set_meta("training", {"lr": 0.2})
    document.set_meta("training", {"lr": 0.2, "epochs": 3})
    stack = document.undo_stack
    assert stack.count() == 2
    assert [stack.text(0), stack.text(1)] == ["Change training.lr", "Change training.epochs"]
    stack.undo()
    assert graph.meta["training"] == {"lr": 0.2}
    stack.undo()
    assert graph.meta["training"] == {"lr": 0.05} and seen == ["training"] * 5
    stack.redo()
    stack.redo()
    assert graph.meta["training"] == {"lr": 0.2, "epochs": 3}
    graph.validate()
    document.set_meta("training", {"lr": 0.2, "epochs": 3})  # no change, no command
    assert stack.count() == 2
    command = SetMeta(graph, "dataset", {"name": "shapes"})
    assert command.text() == "Change dataset.name"


def test_a_locked_document_refuses_every_edit_and_says_why(qtbot):
    document = Document.open("lenet5")
    changes: list = []
    document.locked_changed.connect(changes.append)
    document.set_locked("busy training")
    with pytest.raises(DocumentLocked, match="busy training"):
        document.add_node("ReLU", (0.0, 0.0))
    with pytest.raises(DocumentLocked):
        document.set_meta("training", {"lr": 1.0})
    assert document.undo_stack.count() == 0 and "relu1" not in document.graph
    document.set_locked(None)
    document.add_node("ReLU", (0.0, 0.0))
    assert changes == ["busy training", None] and document.undo_stack.count() == 1


STARTUP_CHECK = """
import sys, threading, time
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

on_gui_thread = []  # for each time torch's import begins: whether the GUI thread began it


class WatchTorch:
    def find_spec(self, name, path=None, target=None):
        if name == "torch":
            on_gui_thread.append(threading.current_thread() is threading.main_thread())
        return None


sys.meta_path.insert(0, WatchTorch())
app = QApplication([])
from designer.ui.document import Document
from designer.ui.main_window import MainWindow
window = MainWindow(Document.open("lenet5"), QSettings(sys.argv[1], QSettings.Format.IniFormat))
window.show()
for _ in range(20):
    app.processEvents()
    time.sleep(0.02)
assert not window.training_panel.content.isVisible() and not window.plots.built
assert "pyqtgraph" not in sys.modules, "imported as the window opened"
deadline = time.monotonic() + 100
while not window.training_panel.warm_up_done and time.monotonic() < deadline:
    app.processEvents()
    time.sleep(0.02)
assert window.training_panel.warm_up_done, "no warm-up"
assert on_gui_thread == [False], on_gui_thread  # loaded once, in the background, the window painted first
window.training_dock.raise_()
window.plots_dock.raise_()
app.processEvents()
assert window.training_panel.content.isVisible() and window.plots.built
window.training_panel.shutdown()
"""


def test_the_window_opens_without_torch_and_pyqtgraph_then_loads_torch_in_the_background(tmp_path):
    """torch (seconds to load) is loaded off the GUI thread once the window is up, so that Start is quick
    (issue 13, C15); pyqtgraph when the Plots tab first comes up."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    subprocess.run([sys.executable, "-c", STARTUP_CHECK, str(tmp_path / "settings.ini")], check=True,
                   env=env, timeout=150)


def test_the_measured_peak_shows_beside_the_estimate_when_the_records_carry_it(trainer, qtbot):
    # No GPU here: a CPU run reports no peak, and a record as a CUDA run writes it is handed over as
    # the worker would hand it.
    _window, panel, _seen = trainer()
    assert "measured peak" not in panel.memory_label.text()
    record = BatchRecord(epoch=1, step=3, batch=3, loss=2.0, accuracy=0.1, lr=0.05, samples_per_s=900.0,
                         eta_s=12.0, peak_memory=12_345_678)
    panel.session.records.emit("run", [record])
    assert panel.memory_label.text().endswith(" · measured peak 12.3 MB")
    assert panel.monitor.status.text() == "Epoch 1 · ETA 0:12 · 900 samples/s · loss 2"


def test_a_delivery_that_ends_an_epoch_leaves_the_bars_at_that_epochs_end(trainer):
    # Ten deliveries a second carry many records: an epoch's last batch and its end often come together.
    _window, panel, _seen = trainer()
    started = RunStarted("run", "/runs/run", "cpu", "CPU", 3, 4, time=0.0)
    batches = [BatchRecord(1, step, step, 2.0, 0.1, 0.05, 900.0, 1.0) for step in range(1, 5)]
    end = EpochRecord(1, 4, 2.0, 0.1, 2.1, 0.2, None, 0.05, 1.0, 2.0, True)
    panel.session.records.emit("run", [started, *batches, end])
    monitor = panel.monitor
    assert (monitor.epoch_bar.value(), monitor.batch_bar.value()) == (1, 4)
    assert monitor.status.text().startswith("Epoch 1 done")
    panel.session.records.emit("run", [BatchRecord(2, 5, 1, 1.9, 0.2, 0.05, 900.0, 1.0)])
    assert (monitor.epoch_bar.value(), monitor.batch_bar.value()) == (1, 1)
    assert monitor.status.text().startswith("Epoch 2 · ETA")
