"""Data-parallel training through the command line: 2 gloo processes on the CPU against one process.

Every run here is a real ``designer train`` in a subprocess; the launched job is
torch's elastic agent with two worker processes, as a user's would be.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

import designer
from designer.graph import project
from tests.test_cli import assert_one_line_error, run

TRAIN, VAL, BATCH = 1280, 256, 64  # 20 steps of 64 per epoch, or 2 × 32
ENV = {**os.environ, "PYTHONUTF8": "1", "OMP_NUM_THREADS": "1"}


def patterns_npz(path: Path, seed: int = 0) -> Path:
    """Ten classes, each a fixed random 32×32 pattern plus noise; a given validation split."""
    rng = np.random.default_rng(seed)
    patterns = rng.integers(0, 256, (10, 1, 32, 32))

    def draw(count: int) -> tuple[np.ndarray, np.ndarray]:
        labels = rng.integers(0, 10, count)
        noise = rng.normal(0, 40, (count, 1, 32, 32))
        return np.clip(patterns[labels] + noise, 0, 255).astype(np.uint8), labels.astype(np.int64)

    x, y = draw(TRAIN)
    x_val, y_val = draw(VAL)
    np.savez(path, x=x, y=y, x_val=x_val, y_val=y_val)
    return path


@pytest.fixture(scope="module")
def lenet(tmp_path_factory) -> Path:
    """LeNet-5 (no BatchNorm, no dropout) set to train on the patterns, without statistics samples."""
    folder = tmp_path_factory.mktemp("lenet")
    graph = designer.load("lenet5")
    graph.meta["dataset"] = {"name": "npz", "path": str(patterns_npz(folder / "patterns.npz")),
                             "validation": "given"}
    graph.meta["training"] = {"lr": 0.05, "batch_size": BATCH, "epochs": 1, "stats_every": 0,
                              "device": "cpu"}
    path = folder / "lenet.json"
    project.save(graph, path)
    return path


def train(*argv: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "designer", "train", *argv, "--json"], capture_output=True,
                          text=True, env=ENV, timeout=timeout, check=False)


def summary(result: subprocess.CompletedProcess[str]) -> dict:
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout  # one JSON line, from rank 0 alone
    return json.loads(lines[0])


def weights(run_dir: str) -> dict[str, torch.Tensor]:
    return torch.load(Path(run_dir) / "checkpoints" / "last.pt", weights_only=True)["model"]


def epochs(run_dir: str) -> list[dict]:
    lines = (Path(run_dir) / "metrics.jsonl").read_text().splitlines()
    return [r for r in map(json.loads, lines) if r.get("kind") == "epoch"]


@pytest.fixture(scope="module")
def single(lenet, tmp_path_factory) -> dict:
    return summary(train(str(lenet), "--out", str(tmp_path_factory.mktemp("single"))))


@pytest.fixture(scope="module")
def double(lenet, tmp_path_factory) -> tuple[dict, subprocess.CompletedProcess[str], Path]:
    out = tmp_path_factory.mktemp("double")
    result = train(str(lenet), "--out", str(out), "--nproc-per-node", "2")
    return summary(result), result, out


def assert_same_weights(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=1e-5, msg=key)


@pytest.mark.slow
def test_two_ranks_of_32_train_the_weights_one_process_of_64_does(single, double):
    two, _, _ = double
    assert single["steps"] == two["steps"] == TRAIN // BATCH
    assert_same_weights(weights(single["run_dir"]), weights(two["run_dir"]))


@pytest.mark.slow
def test_the_job_reports_the_metrics_of_the_single_run(single, double):
    two, _, _ = double
    for key in ("train_loss", "train_accuracy", "val_loss", "val_accuracy", "val_top5"):
        assert two[key] == pytest.approx(single[key], abs=1e-5), key
    one_epoch, two_epoch = epochs(single["run_dir"])[0], epochs(two["run_dir"])[0]
    for key in ("train_loss", "train_accuracy", "val_loss", "val_top1"):
        assert two_epoch[key] == pytest.approx(one_epoch[key], abs=1e-5), key


@pytest.mark.slow
def test_rank_0_alone_writes_one_run_folder_and_one_progress(double):
    two, result, out = double
    runs = list((out / "runs").iterdir())
    assert [str(r) for r in runs] == [two["run_dir"]]
    names = sorted(p.name for p in runs[0].iterdir())
    assert "data.json" in names and "metrics.jsonl" in names and "checkpoints" in names
    started = [r for r in map(json.loads, (runs[0] / "metrics.jsonl").read_text().splitlines())
               if r.get("kind") == "start"]
    assert len(started) == 1
    assert "Traceback" not in result.stderr
    assert "OMP_NUM_THREADS" not in result.stderr  # the launcher's warnings stay out of the user's way


@pytest.mark.slow
def test_a_run_resumes_with_another_number_of_processes(single, double, tmp_path):
    """Epoch 2 of the two-process run in one process, and of the one-process run in two, end alike."""
    two, _, _ = double
    copy, copy_of_two = tmp_path / "run", tmp_path / "run2"  # the fixtures' runs stay as they ended
    shutil.copytree(single["run_dir"], copy)
    shutil.copytree(two["run_dir"], copy_of_two)
    in_one = summary(train("--resume", str(copy_of_two), "--epochs", "2"))
    in_two = summary(train("--resume", str(copy), "--epochs", "2", "--nproc-per-node", "2"))
    assert in_one["steps"] == in_two["steps"] == 2 * TRAIN // BATCH
    assert [e["epoch"] for e in epochs(str(copy))] == [1, 2]
    assert_same_weights(weights(in_one["run_dir"]), weights(in_two["run_dir"]))
    assert in_two["val_loss"] == pytest.approx(in_one["val_loss"], abs=1e-5)


@pytest.mark.slow
def test_a_failing_rank_stops_the_job_with_its_message(lenet, tmp_path):
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    graph = project.load(lenet)
    graph.meta["dataset"]["path"] = str(broken)
    path = tmp_path / "broken.json"
    project.save(graph, path)
    result = train(str(path), "--out", str(tmp_path), "--nproc-per-node", "2")
    assert_one_line_error(result.returncode, result.stdout, result.stderr, "broken.npz")
    assert result.stderr.startswith("designer: error: rank ")
    assert not (tmp_path / "runs").exists()


@pytest.mark.slow
def test_a_killed_rank_ends_the_job_at_once_instead_of_hanging(lenet, tmp_path):
    process = subprocess.Popen([sys.executable, "-m", "designer", "train", str(lenet), "--out", str(tmp_path),
                                "--nproc-per-node", "2", "--epochs", "50"], env=ENV, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    rank1 = wait_for_worker(process.pid, rank=1)
    time.sleep(1.0)  # into the training loop
    os.kill(rank1, signal.SIGKILL)
    started = time.monotonic()
    out, err = process.communicate(timeout=120)
    assert time.monotonic() - started < 60
    assert_one_line_error(process.returncode, out, err, "rank 1 was killed by signal 9")


def wait_for_worker(launcher: int, rank: int, timeout: float = 60) -> int:
    """The pid of the launched worker of ``rank``, read from the processes' environments."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                status = (entry / "status").read_text()
                environ = (entry / "environ").read_bytes().split(b"\0")
            except OSError:
                continue
            parent = int(next(line.split()[1] for line in status.splitlines() if line.startswith("PPid:")))
            if f"RANK={rank}".encode() in environ and _descends(parent, launcher):
                return int(entry.name)
        time.sleep(0.2)
    raise AssertionError(f"no worker of rank {rank} started")


