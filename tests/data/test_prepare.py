"""From a description and the graph's Input to splits ready to batch; fit checks with readable errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from designer.data import (
    DataConfigError,
    DataFileError,
    DataFitError,
    DatasetConfig,
    batches,
    check_fits,
    prepare,
)
from designer.data.builtin import SHAPE_NAMES, load_digits, make_shapes
from designer.data.transforms import channel_stats
from tests.data.writers import cifar10_members, write_image, write_mnist, write_tar

# -- built-in sources ------------------------------------------------------------------------


def test_digits_is_the_shipped_uci_set() -> None:
    raw = load_digits()
    assert raw.train.images.shape == (1797, 1, 8, 8) and raw.train.images.dtype == torch.uint8
    assert int(raw.train.images.max()) == 255 and torch.bincount(raw.train.labels).min() >= 170
    assert raw.given_val is None


def test_shapes_are_seeded_balanced_and_any_size() -> None:
    a, b = make_shapes(200, seed=4, size=(20, 28)), make_shapes(200, seed=4, size=(20, 28))
    assert a.train.images.shape == (200, 3, 20, 28) and a.train.images.dtype == torch.uint8
    assert torch.equal(a.train.images, b.train.images) and torch.equal(a.train.labels, b.train.labels)
    assert not torch.equal(a.train.images, make_shapes(200, seed=5, size=(20, 28)).train.images)
    assert torch.bincount(a.train.labels).tolist() == [20] * 10 and len(SHAPE_NAMES) == 10


def test_shapes_classes_differ_in_form_not_only_colour() -> None:
    """The fraction of foreground pixels (the rarer colour) separates round from square from thin shapes."""
    raw = make_shapes(1000, seed=0, size=(32, 32))
    images = raw.train.images.float()
    background = images[:, :, 0:1, 0:1]  # never mind edge cases: many corners are background
    differs = (images - background).abs().amax(dim=1) > 60
    share = differs.float().mean(dim=(1, 2))
    means = torch.stack([share[raw.train.labels == c].mean() for c in range(10)])
    assert float(means.max() - means.min()) > 0.05


# -- prepare ---------------------------------------------------------------------------------


def test_default_digits_upscaled_for_a_32x32_rgb_input() -> None:
    data = prepare(DatasetConfig(grayscale_to_rgb=True), (3, 32, 32), output_shape=(10,))
    info = data.info
    assert (info.channels, info.height, info.width, info.classes) == (3, 32, 32, 10)
    assert info.train_count + info.val_count == 1797 and info.validation == "0.1"
    assert info.source_size == (8, 8) and info.source_channels == 1
    assert data.train.images.dtype == torch.uint8 and data.train.images.shape[1:] == (3, 32, 32)
    x, y = next(batches(data.train, 64, shuffle=True, generator=torch.Generator().manual_seed(0)))
    assert x.shape == (64, 3, 32, 32) and y.shape == (64,)


def test_stats_come_from_the_training_split_only(tmp_path: Path) -> None:
    path = tmp_path / "d.npz"
    train = np.where(np.arange(20) % 2 == 0, 40, 60).astype(np.uint8)[:, None, None, None]
    np.savez(path, x=np.broadcast_to(train, (20, 1, 4, 4)), y=np.arange(20) % 2,
             x_val=np.full((10, 1, 4, 4), 250, np.uint8), y_val=np.arange(10) % 2)
    data = prepare(DatasetConfig(name="npz", path=str(path)), (1, 4, 4))
    assert data.info.validation == "given"
    assert data.stats.mean == pytest.approx((50 / 255,)) and data.stats.std == pytest.approx((10 / 255,))
    val_x, _ = next(batches(data.val, 10))
    # The validation pixels, normalised with the training stats: (250 − 50) / 10.
    assert torch.allclose(val_x, torch.full_like(val_x, 20.0), atol=1e-4)


def test_fraction_stats_match_the_training_side() -> None:
    data = prepare(DatasetConfig(name="shapes", samples=300, seed=1, validation=0.3), (3, 16, 16))
    assert (data.info.train_count, data.info.val_count) == (210, 90)
    assert data.stats == channel_stats(data.train.images)
    x = torch.cat([b for b, _ in batches(data.train, 64)])
    assert torch.allclose(x.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-4)
    assert torch.allclose(x.std(dim=(0, 2, 3)), torch.ones(3), atol=1e-2)


def test_normalize_off_gives_0_to_1_pixels() -> None:
    data = prepare(DatasetConfig(normalize=False), (1, 8, 8))
    x = torch.cat([b for b, _ in batches(data.train, 512)])
    assert float(x.min()) == 0.0 and float(x.max()) == 1.0


def test_flat_input_flattens_square_images(tmp_path: Path) -> None:
    folder = write_mnist(tmp_path / "m", train=20, test=10)
    data = prepare(DatasetConfig(name="mnist", path=str(folder)), (784,))
    x, _ = next(batches(data.train, 8))
    assert x.shape == (8, 784) and data.info.height == 28
    digits = prepare(DatasetConfig(), (256,))  # 1 × 16 × 16
    assert next(batches(digits.train, 4))[0].shape == (4, 256) and digits.info.height == 16


def test_cifar_with_given_split_and_relative_path(tmp_path: Path) -> None:
    write_tar(tmp_path / "c.tar.gz", "cifar-10-batches-py", cifar10_members(6))
    config = DatasetConfig.from_json({"name": "cifar10", "path": "c.tar.gz"})
    data = prepare(config, (3, 24, 24), base_dir=tmp_path, output_shape=(10,))
    assert (data.info.train_count, data.info.val_count, data.info.validation) == (30, 6, "given")
    assert data.train.images.shape == (30, 3, 24, 24) and data.class_names[0] == "airplane"
    fraction = DatasetConfig(name="cifar10", path="c.tar.gz", validation=0.2)
    held = prepare(fraction, (3, 32, 32), base_dir=tmp_path)
    assert any("test split (6 images) is not used" in n for n in held.info.notes)


def test_given_validation_without_a_test_split_is_refused() -> None:
    with pytest.raises(DataConfigError, match="'digits' has no test split of its own") as caught:
        prepare(DatasetConfig(validation="given"), (1, 8, 8))
    assert caught.value.key == "validation"


def test_channel_mismatch_is_refused_before_anything_is_read(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder"
    with pytest.raises(DataFitError, match="dataset has 1 channel, Input expects 3: enable 'grayscale to RGB'"):
        prepare(DatasetConfig(name="mnist", path=str(missing)), (3, 28, 28))
    with pytest.raises(DataFileError, match="no such folder"):
        prepare(DatasetConfig(name="mnist", path=str(missing)), (1, 28, 28))


def test_class_mismatch_is_refused() -> None:
    with pytest.raises(DataFitError, match="the last layer gives 5 outputs but the dataset has 10 classes"):
        prepare(DatasetConfig(), (1, 8, 8), output_shape=(5,))


# -- check_fits ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gray_info():  # type: ignore[no-untyped-def]
    return prepare(DatasetConfig(), (1, 8, 8)).info


@pytest.fixture(scope="module")
def rgb_from_gray_info():  # type: ignore[no-untyped-def]
    return prepare(DatasetConfig(grayscale_to_rgb=True), (3, 8, 8)).info


FIT_CASES = [
    ((3, 32, 32), (10,), "dataset has 1 channel, Input expects 3: enable 'grayscale to RGB' "
                         "or change the Input to [1, 32, 32]"),
    ((4, 8, 8), (10,), "dataset has 1 channel, Input expects 4: change the Input to [1, 8, 8]"),
    ((100,), (10,), None),
    ((99,), (10,), "Input [99] takes 99 features, which is not 1 channel × a square image; "
                   "this dataset fits [64] or [1, 8, 8]"),
    ((3072,), (10,), "enable 'grayscale to RGB' to read them as 3 × 32 × 32"),
    ((8, 8), (10,), "Input [8, 8] is neither an image [C, H, W] nor flat features [F]"),
    ((1, 28, 28), (1000,), "the last layer gives 1000 outputs but the dataset has 10 classes: "
                           "set its width to 10"),
    ((1, 28, 28), (10, 4, 4), "end the network with Flatten and Linear(…, 10)"),
    ((1, 64, 64), (10,), None),
]


@pytest.mark.parametrize(("input_shape", "output_shape", "message"), FIT_CASES)
def test_check_fits_messages(gray_info, input_shape, output_shape, message) -> None:  # type: ignore[no-untyped-def]
    if message is None:
        check_fits(gray_info, input_shape, output_shape)
        return
    with pytest.raises(DataFitError) as caught:
        check_fits(gray_info, input_shape, output_shape)
    assert message in str(caught.value)


def test_check_fits_after_grayscale_conversion(rgb_from_gray_info) -> None:  # type: ignore[no-untyped-def]
    check_fits(rgb_from_gray_info, (3, 32, 32), (10,))
    with pytest.raises(DataFitError, match="turn 'grayscale to RGB' off or change the Input to \\[3, 8, 8\\]"):
        check_fits(rgb_from_gray_info, (1, 8, 8), (10,))


def test_rgb_data_into_a_gray_input() -> None:
    info = prepare(DatasetConfig(name="shapes", samples=20), (3, 8, 8)).info
    with pytest.raises(DataFitError, match="dataset has 3 channels, Input expects 1: change the Input to"):
        check_fits(info, (1, 8, 8), (10,))


# -- the package's promises ------------------------------------------------------------------

NO_QT_NO_NETWORK = """
import socket, sys
class BlockQt:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("PySide6", "shiboken6", "PyQt5", "PyQt6", "pyqtgraph"):
            raise ImportError(f"Qt is blocked in this test: {name}")
