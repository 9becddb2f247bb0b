"""Designer's training parts that need only PyTorch: optimizer, schedule, losses, augmentation, devices.

This one file serves two masters. Designer's engine builds its optimizer, schedule
and loss here (:mod:`designer.training.factories` and ``schedules`` pass it the
settings), and an exported training script gets a byte-for-byte copy of it beside
its ``train.py``, so that the script trains exactly as the app does with nothing
but torch installed. Hence the rules for this file: it imports only torch and the
standard library, and its functions take plain values (a mapping of the
``training`` settings as a project file writes them), never Designer's classes.

Also here: the device a setting names, the autocast dtype of a precision, atomic
checkpoint files, and the two helpers that make data-parallel processes shard an
epoch and sum their metrics the same way in the engine and in the script.
"""

from __future__ import annotations

import math
import os
import pickle
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

PLATEAU_THRESHOLD = (
    1e-4  # relative improvement that counts, as in torch's ReduceLROnPlateau
)
Settings = Mapping[
    str, Any
]  # a project's "training" object: {"optimizer": "sgd", "lr": 0.01, ...}


class SetupError(Exception):
    """A setting, device or file that cannot be used; the message is one sentence for the user."""


# -- optimizer and loss -------------------------------------------------------------------


def make_optimizer(
    params: Iterable[nn.Parameter],
    settings: Settings,
    device: torch.device | None = None,
) -> torch.optim.Optimizer:
    """The optimizer ``settings["optimizer"]`` names; settings it does not use are ignored.

    On CUDA, Adam and AdamW use their fused kernels (one launch for all the
    parameters instead of several per tensor).
    """
    s, params = settings, list(params)
    name, lr, decay = s["optimizer"], float(s["lr"]), float(s["weight_decay"])
    fused = {"fused": True} if device is not None and device.type == "cuda" else {}
    if name == "sgd":
        return torch.optim.SGD(
            params,
            lr=lr,
            momentum=s["momentum"],
            nesterov=s["nesterov"],
            weight_decay=decay,
        )
    if name in ("adam", "adamw"):
        kind = torch.optim.Adam if name == "adam" else torch.optim.AdamW
        betas = (float(s["betas"][0]), float(s["betas"][1]))
        return kind(params, lr=lr, betas=betas, weight_decay=decay, **fused)
    if name == "rmsprop":
        return torch.optim.RMSprop(
            params, lr=lr, momentum=s["momentum"], weight_decay=decay
        )
    raise SetupError(
        f"training.optimizer: {name!r} is not one of sgd, adam, adamw, rmsprop"
    )


