"""Optimizers, losses and learning-rate schedules built from a config."""

from __future__ import annotations

import itertools
import math

import pytest
import torch
from torch import nn

from designer.training import OPTIMIZERS, SCHEDULES, TrainingConfig, make_loss, make_optimizer, make_scheduler


def _model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))


def _step(model: nn.Module, optimizer: torch.optim.Optimizer, loss_fn: nn.Module) -> float:
    x = torch.randn(16, 4, generator=torch.Generator().manual_seed(1))
    y = torch.arange(16) % 3
    optimizer.zero_grad(set_to_none=True)
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    return float(loss.detach())


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_every_optimizer_constructs_and_lowers_the_loss(name):
    model = _model()
    config = TrainingConfig(optimizer=name, lr=0.01, weight_decay=1e-4, nesterov=name == "sgd")
    optimizer = make_optimizer(model.parameters(), config)
    assert type(optimizer).__name__.lower() == name
    losses = [_step(model, optimizer, make_loss(config)) for _ in range(30)]
    assert losses[-1] < losses[0]


def test_optimizer_settings_reach_torch():
    model = _model()
    group = make_optimizer(model.parameters(), TrainingConfig(momentum=0.5, nesterov=True,
                                                              weight_decay=0.01)).param_groups[0]
    assert (group["momentum"], group["nesterov"], group["weight_decay"]) == (0.5, True, 0.01)
    adam = make_optimizer(model.parameters(), TrainingConfig(optimizer="adam", betas=(0.8, 0.9)))
    assert adam.param_groups[0]["betas"] == (0.8, 0.9)


@pytest.mark.parametrize("name", ["cross_entropy", "mse", "l1", "hinge"])
def test_every_loss_takes_class_labels_and_trains(name):
    model = _model()
    config = TrainingConfig(loss=name, optimizer="adam", lr=0.01)
    loss_fn = make_loss(config)
    optimizer = make_optimizer(model.parameters(), config)
    losses = [_step(model, optimizer, loss_fn) for _ in range(30)]
    assert math.isfinite(losses[0]) and losses[-1] < losses[0]


def test_regression_losses_turn_labels_into_one_hot_rows():
    output = torch.zeros(2, 3)
    assert make_loss(TrainingConfig(loss="mse"))(output, torch.tensor([0, 2])) == pytest.approx(2 / 6)
    assert make_loss(TrainingConfig(loss="l1"))(output, torch.ones(2, 3)) == pytest.approx(1.0)


def test_label_smoothing_is_applied():
    output, target = torch.tensor([[10.0, 0.0]]), torch.tensor([0])
    plain = make_loss(TrainingConfig())(output, target)
    smooth = make_loss(TrainingConfig(label_smoothing=0.2))(output, target)
    assert smooth > plain


def _rates(config: TrainingConfig, steps: int, steps_per_epoch: int = 10) -> list[float]:
    optimizer = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=config.lr)
    schedule = make_scheduler(optimizer, config, steps_per_epoch)
    rates = []
    for _ in range(steps):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        schedule.step()
    return rates


@pytest.mark.parametrize("name", SCHEDULES)
def test_every_schedule_constructs_steps_and_starts_at_the_rate(name):
    rates = _rates(TrainingConfig(schedule=name, lr=0.1, decay_epochs=1, epochs=3), 30)
    assert rates[0] == pytest.approx(0.1)
    assert all(0 <= r <= 0.1 for r in rates)


def test_linear_warmup_values():
    rates = _rates(TrainingConfig(lr=0.1, warmup_steps=4), 6)
    assert rates == pytest.approx([0.025, 0.05, 0.075, 0.1, 0.1, 0.1])


def test_warmup_combines_with_a_decay():
    rates = _rates(TrainingConfig(lr=0.1, warmup_steps=4, schedule="step", decay_epochs=0.5, gamma=0.5), 12)
    assert rates == pytest.approx([0.025, 0.05, 0.075, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.05, 0.025, 0.025])


def test_step_and_exponential_fall_by_gamma_per_decay_period():
    step = _rates(TrainingConfig(lr=1.0, schedule="step", decay_epochs=2, gamma=0.1), 41)
    assert step[19] == 1.0 and step[20] == pytest.approx(0.1) and step[40] == pytest.approx(0.01)
    smooth = _rates(TrainingConfig(lr=1.0, schedule="exponential", decay_epochs=2, gamma=0.1), 41)
    assert smooth[10] == pytest.approx(0.1 ** 0.5) and smooth[20] == pytest.approx(0.1)
    assert all(a > b for a, b in itertools.pairwise(smooth))


def test_cosine_runs_from_the_rate_to_min_lr_over_the_run():
    rates = _rates(TrainingConfig(lr=1.0, schedule="cosine", epochs=2, min_lr=0.1), 21)
    assert rates[0] == 1.0 and rates[10] == pytest.approx(0.55) and rates[20] == pytest.approx(0.1)


def test_plateau_lowers_the_rate_after_patience_epochs_without_improvement():
    optimizer = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=1.0)
    schedule = make_scheduler(optimizer, TrainingConfig(lr=1.0, schedule="plateau", patience=1, gamma=0.5,
                                                        min_lr=0.2), 10)
    seen = []
    for val_loss in [1.0, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9]:
        schedule.epoch_end(val_loss)
        seen.append(schedule.lr)
    assert seen == pytest.approx([1.0, 1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.2, 0.2])


def test_schedule_state_round_trips():
    optimizer = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=1.0)
    config = TrainingConfig(lr=1.0, schedule="plateau", patience=0, warmup_steps=3)
    schedule = make_scheduler(optimizer, config, 10)
    for _ in range(5):
        schedule.step()
    schedule.epoch_end(1.0)
    schedule.epoch_end(2.0)
    other_optimizer = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=1.0)
    other = make_scheduler(other_optimizer, config, 10)
    other.load_state_dict(schedule.state_dict())
    assert other.lr == schedule.lr == 0.1 and other.steps == 5
