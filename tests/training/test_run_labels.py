"""Runs told apart: a label from the settings that differ among runs of one network, or the user's own name."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import designer
from designer.graph.graph import Graph
from designer.graph.project import dumps
from designer.training.config import TrainingConfig
from designer.training.run_diff import distinct_labels, run_settings
from designer.training.runs import MAX_LABEL, RunFolder, create_run, list_runs
from tests.training.real_runs import changed_lenet


def made_run(root: Path, graph: Graph | None = None, name: str = "lenet5", **changes: object) -> Path:
    """A run folder as the trainer starts it (config, graph, run.json), without training it."""
    graph = graph or designer.load("lenet5")
    config = TrainingConfig().replace(**changes) if changes else TrainingConfig()
    folder, lock = create_run(root, name, graph.name, config.to_json(full=True), dumps(graph), 13)
    lock.release()
    return folder.path


def labels(*paths: Path) -> list[str]:
    settings = [run_settings(path) for path in paths]
    names = [RunFolder(path).info()["name"] for path in paths]
    return distinct_labels(names, settings)


def test_runs_of_one_network_are_labelled_by_the_setting_that_differs(tmp_path):
    slow, fast = made_run(tmp_path, lr=0.05), made_run(tmp_path, lr=0.1)
    assert labels(fast, slow) == ["lenet5 · lr 0.1", "lenet5 · lr 0.05"]


def test_the_most_telling_settings_come_first_and_at_most_three(tmp_path):
    a = made_run(tmp_path, seed=3, lr=0.05, batch_size=32, optimizer="adam", epochs=4)
    b = made_run(tmp_path)
    assert labels(a, b) == ["lenet5 · lr 0.05 · batch 32 · adam", "lenet5 · lr 0.01 · batch 64 · sgd"]


def test_a_graph_change_names_the_parameter_and_an_added_block(tmp_path):
    a, b = made_run(tmp_path), made_run(tmp_path, changed_lenet())
    assert labels(a, b) == ["lenet5 · c1.kernel_size 5 · −drop", "lenet5 · c1.kernel_size 3 · +drop"]


def test_runs_alone_with_their_name_keep_it_and_identical_runs_are_numbered(tmp_path):
    twin_a, twin_b = made_run(tmp_path), made_run(tmp_path)
    other = made_run(tmp_path, name="alexnet")
    assert labels(twin_b, twin_a, other) == ["lenet5 · #2", "lenet5 · #1", "alexnet"]


def test_logging_settings_do_not_tell_runs_apart(tmp_path):
    a, b = made_run(tmp_path, log_every=5), made_run(tmp_path, log_every=20)
    assert labels(a, b) == ["lenet5 · #2", "lenet5 · #1"]


def test_a_name_given_to_a_run_is_kept_in_its_folder_and_listed(tmp_path):
    path = made_run(tmp_path)
    folder = RunFolder(path)
    assert folder.set_label("  baseline\n  run ") == "baseline run"
    assert (path / "label.txt").read_text() == "baseline run\n"
    assert list_runs(tmp_path)[0].label == "baseline run"
    folder.update_info(epochs_done=1)  # the trainer rewriting run.json leaves the name alone
    assert list_runs(tmp_path)[0].label == "baseline run"
    assert folder.set_label("") == ""
    assert not (path / "label.txt").exists() and list_runs(tmp_path)[0].label == ""


def test_a_name_too_long_is_refused_in_words(tmp_path):
    folder = RunFolder(made_run(tmp_path))
    with pytest.raises(ValueError, match=rf"at most {MAX_LABEL} characters; this one has {MAX_LABEL + 1}"):
        folder.set_label("x" * (MAX_LABEL + 1))
    assert not folder.label_path.exists()


def test_a_label_file_that_is_no_file_is_ignored(tmp_path):
    folder = RunFolder(made_run(tmp_path))
    os.mkfifo(folder.label_path)  # a reader would block on it
    assert list_runs(tmp_path)[0].label == ""
