"""Image folders: PNG, JPEG and BMP through Pillow, bad files named, decoded once then cached."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from designer.data import decode as decode_module
from designer.data import folder as folder_module
from designer.data.errors import DataFileError
from designer.data.folder import load_folder, scan_folder
from tests.data.writers import write_image

RED, GREEN, BLUE = (220, 20, 20), (20, 220, 20), (20, 20, 220)


def _three_classes(root: Path) -> Path:
    write_image(root / "apple" / "a1.png", (10, 12), RED)
    write_image(root / "apple" / "a2.bmp", (20, 20), RED)
    write_image(root / "leaf" / "l1.jpg", (16, 16), GREEN)
    write_image(root / "leaf" / "deep" / "l2.PNG", (8, 8), GREEN)
    write_image(root / "sea" / "s1.jpeg", (30, 10), BLUE)
    return root


def test_folder_classes_formats_and_size(tmp_path: Path) -> None:
    scan = scan_folder(_three_classes(tmp_path / "imgs"), tmp_path / "cache")
    assert scan.class_names == ("apple", "leaf", "sea") and scan.channels == 3
    raw = load_folder(scan, (16, 16))
    assert raw.train.images.shape == (5, 3, 16, 16) and raw.train.images.dtype == torch.uint8
    assert raw.train.labels.tolist() == [0, 0, 1, 1, 2]
    # Solid colours survive decoding and resizing (JPEG within a few levels).
    centre = raw.train.images[:, :, 8, 8].int()
    expected = torch.tensor([RED, RED, GREEN, GREEN, BLUE])
    assert (centre - expected).abs().max() <= 6


def test_grayscale_folder_has_one_channel(tmp_path: Path) -> None:
    write_image(tmp_path / "g" / "dark" / "a.png", (8, 8), 30, mode="L")
    write_image(tmp_path / "g" / "light" / "b.bmp", (8, 8), 200, mode="L")
    scan = scan_folder(tmp_path / "g", tmp_path / "cache")
    assert scan.channels == 1
    raw = load_folder(scan, (4, 4))
    assert raw.train.images.shape == (2, 1, 4, 4) and raw.train.images[1].unique().tolist() == [200]


def test_train_and_val_subfolders_give_a_split(tmp_path: Path) -> None:
    for split, count in (("train", 3), ("val", 2)):
        for name, colour in (("a", RED), ("b", BLUE)):
            for i in range(count):
                write_image(tmp_path / "d" / split / name / f"{i}.png", (8, 8), colour)
    raw = load_folder(scan_folder(tmp_path / "d", tmp_path / "cache"), (8, 8))
    assert len(raw.train) == 6 and raw.given_val is not None and len(raw.given_val) == 4
    assert raw.class_names == ("a", "b")


def test_corrupt_image_is_named(tmp_path: Path) -> None:
    root = _three_classes(tmp_path / "imgs")
    bad = root / "leaf" / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n this is not really a png")
    with pytest.raises(DataFileError, match="not a readable image") as caught:
        load_folder(scan_folder(root, tmp_path / "cache"), (8, 8))
    assert caught.value.path == bad


def test_truncated_image_is_named(tmp_path: Path) -> None:
    root = _three_classes(tmp_path / "imgs")
    big = root / "sea" / "big.png"
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(big)
    big.write_bytes(big.read_bytes()[:2000])
    with pytest.raises(DataFileError, match="not a readable image") as caught:
        load_folder(scan_folder(root, tmp_path / "cache"), (8, 8))
    assert caught.value.path == big


def test_empty_class_folder_is_named(tmp_path: Path) -> None:
    root = _three_classes(tmp_path / "imgs")
    (root / "zebra").mkdir()
    (root / "zebra" / "notes.txt").write_text("todo")
    expected = r"holds no PNG, JPEG or BMP images \(it has only: notes.txt\)"
    with pytest.raises(DataFileError, match=expected) as caught:
        scan_folder(root, tmp_path / "cache")
    assert caught.value.path == root / "zebra"


def test_no_class_folders(tmp_path: Path) -> None:
    write_image(tmp_path / "flat" / "a.png", (4, 4), RED)
    with pytest.raises(DataFileError, match="no class sub-folders"):
        scan_folder(tmp_path / "flat", tmp_path / "cache")


def test_other_files_are_reported_not_silently_skipped(tmp_path: Path) -> None:
    root = _three_classes(tmp_path / "imgs")
    (root / "apple" / "readme.txt").write_text("x")
    (root / "labels.csv").write_text("x")
    scan = scan_folder(root, tmp_path / "cache")
    notes = " | ".join(scan.notes)
    assert "readme.txt" in notes and "labels.csv" in notes
    assert load_folder(scan, (8, 8)).notes == scan.notes


def test_second_load_reads_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root, cache = _three_classes(tmp_path / "imgs"), tmp_path / "cache"
    first = load_folder(scan_folder(root, cache), (12, 12))
    assert list(cache.glob("folder-*-3x12x12.u8")) and list(cache.glob("folder-*-3x12x12.json"))

    def refuse(*args: object) -> None:
        raise AssertionError("decoded again instead of reading the cache")

    monkeypatch.setattr(decode_module, "decode_image", refuse)
    monkeypatch.setattr(folder_module, "_header_mode", refuse)
    second = load_folder(scan_folder(root, cache), (12, 12))
    assert torch.equal(first.train.images, second.train.images)
    assert torch.equal(first.train.labels, second.train.labels)


def test_cache_follows_changes_to_the_folder(tmp_path: Path) -> None:
    root, cache = _three_classes(tmp_path / "imgs"), tmp_path / "cache"
    load_folder(scan_folder(root, cache), (8, 8))
    write_image(root / "sea" / "s2.png", (8, 8), BLUE)
    raw = load_folder(scan_folder(root, cache), (8, 8))
    assert len(raw.train) == 6
    # Rewriting a file (new contents, new mtime) must not serve the old pixels.
    write_image(root / "sea" / "s2.png", (8, 8), RED)
    os.utime(root / "sea" / "s2.png", ns=(1, 1))
    again = load_folder(scan_folder(root, cache), (8, 8))
    assert again.train.images[5, :, 4, 4].tolist() == list(RED)


def test_cache_differs_by_size(tmp_path: Path) -> None:
    root, cache = _three_classes(tmp_path / "imgs"), tmp_path / "cache"
    assert load_folder(scan_folder(root, cache), (8, 8)).train.images.shape[2:] == (8, 8)
    assert load_folder(scan_folder(root, cache), (5, 7)).train.images.shape[2:] == (5, 7)
