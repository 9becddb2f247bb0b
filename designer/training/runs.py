"""Run folders: where each training run keeps its settings, graph, metrics and checkpoints.

A run lives in ``<root>/runs/<timestamp>-<name>/``; the folder's name is the run
id. Training never writes into the project file, only here::

    run.json          id, name, project, status, progress, best score (rewritten atomically)
    config.json       the TrainingConfig, every key
    graph.json        the graph as trained, in the project file format
    metrics.jsonl     one record per line, appended and flushed as they come
    log.txt           the same, for people: start, notes, epochs, the end
    label.txt         the name the user gave the run, when they did (written atomically; not in run.json,
                      which the trainer rewrites as it trains and would write over a rename made meanwhile)
    trainer.lock      locked (flock) by the process training the run, for as long as it trains
    checkpoints/      last.pt (every epoch, and on stop), best.pt (best validation score)
    tensorboard/      event files, when TensorBoard is installed

A process killed outright (kill -9, a power cut) cannot write its end into
run.json, which then says "running" for ever; the kernel drops its lock, though,
so a "running" run whose lock nobody holds is listed as interrupted. Every file
here is checked to be a regular file before it is read: a named pipe put in
place of one would block the reader.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from designer.graph.files import file_problem, write_atomic
from designer.training.errors import CheckpointError

try:
    import fcntl
except ImportError:  # Windows: no flock, so a run's own run.json is all there is to go by
    fcntl = None  # type: ignore[assignment]

RUNS = "runs"
RUN_FORMAT = "designer-run"
LOCK_FILE = "trainer.lock"
DEAD_RUN = "its process ended without saying how (killed, or the machine went down)"
_LOCK_TRIES = 40  # a lister holds the lock shared for a moment; the trainer waits that out
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
MAX_NAME = 48
MAX_LABEL = 80  # characters of a name the user gives a run


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

    @property
    def lock_path(self) -> Path:
        return self.path / LOCK_FILE

    @property
    def label_path(self) -> Path:
        return self.path / "label.txt"

    def label(self) -> str:
        """The name the user gave the run; "" when none (or when label.txt cannot be read)."""
        try:
            return self.read_bytes(self.label_path).decode("utf-8").strip()[:MAX_LABEL]
        except (CheckpointError, UnicodeDecodeError):
            return ""

    def set_label(self, label: str) -> str:
        """Name the run ``label`` (spaces and line breaks folded), or take its name away with "".

        Returns the name kept. A ValueError says a name is too long; an OSError that
        the folder cannot be written.
        """
        text = " ".join(label.split())
        if len(text) > MAX_LABEL:
            raise ValueError(f"a run's name is at most {MAX_LABEL} characters; this one has {len(text)}")
        if text:
            write_atomic(self.label_path, (text + "\n").encode("utf-8"))
        else:
            self.label_path.unlink(missing_ok=True)
        return text

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
        problem = file_problem(folder.info_path)
        if problem is not None and problem.startswith("no such file"):
            raise CheckpointError(f"{folder.path}: not a training run (it has no run.json)")
        if problem is not None:
            raise CheckpointError(f"{folder.info_path}: {problem}")
        return folder

    def write_json(self, path: Path, data: dict[str, Any]) -> None:
        write_atomic(path, (json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n")
                     .encode("utf-8"))

    def read_bytes(self, path: Path) -> bytes:
        """A file of the run; a CheckpointError names it when it is missing, special or unreadable."""
        return read_run_file(path)

    def read_json(self, path: Path) -> dict[str, Any]:
        try:
            data = json.loads(self.read_bytes(path).decode("utf-8"))
        except ValueError as exc:
            raise CheckpointError(f"{path}: cannot be read ({exc})") from None
        if not isinstance(data, dict):
            raise CheckpointError(f"{path}: expected a JSON object")
        return data

    def info(self) -> dict[str, Any]:
        return self.read_json(self.info_path)

    def update_info(self, **changes: Any) -> None:
        info = self.info() if self.info_path.exists() else {"format": RUN_FORMAT, "run_id": self.run_id}
        info.update(changes)
        self.write_json(self.info_path, info)

    def is_training(self) -> bool:
        """Whether a process (this one or another) trains the run now: it holds the run's lock.

        The lock is tried shared and let go at once; a run without a lock file was
        made before runs had one, and no process of ours can be training it.
        """
        if not can_tell_live_runs():
            return True  # believe run.json
        try:  # non-blocking, so a named pipe put there cannot hold us
            fd = os.open(self.lock_path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        except FileNotFoundError:
            return False
        except OSError:
            return True  # cannot tell
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:  # BlockingIOError: someone holds it
            return True
        finally:
            os.close(fd)
        return False

    def status(self, info: dict[str, Any]) -> str:
        """The run's status: what ``info`` (its run.json) says, but "interrupted" for a dead "running" one."""
        status = str(info.get("status", ""))
        if status != "running" or self.is_training():
            return status
        # The trainer writes its end into run.json before letting go of the lock: what does it say now?
        now = str(self.info().get("status", ""))
        return "interrupted" if now == "running" else now


