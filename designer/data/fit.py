"""Whether a dataset fits a graph: its channels and size against the Input, its classes against the output.

Training checks this before it starts, and so can the editor, so that a mismatch
is a sentence about the dataset and the graph rather than a tensor error later.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from designer.data.errors import DataFitError


@dataclass(frozen=True)
class DatasetInfo:
    """What a prepared dataset holds: channels and size as batched, classes and counts."""

    name: str
    channels: int
    height: int
    width: int
    classes: int
    class_names: tuple[str, ...]
    train_count: int
    val_count: int
    source_channels: int
    source_size: tuple[int, int] | None
    validation: str  # "given", or the fraction held out, e.g. "0.1"
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Geometry:
    """How the images are shaped for the Input: channels, size, and whether batches are flattened."""

    channels: int
    size: tuple[int, int]
    flatten: bool


def plan_geometry(input_shape: tuple[int, ...], source_channels: int, grayscale_to_rgb: bool,
                  native_size: tuple[int, int] | None, colour_note: str = "") -> Geometry:
    """The channels and size the images need for ``input_shape``, or a DataFitError saying why not.

    ``colour_note`` names the few colour images that make a grayscale set RGB
    (see ``FolderScan.colour_note``); it is offered as the other fix when a
    1-channel Input is what the rest of the set fits.
    """
    channels = 3 if grayscale_to_rgb and source_channels == 1 else source_channels
    shape = tuple(int(d) for d in input_shape)
    if len(shape) == 3:
        problem = _channel_problem(channels, source_channels, shape)
        if problem:
            raise DataFitError(problem + _grayscale_fix(colour_note, shape[0] == 1))
        return Geometry(channels, (shape[1], shape[2]), False)
    if len(shape) == 1:
        try:
            size = _flat_size(shape[0], channels, source_channels, native_size)
        except DataFitError as exc:
            raise DataFitError(f"{exc}{_grayscale_fix(colour_note, _square_side(shape[0], 1) > 0)}") from None
        return Geometry(channels, size, True)
    raise DataFitError(f"Input {_fmt(shape)} is neither an image [C, H, W] nor flat features [F]: "
                       "change the Input to one of those")


def check_fits(info: DatasetInfo, input_shape: tuple[int, ...], output_shape: tuple[int, ...]) -> None:
    """Raise DataFitError if ``info``'s data cannot feed ``input_shape`` or train ``output_shape``."""
    plan_geometry(input_shape, info.source_channels, info.channels != info.source_channels,
                  (info.height, info.width))
    check_classes(info.classes, output_shape)


def check_classes(classes: int, output_shape: tuple[int, ...]) -> None:
    """A classifier's output is one score per class."""
    shape = tuple(int(d) for d in output_shape)
    if len(shape) != 1:
        raise DataFitError(f"the network's output is {_fmt(shape)}, but a classifier gives one score per "
                           f"class, [{classes}]: end the network with Flatten and Linear(…, {classes})")
    if shape[0] != classes:
        raise DataFitError(f"the last layer gives {shape[0]} outputs but the dataset has {classes} classes: "
                           f"set its width to {classes}")


def _grayscale_fix(colour_note: str, gray_fits: bool) -> str:
    return f", or convert to grayscale {colour_note}" if colour_note and gray_fits else ""


def _channel_problem(channels: int, source_channels: int, shape: tuple[int, ...]) -> str | None:
    wanted, size = shape[0], f"{shape[1]}, {shape[2]}"
    if channels == wanted:
        return None
    if channels == 1 and wanted == 3:
        return (f"dataset has 1 channel, Input expects 3: enable 'grayscale to RGB' "
                f"or change the Input to [1, {size}]")
    if source_channels == 1 and wanted == 1:
        return (f"dataset has 1 channel made into 3 by 'grayscale to RGB', Input expects 1: "
                f"turn 'grayscale to RGB' off or change the Input to [3, {size}]")
    plural = "" if channels == 1 else "s"
    return (f"dataset has {channels} channel{plural}, Input expects {wanted}: "
            f"change the Input to [{channels}, {size}]")


def _flat_size(features: int, channels: int, source_channels: int,
               native_size: tuple[int, int] | None) -> tuple[int, int]:
    """Flat inputs take square images flattened: ``features = channels × side × side``."""
    side = _square_side(features, channels)
    if side:
        return side, side
    hint = ""
    if source_channels == 1 and channels == 1 and _square_side(features, 3):
        side3 = _square_side(features, 3)
        hint = f"; enable 'grayscale to RGB' to read them as 3 × {side3} × {side3}"
    elif native_size is not None:
        h, w = native_size
        hint = f"; this dataset fits [{channels * h * w}] or [{channels}, {h}, {w}]"
    raise DataFitError(f"Input [{features}] takes {features} features, which is not {channels} channel"
                       f"{'' if channels == 1 else 's'} × a square image{hint}")


def _square_side(features: int, channels: int) -> int:
    if features % channels:
        return 0
    side = math.isqrt(features // channels)
    return side if side * side * channels == features and side > 0 else 0


def _fmt(shape: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(d) for d in shape) + "]"
