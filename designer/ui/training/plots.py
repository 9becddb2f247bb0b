"""The live training plots: loss, accuracy and learning rate of one or more runs, overlaid.

``add_records(run_id, records)`` takes what the :class:`TrainingWorker` delivers
(at most 10 lists a second) and extends that run's curves; a run id not seen
before gets its own colour and a legend entry. ``load_run`` shows a finished run
read back from its metrics.jsonl (:func:`~designer.ui.training.plot_records.read_metrics`).
The tool row picks the x axis (steps, epochs, seconds since the run started),
the smoothing β of the loss and train accuracy (TensorBoard's debiased EMA),
a log scale for the loss, autoscaling, and exports: the plots as PNG and their
data as CSV, written atomically to a path from :meth:`TrainingPlots.ask_export_path`.
Moving the mouse over a plot draws a crosshair across all three and reads the
values of each run under it.

pyqtgraph costs ~0.3 s to import: the window should import this module when
training is first shown, not at start-up.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QBuffer, QByteArray, QEvent, QIODevice, QObject, QPointF, Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QGraphicsItem,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from designer.graph.files import write_atomic
from designer.training.records import Record
from designer.ui import theme
from designer.ui.theme import Theme
from designer.ui.training.plot_curves import RunCurves, Window, paint_legend, paint_plot, readout, value_range
from designer.ui.training.plot_export import csv_text
from designer.ui.training.plot_records import RunData
from designer.ui.training.plot_series import X_MODES

X_LABELS = {"step": "Steps", "epoch": "Epochs", "time": "Time (s)"}
DEFAULT_BETA = 0.6
SLIDER_STEPS = 100  # the slider runs 0..99: β = value / 100, at most 0.99
PLOT_NAMES = ("loss", "accuracy", "lr")
DEFAULT_PIXELS = 1000  # the plot width assumed until the plots are laid out and report their own
# While following the data, a range that the data outgrows is widened past it by a share of the data's span
# (HEADROOM for x, Y_HEADROOM for y), so that most updates change no range: a range change makes pyqtgraph lay
# out and draw that plot's axes anew, several times the cost of drawing new points (an x change, three axes:
# ~10 ms). While the runs' planned end is known the x range spans it from the start and does not move; a y
# range stops at what the plot's values can be (a loss or a learning rate is not negative, an accuracy lies
# between 0 and 1). LEFT_MARGIN and Y_MARGIN are the room left beyond the data, as shares of its span.
HEADROOM = 0.5
Y_HEADROOM = 0.5
LEFT_MARGIN = 0.02
Y_MARGIN = 0.05
Y_LIMITS = {"loss": (0.0, math.inf), "accuracy": (0.0, 1.0), "lr": (0.0, math.inf)}
SPREAD_MS = 10  # see add_records(spread=True)
TICK_TEXT_WIDTH = 44  # pixels: "0.00025" or "1.2e-05" at the default size
TITLES = {"loss": "Loss · ● validation", "accuracy": "Accuracy · ● val top-1 · ■ val top-5",
          "lr": "Learning rate"}


class _Graphics(pg.GraphicsLayoutWidget):  # type: ignore[misc]  # pyqtgraph has no type hints
    """pyqtgraph's layout widget, adding up the CPU time its paints take (the Plots tab paces updates by it)."""

    def __init__(self) -> None:
        super().__init__()
        self.paint_seconds = 0.0

    def paintEvent(self, event: Any) -> None:
        started = time.thread_time()
        super().paintEvent(event)
        self.paint_seconds += time.thread_time() - started


