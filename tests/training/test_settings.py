"""The training settings schema: one entry per TrainingConfig field, CLI flags and comments made from it,
and ``applies`` saying exactly what the engine uses."""

from __future__ import annotations

import argparse
import itertools
import subprocess
import sys
import typing
from dataclasses import fields, replace
from types import SimpleNamespace

import pytest
import torch

from designer.training import ConfigError, TrainingConfig, make_loss, make_optimizer, make_scheduler
from designer.training.settings import (
    BY_KEY,
    CLI_FLAGS,
    LOSSES,
    OPTIMIZERS,
    SCHEDULES,
    SECTIONS,
    SETTINGS,
    add_training_flags,
    config_comments,
    device_choices,
    flag_name,
    training_changes,
)

TYPES = {"number": float, "whole": int, "choice": str, "flag": bool, "pair": tuple[float, float], "device": str}


def test_every_config_field_has_exactly_one_setting_and_the_settings_default():
    hints = typing.get_type_hints(TrainingConfig)
    assert [f.name for f in fields(TrainingConfig)] == [s.key for s in SETTINGS]
    for f in fields(TrainingConfig):
        setting = BY_KEY[f.name]
        assert f.default == setting.default and hints[f.name] == TYPES[setting.kind], f.name
        assert setting.section in SECTIONS and setting.label and setting.help, f.name
        setting.check(setting.default)


def test_the_schema_checks_with_the_configs_words():
    with pytest.raises(ConfigError, match=r"^training\.momentum: must be a number ≥ 0 and < 1, got 1$"):
        BY_KEY["momentum"].check(1)
    assert BY_KEY["betas"].allowed() == "two numbers ≥ 0 and < 1, like [0.9, 0.999]"
    assert BY_KEY["batch_size"].allowed() == "a whole number from 1 to 1,048,576"
    assert BY_KEY["optimizer"].read(" Momentum ") == "sgd"  # an alias, as a file may spell it


# -- command-line flags ------------------------------------------------------------------------


def parse(capsys, *argv: str) -> argparse.Namespace | str:
    """The flags parsed, or argparse's one-line complaint."""
    parser = argparse.ArgumentParser(prog="designer train")
    add_training_flags(parser, names=tuple(BY_KEY))
    try:
        return parser.parse_args(argv)
    except SystemExit as exit_:
        assert exit_.code == 2
        return capsys.readouterr().err.strip().splitlines()[-1]


@pytest.mark.parametrize(("key", "text", "value"), [
    ("lr", "-1", -1), ("lr", "nan", float("nan")), ("lr", "fast", "fast"), ("epochs", "0", 0),
    ("epochs", "2.5", 2.5), ("batch_size", "2000000", 2_000_000), ("momentum", "1", 1),
    ("weight_decay", "-0.5", -0.5), ("seed", "-1", -1), ("optimizer", "lbfgs", "lbfgs"),
    ("schedule", "poly", "poly"), ("precision", "fp8", "fp8"), ("device", "tpu", "tpu"),
    ("gamma", "0", 0), ("betas", "0.9,1.5", [0.9, 1.5]), ("patience", "x", "x"), ("lr", "1e999", "1e999"),
    ("optimizer", "LBFGS", "LBFGS"),
])
def test_a_flag_refuses_a_value_as_the_config_refuses_it(capsys, key, text, value):
    """The same words for what the setting takes; the value as it was typed."""
    with pytest.raises(ConfigError) as caught:
        TrainingConfig.from_json({key: value})
    takes = caught.value.reason.rpartition(" got ")[0]
    said = parse(capsys, flag_name(key), text)
    assert said == f"designer train: error: argument {flag_name(key)}: {takes} got {text}"


def test_flags_given_become_changes_and_the_others_stay_the_projects(capsys):
    args = parse(capsys, "--lr", "0.05", "--batch-size", "1e3", "--optimizer", "Adam", "--nesterov",
                 "--betas", "0.8, 0.99", "--device", "cuda:1")
    changes = training_changes(args)
    assert changes == {"lr": 0.05, "batch_size": 1000, "optimizer": "adam", "nesterov": True,
                       "betas": (0.8, 0.99), "device": "cuda:1"}
    assert TrainingConfig().replace(**changes).to_json()["betas"] == [0.8, 0.99]
    assert training_changes(parse(capsys)) == {}
    assert isinstance(training_changes(parse(capsys, "--lr", "1"))["lr"], float)
    assert training_changes(argparse.Namespace(device="cpu")) == {}  # eval's --device is no training flag


