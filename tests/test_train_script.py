"""The training-script export: model.py, train.py and the shared modules, run as one process and under torchrun.

The runs are real subprocesses on the built-in digits (1,618 training images,
upscaled to LeNet-5's 1×32×32), one epoch of 26 steps at most, so that the loss
visibly falls within a few seconds; torchrun runs two CPU processes over gloo.
One run has no Designer to import at all, as on a machine with torch alone.
"""

from __future__ import annotations

import importlib.util
import os
import re
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

import designer
from designer import export
from designer.export import ExportError
from designer.graph import Graph
from designer.train_script import SHARED_MODULES, export_train_script
from designer.training.config import TrainingConfig
from tests.test_cli import assert_one_line_error, run

ROOT = Path(__file__).resolve().parent.parent
RUFF = Path(sys.executable).with_name("ruff")
TRAINING = {"lr": 0.05, "epochs": 1, "batch_size": 64, "log_every": 5, "warmup_steps": 3,
            "schedule": "cosine"}
DATASET = {"name": "digits", "augment": {"crop_padding": 2, "hflip": False}}
HOSTILE_PATH = 'data/"quoted" it\'s\\back\nline """ \'\'\' @INITIAL_WEIGHTS@ @CLASS@.npz'


def lenet(training: dict | None = None, dataset: dict | None = None) -> Graph:
    graph = designer.load("lenet5")
    graph.set_meta("training", {**TRAINING, **(training or {})})
    graph.set_meta("dataset", dataset or DATASET)
    return graph


