"""The learning-rate finder: a curve, two suggestions, nothing written, the caller's model untouched."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest
import torch

import designer
from designer.cli import main
from designer.data import DatasetConfig
from designer.training import TrainingConfig
from designer.training.jobs import start_job
from designer.training.lr_find import find_lr, lr_range_test, minimum_lr, steepest_lr

from .conftest import STEPS, train_batches


def test_the_rate_grows_geometrically_and_the_callers_model_and_random_state_are_untouched(lenet, tmp_path,
                                                                                            monkeypatch):
    monkeypatch.chdir(tmp_path)
    model = lenet.to_torch()
    before = {name: tensor.clone() for name, tensor in model.state_dict().items()}
    rng = torch.get_rng_state()
    seen: list[tuple[int, float]] = []
    finding = lr_range_test((model, lenet.to_dict()), TrainingConfig(), train_batches, STEPS, steps=30,
                            start=1e-5, end=1.0, on_step=lambda step, lr, loss: seen.append((step, lr)))
    assert all(torch.equal(before[name], tensor) for name, tensor in model.state_dict().items())
    assert torch.equal(torch.get_rng_state(), rng)
    assert list(tmp_path.iterdir()) == []  # no runs/ folder, no checkpoint
    assert len(finding.lrs) == len(seen) and seen[0] == (1, 1e-5)
    ratios = [b / a for a, b in zip(finding.lrs, finding.lrs[1:])]
    assert ratios == pytest.approx([10 ** (5 / 29)] * len(ratios))
    assert finding.suggestion is not None and 1e-5 <= finding.suggestion <= 1.0


def test_the_suggestions_read_the_smoothed_curve():
    lrs = tuple(10 ** (-6 + i / 4) for i in range(25))  # 1e-6 to 1
    smoothed = tuple([2.3] * 8 + [2.2, 2.0, 1.5, 0.8, 0.5, 0.4, 0.35, 0.3, 0.32, 0.5, 1.0, 3.0] + [9.0] * 5)
    assert minimum_lr(lrs, smoothed) == pytest.approx(lrs[15] / 10)  # the minimum, 0.3, ÷ 10
    assert steepest_lr(lrs, smoothed) == lrs[11]  # 1.5 → 0.8, the biggest fall
    assert steepest_lr(lrs[:5], smoothed[:5]) is None  # too short to tell


def test_designer_lr_find_prints_the_curve_and_a_suggestion_and_writes_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["lr-find", "lenet5", "--steps", "20", "--start", "1e-4", "--end", "1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("20 steps in ") and "suggested learning rate: " in out
    assert "train with it: designer train lenet5 --lr " in out
    assert list(tmp_path.iterdir()) == []
    assert main(["lr-find", "lenet5", "--steps", "20", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found["steps"] == len(found["lrs"]) == len(found["smoothed"]) <= 20
    assert found["suggestion"] is None or math.isfinite(found["suggestion"])


@pytest.mark.parametrize(("argv", "fragment"), [
    (["--start", "1", "--end", "0.1"], "--start (1) must be below --end (0.1)"),
    (["--steps", "3"], "argument --steps: must be a whole number from 10 to 100,000, got 3"),
    (["--end", "nan"], "argument --end: must be a number above 0, got nan"),
])
def test_bad_options_are_one_line_and_exit_2(capsys, argv, fragment):
    assert main(["lr-find", "lenet5", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("designer: error: ") and fragment in err


@pytest.mark.slow
def test_the_suggestion_trains_lenet5_on_digits_to_97_percent(tmp_path):
    graph, digits, config = designer.load("lenet5"), DatasetConfig(), TrainingConfig()
    finding = find_lr(graph, digits, config)
    assert finding.suggestion is not None
    job = start_job(graph, digits, config.replace(lr=finding.suggestion, epochs=8), root=tmp_path,
                    tensorboard=False)
    result = job.run()
    assert result.best_score is not None and result.best_score >= 0.97


def test_the_command_line_knows_the_finders_defaults_without_importing_torch():
    from designer import cli_lr_find
    from designer.training import lr_find

    assert (cli_lr_find.DEFAULT_STEPS, cli_lr_find.MIN_STEPS, cli_lr_find.START_LR, cli_lr_find.END_LR) == (
        lr_find.DEFAULT_STEPS, lr_find.MIN_STEPS, lr_find.START_LR, lr_find.END_LR)
    code = "import sys; from designer.cli import build_parser; build_parser(); print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
