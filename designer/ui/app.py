"""Starting the desktop application."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from designer.ui.autosave import Leftover
    from designer.ui.main_window import MainWindow

DEFAULT_EXAMPLE = "alexnet"
REPORT_SHOWN_VARIABLE = "DESIGNER_REPORT_SHOWN"  # set to 1: print when the first window has painted
_IMPORTED = time.time()


def run(src: str | None = None) -> int:
    """Open the window on ``src``; a platform plugin that cannot load raises PlatformPluginError first."""
    from designer.ui.platform_check import check_platform

    check_platform()  # before Qt, which would abort naming one library of several
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from designer.ui.main_window import APPLICATION, ORGANISATION
    from designer.ui.theme import set_theme_mode
    from designer.ui.theme_menu import saved_mode

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName(APPLICATION)
    app.setOrganizationName(ORGANISATION)
    set_theme_mode(saved_mode(QSettings(ORGANISATION, APPLICATION)))
    window = first_window(src)
    if os.environ.get(REPORT_SHOWN_VARIABLE):
        _report_when_painted(window)
    window.show()
    return app.exec()


def _report_when_painted(window: MainWindow) -> None:
    """Print how long after the process started the window first painted (benchmarks/app_start.py)."""
    from PySide6.QtCore import QEvent, QObject, QTimer

    class FirstPaint(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint:
                watched.removeEventFilter(self)
                QTimer.singleShot(0, report)  # once this paint is done
            return False

    def report() -> None:
        now = time.time()
        print(f"designer: window shown {now - process_start_time():.3f} s after the process started "
              f"(at {now:.3f})", flush=True)

    window.view.viewport().installEventFilter(FirstPaint(window))


def process_start_time() -> float:
    """When this process started (seconds since the epoch); where the system does not say, when
    this module was imported."""
    try:
        with open("/proc/self/stat", encoding="ascii") as stat, open("/proc/uptime", encoding="ascii") as up:
            started_ticks = int(stat.read().rsplit(")", 1)[1].split()[19])
            uptime = float(up.read().split()[0])
        return time.time() - uptime + started_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        return _IMPORTED


def first_window(src: str | None = None, ask_restore: Callable[[Leftover], bool] | None = None) -> MainWindow:
    """The window the app opens with: work a crash left behind if the user wants it back, else ``src``."""
    from PySide6.QtWidgets import QMessageBox

    from designer.graph import GraphError
    from designer.ui.autosave import leftovers, restore
    from designer.ui.document import Document
    from designer.ui.main_window import MainWindow

    found = leftovers()
    if found and (ask_restore or _ask_restore)(found[0]):
        document = restore(found[0])
    else:
        for leftover in found:
            leftover.file.unlink(missing_ok=True)
        try:
            document = Document.open(src or DEFAULT_EXAMPLE)
        except GraphError as exc:
            QMessageBox.warning(None, "Cannot open", f"{exc}\n\nOpening the {DEFAULT_EXAMPLE} example instead.")
            document = Document.open(DEFAULT_EXAMPLE)
    return MainWindow(document)


def _ask_restore(leftover: Leftover) -> bool:
    from PySide6.QtWidgets import QMessageBox

    answer = QMessageBox.question(
        None, "Restore unsaved work?",
        f"Designer closed without saving your work: {leftover.label}.\n\nRestore it?",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes)
    return answer == QMessageBox.StandardButton.Yes
