"""From a dataset description to a loader: which reader, which file, how many channels.

Opening a source is cheap and says how many channels the images have, so that
a dataset that cannot fit the Input is refused before any large file is read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from designer.data.builtin import load_digits, make_shapes
from designer.data.cifar import load_cifar
from designer.data.config import DatasetConfig
from designer.data.folder import load_folder, scan_folder
from designer.data.idx import load_idx_folder
from designer.data.image_cache import Progress
from designer.data.imageset import RawData
from designer.data.npz import load_npz
from designer.data.paths import image_cache_dir


@dataclass(frozen=True)
class Source:
    """A dataset ready to load.

    ``native_size`` is the stored image size, or None where the loader draws or
    decodes at whatever size ``load`` is given (shapes, image folders); other
    loaders ignore the size and leave resizing to the caller. ``colour_note``
    names the few colour images of a mostly grayscale folder.
    """

    name: str
    channels: int
    native_size: tuple[int, int] | None
    load: Callable[[tuple[int, int]], RawData]
    colour_note: str = ""


def open_source(config: DatasetConfig, base_dir: Path | None = None, cache_dir: Path | None = None, *,
                progress: Progress | None = None, map_above: int | None = None) -> Source:
    """The source ``config`` names; ``progress`` and ``map_above`` reach an image folder's decoding."""
    name = config.name
    if name == "digits":
        return Source(name, 1, (8, 8), lambda size: load_digits())
    if name == "shapes":
        return Source(name, 3, None, lambda size: make_shapes(config.sample_count, config.seed, size))
    path = resolve_path(config.path or "", base_dir)
    if name in ("cifar10", "cifar100"):
        return Source(name, 3, (32, 32), lambda size: load_cifar(path, name))
    if name in ("mnist", "fashion_mnist"):
        return Source(name, 1, (28, 28), lambda size: load_idx_folder(path, name))
    if name == "npz":
        raw = load_npz(path)  # the file must be read to know its channels
        return Source(name, raw.train.channels, raw.train.size, lambda size: raw)
    scan = scan_folder(path, cache_dir or image_cache_dir())

    def load(size: tuple[int, int]) -> RawData:
        return load_folder(scan, size, progress=progress, map_above=map_above)

    return Source(name, scan.channels, None, load, scan.colour_note)


def resolve_path(path: str, base_dir: Path | None) -> Path:
    """``~`` expanded; a relative path is taken from ``base_dir`` (the project file's folder)."""
    resolved = Path(path).expanduser()
    if not resolved.is_absolute() and base_dir is not None:
        resolved = base_dir / resolved
    return resolved
