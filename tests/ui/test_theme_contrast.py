"""Every panel's text is readable in both themes: drawn, grabbed, and measured against WCAG AA (4.5:1).

See tests/ui/theme_contrast.py for how a text's colour and the background drawn
behind it are found. The plots are measured where pyqtgraph draws: its texts are
not widgets.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QRect
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication, QWidget

from designer.training.runs import RunFolder, create_run
from designer.ui import theme
from designer.ui.training.confusion_view import ConfusionMatrixView
from designer.ui.training.run_compare import RunCompareDialog
from designer.ui.training.runs_panel import RunsPanel
from tests.training.test_run_labels import made_run
from tests.ui.theme_contrast import Grab, low_contrast, texts

MODES = (theme.LIGHT_MODE, theme.DARK_MODE)


@pytest.fixture(autouse=True)
def _light_again() -> Iterator[None]:
    yield
    theme.set_theme_mode(theme.LIGHT_MODE)


def _shown(qtbot, widget: QWidget, width: int = 900, height: int = 500) -> QWidget:
    qtbot.addWidget(widget)
    widget.resize(width, height)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def _measured(panel: QWidget, at_least: int) -> list[str]:
    QApplication.processEvents()
    found = texts(panel)
    assert len(found) >= at_least, [str(text) for text in found]  # the measure saw the panel's texts
    return low_contrast(panel)


@pytest.mark.parametrize("mode", MODES)
def test_the_inspector_summary_and_palette_read_in_both_themes(make_window, mode):
    window = make_window("lenet5")
    theme.set_theme_mode(mode)
    window.inspector.set_selection(["c1"])
    window.summary.what_if.setText("3×32×32")
    window.summary.what_if.returnPressed.emit()  # a what-if header: coloured text of its own
    assert _measured(window.inspector, 8) == []
    assert _measured(window.summary, 40) == []
    assert _measured(window.palette_panel, 10) == []
    window.inspector.set_selection(["c1", "c3"])
    assert _measured(window.inspector, 3) == []
    window.inspector.set_selection([])
    assert _measured(window.inspector, 1) == []


def test_the_inspector_follows_a_theme_change_while_it_shows_a_block(make_window):
    window = make_window("lenet5")
    window.inspector.set_selection(["c1"])
    theme.set_theme_mode(theme.DARK_MODE)
    assert _measured(window.inspector, 8) == []
    theme.set_theme_mode(theme.LIGHT_MODE)
    assert _measured(window.inspector, 8) == []


@pytest.fixture
def runs_root(tmp_path) -> Iterator[Path]:
    """Runs of every status: finished, stopped, failed, diverged, interrupted, one training (its lock held)."""
    for status in ("finished", "stopped", "failed", "diverged", "interrupted"):
        RunFolder(made_run(tmp_path, lr=0.1)).update_info(status=status, epochs_done=1)
    _, lock = create_run(tmp_path, "lenet5", "lenet5", {"epochs": 3, "lr": 0.5}, "{}", 13)
    yield tmp_path
    lock.release()


@pytest.mark.parametrize("mode", MODES)
def test_the_runs_list_reads_in_both_themes_selected_or_not(qtbot, runs_root, mode):
    theme.set_theme_mode(mode)
    panel = _shown(qtbot, RunsPanel(runs_root, "lenet5"))
    assert {run.status for run in panel.runs()} == {"finished", "stopped", "failed", "diverged", "interrupted",
                                                    "running"}
    assert _measured(panel, 25) == []
    panel.tree.topLevelItem(0).setSelected(True)
    assert _measured(panel, 25) == []


def test_the_runs_list_recolours_its_statuses_with_the_theme(qtbot, runs_root):
    panel = _shown(qtbot, RunsPanel(runs_root, "lenet5"))
    theme.set_theme_mode(theme.DARK_MODE)
    assert _measured(panel, 25) == []


@pytest.mark.parametrize("mode", MODES)
def test_a_comparison_reads_in_both_themes(qtbot, tmp_path, mode):
    theme.set_theme_mode(mode)
    a, b = made_run(tmp_path, lr=0.1), made_run(tmp_path, lr=0.05, batch_size=32)
    dialog = _shown(qtbot, RunCompareDialog(a, b), 760, 600)
    assert _measured(dialog, 20) == []


@pytest.mark.parametrize("mode", MODES)
def test_every_cell_of_the_confusion_matrix_reads_in_both_themes(qtbot, mode):
    theme.set_theme_mode(mode)
    view = _shown(qtbot, ConfusionMatrixView(), 600, 500)
    # Shares of a row from 0 to 1 in steps of a tenth: every shade of the heat map, text on each.
    rows = [[i, 10 - i, 0, 0, 0, 0, 0, 0, 0, 0, 0] for i in range(11)]
    view.set_matrix(rows, [str(i) for i in range(11)])
    assert _measured(view, 60) == []


@pytest.mark.parametrize("mode", MODES)
def test_the_evaluation_panel_reads_in_both_themes(qtbot, mode):
    from designer.ui.training.evaluation_panel import EvaluationPanel

    theme.set_theme_mode(mode)
    panel = _shown(qtbot, EvaluationPanel())
    panel.matrix.set_matrix([[8, 2], [1, 9]], ["cat", "dog"])
    panel.tasks.failed.emit("no such file: x.pt")  # the failure line, in the error colour
    assert _measured(panel, 8) == []
    theme.set_theme_mode(theme.LIGHT_MODE if mode == theme.DARK_MODE else theme.DARK_MODE)
    assert _measured(panel, 8) == []


def _plot_texts(plots) -> list[tuple[str, QColor, QRect]]:
    """pyqtgraph's texts: each axis's tick labels and title, each plot's title, with where they are drawn."""
    found = []
    view = plots.graphics
    for name, plot in plots.plots.items():
        for side in ("left", "bottom"):
            axis = plot.getAxis(side)
            rect = view.mapFromScene(axis.sceneBoundingRect()).boundingRect()
            found.append((f"{name} {side} axis", axis.textPen().color(), rect))
        title = plot.titleLabel
        rect = view.mapFromScene(title.sceneBoundingRect()).boundingRect()
        colour = QColor(title.opts.get("color") or "#000000")
        found.append((f"{name} title", colour, rect))
    for _, label in plots.legend.items:
        rect = view.mapFromScene(label.sceneBoundingRect()).boundingRect()
        found.append((f"legend {label.text}", QColor(label.opts["color"]), rect))
    return found