class ClassTargetLoss(nn.Module):
    """A regression loss that also takes class labels: integer targets become one-hot rows."""

    def __init__(self, loss: nn.Module) -> None:
        super().__init__()
        self.loss = loss

    def forward(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if not target.is_floating_point() and output.dim() == 2 and target.dim() == 1:
            target = F.one_hot(target, output.shape[1]).to(output.dtype)
        loss: torch.Tensor = self.loss(output, target)
        return loss


def make_loss(settings: Settings) -> nn.Module:
    """The loss ``settings["loss"]`` names, called as ``loss(output, target)``, averaged over the batch.

    MSE and L1 take class labels too (as one-hot rows), so all four train a classifier.
    """
    name = settings["loss"]
    if name == "cross_entropy":
        return nn.CrossEntropyLoss(label_smoothing=float(settings["label_smoothing"]))
    if name == "mse":
        return ClassTargetLoss(nn.MSELoss())
    if name == "l1":
        return ClassTargetLoss(nn.L1Loss())
    if name == "hinge":
        return nn.MultiMarginLoss()
    raise SetupError(
        f"training.loss: {name!r} is not one of cross_entropy, mse, l1, hinge"
    )


# -- learning-rate schedule ---------------------------------------------------------------


class Schedule:
    """Sets the learning rate of each step; call ``step()`` after every optimizer step.

    Before every step each parameter group's rate becomes ``base · warm-up(step) ·
    decay``, where the decay is a pure function of the step for constant, step,
    exponential and cosine, and a factor that ``epoch_end`` lowers for plateau.
    Computing the rate from the step, rather than multiplying it step by step,
    keeps a resumed run exactly on the curve and lets warm-up and plateau share
    the rate without overwriting each other (torch's LambdaLR and
    ReduceLROnPlateau would).
    """

    def __init__(
        self, optimizer: torch.optim.Optimizer, settings: Settings, steps_per_epoch: int
    ) -> None:
        self.optimizer = optimizer
        self.settings = dict(settings)
        self.steps_per_epoch = max(1, steps_per_epoch)
        self.base_lrs = [
            float(group.get("initial_lr", group["lr"]))
            for group in optimizer.param_groups
        ]
        for group, base in zip(optimizer.param_groups, self.base_lrs):
            group["initial_lr"] = base
        self.steps = 0  # optimizer steps taken so far
        self.plateau_scale = 1.0
        self.plateau_best = math.inf
        self.plateau_bad_epochs = 0
        self._apply()

    @property
    def per_epoch(self) -> bool:
        """Whether the schedule also needs ``epoch_end`` with the validation loss."""
        return bool(self.settings["schedule"] == "plateau")

    @property
    def lr(self) -> float:
        """The rate of the first parameter group for the next step."""
        return float(self.optimizer.param_groups[0]["lr"])

    def factor(self, step: int) -> float:
        """The decay for the ``step``-th step (0-based), before warm-up and the min_lr floor."""
        s, per_epoch = self.settings, self.steps_per_epoch
        gamma, decay_epochs = float(s["gamma"]), float(s["decay_epochs"])
        if s["schedule"] == "step":
            return gamma ** math.floor(step / (decay_epochs * per_epoch))
        if s["schedule"] == "exponential":
            return float(gamma ** (step / per_epoch / decay_epochs))
        if s["schedule"] == "cosine":
            progress = min(1.0, step / (s["epochs"] * per_epoch))
            return 0.5 * (1 + math.cos(math.pi * progress))
        if s["schedule"] == "plateau":
            return self.plateau_scale
        return 1.0

    def warmup(self, step: int) -> float:
        """Linear warm-up: step 0 gets 1/W of the rate, step W−1 all of it."""
        warm = int(self.settings["warmup_steps"])
        return 1.0 if step >= warm else (step + 1) / warm

    def lr_at(self, step: int, base: float) -> float:
        """The rate of the ``step``-th step for a group whose rate is ``base``; min_lr is the floor."""
        min_lr = float(self.settings["min_lr"])
        if self.settings["schedule"] == "cosine":
            decayed = min_lr + (base - min_lr) * self.factor(step)
        else:
            decayed = max(min_lr, base * self.factor(step))
        return decayed * self.warmup(step)

    def _apply(self) -> None:
        for group, base in zip(self.optimizer.param_groups, self.base_lrs):
            group["lr"] = self.lr_at(self.steps, base)

    def step(self) -> None:
        self.steps += 1
        self._apply()

    def epoch_end(self, val_loss: float | None) -> None:
        """Plateau: lower the rate by ``gamma`` after ``patience`` epochs without improvement."""
        if not self.per_epoch or val_loss is None or not math.isfinite(val_loss):
            return
        if val_loss < self.plateau_best * (1 - PLATEAU_THRESHOLD):
            self.plateau_best = val_loss
            self.plateau_bad_epochs = 0
        else:
            self.plateau_bad_epochs += 1
        if self.plateau_bad_epochs > self.settings["patience"]:
            self.plateau_scale *= float(self.settings["gamma"])
            self.plateau_bad_epochs = 0
        self._apply()

    def state_dict(self) -> dict[str, Any]:
        return {
            "steps": self.steps,
            "plateau_scale": self.plateau_scale,
            "plateau_best": self.plateau_best,
            "plateau_bad_epochs": self.plateau_bad_epochs,
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.steps = int(state["steps"])
        self.plateau_scale = float(state["plateau_scale"])
        self.plateau_best = float(state["plateau_best"])
        self.plateau_bad_epochs = int(state["plateau_bad_epochs"])
        self._apply()


# -- augmentation -------------------------------------------------------------------------


def augment_batch(
    x: torch.Tensor,
    crop_padding: int,
    hflip: bool,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Random crops after zero padding and random horizontal flips, drawn per sample.

    Both are one ``gather``: each sample's output pixel (i, j) is read from the padded
    image at (row offset + i, column offset + j), or + (W − 1 − j) when flipped. Works
    on any dtype, so it runs on uint8 pixels before they are converted.
    """
    if crop_padding <= 0 and not hflip:
        return x
    n, c, h, w = x.shape
    p = max(crop_padding, 0)
    padded = F.pad(x, (p, p, p, p)) if p else x
    offsets = _randint(2 * p + 1, (2, n), generator, x.device)
    columns = torch.arange(w, device=x.device)
    if hflip:
        flip = _rand((n,), generator, x.device) < 0.5
        columns = torch.where(flip[:, None], columns.flip(0), columns)  # [N, W]
    columns = columns + offsets[1][:, None]
    rows = (torch.arange(h, device=x.device) + offsets[0][:, None]) * (
        w + 2 * p
    )  # [N, H]
    index = (
        (rows[:, :, None] + columns[:, None, :]).view(n, 1, h * w).expand(n, c, h * w)
    )
    return padded.reshape(n, c, -1).gather(2, index).view(n, c, h, w)


def random_crop(
    x: torch.Tensor, padding: int, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Each sample cropped back to its size at its own offset in the zero-padded batch."""
    return augment_batch(x, padding, False, generator)


def _rand(
    shape: tuple[int, ...], generator: torch.Generator | None, device: torch.device
) -> torch.Tensor:
    # Random numbers come from the generator's own device, so one seed gives one result anywhere.
    where = generator.device if generator is not None else torch.device("cpu")
    return torch.rand(shape, generator=generator, device=where).to(device)


def _randint(
    high: int,
    shape: tuple[int, ...],
    generator: torch.Generator | None,
    device: torch.device,
) -> torch.Tensor:
    where = generator.device if generator is not None else torch.device("cpu")
    return torch.randint(high, shape, generator=generator, device=where).to(device)


# -- devices and precision ----------------------------------------------------------------


def pick_device(
    wanted: str, local_rank: int = 0, distributed: bool = False
) -> torch.device:
    """The device ``wanted`` names ("auto", "cpu", "cuda", "cuda:1", "mps").

    "auto" takes a CUDA GPU, then Apple's MPS, then the CPU. A data-parallel
    process (``distributed``) takes the GPU of its ``local_rank``, and never MPS.
    """
    cuda = torch.cuda.is_available()
    mps = mps_available() and not distributed
    if wanted == "auto":
        if cuda:
            return torch.device(
                "cuda", local_rank if distributed else torch.cuda.current_device()
            )
        return torch.device("mps" if mps else "cpu")
    if wanted == "cuda:all":  # one process per GPU: this one takes its rank's
        wanted = "cuda"
    try:
        device = torch.device(wanted)
    except RuntimeError:
        raise SetupError(
            f"training.device: {wanted!r} is not a device; choose one of {_available()}"
        ) from None
    if device.type == "cuda":
        index = local_rank if distributed else device.index or 0
        if not cuda or index >= torch.cuda.device_count():
            raise SetupError(
                f"training.device: {wanted} is not available on this machine; "
                f"choose one of {_available()}"
            )
        return torch.device("cuda", index)
    if device.type == "mps" and not mps:
        why = " with several processes" if distributed and mps_available() else ""
        raise SetupError(
            f"training.device: mps (Apple GPU) is not available{why}; "
            f"choose one of {_available()}"
        )
    return device


def mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def _available() -> str:
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    names = [
        "auto",
        *(f"cuda:{i}" for i in range(count)),
        *(["mps"] if mps_available() else []),
        "cpu",
    ]
    return ", ".join(names)


def autocast_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """The dtype autocast computes in for ``precision`` on ``device``; None for float32 throughout."""
    if precision == "fp32":
        return None
    if precision == "fp16":
        if device.type == "cpu":
            raise SetupError(
                'training.precision: fp16 needs a GPU; on the CPU choose "bf16" or "fp32"'
            )
        return torch.float16
    if precision != "bf16":
        raise SetupError(
            f"training.precision: {precision!r} is not one of fp32, bf16, fp16"
        )
    if device.type == "cuda" and not _bf16_on_cuda(device):
        name = torch.cuda.get_device_name(device)
        raise SetupError(
            f'training.precision: {name} cannot compute in bf16; choose "fp16" or "fp32"'
        )
    return torch.bfloat16


def _bf16_on_cuda(device: torch.device) -> bool:
    with torch.cuda.device(device):
        try:  # emulated bf16 (before Ampere) is slower than fp32: it does not count
            return bool(torch.cuda.is_bf16_supported(including_emulation=False))
        except TypeError:  # torch before 2.4 has no such argument
            return bool(torch.cuda.is_bf16_supported())


# -- checkpoints --------------------------------------------------------------------------


def save_checkpoint(path: str | Path, state: Mapping[str, Any]) -> None:
    """``torch.save`` into a temporary file beside ``path``, synced, then renamed over it.

    Readers (and a crash at any moment) see the previous file or the new one, never half of one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
    )
    try:
        with os.fdopen(handle, "wb") as file:
            torch.save(dict(state), file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    # The rename itself survives a power cut only once the folder is synced (POSIX; Windows cannot).
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """A checkpoint as saved, on the CPU, read without running code from the file."""
    path = Path(path)
    if not path.is_file():
        what = (
            "is a folder"
            if path.is_dir()
            else "no such file"
            if not path.exists()
            else "is not a file"
        )
        raise SetupError(
            f"{path}: {what}; give a checkpoint file such as checkpoints/last.pt"
        )
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, OSError, EOFError, ValueError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
        raise SetupError(f"{path}: not a readable checkpoint ({first})") from None
    if not isinstance(state, dict) or "model" not in state:
        raise SetupError(f"{path}: not a training checkpoint (it holds no 'model')")
    return state


# -- data-parallel processes --------------------------------------------------------------


def shard_order(order: torch.Tensor, rank: int, world: int) -> torch.Tensor:
    """This process's share of an epoch's sample order: every ``world``-th, starting at ``rank``.

    The tail that does not divide evenly is left out, so every process takes as
    many steps as the others (a process with one batch more would wait forever).
    """
    n = len(order)
    return order[: n - n % world][rank::world]


def all_reduce_sums(values: torch.Tensor) -> torch.Tensor:
    """``values`` (e.g. loss·n, correct, n) summed over all processes, in place; as is in one process."""
    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        dist.all_reduce(values, op=dist.ReduceOp.SUM)
    return values