def test_the_default_flags_keep_the_names_designer_train_had():
    parser = argparse.ArgumentParser()
    add_training_flags(parser, notes={"epochs": "with --resume: raise to go on"})
    flags = {option for action in parser._actions for option in action.option_strings}
    assert {"--epochs", "--batch-size", "--lr", "--device"} <= flags
    assert flags == {"-h", "--help", *map(flag_name, CLI_FLAGS)}
    assert "(with --resume: raise to go on)" in " ".join(parser.format_help().split())


# -- words for people: comments, devices ---------------------------------------------------------


def test_comments_say_who_uses_a_setting_and_what_a_choice_takes():
    comments = config_comments()
    assert set(comments) == set(BY_KEY)
    assert comments["momentum"].startswith("sgd and rmsprop: ")
    assert comments["optimizer"].startswith("sgd, adam, adamw or rmsprop: ")
    assert comments["label_smoothing"].startswith("cross_entropy: ")
    assert comments["epochs"] == BY_KEY["epochs"].help
    narrow = config_comments(width=78)  # what fits above a CONFIG line in an 88-column file
    assert max(map(len, narrow.values())) <= 78
    assert narrow["schedule"] == "constant, step, exponential, cosine or plateau"
    assert narrow["momentum"] == comments["momentum"]


def test_the_device_list_is_auto_then_each_device_found_and_each_is_a_valid_setting():
    found = [SimpleNamespace(name="cuda:0", label="H200, 139 GB"), SimpleNamespace(name="cpu", label="CPU")]
    choices = device_choices(found)
    assert choices == [("auto", "auto (best found)"), ("cuda:0", "cuda:0: H200, 139 GB"), ("cpu", "cpu: CPU")]
    for value, _text in choices:
        BY_KEY["device"].check(value)


def test_several_gpus_are_offered_all_at_once_for_data_parallel_training():
    found = [SimpleNamespace(name=f"cuda:{i}", label="H200") for i in range(4)] + [
        SimpleNamespace(name="cpu", label="CPU")]
    choices = device_choices(found)
    assert choices[-1] == ("cuda:all", "all 4 GPUs (data parallel)")
    BY_KEY["device"].check("cuda:all")
    assert all(value != "cuda:all" for value, _ in device_choices(found[3:]))  # one GPU: nothing to share


def test_the_schema_imports_neither_qt_nor_torch():
    code = ("import sys, designer.training.config, designer.training.settings; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'PySide6'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# -- applies: what the engine really uses ---------------------------------------------------------

# A base where every setting shows in what the engine builds: the rate falls within ten steps.
BASE = {"lr": 0.1, "decay_epochs": 1.0, "gamma": 0.5, "patience": 0, "epochs": 3}
CHANGES = {"momentum": 0.5, "nesterov": True, "betas": (0.8, 0.9), "weight_decay": 0.01,
           "decay_epochs": 2.0, "gamma": 0.25, "patience": 1, "min_lr": 0.03, "warmup_steps": 3,
           "label_smoothing": 0.2}
STEPS_PER_EPOCH = 2


def engine_uses(config: TrainingConfig) -> tuple:
    """What the engine builds from ``config``: the optimizer's settings, the rate of ten steps, a loss."""
    weight = torch.nn.Parameter(torch.ones(2))
    optimizer = make_optimizer([weight], config)
    groups = [{k: v for k, v in group.items() if k != "params"} for group in optimizer.param_groups]
    schedule = make_scheduler(optimizer, config, STEPS_PER_EPOCH)
    rates = []
    for _epoch in range(5):
        for _step in range(STEPS_PER_EPOCH):
            rates.append(round(schedule.lr, 12))
            schedule.step()
        schedule.epoch_end(1.0)  # never better: a plateau schedule falls
    loss = make_loss(config)(torch.tensor([[2.0, 0.5, -1.0]]), torch.tensor([0]))
    return groups, rates, round(float(loss), 9)


@pytest.mark.parametrize(("optimizer", "schedule", "loss"),
                         list(itertools.product(OPTIMIZERS, SCHEDULES, LOSSES)))
def test_applies_says_exactly_which_settings_the_engine_uses(optimizer, schedule, loss):
    assert {s.key for s in SETTINGS if s.when is not None} <= set(CHANGES)
    base = TrainingConfig.from_json({**BASE, "optimizer": optimizer, "schedule": schedule, "loss": loss})
    used = engine_uses(base)
    for key, value in CHANGES.items():
        changed = engine_uses(replace(base, **{key: value})) != used
        assert changed == BY_KEY[key].applies(base), (key, "used" if changed else "ignored")
