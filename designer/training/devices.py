"""Which device trains, in which precision, and how batches get there.

``pick_device`` resolves ``training.device``: ``auto`` takes the first CUDA GPU,
then Apple's MPS, then the CPU; a named device that is not there is an error
listing the ones that are. ``describe_devices`` lists them for the editor.
``Precision`` says what autocast and the gradient scaler do on the chosen device.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch

from designer.training import portable
from designer.training.config import TrainingConfig
from designer.training.distributed import SINGLE, World
from designer.training.errors import DeviceError

GIB = 1 << 30


@dataclass(frozen=True)
class DeviceInfo:
    """One device as the editor lists it: ``name`` is what ``training.device`` takes."""

    name: str  # "cuda:0", "mps", "cpu"
    kind: str  # "cuda", "mps", "cpu"
    label: str  # "NVIDIA H100 80GB HBM3, 79.2 GiB"
    memory_bytes: int | None = None


def describe_devices() -> list[DeviceInfo]:
    """Every device this machine can train on, GPUs first, the CPU last."""
    found = []
    if torch.cuda.is_available():
        for index in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(index)
            label = f"{props.name}, {props.total_memory / GIB:.1f} GiB"
            found.append(DeviceInfo(f"cuda:{index}", "cuda", label, int(props.total_memory)))
    if portable.mps_available():
        found.append(DeviceInfo("mps", "mps", "Apple GPU (Metal)"))
    found.append(DeviceInfo("cpu", "cpu", f"CPU, {os.cpu_count() or 1} cores"))
    return found


def pick_device(config: TrainingConfig, world: World = SINGLE) -> torch.device:
    """The device ``config.device`` names, or the best one here for ``auto``.

    A process of a data-parallel job takes the GPU of its local rank (and makes
    it the current one), or the CPU. The choice is the exported script's too
    (:func:`designer.training.portable.pick_device`).
    """
    try:
        device = portable.pick_device(config.device, world.local_rank, world.parallel)
    except portable.SetupError as exc:
        raise DeviceError(str(exc)) from None
    if world.parallel and device.type == "cuda":
        torch.cuda.set_device(device)
    return device


@dataclass(frozen=True)
class Precision:
    """How the forward pass runs on one device: autocast's dtype (None: fp32) and loss scaling."""

    device_type: str
    autocast_dtype: torch.dtype | None
    scales_loss: bool  # fp16 gradients underflow without a GradScaler; bf16 ones do not

    def autocast(self) -> torch.autocast:
        return torch.autocast(self.device_type, dtype=self.autocast_dtype or torch.float32,
                              enabled=self.autocast_dtype is not None)

    def grad_scaler(self) -> torch.amp.GradScaler:
        return torch.amp.GradScaler(self.device_type, enabled=self.scales_loss)


def check_precision(config: TrainingConfig, device: torch.device) -> Precision:
    """The precision for ``config`` on ``device``, or a DeviceError saying what to choose instead."""
    try:
        dtype = portable.autocast_dtype(config.precision, device)
    except portable.SetupError as exc:
        raise DeviceError(str(exc)) from None
    return Precision(device.type, dtype, dtype == torch.float16)


def to_device(tensor: torch.Tensor, device: torch.device, channels_last: bool = False) -> torch.Tensor:
    """Copy a batch to ``device`` without making the host wait.

    A copy from pageable memory to a CUDA GPU is synchronous, so a CPU batch is
    pinned first (the data layer may hand over pinned tensors already); then the
    copy overlaps with the GPU still working on the previous step.
    """
    if device.type == "cuda" and tensor.device.type == "cpu" and not tensor.is_pinned():
        tensor = tensor.pin_memory()
    tensor = tensor.to(device, non_blocking=device.type == "cuda")
    if channels_last and tensor.dim() == 4:
        tensor = tensor.contiguous(memory_format=torch.channels_last)
    return tensor
