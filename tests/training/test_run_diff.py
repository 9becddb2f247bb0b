"""Comparing two real runs: settings key by key, the dataset, and the graph node by node and edge by edge."""

from __future__ import annotations

import json
import shutil

import pytest

from designer.training.config import TrainingConfig
from designer.training.errors import CheckpointError
from designer.training.run_diff import ABSENT, ADDED, CHANGED, REMOVED, SAME, diff_runs
from tests.training.real_runs import changed_lenet, finished_run


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """LeNet-5 at lr 0.01, and the changed LeNet-5 (3×3 c1, a Dropout after c5) at lr 0.05."""
    root = tmp_path_factory.mktemp("diff")
    return finished_run(root, "base"), finished_run(root, "changed", changed_lenet(), lr=0.05)


def _rows(diff, section):
    return {row.key: row for row in diff.section(section)}


def test_changed_settings_are_listed_and_equal_ones_are_not(two_runs):
    diff = diff_runs(*two_runs)
    training = _rows(diff, "Training")
    assert (training["lr"].left, training["lr"].right, training["lr"].change) == ("0.01", "0.05", CHANGED)
    assert training["batch_size"].change == SAME and training["batch_size"].left == "128"
    assert [row.key for row in diff.section("Training") if row.changed] == ["lr"]
    assert all(not row.changed for row in diff.section("Dataset"))
    assert _rows(diff, "Dataset")["name"].left == "digits"
    assert (diff.left_name, diff.right_name) == ("base", "changed")


def test_graph_changes_name_the_node_the_parameter_and_the_edges(two_runs):
    diff = diff_runs(*two_runs)
    graph = _rows(diff, "Graph")
    kernel = graph["c1.kernel_size"]
    assert (kernel.left, kernel.right, kernel.change) == ("5", "3", CHANGED)
    assert graph["c1"].change == SAME and graph["c1"].left == "Conv2d"
    assert graph["drop"].change == ADDED and graph["drop"].left == ABSENT
    assert graph["drop"].right.startswith("Dropout(") and "p=0.25" in graph["drop"].right
    assert graph["edge c5 → tanh3"].change == REMOVED
    assert graph["edge c5 → drop"].change == ADDED and graph["edge drop → tanh3"].change == ADDED
    changed = {row.key for row in diff.section("Graph") if row.changed}
    assert changed == {"c1.kernel_size", "drop", "edge c5 → tanh3", "edge c5 → drop", "edge drop → tanh3"}
    assert {row.key for row in diff.causes} == changed | {"lr"}


def test_the_same_run_twice_differs_nowhere(two_runs):
    left = two_runs[0]
    diff = diff_runs(left, left)
    assert diff.changes == [] and len(diff.rows) > 50
    assert [row.section for row in diff.rows][:1] == ["Run"]


def test_a_setting_left_at_its_default_equals_one_stated(two_runs, tmp_path):
    # config.json of an older run holds only the settings that differ from the defaults
    copy = tmp_path / "runs" / two_runs[0].name
    shutil.copytree(two_runs[0], copy)
    config = TrainingConfig.from_json(json.loads((copy / "config.json").read_text()))
    (copy / "config.json").write_text(json.dumps(config.to_json()))
    assert "lr" not in config.to_json()
    diff = diff_runs(two_runs[0], copy)
    assert [row for row in diff.section("Training") if row.changed] == []
    assert _rows(diff, "Training")["lr"].right == "0.01"


def test_a_folder_that_is_no_run_is_named(two_runs, tmp_path):
    with pytest.raises(CheckpointError, match=f"{tmp_path}.*not a training run"):
        diff_runs(two_runs[0], tmp_path)
    broken = tmp_path / "broken"
    shutil.copytree(two_runs[1], broken)
    (broken / "graph.json").write_text("{ not json")
    with pytest.raises(CheckpointError, match=r"graph\.json: cannot be read"):
        diff_runs(two_runs[0], broken)
