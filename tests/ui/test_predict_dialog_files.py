"""The predict dialog on files it must not read as they are: weights that hold NaN, an image that is a pipe."""

from __future__ import annotations

import pytest
import torch

from designer.ui.training.predict_dialog import PredictDialog
from tests.training.real_runs import finished_run
from tests.training.special_files import fifo

TIMEOUT = 30_000


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return finished_run(tmp_path_factory.mktemp("predict-files"), "predict")


def _dialog(qtbot, checkpoint):
    widget = PredictDialog(checkpoint)
    qtbot.addWidget(widget)
    return widget


def test_weights_that_are_not_finite_are_said_instead_of_nan_bars(qtbot, run_dir):
    checkpoint = run_dir / "checkpoints" / "diverged.pt"
    data = torch.load(run_dir / "checkpoints" / "best.pt", weights_only=True)
    data["model"]["c1.weight"].fill_(float("inf"))
    torch.save(data, checkpoint)
    widget = _dialog(qtbot, checkpoint)
    with qtbot.waitSignal(widget.failed, timeout=TIMEOUT) as blocker:
        widget.show()
    assert blocker.args[0].startswith(f"{checkpoint}: the weights are not finite (c1.weight holds NaN")
    assert "the weights are not finite" in widget.message.text() and widget.trained is None
    assert widget.shown_predictions() == []


def test_an_image_that_is_a_named_pipe_is_named_not_read(qtbot, run_dir, tmp_path):
    widget = _dialog(qtbot, run_dir / "checkpoints" / "best.pt")
    with qtbot.waitSignal(widget.loaded, timeout=TIMEOUT):
        widget.show()
    with fifo(tmp_path / "digit.png") as pipe, qtbot.waitSignal(widget.failed, timeout=TIMEOUT) as blocker:
        widget.predict_file(pipe)
    assert blocker.args[0] == f"{pipe}: is a named pipe (FIFO), not a file"
    assert "named pipe" in widget.message.text() and widget.shown_predictions() == []
    widget.shutdown()
