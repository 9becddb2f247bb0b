"""The text of the exported ``train.py``; :mod:`designer.train_script` fills in its ``@NAME@`` slots.

The script is one fixed piece of plain PyTorch: only the docstring's class name,
the ``CONFIG`` literal, the shapes and the initial weights file differ from one
project to the next, so every option of the project stays editable in the file
(switching the optimizer in CONFIG needs no new export). It is kept formatted as
``ruff format`` writes it; the tests run ruff over exported scripts.
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

Everything but reading the data is plain PyTorch, written out below: the loop,
DistributedDataParallel, optimizer, learning-rate schedule, loss, mixed precision
and checkpoints. The data comes from Designer's data layer, which reads the dataset
CONFIG names and prepares it as the app does (resized to the model's input, split,
per-channel statistics): it needs `pip install designer`, for data loading only.
Edit CONFIG to change any setting.

Each checkpoint's "model" is the state_dict of the class in model.py:

    model = @CLASS@()
    model.load_state_dict(torch.load("checkpoints/last.pt")["model"])
"""

import argparse
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.optim.lr_scheduler import LambdaLR, ReduceLROnPlateau
from torch.utils.data import BatchSampler, DataLoader, DistributedSampler, TensorDataset

# The project's training and dataset settings, as in the app; edit freely.
@CONFIG@
INPUT_SHAPE = @INPUT_SHAPE@  # one sample, as the model's Input takes it
OUTPUT_SHAPE = @OUTPUT_SHAPE@
INITIAL_WEIGHTS = @INITIAL_WEIGHTS@  # a state_dict file to start from, or None
HERE = Path(__file__).resolve().parent


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

    def sum(self, values):
        """A float64 tensor of numbers summed over all processes."""
        if self.world > 1:
            dist.all_reduce(values)
        return values

    def barrier(self):
        if self.world > 1:
            dist.barrier()


def say(text):
    # One write for the line and its end, so that lines of processes never interleave.
    print(text + "\n", end="", flush=True)


def start_process():
    """Join torchrun's process group, if torchrun started us, and pick our device."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = pick_device(local_rank, world > 1)
    if world > 1:
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return Process(rank, local_rank, world, device)


def pick_device(local_rank, distributed):
    """CONFIG's device; "auto" takes a GPU if there is one. One GPU per local process."""
    wanted = CONFIG["training"]["device"]
    cuda = torch.cuda.is_available()
    if wanted.startswith("cuda") or (wanted == "auto" and cuda):
        if not cuda:
            raise SystemExit(f"train.py: device {wanted!r}: there is no CUDA GPU here")
        if distributed:
            return torch.device("cuda", local_rank)
        return torch.device("cuda" if wanted == "auto" else wanted)
    mps = torch.backends.mps.is_available() and not distributed
    if wanted == "mps" and not mps:
        raise SystemExit("train.py: device 'mps': not available (nor with torchrun)")
    return torch.device("mps" if mps and wanted != "cpu" else "cpu")


def load_data(proc):
    """The project's dataset, prepared by Designer's data layer, in memory on the CPU."""
    from designer.data import DataError, DatasetConfig, prepare  # pip install designer

    # Local rank 0 goes first, so that a cache of decoded images is made once per machine.
    if proc.local_rank != 0:
        proc.barrier()
    try:
        config = DatasetConfig.from_json(CONFIG["dataset"])
        data = prepare(config, INPUT_SHAPE, output_shape=OUTPUT_SHAPE, base_dir=HERE)
    except DataError as exc:
        raise SystemExit(f"train.py: {exc}") from None
    finally:
        if proc.local_rank == 0:
            proc.barrier()
    return data


def train_loader(data, proc, batch_size):
    """Batches of this process's share of the training set, in a new order each epoch."""
    dataset = TensorDataset(data.train.images, data.train.labels)
    # With one process too: set_epoch gives each epoch its own seeded order, the same
    # in every process, and each process its own share of it.
    sampler = DistributedSampler(
        dataset, proc.world, proc.rank, shuffle=True, seed=CONFIG["training"]["seed"]
    )
    # A short last batch is left out (one sample is too few for BatchNorm) unless it is
    # the only one. Whole batches of indices go to the dataset: one indexing per batch.
    batches = BatchSampler(sampler, batch_size, drop_last=len(sampler) > batch_size)
    pin = proc.device.type == "cuda"
    loader = DataLoader(dataset, sampler=batches, batch_size=None, pin_memory=pin)
    return loader, sampler


