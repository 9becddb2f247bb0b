"""The hyperparameter form is made from the settings schema: an editor per setting, its range and help,
and exactly the rows of the settings that the chosen optimizer, schedule and loss use."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from PySide6.QtWidgets import QLabel

from designer.graph.graph import Graph
from designer.training import TrainingConfig
from designer.training.settings import BY_KEY, OPTIMIZERS, SETTINGS
from designer.ui.document import Document
from designer.ui.training.config_form import TrainingForm


@pytest.fixture
def form(qtbot):
    form = TrainingForm()
    qtbot.addWidget(form)
    form.set_document(Document(Graph()))
    return form


def shown(form: TrainingForm) -> set[str]:
    return {key for key, row in form.rows.items() if not row.isHidden()}


@pytest.mark.parametrize(("optimizer", "schedule", "loss"), [
    ("sgd", "constant", "cross_entropy"), ("adam", "step", "mse"), ("adamw", "exponential", "l1"),
    ("rmsprop", "cosine", "hinge"), ("sgd", "plateau", "cross_entropy"), ("adamw", "cosine", "mse"),
])
def test_the_form_shows_a_row_for_each_setting_that_applies_and_no_other(form, optimizer, schedule, loss):
    training = {"optimizer": optimizer, "schedule": schedule, "loss": loss}
    form.document.set_meta("training", training)
    config = TrainingConfig.from_json(training)
    assert form.config() == config
    assert shown(form) == {s.key for s in SETTINGS if s.applies(config)}


def test_each_editor_takes_its_settings_range_and_help(form):
    assert sorted(form.rows) == sorted(BY_KEY)  # one row per setting
    for key, setting in BY_KEY.items():
        editor = form.editor(key)
        assert setting.help in editor.toolTip(), key
        if setting.kind == "whole":
            assert editor.spin.minimum() == setting.low, key
            assert editor.spin.maximum() == min(setting.high, 2**31 - 1), key
    assert form.editor("lr").spin.minimum() == 0 and form.editor("momentum").spin.maximum() == 1
    assert form.editor("optimizer").combo.count() == len(OPTIMIZERS)
    labels = {label.text(): label.toolTip() for label in form.findChildren(QLabel)}
    assert labels["lr"] == "Learning rate: the step size of each update"


def test_a_newcomer_sees_epochs_batch_size_optimizer_and_lr_first(form):
    assert list(form.rows)[:4] == ["epochs", "batch_size", "optimizer", "lr"]


def test_the_device_list_comes_from_the_found_devices(form):
    form.set_devices([SimpleNamespace(name="cuda:0", label="H200"), SimpleNamespace(name="cpu", label="CPU")])
    combo = form.editor("device").field()
    texts = [combo.itemText(i) for i in range(combo.count())]
    assert texts == ["auto (best found)", "cuda:0: H200", "cpu: CPU"]
