"""TrainingConfig: defaults, JSON round trips and the error messages a user sees."""

from __future__ import annotations

import json

import pytest

from designer.training import ConfigError, TrainingConfig


def test_defaults_suit_a_first_lenet_run():
    c = TrainingConfig.from_json({})
    assert (c.optimizer, c.momentum, c.lr, c.batch_size, c.epochs, c.loss) == (
        "sgd", 0.9, 0.01, 64, 10, "cross_entropy")
    assert (c.device, c.precision, c.schedule, c.warmup_steps) == ("auto", "fp32", "constant", 0)


def test_to_json_writes_only_changes_and_round_trips():
    c = TrainingConfig.from_json({"optimizer": "adamw", "lr": 0.001, "betas": [0.8, 0.99], "epochs": 3})
    assert c.to_json() == {"optimizer": "adamw", "lr": 0.001, "betas": [0.8, 0.99], "epochs": 3}
    assert TrainingConfig.from_json(c.to_json()) == c
    full = c.to_json(full=True)
    assert json.loads(json.dumps(full)) == full
    assert TrainingConfig.from_json(full) == c


def test_names_are_forgiving_about_case_and_aliases():
    c = TrainingConfig.from_json({"optimizer": "Adam", "schedule": "discexp", "loss": "Cross-Entropy"})
    assert (c.optimizer, c.schedule, c.loss) == ("adam", "step", "cross_entropy")


@pytest.mark.parametrize(("data", "message"), [
    ({"lr": -1}, "training.lr: must be a number > 0, got -1"),
    ({"lr": "fast"}, "training.lr: must be a number > 0, got 'fast'"),
    ({"lr": True}, "training.lr: must be a number > 0, got True"),
    ({"momentum": 1.0}, "training.momentum: must be a number ≥ 0 and < 1, got 1"),
    ({"batch_size": 0}, "training.batch_size: must be a whole number from 1 to 1,048,576, got 0"),
    ({"epochs": 2.5}, "training.epochs: must be a whole number from 1 to 1,000,000, got 2.5"),
    ({"optimizer": "lbfgs"}, "training.optimizer: must be one of sgd, adam, adamw, rmsprop; got 'lbfgs'"),
    ({"schedule": "poly"}, "training.schedule: must be one of constant, step, exponential, cosine, plateau"),
    ({"loss": "focal"}, "training.loss: must be one of cross_entropy, mse, l1, hinge"),
    ({"precision": "fp8"}, "training.precision: must be one of fp32, bf16, fp16; got 'fp8'"),
    ({"device": "gpu"}, "training.device: must be auto, cpu, mps, cuda, cuda:N or cuda:all (every GPU, "
                        "data parallel); got 'gpu'"),
    ({"betas": [0.9]}, "training.betas: must be two numbers ≥ 0 and < 1"),
    ({"gamma": 0}, "training.gamma: must be a number > 0 and ≤ 1, got 0"),
    ({"label_smoothing": 1}, "training.label_smoothing: must be a number ≥ 0 and < 1, got 1"),
    ({"nesterov": True, "momentum": 0}, "training.nesterov: needs a momentum above 0"),
    ({"min_lr": 0.1}, "training.min_lr: must be at most training.lr (0.01), got 0.1"),
    ({"channels_last": "yes"}, "training.channels_last: must be true or false, got 'yes'"),
    ({"clip_grad_norm": float("nan")}, "training.clip_grad_norm: must be a number ≥ 0, got nan"),
])
def test_bad_values_name_the_key_and_the_allowed_values(data, message):
    with pytest.raises(ConfigError) as caught:
        TrainingConfig.from_json(data)
    assert str(caught.value).startswith(message)
    assert caught.value.key in data


def test_unknown_keys_are_listed_with_the_known_ones():
    with pytest.raises(ConfigError, match=r"training\.learning_rate: unknown setting; the settings are "
                                          r"optimizer, lr, momentum, .*log_every"):
        TrainingConfig.from_json({"learning_rate": 0.1})


def test_the_section_must_be_an_object():
    with pytest.raises(ConfigError, match=r"training: must be an object"):
        TrainingConfig.from_json([1, 2])


def test_direct_construction_is_checked_too():
    with pytest.raises(ConfigError, match=r"training.epochs"):
        TrainingConfig(epochs=0)
    with pytest.raises(ConfigError, match=r"training.lr"):
        TrainingConfig().replace(lr=0)


def test_settings_for_another_optimizer_are_kept_not_refused():
    c = TrainingConfig.from_json({"optimizer": "adam", "momentum": 0.5, "nesterov": True})
    assert c.momentum == 0.5 and c.nesterov


@pytest.mark.parametrize(("data", "message"), [
    ({"seed": 2**64}, "training.seed: must be a whole number from 0 to 9,223,372,036,854,775,807, "
                      "got 18446744073709551616"),
    ({"epochs": 10**30}, "training.epochs: must be a whole number from 1 to 1,000,000, got 10000000000"),
    ({"lr": 10**400}, "training.lr: must be a number > 0, got 10000000000000000000000000000000… (401 digits)"),
    ({"momentum": -(10**400)}, "training.momentum: must be a number ≥ 0 and < 1, got -1000000000"),
    ({"betas": [10**400, 0.9]}, "training.betas: must be two numbers ≥ 0 and < 1"),
    ({"batch_size": int("9" * 4000)}, "training.batch_size: must be a whole number from 1 to 1,048,576, "
                                      "got 99999999999999999999999999999999… (4000 digits)"),
])
def test_absurd_numbers_are_a_config_error_of_one_short_line(data, message):
    """A project file may hold any JSON number; none may reach training as a traceback."""
    with pytest.raises(ConfigError) as caught:
        TrainingConfig.from_json(json.loads(json.dumps(data)))
    assert str(caught.value).startswith(message)
    assert len(str(caught.value)) < 200