class RunLock:
    """The lock a trainer holds on its run folder while it trains; the kernel drops it if the process dies."""

    def __init__(self, fd: int | None) -> None:
        self._fd = fd

    @classmethod
    def take(cls, folder: RunFolder) -> RunLock:
        """Lock ``folder`` for this process; CheckpointError if another trainer holds it.

        This is the first write into a resumed run, so a read-only run folder
        fails here, with the OSError.
        """
        if fcntl is None:
            return cls(None)
        fd = os.open(folder.lock_path, os.O_RDWR | os.O_CREAT | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0),
                     0o666)
        try:
            for _ in range(_LOCK_TRIES):
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    time.sleep(0.025)
            else:
                raise still_training(folder)
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())  # for people: which process trains it
        except BaseException:
            os.close(fd)
            raise
        return cls(fd)

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the file lets go of the lock
            self._fd = None


def still_training(folder: RunFolder) -> CheckpointError:
    return CheckpointError(f"{folder.path}: the run is still training (in another window or process); "
                           f"stop it there first")


def can_tell_live_runs() -> bool:
    """Whether this system has the lock that shows a run alive (not Windows)."""
    return fcntl is not None


def read_run_file(path: Path) -> bytes:
    """The bytes of a run's file, or a CheckpointError saying why it cannot be read (never blocks on a pipe)."""
    problem = file_problem(path)
    if problem is not None:
        raise CheckpointError(f"{path}: {problem}")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot be read ({os_reason(exc)})") from None


def os_reason(exc: OSError) -> str:
    """The system's reason in a message's words: "permission denied", "read-only file system"."""
    reason = exc.strerror or str(exc)
    return reason[:1].lower() + reason[1:]


def create_run(root: str | Path, name: str, project: str, config: dict[str, Any], graph_text: str,
               steps_per_epoch: int) -> tuple[RunFolder, RunLock]:
    """A new run folder with its config.json, graph.json and run.json written, locked for the caller.

    The lock comes before run.json says "running", so no lister sees a running run without it.
    """
    folder = RunFolder.create(root, name)
    lock = RunLock.take(folder)
    try:
        folder.write_json(folder.config_path, config)
        write_atomic(folder.graph_path, graph_text.encode("utf-8"))
        folder.update_info(name=name, project=project, created=time.strftime("%Y-%m-%dT%H:%M:%S"),
                           status="running", epochs=config["epochs"], epochs_done=0, step=0,
                           steps_per_epoch=steps_per_epoch, best_score=None)
    except BaseException:
        lock.release()
        raise
    return folder, lock


@dataclass(frozen=True)
class RunInfo:
    """A run as the editor lists it."""

    run_id: str
    path: Path
    name: str
    project: str
    created: str
    status: str  # running, stopped, finished, failed, diverged (see training.divergence), interrupted
    epochs: int
    epochs_done: int
    best_score: float | None
    message: str = ""  # how it ended, when it did not finish
    label: str = ""  # the name the user gave it, if any


def list_runs(root: str | Path, project: str | None = None) -> list[RunInfo]:
    """The runs under ``root/runs``, newest first; only ``project``'s when it is given.

    A folder with an unreadable ``run.json`` is left out rather than failing the list.
    A run whose process died without a word is listed as interrupted.
    """
    runs = Path(root) / RUNS
    if not runs.is_dir():
        return []
    found = []
    for path in runs.iterdir():
        try:
            entry = _run_info(RunFolder.open(path))
        except (CheckpointError, OSError, TypeError, ValueError):
            continue
        if project is None or entry.project == project:
            found.append(entry)
    return sorted(found, key=lambda run: (run.created, run.run_id), reverse=True)


def _run_info(folder: RunFolder) -> RunInfo:
    info = folder.info()
    status, message = folder.status(info), str(info.get("message", ""))
    if status == "interrupted" and info.get("status") == "running":
        message = DEAD_RUN if folder.last_checkpoint.exists() else DEAD_RUN + " before its first checkpoint"
    return RunInfo(folder.run_id, folder.path, str(info.get("name", "")), str(info.get("project", "")),
                   str(info.get("created", "")), status, int(info.get("epochs", 0)),
                   int(info.get("epochs_done", 0)), info.get("best_score"), message, folder.label())
