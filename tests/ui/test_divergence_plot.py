"""A run stopped because its loss diverged is marked on the loss plot, where it stopped, with the message."""

from __future__ import annotations

import json

import pytest

from designer.training.records import RunEnded, RunStarted
from designer.ui.training.plot_records import read_metrics
from designer.ui.training.plots import TrainingPlots
from tests.ui.test_training_plots import SPE, batch, epoch_end

MESSAGE = "loss diverged: rose from 2.30 to 463,034 in 12 steps; the learning rate 1e9 (training.lr) is …"


def diverged_run(run_id: str = "run-d") -> list:
    records = [RunStarted(run_id, f"/runs/{run_id}", "cpu", "CPU", 3, SPE, time=1000.0)]
    records += [batch(step) for step in range(1, SPE + 1)] + [epoch_end(1)]
    records += [batch(step) for step in range(SPE + 1, 15)]
    return [*records, RunEnded("diverged", 1, 14, MESSAGE, "/runs/run-d/checkpoints/last.pt")]


@pytest.fixture
def plots(qtbot) -> TrainingPlots:
    widget = TrainingPlots()
    qtbot.addWidget(widget)
    widget.resize(800, 400)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_the_live_plot_marks_where_the_loss_diverged_on_every_x_axis(plots):
    records = diverged_run()
    plots.add_records("run-d", records[:-1])
    mark = plots.curves("run-d").diverged
    assert not mark.isVisible()
    plots.add_records("run-d", records[-1:])  # the end comes alone, as the worker may deliver it
    assert mark.isVisible() and mark.value() == 14 and mark.toolTip() == MESSAGE
    assert mark.label.toPlainText() == "diverged"
    plots.set_x_axis("epoch")
    assert mark.value() == pytest.approx(14 / SPE)
    plots.set_x_axis("time")
    assert mark.value() > 0


def test_a_finished_run_has_no_mark_and_a_diverged_one_read_back_has_it(plots, tmp_path):
    records = diverged_run()
    finished = [*records[:-1], RunEnded("finished", 3, 3 * SPE)]
    plots.load_run("ok", "ok", finished)
    assert not plots.curves("ok").diverged.isVisible()
    metrics = tmp_path / "metrics.jsonl"
    metrics.write_text("".join(json.dumps(record.to_json()) + "\n" for record in records))
    plots.load_run("run-d", "run-d", read_metrics(metrics))
    assert plots.curves("run-d").diverged.isVisible() and plots.curves("run-d").diverged.value() == 14
    mark = plots.curves("run-d").diverged
    plots.remove_run("run-d")
    assert mark not in plots.plots["loss"].items