class TrainingPlots(QWidget):
    """Loss, accuracy and learning-rate plots of the runs it is given, with a hover readout.

    ``plots`` maps "loss", "accuracy", "lr" to their pyqtgraph PlotItems;
    ``curves(run_id)`` gives a run's :class:`RunCurves`.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._runs: dict[str, RunData] = {}
        self._curves: dict[str, RunCurves] = {}
        self._slots: dict[str, int] = {}  # each run's place in the theme's run_colours
        self._x_mode = "step"
        self._beta = DEFAULT_BETA
        self._window: Window = (None, DEFAULT_PIXELS)
        self._following = True  # the x range follows the data until the user zooms or pans
        self._build_tools()
        self.readout = QLabel(" ")
        self.readout.setTextFormat(Qt.TextFormat.PlainText)
        self.readout.setObjectName("plotReadout")
        self.graphics: Any = _Graphics()
        self.plots: dict[str, Any] = {}
        self._build_plots()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self._tools)
        layout.addWidget(self.readout)
        layout.addWidget(self.graphics, 1)
        self.graphics.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.graphics.viewport().installEventFilter(self)  # to hide the crosshair when the mouse leaves
        view = self.plots["loss"].vb  # the three share their x: one view stands for all
        view.sigXRangeChanged.connect(self._on_view_changed)
        view.sigResized.connect(self._on_view_changed)
        for plot in self.plots.values():
            plot.vb.sigRangeChangedManually.connect(self._on_zoomed_by_hand)
        self._paint(theme.current())
        theme.notifier().theme_changed.connect(self._paint)

    # -- construction ---------------------------------------------------------------------

    def _build_tools(self) -> None:
        self.x_axis_box = QComboBox()
        for mode in X_MODES:
            self.x_axis_box.addItem(X_LABELS[mode], mode)
        self.x_axis_box.currentIndexChanged.connect(self._on_x_axis_chosen)
        self.smoothing_slider = QSlider(Qt.Orientation.Horizontal)
        self.smoothing_slider.setRange(0, SLIDER_STEPS - 1)
        self.smoothing_slider.setValue(round(DEFAULT_BETA * SLIDER_STEPS))
        self.smoothing_slider.setToolTip("Smoothing of the loss and train accuracy: the β of a moving average")
        self.smoothing_slider.valueChanged.connect(self._on_smoothing_moved)
        self.smoothing_value = QLabel(f"{DEFAULT_BETA:.2f}")
        self.log_loss_box = QCheckBox("Log loss")
        self.log_loss_box.toggled.connect(self._on_log_loss_toggled)
        self.autoscale_button = QPushButton("Autoscale")
        self.autoscale_button.clicked.connect(self.autoscale)
        self.export_png_button = QPushButton("Export PNG…")
        self.export_png_button.clicked.connect(self.export_png)
        self.export_csv_button = QPushButton("Export CSV…")
        self.export_csv_button.clicked.connect(self.export_csv)
        self._tools = QHBoxLayout()
        for widget in (QLabel("X axis"), self.x_axis_box, QLabel("Smoothing"), self.smoothing_slider,
                       self.smoothing_value, self.log_loss_box, self.autoscale_button):
            self._tools.addWidget(widget)
        self._tools.addStretch(1)
        self._tools.addWidget(self.export_png_button)
        self._tools.addWidget(self.export_csv_button)

    def _build_plots(self) -> None:
        tips = {"loss": "faint: each batch record; line: smoothed; ● validation",
                "accuracy": "line: train top-1, smoothed; ● validation top-1; ■ validation top-5"}
        self.crosshairs: list[Any] = []
        for column, name in enumerate(PLOT_NAMES):
            # side by side: the Plots tab is wide and short, and three stacked plots would be slivers
            plot = self.graphics.addPlot(row=0, col=column)
            plot.setToolTip(tips.get(name, ""))
            # No grid: pyqtgraph draws it translucent, which costs more than all the curves together
            # in Qt's raster engine; the crosshair's readout gives exact values instead.

            # No pyqtgraph downsampling or clip-to-view: our long curves come decimated to the view, and
            # with either set every curve of a plot re-processes its data whenever the x range moves.
            plot.hideButtons()  # its "A" would hand the ranges to pyqtgraph's autorange; Autoscale is ours
            plot.vb.disableAutoRange()  # see _follow_data
            for side in ("left", "bottom"):
                # A fixed room for the tick labels: by default an axis widens or narrows with them, and each
                # time the plots are laid out and drawn again at once, doubling the cost of a range change.
                plot.getAxis(side).setStyle(autoExpandTextSpace=False, tickTextWidth=TICK_TEXT_WIDTH)
            if self.plots:
                plot.setXLink(self.plots["loss"])
            line = pg.InfiniteLine(angle=90, movable=False)
            line.setVisible(False)
            plot.addItem(line, ignoreBounds=True)
            self.crosshairs.append(line)
            self.plots[name] = plot
        self.legend: Any = self.plots["loss"].addLegend(offset=(-10, 10))
        # Axes, titles and the legend change seldom but were drawn anew (text, glyph by glyph) at every
        # update of a curve beside them: as cached pixmaps a plot update repaints ~30% faster.
        for plot in self.plots.values():
            for item in (plot.getAxis("left"), plot.getAxis("bottom"), plot.titleLabel):
                item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.legend.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

    def _run_colour(self, run_id: str, colours: Theme) -> QColor:
        return QColor(colours.run_colours[self._slots[run_id] % len(colours.run_colours)])

    def _paint(self, colours: Theme) -> None:
        """Draw the plots in ``colours``: the background, axes, titles, legend, crosshair and runs."""
        self.graphics.setBackground(colours.plot_background)
        for name, plot in self.plots.items():
            paint_plot(plot, TITLES[name], colours.plot_foreground)
        self._label_x_axes()
        for line in self.crosshairs:
            line.setPen(pg.mkPen(colours.plot_crosshair, width=1))
        for run_id, curves in self._curves.items():
            curves.set_colour(self._run_colour(run_id, colours), colours.plot_background)
        paint_legend(self.legend, colours.plot_foreground, colours.plot_background)

    def _label_x_axes(self) -> None:
        for plot in self.plots.values():
            plot.setLabel("bottom", X_LABELS[self._x_mode], color=theme.current().plot_foreground.name())

    # -- runs -----------------------------------------------------------------------------

    def add_records(self, run_id: str, records: Sequence[Record], *, spread: bool = False) -> None:
        """Extend ``run_id``'s curves with ``records`` (a new run id gets new curves, labelled with it).

        ``spread``: when the x range moves, the y ranges follow in the next event-loop
        turn, so that no one paint lays out all six axes (a run's first draw would:
        ~20 ms of the GUI thread on a loaded machine).
        """
        data = self._runs.get(run_id)
        if data is None:
            data = self._add_run(run_id, run_id)
        before = (len(data.batches), len(data.accuracy), len(data.epochs))
        marked = data.divergence
        data.add(records)
        if data.divergence is not marked:
            self._curves[run_id].mark_divergence(data, self._x_mode)
        # Only what grew is handed over again: markers in particular are costly to rebuild.
        # (A resumed run that went back shrinks its series: a change in length either way counts.)
        after = (len(data.batches), len(data.accuracy), len(data.epochs))
        if after != before:
            changed = [a != b for a, b in zip(after, before)]
            self._curves[run_id].refresh(data, self._x_mode, self._window, *changed)
            self._follow_data(spread=spread)

    def load_run(self, run_id: str, label: str, records: Sequence[Record]) -> None:
        """Show a whole run at once (a finished one, read back), replacing any curves it had."""
        self.remove_run(run_id)
        data = self._add_run(run_id, label)
        data.add(records)
        self._curves[run_id].refresh(data, self._x_mode, self._window)
        self._follow_data()

    def set_label(self, run_id: str, text: str) -> None:
        """Name the run in the legend and the readout.

        A run not seen yet is added, empty, so that it has its name from its
        first records on: the panel's ``run_started(run_id, label)`` can connect here.
        """
        if run_id not in self._curves:
            self._add_run(run_id, text)
        else:
            self._curves[run_id].set_label(self.legend, text)

    def label(self, run_id: str) -> str:
        """The run's name in the legend and the readout."""
        return self._curves[run_id].label

    def remove_run(self, run_id: str) -> None:
        """Take the run's curves and legend entry away; an unknown run id is ignored."""
        curves = self._curves.pop(run_id, None)
        self._runs.pop(run_id, None)
        self._slots.pop(run_id, None)
        if curves is not None:
            curves.remove(self.legend)
            self._follow_data()

    def clear(self) -> None:
        """Remove every run."""
        for run_id in list(self._curves):
            self.remove_run(run_id)
        self.readout.setText(" ")

    def run_ids(self) -> list[str]:
        return list(self._curves)

    def curves(self, run_id: str) -> RunCurves:
        return self._curves[run_id]

    def run_data(self, run_id: str) -> RunData:
        return self._runs[run_id]

    def _add_run(self, run_id: str, label: str) -> RunData:
        # A run keeps its place in the theme's list of colours: another theme gives it that place's colour.
        used = set(self._slots.values())
        count = len(theme.current().run_colours)
        free = [slot for slot in range(count) if slot not in used]
        self._slots[run_id] = free[0] if free else len(self._curves) % count
        plots = (self.plots["loss"], self.plots["accuracy"], self.plots["lr"])
        colours = theme.current()
        self._curves[run_id] = RunCurves(plots, self.legend, self._run_colour(run_id, colours), label,
                                         colours.plot_background)
        data = self._runs[run_id] = RunData(self._beta)
        return data

    # -- view settings --------------------------------------------------------------------

    def x_axis(self) -> str:
        return self._x_mode

    def set_x_axis(self, mode: str) -> None:
        """Plot against "step", "epoch" or "time" (seconds since each run's start)."""
        self.x_axis_box.setCurrentIndex(X_MODES.index(mode))

    def smoothing(self) -> float:
        return self._beta

    def set_smoothing(self, beta: float) -> None:
        self.smoothing_slider.setValue(round(beta * SLIDER_STEPS))

    def set_log_loss(self, on: bool) -> None:
        self.log_loss_box.setChecked(on)

    def autoscale(self) -> None:
        """Fit every plot to its data again and follow new points (after the user zoomed or panned)."""
        self._following = True
        for name, plot in self.plots.items():
            plot.vb.enableAutoRange(x=False, y=name == "loss" and self.log_loss_box.isChecked())
        self._on_view_changed()
        self._follow_data(refit=True)

    def following(self) -> bool:
        """Whether the x range follows the data (until the user zooms or pans; Autoscale restores it)."""
        return self._following

    def _follow_data(self, refit: bool = False, spread: bool = False) -> None:
        """Keep all the data in view, widening the ranges in jumps so that most updates leave them alone.

        The y ranges come from each curve's min/max pyramid, without reading the
        points. Log-scale loss is left to pyqtgraph's autorange.
        """
        if not self._following:
            return
        extent = self._x_extent()
        moved = extent is not None and self._follow_x(*extent, refit)
        if moved and spread:
            # Not at 0 ms: Qt would run it straight after this turn's paint, before other waiting events.
            QTimer.singleShot(SPREAD_MS, self, self._follow_all_y)
        else:
            self._follow_all_y(refit)

    def _follow_all_y(self, refit: bool = False) -> None:
        if not self._following:
            return  # the user zoomed meanwhile
        for name, plot in self.plots.items():
            if not (name == "loss" and self.log_loss_box.isChecked()):
                self._follow_y(name, plot.vb, refit)

    def _follow_x(self, lo: float, hi: float, refit: bool) -> bool:
        """Move the x range to the data if it must; whether it moved."""
        view = self.plots["loss"].vb
        view_lo, view_hi = view.viewRange()[0]
        planned = self._planned_end()
        if planned is not None and planned >= hi:
            # The whole planned run from the start, as a progress bar shows it: no x change until it ends.
            margin = LEFT_MARGIN * (planned - lo if planned > lo else 1.0)
            wanted = (lo - margin, planned + margin)
            if refit or not (math.isclose(view_lo, wanted[0]) and math.isclose(view_hi, wanted[1])):
                view.setXRange(*wanted, padding=0)
                return True
            return False
        span = hi - lo if hi > lo else 1.0
        if refit or lo < view_lo or hi > view_hi or view_hi - view_lo > (1 + 3 * HEADROOM) * span:
            view.setXRange(lo - LEFT_MARGIN * span, hi + HEADROOM * span, padding=0)
            return True
        return False

    def _follow_y(self, plot: str, view: Any, refit: bool) -> None:
        ranges = [found for data in self._runs.values() if (found := value_range(data, plot)) is not None]
        if not ranges:
            return
        lo, hi = min(low for low, _ in ranges), max(high for _, high in ranges)
        span = hi - lo if hi > lo else max(abs(hi), 1e-12)  # one value: give it room of its own size
        view_lo, view_hi = view.viewRange()[1]
        tight = (lo - Y_MARGIN * span, hi + Y_MARGIN * span)
        if refit or view_hi - view_lo > 1.5 * (1 + 2 * Y_MARGIN + Y_HEADROOM) * span:  # a run went away, say
            view.setYRange(*tight, padding=0)
        elif lo < view_lo or hi > view_hi:
            floor, ceiling = Y_LIMITS[plot]
            room = Y_HEADROOM * span
            below = view_lo if lo >= view_lo else min(tight[0], max(lo - room, floor - Y_MARGIN * span))
            above = view_hi if hi <= view_hi else max(tight[1], min(hi + room, ceiling + Y_MARGIN * span))
            view.setYRange(below, above, padding=0)

    def _planned_end(self) -> float | None:
        """The furthest planned end of the runs shown (None if any run's is unknown)."""
        ends = [data.planned_end(self._x_mode) for data in self._runs.values()]
        return None if not ends or None in ends else max(e for e in ends if e is not None)

    def _x_extent(self) -> tuple[float, float] | None:
        ends = [(float(x[0]), float(x[-1])) for data in self._runs.values()
                for x in (data.batches.x(self._x_mode), data.epochs.x(self._x_mode)) if len(x)]
        return (min(lo for lo, _ in ends), max(hi for _, hi in ends)) if ends else None

    def _on_zoomed_by_hand(self) -> None:
        # pyqtgraph reports the new range first and only then that the user made it: decimate for it now.
        self._following = False
        self._on_view_changed()

    def _on_x_axis_chosen(self, index: int) -> None:
        self._x_mode = X_MODES[index]
        self._label_x_axes()
        self._following = True  # the old range means nothing on the new axis
        self._window = (None, self._window[1])
        self._refresh_all()
        self.autoscale()

    def _on_smoothing_moved(self, value: int) -> None:
        self._beta = value / SLIDER_STEPS
        self.smoothing_value.setText(f"{self._beta:.2f}")
        for data in self._runs.values():
            data.set_beta(self._beta)
        self._refresh_all()

    def _on_log_loss_toggled(self, on: bool) -> None:
        self.plots["loss"].setLogMode(x=False, y=on)
        # pyqtgraph fits a log y itself. A linear y follows the data our way, unless the user has zoomed:
        # then pyqtgraph fits it too, as the range the user chose was in log units.
        self.plots["loss"].vb.enableAutoRange(y=on or not self._following)
        self._follow_data(refit=True)

    def _refresh_all(self, epochs: bool = True) -> None:
        for run_id, data in self._runs.items():
            self._curves[run_id].refresh(data, self._x_mode, self._window, epochs=epochs)

    def _on_view_changed(self) -> None:
        """Zoomed, panned or resized: hand the long curves what the new view can show."""
        view = self.plots["loss"].vb
        # While following, all the data is in view: a range that grew is no reason to refresh.
        window: Window = (None if self._following else tuple(view.viewRange()[0]), max(1, int(view.width())))
        if window != self._window:
            self._window = window
            self._refresh_all(epochs=False)

    # -- hover ----------------------------------------------------------------------------

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        for name, plot in self.plots.items():
            if plot.vb.sceneBoundingRect().contains(scene_pos):
                self._show_crosshair(name, plot.vb.mapSceneToView(scene_pos).x())
                return
        for line in self.crosshairs:
            line.setVisible(False)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Leave and watched is self.graphics.viewport():
            for line in self.crosshairs:
                line.setVisible(False)
        return super().eventFilter(watched, event)

    def _show_crosshair(self, plot: str, x: float) -> None:
        for line in self.crosshairs:
            line.setPos(x)
            line.setVisible(True)
        lines = [self._x_text(x)]
        for run_id, data in self._runs.items():
            lines.append(f"{self._curves[run_id].label}: {readout(data, plot, self._x_mode, x)}")
        self.readout.setText("\n".join(lines))

    def _x_text(self, x: float) -> str:
        if self._x_mode == "step":
            return f"step {round(x):,}"
        if self._x_mode == "epoch":
            return f"epoch {x:.2f}"
        return f"{x:.1f} s"

    # -- export ---------------------------------------------------------------------------

    def export_png(self) -> None:
        path = self.ask_export_path("Export plots as PNG", "training-plots.png", "PNG images (*.png)")
        if path:
            self._write(_with_suffix(path, ".png"), self.png_bytes)

    def export_csv(self) -> None:
        path = self.ask_export_path("Export plot data as CSV", "training-plots.csv", "CSV files (*.csv)")
        if path:
            self._write(_with_suffix(path, ".csv"), lambda: self.csv_text().encode("utf-8"))

    def png_bytes(self) -> bytes:
        """The three plots as they are drawn now, as a PNG file's bytes."""
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        self.graphics.grab().save(buffer, "PNG")
        buffer.close()
        return bytes(data.data())

    def csv_text(self) -> str:
        """Every run's plotted records, one row each (see :mod:`designer.ui.training.plot_export`)."""
        return csv_text([(self._curves[run_id].label, data) for run_id, data in self._runs.items()])

    def _write(self, path: Path, make: Callable[[], bytes]) -> None:
        try:
            write_atomic(path, make())
        except OSError as exc:
            self.show_error("Export failed", f"Could not write {path}: {exc.strerror or exc}")

    def ask_export_path(self, title: str, suggested: str, filter: str) -> str:
        path, _ = QFileDialog.getSaveFileName(self, title, suggested, filter)
        return path

    def show_error(self, title: str, message: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, self)
        box.exec()
        box.deleteLater()


def _with_suffix(path: str, suffix: str) -> Path:
    chosen = Path(path)
    return chosen if chosen.suffix else chosen.with_suffix(suffix)
