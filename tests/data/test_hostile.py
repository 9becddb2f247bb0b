"""Datasets that are odd or hostile: huge labels, empty images, special files, pickles, mixed colour.

Each case is driven through the loader a user's dataset goes through and checked
on what the user reads: one sentence naming the file, the key and the value.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from designer.cli import main
from designer.data.cifar import load_cifar
from designer.data.config import DatasetConfig
from designer.data.errors import DataFileError
from designer.data.fit_report import describe_fit
from designer.data.folder import load_folder, scan_folder
from designer.data.guess import guess_source
from designer.data.idx import load_idx_folder
from designer.data.npz import load_npz
from designer.data.prepare import prepare
from designer.data.preview import load_preview
from tests.data.writers import cifar10_members, write_image, write_mnist, write_tar

GRAY = 128

# -- labels far beyond the classes ----------------------------------------------------------


@pytest.mark.parametrize("top", [3_000_000, 2_000_000_000])
def test_npz_label_far_beyond_the_classes_is_refused(tmp_path: Path, top: int) -> None:
    path = tmp_path / "d.npz"
    np.savez(path, x=np.zeros((3, 4, 4), np.uint8), y=np.array([0, 1, top]))
    started = time.perf_counter()
    with pytest.raises(DataFileError) as caught:
        load_npz(path)
    assert time.perf_counter() - started < 2
    message = str(caught.value)
    assert message.startswith(f"{path}: y holds the label {top}") and "class_names" in message
    assert "\n" not in message


def test_npz_huge_label_in_the_validation_set_is_named(tmp_path: Path) -> None:
    path = tmp_path / "d.npz"
    np.savez(path, x=np.zeros((3, 4, 4), np.uint8), y=np.array([0, 1, 2]),
             x_val=np.zeros((2, 4, 4), np.uint8), y_val=np.array([1, 10**15]))
    with pytest.raises(DataFileError, match=r"y_val holds the label 1000000000000000"):
        load_npz(path)


@pytest.mark.parametrize(("labels", "classes"), [([0, 2, 7], 8), ([3, 150, 999], 1000), ([5, 99_999], 100_000)])
def test_npz_sparse_labels_still_load(tmp_path: Path, labels: list[int], classes: int) -> None:
    path = tmp_path / "d.npz"
    np.savez(path, x=np.zeros((len(labels), 4, 4), np.uint8), y=np.array(labels))
    raw = load_npz(path)
    assert len(raw.class_names) == classes and raw.class_names[-1] == str(classes - 1)


# -- images with no pixels ------------------------------------------------------------------


@pytest.mark.parametrize(("shape", "shown"), [
    ((3, 0, 4), "3×0×4"), ((3, 4, 0), "3×4×0"), ((3, 0, 4, 4), "3×0×4×4"),
    ((3, 4, 0, 3), "3×4×0×3"), ((3, 1, 4, 0), "3×1×4×0"), ((0, 4, 4), "0×4×4"),
])
def test_npz_images_with_no_pixels_are_named_with_their_shape(tmp_path: Path, shape: tuple[int, ...],
                                                               shown: str) -> None:
    path = tmp_path / "d.npz"
    np.savez(path, x=np.zeros(shape, np.uint8), y=np.zeros(shape[0], np.int64))
    config = DatasetConfig.from_json({"name": "npz", "path": str(path)})
    with pytest.raises(DataFileError) as caught:
        prepare(config, (1, 8, 8))
    assert str(caught.value).startswith(f"{path}: x has shape {shown}")


def test_npz_empty_validation_images_name_their_key(tmp_path: Path) -> None:
    path = tmp_path / "d.npz"
    np.savez(path, x=np.zeros((3, 4, 4), np.uint8), y=np.zeros(3, np.int64),
             x_val=np.zeros((2, 0, 4), np.uint8), y_val=np.zeros(2, np.int64))
    with pytest.raises(DataFileError, match=r"x_val has shape 2×0×4"):
        load_npz(path)


# -- what is not an .npz, in our words ------------------------------------------------------


def _not_npz(path: Path, kind: str) -> None:
    if kind == "random bytes":
        path.write_bytes(np.random.default_rng(0).integers(0, 256, 1000, dtype=np.uint8).tobytes())
    elif kind == "object array":
        np.savez(path, x=np.array([{"a": 1}] * 4, dtype=object), y=np.zeros(4, int))
    elif kind == "a .npy":
        with path.open("wb") as file:
            np.save(file, np.zeros((4, 8, 8), np.uint8))
    elif kind == "a zip of text":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("x.npy", "not an array")
            archive.writestr("y.npy", "nor this")


@pytest.mark.parametrize(("kind", "said"), [
    ("random bytes", "not an .npz file"),
    ("object array", "x holds Python objects"),
    ("a .npy", "a single NumPy array (.npy), not an .npz archive"),
    ("a zip of text", "x is not a NumPy array"),
])
def test_what_is_not_an_npz_is_said_without_numpys_advice(tmp_path: Path, kind: str, said: str) -> None:
    path = tmp_path / "d.npz"
    _not_npz(path, kind)
    with pytest.raises(DataFileError) as caught:
        load_npz(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and said in message, message
    assert "pickle" not in message.lower() and "unsafe" not in message.lower()


# -- special files: named, never opened -----------------------------------------------------


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes on this platform")
    os.mkfifo(tmp_path / "pipe")
    return tmp_path / "pipe"


def test_a_fifo_given_as_a_dataset_is_named_not_read(tmp_path: Path, fifo: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    npz = fifo.rename(tmp_path / "d.npz")
    with pytest.raises(DataFileError, match=r"d\.npz: is a named pipe \(FIFO\), not a file"):
        load_npz(npz)
    with pytest.raises(DataFileError, match=r"d\.npz: is a named pipe \(FIFO\), not a file"):
        guess_source(npz)
    with pytest.raises(DataFileError, match=r"d\.npz: is a named pipe \(FIFO\), not a file"):
        load_cifar(npz, "cifar10")
    code = main(["train", "lenet5", "--dataset", str(npz), "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and err.strip() == f"designer: error: {npz}: is a named pipe (FIFO), not a file"


def test_a_folder_where_a_file_is_expected_is_named_as_such(tmp_path: Path) -> None:
    (tmp_path / "d.npz").mkdir()
    with pytest.raises(DataFileError, match=r"d\.npz: is a folder, not a file"):
        load_npz(tmp_path / "d.npz")


def test_special_files_inside_a_dataset_are_named(tmp_path: Path, fifo: Path) -> None:
    mnist = write_mnist(tmp_path / "mnist", gz=False)
    (mnist / "train-labels-idx1-ubyte").unlink()
    fifo.rename(mnist / "train-labels-idx1-ubyte")
    with pytest.raises(DataFileError, match=r"train-labels-idx1-ubyte: is a named pipe"):
        load_idx_folder(mnist, "mnist")

    cifar = tmp_path / "cifar-10-batches-py"
    cifar.mkdir()
    for name, data in cifar10_members().items():
        (cifar / name).write_bytes(data)
    (cifar / "data_batch_2").unlink()
    (cifar / "data_batch_2").mkdir()
    with pytest.raises(DataFileError, match=r"data_batch_2: is a folder, not a file"):
        load_cifar(tmp_path, "cifar10")

    images = tmp_path / "images"
    write_image(images / "a" / "1.png", (8, 8), GRAY, mode="L")
    write_image(images / "b" / "2.png", (8, 8), GRAY, mode="L")
    os.mkfifo(images / "b" / "3.png")
    with pytest.raises(DataFileError, match=r"3\.png: is a named pipe \(FIFO\), not a file"):
        load_folder(scan_folder(images, tmp_path / "cache"), (8, 8))


# -- permissions: root reads everything, so the reader runs as nobody -----------------------


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A folder that a user other than us may enter (pytest's own tmp_path is private)."""
    folder = Path(tempfile.mkdtemp(prefix="designer-hostile-"))
    folder.chmod(0o755)
    yield folder
    for path in (folder, *folder.rglob("*")):
        if path.is_dir() and not path.is_symlink():
            path.chmod(0o755)
    shutil.rmtree(folder)


