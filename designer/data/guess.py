"""Which source reads a file or folder: for ``--dataset PATH`` and for dropping a path on the editor.

The guess looks at names only (and the first member of a tar archive), never
at the data, so it is instant. A path it cannot place is an error that lists
what it expected; ``NAME:PATH`` (``fashion_mnist:~/data/fm``) names the source
outright when the guess is wrong.
"""

from __future__ import annotations

import tarfile
import zlib
from pathlib import Path

from designer.data.access import require_file
from designer.data.config import ON_DISK
from designer.data.errors import DataFileError

_IDX_STEMS = ("train-images-idx3-ubyte", "train-images.idx3-ubyte")
_ARCHIVES = (".tar.gz", ".tgz", ".tar")


def guess_source(path: Path) -> tuple[str, Path]:
    """The source name and the path to give it (an IDX file's folder, not the file)."""
    if path.is_dir():
        return _guess_folder(path), path
    require_file(path, "no such file or folder")
    name = path.name.lower()
    if name.endswith(".npz"):
        return "npz", path
    if name.endswith(_ARCHIVES):
        return _guess_archive(path), path
    if "idx" in name and "ubyte" in name:
        return _mnist_variant(path), path.parent
    raise DataFileError(path, "cannot tell which dataset this is: give a .npz, a CIFAR .tar.gz, an MNIST "
                              "IDX file or folder, or a folder of class folders (or write NAME:PATH, "
                              f"NAME one of {', '.join(ON_DISK)})")


def split_named(text: str) -> tuple[str, str] | None:
    """``("mnist", "~/data")`` for ``mnist:~/data``; None when ``text`` names no source (a plain path)."""
    name, sep, rest = text.partition(":")
    if sep and rest and name.lower().replace("-", "_") in ON_DISK:
        return name.lower().replace("-", "_"), rest
    return None


def _guess_folder(folder: Path) -> str:
    if (folder / "cifar-10-batches-py").is_dir() or (folder / "data_batch_1").is_file():
        return "cifar10"
    if (folder / "cifar-100-python").is_dir() or ((folder / "train").is_file() and (folder / "meta").is_file()):
        return "cifar100"
    for where in (folder, folder / "raw"):
        for stem in _IDX_STEMS:
            if (where / stem).is_file() or (where / f"{stem}.gz").is_file():
                return _mnist_variant(folder)
    return "folder"


def _guess_archive(path: Path) -> str:
    """CIFAR-10 or -100, by the file name or else by the folder its first member sits in."""
    name = path.name.lower()
    if "cifar-100" in name or "cifar100" in name:
        return "cifar100"
    if "cifar-10" in name or "cifar10" in name:
        return "cifar10"
    try:
        with tarfile.open(path, "r:*") as archive:
            first = archive.next()
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise DataFileError(path, f"cannot read the archive ({exc})") from exc
    top = first.name.split("/", 1)[0] if first is not None else ""
    if top == "cifar-100-python":
        return "cifar100"
    if top == "cifar-10-batches-py":
        return "cifar10"
    raise DataFileError(path, "an archive, but not CIFAR-10 or CIFAR-100 (python version)")


def _mnist_variant(path: Path) -> str:
    return "fashion_mnist" if "fashion" in str(path).lower() else "mnist"
