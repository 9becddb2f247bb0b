"""The live training plots: curves from real records, smoothing, x axes, log scale, hover, export, overlays.

Most tests build records by hand (the dataclasses the trainer yields) so that
every plotted value is known; one runs a real LeNet-5 on the built-in digits on
a TrainingWorker and feeds its deliveries to the plots, then reads the same run
back from its metrics.jsonl. Assertions read what the plots draw:
``PlotDataItem.getData()``, the legend, the readout label, the exported files.
"""

from __future__ import annotations

import csv
import io
import math

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QImage, QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from designer.training.records import (
    BatchRecord,
    EpochRecord,
    MetricsError,
    Note,
    Paused,
    Record,
    Resumed,
    RunEnded,
    RunStarted,
)
from designer.ui.training.plot_lod import PeakPyramid
from designer.ui.training.plot_records import read_metrics
from designer.ui.training.plot_series import EmaState, GrowingArray, debiased_ema, ema_reference
from designer.ui.training.plots import TrainingPlots
from tests.training.special_files import fifo

SPE = 10  # steps per epoch in the hand-made runs
EPOCHS = 3
SECONDS_PER_STEP = 0.5
PAUSE_MS = 20  # pyqtgraph ignores mouse moves that come within 10 ms (of real time) of the one before


def loss_at(step: int) -> float:
    return 2.0 / math.sqrt(step) + 0.1 * math.sin(step)


def batch(step: int, *, accuracy: float | None = None, eta: float | None = None) -> BatchRecord:
    epoch = (step - 1) // SPE + 1
    left = EPOCHS * SPE - step
    return BatchRecord(epoch, step, (step - 1) % SPE + 1, loss_at(step),
                       0.5 + step / 100 if accuracy is None else accuracy, 0.1 / epoch, 800.0,
                       left * SECONDS_PER_STEP if eta is None else eta)


def epoch_end(epoch: int, *, val_top5: float | None = 0.95) -> EpochRecord:
    return EpochRecord(epoch, epoch * SPE, 1.0 / epoch, 0.6, 1.2 / epoch, 0.5 + epoch / 10, val_top5,
                       0.1 / (epoch + 1), 5.0, 1.0, True)