class Preprocess:
    """Stored pixels to model inputs, as Designer's data layer makes them.

    Random crops and flips (training only) work on the stored pixels, zero-padded;
    then pixels go to the 0..1 scale and are normalised with the training set's
    per-channel mean and standard deviation.
    """

    def __init__(self, data, device):
        scale = 1 / 255 if data.train.images.dtype == torch.uint8 else 1.0
        mean = torch.tensor(data.stats.mean, device=device).view(1, -1, 1, 1)
        std = torch.tensor(data.stats.std, device=device).view(1, -1, 1, 1)
        self.a, self.b = scale / std, -mean / std
        self.flatten = data.train.flatten  # a flat Input takes C*H*W features
        self.device = device
        self.augment = CONFIG["dataset"]["augment"]
        self.channels_last = CONFIG["training"]["channels_last"]

    def __call__(self, x, y, generator=None):
        x = x.to(self.device, non_blocking=True)
        y = y.to(self.device, non_blocking=True)
        if generator is not None and self.augment["crop_padding"] > 0:
            x = random_crop(x, self.augment["crop_padding"], generator)
        if generator is not None and self.augment["hflip"]:
            x = random_flip(x, generator)
        x = x * self.a + self.b
        if self.flatten:
            return x.flatten(1), y
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return x, y


def random_crop(x, padding, generator):
    """Each image cropped back to its size at a random offset in its zero-padded copy."""
    n, c, h, w = x.shape
    padded = F.pad(x, (padding, padding, padding, padding))
    dy, dx = torch.randint(2 * padding + 1, (2, n, 1), generator=generator).to(x.device)
    rows = (torch.arange(h, device=x.device) + dy)[:, None, :, None]  # N,1,H,1
    cols = (torch.arange(w, device=x.device) + dx)[:, None, None, :]  # N,1,1,W
    samples = torch.arange(n, device=x.device)[:, None, None, None]
    channels = torch.arange(c, device=x.device)[None, :, None, None]
    return padded[samples, channels, rows, cols]


def random_flip(x, generator):
    """Each image mirrored left to right with probability 1/2."""
    flip = (torch.rand(x.shape[0], generator=generator) < 0.5).to(x.device)
    return torch.where(flip[:, None, None, None], x.flip(3), x)


def make_optimizer(params, cfg):
    if cfg["optimizer"] == "sgd":
        return torch.optim.SGD(
            params,
            lr=cfg["lr"],
            momentum=cfg["momentum"],
            nesterov=cfg["nesterov"],
            weight_decay=cfg["weight_decay"],
        )
    if cfg["optimizer"] in ("adam", "adamw"):
        kind = torch.optim.Adam if cfg["optimizer"] == "adam" else torch.optim.AdamW
        betas = tuple(cfg["betas"])
        return kind(params, lr=cfg["lr"], betas=betas, weight_decay=cfg["weight_decay"])
    if cfg["optimizer"] == "rmsprop":
        return torch.optim.RMSprop(
            params,
            lr=cfg["lr"],
            momentum=cfg["momentum"],
            weight_decay=cfg["weight_decay"],
        )
    raise SystemExit("train.py: optimizer must be sgd, adam, adamw or rmsprop")


def lr_factor(step, steps_per_epoch, cfg):
    """The rate of optimizer step `step` (from 0), as a multiple of cfg["lr"].

    The schedule's decay, kept at min_lr or above, times a linear warm-up over the
    first warmup_steps steps. For "plateau" the decay is ReduceLROnPlateau's.
    """
    lr, min_lr, gamma = cfg["lr"], cfg["min_lr"], cfg["gamma"]
    if cfg["schedule"] == "step":  # gamma every decay_epochs epochs, in stairs
        rate = lr * gamma ** math.floor(step / (cfg["decay_epochs"] * steps_per_epoch))
    elif cfg["schedule"] == "exponential":  # the same fall, smoothly
        rate = lr * gamma ** (step / steps_per_epoch / cfg["decay_epochs"])
    elif cfg["schedule"] == "cosine":  # from lr down to min_lr at the last epoch's end
        progress = min(1.0, step / (cfg["epochs"] * steps_per_epoch))
        rate = min_lr + (lr - min_lr) * 0.5 * (1 + math.cos(math.pi * progress))
    else:
        rate = lr
    warmup = cfg["warmup_steps"]
    return max(min_lr, rate) / lr * ((step + 1) / warmup if step < warmup else 1.0)