def _descends(pid: int, ancestor: int) -> bool:
    while pid > 1:
        if pid == ancestor:
            return True
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return False
        pid = int(next(line.split()[1] for line in status.splitlines() if line.startswith("PPid:")))
    return False


@pytest.mark.slow
def test_two_machines_meet_at_the_rendezvous_endpoint(lenet, single, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    common = ["--nnodes", "2", "--nproc-per-node", "1", "--rdzv-endpoint", f"127.0.0.1:{port}"]
    nodes = [subprocess.Popen([sys.executable, "-m", "designer", "train", str(lenet), "--json",
                               "--out", str(tmp_path / f"node{r}"), "--node-rank", str(r), *common],
                              env=ENV, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for r in (0, 1)]
    results = [node.communicate(timeout=240) for node in nodes]
    assert [n.returncode for n in nodes] == [0, 0], results
    assert results[1][0] == ""  # node 1's rank writes nothing, says nothing
    assert not (tmp_path / "node1").exists()
    job = json.loads(results[0][0])
    assert_same_weights(weights(job["run_dir"]), weights(single["run_dir"]))


@pytest.mark.parametrize(("argv", "fragment"), [
    (["--nproc-per-node", "3", "--batch-size", "64"], "batch size 64 cannot be shared evenly by 3"),
    (["--nnodes", "2", "--node-rank", "2"], "--node-rank 2 must be below --nnodes 2"),
    (["--nnodes", "2"], "--rdzv-endpoint"),
    (["--nnodes", "2", "--rdzv-endpoint", "nohost"], "not HOST:PORT"),
])
def test_launch_options_are_checked_before_any_process_starts(capsys, lenet, tmp_path, argv, fragment):
    code, out, err = run(capsys, "train", str(lenet), "--out", str(tmp_path), *argv)
    assert_one_line_error(code, out, err, fragment)
    assert not (tmp_path / "runs").exists()


@pytest.mark.slow
def test_the_exported_script_under_torchrun_trains_as_designer_train_does(lenet, double, tmp_path):
    """Item 5's promise: one implementation, so two processes of train.py end where the engine's two do."""
    from designer.train_script import export_train_script

    two, _, _ = double
    export_train_script(project.load(lenet), tmp_path / "script")
    result = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node",
                             "2", "train.py", "--out", "ck"], cwd=tmp_path / "script", capture_output=True,
                            text=True, env=ENV, timeout=240, check=False)
    assert result.returncode == 0, result.stderr
    final = next(line for line in result.stdout.splitlines() if line.startswith("final validation"))
    _, _, loss, _, accuracy = final.split()[1:6]
    assert float(loss) == pytest.approx(two["val_loss"], abs=1e-4)
    assert float(accuracy) == pytest.approx(two["val_accuracy"], abs=1e-4)
    script = torch.load(tmp_path / "script" / "ck" / "last.pt", weights_only=True)["model"]
    assert_same_weights(script, weights(two["run_dir"]))


