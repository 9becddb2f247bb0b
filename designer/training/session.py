"""The state of one training session: model, optimizer, schedule, scaler, progress, random states.

It does one optimizer step at a time, keeps the epoch's sums on the device, and
turns itself into a checkpoint and back (see :mod:`designer.training.checkpoints`
for the layout). The trainer around it decides when to step, log, stop and save.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn

from designer.training.checkpoints import DataState, encode, restore_rng_states, rng_states, save_checkpoint
from designer.training.config import TrainingConfig
from designer.training.devices import Precision
from designer.training.distributed import SINGLE, SYNC_BN_NEEDS_CUDA, Reducer, World
from designer.training.errors import CheckpointError, TrainingError
from designer.training.factories import make_loss, make_optimizer
from designer.training.faults import model_error
from designer.training.meters import EMPTY, Meter, Reading
from designer.training.runs import RunFolder
from designer.training.schedules import make_scheduler
from designer.training.snapshot import Snapshot


class Session:
    """Everything a run changes as it trains; ``epoch``, ``batch`` and ``step`` count what is done."""

    def __init__(self, snapshot: Snapshot, config: TrainingConfig, device: torch.device, precision: Precision,
                 steps_per_epoch: int, data_state: DataState | None = None, *, world: World = SINGLE,
                 sync_batchnorm: bool = False) -> None:
        self.snapshot, self.config, self.device, self.precision = snapshot, config, device, precision
        self.data_state, self.world = data_state, world
        self.reducer = Reducer(world) if world.parallel else None
        self.notes: list[str] = []
        if device.type == "cuda":
            torch.backends.cudnn.benchmark = True  # fixed batch shapes: let cuDNN pick its fastest kernels
        torch.manual_seed(config.seed)  # initial weights, dropout; seeds every GPU too
        if sync_batchnorm and world.parallel and device.type != "cuda":
            raise TrainingError(SYNC_BN_NEEDS_CUDA)
        self.model = self._build(sync_batchnorm and world.parallel)
        if world.parallel:
            # Every rank starts from the same weights (DDP also sends rank 0's); dropout differs per rank,
            # as it would across the samples of one big batch.
            torch.manual_seed(config.seed + world.rank)
        parallel = self._parallel(self.model)
        self.train_model: nn.Module = torch.compile(parallel) if config.compile else parallel  # type: ignore[assignment]
        self.loss_fn = make_loss(config).to(device)
        self.optimizer = make_optimizer(self.model.parameters(), config, device)
        self.schedule = make_scheduler(self.optimizer, config, steps_per_epoch)
        self.scaler = precision.grad_scaler()
        self.meter = Meter(device, reducer=self.reducer)
        self.epoch = self.batch = self.step = 0
        self.best_score, self.best_epoch = -math.inf, 0
        self.step_lr = self.schedule.lr  # the rate the last step used
        self._resumed_sums: tuple[Reading, float] | None = None
        self._pending_rng: dict[str, Any] | None = None
        self._epoch_data: Any = None

    def _build(self, sync_batchnorm: bool) -> nn.Module:
        try:
            model = self.snapshot.model if self.snapshot.model is not None else self.snapshot.graph.to_torch()
            if sync_batchnorm:  # statistics over the whole batch, not each rank's share of it
                model = nn.SyncBatchNorm.convert_sync_batchnorm(model)  # type: ignore[no-untyped-call]
            model = model.to(self.device)
            if self.config.channels_last:
                model = model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        except Exception as exc:
            raise model_error(exc, "while building the model", self.config.batch_size, False) from exc
        return model

    def _parallel(self, model: nn.Module) -> nn.Module:
        """The module a step runs: the model itself, or in a data-parallel job the model under DDP."""
        if not self.world.parallel:
            return model
        from torch.nn.parallel import DistributedDataParallel

        ids = [self.device.index] if self.device.type == "cuda" else None
        return DistributedDataParallel(model, device_ids=ids)

    @property
    def eval_model(self) -> nn.Module:
        """What validation runs: each rank measures its own share with no collective inside the forward,
        so shares of different lengths cannot leave one rank waiting for another."""
        return self.model if self.world.parallel else self.train_model

    @property
    def lr(self) -> float:
        """The rate the next step will use."""
        return self.schedule.lr

    def train_step(self, x: torch.Tensor, y: torch.Tensor) -> None:
        """One optimizer step on one batch; nothing here waits for the device."""
        self.optimizer.zero_grad(set_to_none=True)
        with self.precision.autocast():
            output = self.train_model(x)
            loss = self.loss_fn(output, y)
        self.scaler.scale(loss).backward()
        if self.config.clip_grad_norm > 0:
            self.scaler.unscale_(self.optimizer)  # clip the true gradients, not the scaled ones
            nn.utils.clip_grad_norm_(self.model.parameters(), self.config.clip_grad_norm)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.step_lr = self.schedule.lr
        self.schedule.step()
        self.step += 1
        self.batch += 1
        self.meter.add(loss, output, y, self.step)

    # -- epochs ----------------------------------------------------------------------------

    def begin_epoch(self) -> float:
        """Start the next epoch, or re-enter the one a checkpoint stopped in; returns its seconds so far."""
        self._epoch_data = self.data_state.get_state() if self.data_state is not None else None
        sums, seconds = self._resumed_sums or (EMPTY, 0.0)
        self._resumed_sums = None
        if not self.world.main:
            sums = EMPTY  # the saved sums are the job's; rank 0 carries them, or they would count once per rank
        self.meter.reset(sums)
        return seconds

    def skip_done(self, batches: Iterator[Any]) -> None:
        """After a stop mid-epoch: pass over the batches already trained, then restore the random states."""
        for _ in range(self.batch):
            if next(batches, None) is None:
                break
        if self._pending_rng is not None:
            restore_rng_states(self._pending_rng, self.device)
            self._pending_rng = None

    def end_epoch(self, train: Reading, val: Reading | None) -> bool:
        """Close the epoch; True when its validation score is the best so far."""
        self.schedule.epoch_end(val.loss if val is not None else train.loss)
        self.epoch += 1
        self.batch = 0
        if val is None:
            return False
        score = val.top1 if val.top1 is not None else -val.loss  # higher is better
        if score > self.best_score:
            self.best_score, self.best_epoch = score, self.epoch
            return True
        return False

    # -- checkpoints -----------------------------------------------------------------------

    def checkpoint(self, seconds: float = 0.0, sums_now: Reading | None = None) -> dict[str, Any]:
        """Everything needed to go on; mid-epoch it also holds the epoch's sums so far (``sums_now``,
        when the job's ranks have read them together)."""
        sums = None
        if self.batch:
            r = sums_now if sums_now is not None else self.meter.read()
            sums = {"loss_sum": r.loss_sum, "correct1": r.correct1, "correct5": r.correct5,
                    "count": r.count, "labelled": r.labelled, "seconds": seconds}
        data = self._epoch_data if self.batch else (
            self.data_state.get_state() if self.data_state is not None else None)
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "schedule": self.schedule.state_dict(),
            "scaler": self.scaler.state_dict() if self.scaler.is_enabled() else {},
            "epoch": self.epoch, "batch": self.batch, "step": self.step,
            "epoch_sums": sums,
            "rng": {**rng_states(self.device), "data": data},
            "best": {"score": self.best_score, "epoch": self.best_epoch},
            "config": self.config.to_json(full=True),
            "graph": self.snapshot.graph.to_dict(),
        }

    def save(self, folder: RunFolder, best: bool, seconds: float = 0.0,
             sums_now: Reading | None = None) -> None:
        """Write last.pt, and best.pt when ``best``; a disk that refuses is a TrainingError."""
        data = encode(self.checkpoint(seconds, sums_now))
        for path in (folder.last_checkpoint, folder.best_checkpoint)[:2 if best else 1]:
            try:
                save_checkpoint(path, data)
            except OSError as exc:
                raise TrainingError(f"cannot save the checkpoint {path}: {exc.strerror or exc}") from exc

    def restore(self, checkpoint: dict[str, Any]) -> None:
        """Take up a checkpoint's state; the random states follow once the done batches are skipped."""
        try:
            self.model.load_state_dict(checkpoint["model"])
            self.optimizer.load_state_dict(checkpoint["optimizer"])
            self.schedule.load_state_dict(checkpoint["schedule"])
            if checkpoint["scaler"] and self.scaler.is_enabled():
                self.scaler.load_state_dict(checkpoint["scaler"])
            self.epoch, self.batch, self.step = (int(checkpoint[k]) for k in ("epoch", "batch", "step"))
            self.best_score = float(checkpoint["best"]["score"])
            self.best_epoch = int(checkpoint["best"]["epoch"])
            self._pending_rng = checkpoint["rng"]
            sums = checkpoint["epoch_sums"]
        except (KeyError, TypeError, ValueError, RuntimeError) as exc:
            raise CheckpointError(f"the checkpoint does not fit this run: {exc}") from exc
        if sums is not None:
            seconds = float(sums.pop("seconds"))
            self._resumed_sums = (Reading(first_bad_step=None, **sums), seconds)
        self.step_lr = self.schedule.lr
        self._restore_data_state(checkpoint["rng"].get("data"))

    def _restore_data_state(self, state: Any) -> None:
        if state is not None and self.data_state is not None:
            self.data_state.set_state(state)
        elif state is not None:
            self.notes.append("the run saved the data order's random state, but none was given to restore "
                              "it into; the batches may come in another order than before the stop")
