"""Data-parallel training: the engine's own trainer in several processes, launched by torch's elastic agent.

``designer train SRC --nproc-per-node N`` does not train in the process the user
started. That process checks the project, then hands the same command line to
``torch.distributed.run`` (what ``torchrun`` runs), which starts N workers per
machine with ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK`` set. Each worker sees
those, joins the process group (gloo on CPU, NCCL with one GPU per process) and
trains with :class:`~torch.nn.parallel.DistributedDataParallel` on its shard of
every batch. ``torchrun -m designer train SRC`` works the same way.

A worker that fails writes its one-line message into the error file the agent
gives it (``TORCHELASTIC_ERROR_FILE``, the agent's own format); the agent stops
the other workers at once, and the launching process prints the message of the
rank that failed first. Collectives and joining time out, so a lost rank never
leaves the others waiting for ever.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import torch
import torch.distributed as dist

from designer.training.errors import TrainingError
from designer.training.settings import ALL_GPUS

# A step that takes longer than this on one rank is a stuck job; NCCL's and gloo's own defaults are 10–30 min.
COLLECTIVE_TIMEOUT = timedelta(minutes=10)
STOPPED = 130  # the exit status of a job stopped by Ctrl-C, as of a single run
LAUNCHED = "DESIGNER_LAUNCHED"  # set by our launcher: its workers leave the one-line message to it


@dataclass(frozen=True)
class Launch:
    """How many processes, on how many machines: torchrun's options of the same names."""

    nproc_per_node: int = 1
    nnodes: int = 1
    node_rank: int = 0
    rdzv_endpoint: str | None = None

    @property
    def parallel(self) -> bool:
        return self.nproc_per_node > 1 or self.nnodes > 1

    def torchrun_args(self) -> list[str]:
        """The launcher's arguments: one machine rendezvouses on a free local port, several on the endpoint."""
        args = ["--nproc-per-node", str(self.nproc_per_node), "--max-restarts", "0",
                "--monitor-interval", "0.2"]
        if self.nnodes == 1:
            return [*args, "--standalone"]
        if not self.rdzv_endpoint:
            raise TrainingError(f"--nnodes {self.nnodes} needs --rdzv-endpoint HOST:PORT, the address of the "
                                f"machine with --node-rank 0, the same on every machine")
        # The static rendezvous, torchrun's default: each machine says which one it is.
        return [*args, "--nnodes", str(self.nnodes), "--node-rank", str(self.node_rank),
                "--rdzv-backend", "static", "--rdzv-endpoint", self.rdzv_endpoint]


def every_gpu(device: str) -> Launch | None:
    """The launch ``training.device`` asks for: one process per GPU here for ``cuda:all``, else None.

    With a single GPU there is nothing to share: that one trains alone.
    """
    if device != ALL_GPUS:
        return None
    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if gpus == 0:
        raise TrainingError("training.device is cuda:all (every GPU, data parallel), but this machine has no "
                            "CUDA GPU; choose cpu, or --nproc-per-node N for CPU processes")
    return Launch(nproc_per_node=gpus) if gpus > 1 else None


@dataclass(frozen=True)
class World:
    """This process's place in the job; a plain run is rank 0 of 1."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def parallel(self) -> bool:
        return self.size > 1

    @property
    def main(self) -> bool:
        """The one process that writes the run folder and reports."""
        return self.rank == 0

    @property
    def shard(self) -> tuple[int, int]:
        return self.rank, self.size


SINGLE = World()


def world_from_env() -> World:
    """Where torchrun (or our launcher) put this process; SINGLE outside a launched job."""
    try:
        size = int(os.environ.get("WORLD_SIZE", "1"))
        rank = int(os.environ.get("RANK", "0"))
        local = int(os.environ.get("LOCAL_RANK", "0"))
    except ValueError:
        raise TrainingError("RANK, WORLD_SIZE and LOCAL_RANK must be whole numbers (they are set by "
                            "torchrun)") from None
    if size <= 1:
        return SINGLE
    if not 0 <= rank < size:
        raise TrainingError(f"RANK {rank} is outside WORLD_SIZE {size}")
    return World(rank, size, local)


SYNC_BN_NEEDS_CUDA = ("--sync-batchnorm needs CUDA GPUs: PyTorch's SyncBatchNorm does not run on the CPU; "
                      "leave it out (each process then normalises its share of the batch)")


def rank_batch(batch_size: int, processes: int) -> int:
    """Each process's share of a step's batch; the batch must split evenly."""
    if batch_size % processes:
        raise TrainingError(f"the batch size {batch_size} cannot be shared evenly by {processes} "
                            f"processes; give a multiple of {processes}")
    return batch_size // processes


def join(world: World) -> None:
    """Join the job's process group (once per process), with timeouts set.

    Gloo carries what is on the CPU and NCCL what is on a GPU, so the group can
    be joined before the run's device is known (a resumed run reads it from its folder).
    """
    if not world.parallel or dist.is_initialized():
        return
    backend = "cpu:gloo,cuda:nccl" if torch.cuda.is_available() else "gloo"
    try:
        dist.init_process_group(backend, timeout=COLLECTIVE_TIMEOUT, rank=world.rank, world_size=world.size)
    except (RuntimeError, ValueError) as exc:
        raise TrainingError(f"rank {world.rank} could not join the job: {exc}") from exc


def leave() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


class Reducer:
    """Sums and minima over the job's ranks; the identity in a plain run."""

    def __init__(self, world: World) -> None:
        self.world = world

    def sum_(self, tensor: torch.Tensor) -> torch.Tensor:
        if self.world.parallel:
            dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        return tensor

    def min_(self, tensor: torch.Tensor) -> torch.Tensor:
        if self.world.parallel:
            dist.all_reduce(tensor, op=dist.ReduceOp.MIN)
        return tensor

    def any(self, flag: bool, device: torch.device) -> bool:
        """True on every rank when ``flag`` is true on any: a decision all ranks must take together."""
        if not self.world.parallel:
            return flag
        value = torch.tensor([1.0 if flag else 0.0], device=device)
        dist.all_reduce(value, op=dist.ReduceOp.MAX)
        return bool(value.item())

    def broadcast(self, obj: Any, device: torch.device) -> Any:
        """Rank 0's ``obj`` on every rank (a checkpoint to resume from, a run folder's name)."""
        if not self.world.parallel:
            return obj
        box = [obj if self.world.main else None]
        dist.broadcast_object_list(box, src=0, device=device if device.type == "cuda" else None)
        return box[0]


