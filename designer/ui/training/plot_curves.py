"""The curves one run draws in the three training plots, in the run's colour, and what they read at an x.

Loss: every batch record's loss, faint, under its smoothed line (the one in
the legend, with the run's label) and the validation loss per epoch as
markers; a run stopped because its loss diverged gets a dashed vertical line
labelled "diverged" where it stopped, the trainer's message as its tooltip.
Accuracy: the smoothed train top-1 of the batch records, validation top-1
(discs) and top-5 (squares) per epoch. Learning rate: per batch
record. The long per-batch curves are handed only what the view can show, about
two points per pixel column (:mod:`~designer.ui.training.plot_lod`), so that a
million points redraw within a frame, and each is one light :class:`Curve`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPen

from designer.ui.training.plot_item import Curve
from designer.ui.training.plot_records import RunData
from designer.ui.training.plot_series import Series

Window = tuple[tuple[float, float] | None, int]  # the x range in view (None: all the data), its width in pixels
LEGEND_ALPHA = 220  # the legend's veil: the curves show through it, faintly, without muddying its text
RAW_SHARE = 0.3  # the raw loss is context for the smoothed line, not the thing to read: a pale tint
WHITE = QColor("#ffffff")


def faded(colour: QColor, share: float, background: QColor = WHITE) -> QColor:
    """``share`` of ``colour`` over ``background``; opaque, because Qt's raster engine strokes translucent
    lines ~10× slower."""
    return QColor.fromRgbF(*(b + share * (c - b) for c, b in zip(_rgb(colour), _rgb(background))))


def _rgb(colour: QColor) -> tuple[float, float, float]:
    return colour.redF(), colour.greenF(), colour.blueF()


def _pen(colour: QColor, width: float = 1.5, style: Qt.PenStyle = Qt.PenStyle.SolidLine) -> QPen:
    pen = QPen(colour, width)
    pen.setStyle(style)
    pen.setCosmetic(True)
    return pen


def _epoch_curve(colour: QColor, style: Qt.PenStyle, marker: Qt.PenCapStyle) -> Curve:
    return Curve(_pen(colour, 1.2, style), marker=marker)


def paint_plot(plot: Any, title: str, colour: QColor) -> None:
    """A pyqtgraph plot's title and axes (their lines, ticks and numbers) in ``colour``."""
    plot.setTitle(title, color=colour, size="9pt")
    for side in ("left", "bottom"):
        plot.getAxis(side).setPen(colour)
        plot.getAxis(side).setTextPen(colour)


def paint_legend(legend: Any, colour: QColor, background: QColor) -> None:
    """A pyqtgraph legend's texts in ``colour`` on a veil of ``background`` (the curves pass under it),
    and its samples drawn again (their runs' colours changed)."""
    veil = QColor(background)
    veil.setAlpha(LEGEND_ALPHA)
    legend.setBrush(veil)
    legend.setLabelTextColor(colour)
    for _, label in legend.items:  # pyqtgraph keeps the colour for the next text: give them theirs again
        label.setText(label.text)
    legend.update()


# What each plot draws of a run: long curves (keys of LONG_CURVES) and per-epoch columns.
PLOT_CONTENTS = {"loss": (("loss", "smoothed_loss"), ("val_loss",)),
                 "accuracy": (("smoothed_accuracy",), ("val_top1", "val_top5")),
                 "lr": (("lr",), ())}


def value_range(data: RunData, plot: str) -> tuple[float, float] | None:
    """The least and greatest value ``data`` draws in ``plot``, without reading every point."""
    curves, columns = PLOT_CONTENTS[plot]
    found = [data.curve_bounds(curve) for curve in curves] + [data.epoch_bounds(column) for column in columns]
    known = [bounds for bounds in found if bounds is not None]
    return (min(low for low, _ in known), max(high for _, high in known)) if known else None


