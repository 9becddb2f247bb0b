"""A diverging run stops with one line saying what happened and what to try; a normal run never does."""

from __future__ import annotations

import json
import math
import re

import pytest

import designer
from designer.cli import main
from designer.data import DatasetConfig
from designer.graph.graph import Graph
from designer.training import TrainingConfig
from designer.training.checkpoints import load_checkpoint
from designer.training.divergence import DivergedError, DivergenceWatcher, diverged_message, number_text
from designer.training.jobs import start_job
from designer.training.records import EpochRecord, RunEnded
from designer.training.runs import RunFolder, list_runs
from designer.training.trainer import Trainer

from .conftest import STEPS, train_batches, val_batches


def _watch(losses: list[float], every: int = 10) -> list[int]:
    """The steps at which the watcher, fed ``losses`` one reading every ``every`` steps, says "diverged"."""
    watcher = DivergenceWatcher()
    return [i * every for i, loss in enumerate(losses, 1) if watcher.observe(i * every, loss) is not None]


def test_a_noisy_falling_loss_never_counts_as_divergence():
    noisy = [2.3 * math.exp(-i / 20) * (1.6 if i % 3 == 0 else 0.7) + 0.01 for i in range(300)]
    assert _watch(noisy) == []


def test_a_late_spike_on_a_tiny_loss_is_noise_not_divergence():
    # from 2.3 down to 0.01, then ten readings at 0.5 (50× the best, but below where the run began)
    assert _watch([2.3, 1.0, 0.3, *[0.01] * 30, *[0.5] * 10, *[0.01] * 10]) == []


def test_a_loss_rising_far_above_its_best_and_its_start_is_divergence():
    steps = _watch([2.3, 2.2, 2.1, 5.0, 50.0, 463_034.0, 1e9])
    # one reading of 50 smoothed over ~50 steps stays under 10 × its best; the next one passes it
    assert steps == [60, 70]


def test_a_nan_or_infinite_loss_is_divergence_at_the_step_the_meter_names():
    watcher = DivergenceWatcher()
    assert watcher.observe(10, 2.3) is None
    found = watcher.observe(20, 2.2, bad_step=13)
    assert found is not None and found.nonfinite and found.step == 13
    assert DivergenceWatcher().observe(5, math.inf) is not None


def test_the_message_says_what_rose_how_fast_and_what_to_try():
    watcher = DivergenceWatcher()
    watcher.observe(1, 2.3)
    found = watcher.observe(41, 463_034.0)
    assert found is not None
    assert diverged_message(found, 1e9) == (
        f"loss diverged: rose from 2.30 to {found.now:,.0f} in 40 steps; the learning rate 1e9 (training.lr) "
        f"is probably too high: try 1e8, 10× lower, or run `designer lr-find` for a suggestion")
    assert [number_text(x) for x in (0.01, 3e-4, 1e-5, 1e9)] == ["0.01", "0.0003", "1e-5", "1e9"]


def test_designer_train_with_a_huge_learning_rate_stops_with_one_line_and_exit_2(tmp_path, capsys):
    code = main(["train", "lenet5", "--lr", "1e9", "--epochs", "1", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2
    errors = [line for line in err.splitlines() if line.startswith("designer:")]
    assert len(errors) == 1 and "Traceback" not in err
    assert re.fullmatch(r"designer: error: loss diverged: rose from 2\.\d\d to [\d,.e+]+ in \d+ steps?; the "
                        r"learning rate 1e9 \(training\.lr\) is probably too high: try 1e8, 10× lower, or run "
                        r"`designer lr-find` for a suggestion", errors[0])
    [run] = list_runs(tmp_path)
    assert run.status == "diverged" and run.message == errors[0].removeprefix("designer: error: ")
    end = json.loads((run.path / "metrics.jsonl").read_text().splitlines()[-1])
    assert end["kind"] == "end" and end["status"] == "diverged" and end["message"] == run.message


def _linear_net() -> Graph:
    """No saturating layer: inputs 10⁴ times larger make logits 10⁴ times larger."""
    graph = Graph()
    graph.add_node("Input", "input", {"shape": [1, 32, 32]})
    graph.add_node("Flatten", "flat", {})
    graph.add_node("Linear", "fc", {"out_features": 10})
    graph.connect("input", "flat")
    graph.connect("flat", "fc")
    return graph


def test_a_run_that_diverges_keeps_the_checkpoints_from_before(tmp_path):
    def batches(epoch):  # in the second epoch, confidently wrong by a factor of 10⁴: the loss blows up
        for x, y in train_batches(epoch):
            yield (x, y) if epoch == 1 else (x * 1e4, (y + 1) % 10)

    records: list = []
    trainer = Trainer(_linear_net(), TrainingConfig(epochs=3, log_every=2), batches, STEPS, val_batches,
                      root=tmp_path, on_record=records.append, tensorboard=False)
    with pytest.raises(DivergedError, match=r"^(loss diverged|the loss became NaN)"):
        trainer.run()
    folder = RunFolder.open(trainer._folder.path)
    assert folder.info()["status"] == "diverged"
    assert [r.epoch for r in records if isinstance(r, EpochRecord)] == [1]
    assert isinstance(records[-1], RunEnded) and records[-1].status == "diverged"
    assert records[-1].checkpoint == str(folder.last_checkpoint)
    # last.pt (what resume goes on from) and best.pt hold epoch 1, not the diverged weights
    for path in (folder.last_checkpoint, folder.best_checkpoint):
        checkpoint = load_checkpoint(path)
        assert (checkpoint["epoch"], checkpoint["step"]) == (1, STEPS)


@pytest.mark.slow
@pytest.mark.parametrize("changes", [{"optimizer": "adam", "lr": 1e-3, "epochs": 3},
                                     {"optimizer": "sgd", "lr": 0.1, "momentum": 0.9, "epochs": 3}])
def test_runs_that_train_normally_are_never_stopped(tmp_path, changes):
    job = start_job(designer.load("lenet5"), DatasetConfig(), TrainingConfig(**changes), root=tmp_path,
                    tensorboard=False)
    assert job.run().status == "finished"


@pytest.mark.slow
def test_lenet5_with_its_defaults_on_digits_is_never_stopped(tmp_path):
    job = start_job(designer.load("lenet5"), DatasetConfig(), TrainingConfig(), root=tmp_path,
                    tensorboard=False)
    assert job.config.epochs == 10 and job.config.lr == 0.01
    assert job.run().status == "finished"
