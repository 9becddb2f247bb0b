"""CIFAR, IDX and npz files written in their real formats, read back, and broken on purpose."""

from __future__ import annotations

import gzip
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from designer.data.cifar import load_cifar
from designer.data.errors import DataFileError
from designer.data.idx import load_idx_folder, read_idx
from designer.data.npz import load_npz
from designer.data.safe_pickle import safe_loads
from tests.data.writers import (
    CIFAR10_NAMES,
    cifar10_members,
    cifar100_members,
    cifar_batch,
    idx_bytes,
    py2_pickle,
    write_folder,
    write_mnist,
    write_tar,
)

# -- CIFAR -----------------------------------------------------------------------------------


def _expected_train(per_batch: int) -> tuple[np.ndarray, np.ndarray]:
    batches = [cifar_batch(per_batch, i) for i in range(1, 6)]
    data = np.concatenate([b["data"] for b in batches]).reshape(-1, 3, 32, 32)
    return data, np.concatenate([b["labels"] for b in batches])


@pytest.mark.parametrize("py2", [False, True], ids=["py3-pickles", "py2-pickles"])
def test_cifar10_tar_gz_as_downloaded(tmp_path: Path, py2: bool) -> None:
    archive = write_tar(tmp_path / "cifar-10-python.tar.gz", "cifar-10-batches-py", cifar10_members(8, py2))
    raw = load_cifar(archive, "cifar10")
    data, labels = _expected_train(8)
    assert raw.train.images.dtype == torch.uint8
    assert raw.train.images.shape == (40, 3, 32, 32)
    assert torch.equal(raw.train.images, torch.from_numpy(data))
    assert raw.train.labels.tolist() == labels.tolist()
    assert raw.given_val is not None and len(raw.given_val) == 8
    assert raw.class_names == tuple(CIFAR10_NAMES)


def test_cifar10_extracted_folder_or_its_parent(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "cifar-10-batches-py", cifar10_members(4))
    for path in (folder, tmp_path):
        raw = load_cifar(path, "cifar10")
        assert len(raw.train) == 20 and raw.class_names[3] == "cat"


def test_cifar100_uses_fine_labels(tmp_path: Path) -> None:
    archive = write_tar(tmp_path / "cifar-100-python.tar.gz", "cifar-100-python", cifar100_members(12))
    raw = load_cifar(archive, "cifar100")
    assert len(raw.class_names) == 100 and raw.class_names[7] == "fine7"
    assert raw.train.labels.tolist() == cifar_batch(12, 1, classes=100, labels_key="fine_labels")["fine_labels"]


def test_truncated_cifar_archive_names_the_file(tmp_path: Path) -> None:
    whole = write_tar(tmp_path / "whole.tar.gz", "cifar-10-batches-py", cifar10_members(40)).read_bytes()
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(DataFileError, match="truncated or corrupt") as caught:
        load_cifar(cut, "cifar10")
    assert caught.value.path == cut and str(cut) in str(caught.value)


def test_cifar_label_out_of_range_names_file_and_batch(tmp_path: Path) -> None:
    members = cifar10_members(4)
    bad = cifar_batch(4, 3)
    bad["labels"][2] = 10
    members["data_batch_3"] = pickle.dumps(bad, protocol=2)
    archive = write_tar(tmp_path / "c.tar.gz", "cifar-10-batches-py", members)
    with pytest.raises(DataFileError, match=r"data_batch_3: labels\[2\] = 10 is out of range") as caught:
        load_cifar(archive, "cifar10")
    assert str(archive) in str(caught.value)


def test_cifar_missing_batch_is_named(tmp_path: Path) -> None:
    members = cifar10_members(4)
    del members["data_batch_4"]
    archive = write_tar(tmp_path / "c.tar.gz", "cifar-10-batches-py", members)
    with pytest.raises(DataFileError, match="no data_batch_4"):
        load_cifar(archive, "cifar10")


