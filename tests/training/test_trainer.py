"""The training loop on LeNet-5 with synthetic data: learning, records, run folders, checkpoints, resume."""

from __future__ import annotations

import json

import pytest
import torch

from designer.export import load_weights
from designer.training import (
    BatchRecord,
    Control,
    EpochRecord,
    RunEnded,
    RunStarted,
    TrainingConfig,
    list_runs,
    load_checkpoint,
    resume,
    train,
)
from designer.training.runs import RunFolder

from .conftest import STEPS, train_batches, val_batches

FAST = TrainingConfig(optimizer="adam", lr=0.002, batch_size=32, epochs=3, log_every=4)


def test_the_loss_falls_and_the_records_say_so(lenet, tmp_path, collect):
    records, on_record = collect
    result = train(lenet, FAST, train_batches, STEPS, val_batches, root=tmp_path, on_record=on_record)
    kinds = [r.kind for r in records]
    assert kinds[0] == "start" and kinds[-1] == "end" and kinds.count("epoch") == 3
    assert kinds.count("batch") == 3 * STEPS // 4 + 1  # every 4th step, and the first at once
    epochs = [r for r in records if isinstance(r, EpochRecord)]
    assert epochs[-1].train_loss < 0.5 * epochs[0].train_loss
    assert epochs[-1].val_loss < epochs[0].val_loss and epochs[-1].val_top1 > 0.8
    assert 0 <= epochs[-1].val_top1 <= epochs[-1].val_top5 <= 1
    assert [e.epoch for e in epochs] == [1, 2, 3] and epochs[-1].step == 3 * STEPS
    assert epochs[-1].eta_s == 0 and epochs[0].eta_s > 0
    first, batch = [r for r in records if isinstance(r, BatchRecord)][:2]
    assert (first.epoch, first.step, first.batch) == (1, 1, 1)
    assert (batch.epoch, batch.step, batch.batch, batch.lr) == (1, 4, 4, 0.002)
    assert batch.samples_per_s > 0 and 0 <= batch.accuracy <= 1
    assert result.status == "finished" and result.epochs_done == 3 and result.step == 3 * STEPS
    assert result.best_score == max(e.val_top1 for e in epochs)


def test_the_run_folder_holds_everything_and_the_project_is_untouched(lenet, tmp_path):
    before = json.dumps(lenet.to_dict())
    config = FAST.replace(epochs=1)
    result = train(lenet, config, train_batches, STEPS, val_batches, root=tmp_path, name="my run/1")
    assert json.dumps(lenet.to_dict()) == before
    folder = result.run_dir
    assert folder.parent == tmp_path / "runs" and folder.name.endswith("-my-run-1")
    names = {p.relative_to(folder).as_posix() for p in folder.rglob("*")}
    assert {"run.json", "config.json", "graph.json", "metrics.jsonl", "log.txt", "checkpoints/last.pt",
            "checkpoints/best.pt"} <= names
    assert TrainingConfig.from_json(json.loads((folder / "config.json").read_text())) == config
    assert json.loads((folder / "graph.json").read_text())["nodes"] == lenet.to_dict()["nodes"]
    lines = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    assert lines[0]["kind"] == "start" and lines[-1]["kind"] == "end" and lines[-1]["status"] == "finished"
    info = json.loads((folder / "run.json").read_text())
    assert (info["status"], info["epochs_done"], info["project"]) == ("finished", 1, "lenet5")
    assert "TensorBoard" in (folder / "log.txt").read_text() or (folder / "tensorboard").is_dir()
    weights = load_weights(folder / "checkpoints" / "last.pt")  # the export path reads checkpoints
    assert torch.equal(weights["c1.weight"], result.model.state_dict()["c1.weight"])


def test_the_first_step_of_a_session_is_reported_at_once_whatever_log_every_says(lenet, tmp_path):
    """A live plot gets its first point after one batch, not after log_every of them (issue 13, C15)."""
    config = FAST.replace(epochs=1, log_every=1000)
    control, records = Control(), []
    stopped = train(lenet, config, train_batches, STEPS, val_batches, root=tmp_path, control=control,
                    on_record=lambda r: (records.append(r), _stop_after(control, "batch", 1)(r)))
    first = next(r for r in records if isinstance(r, BatchRecord))
    assert (first.step, first.batch) == (1, 1) and first.loss > 0 and first.samples_per_s > 0
    resumed: list = []
    resume(stopped.run_dir, train_batches, STEPS, val_batches, on_record=resumed.append)
    steps = [r.step for r in resumed if isinstance(r, BatchRecord)]
    assert steps[0] == stopped.step + 1  # a resumed session's first step too


