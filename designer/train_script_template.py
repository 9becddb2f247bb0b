"""The text of the exported ``train.py``; :mod:`designer.train_script` fills in its ``@NAME@`` slots.

The script is one fixed piece of plain PyTorch: only the docstring's class name,
the ``CONFIG`` literal, the shapes and the initial weights file differ from one
project to the next, so every option of the project stays editable in the file
(switching the optimizer in CONFIG needs no new export). What it shares with the
engine (optimizer, schedule, loss, augmentation, devices, checkpoints, datasets)
it imports from the copies of :mod:`designer.training.portable` and
:mod:`designer.training.portable_data` written beside it. It is kept formatted
as ``ruff format`` writes it; the tests run ruff over exported scripts.
"""

TEMPLATE = r'''"""Train @CLASS@ (model.py) as the Designer project trains it.

On one device (a GPU if there is one, or what CONFIG["training"]["device"] names):

    python train.py

On several processes, one per GPU (or CPU processes), with DistributedDataParallel:

    torchrun --nproc_per_node=4 train.py
    torchrun --nnodes=2 --node_rank=R --master_addr=HOST --nproc_per_node=8 train.py

(the second on each of two machines, R = 0 on the one at HOST and 1 on the other).

Options: --out DIR (checkpoints; default checkpoints/), --resume FILE, --epochs N,
--max-steps N (a smoke test: the epoch it stops in counts as done), --log-every N.

It needs PyTorch and NumPy only (and Pillow for a folder of images). This file
holds the loop, DistributedDataParallel and the progress lines; portable.py
beside it is Designer's own optimizer, learning-rate schedule, loss,
augmentation, devices and checkpoints, and portable_data.py its dataset readers
and preparation (resized to the model's input, split, per-channel statistics),
so a run here trains as the app does. Edit CONFIG to change any setting.

Each checkpoint's "model" is the state_dict of the class in model.py:

    model = @CLASS@()
    model.load_state_dict(torch.load("checkpoints/last.pt")["model"])
"""

import argparse
import datetime
import os
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from portable import (
    Schedule,
    SetupError,
    all_reduce_sums,
    augment_batch,
    autocast_dtype,
    load_checkpoint,
    make_loss,
    make_optimizer,
    pick_device,
    save_checkpoint,
    shard_order,
)
from portable_data import DataProblem, prepare

# The project's training and dataset settings, as in the app; edit freely.
@CONFIG@
INPUT_SHAPE = @INPUT_SHAPE@  # one sample, as the model's Input takes it
OUTPUT_SHAPE = @OUTPUT_SHAPE@
INITIAL_WEIGHTS = @INITIAL_WEIGHTS@  # a state_dict file to start from, or None
HERE = Path(__file__).resolve().parent
TIMEOUT = datetime.timedelta(minutes=10)  # a lost process stops the job, not hangs it


@dataclass
class Process:
    """This process: its rank among `world` processes (1 without torchrun), its device."""

    rank: int
    local_rank: int
    world: int
    device: torch.device

    def log(self, text):
        if self.rank == 0:
            say(text)


def say(text):
    # One write for the line and its end, so that lines of processes never interleave.
    print(text + "\n", end="", flush=True)


def start_process():
    """Join torchrun's process group, if torchrun started us, and pick our device."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = pick_device(CONFIG["training"]["device"], local_rank, world > 1)
    if world > 1:
        if device.type == "cuda":
            torch.cuda.set_device(device)
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend=backend, timeout=TIMEOUT)
    return Process(rank, local_rank, world, device)


class Batches:
    """The epochs' batches of this process: its share of each batch of the whole job.

    One generator, seeded once, draws every epoch's order and the augmentation,
    as in Designer; each process takes every world-th sample of the order.
    """

    def __init__(self, data, proc, batch_size):
        self.images, self.labels = data.train
        self.proc, self.batch_size = proc, batch_size
        self.generator = torch.Generator().manual_seed(CONFIG["training"]["seed"])
        self.augment = CONFIG["dataset"]["augment"]
        share = len(self.labels) // proc.world
        # A last batch of one sample breaks BatchNorm in training mode; leave it out.
        self.drop_last = share > batch_size and share % batch_size == 1
        self.steps = share // batch_size if self.drop_last else -(-share // batch_size)

    def epoch(self):
        order = torch.randperm(len(self.labels), generator=self.generator)
        mine = shard_order(order, self.proc.rank, self.proc.world)
        for start in range(0, self.steps * self.batch_size, self.batch_size):
            index = mine[start : start + self.batch_size]
            x = self.images.index_select(0, index)
            crop, flip = self.augment["crop_padding"], self.augment["hflip"]
            yield augment_batch(x, crop, flip, self.generator), self.labels[index]


class Preprocess:
    """Stored pixels to model inputs: to the 0..1 scale, normalised per channel."""

    def __init__(self, data, device):
        scale = 1 / 255 if data.train[0].dtype == torch.uint8 else 1.0
        mean = torch.tensor(data.mean, device=device).view(1, -1, 1, 1)
        std = torch.tensor(data.std, device=device).view(1, -1, 1, 1)
        self.a, self.b = scale / std, -mean / std
        self.flatten = data.flatten  # a flat Input takes C*H*W features
        self.device = device
        self.channels_last = CONFIG["training"]["channels_last"]

    def __call__(self, x, y):
        x = x.to(self.device, non_blocking=True) * self.a + self.b
        y = y.to(self.device, non_blocking=True)
        if self.flatten:
            return x.flatten(1), y
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return x, y


@dataclass
class Training:
    """The model, what updates it, and how far it has come."""

    model: nn.Module  # what the steps call: wrapped in DDP and compiled, maybe
    raw: nn.Module  # the model.py instance itself: its state_dict is the checkpoint's
    optimizer: torch.optim.Optimizer
    schedule: Schedule  # warm-up and decay, stepped after every optimizer step
    scaler: torch.amp.GradScaler  # scales fp16 losses; does nothing otherwise
    loss: nn.Module
    device: torch.device
    dtype: torch.dtype | None
    epoch: int = 0  # epochs completed
    step: int = 0  # optimizer steps taken

    def autocast(self):
        dtype = self.dtype or torch.float32
        return torch.autocast(self.device.type, dtype, enabled=self.dtype is not None)


def build(proc, steps_per_epoch):
    """The model from model.py with its optimizer, schedule and loss."""
    from model import @CLASS@  # model.py, beside this script

    cfg = CONFIG["training"]
    torch.manual_seed(cfg["seed"])  # the same initial weights in every process
    raw = @CLASS@()
    if INITIAL_WEIGHTS is not None:
        path = HERE / INITIAL_WEIGHTS
        raw.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    raw.to(proc.device)
    if cfg["channels_last"]:
        raw.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    optimizer = make_optimizer(raw.parameters(), cfg, proc.device)
    dtype = autocast_dtype(cfg["precision"], proc.device)
    return Training(
        model=raw,
        raw=raw,
        optimizer=optimizer,
        schedule=Schedule(optimizer, cfg, steps_per_epoch),
        scaler=torch.amp.GradScaler(proc.device.type, enabled=dtype == torch.float16),
        loss=make_loss(cfg).to(proc.device),
        device=proc.device,
        dtype=dtype,
    )


def wrap(t, proc):
    """DistributedDataParallel over several processes, torch.compile if CONFIG asks."""
    if proc.world > 1:
        ids = [proc.device.index] if proc.device.type == "cuda" else None
        t.model = DistributedDataParallel(t.raw, device_ids=ids)
    if CONFIG["training"]["compile"]:
        t.model = torch.compile(t.model)
    # Dropout draws differently in each process and epoch, the same on a resumed run.
    torch.manual_seed(CONFIG["training"]["seed"] + 1 + t.epoch * proc.world + proc.rank)


def train_step(t, x, y):
    """One optimizer step; the batch's mean loss and correct count, left on the device."""
    with t.autocast():
        output = t.model(x)
        loss = t.loss(output, y)
    t.optimizer.zero_grad(set_to_none=True)
    t.scaler.scale(loss).backward()
    clip = CONFIG["training"]["clip_grad_norm"]
    if clip > 0:
        t.scaler.unscale_(t.optimizer)  # clip the true gradients, not the scaled ones
        nn.utils.clip_grad_norm_(t.model.parameters(), clip)
    t.scaler.step(t.optimizer)
    t.scaler.update()
    t.step += 1
    t.schedule.step()
    return loss.detach(), correct(output, y)


def correct(output, y):
    """How many predicted classes (the highest output) match the labels."""
    if output.dim() != 2 or y.dim() != 1:
        return torch.zeros((), device=y.device)
    return (output.argmax(1) == y).sum()


def train_epoch(t, batches, preprocess, proc, args):
    """One pass over this process's share: the totals of all processes and the time."""
    t.model.train()
    # Sums of the loss times the samples, of the correct predictions and of the samples.
    totals = torch.zeros(3, dtype=torch.float64, device=proc.device)
    window = torch.zeros_like(totals)  # since the last progress line
    started = mark = time.perf_counter()
    for batch in batches.epoch():
        x, y = preprocess(*batch)
        loss, right = train_step(t, x, y)
        window[0] += loss * len(y)
        window[1] += right
        window[2] += len(y)
        if t.step % args.log_every == 0:
            now, lr = time.perf_counter(), t.optimizer.param_groups[0]["lr"]
            text = describe(all_reduce_sums(window.clone()), now - mark)
            proc.log(f"epoch {t.epoch + 1} step {t.step} {text} lr {lr:.4g}")
            totals += window
            window.zero_()
            mark = now
        if args.max_steps and t.step >= args.max_steps:
            break
    return all_reduce_sums(totals + window), time.perf_counter() - started


@torch.no_grad()
def evaluate(t, split, preprocess, proc):
    """Totals over the validation set; each process takes every world-th sample."""
    t.raw.eval()
    images = split[0][proc.rank :: proc.world]
    labels = split[1][proc.rank :: proc.world]
    totals = torch.zeros(3, dtype=torch.float64, device=proc.device)
    size = CONFIG["training"]["batch_size"]
    for start in range(0, len(labels), size):
        x, y = preprocess(images[start : start + size], labels[start : start + size])
        with t.autocast():
            output = t.raw(x)
            loss = t.loss(output, y)
        totals[0] += loss * len(y)
        totals[1] += correct(output, y)
        totals[2] += len(y)
    return all_reduce_sums(totals)


def describe(totals, seconds=None):
    """Mean loss and accuracy from totals (loss*n, correct, n), and samples per second."""
    loss, right, n = totals.tolist()
    n = max(n, 1)
    text = f"loss {loss / n:.4f} acc {right / n:.4f}"
    return text if seconds is None else f"{text} {n / max(seconds, 1e-9):.0f} samples/s"


def checkpoint(t, batches):
    return {
        "model": t.raw.state_dict(),
        "optimizer": t.optimizer.state_dict(),
        "schedule": t.schedule.state_dict(),
        "scaler": t.scaler.state_dict(),
        "data_rng": batches.generator.get_state(),
        "epoch": t.epoch,
        "step": t.step,
        "config": CONFIG,
    }


def resume(t, batches, path):
    state = load_checkpoint(path)
    t.raw.load_state_dict(state["model"])
    t.optimizer.load_state_dict(state["optimizer"])
    t.schedule.load_state_dict(state["schedule"])
    if state["scaler"]:
        t.scaler.load_state_dict(state["scaler"])
    batches.generator.set_state(state["data_rng"])
    t.epoch, t.step = state["epoch"], state["step"]


def parse_args():
    parser = argparse.ArgumentParser(description="Train the network in model.py.")
    parser.add_argument("--out", default="checkpoints", help="the checkpoint folder")
    parser.add_argument("--resume", metavar="FILE", help="go on from this checkpoint")
    parser.add_argument("--epochs", type=int, help="train this many epochs in all")
    parser.add_argument("--max-steps", type=int, help="stop after this many steps")
    parser.add_argument("--log-every", type=int, help="steps between progress lines")
    return parser.parse_args()


def setup(args):
    """The process, its data and its training state, fresh or from --resume."""
    cfg = CONFIG["training"]
    proc = start_process()
    data = prepare(CONFIG["dataset"], INPUT_SHAPE, OUTPUT_SHAPE, here=HERE)
    # batch_size is the batch of one step in all, as in the app: split over processes.
    if cfg["batch_size"] % proc.world:
        raise SetupError(
            f"batch_size {cfg['batch_size']} cannot be shared evenly by {proc.world} "
            f"processes; give a multiple of {proc.world}"
        )
    batches = Batches(data, proc, cfg["batch_size"] // proc.world)
    t = build(proc, batches.steps)
    if args.resume:
        resume(t, batches, args.resume)
    wrap(t, proc)
    proc.log(
        f"{len(data.train[1])} training and {len(data.val[1])} validation samples; "
        f"{batches.steps} steps per epoch of {batches.batch_size} samples in each of "
        f"{proc.world} process(es) on {proc.device.type}"
    )
    return proc, data, batches, t


def main():
    args = parse_args()
    cfg = CONFIG["training"]
    cfg["epochs"] = args.epochs or cfg["epochs"]
    args.log_every = args.log_every or cfg["log_every"]
    try:
        proc, data, batches, t = setup(args)
    except (SetupError, DataProblem) as exc:
        raise SystemExit(f"train.py: {exc}") from None
    preprocess = Preprocess(data, proc.device)
    val = None
    while t.epoch < cfg["epochs"] and not (args.max_steps and t.step >= args.max_steps):
        totals, seconds = train_epoch(t, batches, preprocess, proc, args)
        val = evaluate(t, data.val, preprocess, proc) if len(data.val[1]) else None
        t.epoch += 1
        loss = val if val is not None else totals
        t.schedule.epoch_end(loss[0].item() / max(loss[2].item(), 1))
        lr = t.optimizer.param_groups[0]["lr"]
        text = f"epoch {t.epoch}/{cfg['epochs']} {describe(totals, seconds)}"
        text += f" lr {lr:.4g}" + ("" if val is None else " val " + describe(val))
        proc.log(text)
        if proc.rank == 0:
            save_checkpoint(Path(args.out) / "last.pt", checkpoint(t, batches))
    if val is not None:
        proc.log(f"final validation {describe(val)}")
    say(f"rank {proc.rank}/{proc.world} done")
    if proc.world > 1:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
'''
