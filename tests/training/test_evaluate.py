"""evaluate(): confusion matrix, precision/recall, top-k and per-sample results on known outputs."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from designer.training import TrainingError, evaluate

# The "model" passes its input through, so each input row is the logits it outputs.
LOGITS = torch.tensor([
    [5.0, 0.0, 0.0],  # true 0, predicted 0
    [4.0, 3.0, 0.0],  # true 0, predicted 0, less sure
    [0.0, 5.0, 0.0],  # true 0, predicted 1
    [0.0, 6.0, 0.0],  # true 1, predicted 1
    [0.0, 0.0, 9.0],  # true 1, predicted 2
    [0.0, 0.0, 1.0],  # true 1, predicted 2, less sure
])
TARGETS = torch.tensor([0, 0, 0, 1, 1, 1])


def _batches(size: int = 4):
    return [(LOGITS[i:i + size], TARGETS[i:i + size]) for i in range(0, len(TARGETS), size)]


def test_confusion_matrix_and_per_class_scores():
    result = evaluate(nn.Identity(), _batches(), "cpu", num_classes=3)
    assert torch.equal(result.confusion, torch.tensor([[2, 1, 0], [0, 1, 2], [0, 0, 0]]))
    assert result.count == 6
    assert result.top1 == pytest.approx(3 / 6)
    assert result.top5 == 1.0  # with 3 classes, top-5 is top-3: always right
    assert result.precision[:2].tolist() == pytest.approx([1.0, 0.5])
    assert result.precision[2] == 0.0
    assert result.recall[:2].tolist() == pytest.approx([2 / 3, 1 / 3])
    assert math.isnan(result.recall[2])  # no sample of class 2
    assert result.loss == pytest.approx(float(nn.functional.cross_entropy(LOGITS, TARGETS)), rel=1e-6)


def test_per_sample_predictions_and_cells_by_confidence():
    result = evaluate(nn.Identity(), _batches(size=2), "cpu", num_classes=3)
    assert result.predicted.tolist() == [0, 0, 1, 1, 2, 2]
    assert torch.allclose(result.confidence, LOGITS.softmax(1).max(1).values)
    assert result.samples(1, 2).tolist() == [4, 5]  # the more confident mistake first
    assert result.samples(0, 0).tolist() == [0, 1]
    assert result.samples(2, 2).tolist() == []


def test_top5_counts_a_label_among_the_five_best():
    logits = torch.arange(8.0).repeat(2, 1)  # class 7 best, then 6, 5, 4, 3
    result = evaluate(nn.Identity(), [(logits, torch.tensor([3, 2]))], "cpu", num_classes=8)
    assert result.top1 == 0.0 and result.top5 == 0.5


def test_one_hot_targets_are_classes_too():
    result = evaluate(nn.Identity(), [(LOGITS, nn.functional.one_hot(TARGETS, 3).float())], "cpu", 3,
                      loss_fn=nn.MSELoss())
    assert result.confusion.sum() == 6 and result.top1 == pytest.approx(0.5)


def test_evaluate_leaves_the_model_in_its_mode():
    model = nn.Sequential(nn.Identity(), nn.Dropout(0.5))
    evaluate(model, _batches(), "cpu", 3)
    assert model.training


def test_errors_say_where():
    def broken():
        yield LOGITS, TARGETS
        raise OSError("disk gone")

    with pytest.raises(TrainingError, match=r"^data: disk gone") as caught:
        evaluate(nn.Identity(), broken(), "cpu", 3)
    assert isinstance(caught.value.__cause__, OSError)
    with pytest.raises(TrainingError, match=r"^data: batch 1 of the evaluation has a target of class 7, "
                                            r"but the network.s output has 3 classes"):
        evaluate(nn.Identity(), [(LOGITS[:1], torch.tensor([7]))], "cpu", 3)
    with pytest.raises(TrainingError, match=r"^model: .*while evaluating"):
        evaluate(nn.Linear(5, 3), _batches(), "cpu", 3)
