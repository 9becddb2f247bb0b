"""The training loop: a generator of records that can stop, pause, resume and go on later.

``Trainer.records()`` runs the loop and yields what happens (start, batches,
epochs, notes, the end); a Qt adapter runs it on a worker thread and turns the
records into signals. ``train`` and ``resume`` run it to the end with a callback.
Between batches the loop reads the ``Control``'s flags, nothing more; the loss
is read back from the device at a session's first step, then only every
``log_every`` steps and at each epoch's end. Everything the run writes goes to its run folder (see
:mod:`designer.training.runs`); the project file is never touched. Each loss read back is also
handed to a :class:`~designer.training.divergence.DivergenceWatcher`: a diverging loss ends the
run with status "diverged" and a DivergedError, before the checkpoints take the diverged weights.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from designer.graph.files import file_problem
from designer.graph.project import dumps, loads
from designer.training.checkpoints import DataState, load_checkpoint
from designer.training.config import TrainingConfig
from designer.training.control import Control
from designer.training.devices import check_precision, describe_devices, pick_device, to_device
from designer.training.distributed import SINGLE, Reducer, World
from designer.training.divergence import DivergedError, DivergenceWatcher, diverged_message
from designer.training.errors import CheckpointError, TrainingError
from designer.training.evaluate import measure
from designer.training.faults import guarded_batches, model_error
from designer.training.meters import EMPTY, Reading
from designer.training.pace import Pace
from designer.training.probes import Probes
from designer.training.records import (
    BatchRecord,
    EpochRecord,
    Note,
    Paused,
    Record,
    Resumed,
    RunEnded,
    RunStarted,
)
from designer.training.runlog import RunLog, SilentLog
from designer.training.runs import (
    LOCK_FILE,
    RunFolder,
    RunLock,
    can_tell_live_runs,
    create_run,
    os_reason,
    still_training,
)
from designer.training.session import Session
from designer.training.snapshot import Source, take_snapshot

TrainBatches = Callable[[int], Iterable[tuple[torch.Tensor, torch.Tensor]]]
ValBatches = Callable[[], Iterable[tuple[torch.Tensor, torch.Tensor]]]
OnRecord = Callable[[Record], None]


@dataclass(frozen=True)
class RunResult:
    """How a run ended; ``model`` is the trained module, on the training device."""

    run_dir: Path
    status: str  # finished or stopped (a diverged run raises DivergedError)
    epochs_done: int
    step: int
    best_score: float | None
    checkpoint: Path
    model: nn.Module


class Trainer:
    """One run of training ``source`` with ``config``.

    ``train_batches(epoch)`` yields the ``(inputs, targets)`` batches of an epoch
    (epochs count from 1); the data layer shuffles and augments, seeded by the
    epoch or by its own generator, whose state ``data_state`` saves with each
    checkpoint. ``steps_per_epoch`` paces the schedule and the time estimates.
    Device and precision are checked here, in the caller's thread, so a bad
    setting fails before any run folder is made.
    """

    def __init__(self, source: Source, config: TrainingConfig | None, train_batches: TrainBatches,
                 steps_per_epoch: int, val_batches: ValBatches | None = None, *, root: str | Path,
                 name: str | None = None, control: Control | None = None, on_record: OnRecord | None = None,
                 data_state: DataState | None = None, tensorboard: bool = True, world: World = SINGLE,
                 sync_batchnorm: bool = False) -> None:
        self.snapshot = take_snapshot(source)
        self.config = config if config is not None else TrainingConfig.from_json(
            self.snapshot.graph.meta.get("training", {}))
        if not isinstance(steps_per_epoch, int) or steps_per_epoch < 1:
            raise TrainingError(f"steps_per_epoch must be a whole number ≥ 1, got {steps_per_epoch!r}")
        self.world, self.sync_batchnorm = world, sync_batchnorm
        self.reducer = Reducer(world)
        self.device = pick_device(self.config, world)
        self.precision = check_precision(self.config, self.device)
        self.train_batches, self.val_batches = train_batches, val_batches
        self.steps_per_epoch = steps_per_epoch
        self.control = control or Control()
        self.on_record, self.data_state = on_record, data_state
        self.root, self.name = Path(root), name or self.snapshot.graph.name
        self.folder: RunFolder | None = None
        self._resume_from: RunFolder | None = None
        self._tensorboard = tensorboard
        self.session: Session | None = None
        self.probes: Probes | None = None
        self.stopped = False
        self._watcher = DivergenceWatcher()

    @classmethod
    def resuming(cls, run_dir: str | Path, train_batches: TrainBatches, steps_per_epoch: int,
                 val_batches: ValBatches | None = None, *, epochs: int | None = None,
                 control: Control | None = None, on_record: OnRecord | None = None,
                 data_state: DataState | None = None, tensorboard: bool = True, world: World = SINGLE,
                 sync_batchnorm: bool = False, config: TrainingConfig | None = None) -> Trainer:
        """A trainer that goes on with the run in ``run_dir`` from its last checkpoint.

        ``epochs`` raises (or lowers) the number of epochs the run trains in all;
        ``config`` replaces the run's settings (moved to another device, say).
        In a data-parallel job the other ranks read the run folder but never lock or write it.
        """
        folder = resumable_run(run_dir) if world.main else RunFolder.open(run_dir)
        if config is None:
            config = TrainingConfig.from_json(folder.read_json(folder.config_path))
        if epochs is not None:
            config = config.replace(epochs=epochs)
        graph = loads(folder.read_bytes(folder.graph_path), source=str(folder.graph_path))
        trainer = cls(graph, config, train_batches, steps_per_epoch, val_batches,
                      root=folder.path.parent.parent, name=str(folder.info().get("name", graph.name)),
                      control=control, on_record=on_record, data_state=data_state, tensorboard=tensorboard,
                      world=world, sync_batchnorm=sync_batchnorm)
        trainer._resume_from = folder
        return trainer

    # -- running ---------------------------------------------------------------------------

    def run(self) -> RunResult:
        """Train to the end or to a stop request; a TrainingError says why it could not."""
        for _ in self.records():
            pass
        return self.result()

    def result(self) -> RunResult:
        s = self._s
        return RunResult(self._folder.path, "stopped" if self.stopped else "finished", s.epoch, s.step,
                         _finite(s.best_score), self._folder.last_checkpoint, s.model)

    def records(self) -> Iterator[Record]:
        """Run the loop, yielding each record as it is made (and handing it to ``on_record``).

        A trainer runs once; to go on after a stop, make a new one with :meth:`resuming`.
        """
        if self.folder is not None:
            raise RuntimeError("this trainer has run already; use Trainer.resuming(run_dir, ...) to go on")
        lock = self._open_folder()
        try:
            self.session = self._start_session()
            self.probes = self._make_probes()
            yield self._emit(self._started())
            for message in self._notes():
                yield self._emit(Note(message))
            yield from self._epochs()
            yield self._emit(self._ended())
        except DivergedError as exc:
            yield self._diverged(exc)
            raise
        except BaseException as exc:  # GeneratorExit and KeyboardInterrupt too: the log says how it ended
            self._abandon(exc)
            raise
        finally:
            if self.probes is not None:
                self.probes.remove()
            self._log.close()
            lock.release()  # last: run.json says how the run ended before anyone sees it unlocked

    def _open_folder(self) -> RunLock:
        """Make (or lock the resumed) run folder and open its log; a folder we cannot write says so.

        In a data-parallel job the other ranks learn the folder from rank 0 and write nothing.
        """
        if not self.world.main:
            path = self.reducer.broadcast(None, self.device)
            self.folder = RunFolder(Path(path))
            self._log: RunLog | SilentLog = SilentLog()
            return RunLock(None)
        lock = None
        try:
            if self._resume_from is not None:
                self.folder = self._resume_from
                lock = RunLock.take(self.folder)
            else:
                self.folder, lock = create_run(self.root, self.name, self.snapshot.graph.name,
                                               self.config.to_json(full=True), dumps(self.snapshot.graph),
                                               self.steps_per_epoch)
            self._log = RunLog(self.folder, self._tensorboard)
        except OSError as exc:
            if lock is not None:
                lock.release()
            raise TrainingError(cannot_write(exc, self._resume_from, self.root)) from exc
        if self.world.parallel:
            self.reducer.broadcast(str(self.folder.path), self.device)
        return lock

    @property
    def _s(self) -> Session:
        if self.session is None:
            raise RuntimeError("the run has not started")
        return self.session

    @property
    def _folder(self) -> RunFolder:
        if self.folder is None:
            raise RuntimeError("the run has not started")
        return self.folder

    def _start_session(self) -> Session:
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device)  # the peak the records report is this run's
        session = Session(self.snapshot, self.config, self.device, self.precision, self.steps_per_epoch,
                          self.data_state, world=self.world, sync_batchnorm=self.sync_batchnorm)
        if self._resume_from is not None:
            session.restore(load_checkpoint(self._resume_from.last_checkpoint))
            if self.world.main:  # `epochs` may have changed: config.json always holds what the run trains for
                self._folder.write_json(self._folder.config_path, self.config.to_json(full=True))
        return session

    def _make_probes(self) -> Probes | None:
        # Hooks that switch on and off would make torch.compile recompile: no statistics then.
        if self.config.stats_every == 0 or self.config.compile or self.snapshot.model is not None:
            return None
        if not self.world.main:
            return None
        return Probes(self.snapshot.graph, self._s.model, self.config.stats_every)

    def _notes(self) -> list[str]:
        notes = [self._log.tensorboard_note] if self._log.tensorboard_note else []
        notes += self._s.notes
        if not self.world.main:
            return notes
        if self.world.parallel:
            share = self.config.batch_size // self.world.size
            notes.append(f"data parallel: {self.world.size} processes, each {share} samples of every batch "
                         f"of {self.config.batch_size}")
        before = self._folder.info().get("steps_per_epoch")
        if before not in (None, self.steps_per_epoch):
            notes.append(f"steps_per_epoch was {before} and is now {self.steps_per_epoch}: the schedule "
                         f"and the time estimates follow the new count")
        self._folder.update_info(status="running", epochs=self.config.epochs,
                                 steps_per_epoch=self.steps_per_epoch, processes=self.world.size)
        return notes

    def _started(self) -> RunStarted:
        labels = {info.name: info.label for info in describe_devices()}
        device = str(self.device)
        label = labels.get(device, device)
        if self.world.parallel:
            label = f"{self.world.size} processes ({label} on rank 0)"
        return RunStarted(self._folder.run_id, str(self._folder.path), device, label,
                          self.config.epochs, self.steps_per_epoch, self._s.step, self._s.epoch + 1,
                          processes=self.world.size)

    def _emit(self, record: Record) -> Record:
        self._log.write(record)
        if self.on_record is not None:
            self.on_record(record)
        return record

    # -- epochs and batches ------------------------------------------------------------------

    def _epochs(self) -> Iterator[Record]:
        self._pace = Pace()
        while self._s.epoch < self.config.epochs and not self.stopped:
            if self._stop_agreed():
                self._stop()
                return
            yield from self._epoch(self._s.epoch + 1)

    def _epoch(self, epoch: int) -> Iterator[Record]:
        s = self._s
        started = time.perf_counter() - s.begin_epoch()
        self._last = s.meter.read() if s.batch else EMPTY
        batches = guarded_batches(lambda: self.train_batches(epoch), f"epoch {epoch}",
                                  self.snapshot.input_shape, self.snapshot.num_classes)
        s.skip_done(batches)
        s.train_model.train()
        for x, y in batches:
            yield from self._train_batch(epoch, x, y)
            if self._stop_agreed():
                self._stop(time.perf_counter() - started)
                return
        yield self._emit(self._end_epoch(epoch, started))

    def _stop_agreed(self) -> bool:
        """A stop asked of any rank stops them all at the same step (one tiny collective per step)."""
        return self.reducer.any(self.control.stop_requested, torch.device("cpu"))

    def _train_batch(self, epoch: int, x: torch.Tensor, y: torch.Tensor) -> Iterator[Record]:
        s = self._s
        x, y = to_device(x, self.device, self.config.channels_last), to_device(y, self.device)
        probes = self.probes
        sampled = probes is not None and probes.due(s.step + 1)
        if probes is not None:
            probes.armed = sampled
        try:
            s.train_step(x, y)
        except Exception as exc:
            raise model_error(exc, f"at step {s.step + 1}", x.shape[0], self.config.compile) from exc
        self._pace.steps += 1
        if probes is not None and sampled:
            yield self._emit(probes.collect(s.step, s.scaler.get_scale() if s.scaler.is_enabled() else 1.0))
        # The session's first step is read at once, whatever log_every says: a live plot shows a point
        # after one batch, and an error in the loss shows before log_every steps have passed.
        if s.step % self.config.log_every == 0 or self._pace.steps == 1:
            yield self._emit(self._batch_record(epoch))
        if self.control.paused and not self.world.parallel:  # the ranks of a job cannot wait for each other
            yield from self._pause()

    def _batch_record(self, epoch: int) -> BatchRecord:
        s = self._s
        reading = s.meter.read()
        interval, self._last = reading.since(self._last), reading
        self._check_divergence(interval)
        return BatchRecord(epoch, s.step, s.batch, interval.loss, interval.top1, s.step_lr,
                           self._pace.lap(interval.count),
                           self._pace.eta(self.config.epochs * self.steps_per_epoch - s.step),
                           self._peak_memory())

    def _check_divergence(self, interval: Reading) -> None:
        """Raise DivergedError when the loss of the steps since the last reading shows a diverging run.

        Raised before the epoch's checkpoint is saved: last.pt and best.pt keep the weights from before.
        """
        if not interval.count and interval.first_bad_step is None:
            return  # the epoch ended on a logged step: nothing new to read
        s = self._s
        divergence = self._watcher.observe(s.step, interval.loss, interval.first_bad_step)
        if divergence is not None:
            raise DivergedError(diverged_message(divergence, self.config.lr, s.step_lr))

    def _pause(self) -> Iterator[Record]:
        yield self._emit(Paused(self._s.step))
        paused_at = time.perf_counter()
        self.control.wait_while_paused()
        self._pace.skip(time.perf_counter() - paused_at)
        if not self.control.stop_requested:
            yield self._emit(Resumed(self._s.step))

    def _end_epoch(self, epoch: int, started: float) -> EpochRecord:
        s = self._s
        reading = s.meter.read()
        self._check_divergence(reading.since(self._last))
        if not reading.count:
            raise TrainingError(f"data: epoch {epoch} gave no batches; check the training set and "
                                f"the batch size")
        val = self._validate()
        best = s.end_epoch(reading, val)
        seconds = time.perf_counter() - started
        self._pace.epoch_seconds.append(seconds)
        if self.world.main:
            s.save(self._folder, best)
            self._folder.update_info(epochs_done=s.epoch, step=s.step, best_score=_finite(s.best_score))
        return EpochRecord(epoch, s.step, reading.loss, reading.top1, val.loss if val else None,
                           val.top1 if val else None, val.top5 if val else None, s.lr, seconds,
                           self._pace.epoch_eta(self.config.epochs - s.epoch), best, self._peak_memory())

    def _peak_memory(self) -> int | None:
        if self.device.type != "cuda":
            return None
        return int(torch.cuda.max_memory_allocated(self.device))

    def _validate(self) -> Reading | None:
        if self.val_batches is None:
            return None
        batches = guarded_batches(self.val_batches, "the validation set", self.snapshot.input_shape,
                                  self.snapshot.num_classes)
        reading = measure(self._s.eval_model, batches, self.device, self._s.loss_fn, self.precision,
                          self.config.channels_last, self._s.reducer)
        return reading if reading.count else None

    # -- ending ----------------------------------------------------------------------------

    def _stop(self, seconds: float = 0.0) -> None:
        """Save where the run is (mid-epoch too) and end the loop."""
        s = self._s
        sums = s.meter.read() if s.batch else None  # summed over the job: every rank takes part
        if self.world.main:
            s.save(self._folder, best=False, seconds=seconds, sums_now=sums)
        self.stopped = True

    def _ended(self) -> RunEnded:
        s = self._s
        status = "stopped" if self.stopped else "finished"
        message = "stopped on request; resume to go on" if self.stopped else ""
        if self.world.main:
            self._folder.update_info(status=status, epochs_done=s.epoch, step=s.step, message=message)
        return RunEnded(status, s.epoch, s.step, message, str(self._folder.last_checkpoint),
                        _finite(s.best_score))

    def _diverged(self, exc: DivergedError) -> RunEnded:
        """Record the end with status "diverged" and hand the record on; the checkpoints stay as they were."""
        s = self._s
        last = self._folder.last_checkpoint
        record = RunEnded("diverged", s.epoch, s.step, str(exc), str(last) if last.exists() else None,
                          _finite(s.best_score))
        try:
            self._log.write(record)
            if self.world.main:
                self._folder.update_info(status="diverged", message=str(exc))
        except Exception:  # a full disk must not replace the message the user needs to see
            pass
        if self.on_record is not None:
            self.on_record(record)
        return record

    def _abandon(self, exc: BaseException) -> None:
        """Record a run that ended in an exception, without hiding that exception."""
        status = "failed" if isinstance(exc, Exception) else "interrupted"
        message = str(exc) if isinstance(exc, TrainingError) else f"{type(exc).__name__}: {exc}".rstrip(": ")
        if isinstance(exc, GeneratorExit):
            message = "the caller stopped reading the records"
        epoch, step = (self.session.epoch, self.session.step) if self.session is not None else (0, 0)
        try:
            self._log.write(RunEnded(status, epoch, step, message))
            if self.world.main:
                self._folder.update_info(status=status, message=message)
        except Exception:  # a full disk must not replace the error the caller needs to see
            pass


def resumable_run(run_dir: str | Path) -> RunFolder:
    """The run in ``run_dir`` if it can go on here: not training elsewhere, with a checkpoint, writable.

    Called before the data is loaded, so these faults come at once.
    """
    folder = RunFolder.open(run_dir)
    status = folder.status(folder.info())
    if status == "running" and can_tell_live_runs():
        raise still_training(folder)
    if not folder.last_checkpoint.exists():
        ended = "was interrupted" if status == "interrupted" else f"ended ({status or 'status unknown'})"
        raise CheckpointError(f"{folder.path}: the run {ended} before its first checkpoint "
                              f"(checkpoints/last.pt), so there is nothing to resume; start a new run")
    for path in (folder.metrics_path, folder.log_path):  # appended to: a named pipe would block the run
        problem = file_problem(path) if os.path.lexists(path) else None
        if problem is not None:
            raise CheckpointError(f"{path}: {problem}")
    try:  # the lock is the first thing a resumed run writes
        RunLock.take(folder).release()
    except OSError as exc:
        raise CheckpointError(cannot_write(exc, folder, folder.path.parent.parent)) from None
    return folder


def cannot_write(exc: OSError, resumed: RunFolder | None, root: Path) -> str:
    """Why a run folder cannot be written, naming the folder (absolute) and the system's reason."""
    reason = os_reason(exc)
    if resumed is None:
        where = f" ({exc.filename})" if exc.filename else ""
        return f"cannot write the run folder under {os.path.abspath(root)}: {reason}{where}"
    path = os.path.abspath(resumed.path)
    name = Path(exc.filename).name if exc.filename else LOCK_FILE
    detail = "" if name == LOCK_FILE else f" ({name})"  # the lock is ours; its folder is what to fix
    return (f"cannot resume {path}: the run folder cannot be written{detail}: {reason}; "
            f"a copy of the run in a folder you can write can be resumed")


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def warm_up() -> None:
    """Load what a fresh process lacks for a run's first step, so that the first run starts at once.

    Making an optimizer imports ``torch._dynamo`` (a second or more), and the first
    convolution and backward pass set up their kernels. The window calls this on a
    background thread once it is up (designer.ui.training.panel).
    """
    layer = torch.nn.Conv2d(1, 1, 3)
    optimizer = torch.optim.SGD(layer.parameters(), lr=0.1)
    layer(torch.zeros(1, 1, 8, 8)).sum().backward()
    optimizer.step()


def train(source: Source, config: TrainingConfig | None, train_batches: TrainBatches, steps_per_epoch: int,
          val_batches: ValBatches | None = None, *, root: str | Path, name: str | None = None,
          control: Control | None = None, on_record: OnRecord | None = None,
          data_state: DataState | None = None) -> RunResult:
    """Train in a new run folder under ``root/runs``; see :class:`Trainer`."""
    return Trainer(source, config, train_batches, steps_per_epoch, val_batches, root=root, name=name,
                   control=control, on_record=on_record, data_state=data_state).run()


def resume(run_dir: str | Path, train_batches: TrainBatches, steps_per_epoch: int,
           val_batches: ValBatches | None = None, *, epochs: int | None = None, control: Control | None = None,
           on_record: OnRecord | None = None, data_state: DataState | None = None) -> RunResult:
    """Go on with the run in ``run_dir`` from its last checkpoint; see :meth:`Trainer.resuming`."""
    return Trainer.resuming(run_dir, train_batches, steps_per_epoch, val_batches, epochs=epochs,
                            control=control, on_record=on_record, data_state=data_state).run()
