"""Guessing a dataset's format from its path (``designer train --dataset PATH``)."""

from __future__ import annotations

import numpy as np
import pytest

from designer.data import DataFileError
from designer.data.guess import guess_source, split_named

from .writers import cifar10_members, cifar100_members, write_folder, write_image, write_mnist, write_tar


def test_files_and_folders_are_placed_by_their_names(tmp_path):
    np.savez(tmp_path / "set.npz", x=np.zeros((4, 8, 8), np.uint8), y=np.arange(4))
    assert guess_source(tmp_path / "set.npz") == ("npz", tmp_path / "set.npz")
    mnist = write_mnist(tmp_path / "mnist")
    assert guess_source(mnist) == ("mnist", mnist)
    assert guess_source(mnist / "train-images-idx3-ubyte.gz") == ("mnist", mnist)
    fashion = write_mnist(tmp_path / "fashion", gz=False)
    assert guess_source(fashion / "train-labels-idx1-ubyte") == ("fashion_mnist", fashion)
    cifar = write_folder(tmp_path / "c10" / "cifar-10-batches-py", cifar10_members())
    assert guess_source(cifar.parent)[0] == "cifar10" and guess_source(cifar)[0] == "cifar10"
    assert guess_source(write_folder(tmp_path / "c100", cifar100_members()))[0] == "cifar100"
    write_image(tmp_path / "pets" / "cat" / "a.png", (8, 8), (1, 2, 3))
    assert guess_source(tmp_path / "pets") == ("folder", tmp_path / "pets")


def test_archives_are_placed_by_name_or_by_their_first_folder(tmp_path):
    assert guess_source(write_tar(tmp_path / "data.tar.gz", "cifar-100-python", cifar100_members()))[0] == \
        "cifar100"
    assert guess_source(write_tar(tmp_path / "x.tgz", "cifar-10-batches-py", cifar10_members()))[0] == "cifar10"
    with pytest.raises(DataFileError, match="not CIFAR"):
        guess_source(write_tar(tmp_path / "other.tar.gz", "photos", {"a": b"1"}))


def test_what_cannot_be_placed_is_refused(tmp_path):
    with pytest.raises(DataFileError, match="no such file"):
        guess_source(tmp_path / "missing")
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(DataFileError, match="NAME:PATH"):
        guess_source(tmp_path / "notes.txt")
    assert split_named("fashion-mnist:~/data") == ("fashion_mnist", "~/data")
    assert split_named("C:/data/set.npz") is None and split_named("digits") is None