def make_loss(cfg):
    """The loss, called as loss(output, target) and averaged over the batch."""
    if cfg["loss"] == "cross_entropy":
        return nn.CrossEntropyLoss(label_smoothing=cfg["label_smoothing"])
    if cfg["loss"] == "hinge":
        return nn.MultiMarginLoss()
    regression = {"mse": nn.MSELoss(), "l1": nn.L1Loss()}[cfg["loss"]]

    def loss(output, target):
        # Class labels become one-hot rows, so a regression loss trains a classifier too.
        if not target.is_floating_point() and output.dim() == 2 and target.dim() == 1:
            target = F.one_hot(target, output.shape[1]).to(output.dtype)
        return regression(output, target)

    return loss


def autocast_dtype(device, precision):
    """The dtype autocast computes in, or None for float32 throughout."""
    if precision == "fp16" and device.type == "cpu":
        raise SystemExit("train.py: fp16 needs a GPU; on the CPU choose bf16 or fp32")
    return {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]


@dataclass
class Training:
    """The model, what updates it, and how far it has come."""

    model: nn.Module  # what the steps call: wrapped in DDP and compiled, maybe
    raw: nn.Module  # the model.py instance itself: its state_dict is the checkpoint's
    optimizer: torch.optim.Optimizer
    per_step: LambdaLR  # warm-up and decay, stepped after every optimizer step
    plateau: ReduceLROnPlateau | None  # stepped with the validation loss, if chosen
    scaler: torch.amp.GradScaler  # scales fp16 losses; does nothing otherwise
    loss: nn.Module
    device: torch.device
    dtype: torch.dtype | None
    epoch: int = 0  # epochs completed
    step: int = 0  # optimizer steps taken

    def autocast(self):
        dtype = self.dtype or torch.float32
        return torch.autocast(self.device.type, dtype, enabled=self.dtype is not None)


def build(proc, steps_per_epoch, resume):
    """The model from model.py with its optimizer, schedules and loss, or a checkpoint's."""
    from model import @CLASS@  # model.py, beside this script

    cfg = CONFIG["training"]
    torch.manual_seed(cfg["seed"])  # the same initial weights in every process
    raw = @CLASS@()
    if INITIAL_WEIGHTS is not None:
        path = HERE / INITIAL_WEIGHTS
        raw.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    raw.to(proc.device)
    if cfg["channels_last"]:
        raw.to(memory_format=torch.channels_last)
    optimizer = make_optimizer(list(raw.parameters()), cfg)
    per_step = LambdaLR(optimizer, lambda step: lr_factor(step, steps_per_epoch, cfg))
    plateau = None
    if cfg["schedule"] == "plateau":
        plateau = ReduceLROnPlateau(
            optimizer,
            factor=cfg["gamma"],
            patience=cfg["patience"],
            min_lr=cfg["min_lr"],
        )
    dtype = autocast_dtype(proc.device, cfg["precision"])
    scaler = torch.amp.GradScaler(proc.device.type, enabled=dtype == torch.float16)
    t = Training(
        model=raw,
        raw=raw,
        optimizer=optimizer,
        per_step=per_step,
        plateau=plateau,
        scaler=scaler,
        loss=make_loss(cfg),
        device=proc.device,
        dtype=dtype,
    )
    if resume:
        load_checkpoint(t, resume)
    if proc.world > 1:
        ids = [proc.device.index] if proc.device.type == "cuda" else None
        t.model = DistributedDataParallel(raw, device_ids=ids)
    if cfg["compile"]:
        t.model = torch.compile(t.model)
    # Dropout draws differently in each process and epoch, the same on a resumed run.
    torch.manual_seed(cfg["seed"] + 1 + t.epoch * proc.world + proc.rank)
    return t


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
    # With "plateau" the per-step schedule only warms up; ReduceLROnPlateau takes over.
    if t.plateau is None or t.per_step.last_epoch < CONFIG["training"]["warmup_steps"]:
        t.per_step.step()
    return loss.detach(), correct(output, y)


def correct(output, y):
    """How many predicted classes (the highest output) match the labels."""
    if output.dim() != 2 or y.dim() != 1:
        return torch.zeros((), device=y.device)
    return (output.argmax(1) == y).sum()


def train_epoch(t, loader, preprocess, proc, args):
    """One pass over this process's share: the totals of all processes and the time."""
    t.model.train()
    cfg = CONFIG["training"]
    # Augmentation draws from its own generator, seeded for each epoch and process.
    generator = torch.Generator()
    generator.manual_seed(cfg["seed"] + t.epoch * proc.world + proc.rank)
    # Sums of the loss times the samples, of the correct predictions and of the samples.
    totals = torch.zeros(3, dtype=torch.float64, device=proc.device)
    window = torch.zeros_like(totals)  # since the last progress line
    started = mark = time.perf_counter()
    for batch in loader:
        x, y = preprocess(*batch, generator)
        loss, right = train_step(t, x, y)
        window[0] += loss * len(y)
        window[1] += right
        window[2] += len(y)
        if t.step % args.log_every == 0:
            now, lr = time.perf_counter(), t.optimizer.param_groups[0]["lr"]
            text = describe(proc.sum(window.clone()), now - mark)
            proc.log(f"epoch {t.epoch + 1} step {t.step} {text} lr {lr:.4g}")
            totals += window
            window.zero_()
            mark = now
        if args.max_steps and t.step >= args.max_steps:
            break
    return proc.sum(totals + window), time.perf_counter() - started