def whole_run(run_id: str = "run-a", start_time: float = 1000.0) -> list[Record]:
    """A finished three-epoch run, as the trainer reports it."""
    records: list[Record] = [RunStarted(run_id, f"/runs/{run_id}", "cpu", "CPU", EPOCHS, SPE, time=start_time)]
    for step in range(1, EPOCHS * SPE + 1):
        records.append(batch(step))
        if step % SPE == 0:
            records.append(epoch_end(step // SPE, val_top5=None if step == 2 * SPE else 0.95))
    records.append(RunEnded("finished", EPOCHS, EPOCHS * SPE))
    return records


@pytest.fixture
def plots(qtbot) -> TrainingPlots:
    widget = TrainingPlots()
    qtbot.addWidget(widget)
    widget.resize(1000, 800)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def drawn(item) -> tuple[list[float], list[float]]:
    x, y = item.getData()
    return ([] if x is None else list(x)), ([] if y is None else list(y))


def move_mouse(qtbot, plots: TrainingPlots, plot: str, x: float, y: float) -> None:
    """Move the mouse over the point (x, y) of a plot, as a user does: not sooner than pyqtgraph listens."""
    qtbot.wait(PAUSE_MS)
    view = plots.plots[plot].vb
    QTest.mouseMove(plots.graphics.viewport(), plots.graphics.mapFromScene(view.mapViewToScene(QPointF(x, y))))


def feed_in_deliveries(plots: TrainingPlots, run_id: str, records: list[Record], size: int = 7) -> None:
    for i in range(0, len(records), size):
        plots.add_records(run_id, records[i:i + size])


# -- curves -------------------------------------------------------------------------------


def test_batch_records_draw_the_raw_loss_its_smoothed_line_and_the_learning_rate(plots):
    feed_in_deliveries(plots, "run-a", whole_run())
    curves = plots.curves("run-a")
    steps = list(range(1, EPOCHS * SPE + 1))
    assert drawn(curves.loss_raw) == (steps, [loss_at(s) for s in steps])
    x, smoothed = drawn(curves.loss_smooth)
    assert x == steps
    assert smoothed == pytest.approx(ema_reference([loss_at(s) for s in steps], 0.6), rel=1e-12)
    assert drawn(curves.lr) == (steps, [0.1 / ((s - 1) // SPE + 1) for s in steps])


def test_validation_and_accuracy_are_drawn_per_epoch_skipping_what_was_not_measured(plots):
    records = whole_run()
    records[5] = BatchRecord(1, 5, 5, loss_at(5), None, 0.1, 800.0, 12.5)  # one without accuracy
    plots.add_records("run-a", records)
    curves = plots.curves("run-a")
    assert drawn(curves.val_loss) == ([10, 20, 30], pytest.approx([1.2, 0.6, 0.4]))
    assert drawn(curves.val_top1) == ([10, 20, 30], pytest.approx([0.6, 0.7, 0.8]))
    assert drawn(curves.val_top5) == ([10, 30], [0.95, 0.95])  # epoch 2 measured no top-5
    x, accuracy = drawn(curves.train_accuracy)
    measured = [s for s in range(1, 31) if s != 5]
    assert x == measured
    assert accuracy == pytest.approx(ema_reference([0.5 + s / 100 for s in measured], 0.6), rel=1e-12)


def test_records_that_measure_nothing_draw_nothing(plots):
    plots.add_records("run-a", [RunStarted("run-a", "/r", "cpu", "CPU", 1, SPE, time=0.0), Note("hello"),
                                Paused(0), Resumed(0)])
    assert drawn(plots.curves("run-a").loss_raw) == ([], [])
    assert plots.run_ids() == ["run-a"]


def test_a_run_resumed_from_an_earlier_checkpoint_replaces_the_steps_it_trains_again(plots):
    first = whole_run()[:16]  # start, 14 batch records (and epoch 1's record)
    assert isinstance(first[-1], BatchRecord) and first[-1].step == 14
    plots.add_records("run-a", first)
    again = RunStarted("run-a", "/runs/run-a", "cpu", "CPU", EPOCHS, SPE, step=10, epoch=2, time=1100.0)
    plots.add_records("run-a", [again, batch(11), batch(12)])
    x, y = drawn(plots.curves("run-a").loss_raw)
    assert x == list(range(1, 13)) and y == [loss_at(s) for s in range(1, 13)]
    assert drawn(plots.curves("run-a").loss_smooth)[1] == pytest.approx(ema_reference(y, 0.6), rel=1e-12)


# -- smoothing, axes, scale ---------------------------------------------------------------


def test_the_smoothing_slider_smooths_again(plots, qtbot):
    plots.add_records("run-a", whole_run())
    losses = [loss_at(s) for s in range(1, 31)]
    slider = plots.smoothing_slider
    slider.setFocus()
    QTest.keyClick(slider, Qt.Key.Key_Home)
    assert plots.smoothing() == 0.0 and plots.smoothing_value.text() == "0.00"
    assert drawn(plots.curves("run-a").loss_smooth)[1] == pytest.approx(losses, rel=1e-12)  # β 0: the raw loss
    QTest.keyClick(slider, Qt.Key.Key_End)
    assert plots.smoothing() == 0.99
    assert drawn(plots.curves("run-a").loss_smooth)[1] == pytest.approx(ema_reference(losses, 0.99), rel=1e-12)
    QTest.keyClick(slider, Qt.Key.Key_PageDown)  # the slider's page step is 10
    assert drawn(plots.curves("run-a").loss_smooth)[1] == pytest.approx(ema_reference(losses, 0.89), rel=1e-12)
    plots.add_records("run-a", [batch(31)])  # new points go on from the re-smoothed state
    assert drawn(plots.curves("run-a").loss_smooth)[1] == pytest.approx(
        ema_reference([*losses, loss_at(31)], 0.89), rel=1e-12)


def test_the_x_axis_counts_steps_epochs_or_seconds_since_the_start(plots, qtbot):
    records = whole_run()
    stop_at = 14
    resumed = RunStarted("run-a", "/runs/run-a", "cpu", "CPU", EPOCHS, SPE, step=stop_at, epoch=2, time=1100.0)
    measured = [r for r in records if isinstance(r, (BatchRecord, EpochRecord))]
    plots.add_records("run-a", [records[0], *(r for r in measured if r.step <= stop_at)])
    # a second session, begun 100 s after the first
    plots.add_records("run-a", [resumed, *(r for r in measured if r.step > stop_at)])
    curves, box = plots.curves("run-a"), plots.x_axis_box
    box.setFocus()
    QTest.keyClick(box, Qt.Key.Key_Down)
    assert plots.x_axis() == "epoch" and plots.plots["lr"].getAxis("bottom").labelText == "Epochs"
    assert drawn(curves.loss_raw)[0] == pytest.approx([s / SPE for s in range(1, 31)])
    assert drawn(curves.val_loss)[0] == pytest.approx([1.0, 2.0, 3.0])
    QTest.keyClick(box, Qt.Key.Key_Down)
    assert plots.x_axis() == "time"
    # eta_s = steps left × seconds per step: each batch record tells how long the session has trained
    expected = [s * SECONDS_PER_STEP if s <= stop_at else 100.0 + (s - stop_at) * SECONDS_PER_STEP
                for s in range(1, 31)]
    assert drawn(curves.loss_raw)[0] == pytest.approx(expected)
    assert drawn(curves.val_top1)[0] == pytest.approx([5.0, 103.0, 108.0])
    QTest.keyClick(box, Qt.Key.Key_Home)
    assert plots.x_axis() == "step" and drawn(curves.loss_raw)[0] == list(range(1, 31))


def y_range(plots: TrainingPlots, plot: str) -> tuple[float, float]:
    low, high = plots.plots[plot].vb.viewRange()[1]
    return low, high


def test_the_ranges_follow_the_data_until_the_user_pans_and_autoscale_brings_them_back(plots, qtbot):
    plots.add_records("run-a", whole_run()[:12])
    view = plots.plots["loss"].vb
    low, high = view.viewRange()[0]
    assert low < 1 and high >= 11 and plots.following()
    plots.add_records("run-a", whole_run()[12:])
    assert view.viewRange()[0][1] >= 30  # all 30 steps in view
    losses = [loss_at(s) for s in range(1, 31)]
    loss_low, loss_high = y_range(plots, "loss")
    assert loss_low < min(losses) and max(losses) < loss_high
    accuracy_low, accuracy_high = y_range(plots, "accuracy")
    assert accuracy_low < 0.5 and accuracy_high > 0.95  # smoothed train top-1 from 0.51, val top-5 0.95
    lr_low, lr_high = y_range(plots, "lr")
    assert lr_low < 0.1 / 3 and lr_high > 0.1
    plots.add_records("run-a", [BatchRecord(4, 31, 1, 1.0, 0.8, 0.05, 800.0, 1.0)])  # within the ranges
    assert y_range(plots, "loss") == (loss_low, loss_high)  # no change: no axis to lay out again
    plots.add_records("run-a", [BatchRecord(4, 32, 2, 9.0, 0.8, 0.05, 800.0, 1.0)])  # a spike
    assert y_range(plots, "loss")[1] > 9.0

    centre = plots.graphics.mapFromScene(view.mapViewToScene(QPointF(15, 1.0)))
    drag_to = centre + QPoint(-150, 0)
    viewport = plots.graphics.viewport()
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, centre)
    for i in range(1, 7):
        qtbot.wait(PAUSE_MS)
        QTest.mouseMove(viewport, centre + (drag_to - centre) * (i / 6))
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, drag_to)
    assert not plots.following()
    panned, panned_y = view.viewRange()
    assert panned[0] > low  # dragged left: later steps came into view
    plots.add_records("run-a", [BatchRecord(4, 33, 3, 20.0, 0.8, 0.05, 800.0, 1.0)])
    assert view.viewRange() == [pytest.approx(panned), pytest.approx(panned_y)]  # the user's view stays put
    QTest.mouseClick(plots.autoscale_button, Qt.MouseButton.LeftButton)
    assert plots.following() and view.viewRange()[0][0] < 1 <= 33 <= view.viewRange()[0][1]
    assert y_range(plots, "loss")[1] > 20.0


def test_a_live_run_spans_its_planned_end_at_once_and_widens_y_in_a_few_jumps(plots):
    # Each range change lays out and draws that plot's axes anew: step-by-step deliveries must cause few.
    epochs, per_epoch = 10, 30
    steps = epochs * per_epoch
    changes: dict[str, list[int]] = {"x": [], "loss": [], "accuracy": []}
    plots.plots["loss"].vb.sigXRangeChanged.connect(lambda *_: changes["x"].append(1))
    for name in ("loss", "accuracy"):
        plots.plots[name].vb.sigYRangeChanged.connect(lambda *_, name=name: changes[name].append(1))
    plots.add_records("live", [RunStarted("live", "/runs/live", "cpu", "CPU", epochs, per_epoch, time=0.0)])
    for step in range(1, steps + 1):
        epoch = (step - 1) // per_epoch + 1
        delivery: list[Record] = [BatchRecord(epoch, step, (step - 1) % per_epoch + 1, 2.0 / math.sqrt(step),
                                              min(1.0, step / 150), 0.05, 800.0, (steps - step) * 0.1)]
        if step % per_epoch == 0:
            delivery.append(EpochRecord(epoch, step, 2.0 / math.sqrt(step), 0.9, 2.2 / math.sqrt(step),
                                        min(1.0, 0.5 + epoch / 10), 1.0, 0.05, 3.0, 1.0, False))
        plots.add_records("live", delivery)
        assert plots.plots["loss"].vb.viewRange()[0][1] <= steps * 1.021  # never past the planned end
    assert len(changes["x"]) == 1, changes  # the planned run, from the first records on
    assert len(changes["loss"]) <= 12 and len(changes["accuracy"]) <= 12, changes
    low, high = plots.plots["loss"].vb.viewRange()[0]
    assert low < 1 and steps <= high
    accuracy_low, accuracy_high = y_range(plots, "accuracy")
    assert accuracy_low < 0.01 and 1.0 < accuracy_high <= 1.06  # no room above 1: no accuracy goes there
    assert -0.1 < y_range(plots, "loss")[0] < 2.0 / math.sqrt(steps)


def test_spread_updates_lay_out_the_x_axes_and_the_y_axes_in_separate_turns(plots, qtbot):
    # A run's first draw moves every range: spread, the y ranges follow one event-loop turn later.
    y_before = {name: y_range(plots, name) for name in ("loss", "accuracy", "lr")}
    plots.add_records("run-a", whole_run()[:12], spread=True)
    assert plots.plots["loss"].vb.viewRange()[0][1] >= EPOCHS * SPE  # x at once: the planned run
    assert {name: y_range(plots, name) for name in y_before} == y_before
    qtbot.waitUntil(lambda: y_range(plots, "loss")[1] > loss_at(1), timeout=1000)
    assert y_range(plots, "lr")[0] < 0.1 < y_range(plots, "lr")[1]
    plots.add_records("run-a", [BatchRecord(2, 12, 2, 50.0, 0.5, 0.05, 800.0, 1.0)], spread=True)  # a spike
    assert y_range(plots, "loss")[1] > 50.0  # x stayed: y follows at once


def test_log_loss_draws_log10_of_the_loss(plots, qtbot):
    plots.add_records("run-a", whole_run())
    QTest.mouseClick(plots.log_loss_box, Qt.MouseButton.LeftButton)
    assert plots.log_loss_box.isChecked()
    steps = range(1, 31)
    assert drawn(plots.curves("run-a").loss_raw)[1] == pytest.approx([math.log10(loss_at(s)) for s in steps])
    assert plots.plots["loss"].getAxis("left").logMode
    qtbot.wait(10)  # pyqtgraph fits a log range when it paints
    low, high = y_range(plots, "loss")
    assert low < math.log10(min(map(loss_at, steps))) and math.log10(max(map(loss_at, steps))) < high < 1
    assert drawn(plots.curves("run-a").lr)[1] == pytest.approx([0.1 / ((s - 1) // SPE + 1) for s in steps])
    QTest.mouseClick(plots.log_loss_box, Qt.MouseButton.LeftButton)
    assert drawn(plots.curves("run-a").loss_raw)[1] == pytest.approx([loss_at(s) for s in range(1, 31)])
    low, high = y_range(plots, "loss")
    assert low < min(map(loss_at, steps)) and max(map(loss_at, steps)) < high  # linear again, and fitted


# -- several runs ------------------------------------------------------------------------


def legend_texts(plots: TrainingPlots) -> list[str]:
    return [label.text for _, label in plots.legend.items]


def test_two_runs_overlay_in_their_own_colours_with_a_legend_entry_each(plots):
    plots.set_label("run-a", "lenet5 lr 0.05")  # named before its first records, as the panel does
    feed_in_deliveries(plots, "run-a", whole_run("run-a"))
    plots.load_run("run-b", "lenet5 lr 0.1", whole_run("run-b", start_time=5000.0))
    assert legend_texts(plots) == ["lenet5 lr 0.05", "lenet5 lr 0.1"]
    a, b = plots.curves("run-a"), plots.curves("run-b")
    assert a.colour != b.colour
    assert a.loss_smooth.opts["pen"].color() == a.colour and b.loss_smooth.opts["pen"].color() == b.colour
    assert drawn(a.loss_raw) == drawn(b.loss_raw)  # same records: same points, overlaid
    assert all(item in plots.plots["loss"].items for item in (a.loss_raw, b.loss_raw))
    plots.set_label("run-b", "second")
    assert legend_texts(plots) == ["lenet5 lr 0.05", "second"]
    plots.remove_run("run-a")
    assert legend_texts(plots) == ["second"] and a.loss_raw not in plots.plots["loss"].items
    plots.load_run("run-c", "third", whole_run("run-c"))
    assert plots.curves("run-c").colour == a.colour  # the colour that was freed
    plots.clear()
    assert legend_texts(plots) == [] and plots.run_ids() == [] and plots.plots["loss"].listDataItems() == []


# -- hover -------------------------------------------------------------------------------


def test_moving_the_mouse_over_a_plot_reads_the_values_under_it(plots, qtbot):
    plots.load_run("run-a", "first", whole_run("run-a"))
    plots.load_run("run-b", "second", whole_run("run-b"))
    move_mouse(qtbot, plots, "loss", 20.2, 1.0)
    smoothed = ema_reference([loss_at(s) for s in range(1, 31)], 0.6)[19]
    line = f"loss {loss_at(20):.4g}, smoothed {smoothed:.4g}, val loss 0.6"
    assert plots.readout.text() == f"step 20\nfirst: {line}\nsecond: {line}"
    assert all(c.isVisible() and c.value() == pytest.approx(20.2, abs=0.5) for c in plots.crosshairs)
    move_mouse(qtbot, plots, "accuracy", 29.0, 0.6)
    top1 = ema_reference([0.5 + s / 100 for s in range(1, 31)], 0.6)[28]
    expected = f"first: train top-1 {top1:.2%}, val top-1 80.00%, val top-5 95.00%"
    assert plots.readout.text().splitlines()[1] == expected
    move_mouse(qtbot, plots, "lr", 3.0, 0.05)
    assert plots.readout.text().splitlines()[2] == "second: lr 0.1"
    qtbot.wait(PAUSE_MS)
    QTest.mouseMove(plots.autoscale_button)  # off the plots: the crosshair goes, the last reading stays
    assert not any(c.isVisible() for c in plots.crosshairs)
    assert plots.readout.text().startswith("step 3\n")


# -- export ------------------------------------------------------------------------------


def test_export_csv_writes_one_row_per_batch_and_epoch_record(plots, tmp_path, monkeypatch):
    plots.load_run("run-a", "first", whole_run("run-a"))
    plots.load_run("run-b", "second", whole_run("run-b")[:6])
    target = tmp_path / "plots"  # no suffix: .csv is added
    asked: list[str] = []
    monkeypatch.setattr(plots, "ask_export_path",
                        lambda title, suggested, kinds: asked.append(kinds) or str(target))
    QTest.mouseClick(plots.export_csv_button, Qt.MouseButton.LeftButton)
    assert asked == ["CSV files (*.csv)"]
    rows = list(csv.DictReader(io.StringIO((tmp_path / "plots.csv").read_text(encoding="utf-8"))))
    first = [row for row in rows if row["run"] == "first"]
    assert [row["kind"] for row in first] == (["batch"] * 10 + ["epoch"]) * 3
    assert len([row for row in rows if row["run"] == "second"]) == 5
    row = first[0]
    assert (row["step"], row["epoch"], row["batch"]) == ("1", "1", "1")
    assert float(row["loss"]) == loss_at(1) and float(row["smoothed_loss"]) == pytest.approx(loss_at(1))
    assert float(row["time_s"]) == SECONDS_PER_STEP and row["val_loss"] == ""
    epoch_two = [row for row in first if row["kind"] == "epoch"][1]
    assert epoch_two["step"] == "20" and float(epoch_two["val_loss"]) == 0.6 and epoch_two["val_top5"] == ""
    assert float(epoch_two["epoch_seconds"]) == 5.0 and epoch_two["loss"] == ""


def test_export_png_writes_an_image_of_the_plots(plots, tmp_path, monkeypatch):
    plots.load_run("run-a", "first", whole_run())
    monkeypatch.setattr(plots, "ask_export_path", lambda *args: str(tmp_path / "plots.png"))
    QTest.mouseClick(plots.export_png_button, Qt.MouseButton.LeftButton)
    data = (tmp_path / "plots.png").read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    image = QImage.fromData(data).convertToFormat(QImage.Format.Format_RGB32)
    assert image.width() == plots.graphics.width() and image.height() == plots.graphics.height()
    pixels = np.frombuffer(image.constBits(), dtype=np.uint32, count=image.width() * image.height())
    assert np.count_nonzero(pixels == plots.curves("run-a").colour.rgb()) > 100  # the run's curves are in it


def test_export_to_a_missing_folder_says_so_and_cancel_writes_nothing(plots, tmp_path, monkeypatch):
    plots.load_run("run-a", "first", whole_run())
    errors: list[tuple[str, str]] = []
    monkeypatch.setattr(plots, "show_error", lambda title, message: errors.append((title, message)))
    monkeypatch.setattr(plots, "ask_export_path", lambda *args: str(tmp_path / "nowhere" / "data.csv"))
    QTest.mouseClick(plots.export_csv_button, Qt.MouseButton.LeftButton)
    assert len(errors) == 1 and "nowhere" in errors[0][1] and "no such folder" in errors[0][1]
    monkeypatch.setattr(plots, "ask_export_path", lambda *args: "")
    QTest.mouseClick(plots.export_png_button, Qt.MouseButton.LeftButton)
    assert len(errors) == 1 and list(tmp_path.iterdir()) == []


# -- many points --------------------------------------------------------------------------


def test_a_long_run_is_drawn_as_its_envelope_and_zooming_in_shows_every_point(plots, qtbot):
    rng = np.random.default_rng(0)
    losses = 1.0 + rng.normal(size=50_000)
    losses[31_234] = 40.0  # one spike must survive the decimation
    records: list[Record] = [RunStarted("long", "/r", "cpu", "CPU", 1, 50_000, time=0.0)]
    records += [BatchRecord(1, s, s, float(losses[s - 1]), None, 0.1, 1.0, float(50_000 - s))
                for s in range(1, 50_001)]
    feed_in_deliveries(plots, "long", records, size=5000)
    x, y = drawn(plots.curves("long").loss_raw)
    pixels = int(plots.plots["loss"].vb.width())
    assert len(x) <= 2 * pixels + 1 and max(y) == 40.0 and min(y) == losses.min()
    assert x[-1] == 50_000  # the line reaches the last point
    view = plots.plots["loss"].vb
    at = plots.graphics.mapFromScene(view.mapViewToScene(QPointF(31_234, 1.0)))
    turn = QWheelEvent(QPointF(at), QPointF(plots.graphics.viewport().mapToGlobal(at)), QPoint(),
                       QPoint(0, 2400), Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                       Qt.ScrollPhase.NoScrollPhase, False)
    # The pointer sits on a whole pixel, which is ~100 steps wide here: the zoom keeps that place.
    anchor = view.mapSceneToView(plots.graphics.mapToScene(at)).x()
    QApplication.sendEvent(plots.graphics.viewport(), turn)  # zoom in far around the spike
    low, high = view.viewRange()[0]
    assert not plots.following() and low < anchor < high and high - low < 300
    x, y = drawn(plots.curves("long").loss_raw)
    shown = list(range(math.ceil(low) - 1, math.floor(high) + 2))
    assert x == shown and y == list(losses[shown[0] - 1:shown[-1]])  # every point, none decimated


def test_peak_pyramid_built_in_pieces_matches_every_block_of_the_raw_points():
    rng = np.random.default_rng(1)
    values = rng.normal(size=20_011)
    column, pyramid = GrowingArray(), PeakPyramid()
    done = 0
    while done < len(values):
        size = int(rng.integers(1, 900))
        column.append(values[done:done + size])
        pyramid.update(column.view, done)
        done += size
    x = np.arange(len(values), dtype=float)
    for first, end, pixels in ((0, 20_011, 300), (1_000, 9_000, 97), (5, 60, 7)):
        dx, dy = pyramid.decimate(x, column.view, first, end, pixels)
        level = math.ceil(math.log2((end - first) / pixels))
        for i in range(0, len(dx) - 1, 2):
            start = int(dx[i])
            block = values[start:start + 2 ** level]
            assert (dy[i], dy[i + 1]) == (block.max(), block.min())
        assert len(dx) <= 2 * pixels + 3


def test_the_ema_extended_piece_by_piece_equals_the_point_by_point_definition():
    rng = np.random.default_rng(2)
    values = rng.normal(size=3_000) * 5
    values[::97] = np.nan  # left out of the average, as TensorBoard does
    for beta in (0.0, 0.01, 0.6, 0.95, 0.99):
        state = EmaState()
        pieces = [debiased_ema(values[a:b], beta, state) for a, b in ((0, 1), (1, 40), (40, 41), (41, 3_000))]
        expected = np.array(ema_reference(values, beta))
        assert np.allclose(np.concatenate(pieces), expected, rtol=1e-12, atol=1e-12, equal_nan=True)


# -- run files and a real run -------------------------------------------------------------


def test_read_metrics_reads_records_back_and_names_a_bad_line(tmp_path):
    import json

    path = tmp_path / "metrics.jsonl"
    records = whole_run()
    lines = [json.dumps(r.to_json()) for r in records]
    path.write_text("\n".join([*lines, '{"kind": "node_stats", "step": 3, "stats": {}}', '{"kind": "ba']),
                    encoding="utf-8")
    assert read_metrics(path) == records  # node statistics are not plotted; a cut-off last line is skipped
    path.write_text("\n".join([lines[0], "not json", lines[1]]), encoding="utf-8")
    with pytest.raises(MetricsError, match=r"metrics\.jsonl, line 2: not JSON"):
        read_metrics(path)
    path.write_text('{"kind": "batch", "step": 1}\n', encoding="utf-8")
    with pytest.raises(MetricsError, match=r"line 1: a 'batch' record .*missing"):
        read_metrics(path)


def test_read_metrics_names_a_named_pipe_and_never_opens_it(tmp_path):
    """It runs on the GUI thread when runs are overlaid: a pipe opened there froze the window."""
    with fifo(tmp_path / "metrics.jsonl") as path, pytest.raises(MetricsError) as caught:
        read_metrics(path)
    assert str(caught.value) == f"{path}: is a named pipe (FIFO), not a file"


@pytest.mark.slow
def test_a_real_run_on_a_worker_plots_every_record_and_reads_back_the_same(plots, qtbot, tmp_path):
    import designer
    from designer.data import DatasetConfig
    from designer.training import TrainingConfig
    from designer.ui.training_worker import TrainingWorker

    config = TrainingConfig(batch_size=64, epochs=2, log_every=1, lr=0.05)
    worker = TrainingWorker.for_graph(designer.load("lenet5"), DatasetConfig(), config, root=tmp_path)
    delivered: list[Record] = []
    worker.records.connect(delivered.extend)
    worker.records.connect(lambda records: plots.add_records("live", records))
    try:
        with qtbot.waitSignal(worker.finished, timeout=120_000) as finished:
            worker.start()
    finally:
        worker.shutdown()
    result = finished.args[0]
    batches = [r for r in delivered if isinstance(r, BatchRecord)]
    epochs = [r for r in delivered if isinstance(r, EpochRecord)]
    assert result.status == "finished" and len(epochs) == 2 and len(batches) == result.step
    live = plots.curves("live")
    assert drawn(live.loss_raw) == ([r.step for r in batches], [r.loss for r in batches])
    assert drawn(live.loss_smooth)[1] == pytest.approx(ema_reference([r.loss for r in batches], 0.6), rel=1e-12)
    assert drawn(live.val_loss) == ([r.step for r in epochs], [r.val_loss for r in epochs])
    assert drawn(live.val_top1)[1] == [r.val_top1 for r in epochs]
    plots.load_run("read-back", "from metrics.jsonl", read_metrics(result.run_dir / "metrics.jsonl"))
    back = plots.curves("read-back")
    for mode in ("step", "epoch", "time"):
        plots.set_x_axis(mode)
        for name in ("loss_raw", "val_loss", "val_top5", "lr"):
            assert drawn(getattr(back, name)) == drawn(getattr(live, name)), (mode, name)
        for name in ("loss_smooth", "train_accuracy"):  # smoothed in one piece, or delivery by delivery
            x, y = drawn(getattr(live, name))
            assert drawn(getattr(back, name)) == (x, pytest.approx(y, rel=1e-12)), (mode, name)
    times = drawn(live.loss_raw)[0]
    assert times == sorted(times) and 0 < times[-1] < 120  # seconds since the start, growing


def test_a_runs_first_loss_shows_as_a_point_at_once(plots, qtbot):
    plots.add_records("run-a", [batch(1)])
    curves = plots.curves("run-a")
    assert drawn(curves.loss_raw) == ([1], [loss_at(1)])
    view = plots.plots["loss"].getViewBox()
    qtbot.waitUntil(lambda: not view.viewRect().isEmpty())
    graphics = view.scene().views()[0]
    where = graphics.mapFromScene(view.mapViewToScene(QPointF(1, loss_at(1))))
    image = graphics.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    colours = [c.opts["pen"].color() for c in (curves.loss_raw, curves.loss_smooth)]  # the dot of each
    around = [image.pixelColor(where.x() + dx, where.y() + dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)]
    assert any(abs(c.red() - k.red()) + abs(c.green() - k.green()) + abs(c.blue() - k.blue()) < 60
               for c in around for k in colours), "the first point is drawn where it is, in the run's colour"
