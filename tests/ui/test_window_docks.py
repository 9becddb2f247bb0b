"""The docks as training needs them (issue 13 C12): readable plots when a run starts, the size remembered."""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from designer.ui.document import Document
from designer.ui.main_window import MainWindow
from tests.ui.test_training_panel import TIMEOUT, press, trainer, wait_idle  # noqa: F401  # a fixture

READABLE = 250  # px: how tall a plot must be to read at 1600×1000


def plot_heights(window) -> list[float]:
    plots = window.plots.plots
    return [plots.graphics.ci.getItem(0, column).sceneBoundingRect().height() for column in range(3)]


def start_and_stop(qtbot, window, panel) -> None:
    with qtbot.waitSignal(panel.run_started, timeout=TIMEOUT):
        press(panel.start_button)
    QApplication.processEvents()
    press(panel.stop_button)
    wait_idle(qtbot, panel)


def test_plots_get_a_readable_size_when_a_run_starts_and_the_users_size_is_remembered(trainer, qtbot, tmp_path):  # noqa: F811
    window, panel, _ = trainer(epochs=1, batch_size=128)
    window.resize(1600, 1000)
    QApplication.processEvents()
    training_height = window.training_dock.height()
    start_and_stop(qtbot, window, panel)
    assert not window.plots_dock.visibleRegion().isEmpty(), "the Plots tab is in front"
    assert min(plot_heights(window)) >= READABLE
    assert window.training_dock.height() == training_height, "the training panel keeps its height"
    # The user gives the canvas a little more room. (What a drag of the separator calls: QTest's mouse
    # events do not reach QMainWindow's separators on the offscreen platform.)
    window.resizeDocks([window.plots_dock], [window.plots_dock.height() - 80], Qt.Orientation.Vertical)
    QApplication.processEvents()
    chosen = window.plots_dock.height()
    settings_file = window.settings.fileName()
    window.close()

    again = MainWindow(Document.open("lenet5"), QSettings(settings_file, QSettings.Format.IniFormat))
    again.resize(1600, 1000)
    again.ask_stop_training = lambda: True
    again.show()
    qtbot.waitExposed(again)
    try:
        again.document.save(tmp_path / "again.json")
        again.training_dock.raise_()
        QApplication.processEvents()
        again.docks[2].raise_()  # the summary in front, as the window opens
        start_and_stop(qtbot, again, again.training_panel)
        assert abs(again.plots_dock.height() - chosen) <= 2, "the size the user chose"
    finally:
        again.ask_unsaved_changes = lambda: QMessageBox.StandardButton.Discard
        again.close()
        again.deleteLater()