class RunCurves:
    """One run's items in the loss, accuracy and learning-rate plots."""

    def __init__(self, plots: tuple[Any, Any, Any], legend: Any, colour: QColor, label: str,
                 background: QColor = WHITE) -> None:
        self.colour = QColor(colour)
        self.label = label
        loss_plot, accuracy_plot, lr_plot = plots
        self.loss_raw = Curve(_pen(faded(colour, RAW_SHARE, background), 1.0))
        self.loss_smooth = Curve(_pen(colour, 2.0), name=label)
        self.val_loss = _epoch_curve(colour, Qt.PenStyle.DashLine, Qt.PenCapStyle.RoundCap)
        self.train_accuracy = Curve(_pen(colour, 2.0))
        self.val_top1 = _epoch_curve(colour, Qt.PenStyle.DashLine, Qt.PenCapStyle.RoundCap)
        self.val_top5 = _epoch_curve(colour, Qt.PenStyle.DotLine, Qt.PenCapStyle.SquareCap)
        self.lr = Curve(_pen(colour, 1.5))
        self.diverged = pg.InfiniteLine(angle=90, movable=False, pen=_pen(colour, 1.5, Qt.PenStyle.DashLine),
                                        label="diverged", labelOpts={"position": 0.9, "color": colour})
        self.diverged.setVisible(False)
        loss_plot.addItem(self.diverged, ignoreBounds=True)
        self._placed = ((loss_plot, (self.loss_raw, self.loss_smooth, self.val_loss)),
                        (accuracy_plot, (self.train_accuracy, self.val_top1, self.val_top5)),
                        (lr_plot, (self.lr,)))
        for plot, items in self._placed:
            for item in items:
                plot.addItem(item)
        legend.addItem(self.loss_smooth, label)

    def items(self) -> list[Curve]:
        return [item for _, items in self._placed for item in items]

    def set_colour(self, colour: QColor, background: QColor) -> None:
        """Draw the run in ``colour`` on ``background`` (the theme changed)."""
        self.colour = QColor(colour)
        for item in self.items():
            item.set_colour(faded(colour, RAW_SHARE, background) if item is self.loss_raw else colour)
        self.diverged.setPen(_pen(colour, 1.5, Qt.PenStyle.DashLine))
        self.diverged.label.setColor(colour)

    def remove(self, legend: Any) -> None:
        legend.removeItem(self.loss_smooth)
        self._placed[0][0].removeItem(self.diverged)
        for plot, items in self._placed:
            for item in items:
                plot.removeItem(item)

    def set_label(self, legend: Any, label: str) -> None:
        self.label = label
        self.loss_smooth.opts["name"] = label  # what the legend shows if it is rebuilt
        legend_label = legend.getLabel(self.loss_smooth)
        if legend_label is not None:
            legend_label.setText(label)

    def refresh(self, data: RunData, mode: str, window: Window, batches: bool = True, accuracy: bool = True,
                epochs: bool = True) -> None:
        """Hand the curves the run's points on the ``mode`` axis (only the parts named).

        ``window`` is the x range in view (None while the plot follows all the
        data) and its width in pixels: the long curves get only what can show there.
        """
        if batches:
            for item, curve in ((self.loss_raw, "loss"), (self.loss_smooth, "smoothed_loss"), (self.lr, "lr")):
                item.setData(*data.curve_points(curve, mode, *window))
        if accuracy:
            self.train_accuracy.setData(*data.curve_points("smoothed_accuracy", mode, *window))
        if epochs:
            x = data.epochs.x(mode)
            for item, name in ((self.val_loss, "val_loss"), (self.val_top1, "val_top1"),
                               (self.val_top5, "val_top5")):
                item.setData(x, data.epochs.y(name))  # an epoch that did not measure it is NaN: left out
        self.mark_divergence(data, mode)

    def mark_divergence(self, data: RunData, mode: str) -> None:
        """Show where the run diverged on the ``mode`` axis, or hide the mark (a run that did not)."""
        divergence = data.divergence
        self.diverged.setVisible(divergence is not None)
        if divergence is not None:
            self.diverged.setValue(divergence.xs[mode])
            self.diverged.setToolTip(divergence.message)


def _at(series: Series, mode: str, x: float, value: Callable[[int], float]) -> tuple[float, float] | None:
    """(x, value) of the point nearest ``x``, or None when the series is empty or the value unmeasured."""
    i = series.nearest(mode, x)
    if i is None:
        return None
    found = value(i)
    return (float(series.x(mode)[i]), found) if math.isfinite(found) else None


def _number(value: float) -> str:
    return f"{value:.4g}"


def _percent(value: float) -> str:
    return f"{value:.2%}"


def readout(data: RunData, plot: str, mode: str, x: float) -> str:
    """What ``data`` shows in ``plot`` ("loss", "accuracy" or "lr") nearest ``x``, as one line of text."""
    b, e, acc = data.batches, data.epochs, data.accuracy
    if plot == "loss":
        parts = [("loss", _at(b, mode, x, lambda i: float(b.y("loss")[i])), _number),
                 ("smoothed", _at(b, mode, x, lambda i: float(b.smoothed("loss")[i])), _number),
                 ("val loss", _nearest_epoch(e, "val_loss", mode, x), _number)]
    elif plot == "accuracy":
        parts = [("train top-1", _at(acc, mode, x, lambda i: float(acc.smoothed("accuracy")[i])), _percent),
                 ("val top-1", _nearest_epoch(e, "val_top1", mode, x), _percent),
                 ("val top-5", _nearest_epoch(e, "val_top5", mode, x), _percent)]
    else:
        parts = [("lr", _at(b, mode, x, lambda i: float(b.y("lr")[i])), _number)]
    shown = [f"{name} {fmt(found[1])}" for name, found, fmt in parts if found is not None]
    return ", ".join(shown) if shown else "no data here"


def _nearest_epoch(epochs: Series, name: str, mode: str, x: float) -> tuple[float, float] | None:
    """The value of ``name`` at the nearest epoch that measured it."""
    values = epochs.y(name)
    keep = np.flatnonzero(np.isfinite(values))
    if len(keep) == 0:
        return None
    xs = epochs.x(mode)[keep]
    best = int(keep[int(np.argmin(np.abs(xs - x)))])
    return float(epochs.x(mode)[best]), float(values[best])