@pytest.mark.parametrize("mode", MODES)
def test_the_plots_follow_the_theme_background_axes_and_titles(qtbot, mode):
    from designer.training import BatchRecord
    from designer.ui.training.plots import TrainingPlots

    plots = _shown(qtbot, TrainingPlots(), 1200, 400)
    plots.add_records("run-a", [BatchRecord(1, s, s, 1.0 / s, 0.5, 0.01, 800.0, 1.0) for s in range(1, 20)])
    theme.set_theme_mode(mode)  # after building: the plots follow a change
    QApplication.processEvents()
    grab = Grab(plots.graphics)
    middle = plots.plots["loss"].vb
    inside = plots.graphics.mapFromScene(middle.sceneBoundingRect()).boundingRect()
    assert grab.background(plots.graphics, inside) == theme.current().plot_background
    for where, colour, rect in _plot_texts(plots):
        background = grab.background(plots.graphics, rect)
        assert theme.contrast(colour, background) >= theme.AA_TEXT, (where, colour.name(), background.name())
    assert _measured(plots, 6) == []


def test_a_run_drawn_before_a_theme_change_takes_the_new_themes_colours(qtbot):
    from designer.training import BatchRecord
    from designer.ui.training.plots import TrainingPlots

    plots = _shown(qtbot, TrainingPlots(), 1200, 400)
    plots.add_records("run-a", [BatchRecord(1, s, s, 1.0 / s, 0.5, 0.01, 800.0, 1.0) for s in range(1, 20)])
    assert plots.curves("run-a").colour == QColor(theme.LIGHT.run_colours[0])
    theme.set_theme_mode(theme.DARK_MODE)
    curves = plots.curves("run-a")
    assert curves.colour == QColor(theme.DARK.run_colours[0])
    assert curves.loss_smooth.opts["pen"].color() == curves.colour
    assert theme.contrast(curves.colour, theme.DARK.plot_background) >= 3.0  # WCAG's 3:1 for graphics


def test_the_training_panel_follows_a_theme_change(make_window):
    window = make_window("lenet5")
    window.training_dock.raise_()
    QApplication.processEvents()
    panel = window.training_panel
    panel.monitor.status.setText("Finished at step 260.")
    panel.monitor.show_failure("the loss became NaN at step 3")
    theme.set_theme_mode(theme.DARK_MODE)
    assert _measured(panel, 30) == []