def import_script(path: Path):
    """Import an exported file as its folder's own module, importing its neighbours from the folder."""
    spec = importlib.util.spec_from_file_location(f"exported_{path.stem}_{abs(hash(path))}", path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(path.parent))
        for name in ("portable", "portable_data", "model"):  # the next folder brings its own
            sys.modules.pop(name, None)
    return module


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_script(folder: Path, *args: str, processes: int = 1) -> str:
    """Run train.py as a user would, with ``designer`` importable; its stdout."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
           "OMP_NUM_THREADS": "1", "PYTHONUTF8": "1"}
    launcher = [sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={processes}",
                f"--master_port={free_port()}"] if processes > 1 else [sys.executable]
    result = subprocess.run([*launcher, "train.py", *args], cwd=folder, env=env, capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def losses(out: str) -> list[float]:
    return [float(v) for v in re.findall(r"^epoch \d+ step \d+ loss ([\d.]+)", out, re.MULTILINE)]


def assert_loss_falls(out: str) -> None:
    values = losses(out)
    assert len(values) >= 3, out
    assert values[-1] < values[0] - 0.3, out  # from about 2.3 (ten classes at chance)


def load_into_model(folder: Path, checkpoint: Path) -> dict:
    state = torch.load(checkpoint, map_location="cpu", weights_only=True)
    model_class = import_script(folder / "model.py").Lenet5
    model_class().load_state_dict(state["model"], strict=True)
    return state


# -- the files ---------------------------------------------------------------------------


@pytest.mark.parametrize("graph", [
    pytest.param(designer.load("lenet5"), id="defaults"),
    pytest.param(lenet({"optimizer": "adamw", "schedule": "plateau", "precision": "bf16", "min_lr": 1e-7,
                        "device": "cuda:1", "channels_last": True, "clip_grad_norm": 1.5},
                       {"name": "npz", "path": HOSTILE_PATH, "validation": "given",
                        "augment": {"crop_padding": 64, "hflip": True}}), id="hostile"),
])
def test_exported_files_pass_ruff_and_are_already_formatted(graph, tmp_path):
    export_train_script(graph, tmp_path / "out")
    for args in (["check", "--isolated"], ["format", "--isolated", "--check"]):
        result = subprocess.run([str(RUFF), *args, "."], cwd=tmp_path / "out",
                                capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_exported_files_pass_mypy(tmp_path):
    # The shared modules are checked strictly as part of Designer; here the script and model as a user has them.
    export_train_script(designer.load("lenet5"), tmp_path / "out")
    mypy = [sys.executable, "-m", "mypy", "--ignore-missing-imports", f"--cache-dir={tmp_path / 'cache'}"]
    result = subprocess.run([*mypy, "train.py", "model.py"], cwd=tmp_path / "out", capture_output=True,
                            text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_config_holds_the_projects_settings_and_paths_stay_strings(tmp_path):
    graph = lenet({"optimizer": "rmsprop", "betas": [0.8, 0.9]}, {"name": "npz", "path": HOSTILE_PATH})
    export_train_script(graph, tmp_path, base_dir=tmp_path / "project")
    script = import_script(tmp_path / "train.py")
    assert script.CONFIG["training"] == TrainingConfig.from_json(graph.meta["training"]).to_json(full=True)
    assert script.CONFIG["dataset"]["path"] == str(tmp_path / "project" / HOSTILE_PATH)
    assert script.CONFIG["dataset"]["augment"] == {"crop_padding": 0, "hflip": False}
    assert (script.INPUT_SHAPE, script.OUTPUT_SHAPE, script.INITIAL_WEIGHTS) == ((1, 32, 32), (10,), None)
    assert "from model import Lenet5" in (tmp_path / "train.py").read_text()


def test_the_shared_modules_are_copied_byte_for_byte(tmp_path):
    written = export_train_script(lenet(), tmp_path)
    names = ["model.py", "train.py", "portable.py", "portable_data.py", "digits.npz"]
    assert [p.name for p in written] == names
    for module in SHARED_MODULES:
        assert (tmp_path / module.name).read_bytes() == module.read_bytes()
    shipped = ROOT / "resources" / "datasets" / "digits.npz"
    assert (tmp_path / "digits.npz").read_bytes() == shipped.read_bytes()
    text = (tmp_path / "train.py").read_text()
    assert "from portable import" in text and "designer" not in text.replace("Designer", "")


def test_only_digits_take_the_digits_file(tmp_path):
    written = export_train_script(lenet(dataset={"name": "shapes", "samples": 100}), tmp_path)
    assert [p.name for p in written] == ["model.py", "train.py", "portable.py", "portable_data.py"]


def test_a_graph_with_two_outputs_is_refused(tmp_path):
    graph = Graph()
    graph.add_node("Input", "x", {"shape": [4]})
    for name in ("a", "b"):
        graph.add_node("Linear", name, {"out_features": 2})
        graph.connect("x", name)
    with pytest.raises(ExportError, match="one Input and one output; this one has 1 and 2"):
        export_train_script(graph, tmp_path / "out")
    assert not (tmp_path / "out").exists()


# -- runs --------------------------------------------------------------------------------


def test_one_process_trains_from_the_given_weights_and_the_loss_falls(capsys, tmp_path):
    export.export_weights(designer.load("lenet5"), tmp_path / "start.safetensors", seed=5)
    project = tmp_path / "lenet.json"
    designer.graph.project.save(lenet(), project)
    code, _, _ = run(capsys, "export", str(project), "-f", "train-script", "-o", str(tmp_path / "out"),
                     "--weights", str(tmp_path / "start.safetensors"))
    assert code == 0
    assert import_script(tmp_path / "out" / "train.py").INITIAL_WEIGHTS == "initial_weights.pt"
    out = run_script(tmp_path / "out", "--max-steps", "20", "--out", "ck")
    assert_loss_falls(out)
    assert "final validation loss" in out and out.rstrip().endswith("rank 0/1 done")
    state = load_into_model(tmp_path / "out", tmp_path / "out" / "ck" / "last.pt")
    assert (state["epoch"], state["step"]) == (1, 20)


def test_torchrun_trains_on_two_processes_and_a_run_resumes(tmp_path):
    export_train_script(lenet(), tmp_path)
    out = run_script(tmp_path, "--out", "ck", processes=2)
    # 809 samples a process: 25 batches of 32 and one of 9, as Designer's engine cuts them.
    assert "26 steps per epoch of 32 samples in each of 2 process(es) on cpu" in out
    assert "rank 0/2 done" in out and "rank 1/2 done" in out
    assert len(re.findall(r"^epoch 1 step 5 ", out, re.MULTILINE)) == 1  # only rank 0 logs
    assert_loss_falls(out)
    checkpoint = tmp_path / "ck" / "last.pt"
    state = load_into_model(tmp_path, checkpoint)
    assert (state["epoch"], state["step"]) == (1, 26)
    export.check_weights_fit(designer.load("lenet5").to_torch().state_dict(), export.load_weights(checkpoint))

    # Any number of processes goes on from a checkpoint; the epochs and steps count on.
    out = run_script(tmp_path, "--resume", str(checkpoint), "--epochs", "2", "--out", "ck")
    assert re.search(r"^epoch 2 step 30 ", out, re.MULTILINE) and "epoch 1" not in out
    assert re.search(r"^epoch 2/2 ", out, re.MULTILINE)
    assert (load_into_model(tmp_path, checkpoint)["epoch"], torch.load(checkpoint)["step"]) == (2, 52)


# Runs an exported train.py where Designer cannot be imported: its source folder leaves sys.path,
# and -I drops PYTHONPATH and the user's site; only what torch and numpy need remains.
WITHOUT_DESIGNER = textwrap.dedent("""
    import importlib.util, os, runpy, sys
    root = os.path.realpath(sys.argv[1])
    sys.path[:] = [p for p in sys.path if os.path.realpath(p or ".") != root]
    if importlib.util.find_spec("designer.training") or importlib.util.find_spec("designer.data"):
        raise SystemExit("designer is importable")
    sys.path.insert(0, os.getcwd())
    sys.argv = ["train.py", *sys.argv[2:]]
    runpy.run_path("train.py", run_name="__main__")
