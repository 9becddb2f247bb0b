"""``designer train``, ``eval`` and ``predict`` on LeNet-5 and the built-in digits, one epoch at a time.

Runs happen in-process (``main``), except the Ctrl-C test, which needs a real
process to send the signal to. Bad input is one ``designer: error:`` line and
exit code 2, before any run folder is made.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from designer.cli import EXIT_BAD_INPUT, CliError, main
from designer.cli_train import EXIT_STOPPED, dataset_config
from designer.data import DataConfigError
from designer.graph import project
from tests.test_cli import assert_one_line_error, run
from tests.training.special_files import fifo, read_only_tree, run_unprivileged, shared_folder

KEYS = {"epochs", "train_loss", "val_loss", "val_accuracy", "samples_per_second", "run_dir"}


def last_json(out: str) -> dict:
    return json.loads(out.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def one_epoch(tmp_path_factory) -> tuple[int, str, str, dict]:
    """``designer train lenet5 --dataset digits --epochs 1 --json``, run once for the module."""
    out, err = io.StringIO(), io.StringIO()
    root = tmp_path_factory.mktemp("train")
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["train", "lenet5", "--dataset", "digits", "--epochs", "1", "--json", "--out", str(root)])
    return code, out.getvalue(), err.getvalue(), last_json(out.getvalue())


def test_train_ends_with_one_json_line_of_sensible_numbers(one_epoch):
    code, out, err, result = one_epoch
    assert code == 0 and set(result) >= KEYS
    assert out.count("\n") == 1  # with --json, stdout holds the JSON line only
    assert result["status"] == "finished" and result["epochs"] == 1 and result["steps"] == 26
    assert 0 < result["train_loss"] < 2.4 and 0 < result["val_loss"] < result["train_loss"] + 0.5
    assert 0.3 < result["val_accuracy"] <= 1 and result["samples_per_second"] > 0
    run_dir = Path(result["run_dir"])
    assert (run_dir / "checkpoints" / "last.pt").is_file() and (run_dir / "data.json").is_file()
    assert "epoch 1/1  train loss" in err and "finished: 1 epochs, 26 steps" in err
    assert "\r" not in err  # not a terminal: plain lines, no redrawn bar


def test_train_without_json_prints_the_summary_on_stdout(capsys, tmp_path):
    code, out, _err = run(capsys, "train", "lenet5", "--epochs", "1", "--batch-size", "256", "--lr", "0.05",
                         "--out", str(tmp_path))
    assert code == 0 and out.startswith("finished: 1 epochs, 7 steps") and f"run: {tmp_path}" in out
    config = json.loads(next((tmp_path / "runs").iterdir()).joinpath("config.json").read_text())
    assert (config["batch_size"], config["lr"], config["epochs"]) == (256, 0.05, 1)


def test_resume_goes_on_to_more_epochs(one_epoch, capsys, tmp_path):
    run_dir = shutil.copytree(one_epoch[3]["run_dir"], tmp_path / "copy")
    code, out, err = run(capsys, "train", "--resume", str(run_dir / "checkpoints" / "last.pt"),
                         "--epochs", "2", "--json")
    result = last_json(out)
    assert code == 0 and result["epochs"] == 2 and result["steps"] == 52 and result["run_dir"] == str(run_dir)
    assert "goes on from epoch 2, step 26" in err
    assert_one_line_error(*run(capsys, "train", "--resume", str(run_dir), "--lr", "0.1"), "cannot change")


def test_eval_prints_accuracy_per_class_and_the_confusion_matrix(one_epoch, capsys):
    run_dir = one_epoch[3]["run_dir"]
    code, out, _ = run(capsys, "eval", run_dir)
    assert code == 0 and "top-1 accuracy" in out and "top-5 accuracy" in out
    assert "confusion matrix (rows: true class" in out and "class  samples  accuracy  precision  recall" in out
    code, out, _err = run(capsys, "eval", run_dir, "--json")
    report = json.loads(out)
    assert report["top1"] == pytest.approx(one_epoch[3]["val_accuracy"])  # best.pt on the same split
    assert len(report["confusion"]) == 10 and sum(map(sum, report["confusion"])) == report["count"]
    confidence = [m["confidence"] for m in report["misclassified"]]
    assert confidence == sorted(confidence, reverse=True)


def test_predict_lists_five_classes_with_probabilities(one_epoch, capsys, tmp_path):
    image = tmp_path / "seven.png"
    pixels = np.zeros((8, 8), np.uint8)
    pixels[1, 1:7], pixels[2:7, 5] = 255, 255
    Image.fromarray(pixels).save(image)
    checkpoint = str(Path(one_epoch[3]["run_dir"]) / "checkpoints" / "best.pt")
    code, out, _ = run(capsys, "predict", checkpoint, str(image))
    lines = out.splitlines()
    assert code == 0 and len(lines) == 5
    assert all(line.split()[0] in "0123456789" and line.endswith("%") for line in lines)
    code, out, _err = run(capsys, "predict", checkpoint, str(image), "--json")
    probabilities = [p["probability"] for p in json.loads(out)["predictions"]]
    assert len(probabilities) == 5 and sum(probabilities) <= 1 + 1e-6


@pytest.mark.parametrize(("argv", "fragment"), [
    (["train", "lenet5", "--dataset", "imagenet"], "'imagenet' is neither a dataset name"),
    (["train", "alexnet", "--dataset", "digits"], "dataset has 1 channel, Input expects 3"),
    (["train", "lenet5", "--dataset", "shapes"], "dataset has 3 channels, Input expects 1"),
    (["train", "lenet5", "--lr", "-1"], "argument --lr: must be a number > 0, got -1"),
    (["train", "lenet5", "--lr", "abc"], "argument --lr: must be a number > 0, got abc"),
    (["train", "lenet5", "--lr", "nan"], "argument --lr: must be a number > 0, got nan"),
    (["train", "lenet5", "--epochs", "0"],
     "argument --epochs: must be a whole number from 1 to 1,000,000, got 0"),
    (["eval", "runs/x", "--batch-size", "0"], "argument --batch-size: must be a whole number from 1"),
    (["predict", "runs/x", "x.png", "--top", "0"], "argument --top: must be a whole number from 1"),
    (["train", "lenet5", "--device", "tpu"],
     "argument --device: must be auto, cpu, mps, cuda, cuda:N or cuda:all (every GPU, data parallel); got tpu"),
    (["train", "lenet5", "--dataset", '{"name": "digits", "samples": 5}'], "only 'shapes' takes"),
    (["train"], "give the network to train"),
    (["train", "--resume", "nowhere"], "no such run folder"),
    (["eval", "nowhere"], "nowhere: no such file"),
    (["predict", "nowhere.pt", "x.png"], "no such file"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, tmp_path, argv, fragment):
    code, out, err = run(capsys, *argv, *(["--out", str(tmp_path)] if argv[0] == "train" else []))
    assert_one_line_error(code, out, err, fragment)
    assert not (tmp_path / "runs").exists()


def test_a_loss_that_blows_up_exits_2_with_the_reason_last(capsys, tmp_path):
    graph = project.load(Path(__file__).parent.parent / "resources" / "templates" / "lenet5.json")
    graph.meta["training"] = {"loss": "mse", "lr": 1e12, "log_every": 1, "epochs": 1}
    project.save(graph, tmp_path / "nan.json")
    code, out, err = run(capsys, "train", str(tmp_path / "nan.json"))
    assert code == EXIT_BAD_INPUT and out == "" and "Traceback" not in err
    assert err.splitlines()[-1].startswith("designer: error: loss diverged: rose from")
    assert (tmp_path / "runs").is_dir()  # runs go beside the project file


def test_a_wrong_checkpoint_is_one_line(capsys, one_epoch, tmp_path):
    (tmp_path / "x.pt").write_bytes(b"not a checkpoint")
    assert_one_line_error(*run(capsys, "eval", str(tmp_path / "x.pt")), "not a Designer training checkpoint")
    image = Path(one_epoch[3]["run_dir"]) / "data.json"
    assert_one_line_error(*run(capsys, "predict", one_epoch[3]["run_dir"], str(image)), "not a readable image")


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX")
def test_ctrl_c_stops_after_the_batch_saves_and_exits_130(tmp_path):
    command = [sys.executable, "-m", "designer", "train", "lenet5", "--epochs", "500", "--json",
               "--out", str(tmp_path)]
    env = {**os.environ, "PYTHONUTF8": "1"}
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True) as child:
        assert child.stderr is not None
        for line in child.stderr:
            if line.startswith("epoch 1/500"):
                break
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=60)
    assert child.returncode == EXIT_STOPPED, err
    result = last_json(out)
    assert result["status"] == "stopped" and "Traceback" not in err
    assert (Path(result["run_dir"]) / "checkpoints" / "last.pt").is_file()


def test_the_dataset_option_keeps_the_projects_other_options(tmp_path):
    own = {"name": "cifar10", "path": "/data/c10", "validation": "given", "normalize": False,
           "augment": {"crop_padding": 4, "hflip": True}}
    config = dataset_config("digits", own)
    assert (config.name, config.path, config.normalize) == ("digits", None, False)
    assert config.augment.crop_padding == 4
    assert config.validation is None  # digits has no test split of its own
    mnist = tmp_path / "m"
    mnist.mkdir()
    config = dataset_config(f"fashion_mnist:{mnist}", {})
    assert (config.name, config.path) == ("fashion_mnist", str(mnist.resolve()))
    config = dataset_config(json.dumps({"name": "shapes", "samples": 50}), own)
    assert (config.name, config.samples, config.normalize) == ("shapes", 50, True)  # JSON replaces all
    with pytest.raises(CliError, match="neither a dataset name"):
        dataset_config("imagenet", {})
    with pytest.raises(DataConfigError, match="needs the path"):
        dataset_config("cifar10", {})


# -- files that cannot be read as they are -------------------------------------------------


def _run_copy(one_epoch, tmp_path) -> Path:
    return Path(shutil.copytree(one_epoch[3]["run_dir"], tmp_path / "runs" / "copy"))


def test_a_named_pipe_is_named_never_read(one_epoch, capsys, tmp_path):
    """Every file eval, predict and --resume read is checked first: opening a pipe would wait for ever."""
    run_dir = one_epoch[3]["run_dir"]
    with fifo(tmp_path / "image.png") as image:
        assert_one_line_error(*run(capsys, "predict", run_dir, str(image)),
                              f"{image}: is a named pipe (FIFO), not a file")
    with fifo(tmp_path / "net.pt") as checkpoint:
        assert_one_line_error(*run(capsys, "eval", str(checkpoint)), f"{checkpoint}: is a named pipe")
        assert_one_line_error(*run(capsys, "train", "--resume", str(checkpoint)),
                              f"--resume: {checkpoint}: is a named pipe")
    copy = _run_copy(one_epoch, tmp_path)
    image = tmp_path / "blank.png"
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(image)
    resume = ["train", "--resume", str(copy)]
    for name, argv in (("graph.json", resume), ("config.json", resume), ("data.json", ["eval", str(copy)]),
                       ("run.json", ["predict", str(copy), str(image)])):
        (copy / name).rename(copy / f"{name}.bak")
        with fifo(copy / name):
            assert_one_line_error(*run(capsys, *argv), f"{copy / name}: is a named pipe (FIFO), not a file")
        (copy / name).unlink()
        (copy / f"{name}.bak").rename(copy / name)


def test_predict_says_the_weights_are_not_finite_instead_of_nan_percent(one_epoch, capsys, tmp_path):
    import torch

    copy = _run_copy(one_epoch, tmp_path)
    best = copy / "checkpoints" / "best.pt"
    data = torch.load(best, weights_only=True)
    data["model"]["f6.weight"][3, 7] = float("nan")
    torch.save(data, best)
    image = tmp_path / "blank.png"
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(image)
    code, out, err = run(capsys, "predict", str(copy), str(image))
    assert_one_line_error(code, out, err, f"{best}: the weights are not finite (f6.weight holds NaN")
    assert "nan" not in out.lower()
    assert_one_line_error(*run(capsys, "eval", str(best)), "the weights are not finite")
    data["model"]["f6.weight"][3, 7] = 0.0
    data["model"]["output.weight"].fill_(3e38)  # finite, but their sums overflow
    torch.save(data, best)
    assert_one_line_error(*run(capsys, "predict", str(copy), str(image)),
                          f"model: the network's outputs for {image} are not finite (NaN or infinite)")


def test_an_unreadable_checkpoint_says_it_cannot_be_read(one_epoch):
    with shared_folder() as folder:
        checkpoint = folder / "best.pt"
        shutil.copyfile(Path(one_epoch[3]["run_dir"]) / "checkpoints" / "best.pt", checkpoint)
        checkpoint.chmod(0)  # unreadable to anyone but root
        code, out, err = run_unprivileged("eval", str(checkpoint), cwd=folder)
    assert_one_line_error(code, out, err, f"{checkpoint}: cannot be read: permission denied")


def test_resuming_a_read_only_run_names_the_run_folder_and_the_cause(one_epoch):
    with shared_folder() as folder:
        run_dir = Path(shutil.copytree(one_epoch[3]["run_dir"], folder / "runs" / "lenet5"))
        read_only_tree(folder / "runs")
        code, out, err = run_unprivileged("train", "--resume", "runs/lenet5", "--epochs", "2", cwd=folder)
    assert_one_line_error(code, out, err, f"cannot resume {run_dir}: the run folder cannot be written: "
                                          f"permission denied")


@pytest.mark.parametrize("template", ["se-resnet18-cifar", "vit_tiny-cifar"])
def test_the_cifar_sized_templates_train_from_the_cli_on_built_in_data(capsys, tmp_path, template):
    """Their own dataset is the built-in shapes; a short run here, the full one in README's figures."""
    code, out, err = run(capsys, "train", template, "--dataset", '{"name": "shapes", "samples": 256}',
                         "--epochs", "1", "--batch-size", "64", "--json", "--out", str(tmp_path))
    assert code == 0, err
    result = json.loads(out.splitlines()[-1])
    assert math.isfinite(result["train_loss"]) and result["epochs"] == 1
