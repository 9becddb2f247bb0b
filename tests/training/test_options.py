"""Training settings that change how a step runs: precision, memory format, clipping, compile, schedules."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest
import torch

from designer.training import EpochRecord, TrainingConfig, list_runs, train

from .conftest import STEPS, train_batches, val_batches

FAST = TrainingConfig(optimizer="adam", lr=0.002, batch_size=32, epochs=1, log_every=2)


def _epochs(records) -> list[EpochRecord]:
    return [r for r in records if isinstance(r, EpochRecord)]


@pytest.mark.parametrize("changes", [
    {"precision": "bf16", "device": "cpu"},
    {"channels_last": True},
    {"optimizer": "sgd", "nesterov": True, "lr": 0.05, "clip_grad_norm": 0.5},
    {"optimizer": "rmsprop", "lr": 0.001, "momentum": 0.0, "loss": "hinge"},
    {"schedule": "plateau", "epochs": 2},
    {"loss": "mse", "schedule": "exponential", "warmup_steps": 2},
], ids=["bf16", "channels_last", "nesterov-clip", "rmsprop-hinge", "plateau-no-val", "mse-exp"])
def test_settings_train_to_finite_losses(lenet, tmp_path, changes):
    records: list = []
    val = None if changes.get("schedule") == "plateau" else val_batches
    result = train(lenet, FAST.replace(**changes), train_batches, STEPS, val, root=tmp_path,
                   on_record=records.append)
    assert result.status == "finished"
    for epoch in _epochs(records):
        assert math.isfinite(epoch.train_loss)
        assert (epoch.val_loss is None) == (val is None)
    assert all(p.isfinite().all() for p in result.model.parameters())
    if changes.get("channels_last"):
        assert result.model.c1.weight.is_contiguous(memory_format=torch.channels_last)


def test_compile_wraps_the_model_and_saves_its_plain_weights(lenet, tmp_path, monkeypatch):
    compiled = []
    real_compile = torch.compile

    def quick_compile(model):  # the eager backend traces like inductor but generates no code: fast
        compiled.append(model)
        return real_compile(model, backend="eager")

    monkeypatch.setattr(torch, "compile", quick_compile)
    result = train(lenet, FAST.replace(compile=True), train_batches, STEPS, val_batches, root=tmp_path)
    assert compiled == [result.model]
    keys = torch.load(result.checkpoint, weights_only=True)["model"].keys()
    assert not any(key.startswith("_orig_mod") for key in keys)


def test_records_are_plain_json(lenet, tmp_path):
    records: list = []
    train(lenet, FAST, train_batches, STEPS, val_batches, root=tmp_path, on_record=records.append)
    for record in records:
        assert json.loads(json.dumps(record.to_json(), allow_nan=False))["kind"] == record.kind


def test_runs_are_listed_newest_first_and_by_project(lenet, tmp_path):
    first = train(lenet, FAST, train_batches, STEPS, root=tmp_path, name="a")
    lenet.name = "other"
    second = train(lenet, FAST, train_batches, STEPS, root=tmp_path, name="a")
    assert first.run_dir != second.run_dir  # same second, same name: a suffix keeps them apart
    assert [r.path for r in list_runs(tmp_path)] == [second.run_dir, first.run_dir]
    (only,) = list_runs(tmp_path, project="lenet5")
    assert (only.path, only.status, only.epochs_done, only.epochs) == (first.run_dir, "finished", 1, 1)
    (tmp_path / "runs" / "junk").mkdir()
    (tmp_path / "runs" / "broken").mkdir()
    (tmp_path / "runs" / "broken" / "run.json").write_text("{not json")
    assert len(list_runs(tmp_path)) == 2
    assert list_runs(tmp_path / "nowhere") == []


BLOCK_QT = """
import sys
class BlockQt:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("PySide6", "shiboken6", "PyQt5", "PyQt6", "pyqtgraph"):
            raise ImportError(f"Qt is blocked in this test: {name}")
sys.meta_path.insert(0, BlockQt())
import designer.training
assert not [m for m in sys.modules if m.startswith(("PySide6", "shiboken6", "pyqtgraph", "designer.data"))]
print("ok")
"""


def test_the_training_package_imports_without_qt_or_the_data_layer():
    done = subprocess.run([sys.executable, "-c", BLOCK_QT], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_tensorboard_gets_the_scalars_when_it_is_there(lenet, tmp_path, monkeypatch):
    from designer.training import runlog

    class Board:
        def __init__(self) -> None:
            self.scalars: list[tuple[str, float, int]] = []
            self.closed = False

        def add_scalar(self, tag: str, value: float, step: int) -> None:
            self.scalars.append((tag, value, step))

        def flush(self) -> None:
            pass

        def close(self) -> None:
            self.closed = True

    board = Board()
    monkeypatch.setattr(runlog, "_open_tensorboard", lambda folder: (board, ""))
    train(lenet, FAST, train_batches, STEPS, val_batches, root=tmp_path)
    tags = {tag for tag, _, _ in board.scalars}
    assert {"train/loss", "train/lr", "train/accuracy", "epoch/train_loss", "epoch/val_top5"} <= tags
    assert ("train/lr", 0.002, 2) in board.scalars and board.closed
    (run,) = list_runs(tmp_path)
    assert "TensorBoard" not in (run.path / "log.txt").read_text()