def test_checkpoints_load_with_weights_only(lenet, tmp_path):
    result = train(lenet, FAST.replace(epochs=1), train_batches, STEPS, val_batches, root=tmp_path)
    raw = torch.load(result.checkpoint, weights_only=True)
    assert raw["format"] == "designer-checkpoint" and raw["epoch"] == 1 and raw["step"] == STEPS
    assert raw["batch"] == 0 and raw["epoch_sums"] is None
    assert set(raw) >= {"model", "optimizer", "schedule", "scaler", "rng", "best", "config", "graph"}
    assert isinstance(raw["rng"]["torch"], torch.Tensor)
    assert load_checkpoint(result.checkpoint)["best"]["epoch"] == 1


def _stop_after(control: Control, kind: str, step: int):
    def on_record(record):
        if record.kind == kind and record.step >= step:
            control.request_stop()
    return on_record


def test_stop_mid_epoch_finishes_the_batch_and_saves_a_checkpoint(lenet, tmp_path, collect):
    records, keep = collect
    control = Control()
    stop = _stop_after(control, "batch", 4)
    result = train(lenet, FAST, train_batches, STEPS, val_batches, root=tmp_path, control=control,
                   on_record=lambda r: (keep(r), stop(r)))
    assert result.status == "stopped" and result.step == 4 and result.epochs_done == 0
    end = records[-1]
    assert isinstance(end, RunEnded) and end.status == "stopped" and end.checkpoint.endswith("last.pt")
    checkpoint = load_checkpoint(result.checkpoint)
    assert (checkpoint["epoch"], checkpoint["batch"], checkpoint["step"]) == (0, 4, 4)
    assert checkpoint["epoch_sums"]["count"] == 4 * 32
    assert json.loads((result.run_dir / "run.json").read_text())["status"] == "stopped"
    names = {p.name for p in result.run_dir.rglob("*")}
    assert {"run.json", "config.json", "graph.json", "metrics.jsonl", "log.txt", "last.pt"} <= names
    assert "best.pt" not in names  # no epoch was validated yet
    assert [r.run_id for r in list_runs(tmp_path)] == [result.run_dir.name]


def _final_weights(run_dir) -> dict[str, torch.Tensor]:
    return load_checkpoint(RunFolder(run_dir).last_checkpoint)["model"]


@pytest.mark.parametrize(("kind", "step"), [("epoch", STEPS), ("batch", STEPS + 4)],
                         ids=["at-epoch-end", "mid-epoch"])
def test_a_resumed_run_matches_an_uninterrupted_one_exactly(lenet, tmp_path, kind, step):
    config = FAST.replace(epochs=2, schedule="cosine", warmup_steps=3, clip_grad_norm=1.0)
    straight = train(lenet, config, train_batches, STEPS, val_batches, root=tmp_path / "a")
    control = Control()
    stopped = train(lenet, config, train_batches, STEPS, val_batches, root=tmp_path / "b", control=control,
                    on_record=_stop_after(control, kind, step))
    assert stopped.status == "stopped" and stopped.step == step
    records = []
    resumed = resume(stopped.run_dir, train_batches, STEPS, val_batches, on_record=records.append)
    assert resumed.status == "finished" and resumed.step == 2 * STEPS
    assert isinstance(records[0], RunStarted) and records[0].step == step
    a, b = _final_weights(straight.run_dir), _final_weights(resumed.run_dir)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    last_a = [json.loads(x) for x in (straight.run_dir / "metrics.jsonl").read_text().splitlines()][-2]
    last_b = [json.loads(x) for x in (resumed.run_dir / "metrics.jsonl").read_text().splitlines()][-2]
    assert last_a["kind"] == last_b["kind"] == "epoch"
    assert last_a["train_loss"] == last_b["train_loss"] and last_a["val_loss"] == last_b["val_loss"]


def test_resume_can_extend_a_finished_run(lenet, tmp_path):
    first = train(lenet, FAST.replace(epochs=1), train_batches, STEPS, root=tmp_path)
    more = resume(first.run_dir, train_batches, STEPS, epochs=2)
    assert more.epochs_done == 2 and more.step == 2 * STEPS and more.run_dir == first.run_dir
    assert TrainingConfig.from_json(json.loads((first.run_dir / "config.json").read_text())).epochs == 2


def test_the_data_generator_state_is_saved_and_restored(lenet, tmp_path):
    """A data layer with its own generator hands it over; a resumed run draws the same batches."""
    generator = torch.Generator().manual_seed(7)
    drawn: list[list[int]] = []

    def batches(epoch):
        order = torch.randperm(256, generator=generator)
        drawn.append(order[:4].tolist())
        return train_batches(epoch)

    control = Control()
    train(lenet, FAST.replace(epochs=3), batches, STEPS, root=tmp_path, control=control, data_state=generator,
          on_record=_stop_after(control, "epoch", STEPS))
    assert len(drawn) == 1
    generator.manual_seed(999)  # the caller's generator moved on; resume must put it back
    resume(next((tmp_path / "runs").iterdir()), batches, STEPS, data_state=generator)
    reference = torch.Generator().manual_seed(7)
    assert drawn == [torch.randperm(256, generator=reference)[:4].tolist() for _ in range(3)]
