"""The app writing onto files it must not replace: a read-only file, a named pipe nobody reads.

Each refusal is one error dialog that names the file and what to do, never a
traceback, and the file is left as it was. (What ``write_atomic`` does with
every kind of file is tested in tests/graph/test_files.py.)
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from designer.ui.main_window import MainWindow
from tests.ui.test_file_menu import Recorder, answer_path, save_as


@pytest.fixture
def dialogs(window: MainWindow) -> Recorder:
    """The error dialogs the window shows, recorded instead of shown."""
    recorder = Recorder()
    window.show_error = recorder  # type: ignore[method-assign]
    return recorder


def read_only(path: Path, text: str = "mine") -> Path:
    path.write_text(text)
    path.chmod(0o444)
    return path


def test_export_onto_a_read_only_file_is_refused_in_a_dialog(window: MainWindow, tmp_path, dialogs: Recorder):
    target = read_only(tmp_path / "net.safetensors")
    answer_path(window, target)
    window.menu_actions.export_weights.trigger()
    assert dialogs.calls == [("Cannot export initial weights",
                             f"{target}: is read-only, so it was not replaced; make it writable or choose "
                             "another name")]
    assert target.read_text() == "mine"


def test_export_diagram_onto_a_read_only_file_is_refused_in_a_dialog(window: MainWindow, tmp_path,
                                                                      dialogs: Recorder):
    target = read_only(tmp_path / "net.svg")
    answer_path(window, target)
    window.menu_actions.export_diagram.trigger()
    assert len(dialogs.calls) == 1 and dialogs.calls[0][0] == "Cannot export diagram"
    assert "is read-only, so it was not replaced" in dialogs.calls[0][1]
    assert target.read_text() == "mine"


@pytest.mark.skipif(sys.platform == "win32", reason="named pipes are POSIX")
def test_export_onto_a_fifo_nobody_reads_is_refused_at_once(window: MainWindow, tmp_path, dialogs: Recorder):
    fifo = tmp_path / "net.pt2"
    os.mkfifo(fifo)
    answer_path(window, fifo)
    window.menu_actions.export_pt2.trigger()
    words = "is a named pipe (FIFO) that no program is reading; start the reader first"
    assert dialogs.calls == [("Cannot export ExportedProgram", f"{fifo}: {words}")]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_save_onto_a_read_only_project_is_refused_in_a_dialog(window: MainWindow, tmp_path, dialogs: Recorder):
    target = read_only(tmp_path / "net.json", "{}")
    save_as(window, target)
    assert dialogs.calls == [("Cannot save", f"{target}: is read-only, so it was not replaced; make it "
                                             "writable or choose another name")]
    assert target.read_text() == "{}" and window.document.path != target