@torch.no_grad()
def evaluate(t, split, preprocess, proc):
    """Totals over the validation set; each process takes every world-th sample."""
    t.raw.eval()
    images = split.images[proc.rank :: proc.world]
    labels = split.labels[proc.rank :: proc.world]
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
    return proc.sum(totals)


def describe(totals, seconds=None):
    """Mean loss and accuracy from totals (loss*n, correct, n), and samples per second."""
    loss, right, n = totals.tolist()
    n = max(n, 1)
    text = f"loss {loss / n:.4f} acc {right / n:.4f}"
    return text if seconds is None else f"{text} {n / max(seconds, 1e-9):.0f} samples/s"


def save_checkpoint(t, path):
    """Written to a temporary file, then renamed: a crash leaves the last one whole."""
    state = {
        "model": t.raw.state_dict(),
        "optimizer": t.optimizer.state_dict(),
        "per_step": t.per_step.state_dict(),
        "plateau": None if t.plateau is None else t.plateau.state_dict(),
        "scaler": t.scaler.state_dict(),
        "epoch": t.epoch,
        "step": t.step,
        "config": CONFIG,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(path.name + ".tmp")
    torch.save(state, temp)
    os.replace(temp, path)


def load_checkpoint(t, path):
    state = torch.load(path, map_location="cpu", weights_only=True)
    t.raw.load_state_dict(state["model"])
    t.optimizer.load_state_dict(state["optimizer"])
    t.per_step.load_state_dict(state["per_step"])
    if t.plateau is not None and state["plateau"] is not None:
        t.plateau.load_state_dict(state["plateau"])
    if state["scaler"]:
        t.scaler.load_state_dict(state["scaler"])
    t.epoch, t.step = state["epoch"], state["step"]


def parse_args():
    parser = argparse.ArgumentParser(description="Train the network in model.py.")
    parser.add_argument("--out", default="checkpoints", help="the checkpoint folder")
    parser.add_argument("--resume", metavar="FILE", help="go on from this checkpoint")
    parser.add_argument("--epochs", type=int, help="train this many epochs in all")
    parser.add_argument("--max-steps", type=int, help="stop after this many steps")
    parser.add_argument("--log-every", type=int, help="steps between progress lines")
    return parser.parse_args()


def main():
    args = parse_args()
    cfg = CONFIG["training"]
    cfg["epochs"] = args.epochs or cfg["epochs"]
    args.log_every = args.log_every or cfg["log_every"]
    proc = start_process()
    data = load_data(proc)
    # batch_size is the batch of one step in all, as in the app: split over processes.
    batch_size = max(1, cfg["batch_size"] // proc.world)
    loader, sampler = train_loader(data, proc, batch_size)
    t = build(proc, len(loader), args.resume)
    preprocess = Preprocess(data, proc.device)
    proc.log(
        f"{len(data.train)} training and {len(data.val)} validation samples; "
        f"{len(loader)} steps per epoch of {batch_size} samples in each of "
        f"{proc.world} process(es) on {proc.device.type}"
    )
    val = None
    while t.epoch < cfg["epochs"] and not (args.max_steps and t.step >= args.max_steps):
        sampler.set_epoch(t.epoch)
        totals, seconds = train_epoch(t, loader, preprocess, proc, args)
        val = evaluate(t, data.val, preprocess, proc) if len(data.val) else None
        t.epoch += 1
        warm = t.per_step.last_epoch >= cfg["warmup_steps"]
        if t.plateau is not None and val is not None and warm:
            t.plateau.step(val[0].item() / max(val[2].item(), 1))
        lr = t.optimizer.param_groups[0]["lr"]
        text = f"epoch {t.epoch}/{cfg['epochs']} {describe(totals, seconds)}"
        text += f" lr {lr:.4g}" + ("" if val is None else " val " + describe(val))
        proc.log(text)
        if proc.rank == 0:
            save_checkpoint(t, Path(args.out) / "last.pt")
    if val is not None:
        proc.log(f"final validation {describe(val)}")
    say(f"rank {proc.rank}/{proc.world} done")
    if proc.world > 1:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
'''
