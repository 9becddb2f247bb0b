"""Runs whose process is gone: a trainer killed outright leaves run.json saying "running" for ever.

The trainer holds a lock on its run folder while it trains; the kernel drops it
when the process dies, kill -9 included. The runs list shows such a run as
interrupted, and ``--resume`` refuses one still training elsewhere, or one that
died before its first checkpoint, in words.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from designer.cli import main
from designer.training import BatchRecord, CheckpointError, RunStarted, TrainingConfig, list_runs, train
from designer.training.jobs import resume_job
from designer.training.runs import RunFolder
from designer.training.trainer import Trainer
from tests.test_cli import assert_one_line_error, run

from .conftest import STEPS, train_batches, val_batches

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="a live run is told by its flock lock (POSIX)")
QUICK = TrainingConfig(batch_size=32, epochs=2, log_every=1)


def _only_run(root: Path):
    (entry,) = list_runs(root)
    return entry


def test_a_run_training_in_this_process_is_listed_as_running(lenet, tmp_path):
    trainer = Trainer(lenet, QUICK, train_batches, STEPS, val_batches, root=tmp_path)
    records = trainer.records()
    for record in records:
        if isinstance(record, BatchRecord):
            break
    assert _only_run(tmp_path).status == "running"
    with pytest.raises(CheckpointError, match="the run is still training"):
        resume_job(trainer.folder.path)
    records.close()  # the caller stops reading: the trainer says so in run.json
    entry = _only_run(tmp_path)
    assert (entry.status, entry.message) == ("interrupted", "the caller stopped reading the records")


def test_a_run_whose_process_died_after_a_checkpoint_is_interrupted_and_resumable(lenet, tmp_path):
    result = train(lenet, QUICK.replace(epochs=1), train_batches, STEPS, val_batches, root=tmp_path)
    folder = RunFolder(result.run_dir)
    folder.update_info(status="running")  # what kill -9 during the second epoch leaves
    entry = _only_run(tmp_path)
    assert entry.status == "interrupted" and "its process ended without saying how" in entry.message
    assert "before its first checkpoint" not in entry.message
    ended = Trainer.resuming(folder.path, train_batches, STEPS, val_batches, epochs=2).run()
    assert ended.status == "finished" and ended.epochs_done == 2
    assert _only_run(tmp_path).status == "finished"


def test_a_run_killed_before_its_first_checkpoint_is_interrupted_and_not_resumed(capsys, tmp_path):
    command = [sys.executable, "-m", "designer", "train", "lenet5", "--epochs", "50", "--batch-size", "1",
               "--out", str(tmp_path)]
    with subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                          env={**os.environ, "PYTHONUTF8": "1"}) as child:
        try:
            run_dir = _wait_for_running_run(tmp_path, child)
            assert _only_run(tmp_path).status == "running"  # training in another process
            assert_one_line_error(*run(capsys, "train", "--resume", str(run_dir)), "the run is still training")
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=60)
    assert not (run_dir / "checkpoints" / "last.pt").exists(), "the child saved a checkpoint before the kill"
    assert json.loads((run_dir / "run.json").read_text())["status"] == "running"  # nobody wrote its end
    entry = _only_run(tmp_path)
    assert entry.status == "interrupted" and entry.message.endswith("before its first checkpoint")
    code, out, err = run(capsys, "train", "--resume", str(run_dir))
    assert_one_line_error(code, out, err, f"{run_dir}: the run was interrupted before its first checkpoint "
                                          "(checkpoints/last.pt), so there is nothing to resume")
    assert err.rstrip().endswith("; start a new run")
    assert main(["eval", str(run_dir)]) == 2
    assert "the run has no checkpoint yet" in capsys.readouterr().err


def _wait_for_running_run(root: Path, child: subprocess.Popen) -> Path:
    """The child's run folder, once its run.json says it trains."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if child.poll() is not None:
            pytest.fail(f"designer train ended early: {child.stderr.read() if child.stderr else ''}")
        for info in (root / "runs").glob("*/run.json"):
            if json.loads(info.read_text() or "{}").get("status") == "running":
                return info.parent
        time.sleep(0.02)
    pytest.fail("designer train made no run folder in 120 s")


def test_the_run_started_record_comes_with_the_lock_taken(lenet, tmp_path):
    """A lister never sees a run that says "running" without the lock that shows it alive."""
    trainer = Trainer(lenet, QUICK, train_batches, STEPS, val_batches, root=tmp_path)
    records = trainer.records()
    first = next(records)
    assert isinstance(first, RunStarted) and RunFolder(Path(first.run_dir)).is_training()
    records.close()
    assert not RunFolder(Path(first.run_dir)).is_training()
