"""Start shows the first loss at once on a warm app: once the window is up, the training panel loads what a
run needs on a background thread (issue 13, C15; the timing itself is benchmarks/first_point.py)."""

from __future__ import annotations

import sys

from designer.ui.training.panel import WARM_UP_DELAY_MS

WAIT = 60_000


def test_once_the_window_is_up_the_panel_loads_the_training_worker_in_the_background(make_window, qtbot):
    window = make_window("lenet5")
    panel = window.training_panel
    assert not panel.warm_up_done  # nothing before the window has had its first paint and layout
    qtbot.wait(WARM_UP_DELAY_MS // 2)
    assert not panel.warm_up_done
    qtbot.waitUntil(lambda: panel.warm_up_done, timeout=WAIT)
    assert "designer.ui.training_worker" in sys.modules and "torch._dynamo" in sys.modules
    assert panel.monitor.log.isHidden()  # quietly: the user sees nothing of it