@pytest.mark.slow
def test_ctrl_c_stops_every_rank_at_one_step_and_rank_0_saves(lenet, tmp_path):
    process = subprocess.Popen([sys.executable, "-m", "designer", "train", str(lenet), "--out", str(tmp_path),
                                "--nproc-per-node", "2", "--epochs", "50"], env=ENV, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob("runs/*/checkpoints/last.pt")) and time.monotonic() < deadline:
        time.sleep(0.2)  # an epoch done: well inside the training loop
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert "Traceback" not in err
    (run_dir,) = tmp_path.glob("runs/*")
    info = json.loads((run_dir / "run.json").read_text())
    assert info["status"] == "stopped"
    checkpoint = torch.load(run_dir / "checkpoints" / "last.pt", weights_only=False)
    assert checkpoint["step"] == info["step"] > TRAIN // BATCH
    assert "stopped" in out


@pytest.mark.slow
def test_a_job_started_for_the_app_fails_with_its_rank_s_one_line(lenet, tmp_path):
    from designer.data import DatasetConfig
    from designer.training.config import TrainingConfig
    from designer.training.distributed import Launch
    from designer.training.errors import TrainingError
    from designer.training.launched import LaunchedJob

    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    dataset = DatasetConfig.from_json({"name": "npz", "path": str(broken)})
    job = LaunchedJob(project.load(lenet), dataset, TrainingConfig(device="cpu"), Launch(2), root=tmp_path)
    with pytest.raises(TrainingError, match=r"^rank \d: .*broken\.npz"):
        list(job.records())
    assert not (tmp_path / "runs").exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="SyncBatchNorm runs on CUDA: nothing to refuse there")
def test_sync_batchnorm_on_the_cpu_is_refused_before_any_process_starts(capsys, lenet, tmp_path):
    code, out, err = run(capsys, "train", str(lenet), "--out", str(tmp_path), "--nproc-per-node", "2",
                         "--sync-batchnorm")
    assert_one_line_error(code, out, err, "--sync-batchnorm needs CUDA GPUs")
    assert not (tmp_path / "runs").exists()
