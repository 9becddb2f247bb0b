"""Fixtures for the Qt tests: a main window on a temporary settings file, checked for leaks."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest
import shiboken6
from PySide6.QtCore import QCoreApplication, QEvent, QSettings
from PySide6.QtWidgets import QApplication, QMessageBox

from designer.graph.graph import Graph
from designer.ui.autosave import DATA_DIR_VARIABLE
from designer.ui.document import Document
from designer.ui.main_window import MainWindow


@pytest.fixture(autouse=True, scope="session")
def _settings_in_a_temporary_folder(tmp_path_factory: pytest.TempPathFactory) -> None:
    """No test reads or writes the user's real settings."""
    folder = str(tmp_path_factory.mktemp("settings"))
    os.environ[DATA_DIR_VARIABLE] = str(tmp_path_factory.mktemp("data"))  # autosaves go here
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, folder)


@pytest.fixture(autouse=True)
def _no_modal_prompt_on_close(monkeypatch: pytest.MonkeyPatch) -> None:
    """A window closed at teardown with unsaved changes must not wait for a click that never comes."""
    monkeypatch.setattr(MainWindow, "ask_unsaved_changes", lambda self: QMessageBox.StandardButton.Discard)


def _top_level_widgets() -> set[int]:
    return {shiboken6.getCppPointer(w)[0] for w in QApplication.topLevelWidgets()}


def _discard() -> QMessageBox.StandardButton:
    return QMessageBox.StandardButton.Discard


@pytest.fixture
def make_window(qtbot, tmp_path) -> Iterator[Callable[..., MainWindow]]:
    """Build shown main windows; afterwards close them and fail on leaked top-level widgets."""
    QApplication.processEvents()
    before = _top_level_widgets()
    windows: list[MainWindow] = []

    def make(source: str | Graph | None = "lenet5") -> MainWindow:
        document = Document.open(source) if isinstance(source, str) else Document(source)
        window = MainWindow(document, QSettings(str(tmp_path / "designer.ini"), QSettings.Format.IniFormat))
        window.ask_unsaved_changes = _discard  # a test that wants another answer sets its own
        window.resize(1200, 800)
        window.show()
        qtbot.waitExposed(window)
        QApplication.processEvents()
        windows.append(window)
        return window

    yield make
    for window in windows:
        if shiboken6.isValid(window):
            window.ask_unsaved_changes = _discard
            window.close()
            window.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    QApplication.processEvents()
    leaked = [w for w in QApplication.topLevelWidgets() if shiboken6.getCppPointer(w)[0] not in before]
    assert not leaked, f"the test leaked top-level widgets: {leaked}"


@pytest.fixture
def window(make_window) -> MainWindow:
    """The main window on the LeNet-5 template."""
    return make_window("lenet5")
