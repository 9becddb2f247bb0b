"""A data-parallel job started from the app: two CPU processes seen in the panel as one run.

The device list offers "all N GPUs (data parallel)" only on a machine with
several GPUs (tests/training/test_settings.py); here the same path runs with
two gloo processes on the CPU, started through the training session the Start
button uses, and stopped with the panel's Stop button.
"""

from __future__ import annotations

import json

from designer.data import DatasetConfig
from designer.training.config import TrainingConfig
from designer.training.distributed import Launch
from designer.training.records import EpochRecord, RunStarted
from tests.ui.test_training_panel import TIMEOUT, log, press, trainer, wait_idle

__all__ = ["trainer"]  # the fixture, shared with the panel's own tests


def test_a_job_of_two_processes_trains_as_one_run_and_stops_with_the_button(trainer, qtbot):
    window, panel, seen = trainer()
    config = TrainingConfig(epochs=30, batch_size=64, log_every=1, stats_every=0, device="cpu")
    panel.session.start(window.document, DatasetConfig.from_json({"name": "digits"}), config, launch=Launch(2))
    qtbot.waitUntil(lambda: any(isinstance(r, EpochRecord) for items in seen.records.values() for r in items),
                    timeout=TIMEOUT)
    (run_id,) = seen.records  # one run, whatever the number of processes
    started = next(r for r in seen.records[run_id] if isinstance(r, RunStarted))
    assert started.device_label.startswith("2 processes")
    assert len(seen.batches()) >= 20  # every step of the epoch, from rank 0
    assert "2 processes" in log(panel)
    assert not panel.pause_button.isEnabled() and "cannot pause" in panel.pause_button.toolTip()
    press(panel.stop_button)
    wait_idle(qtbot, panel)
    assert seen.ended[-1][0] == "stopped"
    info = json.loads((panel.session.run_dir / "run.json").read_text())
    assert info["status"] == "stopped" and info["processes"] == 2
    assert (panel.session.run_dir / "checkpoints" / "last.pt").is_file()
    assert window.document.locked_reason is None  # the project can be edited again
