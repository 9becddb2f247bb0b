"""Training jobs on real data: LeNet-5 on the built-in digits through the data layer.

The glue must prepare the data before any run folder exists, resume with the
very batches an unbroken run would have seen, and leave in the run folder what
``predict`` and ``eval`` need to feed the network as it was trained.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

import designer
from designer.data import DataFitError, DatasetConfig, batches
from designer.data.builtin import load_digits
from designer.training import BatchRecord, TrainingConfig, TrainingError
from designer.training.jobs import resume_job, start_job
from designer.training.run_data import DATA_FILE, DataInfo
from designer.training.trained import evaluate_trained, misclassified, open_trained, predict, read_image

DIGITS = DatasetConfig()
QUICK = TrainingConfig(batch_size=64, epochs=2, log_every=5)


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """One finished two-epoch run on digits, shared by the read-back tests."""
    job = start_job(designer.load("lenet5"), DIGITS, QUICK, root=tmp_path_factory.mktemp("run"))
    return job.run()


def _weights(path):
    return torch.load(path, weights_only=True)["model"]


def test_a_run_stopped_mid_epoch_resumes_with_the_same_batches(lenet, tmp_path):
    straight = start_job(lenet, DIGITS, QUICK, root=tmp_path / "a").run()
    job = start_job(lenet, DIGITS, QUICK, root=tmp_path / "b")
    for record in job.records():
        if isinstance(record, BatchRecord) and record.step == 35:  # in epoch 2 (26 steps an epoch)
            job.control.request_stop()
    stopped = job.result()
    assert stopped.status == "stopped" and stopped.step == 35
    resumed = resume_job(stopped.run_dir).run()
    assert resumed.status == "finished" and resumed.step == straight.step == 52
    a, b = _weights(straight.checkpoint), _weights(resumed.checkpoint)
    assert all(torch.equal(a[key], b[key]) for key in a)


def test_the_run_folder_remembers_how_the_data_was_fed(trained_run):
    info = DataInfo.load(trained_run.run_dir)
    assert info is not None and info.class_names == tuple(str(i) for i in range(10))
    assert info.input_shape == (1, 32, 32) and (info.channels, info.height, info.width) == (1, 32, 32)
    assert info.dataset == {"name": "digits"} and info.train_count + info.val_count == 1797
    assert 0 < info.mean[0] < 1 and info.std[0] > 0
    assert DataInfo.from_json(info.to_json()) == info


def test_data_that_does_not_fit_fails_before_any_run_folder(tmp_path):
    with pytest.raises(DataFitError, match="Input expects 3"):
        start_job(designer.load("alexnet"), DIGITS, QUICK, root=tmp_path)
    with pytest.raises(TrainingError, match=r"training\.device"):
        start_job(designer.load("lenet5"), DIGITS, QUICK.replace(device="cuda:7"), root=tmp_path)
    assert not (tmp_path / "runs").exists()


def test_an_image_file_is_fed_exactly_as_the_training_images(trained_run, tmp_path):
    trained = open_trained(trained_run.run_dir)
    digits = load_digits().train
    Image.fromarray(digits.images[5, 0].numpy()).save(tmp_path / "five.png")
    x = read_image(tmp_path / "five.png", trained.info)
    split = _one_image_split(digits.images[5:6], trained.info)
    expected, _ = next(batches(split, 1))
    assert x.shape == (1, 1, 32, 32) and torch.allclose(x, expected, atol=1e-6)


def _one_image_split(images, info):
    from designer.data import Split
    from designer.data.transforms import resize_images

    return Split(resize_images(images, (32, 32)), torch.zeros(1, dtype=torch.int64), info.stats)


def test_predict_lists_the_most_likely_classes(trained_run, tmp_path):
    trained = open_trained(trained_run.checkpoint)
    Image.fromarray(np.full((20, 12, 3), 200, np.uint8)).save(tmp_path / "rgb.png")  # any size, any mode
    top = predict(trained, tmp_path / "rgb.png")
    assert len(top) == 5 and {name for name, _ in top} <= set(trained.class_names)
    probabilities = [p for _, p in top]
    assert probabilities == sorted(probabilities, reverse=True) and sum(probabilities) <= 1 + 1e-6


def test_a_checkpoint_away_from_its_run_still_predicts(trained_run, tmp_path):
    lone = tmp_path / "lone.pt"
    lone.write_bytes(trained_run.checkpoint.read_bytes())
    trained = open_trained(lone)
    assert trained.notes and "data.json" in trained.notes[0]
    assert trained.info.mean == DataInfo.load(trained_run.run_dir).mean
    assert not (tmp_path / DATA_FILE).exists()


def test_evaluating_the_best_checkpoint_gives_its_validation_score(trained_run):
    trained = open_trained(trained_run.run_dir)
    assert trained.checkpoint.name == "best.pt"
    result = evaluate_trained(trained)
    evaluation = result.evaluation
    assert evaluation.top1 == pytest.approx(trained_run.best_score)
    assert evaluation.count == DataInfo.load(trained_run.run_dir).val_count
    assert int(evaluation.confusion.sum()) == evaluation.count
    wrong = misclassified(evaluation)
    assert len(wrong) == int((evaluation.predicted != evaluation.targets).sum())
    confidence = evaluation.confidence[wrong]
    assert torch.all(confidence[:-1] >= confidence[1:])
