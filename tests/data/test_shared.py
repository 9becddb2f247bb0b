"""The engine's data layer and the exported script share one implementation.

designer/training/portable_data.py (and portable.py) are copied beside an
exported train.py; the engine's modules call them rather than keep copies, so a
fix in one reaches both. These tests pin that the engine's public names are the
shared functions, and that the shared functions say the engine's words.
"""

from __future__ import annotations

import os
import pickle
import struct

import numpy as np
import pytest

from designer.data import access, builtin, safe_pickle, split, transforms
from designer.data.cifar import load_cifar
from designer.data.errors import DataFileError
from designer.data.idx import load_idx_folder, read_idx
from designer.data.imageset import images_from_array, labels_from_array
from designer.data.npz import load_npz
from designer.training import portable, portable_data


@pytest.mark.parametrize(("engine", "shared"), [
    (transforms.augment_batch, portable.augment_batch),
    (transforms.random_crop, portable.random_crop),
    (transforms.resize_images, portable_data.resize_images),
    (transforms.pixel_scale, portable_data.pixel_scale),
    (transforms.chunk_rows, portable_data.chunk_rows),
    (transforms.grayscale_to_rgb, portable_data.grayscale_to_rgb),
    (split.split_indices, portable_data.split_indices),
])
def test_the_engines_transforms_are_the_shared_ones(engine, shared):
    assert engine is shared


def test_the_shapes_are_drawn_by_the_shared_code():
    raw = builtin.make_shapes(40, seed=5, size=(12, 10))
    images, labels = portable_data.make_shapes(40, 5, (12, 10))
    assert raw.train.images.equal(images) and raw.train.labels.equal(labels)
    assert builtin.SHAPE_NAMES == portable_data.SHAPE_NAMES


@pytest.mark.parametrize(("array", "words"), [
    (np.zeros((2, 3), np.uint8), "f.npz: x must be images [N, H, W], [N, C, H, W] or [N, H, W, C], "
                                 "not an array of shape 2×3"),
    (np.zeros((0, 4, 4), np.uint8), "f.npz: x has shape 0×4×4: it holds no images"),
    (np.full((1, 4, 4), 300), "f.npz: x holds integer pixels from 300 to 300; "
                              "expected 0..255 (uint8) or floats 0..1"),
])
def test_the_shared_image_checks_say_the_engines_words(array, words):
    with pytest.raises(portable_data.DataProblem) as shared:
        portable_data.images_from_array(array, "f.npz", "x")
    with pytest.raises(DataFileError) as engine:
        images_from_array(array, "f.npz", "x")
    assert str(shared.value) == str(engine.value) == words


def test_the_shared_label_checks_say_the_engines_words():
    with pytest.raises(portable_data.DataProblem) as shared:
        portable_data.labels_from_array(np.array([0, 5]), 2, 3, "f.npz", "y")
    with pytest.raises(DataFileError) as engine:
        labels_from_array(np.array([0, 5]), 2, 3, "f.npz", "y")
    assert str(shared.value) == str(engine.value) == "f.npz: y[1] = 5 is out of range: labels must be in 0..2"


def test_a_truncated_idx_file_is_named_alike_by_both(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(struct.pack(">BBBB3I", 0, 0, 0x08, 3, 2, 4, 4) + bytes(20))
    with pytest.raises(portable_data.DataProblem) as shared:
        portable_data.read_idx(path)
    with pytest.raises(DataFileError) as engine:
        read_idx(path)
    words = f"{path}: truncated: the header promises 32 bytes of data (2×4×4), the file has 20"
    assert str(shared.value) == str(engine.value) == words


def test_the_engine_unpickles_with_the_shared_restricted_unpickler():
    assert safe_pickle.safe_loads is portable_data.safe_loads
    with pytest.raises(pickle.UnpicklingError, match=r"refused to load (posix|os|nt)\.system: not data"):
        portable_data.safe_loads(pickle.dumps(os.system))


def _npy(path):
    np.save(path.with_suffix(".npy"), np.zeros((2, 4, 4), np.uint8))
    path.with_suffix(".npy").rename(path)


def _stray_label(path):
    np.savez(path, x=np.zeros((3, 4, 4), np.uint8), y=np.array([0, 1, 2_000_000_000]))


@pytest.mark.parametrize(("make", "words"), [
    (_npy, "a single NumPy array (.npy), not an .npz archive: save the images and labels together "
           "with np.savez(path, x=images, y=labels)"),
    (_stray_label, "y holds the label 2000000000 but there are only 3 different labels, which would "
                   "make 2,000,000,001 classes: number the classes 0 to 2"),
])
def test_npz_files_are_read_and_refused_alike_by_both(tmp_path, make, words):
    make(tmp_path / "a.npz")
    with pytest.raises(portable_data.DataProblem) as shared:
        portable_data.read_npz(tmp_path / "a.npz")
    with pytest.raises(DataFileError) as engine:
        load_npz(tmp_path / "a.npz")
    assert str(shared.value) == str(engine.value)
    assert str(engine.value).startswith(f"{tmp_path / 'a.npz'}: {words}")


def test_the_shared_npz_reader_keeps_the_class_names(tmp_path):
    np.savez(tmp_path / "a.npz", x=np.zeros((2, 4, 4), np.uint8), y=np.array([0, 1]),
             class_names=np.array(["cat", "dog"]))
    train, given, names = portable_data.read_npz_named(tmp_path / "a.npz")
    assert (train[1].tolist(), given, names) == ([0, 1], None, ("cat", "dog"))
    assert load_npz(tmp_path / "a.npz").class_names == names


def test_the_engine_looks_for_files_with_the_shared_checks():
    assert access.present is portable_data.present and access.cannot_read is portable_data.cannot_read


def test_a_lone_idx_labels_file_is_named_alike_by_both(tmp_path):
    labels = tmp_path / "train-labels-idx1-ubyte"
    labels.write_bytes(struct.pack(">BBBBI", 0, 0, 0x08, 1, 2) + bytes(2))
    with pytest.raises(portable_data.DataProblem) as shared:
        portable_data.read_idx_folder(tmp_path)
    with pytest.raises(DataFileError) as engine:
        load_idx_folder(tmp_path, "mnist")
    assert str(shared.value) == str(engine.value) == (
        f"{tmp_path}: train-images-idx3-ubyte(.gz) is missing beside {labels}")


def test_a_cifar_batch_without_labels_is_named_alike_by_both(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        (folder / name).write_bytes(pickle.dumps({"data": np.zeros((1, 3072), np.uint8)}))
    with pytest.raises(portable_data.DataProblem) as shared:
        portable_data.read_cifar(tmp_path, "cifar10")
    with pytest.raises(DataFileError) as engine:
        load_cifar(tmp_path, "cifar10")
    assert str(shared.value) == str(engine.value) == f"{tmp_path}: data_batch_1: no 'labels' key"