# -- the launching side -------------------------------------------------------------------------


def launch(spec: Launch, argv: Sequence[str]) -> int:
    """Run ``designer <argv>`` in ``spec``'s processes and wait; returns 0 (STOPPED after Ctrl-C), or
    raises the first failure.

    ``argv`` is the command line without the launch options, so that the
    workers train instead of launching again.
    """
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import get_args_parser, run

    args = get_args_parser().parse_args([*spec.torchrun_args(), "-m", "designer", *argv])
    env = {LAUNCHED: "1"}
    if "OMP_NUM_THREADS" not in os.environ:  # share the cores out, instead of torchrun's warning and 1 each
        env["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // spec.nproc_per_node))
    with _environ(env), _quiet_agent():
        try:
            run(args)  # type: ignore[no-untyped-call]
        except ChildFailedError as exc:
            raise TrainingError(first_failure(exc)) from None
        except SignalException as exc:
            # The agent passed the signal on to the workers and gave them time to end: on Ctrl-C
            # (SIGINT) they stopped together after a step and rank 0 saved the checkpoint.
            if exc.sigval == signal.SIGINT:
                return STOPPED
            raise TrainingError(f"the job was stopped by {exc.sigval.name}") from None
    return 0


def first_failure(exc: Any) -> str:
    """The message of the rank that failed first.

    A rank that said why comes before one that died silently, and one that died
    on its own before those the agent stopped (SIGTERM) once the first had failed.
    """
    failures = exc.failures
    told = {rank: f for rank, f in failures.items() if os.path.isfile(f.error_file)}
    alone = {rank: f for rank, f in failures.items() if f.exitcode != -signal.SIGTERM}
    pool = told or alone or failures
    rank = min(pool, key=lambda r: (pool[r].timestamp, r))
    failure = pool[rank]
    if told:
        return f"rank {rank}: {failure.message}"
    how = (f"was killed by signal {-failure.exitcode}" if failure.exitcode < 0
           else f"exited with code {failure.exitcode}")
    return f"rank {rank} {how} before saying why; the other ranks were stopped"


def report_failure(world: World, message: str) -> bool:
    """Leave ``message`` where the agent reads it; True when our launcher will print it (so say nothing)."""
    path = os.environ.get("TORCHELASTIC_ERROR_FILE")
    if path and world.parallel:
        try:
            with open(path, "w", encoding="utf-8") as fp:
                json.dump({"message": message, "timestamp": int(time.time())}, fp)
        except OSError:
            return False
        return os.environ.get(LAUNCHED) == "1"
    return False


@contextmanager
def _environ(values: dict[str, str]) -> Iterator[None]:
    before = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextmanager
def _quiet_agent() -> Iterator[None]:
    """The agent logs each worker's failure as a page of tracebacks; our one line says it instead."""
    logger = logging.getLogger("torch.distributed.elastic")
    level, propagate = logger.level, logger.propagate
    logger.setLevel(logging.CRITICAL)
    logger.propagate = False
    try:
        yield
    finally:
        logger.setLevel(level)
        logger.propagate = propagate
        sys.stderr.flush()
