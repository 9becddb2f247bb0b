"""A data-parallel job started from the app: ``designer train`` in a subprocess, seen as one run.

The app trains a single process on a worker thread; a job of several processes
cannot run there, so :class:`LaunchedJob` starts the command line's launcher
(``designer train … --nproc-per-node N --records``) and turns rank 0's records,
one JSON line each on its stdout, back into :class:`Record` objects. To the
app's worker it looks like a :class:`~designer.training.jobs.TrainingJob`:
``records()``, ``result()`` and a ``control`` whose stop request becomes the
Ctrl-C the launcher passes on to every rank.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from designer.data import DatasetConfig
from designer.graph.graph import Graph
from designer.graph.project import save
from designer.training.config import TrainingConfig
from designer.training.control import Control
from designer.training.distributed import Launch
from designer.training.errors import TrainingError
from designer.training.records import Record, RunEnded, record_from_json
from designer.training.run_data import absolute_dataset

STOP_POLL_S = 0.1


@dataclass(frozen=True)
class LaunchedResult:
    """How the job ended, as much of a RunResult as the app reads."""

    status: str
    run_dir: Path | None


class LaunchedJob:
    """``graph`` trained on ``dataset`` with ``config`` by ``launch``'s processes, under ``root/runs``."""

    def __init__(self, graph: Graph, dataset: DatasetConfig, config: TrainingConfig, launch: Launch, *,
                 root: str | Path, base_dir: Path | None = None, control: Control | None = None) -> None:
        self.graph = graph.copy()
        self.graph.meta["dataset"] = absolute_dataset(dataset, base_dir).to_json()
        self.graph.meta["training"] = config.to_json()
        self.launch, self.root = launch, Path(root)
        self.control = control or Control()
        self._ended: RunEnded | None = None
        self._run_dir: Path | None = None

    def records(self) -> Iterator[Record]:
        """The job's records as rank 0 makes them; a failure is a TrainingError with its one line."""
        with tempfile.TemporaryDirectory(prefix="designer-job-") as folder:
            project = Path(folder) / f"{self.graph.name or 'network'}.json"
            save(self.graph, project)
            argv = [sys.executable, "-m", "designer", "train", str(project), "--out", str(self.root),
                    "--records", "--nproc-per-node", str(self.launch.nproc_per_node)]
            with tempfile.TemporaryFile("w+", encoding="utf-8") as errors:
                # Its own session: the launcher hears only the stop we send, not the app's own signals.
                process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=errors, text=True,
                                           encoding="utf-8", start_new_session=True)
                watcher = threading.Thread(target=self._pass_stop_on, args=(process,), daemon=True)
                watcher.start()
                try:
                    yield from self._read(process)
                finally:
                    if process.poll() is None:  # the reader left early (the window closes): stop the job
                        process.send_signal(signal.SIGINT)
                    process.wait()
                    watcher.join()
                errors.seek(0)
                self._check(process.returncode, errors.read())

    def _read(self, process: subprocess.Popen[str]) -> Iterator[Record]:
        assert process.stdout is not None
        for number, line in enumerate(process.stdout, 1):
            try:
                record = record_from_json(json.loads(line), f"the job's record {number}")
            except ValueError:
                continue  # not a record: a library's stray print
            if record is None:
                continue
            if isinstance(record, RunEnded):
                self._ended = record
            run_dir = getattr(record, "run_dir", None)
            if run_dir:
                self._run_dir = Path(run_dir)
            yield record

    def _pass_stop_on(self, process: subprocess.Popen[str]) -> None:
        """Turn the app's stop request into the Ctrl-C the launcher passes on to every rank."""
        while process.poll() is None:
            if self.control.stop_requested:
                os.kill(process.pid, signal.SIGINT)
                return
            time.sleep(STOP_POLL_S)

    def _check(self, code: int, errors: str) -> None:
        if code in (0, 130) and self._ended is not None:
            return
        lines = [line for line in errors.splitlines() if line.strip()]
        said = next((line.removeprefix("designer: error: ") for line in reversed(lines)
                     if line.startswith("designer: error: ")), None)
        raise TrainingError(said or (lines[-1] if lines else f"the job ended with exit code {code}"))

    def result(self) -> LaunchedResult:
        status = self._ended.status if self._ended is not None else "stopped"
        return LaunchedResult(status, self._run_dir)
