"""Writers of small fixture files in the real on-disk formats: CIFAR pickles in a tar.gz,
IDX files, images via Pillow. Tests load them back through designer.data."""

from __future__ import annotations

import gzip
import io
import pickle
import struct
import tarfile
from pathlib import Path

import numpy as np
from PIL import Image

CIFAR10_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def cifar_batch(count: int, seed: int, classes: int = 10, labels_key: str = "labels") -> dict:
    rng = np.random.default_rng(seed)
    return {
        "batch_label": "training batch",
        labels_key: [int(v) for v in rng.integers(0, classes, count)],
        "data": rng.integers(0, 256, (count, 3072), dtype=np.uint8),
        "filenames": [f"img_{seed}_{i}.png" for i in range(count)],
    }


def cifar10_members(per_batch: int = 8, py2: bool = False) -> dict[str, bytes]:
    """The seven files of ``cifar-10-batches-py`` as bytes."""
    dump = py2_pickle if py2 else (lambda obj: pickle.dumps(obj, protocol=2))
    members = {f"data_batch_{i}": dump(cifar_batch(per_batch, i)) for i in range(1, 6)}
    members["test_batch"] = dump(cifar_batch(per_batch, 99))
    members["batches.meta"] = dump({"label_names": CIFAR10_NAMES, "num_vis": 3072})
    return members


def cifar100_members(per_split: int = 12) -> dict[str, bytes]:
    def batch(seed: int) -> bytes:
        content = cifar_batch(per_split, seed, classes=100, labels_key="fine_labels")
        content["coarse_labels"] = [v // 5 for v in content["fine_labels"]]
        return pickle.dumps(content, protocol=2)

    names = {"fine_label_names": [f"fine{i}" for i in range(100)],
             "coarse_label_names": [f"coarse{i}" for i in range(20)]}
    return {"train": batch(1), "test": batch(2), "meta": pickle.dumps(names, protocol=2)}


def write_tar(path: Path, folder: str, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(f"{folder}/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def write_folder(path: Path, members: dict[str, bytes]) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    for name, data in members.items():
        (path / name).write_bytes(data)
    return path


# -- Python 2 pickles, as the original CIFAR files were written ------------------------------


def py2_pickle(obj: dict) -> bytes:
    """A protocol-2 pickle as Python 2's cPickle writes it: byte strings as STRING opcodes and
    arrays through ``numpy.core.multiarray._reconstruct``."""
    out = bytearray(b"\x80\x02}(")  # PROTO 2, EMPTY_DICT, MARK
    for key, value in obj.items():
        out += _py2_str(key.encode()) + _py2_value(value)
    return bytes(out + b"u.")  # SETITEMS, STOP


def _py2_str(data: bytes) -> bytes:
    return b"U" + bytes([len(data)]) + data if len(data) < 256 else b"T" + struct.pack("<I", len(data)) + data


def _py2_value(value: object) -> bytes:
    if isinstance(value, np.ndarray):
        return _py2_array(value)
    if isinstance(value, list):
        return b"](" + b"".join(_py2_value(v) for v in value) + b"e"  # EMPTY_LIST, MARK, APPENDS
    if isinstance(value, int):
        return b"J" + struct.pack("<i", value)
    return _py2_str(str(value).encode())


def _py2_array(array: np.ndarray) -> bytes:
    assert array.dtype == np.uint8
    shape = b"(" + b"".join(b"J" + struct.pack("<i", d) for d in array.shape) + b"t"
    dtype = (b"cnumpy\ndtype\n" + _py2_str(b"u1") + b"K\x00K\x01\x87R"
             + b"(K\x03" + _py2_str(b"|") + b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb")
    return (b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85" + _py2_str(b"b") + b"\x87R"
            + b"(K\x01" + shape + dtype + b"\x89" + _py2_str(array.tobytes()) + b"tb")


# -- IDX (MNIST) -----------------------------------------------------------------------------


def idx_bytes(array: np.ndarray) -> bytes:
    assert array.dtype == np.uint8
    header = b"\0\0\x08" + bytes([array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()


def write_mnist(folder: Path, train: int = 30, test: int = 10, gz: bool = True, seed: int = 0,
                size: int = 28) -> Path:
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for prefix, count in (("train", train), ("t10k", test)):
        if count == 0:
            continue
        images = rng.integers(0, 256, (count, size, size), dtype=np.uint8)
        labels = (np.arange(count) % 10).astype(np.uint8)
        for stem, array in ((f"{prefix}-images-idx3-ubyte", images), (f"{prefix}-labels-idx1-ubyte", labels)):
            data = idx_bytes(array)
            if gz:
                (folder / f"{stem}.gz").write_bytes(gzip.compress(data))
            else:
                (folder / stem).write_bytes(data)
    return folder


# -- image folders ---------------------------------------------------------------------------


def write_image(path: Path, size: tuple[int, int], colour: tuple[int, ...] | int, mode: str = "RGB") -> Path:
    """A solid image with a bright square, so resizing is visible but colour stays known."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.new(mode, (size[1], size[0]), colour)
    fmt = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".bmp": "BMP"}[path.suffix.lower()]
    image.save(path, format=fmt)
    return path
