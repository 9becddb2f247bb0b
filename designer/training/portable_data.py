"""The datasets of an exported ``train.py``, read and prepared as Designer prepares them.

A byte-for-byte copy of this file goes beside the exported script (see
:mod:`designer.training.portable` for the rules: torch, numpy and the standard
library only; Pillow only for image folders). It reads CIFAR-10/100 (the python
pickles, from the ``.tar.gz`` or its folder, with an unpickler that builds only
arrays and plain data), MNIST and Fashion-MNIST IDX files, ``.npz`` files, image
folders, the digits file the export writes, and draws the generated shapes; then
it splits, resizes and measures the images as ``designer.data.prepare`` does,
so that the script trains on the same images as the app.
"""

from __future__ import annotations

import gzip
import io
import math
import os
import pickle
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
import torch.nn.functional as F

DEFAULT_VALIDATION = 0.1  # held out when the source has no test split of its own
DEFAULT_SAMPLES = 5000  # shapes
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp")
SHAPE_NAMES = (
    *("circle", "square", "triangle", "diamond", "ring"),
    *("plus", "frame", "cross", "semicircle", "star"),
)
_CHUNK_BYTES = 64 * 2**20  # float64 bytes per step when a set is resized or measured
_CIFAR = {  # folder, training batches, test batches, labels key, classes
    "cifar10": (
        "cifar-10-batches-py",
        [f"data_batch_{i}" for i in range(1, 6)],
        ["test_batch"],
        "labels",
        10,
    ),
    "cifar100": ("cifar-100-python", ["train"], ["test"], "fine_labels", 100),
}
_IDX = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte")}
_IDX["test"] = ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
_IDX_TYPES = {
    0x08: ">u1",
    0x09: ">i1",
    0x0B: ">i2",
    0x0C: ">i4",
    0x0D: ">f4",
    0x0E: ">f8",
}
_NPZ_VAL_KEYS = (("x_val", "y_val"), ("x_test", "y_test"))
_NPZ_KEYS = ("x", "y", *(key for pair in _NPZ_VAL_KEYS for key in pair), "class_names")
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a zip with members, an empty zip
_NPY_MAGIC = b"\x93NUMPY"
# Numbered classes up to this many are made however sparse the labels; beyond it a
# label must not stand far above the others, or one stray value (2·10⁹) would make
# a class, and a name, for every number.
_ANY_SPREAD = 100_000
_MAX_SPREAD = 10  # classes per distinct label, beyond _ANY_SPREAD
Geometry = tuple[int, tuple[int, int], bool]  # channels, (height, width), flatten
Pair = tuple[torch.Tensor, torch.Tensor]  # images, labels
Sets = tuple[Pair, Pair | None, int]


class DataProblem(Exception):
    """A dataset file or setting that cannot be used; the message names it and says why.

    ``path`` is the file or folder at fault (``None`` for a setting), ``reason``
    the message without it, so that Designer can raise its own error type.
    """

    def __init__(self, reason: str, path: str | Path | None = None) -> None:
        super().__init__(reason if path is None else f"{path}: {reason}")
        self.path = path
        self.reason = reason


@dataclass(frozen=True)
class Prepared:
    """Both splits as stored (uint8 or float 0..1) with labels, and how to normalise them."""

    train: tuple[torch.Tensor, torch.Tensor]
    val: tuple[torch.Tensor, torch.Tensor]
    classes: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    flatten: bool  # a flat Input takes C·H·W features


def prepare(
    dataset: Mapping[str, Any],
    input_shape: tuple[int, ...],
    output_shape: tuple[int, ...] | None = None,
    here: Path = Path("."),
) -> Prepared:
    """Load ``dataset`` (the project's "dataset" settings), split, resize and measure it.

    ``here`` is the folder of the exported files: relative paths start there, and
    the digits file lies there.
    """
    rgb = bool(dataset.get("grayscale_to_rgb", False))
    train, given, classes = _load(
        dataset, lambda c: geometry(input_shape, c, rgb), here
    )
    channels, size, flatten = geometry(input_shape, train[0].shape[1], rgb)
    if output_shape is not None and tuple(output_shape) != (classes,):
        raise DataProblem(
            f"the network's output is {list(output_shape)} but the dataset has {classes} "
            f"classes: the last layer must give {classes} outputs"
        )
    train, val = _split(train, given, dataset)
    train, val = _shape(train, channels, size), _shape(val, channels, size)
    if dataset.get("normalize", True):
        mean, std = channel_stats(train[0])
    else:
        mean, std = (0.0,) * channels, (1.0,) * channels
    return Prepared(train, val, classes, mean, std, flatten)