sys.meta_path.insert(0, BlockQt())
def no_network(*args, **kwargs):
    raise AssertionError("the network was used")
socket.socket.connect = no_network
socket.create_connection = no_network
socket.getaddrinfo = no_network
import designer.data
data = designer.data.prepare(designer.data.DatasetConfig(), (1, 8, 8))
next(designer.data.batches(data.train, 4))
assert not [m for m in sys.modules if m.startswith(("PySide6", "shiboken6", "pyqtgraph"))]
print("ok")
"""


def test_imports_and_runs_without_qt_or_network() -> None:
    done = subprocess.run([sys.executable, "-c", NO_QT_NO_NETWORK], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_image_folder_through_prepare(tmp_path: Path) -> None:
    for name, shade in (("dark", 20), ("light", 230)):
        for i in range(4):
            write_image(tmp_path / "imgs" / name / f"{i}.png", (12, 12), shade, mode="L")
    config = DatasetConfig.from_json({"name": "folder", "path": "imgs", "validation": 0.25,
                                      "grayscale_to_rgb": True})
    data = prepare(config, (3, 16, 16), base_dir=tmp_path, cache_dir=tmp_path / "cache", output_shape=(2,))
    assert data.class_names == ("dark", "light") and data.info.source_channels == 1
    assert (data.info.train_count, data.info.val_count) == (6, 2)
    x, y = next(batches(data.val, 2))
    assert x.shape == (2, 3, 16, 16) and sorted(y.tolist()) == [0, 1]
    assert list((tmp_path / "cache").glob("folder-*-1x16x16.u8"))
