"""From a dataset description and the graph's Input to train and validation splits ready to batch.

The order matters for the user: cheap checks first (does the data fit the Input
at all?), then the load, the class check, the split, the one-off resize, the
statistics (from the training side only) and finally the move to the device.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from designer.data.batches import Split
from designer.data.config import DEFAULT_VALIDATION, Augment, DatasetConfig
from designer.data.errors import DataConfigError
from designer.data.fit import DatasetInfo, Geometry, check_classes, plan_geometry
from designer.data.image_cache import Progress
from designer.data.imageset import ImageSet, RawData
from designer.data.mapped import Images, MappedImages
from designer.data.sources import open_source
from designer.data.split import split_indices
from designer.data.transforms import Stats, channel_stats, grayscale_to_rgb, resize_images

Part = ImageSet[Images]
_DEVICE_SHARE = 0.25  # of the free accelerator memory that a dataset may take to live there


@dataclass(frozen=True)
class Prepared:
    """A dataset ready for ``batches``: both splits, the class names, statistics and a summary."""

    train: Split
    val: Split
    class_names: tuple[str, ...]
    stats: Stats
    info: DatasetInfo
    augment: Augment
    config: DatasetConfig


def prepare(config: DatasetConfig, input_shape: tuple[int, ...], device: torch.device | str = "cpu", *,
            output_shape: tuple[int, ...] | None = None, cache_dir: Path | None = None,
            base_dir: Path | None = None, progress: Progress | None = None,
            map_above: int | None = None) -> Prepared:
    """Load, check, split, resize and normalise ``config``'s dataset for ``input_shape``.

    Raises DataFitError when the data cannot fit the Input (or ``output_shape``, if
    given), DataFileError naming the file for bad data, DataConfigError for a bad
    option. ``base_dir`` is where relative paths start (the project's folder).
    ``progress(done, total)`` hears how many images of a folder are decoded so far
    (only when they are not cached yet); a folder whose decoded images take more
    than ``map_above`` bytes is read from its cache file a batch at a time.
    """
    source = open_source(config, base_dir, cache_dir, progress=progress, map_above=map_above)
    geometry = plan_geometry(input_shape, source.channels, config.grayscale_to_rgb, source.native_size,
                             source.colour_note)
    raw = source.load(geometry.size)
    classes = len(raw.class_names)
    if output_shape is not None:
        check_classes(classes, output_shape)
    notes = list(raw.notes)
    if config.grayscale_to_rgb and source.channels != 1:
        notes.append(f"'grayscale to RGB' has no effect: the images already have {source.channels} channels")
    train, val, validation = _split(raw, config, notes)
    native = raw.train.size
    train, val = _shape(train, geometry), _shape(val, geometry)
    stats = channel_stats(train.images) if config.normalize else Stats.identity(geometry.channels)
    place = _placement(train, val, torch.device(device))
    info = DatasetInfo(config.name, geometry.channels, *geometry.size, classes, raw.class_names,
                       len(train), len(val), source.channels, native, validation, tuple(notes))
    return Prepared(_to_split(train, stats, geometry, place), _to_split(val, stats, geometry, place),
                    raw.class_names, stats, info, config.augment, config)


def _split(raw: RawData, config: DatasetConfig, notes: list[str]) -> tuple[Part, Part, str]:
    """The validation set: the source's own test split, or a seeded stratified share of training."""
    wanted = config.validation
    if wanted is None:
        wanted = "given" if raw.given_val is not None else DEFAULT_VALIDATION
    if wanted == "given":
        if raw.given_val is None:
            raise DataConfigError("validation", f"{config.name!r} has no test split of its own: "
                                                "give a fraction such as 0.1 instead")
        return raw.train, raw.given_val, "given"
    if raw.given_val is not None:
        notes.append(f"the source's own test split ({len(raw.given_val):,} images) is not used: "
                     f"validation is {wanted:g} of the training set")
    train_index, val_index = split_indices(raw.train.labels, float(wanted), config.seed)
    return _pick(raw.train, train_index), _pick(raw.train, val_index), f"{wanted:g}"


def _pick(part: Part, index: torch.Tensor) -> Part:
    """The samples at ``index``; a mapped set stays in its file (only the row numbers are copied)."""
    images = part.images
    chosen = images.subset(index) if isinstance(images, MappedImages) else images[index]
    return ImageSet(chosen, part.labels[index])


def _shape(images: Part, geometry: Geometry) -> Part:
    pixels = images.images
    if isinstance(pixels, MappedImages):  # decoded at the Input's size already: nothing to resize
        return ImageSet(pixels.as_rgb() if geometry.channels == 3 else pixels, images.labels)
    pixels = grayscale_to_rgb(pixels) if geometry.channels == 3 else pixels
    return ImageSet(resize_images(pixels, geometry.size), images.labels)


def _placement(train: Part, val: Part, device: torch.device) -> torch.device:
    """The training device if both splits fit comfortably in its free memory, else the CPU.

    A mapped set stays on the CPU, in its file: each batch goes to the device on its own.
    """
    if device.type == "cpu" or isinstance(train.images, MappedImages):
        return device if device.type == "cpu" else torch.device("cpu")
    needed = sum(s.images.nbytes + s.labels.nbytes for s in (train, val))
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return device if needed <= _DEVICE_SHARE * free else torch.device("cpu")
    return device if needed <= 2**30 else torch.device("cpu")


def _to_split(images: Part, stats: Stats, geometry: Geometry, device: torch.device) -> Split:
    pixels = images.images
    placed = pixels if isinstance(pixels, MappedImages) else pixels.to(device)
    return Split(placed, images.labels.to(device), stats, geometry.flatten)