def geometry(
    shape: tuple[int, ...], source_channels: int, grayscale_to_rgb: bool
) -> Geometry:
    """The channels and size the images need for the Input, and whether batches are flattened."""
    channels = 3 if grayscale_to_rgb and source_channels == 1 else source_channels
    if len(shape) == 3 and shape[0] == channels:
        return channels, (shape[1], shape[2]), False
    if len(shape) == 3:
        fix = (
            'set CONFIG["dataset"]["grayscale_to_rgb"] = True'
            if channels == 1 and shape[0] == 3
            else ""
        )
        fix = fix or f"change the Input to [{channels}, {shape[1]}, {shape[2]}]"
        raise DataProblem(
            f"the dataset has {channels} channel(s), the Input {list(shape)} expects {shape[0]}: {fix}"
        )
    side = math.isqrt(shape[0] // channels) if len(shape) == 1 else 0
    if side < 1 or channels * side * side != shape[0]:
        raise DataProblem(
            f"the Input {list(shape)} does not take {channels}-channel square images, flat or not"
        )
    return channels, (side, side), True


def _load(
    dataset: Mapping[str, Any], fit: Callable[[int], Geometry], here: Path
) -> Sets:
    """The source's sets; ``fit`` gives the geometry for a number of channels (for readers that resize)."""
    name, path = dataset["name"], dataset.get("path")
    if name == "shapes":
        samples = dataset.get("samples") or DEFAULT_SAMPLES
        return (
            make_shapes(samples, int(dataset.get("seed", 0)), fit(3)[1]),
            None,
            len(SHAPE_NAMES),
        )
    if name == "digits":
        return read_digits(here / "digits.npz"), None, 10
    if not path:
        raise DataProblem(
            f'CONFIG["dataset"]["path"]: {name!r} needs the path of its file or folder'
        )
    where = Path(path).expanduser()
    if not where.is_absolute():
        where = here / where
    readers: dict[str, Callable[[], Sets]] = {
        "cifar10": lambda: read_cifar(where, "cifar10"),
        "cifar100": lambda: read_cifar(where, "cifar100"),
        "mnist": lambda: read_idx_folder(where),
        "fashion_mnist": lambda: read_idx_folder(where),
        "npz": lambda: read_npz(where),
        "folder": lambda: read_image_folder(where, lambda channels: fit(channels)[1]),
    }
    if name not in readers:
        raise DataProblem(
            f'CONFIG["dataset"]["name"]: {name!r} is not a dataset this script reads'
        )
    return readers[name]()


# -- splitting, resizing, statistics ------------------------------------------------------


def _split(
    train: tuple[torch.Tensor, torch.Tensor],
    given: tuple[torch.Tensor, torch.Tensor] | None,
    dataset: Mapping[str, Any],
) -> tuple[tuple[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]:
    """The source's own test split, or a seeded stratified share of the training set."""
    wanted = dataset.get("validation")
    if wanted is None:
        wanted = "given" if given is not None else DEFAULT_VALIDATION
    if wanted == "given":
        if given is None:
            raise DataProblem(
                'CONFIG["dataset"]["validation"]: this dataset has no test split'
            )
        return train, given
    keep, held = split_indices(train[1], float(wanted), int(dataset.get("seed", 0)))
    return (train[0][keep], train[1][keep]), (train[0][held], train[1][held])


def split_indices(
    labels: torch.Tensor, fraction: float, seed: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Training and validation indices (each ascending), ``fraction`` of every class held out.

    Stratified so that small datasets keep every class in both halves: each class
    gives ``round(fraction × its count)`` samples but keeps one for training. The
    same labels, fraction and seed always give the same split.
    """
    labels = labels.cpu()
    n = labels.shape[0]
    if fraction <= 0 or n == 0:
        return torch.arange(n), torch.empty(0, dtype=torch.long)
    generator = torch.Generator().manual_seed(seed)
    perm = torch.randperm(n, generator=generator)
    # Grouped by class in the random order; a sample's rank is its place in its class.
    order = perm[torch.argsort(labels[perm], stable=True)]
    grouped = labels[order]
    counts = torch.bincount(grouped)
    starts = torch.cumsum(counts, 0) - counts
    rank = torch.arange(n) - starts[grouped]
    held = torch.minimum(
        torch.floor(counts * fraction + 0.5).long(), (counts - 1).clamp(min=0)
    )
    is_val = rank < held[grouped]
    return order[~is_val].sort().values, order[is_val].sort().values


def _shape(
    images: tuple[torch.Tensor, torch.Tensor], channels: int, size: tuple[int, int]
) -> tuple[torch.Tensor, torch.Tensor]:
    x = grayscale_to_rgb(images[0]) if channels == 3 else images[0]
    return resize_images(x, size), images[1]


class Rows(Protocol):
    """What a whole-set transform reads: an image tensor, or rows that a slice reads into one."""

    @property
    def shape(self) -> torch.Size: ...

    @property
    def dtype(self) -> torch.dtype: ...

    def __getitem__(self, key: slice) -> torch.Tensor: ...


def resize_images(images: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Bilinear resize of a whole ``[N, C, H, W]`` set, done once; uint8 stays uint8 (rounded)."""
    if tuple(images.shape[2:]) == tuple(size):
        return images
    # Antialiasing matters only when shrinking; it keeps a large photo from aliasing into noise.
    shrink = size[0] < images.shape[2] or size[1] < images.shape[3]
    out = torch.empty(
        (images.shape[0], images.shape[1], *size),
        dtype=images.dtype,
        device=images.device,
    )
    step = min(chunk_rows(images.shape), chunk_rows(out.shape))
    for start in range(0, images.shape[0], step):
        chunk = images[start : start + step].float()
        resized = F.interpolate(
            chunk, size=size, mode="bilinear", align_corners=False, antialias=shrink
        )
        if images.dtype == torch.uint8:
            resized = resized.round_().clamp_(0, 255)
        out[start : start + step] = resized.to(images.dtype)
    return out


def chunk_rows(shape: Sequence[int]) -> int:
    """How many images of ``shape`` (``[N, C, H, W]``) make a chunk of at most 64 MiB in float64."""
    per_image = 8 * max(1, math.prod(shape[1:]))
    return max(1, _CHUNK_BYTES // per_image)


def grayscale_to_rgb(images: torch.Tensor) -> torch.Tensor:
    """One channel copied into three."""
    if images.shape[1] != 1:
        return images
    return images.expand(-1, 3, -1, -1).contiguous()


def channel_stats(images: Rows) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Mean and standard deviation per channel on the 0..1 scale, summed in float64 chunk by chunk."""
    channels, scale = images.shape[1], pixel_scale(images)
    total = torch.zeros(channels, dtype=torch.float64)
    squares = torch.zeros(channels, dtype=torch.float64)
    step = chunk_rows(images.shape)
    for start in range(0, images.shape[0], step):
        chunk = images[start : start + step].to("cpu", torch.float64) * scale
        total += chunk.sum(dim=(0, 2, 3))
        squares += chunk.square().sum(dim=(0, 2, 3))
    count = images.shape[0] * images.shape[2] * images.shape[3]
    mean = total / count
    std = (squares / count - mean.square()).clamp(min=0).sqrt()
    # A constant channel would divide by zero; leaving it unscaled is harmless.
    std = torch.where(std < 1e-6, torch.ones_like(std), std)
    return tuple(mean.tolist()), tuple(std.tolist())


def pixel_scale(images: Rows) -> float:
    """The factor that brings stored pixels to 0..1: uint8 is 0..255, floats are already 0..1."""
    return 1.0 / 255.0 if images.dtype == torch.uint8 else 1.0


# -- the readers --------------------------------------------------------------------------


def images_from_array(
    array: np.ndarray, path: str | Path, key: str = "x"
) -> torch.Tensor:
    """``[N, H, W]``, ``[N, C, H, W]`` or ``[N, H, W, C]`` as ``[N, C, H, W]``, uint8 or float32."""
    stored = "×".join(str(d) for d in array.shape)
    if array.ndim == 3:
        array = array[:, None]
    elif array.ndim == 4:
        # Channels first unless only the last axis looks like channels: [N, 32, 32, 3].
        if array.shape[1] not in (1, 3) and array.shape[3] in (1, 3):
            array = array.transpose(0, 3, 1, 2)
    else:
        raise DataProblem(
            f"{key} must be images [N, H, W], [N, C, H, W] or [N, H, W, C], "
            f"not an array of shape {stored}",
            path,
        )
    if array.shape[0] == 0:
        raise DataProblem(f"{key} has shape {stored}: it holds no images", path)
    if 0 in array.shape:
        raise DataProblem(
            f"{key} has shape {stored}: an image needs at least one row, one column "
            "and one channel",
            path,
        )
    return torch.from_numpy(np.ascontiguousarray(_pixels(array, path, key)))


def _pixels(array: np.ndarray, path: str | Path, key: str) -> np.ndarray:
    """uint8 as it is, floats as float32 (taken to be 0..1), other integers if they fit 0..255."""
    if array.dtype == np.uint8:
        return array
    if np.issubdtype(array.dtype, np.floating):
        if not np.isfinite(array).all():
            raise DataProblem(f"{key} holds NaN or infinite pixel values", path)
        return array.astype(np.float32)
    if np.issubdtype(array.dtype, np.integer):
        low, high = int(array.min()), int(array.max())
        if low < 0 or high > 255:
            raise DataProblem(
                f"{key} holds integer pixels from {low} to {high}; "
                "expected 0..255 (uint8) or floats 0..1",
                path,
            )
        return array.astype(np.uint8)
    raise DataProblem(
        f"{key} has pixels of type {array.dtype}; expected uint8 or float", path
    )


def labels_from_array(
    array: Any, count: int, classes: int | None, path: str | Path, key: str = "y"
) -> torch.Tensor:
    """Integer labels, one per image, each in ``0 .. classes - 1``, as int64."""
    array = np.asarray(array)
    if array.ndim != 1 or not np.issubdtype(array.dtype, np.integer):
        raise DataProblem(
            f"{key} must be a 1-D array of integer class labels, "
            f"got {array.dtype} of shape {list(array.shape)}",
            path,
        )
    if len(array) != count:
        raise DataProblem(f"{key} has {len(array)} labels for {count} images", path)
    labels = array.astype(np.int64)
    bad = (labels < 0) if classes is None else ((labels < 0) | (labels >= classes))
    if bad.any():
        at = int(np.flatnonzero(bad)[0])
        allowed = "be 0 or more" if classes is None else f"be in 0..{classes - 1}"
        raise DataProblem(
            f"{key}[{at}] = {labels[at]} is out of range: labels must {allowed}", path
        )
    return torch.from_numpy(labels)


def read_npz(path: Path) -> Sets:
    """``x`` and ``y``; ``x_val``/``y_val`` (or ``x_test``/``y_test``) are the given validation set."""
    train, given, names = read_npz_named(path)
    return train, given, len(names)


def read_npz_named(path: Path) -> tuple[Pair, Pair | None, tuple[str, ...]]:
    """The training set, the given validation set if any, and the class names.

    Names come from a ``class_names`` array of strings; without one the classes
    are numbered 0 to the largest label.
    """
    arrays, listed = _npz_arrays(path)
    for key in ("x", "y"):
        if key not in arrays:
            have = ", ".join(sorted(listed)) or "none"
            raise DataProblem(f"no '{key}' array in it (it has: {have})", path)
    names = _npz_names(path, arrays)
    classes = len(names) if names else None
    pair = next((p for p in _NPZ_VAL_KEYS if set(p) <= set(arrays)), None)
    sets = {
        "y": _npz_set(path, arrays, "x", "y", classes)
    }  # by labels key, for messages
    if pair is not None:
        sets[pair[1]] = _npz_set(path, arrays, *pair, classes)
    names = names or _numbered(path, sets)
    train, given = sets["y"], sets[pair[1]] if pair is not None else None
    if given is not None and given[0].shape[1:] != train[0].shape[1:]:
        raise DataProblem(
            f"the validation images are {list(given[0].shape[1:])}, "
            f"the training images {list(train[0].shape[1:])}",
            path,
        )
    return train, given, names


def _npz_arrays(path: Path) -> tuple[dict[str, np.ndarray], list[str]]:
    """The arrays the reader uses, and the names of all; other members are left unread."""
    _require_file(path)
    _npz_magic(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            listed = list(archive.files)
            used = [key for key in _NPZ_KEYS if key in listed]
            return {key: _npz_member(path, archive, key) for key in used}, listed
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise DataProblem(
            f"not a readable .npz file, it may be truncated ({exc})", path
        ) from None


def _npz_magic(path: Path) -> None:
    """An .npz is a zip archive; say what else it is before numpy tries to unpickle it."""
    try:
        with path.open("rb") as file:
            start = file.read(len(_NPY_MAGIC))
    except OSError as exc:
        raise DataProblem(f"cannot be read ({exc.strerror or exc})", path) from None
    if start.startswith(_ZIP_MAGIC):
        return
    if not start:
        raise DataProblem("the file is empty", path)
    if start == _NPY_MAGIC:
        raise DataProblem(
            "a single NumPy array (.npy), not an .npz archive: save the images and "
            "labels together with np.savez(path, x=images, y=labels)",
            path,
        )
    raise DataProblem(
        "not an .npz file: np.savez writes a zip archive of arrays, and this is not one",
        path,
    )


def _npz_member(path: Path, archive: Any, key: str) -> np.ndarray:
    try:
        value = archive[key]
    except ValueError as exc:
        if "allow_pickle" in str(exc):  # numpy's words for an array of Python objects
            raise DataProblem(
                f"{key} holds Python objects, which are not loaded: save it as an "
                "array of numbers (or of strings, for class_names)",
                path,
            ) from None
        raise DataProblem(f"{key} is damaged ({exc})", path) from None
    except MemoryError:
        raise DataProblem(f"{key} is too large to load into memory", path) from None
    if not isinstance(value, np.ndarray):  # the raw bytes of a member that is not .npy
        raise DataProblem(
            f"{key} is not a NumPy array: an .npz holds arrays saved with np.savez",
            path,
        )
    return value


def _npz_set(
    path: Path, arrays: dict[str, np.ndarray], x: str, y: str, classes: int | None
) -> Pair:
    images = images_from_array(arrays[x], path, x)
    return images, labels_from_array(arrays[y], len(images), classes, path, y)


def _numbered(path: Path, sets: dict[str, Pair]) -> tuple[str, ...]:
    """Classes named 0 to the largest label, unless that label stands far above the rest."""
    tops = {key: int(labels.max()) for key, (_, labels) in sets.items()}
    key = max(tops, key=lambda k: tops[k])
    top = tops[key]
    if top >= _ANY_SPREAD:
        distinct = len(torch.unique(torch.cat([labels for _, labels in sets.values()])))
        if top + 1 > _MAX_SPREAD * distinct:
            raise DataProblem(
                f"{key} holds the label {top} but there are only {distinct} different "
                f"labels, which would make {top + 1:,} classes: number the classes "
                f"0 to {distinct - 1} (a class_names array can keep their names)",
                path,
            )
    return tuple(str(i) for i in range(top + 1))


def _npz_names(path: Path, arrays: dict[str, np.ndarray]) -> tuple[str, ...]:
    if "class_names" not in arrays:
        return ()
    names = arrays["class_names"]
    if names.ndim != 1 or names.dtype.kind not in "US" or len(names) == 0:
        raise DataProblem("class_names must be a non-empty 1-D array of strings", path)
    return tuple(n.decode() if isinstance(n, bytes) else str(n) for n in names.tolist())


def read_digits(path: Path) -> tuple[torch.Tensor, torch.Tensor]:
    """The UCI digits as the export writes them: 8×8 counts 0..16, stretched to 0..255."""
    _require_file(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            x, y = archive["x"], archive["y"]
    except (OSError, KeyError, ValueError, EOFError, zlib.error) as exc:
        raise DataProblem(
            f"the built-in digits file is missing or damaged ({exc})", path
        ) from None
    stretched = ((x.astype(np.uint16) * 255 + 8) // 16).astype(np.uint8)
    return images_from_array(stretched, path, "x"), labels_from_array(
        y, len(x), 10, path, "y"
    )


def read_idx_folder(
    folder: Path, read: Callable[[Path], np.ndarray] | None = None
) -> Sets:
    """MNIST's four IDX files (gzipped or not) in ``folder`` or its raw/; the t10k pair is given.

    ``read`` reads one IDX file (:func:`read_idx` unless Designer checks it first).
    """
    if not folder.is_dir():
        raise DataProblem(
            "no such folder: give the folder that holds the four IDX files", folder
        )
    train = _idx_pair(folder, *_IDX["train"], read or read_idx)
    if train is None:
        raise DataProblem(
            f"no {_IDX['train'][0]}(.gz) and {_IDX['train'][1]}(.gz) in it", folder
        )
    return train, _idx_pair(folder, *_IDX["test"], read or read_idx), 10


def _idx_pair(
    folder: Path, images: str, labels: str, read: Callable[[Path], np.ndarray]
) -> Pair | None:
    images_path, labels_path = _find_idx(folder, images), _find_idx(folder, labels)
    if images_path is None and labels_path is None:
        return None
    if images_path is None:
        raise DataProblem(f"{images}(.gz) is missing beside {labels_path}", folder)
    if labels_path is None:
        raise DataProblem(f"{labels}(.gz) is missing beside {images_path}", folder)
    pixels = read(images_path)
    if pixels.ndim != 3 or pixels.dtype != np.uint8:
        raise DataProblem(
            f"expected uint8 images [N, H, W], got {pixels.dtype} {list(pixels.shape)}",
            images_path,
        )
    targets = labels_from_array(
        read(labels_path), len(pixels), 10, labels_path, "labels"
    )
    return torch.from_numpy(pixels[:, None]), targets


def _find_idx(folder: Path, stem: str) -> Path | None:
    """``stem``, ``stem.gz`` or the ``train-images.idx3-ubyte`` spelling, in the folder or its raw/."""
    dotted = stem.replace("-idx", ".idx")
    for where in (folder, folder / "raw"):
        for name in (stem, f"{stem}.gz", dotted, f"{dotted}.gz"):
            if present(
                where / name
            ):  # whatever it is: reading it says if it is not a file
                return where / name
    return None


def read_idx(path: Path) -> np.ndarray:
    """One IDX file as an array; a truncated or malformed file is a DataProblem naming it."""
    data = _read_bytes(path)
    try:
        # Decide by content, not by name: some mirrors serve gunzipped files under .gz names.
        data = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
    except (EOFError, zlib.error, OSError) as exc:
        raise DataProblem(
            f"the gzip stream is truncated or corrupt ({exc})", path
        ) from None
    if len(data) < 4 or data[:2] != b"\0\0" or data[2] not in _IDX_TYPES:
        raise DataProblem("not an IDX file (bad magic number)", path)
    dtype, ndim = np.dtype(_IDX_TYPES[data[2]]), data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataProblem("truncated: the header ends early", path)
    dims = struct.unpack(f">{ndim}I", data[4:header])
    expected = math.prod(dims) * dtype.itemsize
    if len(data) - header != expected:
        state = (
            "truncated"
            if len(data) - header < expected
            else "longer than its header says"
        )
        raise DataProblem(
            f"{state}: the header promises {expected:,} bytes of data "
            f"({'×'.join(map(str, dims))}), the file has {len(data) - header:,}",
            path,
        )
    return (
        np.frombuffer(data, dtype=dtype, offset=header)
        .reshape(dims)
        .astype(dtype.newbyteorder("="))
    )


def read_cifar(path: Path, variant: str) -> Sets:
    """CIFAR's python batches from the ``.tar.gz`` or its folder; the test batch is given."""
    folder, train_names, test_names, key, classes = _CIFAR[variant]
    wanted = [*train_names, *test_names]
    files = (
        _cifar_folder(path, folder, wanted)
        if path.is_dir()
        else cifar_archive(path, wanted)
    )
    missing = [name for name in wanted if name not in files]
    if missing:
        raise DataProblem(cifar_missing(missing, variant, folder), path)
    sets = [
        [cifar_batch(path, n, files[n], key, classes) for n in names]
        for names in (train_names, test_names)
    ]
    train, test = (
        (torch.cat([x for x, _ in s]), torch.cat([y for _, y in s])) for s in sets
    )
    return train, test, classes


def cifar_missing(missing: list[str], variant: str, folder: str) -> str:
    """What to say when batches are not in the archive or folder."""
    return (
        f"no {', '.join(missing)} in it: is this the {variant} python version "
        f"(the folder {folder} or the .tar.gz holding it)?"
    )


def _cifar_folder(path: Path, folder: str, wanted: list[str]) -> dict[str, bytes]:
    root = path / folder if (path / folder).is_dir() else path
    return {name: _read_bytes(root / name) for name in wanted if present(root / name)}


def cifar_archive(path: Path, wanted: Sequence[str]) -> dict[str, bytes]:
    """The wanted members of a tar (gzip or not), by base name, read in one pass."""
    _require_file(path)
    found: dict[str, bytes] = {}
    try:
        with tarfile.open(path, "r:*") as archive:
            for member in archive:
                base = member.name.rsplit("/", 1)[-1]
                if member.isfile() and base in wanted and base not in found:
                    stream = archive.extractfile(member)
                    if stream is not None:
                        found[base] = stream.read()
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise DataProblem(
            f"cannot read the archive, it is truncated or corrupt ({exc})", path
        ) from None
    return found


def unpickle_dict(path: Path, name: str, data: bytes) -> dict[str, Any]:
    """One CIFAR pickle (a batch or the meta file) as a dict with text keys."""
    try:
        value = safe_loads(data)
    except _PICKLE_FAILURES as exc:  # a hostile or truncated pickle is "unreadable"
        raise DataProblem(
            f"{name} is not a readable CIFAR pickle ({exc})", path
        ) from None
    if not isinstance(value, dict):
        raise DataProblem(
            f"{name} holds a {type(value).__name__}, not a CIFAR batch dict", path
        )
    # Python 2 pickles read with encoding="bytes" elsewhere may have bytes keys.
    return {
        k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in value.items()
    }


def cifar_batch(path: Path, name: str, data: bytes, key: str, classes: int) -> Pair:
    """One batch's images ``[N, 3, 32, 32]`` and labels (under ``key``)."""
    batch = unpickle_dict(path, name, data)
    pixels = batch.get("data")
    if (
        not isinstance(pixels, np.ndarray)
        or pixels.dtype != np.uint8
        or pixels.ndim != 2
        or pixels.shape[1] != 3 * 32 * 32
    ):
        got = (
            f"{pixels.dtype} {list(pixels.shape)}"
            if isinstance(pixels, np.ndarray)
            else type(pixels).__name__
        )
        raise DataProblem(f"{name}: 'data' must be uint8 [N, 3072], got {got}", path)
    if key not in batch:
        raise DataProblem(f"{name}: no '{key}' key", path)
    labels = labels_from_array(
        np.asarray(batch[key]), len(pixels), classes, path, f"{name}: {key}"
    )
    return torch.from_numpy(np.ascontiguousarray(pixels.reshape(-1, 3, 32, 32))), labels


def _no_object_dtype(*args: Any) -> np.dtype[Any]:
    # An object dtype would let the pickle build arbitrary Python objects into an array.
    dtype: np.dtype[Any] = np.dtype(*args)
    if dtype.hasobject:
        raise pickle.UnpicklingError("arrays of Python objects are not allowed")
    return dtype


def _latin1(text: str, encoding: str = "latin1") -> bytes:
    return text.encode(
        encoding
    )  # how protocol-2 pickles written by Python 3 store bytes


_SAMPLE = np.zeros(
    1, dtype=np.uint8
)  # numpy's own rebuild functions, for numpy 1 and 2 alike
_REBUILD: Any = _SAMPLE.__reduce__()[0]
_FROMBUFFER: Any = _SAMPLE.__reduce_ex__(5)[0]
_ALLOWED: dict[tuple[str, str], Any] = {
    ("numpy.core.multiarray", "_reconstruct"): _REBUILD,
    ("numpy._core.multiarray", "_reconstruct"): _REBUILD,
    ("numpy.core.numeric", "_frombuffer"): _FROMBUFFER,
    ("numpy._core.numeric", "_frombuffer"): _FROMBUFFER,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): _no_object_dtype,
    ("_codecs", "encode"): _latin1,
    ("builtins", "bytearray"): bytearray,
}


_PICKLE_FAILURES = (
    pickle.UnpicklingError,
    EOFError,
    ValueError,
    TypeError,
    AttributeError,
    IndexError,
    KeyError,
    OverflowError,
    MemoryError,
    RecursionError,
)


class SafeUnpickler(pickle.Unpickler):
    """Knows only the globals that rebuild numpy arrays, so a pickle cannot run code.

    A pickle can name any importable callable and call it; CIFAR's batches need
    only dicts, lists, strings, bytes and numpy arrays.
    """

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refused to load {module}.{name}: not data"
            ) from None


def safe_loads(data: bytes) -> Any:
    """Unpickle ``data`` allowing only plain data and numpy arrays.

    ``latin1`` decodes the Python 2 strings of the original CIFAR files losslessly,
    the way numpy expects for the raw bytes of arrays pickled by Python 2.
    """
    return SafeUnpickler(io.BytesIO(data), encoding="latin1").load()


def read_image_folder(root: Path, size: Callable[[int], tuple[int, int]]) -> Sets:
    """``root/<class>/*.png`` (and .jpg, .bmp), or ``root/train/<class>`` beside ``root/val/<class>``.

    Decoded with Pillow at ``size(channels)``: 3 channels if any image is in colour, else 1.
    """
    try:
        from PIL import Image
    except ImportError:
        raise DataProblem(
            "reading an image folder needs Pillow: pip install pillow"
        ) from None
    subs = _subfolders(root)
    val = next((n for n in ("val", "valid", "validation", "test") if n in subs), None)
    split = "train" in subs and val is not None and set(subs) == {"train", val}
    names = _subfolders(root / "train") if split else subs
    listed = (
        [_listed(root / "train", names), _listed(root / str(val), names)]
        if split
        else [_listed(root, names)]
    )
    files = [path for found in listed for path, _ in found]
    colour = any(Image.getmodebase(_mode(Image, p)) != "L" for p in files)
    at = size(3 if colour else 1)
    sets = [
        (_decode(Image, found, colour, at), torch.tensor([c for _, c in found]))
        for found in listed
    ]
    return sets[0], sets[1] if split else None, len(names)


def _subfolders(folder: Path) -> list[str]:
    if not folder.is_dir():
        raise DataProblem("no such folder", folder)
    return sorted(
        p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")
    )


def _listed(folder: Path, names: list[str]) -> list[tuple[Path, int]]:
    found = []
    for label, name in enumerate(names):
        files = sorted(
            Path(top, f) for top, _, fs in os.walk(folder / name) for f in fs
        )
        found += [(p, label) for p in files if p.suffix.lower() in IMAGE_EXTENSIONS]
    if not found:
        raise DataProblem("no PNG, JPEG or BMP images in class sub-folders", folder)
    return found


def _mode(image: Any, path: Path) -> str:
    try:
        with image.open(path) as opened:
            return str(opened.mode)
    except (OSError, ValueError, SyntaxError) as exc:
        raise DataProblem(f"not a readable image ({exc})", path) from None


def _decode(
    image: Any, files: list[tuple[Path, int]], colour: bool, size: tuple[int, int]
) -> torch.Tensor:
    out = np.empty((len(files), 3 if colour else 1, *size), dtype=np.uint8)
    for i, (path, _) in enumerate(files):
        try:
            with image.open(path) as opened:
                picture = opened.convert("RGB" if colour else "L")
            if picture.size != (size[1], size[0]):
                picture = picture.resize((size[1], size[0]), image.Resampling.BILINEAR)
            pixels = np.asarray(picture, dtype=np.uint8)
        except (OSError, ValueError, SyntaxError) as exc:
            raise DataProblem(f"not a readable image ({exc})", path) from None
        out[i] = pixels.transpose(2, 0, 1) if colour else pixels[None]
    return torch.from_numpy(out)


def _require_file(path: Path) -> None:
    if not path.is_file():
        what = (
            "is a folder"
            if path.is_dir()
            else "no such file"
            if not path.exists()
            else "is not a regular file"
        )
        raise DataProblem(what, path)


def _read_bytes(path: Path) -> bytes:
    _require_file(path)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise DataProblem(cannot_read(exc), path) from None


def present(path: Path) -> bool:
    """Whether something (a file, a folder, a pipe, a dangling link) is at ``path``, or may be.

    A path we are not allowed to look at counts as present, so that the reader's
    own check reports the permission rather than a missing file.
    """
    try:
        os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return False
    except OSError:
        return True
    return True


def cannot_read(exc: OSError) -> str:
    """The system's reason as the end of a sentence: ``cannot be read: permission denied``."""
    text = exc.strerror or str(exc)
    text = "permission denied" if isinstance(exc, PermissionError) else text
    return f"cannot be read: {text[:1].lower()}{text[1:]}"


# -- the generated shapes -----------------------------------------------------------------


def make_shapes(
    samples: int, seed: int, size: tuple[int, int]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Designer's "shapes": ``samples`` seeded RGB images of ten kinds of shape, balanced."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.randperm(samples, generator=generator) % len(SHAPE_NAMES)
    images = torch.empty((samples, 3, *size), dtype=torch.uint8)
    for start in range(0, samples, 2048):  # bounds the memory of the coordinate grids
        chunk = labels[start : start + 2048]
        images[start : start + len(chunk)] = _draw(chunk, size, generator)
    return images, labels


def _draw(
    labels: torch.Tensor, size: tuple[int, int], generator: torch.Generator
) -> torch.Tensor:
    n, (height, width) = len(labels), size
    radius = min(height, width) * (0.18 + 0.22 * torch.rand(n, generator=generator))
    # Centres keep the whole shape inside the image.
    cy = radius + torch.rand(n, generator=generator) * (height - 2 * radius)
    cx = radius + torch.rand(n, generator=generator) * (width - 2 * radius)
    ys = torch.arange(height, dtype=torch.float32) + 0.5
    xs = torch.arange(width, dtype=torch.float32) + 0.5
    # Coordinates relative to each centre, in units of its radius: u right, v down.
    v = ((ys[None, :, None] - cy[:, None, None]) / radius[:, None, None]).expand(
        n, height, width
    )
    u = ((xs[None, None, :] - cx[:, None, None]) / radius[:, None, None]).expand(
        n, height, width
    )
    mask = torch.zeros((n, height, width), dtype=torch.bool)
    for label, rule in enumerate(_RULES):
        chosen = labels == label
        if chosen.any():
            mask[chosen] = rule(u[chosen], v[chosen])
    background = torch.rand((n, 3, 1, 1), generator=generator)
    # Each channel of the shape differs from the background's by 0.35 to 0.65: always visible.
    foreground = (
        background + 0.35 + 0.3 * torch.rand((n, 3, 1, 1), generator=generator)
    ) % 1.0
    picture = torch.where(mask[:, None], foreground, background)
    picture = picture + 0.03 * torch.randn(picture.shape, generator=generator)
    return (picture.clamp(0, 1) * 255).round().to(torch.uint8)


def _star(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    angle = torch.atan2(v, u) + math.pi / 2  # one point straight up
    return u.hypot(v) <= 0.5 + 0.5 * torch.cos(5 * angle).clamp(min=0) ** 2


def _box(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    return torch.maximum(u.abs(), v.abs())


_RULES: tuple[Callable[[torch.Tensor, torch.Tensor], torch.Tensor], ...] = (
    lambda u, v: u.hypot(v) <= 1,  # circle
    lambda u, v: _box(u, v) <= 0.85,  # square
    lambda u, v: (v <= 0.8) & (u.abs() <= (v + 1) / 2),  # triangle, apex up
    lambda u, v: u.abs() + v.abs() <= 1,  # diamond
    lambda u, v: (u.hypot(v) <= 1) & (u.hypot(v) >= 0.55),  # ring
    lambda u, v: (torch.minimum(u.abs(), v.abs()) <= 0.3) & (_box(u, v) <= 1),  # plus
    lambda u, v: (_box(u, v) <= 0.85) & (_box(u, v) >= 0.5),  # frame
    lambda u, v: ((u.abs() - v.abs()).abs() <= 0.35) & (_box(u, v) <= 0.85),  # cross
    lambda u, v: (u.hypot(v) <= 1) & (v <= 0.2),  # semicircle
    _star,
)
