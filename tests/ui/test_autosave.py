"""Autosave after a burst of edits, and restoring the work of an app that was killed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from PySide6.QtWidgets import QMessageBox

from designer.ui import autosave
from designer.ui.app import first_window


def test_a_burst_of_edits_is_autosaved_once_and_saving_removes_it(window, qtbot, tmp_path):
    path = window.autosaver.path
    assert not path.exists()
    window.document.set_params("c1", {"out_channels": 7})
    window.document.set_params("c1", {"out_channels": 8})
    qtbot.waitUntil(path.exists, timeout=5000)
    data = json.loads(path.read_text(encoding="utf-8"))
    (c1,) = [n for n in data["nodes"] if n["name"] == "c1"]
    assert c1["params"]["out_channels"] == 8 and data["autosave"]["path"] is None
    window.ask_save_path = lambda suggested: str(tmp_path / "saved.json")
    window.menu_actions.save.trigger()
    assert not path.exists()  # saved: nothing left to restore


def test_undoing_back_to_the_saved_state_removes_the_autosave(window, qtbot):
    path = window.autosaver.path
    window.document.set_params("c1", {"out_channels": 7})
    qtbot.waitUntil(path.exists, timeout=5000)
    window.document.undo_stack.undo()
    assert not path.exists()


def test_a_running_apps_autosave_is_not_a_leftover(window, qtbot):
    window.document.set_params("c1", {"out_channels": 7})
    qtbot.waitUntil(window.autosaver.path.exists, timeout=5000)
    assert autosave.leftovers() == []


KILLED_SESSION = textwrap.dedent("""
    import sys
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication
    from designer.ui.document import Document
    from designer.ui.main_window import MainWindow

    app = QApplication([])
    window = MainWindow(Document.open(sys.argv[1]), QSettings(sys.argv[2], QSettings.Format.IniFormat))
    window.show()
    window.document.set_params("c1", {"out_channels": 11})
    window.document.rename("tanh1", "act1")

    def report():
        if window.autosaver.path.exists():
            print("AUTOSAVED", flush=True)
        else:
            QTimer.singleShot(100, report)

    QTimer.singleShot(100, report)
    app.exec()
""")


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_work_of_a_killed_app_is_offered_back_at_the_next_start(qtbot, tmp_path):
    project = tmp_path / "net.json"
    import designer
    from designer.graph import project as project_file

    project_file.save(designer.load("lenet5"), project)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    errors = tmp_path / "session.err"  # a file, not a pipe nobody reads, which could fill and block it
    child = subprocess.Popen([sys.executable, "-c", KILLED_SESSION, str(project), str(tmp_path / "s.ini")],
                             stdout=subprocess.PIPE, stderr=errors.open("w"), text=True, env=env)
    try:
        line = child.stdout.readline().strip()
        if line != "AUTOSAVED":  # the session ended before its autosave: show why
            child.kill()
            child.wait(timeout=30)
            pytest.fail(f"the app session printed {line!r}; its stderr:\n{errors.read_text()}")
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    deadline = time.monotonic() + 5
    while not autosave.leftovers() and time.monotonic() < deadline:
        time.sleep(0.05)  # the process table forgets the pid a moment after wait()

    asked = []
    window = first_window("lenet5", ask_restore=lambda leftover: asked.append(leftover) or True)
    qtbot.addWidget(window)
    assert asked and asked[0].original == project and "net.json" in asked[0].label
    graph = window.document.graph
    assert graph.node("c1").params["out_channels"] == 11 and "act1" in graph
    assert window.document.dirty and window.document.path == project
    assert window.windowTitle().startswith("net.json*")
    assert autosave.leftovers() == []  # taken back: not offered twice
    window.ask_unsaved_changes = lambda: QMessageBox.StandardButton.Discard  # closing at teardown


def test_declining_the_restore_opens_the_example_and_forgets_the_leftover(qtbot, tmp_path):
    folder = autosave.autosave_folder()
    folder.mkdir(parents=True, exist_ok=True)
    import designer
    from designer.graph.project import dumps

    data = json.loads(dumps(designer.load("lenet5")))
    data["autosave"] = {"path": None, "time": time.time()}
    (folder / "999999999-dead.json").write_text(json.dumps(data), encoding="utf-8")
    window = first_window("inception", ask_restore=lambda leftover: False)
    qtbot.addWidget(window)
    assert "inception3a_1x1" in window.document.graph and not window.document.dirty
    assert autosave.leftovers() == []
