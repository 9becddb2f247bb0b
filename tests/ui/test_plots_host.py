"""The Plots tab's pacing: records are drawn a few times a second, however fast they come, and all of them."""

from __future__ import annotations

import time

from designer.training.records import BatchRecord, RunStarted
from designer.ui.training.plots_host import BUDGET, DRAW_MS, MAX_DRAW_MS, PlotsHost, draw_interval


def test_the_wait_between_draws_keeps_their_cost_within_the_budget_between_the_bounds():
    assert draw_interval(0.0) == DRAW_MS == 100  # cheap draws: ten a second, no more
    assert draw_interval(0.0035) == round(0.0035 / BUDGET * 1000) == 175  # this machine: ~6 a second
    assert draw_interval(0.05) == MAX_DRAW_MS  # a draw that laid out axes anew: a long wait, not longer
    costs = [i / 10_000 for i in range(200)]
    assert [draw_interval(c) for c in costs] == sorted(draw_interval(c) for c in costs)


def test_records_coming_every_10_ms_are_drawn_at_most_ten_times_a_second_and_every_one_in_the_end(qtbot):
    host = PlotsHost()
    qtbot.addWidget(host)
    host.resize(1200, 300)
    host.show()
    qtbot.waitExposed(host)
    host.add_records("run", [RunStarted("run", "/runs/run", "cpu", "CPU", 10, 100, time=0.0)])
    step, lengths = 0, []
    started = time.monotonic()
    while time.monotonic() - started < 1.5:
        step += 1
        host.add_records("run", [BatchRecord((step - 1) // 100 + 1, step, (step - 1) % 100 + 1, 1.0 / step,
                                             0.5, 0.1, 1000.0, 1.0)])
        qtbot.wait(10)
        if host.built:
            lengths.append(len(host.plots.curves("run").loss_raw.getData()[0]))
    elapsed = time.monotonic() - started
    draws = len(set(lengths))
    assert step > 60 and 3 <= draws <= 10 * elapsed + 1, (step, draws, elapsed)
    drawn = host.plots.curves("run").loss_raw
    qtbot.waitUntil(lambda: len(drawn.getData()[0]) == step, timeout=MAX_DRAW_MS * 3)  # the last few too
