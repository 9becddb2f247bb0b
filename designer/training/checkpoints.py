"""Checkpoint files: everything a run needs to go on exactly where it stopped.

A checkpoint is one ``torch.save`` dict of tensors, plain containers and
numbers, so that it loads with ``torch.load(..., weights_only=True)`` and never
runs code from the file::

    format, version      "designer-checkpoint", 1
    model                the state_dict (``designer.export.load_weights`` reads it)
    optimizer            optimizer.state_dict()
    schedule             Schedule.state_dict(): steps and the plateau's state
    scaler               GradScaler.state_dict() ({} unless fp16)
    epoch                epochs completed
    batch                batches done of the next epoch (0 at an epoch's end)
    step                 optimizer steps taken
    epoch_sums           {"loss", "correct", "count"} of the unfinished epoch
    rng                  {"torch": CPU state, "cuda": [per GPU], "mps": state or None,
                          "data": the data hook's state at the start of the next epoch}
    best                 {"score": float, "epoch": int}; score is -inf until validated
    config, graph        the training settings and the graph, as JSON values

It is written with :func:`write_atomic`, so a crash while saving leaves the
previous checkpoint whole. It is read with :func:`designer.export.read_tensor_file`,
the reader of weights files too, so a file that cannot be read gets the same
words in both places; its random-number states are checked on reading, since
torch rejects a malformed one only later, mid-run, with a traceback.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any, Protocol

import torch

from designer.export import TensorFileError, read_tensor_file
from designer.graph.files import make_folder, write_atomic
from designer.training.errors import CheckpointError

FORMAT = "designer-checkpoint"
VERSION = 1


class DataState(Protocol):
    """A hook to save and restore the data layer's random state; a ``torch.Generator`` is one."""

    def get_state(self) -> Any: ...

    def set_state(self, state: Any) -> None: ...


def rng_states(device: torch.device) -> dict[str, Any]:
    """The global random states that training draws from (dropout, initialisation)."""
    states: dict[str, Any] = {"torch": torch.get_rng_state(), "cuda": [], "mps": None}
    if device.type == "cuda":
        states["cuda"] = torch.cuda.get_rng_state_all()
    elif device.type == "mps":
        states["mps"] = torch.mps.get_rng_state()
    return states


def restore_rng_states(states: dict[str, Any], device: torch.device) -> None:
    torch.set_rng_state(states["torch"])
    cuda = states.get("cuda") or []
    if device.type == "cuda" and len(cuda) == torch.cuda.device_count():  # else: another machine
        torch.cuda.set_rng_state_all(cuda)
    elif device.type == "mps" and states.get("mps") is not None:
        torch.mps.set_rng_state(states["mps"])


def encode(checkpoint: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    torch.save({"format": FORMAT, "version": VERSION, **checkpoint}, buffer)
    return buffer.getvalue()


def save_checkpoint(path: Path, checkpoint: dict[str, Any] | bytes) -> None:
    """Write ``checkpoint`` (a dict, or ``encode``'s bytes to write one encoding twice) atomically."""
    data = checkpoint if isinstance(checkpoint, bytes) else encode(checkpoint)
    make_folder(path.parent)
    write_atomic(path, data)


def load_checkpoint(path: Path) -> dict[str, Any]:
    """A checkpoint as saved, on the CPU; a CheckpointError says why one cannot be read."""
    if not os.path.lexists(path):
        raise CheckpointError(f"{path}: no checkpoint there; the run stopped before it saved one")
    try:
        data = read_tensor_file(path)
    except TensorFileError as exc:
        raise CheckpointError(str(exc)) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a Designer training checkpoint")
    if data.get("version") != VERSION:
        raise CheckpointError(f"{path}: checkpoint version {data.get('version')} is not one this "
                              f"Designer reads (it reads {VERSION})")
    problem = rng_problem(data.get("rng"))
    if problem is not None:
        raise CheckpointError(f"{path}: {problem}, so the run cannot go on from it bit-exactly")
    return data


def rng_problem(states: Any) -> str | None:
    """What is wrong with a checkpoint's random-number states, in words (None when they can be restored).

    The CPU states are tried on a fresh generator, which checks them as
    :func:`restore_rng_states` would, without touching the global one.
    """
    if not isinstance(states, dict):
        return "its random-number state (rng) is missing or not a dictionary"
    for key, optional in (("torch", False), ("data", True)):
        state: Any = states.get(key)
        if state is None and optional:
            continue
        try:
            torch.Generator().set_state(state)
        except (TypeError, RuntimeError) as exc:
            return f"its random-number state rng[{key!r}] is malformed ({_first_line(exc)})"
    cuda, mps = states.get("cuda"), states.get("mps")
    gpu = cuda if isinstance(cuda, list) else [] if cuda is None else [cuda]
    gpu = gpu + ([] if mps is None else [mps])
    if not all(isinstance(s, torch.Tensor) and s.dtype == torch.uint8 and s.dim() == 1 for s in gpu):
        return "its GPU random-number states (rng['cuda'], rng['mps']) are malformed (expected byte tensors)"
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:120] if text else type(exc).__name__