""")


def run_without_designer(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-I", "-c", WITHOUT_DESIGNER, str(ROOT), *args], cwd=folder,
                          env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True,
                          timeout=120, check=False)


def tiny_npz(path: Path) -> None:
    generator = np.random.default_rng(0)
    np.savez(path, x=generator.integers(0, 256, (80, 28, 28), dtype=np.uint8), y=np.arange(80) % 10)


def test_the_script_trains_with_torch_alone_on_an_npz(tmp_path):
    tiny_npz(tmp_path / "tiny.npz")
    graph = lenet({"batch_size": 16, "log_every": 1},
                  {"name": "npz", "path": "tiny.npz", "augment": {"crop_padding": 2, "hflip": True}})
    export_train_script(graph, tmp_path / "out", base_dir=tmp_path)
    result = run_without_designer(tmp_path / "out", "--max-steps", "3", "--out", "ck")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "70 training and 10 validation samples; 5 steps per epoch of 16 samples" in result.stdout
    assert re.search(r"^epoch 1 step 3 loss [\d.]+ ", result.stdout, re.MULTILINE)
    assert result.stdout.rstrip().endswith("rank 0/1 done")
    assert load_into_model(tmp_path / "out", tmp_path / "out" / "ck" / "last.pt")["step"] == 3


def test_the_script_without_designer_names_a_missing_dataset_in_one_line(tmp_path):
    graph = lenet(dataset={"name": "npz", "path": str(tmp_path / "gone.npz")})
    export_train_script(graph, tmp_path / "out")
    result = run_without_designer(tmp_path / "out")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"train.py: {tmp_path / 'gone.npz'}: no such file\n"


# -- command line ------------------------------------------------------------------------


def test_cli_writes_model_and_script_into_a_new_folder(capsys, tmp_path):
    target = tmp_path / "new" / "run"
    code, out, err = run(capsys, "export", "lenet5", "-f", "train-script", "-o", str(target))
    assert (code, out) == (0, "")
    names = ["model.py", "train.py", "portable.py", "portable_data.py", "digits.npz"]
    assert err == f"wrote {', '.join(str(target / name) for name in names)}\n"
    assert sorted(p.name for p in target.iterdir()) == sorted(names)


def test_cli_refuses_a_file_for_the_folder(capsys, tmp_path):
    (tmp_path / "taken").write_text("x")
    code, out, err = run(capsys, "export", "lenet5", "-f", "train-script", "-o", str(tmp_path / "taken"))
    assert_one_line_error(code, out, err, "taken: is a file; a training script is a folder")
    assert (tmp_path / "taken").read_text() == "x"


def test_cli_names_a_bad_training_setting(capsys, tmp_path):
    project = tmp_path / "bad.json"
    designer.graph.project.save(lenet({"lr": -1}), project)
    code, out, err = run(capsys, "export", str(project), "-f", "train-script", "-o", str(tmp_path / "out"))
    assert_one_line_error(code, out, err, "training.lr: must be a number > 0, got -1")
    assert not (tmp_path / "out").exists()