def _say(load: Callable[[], object]) -> str:
    try:
        load()
    except DataFileError as exc:
        return str(exc)
    except Exception as exc:  # shown in the test's failure, not hidden by the child
        return f"{type(exc).__name__}: {exc}"
    return "loaded"


def _said_as_nobody(cases: dict[str, Callable[[], object]]) -> dict[str, str]:
    """What each loader says when the user nobody runs it (root may read anything).

    A forked child drops root and reports back: the test process has imported
    everything already, where a fresh interpreter would spend seconds importing torch.
    """
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return {name: _say(load) for name, load in cases.items()}
    import pwd  # POSIX only, as is being root

    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no user 'nobody' to run as")
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        try:
            os.close(read)
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)
            said = {name: _say(load) for name, load in cases.items()}
            os.write(write, json.dumps(said).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        text = pipe.read()
    os.waitpid(pid, 0)
    if not text:
        pytest.skip("cannot switch to the user nobody here")
    return dict(json.loads(text))


def _unreadable_datasets(root: Path) -> None:
    for name in ("shut", "open"):
        write_image(root / "folders" / name / "a" / "1.png", (8, 8), GRAY, mode="L")
        write_image(root / "folders" / name / "b" / "2.png", (8, 8), GRAY, mode="L")
    (root / "folders" / "shut" / "b").chmod(0)
    (root / "folders" / "open" / "b" / "2.png").chmod(0)
    write_image(root / "closed" / "a" / "1.png", (8, 8), GRAY, mode="L")
    (root / "closed").chmod(0)
    np.savez(root / "d.npz", x=np.zeros((3, 4, 4), np.uint8), y=np.zeros(3, np.int64))
    write_tar(root / "cifar-10-python.tar.gz", "cifar-10-batches-py", cifar10_members())
    write_mnist(root / "mnist")
    for name in ("d.npz", "cifar-10-python.tar.gz", "mnist/train-labels-idx1-ubyte.gz"):
        (root / name).chmod(0)
    (root / "cache").mkdir(mode=0o777)
    (root / "cache").chmod(0o777)


def test_unreadable_files_and_folders_say_why(shared_dir: Path) -> None:
    _unreadable_datasets(shared_dir)
    root, cache = shared_dir, shared_dir / "cache"
    said = _said_as_nobody({
        "class folder": lambda: scan_folder(root / "folders" / "shut", cache),
        "dataset folder": lambda: scan_folder(root / "closed", cache),
        "image": lambda: load_folder(scan_folder(root / "folders" / "open", cache), (8, 8)),
        "npz": lambda: load_npz(root / "d.npz"),
        "cifar": lambda: load_cifar(root / "cifar-10-python.tar.gz", "cifar10"),
        "idx": lambda: load_idx_folder(root / "mnist", "mnist"),
    })
    denied = ": cannot be read: permission denied"
    assert said == {
        "class folder": f"{shared_dir / 'folders' / 'shut' / 'b'}{denied}",
        "dataset folder": f"{shared_dir / 'closed'}{denied}",
        "image": f"{shared_dir / 'folders' / 'open' / 'b' / '2.png'}{denied}",
        "npz": f"{shared_dir / 'd.npz'}{denied}",
        "cifar": f"{shared_dir / 'cifar-10-python.tar.gz'}{denied}",
        "idx": f"{shared_dir / 'mnist' / 'train-labels-idx1-ubyte.gz'}{denied}",
    }


# -- one colour image in a grayscale folder -------------------------------------------------


def _mostly_gray(root: Path, colour: int) -> Path:
    for i in range(6):
        write_image(root / ("a" if i % 2 else "b") / f"g{i}.png", (8, 8), GRAY, mode="L")
    for i in range(colour):
        write_image(root / "b" / f"rgb{i}.png", (8, 8), (200, 10, 10))
    return root


def test_training_names_the_colour_image_that_makes_a_gray_folder_rgb(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DESIGNER_CACHE_DIR", str(tmp_path / "cache"))
    root = _mostly_gray(tmp_path / "gray", 1)
    code = main(["train", "lenet5", "--dataset", str(root), "--out", str(tmp_path), "--epochs", "1"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.splitlines()) == 1
    assert "dataset has 3 channels, Input expects 1" in err
    assert err.strip().endswith(f"change the Input to [3, 32, 32], or convert to grayscale the 1 colour image "
                                f"among the 7 in {root}: b/rgb0.png")


def test_the_editor_names_the_first_colour_images_and_how_many(tmp_path: Path) -> None:
    root = _mostly_gray(tmp_path / "gray", 5)
    config = DatasetConfig.from_json({"name": "folder", "path": str(root)})
    facts = load_preview(config, (8, 8), cache_dir=tmp_path / "cache").facts
    report = describe_fit(facts, False, (1, 8, 8), (2,))
    assert report.level == "error"
    assert report.text.endswith(f"or convert to grayscale the 5 colour images among the 11 in {root}: "
                                "b/rgb0.png, b/rgb1.png, b/rgb2.png and 2 more.")
    # The names come from the cache too, the second time.
    again = load_preview(config, (8, 8), cache_dir=tmp_path / "cache").facts
    assert describe_fit(again, False, (1, 8, 8), (2,)).text == report.text


def test_a_colour_folder_is_not_blamed_on_its_images(tmp_path: Path) -> None:
    for i in range(4):
        write_image(tmp_path / "c" / ("a" if i % 2 else "b") / f"{i}.png", (8, 8), (200, 10, 10))
    write_image(tmp_path / "c" / "a" / "gray.png", (8, 8), GRAY, mode="L")
    config = DatasetConfig.from_json({"name": "folder", "path": str(tmp_path / "c")})
    facts = load_preview(config, (8, 8), cache_dir=tmp_path / "cache").facts
    text = describe_fit(facts, False, (1, 8, 8), (2,)).text
    assert text == "Does not fit: dataset has 3 channels, Input expects 1: change the Input to [3, 8, 8]."


# -- the image cache ------------------------------------------------------------------------


def test_the_image_cache_clears_what_a_killed_writer_left(tmp_path: Path) -> None:
    root = _mostly_gray(tmp_path / "gray", 0)
    cache = tmp_path / "cache"
    cache.mkdir()
    # What a process killed while writing its cache leaves: a temporary file nobody holds, an hour old.
    left = cache / ".folder-0123456789abcdef01234567-1x8x8.u8.0badf00d.tmp"
    left.write_bytes(b"PK half an archive")
    os.utime(left, (time.time() - 3600, time.time() - 3600))
    raw = load_folder(scan_folder(root, cache), (8, 8))
    assert len(raw.train) == 6
    assert sorted(p.suffix for p in cache.iterdir()) == [".json", ".json", ".lock", ".u8"]
    assert not [p for p in cache.iterdir() if p.name.startswith(".")]
    assert torch.equal(load_folder(scan_folder(root, cache), (8, 8)).train.images, raw.train.images)


def test_an_npz_member_whose_header_lies_about_its_size_is_named(tmp_path: Path) -> None:
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "|u1", "fortran_order": False, "shape": (10**12, 4)})
    path = tmp_path / "d.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("x.npy", header.getvalue() + b"tiny")
        archive.writestr("y.npy", header.getvalue())
    with pytest.raises(DataFileError) as caught:
        load_npz(path)
    # Too large where memory is not overcommitted, cut short where it is: either way, said of x.
    said = rf"{re.escape(str(path))}: x is (too large to load into memory|damaged \(EOF: .*\))"
    assert re.fullmatch(said, str(caught.value)), str(caught.value)
