"""Pause, resume and stop from another thread; failures that end a run with a clear message."""

from __future__ import annotations

import json
import queue
import threading
import time

import pytest
import torch
from torch import nn

from designer.training import Control, DeviceError, Trainer, TrainingConfig, TrainingError, list_runs, train

from .conftest import STEPS, train_batches, val_batches

FAST = TrainingConfig(optimizer="adam", lr=0.002, batch_size=32, epochs=2, log_every=1)
TIMEOUT = 20


def _status(tmp_path) -> dict:
    (run,) = list_runs(tmp_path)
    return json.loads((run.path / "run.json").read_text())


def test_control_wait_blocks_until_resumed_or_stopped():
    control = Control()
    assert control.wait_while_paused(timeout=0)  # not paused: returns at once
    control.pause()
    assert control.paused and not control.wait_while_paused(timeout=0.05)
    threading.Timer(0.05, control.resume).start()
    assert control.wait_while_paused(timeout=TIMEOUT)
    control.pause()
    threading.Timer(0.05, control.request_stop).start()
    assert control.wait_while_paused(timeout=TIMEOUT) and control.stop_requested and not control.paused


def _run_in_thread(trainer: Trainer) -> tuple[threading.Thread, queue.Queue, list]:
    """Run the trainer's records on a worker thread; records go to a queue, the outcome to a list."""
    records: queue.Queue = queue.Queue()
    outcome: list = []

    def work():
        try:
            for record in trainer.records():
                records.put(record)
            outcome.append(trainer.result())
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread, records, outcome


def _next_of_kind(records: queue.Queue, kind: str):
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        record = records.get(timeout=TIMEOUT)
        if record.kind == kind:
            return record
    raise AssertionError(f"no {kind} record within {TIMEOUT} s")


def test_pause_blocks_between_batches_and_resume_goes_on(lenet, tmp_path):
    control = Control()
    control.pause()  # paused before it starts: it stops after the first batch
    trainer = Trainer(lenet, FAST, train_batches, STEPS, val_batches, root=tmp_path, control=control)
    thread, records, outcome = _run_in_thread(trainer)
    paused = _next_of_kind(records, "paused")
    assert paused.step == 1
    time.sleep(0.3)
    assert records.empty() and thread.is_alive() and trainer.session.step == 1  # blocked, not training
    control.resume()
    assert _next_of_kind(records, "resumed").step == 1
    thread.join(TIMEOUT)
    assert not thread.is_alive(), "the run did not finish after resume"
    assert outcome[0].status == "finished" and outcome[0].step == 2 * STEPS


def test_stop_wakes_a_paused_run_which_saves_and_returns(lenet, tmp_path):
    control = Control()
    control.pause()
    trainer = Trainer(lenet, FAST, train_batches, STEPS, val_batches, root=tmp_path, control=control)
    thread, records, outcome = _run_in_thread(trainer)
    _next_of_kind(records, "paused")
    control.request_stop()
    end = _next_of_kind(records, "end")
    thread.join(TIMEOUT)
    assert not thread.is_alive()
    assert end.status == "stopped" and end.step == 1 and outcome[0].status == "stopped"
    assert outcome[0].checkpoint.is_file()


def test_a_huge_learning_rate_stops_with_the_step_and_advice(lenet, tmp_path):
    # With cross-entropy, LeNet's saturating tanh layers keep even lr 1e6 finite; an MSE loss's
    # gradient grows with the output, so the weights overflow within a few steps.
    config = FAST.replace(optimizer="sgd", loss="mse", lr=1e6, log_every=100)
    with pytest.raises(TrainingError, match=r"^the loss became NaN or infinite at step \d+, .*lower the "
                                            r"learning rate \(training.lr, 1e\+06"):
        train(lenet, config, train_batches, STEPS, root=tmp_path)
    status = _status(tmp_path)
    assert status["status"] == "diverged" and "NaN" in status["message"]


@pytest.mark.parametrize(("value", "step"), [("nan", 3), ("inf", 4)])
def test_a_bad_input_value_names_the_step_even_between_log_points(lenet, tmp_path, value, step):
    def batches(epoch):
        for i, (x, y) in enumerate(train_batches(epoch)):
            if i == 2:
                x = x.clone()
                x[0, 0, 0, 0] = float(value)
            yield x, y

    # NaN reaches the loss of step 3 itself. tanh(inf) is 1, so the loss of step 3 is finite, but its
    # gradient (inf · 0) is NaN and poisons the weights: the loss of step 4 is the first bad one.
    with pytest.raises(TrainingError, match=f"infinite at step {step},.*check the data for NaN"):
        train(lenet, FAST.replace(log_every=6), batches, STEPS, root=tmp_path)


def test_a_failing_data_callable_is_reported_with_its_cause(lenet, tmp_path):
    def batches(epoch):
        yield from list(train_batches(epoch))[:2]
        raise OSError("image 17 is truncated")

    with pytest.raises(TrainingError, match=r"^data: image 17 is truncated \(OSError\), while reading "
                                            r"batch 3 of epoch 1") as caught:
        train(lenet, FAST, batches, STEPS, root=tmp_path)
    assert isinstance(caught.value.__cause__, OSError)
    assert _status(tmp_path)["status"] == "failed"


