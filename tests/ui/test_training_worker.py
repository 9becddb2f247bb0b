"""The training worker: LeNet-5 on the built-in digits on a QThread, records delivered in throttled batches.

Runs are tiny (batches of 16, one record per step, one or two epochs), so that
records come far faster than the 10 deliveries a second the worker allows.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QThread
from PySide6.QtWidgets import QApplication

import designer
from designer.data import DatasetConfig
from designer.training import (
    BatchRecord,
    EpochRecord,
    Note,
    Paused,
    Resumed,
    RunEnded,
    TrainingConfig,
    load_checkpoint,
)
from designer.ui import training_worker
from designer.ui.training_worker import TrainingWorker

FAST = TrainingConfig(batch_size=16, epochs=1, log_every=1, lr=0.05)
TIMEOUT = 60_000


class Watcher:
    """Everything a worker emits, with the time and thread of each delivery."""

    def __init__(self, worker: TrainingWorker) -> None:
        self.deliveries: list[tuple[float, list]] = []
        self.on_gui_thread: list[bool] = []
        self.started: list[bool] = []
        self.finished: list = []
        self.failed: list[str] = []
        worker.records.connect(self._on_records)
        worker.started.connect(lambda: self.started.append(True))
        worker.finished.connect(self.finished.append)
        worker.failed.connect(self.failed.append)

    def _on_records(self, items: list) -> None:
        self.deliveries.append((time.monotonic(), items))
        self.on_gui_thread.append(QThread.currentThread() is QApplication.instance().thread())

    @property
    def records(self) -> list:
        return [record for _, items in self.deliveries for record in items]

    def batches(self) -> list[BatchRecord]:
        return [r for r in self.records if isinstance(r, BatchRecord)]


@pytest.fixture
def workers(qtbot, tmp_path):
    """Make workers; shut down whatever still runs when the test ends."""
    made: list[TrainingWorker] = []

    def make(config: TrainingConfig = FAST, source: str = "lenet5") -> tuple[TrainingWorker, Watcher]:
        worker = TrainingWorker.for_graph(designer.load(source), DatasetConfig(), config, root=tmp_path)
        made.append(worker)
        return worker, Watcher(worker)

    yield make
    for worker in made:
        worker.shutdown()


def test_a_run_delivers_every_record_in_order_on_the_gui_thread(qtbot, workers):
    worker, watcher = workers(FAST.replace(batch_size=32))
    with qtbot.waitSignal(worker.finished, timeout=TIMEOUT) as finished:
        worker.start()
    result = finished.args[0]
    assert result.status == "finished" and watcher.started == [True] and watcher.failed == []
    assert worker.thread_finished() and not worker.running
    lines = [json.loads(line) for line in (result.run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r.to_json() for r in watcher.records] == lines  # every record, in order, nothing more
    assert isinstance(watcher.records[-1], RunEnded) and len(watcher.batches()) == result.step
    assert_throttled(watcher)
    assert all(watcher.on_gui_thread)
    assert (result.run_dir / "data.json").is_file()


def assert_throttled(watcher: Watcher) -> None:
    times = [t for t, _ in watcher.deliveries]
    span = times[-1] - times[0]
    assert len(times) - 1 <= 10 * span + 2, (len(times), span)  # ≤ ~10 a second, + the final flush


class FloodJob:
    """A stand-in job that makes records as fast as Python can: far more than 10 a second."""

    def __init__(self, count: int) -> None:
        self.count = count

    def records(self):
        for i in range(self.count):
            yield Note(str(i))
            if i % 500 == 0:
                time.sleep(0.01)  # spread the flood over several deliveries

    def result(self) -> str:
        return "done"


def test_a_flood_of_records_comes_in_a_few_batches_with_none_lost(qtbot):
    worker = TrainingWorker(lambda control: FloodJob(20_000))
    watcher = Watcher(worker)
    with qtbot.waitSignal(worker.finished, timeout=TIMEOUT) as finished:
        worker.start()
    assert finished.args[0] == "done"
    assert [r.message for r in watcher.records] == [str(i) for i in range(20_000)]
    assert len(watcher.deliveries) < 200 and max(len(items) for _, items in watcher.deliveries) > 100
    assert_throttled(watcher)


def nice_values() -> dict[int, int]:
    """Each thread of this process, by its native id, with its nice value (field 19 of its stat)."""
    values = {}
    for task in Path("/proc/self/task").iterdir():
        try:
            stat = (task / "stat").read_text()
        except OSError:  # the thread ended meanwhile
            continue
        values[int(task.name)] = int(stat.rsplit(")", 1)[1].split()[16])
    return values


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice values are Linux's")
def test_training_threads_run_below_the_gui_threads_priority(qtbot, workers):
    import torch

    gui = threading.get_native_id()
    before = nice_values()
    worker, _ = workers(FAST.replace(epochs=2))
    seen: list[dict[int, int]] = []
    # Looked at once an epoch has trained, while the run still goes: torch's threads exist then.
    worker.records.connect(lambda items: seen.append(nice_values()) if any(
        isinstance(r, EpochRecord) for r in items) and not seen else None)
    with qtbot.waitSignal(worker.finished, timeout=TIMEOUT):
        worker.start()
    during = seen[0]
    assert during[gui] == before[gui]  # the window keeps its priority
    lowered = [tid for tid, nice in during.items() if tid not in before and nice > before[gui]]
    # the worker thread and, when torch trains on several threads, the pool it started from there
    assert len(lowered) >= torch.get_num_threads(), (before, during)
    assert all(during[tid] == min(19, before[gui] + 10) for tid in lowered)


def test_pause_holds_the_run_and_resume_goes_on(qtbot, workers):
    worker, watcher = workers(FAST)
    worker.start()
    qtbot.waitUntil(lambda: len(watcher.batches()) >= 3, timeout=TIMEOUT)
    worker.pause()
    qtbot.waitUntil(lambda: any(isinstance(r, Paused) for r in watcher.records), timeout=TIMEOUT)
    held = len(watcher.records)
    qtbot.wait(300)
    assert len(watcher.records) == held and worker.running  # nothing trains while paused
    with qtbot.waitSignal(worker.finished, timeout=TIMEOUT) as finished:
        worker.resume()
    kinds = [r.kind for r in watcher.records]
    assert kinds.index("paused") + 1 == kinds.index("resumed")
    assert isinstance(watcher.records[kinds.index("resumed")], Resumed)
    assert finished.args[0].status == "finished" and finished.args[0].epochs_done == 1


def test_stop_mid_epoch_saves_a_checkpoint_to_resume_from(qtbot, workers):
    worker, watcher = workers(FAST.replace(epochs=2))
    worker.start()
    qtbot.waitUntil(lambda: len(watcher.batches()) >= 2, timeout=TIMEOUT)
    with qtbot.waitSignal(worker.finished, timeout=TIMEOUT) as finished:
        worker.stop()
    result = finished.args[0]
    assert result.status == "stopped" and worker.thread_finished()
    checkpoint = load_checkpoint(result.checkpoint)
    assert checkpoint["epoch"] == 0 and 0 < checkpoint["batch"] < 102  # in the middle of epoch 1
    end = watcher.records[-1]
    assert isinstance(end, RunEnded) and end.status == "stopped" and end.step == checkpoint["step"]


def test_a_resumed_worker_goes_on_from_the_stop(qtbot, workers):
    worker, watcher = workers(FAST.replace(batch_size=64, epochs=2))
    worker.start()
    qtbot.waitUntil(lambda: len(watcher.batches()) >= 2, timeout=TIMEOUT)
    with qtbot.waitSignal(worker.finished, timeout=TIMEOUT) as stopped:
        worker.stop()
    run_dir = stopped.args[0].run_dir
    again = TrainingWorker.resuming(run_dir)
    more = Watcher(again)
    with qtbot.waitSignal(again.finished, timeout=TIMEOUT) as finished:
        again.start()
    again.shutdown()
    assert finished.args[0].status == "finished" and finished.args[0].epochs_done == 2
    assert more.records[0].step == stopped.args[0].step


def test_a_diverging_loss_arrives_as_failed_and_the_thread_ends(qtbot, workers):
    worker, watcher = workers(FAST.replace(loss="mse", lr=1e12))
    with qtbot.waitSignal(worker.failed, timeout=TIMEOUT) as failed:
        worker.start()
    assert failed.args[0].startswith("loss diverged: rose from") and "training.lr" in failed.args[0]
    assert worker.thread_finished() and watcher.finished == []
    assert watcher.records[0].kind == "start"  # what came before the fault was delivered first


def test_data_that_does_not_fit_arrives_as_failed_before_any_run_folder(qtbot, tmp_path, workers):
    worker, watcher = workers(FAST, source="alexnet")
    with qtbot.waitSignal(worker.failed, timeout=TIMEOUT) as failed:
        worker.start()
    assert "Input expects 3" in failed.args[0]
    assert watcher.records == [] and not (tmp_path / "runs").exists() and worker.thread_finished()


def test_shutdown_stops_a_paused_run_and_delivers_the_end(qtbot, workers):
    worker, watcher = workers(FAST.replace(epochs=50))
    worker.start()
    qtbot.waitUntil(lambda: len(watcher.batches()) >= 1, timeout=TIMEOUT)
    worker.pause()
    worker.shutdown()
    assert worker.thread_finished() and not worker.running
    assert len(watcher.finished) == 1 and watcher.finished[0].status == "stopped"
    assert watcher.records[-1].kind == "end"
    worker.shutdown()  # twice is harmless
    qtbot.wait(50)  # the queued end of the loop arrives now and must do nothing more
    assert len(watcher.finished) == 1


def test_stopped_before_it_began_makes_no_run(qtbot, tmp_path, workers):
    worker, _watcher = workers(FAST)
    worker.stop()
    with qtbot.waitSignal(worker.finished, timeout=TIMEOUT) as finished:
        worker.start()
    assert finished.args[0] is None and not (tmp_path / "runs").exists()
    with pytest.raises(RuntimeError):
        worker.start()


def test_the_first_batch_arrives_at_once_not_at_the_next_delivery(qtbot, workers, monkeypatch):
    """The live plot's first point waits for no timer (issue 13, C15): here the timer would take an hour."""
    monkeypatch.setattr(training_worker, "DELIVERY_MS", 3_600_000)
    worker, watcher = workers(FAST.replace(epochs=2))
    worker.start()
    qtbot.waitUntil(lambda: bool(watcher.batches()), timeout=TIMEOUT)
    assert watcher.finished == [] and worker.running
    assert watcher.batches()[0].step == 1