class _Exploit:
    """Unpickling this would run a shell command."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (os.system, (f"touch {self.marker}",))


def test_cifar_pickle_cannot_run_code(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    members = cifar10_members(4)
    members["data_batch_1"] = pickle.dumps({"data": _Exploit(marker)}, protocol=2)
    archive = write_tar(tmp_path / "c.tar.gz", "cifar-10-batches-py", members)
    with pytest.raises(DataFileError, match=r"data_batch_1 is not a readable CIFAR pickle.*refused"):
        load_cifar(archive, "cifar10")
    assert not marker.exists()


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_safe_pickle_reads_plain_data_and_arrays(protocol: int) -> None:
    value = {"a": [1, 2.5, "x", b"\x00\xff", None, True], "arr": np.arange(12, dtype=np.int16).reshape(3, 4)}
    back = safe_loads(pickle.dumps(value, protocol=protocol))
    assert back["a"] == value["a"] and np.array_equal(back["arr"], value["arr"])
    assert safe_loads(py2_pickle({"k": [1, 2]})) == {"k": [1, 2]}


def test_safe_pickle_refuses_object_arrays_and_classes() -> None:
    with pytest.raises(pickle.UnpicklingError, match="objects are not allowed"):
        safe_loads(pickle.dumps(np.array([1, "a"], dtype=object), protocol=2))
    with pytest.raises(pickle.UnpicklingError, match="refused"):
        safe_loads(pickle.dumps(Path("x"), protocol=2))


# -- IDX -------------------------------------------------------------------------------------


@pytest.mark.parametrize("gz", [True, False], ids=["gz", "raw"])
def test_mnist_idx_files(tmp_path: Path, gz: bool) -> None:
    folder = write_mnist(tmp_path / "mnist", train=30, test=10, gz=gz)
    raw = load_idx_folder(folder, "mnist")
    assert raw.train.images.shape == (30, 1, 28, 28) and raw.train.images.dtype == torch.uint8
    assert raw.train.labels.tolist() == [i % 10 for i in range(30)]
    assert raw.given_val is not None and len(raw.given_val) == 10
    fashion = load_idx_folder(folder, "fashion_mnist")
    assert fashion.class_names[9] == "Ankle boot"


def test_idx_round_trip_values(tmp_path: Path) -> None:
    array = np.random.default_rng(1).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    path = tmp_path / "x-idx3-ubyte"
    path.write_bytes(idx_bytes(array))
    assert np.array_equal(read_idx(path), array)


def test_mnist_without_test_files_says_so(tmp_path: Path) -> None:
    folder = write_mnist(tmp_path / "m", train=20, test=0)
    raw = load_idx_folder(folder, "mnist")
    assert raw.given_val is None and any("no t10k files" in n for n in raw.notes)


def test_truncated_raw_idx_names_the_file(tmp_path: Path) -> None:
    folder = write_mnist(tmp_path / "m", gz=False)
    images = folder / "train-images-idx3-ubyte"
    images.write_bytes(images.read_bytes()[:-100])
    with pytest.raises(DataFileError, match="truncated: the header promises") as caught:
        load_idx_folder(folder, "mnist")
    assert caught.value.path == images


def test_truncated_gz_idx_names_the_file(tmp_path: Path) -> None:
    folder = write_mnist(tmp_path / "m", gz=True)
    images = folder / "train-images-idx3-ubyte.gz"
    images.write_bytes(images.read_bytes()[:-50])
    with pytest.raises(DataFileError, match="gzip stream is truncated") as caught:
        load_idx_folder(folder, "mnist")
    assert caught.value.path == images


def test_idx_bad_magic_and_label_range(tmp_path: Path) -> None:
    folder = write_mnist(tmp_path / "m", gz=False)
    labels = folder / "train-labels-idx1-ubyte"
    labels.write_bytes(idx_bytes(np.full(30, 10, dtype=np.uint8)))
    with pytest.raises(DataFileError, match=r"labels\[0\] = 10 is out of range: labels must be in 0..9"):
        load_idx_folder(folder, "mnist")
    labels.write_bytes(b"PK\x03\x04" + b"\0" * 40)
    with pytest.raises(DataFileError, match="not an IDX file") as caught:
        load_idx_folder(folder, "mnist")
    assert caught.value.path == labels


def test_idx_count_mismatch_and_missing_partner(tmp_path: Path) -> None:
    folder = write_mnist(tmp_path / "m", gz=True)
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(np.zeros(7, np.uint8))))
    with pytest.raises(DataFileError, match="7 labels for 30 images"):
        load_idx_folder(folder, "mnist")
    (folder / "train-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataFileError, match=r"train-labels-idx1-ubyte.*missing"):
        load_idx_folder(folder, "mnist")


# -- npz -------------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["NHW", "NCHW", "NHWC"])
def test_npz_layouts(tmp_path: Path, layout: str) -> None:
    rng = np.random.default_rng(0)
    nchw = rng.integers(0, 256, (12, 3 if layout != "NHW" else 1, 10, 9), dtype=np.uint8)
    x = {"NHW": nchw[:, 0], "NCHW": nchw, "NHWC": nchw.transpose(0, 2, 3, 1)}[layout]
    path = tmp_path / "d.npz"
    np.savez(path, x=x, y=np.arange(12) % 4)
    raw = load_npz(path)
    assert torch.equal(raw.train.images, torch.from_numpy(nchw))
    assert raw.class_names == ("0", "1", "2", "3") and raw.given_val is None


def test_npz_float_pixels_given_split_and_names(tmp_path: Path) -> None:
    path = tmp_path / "d.npz"
    np.savez(path, x=np.full((6, 1, 4, 4), 0.5, np.float64), y=np.array([0, 1, 2, 0, 1, 2]),
             x_val=np.zeros((3, 1, 4, 4), np.float32), y_val=np.array([2, 1, 0]),
             class_names=np.array(["cat", "dog", "eel"]))
    raw = load_npz(path)
    assert raw.train.images.dtype == torch.float32 and float(raw.train.images[0, 0, 0, 0]) == 0.5
    assert raw.class_names == ("cat", "dog", "eel")
    assert raw.given_val is not None and raw.given_val.labels.tolist() == [2, 1, 0]


def test_npz_bad_files_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "d.npz"
    np.savez(path, x=np.zeros((4, 8, 8), np.uint8), y=np.array([0, 1, -1, 0]))
    with pytest.raises(DataFileError, match=r"y\[2\] = -1 is out of range"):
        load_npz(path)
    np.savez(path, x=np.zeros((4, 8, 8), np.uint8), y=np.array([0, 1, 5, 0]), class_names=np.array(["a", "b"]))
    with pytest.raises(DataFileError, match=r"y\[2\] = 5 is out of range: labels must be in 0..1"):
        load_npz(path)
    np.savez(path, x=np.zeros((4, 8, 8), np.uint8))
    with pytest.raises(DataFileError, match="no 'y' array"):
        load_npz(path)
    np.savez(path, x=np.array([{"a": 1}] * 4, dtype=object), y=np.zeros(4, int))
    with pytest.raises(DataFileError, match="x holds Python objects") as caught:
        load_npz(path)
    assert caught.value.path == path


def test_truncated_npz_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "d.npz"
    np.savez_compressed(path, x=np.random.default_rng(0).integers(0, 256, (200, 8, 8), dtype=np.uint8),
                        y=np.zeros(200, int))
    path.write_bytes(path.read_bytes()[:1500])
    with pytest.raises(DataFileError, match="truncated") as caught:
        load_npz(path)
    assert caught.value.path == path