def test_failures_opening_the_data_and_in_validation_say_data(lenet, tmp_path):
    def no_data(epoch):
        raise FileNotFoundError("digits.npz")

    with pytest.raises(TrainingError, match=r"^data: digits.npz .*while opening the batches of epoch 1"):
        train(lenet, FAST, no_data, STEPS, root=tmp_path / "a")

    def bad_val():
        raise ValueError("no validation split")

    with pytest.raises(TrainingError, match=r"^data: no validation split .*the validation set"):
        train(lenet, FAST, train_batches, STEPS, bad_val, root=tmp_path / "b")


def test_batches_of_the_wrong_shape_or_labels_are_data_errors(lenet, tmp_path):
    def small(epoch):
        yield torch.zeros(4, 1, 28, 28), torch.zeros(4, dtype=torch.long)

    with pytest.raises(TrainingError, match=r"^data: batch 1 of epoch 1 holds samples of 1×28×28, but the "
                                            r"Input block expects 1×32×32"):
        train(lenet, FAST, small, STEPS, root=tmp_path / "a")

    def labels(epoch):
        yield torch.zeros(4, 1, 32, 32), torch.tensor([0, 1, 10, 2])

    with pytest.raises(TrainingError, match=r"^data: batch 1 of epoch 1 has a target of class 10, but the "
                                            r"network's output has 10 classes"):
        train(lenet, FAST, labels, STEPS, root=tmp_path / "b")

    with pytest.raises(TrainingError, match=r"^data: each batch must be a pair"):
        train(lenet, FAST, lambda epoch: [torch.zeros(4, 1, 32, 32)], STEPS, root=tmp_path / "c")


class Broken(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(1024, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[0] > 0:
            raise RuntimeError("the layer exploded")
        return self.linear(x.flatten(1))


def test_an_exception_in_the_model_says_model_and_the_step(lenet, tmp_path):
    expected = r"^model: the layer exploded \(RuntimeError\), at step 1"
    with pytest.raises(TrainingError, match=expected) as caught:
        train((Broken(), lenet.to_dict()), FAST, train_batches, STEPS, root=tmp_path)
    assert isinstance(caught.value.__cause__, RuntimeError)


def test_a_given_model_is_trained_as_it_is(lenet, tmp_path):
    torch.manual_seed(5)
    model = lenet.to_torch()
    weights = {k: v.clone() for k, v in model.state_dict().items()}
    result = train((model, lenet.to_dict()), FAST.replace(epochs=1), train_batches, STEPS, root=tmp_path)
    assert result.model is model
    assert not torch.equal(model.state_dict()["c1.weight"], weights["c1.weight"])


def test_fp16_on_the_cpu_fails_before_making_a_run_folder(lenet, tmp_path):
    with pytest.raises(DeviceError, match=r"fp16 needs a GPU"):
        Trainer(lenet, FAST.replace(device="cpu", precision="fp16"), train_batches, STEPS, root=tmp_path)
    assert not (tmp_path / "runs").exists()


def test_a_graph_with_errors_is_refused(lenet, tmp_path):
    lenet.set_params("c3", {"kernel_size": 30})
    with pytest.raises(TrainingError, match=r"the graph has errors; fix them before training: c3: "):
        Trainer(lenet, FAST, train_batches, STEPS, root=tmp_path)


def test_an_exception_in_the_callback_fails_the_run_and_propagates(lenet, tmp_path):
    def on_record(record):
        if record.kind == "epoch":
            raise KeyError("ui went away")

    with pytest.raises(KeyError, match=r"ui went away"):
        train(lenet, FAST, train_batches, STEPS, root=tmp_path, on_record=on_record)
    assert _status(tmp_path)["status"] == "failed"


def test_closing_the_record_generator_marks_the_run_interrupted(lenet, tmp_path):
    records = Trainer(lenet, FAST, train_batches, STEPS, root=tmp_path).records()
    assert next(records).kind == "start"
    records.close()
    status = _status(tmp_path)
    assert status["status"] == "interrupted"
    lines = (next((tmp_path / "runs").iterdir()) / "metrics.jsonl").read_text().splitlines()
    assert json.loads(lines[-1])["status"] == "interrupted"


def test_an_epoch_without_batches_is_a_data_error(lenet, tmp_path):
    with pytest.raises(TrainingError, match=r"^data: epoch 1 gave no batches"):
        train(lenet, FAST, lambda epoch: [], STEPS, root=tmp_path)


def test_a_trainer_runs_once(lenet, tmp_path):
    trainer = Trainer(lenet, FAST.replace(epochs=1), train_batches, STEPS, root=tmp_path)
    trainer.run()
    with pytest.raises(RuntimeError, match="has run already"):
        trainer.run()


class OutOfMemory(Broken):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")


def test_out_of_memory_is_explained_with_a_smaller_batch(lenet, tmp_path):
    with pytest.raises(TrainingError, match=r"^model: out of GPU memory at step 1 with batches of 32; lower "
                                            r"training.batch_size \(to 16, say\)") as caught:
        train((OutOfMemory(), lenet.to_dict()), FAST, train_batches, STEPS, root=tmp_path)
    assert isinstance(caught.value.__cause__, torch.cuda.OutOfMemoryError)


def test_a_root_that_cannot_be_written_is_a_training_error(lenet, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(TrainingError, match=r"^cannot write the run folder under"):
        train(lenet, FAST, train_batches, STEPS, root=blocker)
