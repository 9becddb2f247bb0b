"""The dataset picker's Qt-free helpers: the fit in words, the preview through prepare, finding downloads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from designer.data.config import DatasetConfig
from designer.data.downloaded import download_folder, downloaded_path
from designer.data.fit_report import DatasetFacts, describe_fit, network_shapes
from designer.data.prepare import prepare
from designer.data.preview import load_preview
from designer.graph.errors import GraphError
from designer.graph.graph import Graph
from tests.data.writers import write_image, write_mnist

DIGITS = DatasetFacts("digits", 1, (8, 8), False, 10, tuple("0123456789"), 1618, 179)
SHAPES = DatasetFacts("shapes", 3, (32, 32), True, 10, tuple("abcdefghij"), 4500, 500)


@pytest.mark.parametrize(("facts", "gray", "shape", "level", "text"), [
    (DIGITS, False, (1, 8, 8), "ok",
     "Fits: the network takes 1×8×8 images and gives 10 class scores; digits has 1×8×8."),
    (DIGITS, False, (1, 32, 32), "note",
     "Fits: the network takes 1×32×32 images; digits has 1×8×8 — they will be resized."),
    (DIGITS, True, (3, 8, 8), "note", "Fits: the network takes 3×8×8 images; digits has 1×8×8 — they will be "
                                      "made RGB."),
    (DIGITS, False, (64,), "note", "Fits: the network takes 64 features; digits has 1×8×8 — they will be "
                                   "flattened."),
    (DIGITS, False, (784,), "note", "Fits: the network takes 784 features; digits has 1×8×8 — they will be "
                                    "resized to 28×28 and flattened."),
    (DIGITS, False, (3, 8, 8), "error", "Does not fit: dataset has 1 channel, Input expects 3: enable "
                                        "'grayscale to RGB' or change the Input to [1, 8, 8]."),
    (SHAPES, False, (3, 64, 64), "ok", "Fits: the network takes 3×64×64 images and gives 10 class scores; "
                                       "shapes draws its 3-channel images at that size."),
    (SHAPES, False, (1, 64, 64), "error", "Does not fit: dataset has 3 channels, Input expects 1: change the "
                                          "Input to [3, 64, 64]."),
])
def test_describe_fit(facts: DatasetFacts, gray: bool, shape: tuple[int, ...], level: str, text: str) -> None:
    report = describe_fit(facts, gray, shape, (10,))
    assert (report.level, report.text) == (level, text)


def test_describe_fit_checks_the_classes() -> None:
    report = describe_fit(DIGITS, False, (1, 8, 8), (5,))
    assert report.level == "error" and "gives 5 outputs but the dataset has 10 classes" in report.text
    assert describe_fit(DIGITS, False, (1, 8, 8), (10, 2)).level == "error"


def test_summary_counts_and_plurals() -> None:
    assert DIGITS.summary() == "1,618 training / 179 validation samples · 10 classes · shape 1×8×8"
    one = DatasetFacts("folder", 3, (16, 16), True, 1, ("only",), 7, 1)
    assert one.summary() == ("7 training / 1 validation sample · 1 class · shape 3×H×W, decoded at the "
                             "network's input size")


def test_network_shapes_say_why_they_are_missing() -> None:
    graph = Graph()
    with pytest.raises(GraphError, match="no Input block"):
        network_shapes(graph)
    graph.add_node("Input", "input", {"shape": (1, 8, 8)})
    graph.add_node("Flatten", "flatten")
    graph.add_node("Linear", "fc", {"out_features": 10})
    graph.connect("input", "flatten")
    graph.connect("flatten", "fc")
    assert network_shapes(graph) == ((1, 8, 8), (10,))
    graph.add_node("Linear", "fc2", {"out_features": 3})
    graph.connect("flatten", "fc2")
    with pytest.raises(GraphError, match=r"2 outputs \(fc, fc2\)"):
        network_shapes(graph)


def test_preview_is_what_prepare_gives(tmp_path: Path) -> None:
    path = tmp_path / "float.npz"
    rng = np.random.default_rng(0)
    np.savez(path, x=rng.random((40, 5, 6, 3)).astype(np.float32), y=np.arange(40) % 4)
    config = DatasetConfig(name="npz", path=str(path), validation=0.25, normalize=True, grayscale_to_rgb=True)
    preview = load_preview(config, count=6)
    assert preview.facts.summary() == "28 training / 12 validation samples · 4 classes · shape 3×5×6"
    assert preview.images.shape == (6, 5, 6, 3) and preview.images.dtype == np.uint8
    data = prepare(config, (3, 5, 6))
    assert preview.labels == tuple(data.train.labels[:6].tolist())
    expected = (data.train.images[:6].permute(0, 2, 3, 1).numpy() * 255).round()
    assert np.array_equal(preview.images, expected.astype(np.uint8))


def test_image_folders_preview_at_the_network_size_into_the_cache(tmp_path: Path) -> None:
    for name in ("a", "b"):
        for i in range(3):
            write_image(tmp_path / "imgs" / name / f"{i}.png", (20, 30), 50 * i, mode="L")
    config = DatasetConfig(name="folder", path="imgs", validation=0)
    preview = load_preview(config, (12, 12), base_dir=tmp_path, cache_dir=tmp_path / "cache")
    assert preview.facts.any_size and preview.facts.channels == 1 and preview.images.shape == (6, 12, 12, 1)
    assert list((tmp_path / "cache").glob("folder-*-1x12x12.u8"))  # what training at 12×12 will read


def test_downloaded_path_looks_in_the_default_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DESIGNER_CACHE_DIR", str(tmp_path))
    assert download_folder("mnist") == tmp_path / "datasets" / "mnist"
    assert downloaded_path("mnist") is None and downloaded_path("digits") is None
    write_mnist(tmp_path / "datasets" / "mnist", train=5, test=5)
    assert downloaded_path("mnist") == (tmp_path / "datasets" / "mnist").resolve()
    (tmp_path / "datasets" / "cifar10").mkdir(parents=True)
    (tmp_path / "datasets" / "cifar10" / "cifar-10-python.tar.gz.part").write_bytes(b"half")
    assert downloaded_path("cifar10") is None  # a partial download is not a dataset
