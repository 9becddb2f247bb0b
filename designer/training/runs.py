"""Run folders: where each training run keeps its settings, graph, metrics and checkpoints.

A run lives in ``<root>/runs/<timestamp>-<name>/``; the folder's name is the run
id. Training never writes into the project file, only here::

    run.json          id, name, project, status, progress, best score (rewritten atomically)
    config.json       the TrainingConfig, every key
    graph.json        the graph as trained, in the project file format
    metrics.jsonl     one record per line, appended and flushed as they come
    log.txt           the same, for people: start, notes, epochs, the end
    checkpoints/      last.pt (every epoch, and on stop), best.pt (best validation score)
    tensorboard/      event files, when TensorBoard is installed
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from designer.graph.files import write_atomic
from designer.training.errors import CheckpointError

RUNS = "runs"
RUN_FORMAT = "designer-run"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
MAX_NAME = 48


def slug(name: str) -> str:
    """A folder-safe form of a run name: letters, digits, ``_ . -``; "run" if nothing is left."""
    return _UNSAFE.sub("-", name).strip("-.")[:MAX_NAME] or "run"


@dataclass(frozen=True)
class RunFolder:
    """The paths of one run; ``create`` makes a new one, ``open`` an existing one."""

    path: Path

    @property
    def run_id(self) -> str:
        return self.path.name

    @property
    def info_path(self) -> Path:
        return self.path / "run.json"

    @property
    def config_path(self) -> Path:
        return self.path / "config.json"

    @property
    def graph_path(self) -> Path:
        return self.path / "graph.json"

    @property
    def metrics_path(self) -> Path:
        return self.path / "metrics.jsonl"

    @property
    def log_path(self) -> Path:
        return self.path / "log.txt"

    @property
    def last_checkpoint(self) -> Path:
        return self.path / "checkpoints" / "last.pt"

    @property
    def best_checkpoint(self) -> Path:
        return self.path / "checkpoints" / "best.pt"

    @property
    def tensorboard_dir(self) -> Path:
        return self.path / "tensorboard"

    @classmethod
    def create(cls, root: str | Path, name: str) -> RunFolder:
        """A new, empty run folder under ``root/runs``, named by the time and ``name``."""
        runs = Path(root) / RUNS
        runs.mkdir(parents=True, exist_ok=True)
        stem = f"{time.strftime('%Y%m%d-%H%M%S')}-{slug(name)}"
        for n in range(1, 1000):  # two runs started in the same second get -2, -3, ...
            path = runs / (stem if n == 1 else f"{stem}-{n}")
            try:
                path.mkdir()
            except FileExistsError:
                continue
            (path / "checkpoints").mkdir()
            return cls(path)
        raise FileExistsError(f"{runs}: cannot find a free folder name for run {stem}")

    @classmethod
    def open(cls, path: str | Path) -> RunFolder:
        folder = cls(Path(path))
        if not folder.info_path.is_file():
            raise CheckpointError(f"{folder.path}: not a training run (it has no run.json)")
        return folder

    def write_json(self, path: Path, data: dict[str, Any]) -> None:
        write_atomic(path, (json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n")
                     .encode("utf-8"))

    def read_json(self, path: Path) -> dict[str, Any]:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CheckpointError(f"{path}: cannot be read ({exc})") from None
        if not isinstance(data, dict):
            raise CheckpointError(f"{path}: expected a JSON object")
        return data

    def info(self) -> dict[str, Any]:
        return self.read_json(self.info_path)

    def update_info(self, **changes: Any) -> None:
        info = self.info() if self.info_path.is_file() else {"format": RUN_FORMAT, "run_id": self.run_id}
        info.update(changes)
        self.write_json(self.info_path, info)


def create_run(root: str | Path, name: str, project: str, config: dict[str, Any], graph_text: str,
               steps_per_epoch: int) -> RunFolder:
    """A new run folder with its config.json, graph.json and run.json written."""
    folder = RunFolder.create(root, name)
    folder.write_json(folder.config_path, config)
    write_atomic(folder.graph_path, graph_text.encode("utf-8"))
    folder.update_info(name=name, project=project, created=time.strftime("%Y-%m-%dT%H:%M:%S"),
                       status="running", epochs=config["epochs"], epochs_done=0, step=0,
                       steps_per_epoch=steps_per_epoch, best_score=None)
    return folder


@dataclass(frozen=True)
class RunInfo:
    """A run as the editor lists it."""

    run_id: str
    path: Path
    name: str
    project: str
    created: str
    status: str  # running, stopped, finished, failed, interrupted
    epochs: int
    epochs_done: int
    best_score: float | None


def list_runs(root: str | Path, project: str | None = None) -> list[RunInfo]:
    """The runs under ``root/runs``, newest first; only ``project``'s when it is given.

    A folder with an unreadable ``run.json`` is left out rather than failing the list.
    """
    runs = Path(root) / RUNS
    if not runs.is_dir():
        return []
    found = []
    for path in runs.iterdir():
        try:
            info = RunFolder.open(path).info()
            entry = RunInfo(path.name, path, str(info.get("name", "")), str(info.get("project", "")),
                            str(info.get("created", "")), str(info.get("status", "")),
                            int(info.get("epochs", 0)), int(info.get("epochs_done", 0)),
                            info.get("best_score"))
        except (CheckpointError, OSError, TypeError, ValueError):
            continue
        if project is None or entry.project == project:
            found.append(entry)
    return sorted(found, key=lambda run: (run.created, run.run_id), reverse=True)
