"""The dataset picker, driven through its widgets: sources, preview, fit against the graph, downloads.

Downloads come from a local HTTP server on 127.0.0.1 (as in tests/data/test_download.py);
nothing here reaches the internet. The default download folder is a temporary one.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
import shiboken6
from PIL import Image
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractSpinBox, QCheckBox, QComboBox, QLineEdit

from designer.data.config import Augment, DatasetConfig
from designer.data.download import CATALOG, RemoteDataset, RemoteFile
from designer.data.prepare import prepare
from designer.graph.graph import Graph
from designer.ui.commands import SetParams
from designer.ui.document import Document
from designer.ui.training.background import running_tasks
from designer.ui.training.dataset_picker import DatasetPicker
from tests.data.writers import write_mnist

WAIT = 30_000  # ms: the first preview imports torch on the worker thread


# -- a local server ------------------------------------------------------------------------------

@dataclass
class Served:
    files: dict[str, bytes] = field(default_factory=dict)
    drip: float = 0.0  # seconds between 16 KB pieces of a body; 0 sends it at once


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        served: Served = self.server.served  # type: ignore[attr-defined]
        data = served.files.get(self.path)
        if data is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        step = 16_384 if served.drip else len(data)
        try:
            for start in range(0, len(data), step):
                self.wfile.write(data[start:start + step])
                time.sleep(served.drip)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the picker cancelled and closed the connection

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, Served]]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.served = Served()  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", httpd.served  # type: ignore[attr-defined]
    finally:
        httpd.shutdown()
        httpd.server_close()


# -- the picker ------------------------------------------------------------------------------------

@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The user cache (downloads, decoded image folders) in a temporary folder."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("DESIGNER_CACHE_DIR", str(folder))
    return folder


@pytest.fixture
def picker(qtbot, cache: Path) -> Iterator[DatasetPicker]:
    widget = DatasetPicker()
    qtbot.addWidget(widget)
    widget.resize(600, 760)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    widget.shutdown()
    qtbot.waitUntil(lambda: running_tasks() == 0, timeout=WAIT)


def choose(combo: QComboBox, text: str) -> None:
    """Pick ``text`` with the keyboard, as a user tabbing through the form would."""
    combo.setFocus()
    QTest.keyClick(combo, Qt.Key.Key_Home)
    for _ in range(combo.count()):
        if combo.currentText() == text:
            return
        QTest.keyClick(combo, Qt.Key.Key_Down)
    assert combo.currentText() == text


def type_into(widget: QLineEdit | QAbstractSpinBox, text: str) -> None:
    widget.setFocus()
    QTest.keyClick(widget, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClicks(widget, text)
    QTest.keyClick(widget, Qt.Key.Key_Return)


def click_box(qtbot, box: QCheckBox) -> None:
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))


def captions(picker: DatasetPicker) -> list[str]:
    return [cell.caption.text() for cell in picker.preview.thumbnails if cell.isVisibleTo(picker.preview)]


def wait_for_preview(qtbot, picker: DatasetPicker, contains: str) -> None:
    qtbot.waitUntil(lambda: contains in picker.preview.summary.text(), timeout=WAIT)


# -- tests -----------------------------------------------------------------------------------------

def test_the_picker_module_does_not_import_torch() -> None:
    """The training panel may be built at startup: the window must not wait for torch."""
    code = ("import sys; import designer.ui.training.dataset_picker; "
            "print('torch' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_digits_preview_shows_first_images_with_labels_and_real_counts(qtbot, picker: DatasetPicker) -> None:
    assert picker.form.source.currentText() == "Digits (built in)"
    wait_for_preview(qtbot, picker, "training")
    expected = prepare(DatasetConfig(), (1, 8, 8))
    assert picker.preview.summary.text() == (
        f"{expected.info.train_count:,} training / {expected.info.val_count:,} validation samples"
        " · 10 classes · shape 1×8×8")
    assert picker.preview.summary.text() == "1,618 training / 179 validation samples · 10 classes · shape 1×8×8"
    assert captions(picker) == [str(int(y)) for y in expected.train.labels[:32]]
    for pixmap, _ in picker.preview.shown():
        assert not pixmap.isNull() and pixmap.width() == 48
    # The thumbnails show the images themselves: the first one's pixels, enlarged 6×.
    first = picker.preview.shown()[0][0].toImage()
    assert first.pixelColor(3, 3).red() == int(expected.train.images[0, 0, 0, 0])
    assert picker.problem() is None and picker.dataset_config() == DatasetConfig()


def test_choosing_shapes_with_the_keyboard_shows_its_options(qtbot, picker: DatasetPicker) -> None:
    wait_for_preview(qtbot, picker, "training")
    form = picker.form
    assert not form.samples.isVisibleTo(picker) and not form.path.isVisibleTo(picker)
    with qtbot.waitSignal(picker.changed) as emitted:
        choose(form.source, "Shapes (generated)")
    assert emitted.args == [DatasetConfig(name="shapes")]
    assert form.samples.isVisibleTo(picker) and not form.path.isVisibleTo(picker)
    assert not form.grayscale.isEnabled()  # shapes are in colour
    with qtbot.waitSignal(picker.changed) as emitted:
        type_into(form.samples, "300")
    assert emitted.args == [DatasetConfig(name="shapes", samples=300)]
    wait_for_preview(qtbot, picker, "270 training / 30 validation samples · 10 classes · shape 3×H×W")
    names = [name for _, name in picker.preview.shown()]
    assert len(names) == 32 and set(names) <= {"circle", "square", "triangle", "diamond", "ring", "plus",
                                               "frame", "cross", "semicircle", "star"}
    for name, caption in zip(names, captions(picker)):  # long names are elided under the thumbnail
        assert caption == name or (caption.endswith("…") and name.startswith(caption[:-1]))


def test_options_make_the_config_and_reload_only_when_the_data_changes(qtbot, picker: DatasetPicker) -> None:
    wait_for_preview(qtbot, picker, "1,618 training")
    form = picker.form
    with qtbot.waitSignal(picker.changed) as emitted:
        click_box(qtbot, form.normalize)
    assert emitted.args[0].normalize is False
    with qtbot.waitSignal(picker.changed) as emitted:
        type_into(form.crop_padding, "4")
    assert emitted.args[0].augment == Augment(crop_padding=4)
    click_box(qtbot, form.hflip)
    assert picker.preview.message.isHidden()  # no reload for options that leave the images as they are
    choose(form.validation_mode, "A share of the training set")
    with qtbot.waitSignal(picker.changed) as emitted:
        type_into(form.fraction, "0.5")
    assert emitted.args[0] == DatasetConfig(validation=0.5, normalize=False, augment=Augment(4, True))
    wait_for_preview(qtbot, picker, "896 training / 901 validation samples")
    with qtbot.waitSignal(picker.changed) as emitted:
        type_into(form.seed, "7")
    assert emitted.args[0].seed == 7
    choose(form.validation_mode, "The source's test split")
    qtbot.waitUntil(lambda: "has no test split of its own" in picker.preview.message.text(), timeout=WAIT)
    assert "give a fraction such as 0.1" in (picker.problem() or "")


def test_set_dataset_config_shows_it_without_a_signal(qtbot, picker: DatasetPicker, tmp_path: Path) -> None:
    configs = [
        DatasetConfig(name="shapes", samples=300, seed=5, validation=0.2, normalize=False,
                      augment=Augment(4, True)),
        DatasetConfig(name="mnist", path=str(tmp_path / "mnist"), validation="given", grayscale_to_rgb=True),
        DatasetConfig(name="npz", path="data/train.npz", seed=2**40),
        DatasetConfig(name="digits"),
    ]
    for config in configs:
        with qtbot.assertNotEmitted(picker.changed):
            picker.set_dataset_config(config)
        assert picker.dataset_config() == config
    picker.set_dataset_config(configs[0])
    assert picker.form.source.currentText() == "Shapes (generated)" and picker.form.samples.value() == 300
    assert picker.form.fraction.value() == 0.2 and picker.form.hflip.isChecked()


def make_folder(root: Path, classes: dict[str, int], size: tuple[int, int] = (20, 20)) -> Path:
    for index, (name, count) in enumerate(classes.items()):
        for i in range(count):
            (root / name).mkdir(parents=True, exist_ok=True)
            Image.new("RGB", size, (40 * index + 30, 10 * i, 200)).save(root / name / f"{i}.png")
    return root


def test_image_folder_is_browsed_for_and_previewed(qtbot, picker: DatasetPicker, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    folder = make_folder(tmp_path / "pets", {"cat": 3, "dog": 5})
    asked: list[str] = []
    monkeypatch.setattr(picker, "ask_folder", lambda title: asked.append(title) or str(folder))
    choose(picker.form.source, "Image folder…")  # the dialog opens by itself: there is no path yet
    qtbot.waitUntil(lambda: picker.form.path.text() == str(folder))
    assert len(asked) == 1  # not for the sources passed on the way
    assert picker.dataset_config() == DatasetConfig(name="folder", path=str(folder))
    wait_for_preview(qtbot, picker, "7 training / 1 validation sample · 2 classes · shape 3×H×W")
    assert sorted(captions(picker)) == ["cat", "cat", "cat", "dog", "dog", "dog", "dog"]
    assert picker.problem() is None


def test_bad_folders_are_explained(qtbot, picker: DatasetPicker, tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    flat = tmp_path / "flat"
    flat.mkdir()
    Image.new("RGB", (8, 8)).save(flat / "lonely.png")
    monkeypatch.setattr(picker, "ask_folder", lambda title: str(flat))
    choose(picker.form.source, "Image folder…")
    qtbot.waitUntil(lambda: "no class sub-folders" in picker.preview.message.text(), timeout=WAIT)
    message = picker.preview.message.text()
    assert message.startswith("Cannot load this dataset: ") and str(flat) in message
    assert "Traceback" not in message and not captions(picker) and not picker.preview.summary.text()
    assert "no class sub-folders" in (picker.problem() or "")
    type_into(picker.form.path, str(tmp_path / "nowhere"))
    qtbot.waitUntil(lambda: "no such folder" in picker.preview.message.text(), timeout=WAIT)
    assert picker.problem() == f"{tmp_path / 'nowhere'}: no such folder"


def test_an_empty_path_gives_none_and_the_reason(qtbot, picker: DatasetPicker,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []
    monkeypatch.setattr(picker, "ask_file", lambda title, filter: asked.append(filter) or "")  # closed
    picker.form.source.setFocus()
    with qtbot.waitSignal(picker.changed) as emitted:
        QTest.keyClick(picker.form.source, Qt.Key.Key_End)  # the last source: ".npz file…"
    assert emitted.args == [None] and picker.dataset_config() is None
    qtbot.waitUntil(lambda: asked == ["NumPy arrays (*.npz)"])
    reason = "Choose the .npz file (Browse…) that holds arrays x and y."
    assert picker.status_label.text() == reason and picker.status_label.isVisibleTo(picker)
    assert picker.problem() == reason and not picker.preview.summary.text()


# -- the fit against the graph -------------------------------------------------------------------------

def small_network(shape: tuple[int, ...], classes: int = 10) -> Graph:
    graph = Graph()
    graph.add_node("Input", "input", {"shape": shape})
    graph.add_node("Flatten", "flatten")
    graph.add_node("Linear", "fc", {"out_features": classes})
    graph.connect("input", "flatten")
    graph.connect("flatten", "fc")
    return graph


def test_fit_message_follows_the_graphs_shapes(qtbot, picker: DatasetPicker) -> None:
    document = Document(small_network((1, 8, 8)))
    picker.set_graph(document.graph)
    fit = picker.fit_label

    def shows(text: str) -> None:
        qtbot.waitUntil(lambda: fit.text() == text, timeout=WAIT)

    shows("Fits: the network takes 1×8×8 images and gives 10 class scores; digits has 1×8×8.")
    document.undo_stack.push(SetParams(document.graph, "input", {"shape": (1, 32, 32)}))
    shows("Fits: the network takes 1×32×32 images; digits has 1×8×8 — they will be resized.")
    assert picker.problem() is None
    with qtbot.waitSignal(picker.problem_changed) as problem:
        document.undo_stack.push(SetParams(document.graph, "input", {"shape": (3, 32, 32)}))
    shows("Does not fit: dataset has 1 channel, Input expects 3: enable 'grayscale to RGB' "
          "or change the Input to [1, 32, 32].")
    assert problem.args == [fit.text()] and "c62828" in fit.styleSheet()
    click_box(qtbot, picker.form.grayscale)
    shows("Fits: the network takes 3×32×32 images; digits has 1×8×8 — they will be made RGB and resized.")
    document.undo_stack.push(SetParams(document.graph, "fc", {"out_features": 5}))
    shows("Does not fit: the last layer gives 5 outputs but the dataset has 10 classes: set its width to 10.")
    document.undo_stack.undo()
    document.undo_stack.undo()
    shows("Does not fit: dataset has 1 channel made into 3 by 'grayscale to RGB', Input expects 1: "
          "turn 'grayscale to RGB' off or change the Input to [3, 8, 8].")  # the two shape edits merged
    document.graph.remove_node("input")
    shows("Cannot check the dataset against the network: the network has no Input block.")


def test_a_deleted_picker_stops_listening_to_the_graph(qtbot, cache: Path) -> None:
    graph = small_network((1, 8, 8))
    before = len(graph.events.shapes_changed)
    widget = DatasetPicker()
    widget.set_graph(graph)
    assert len(graph.events.shapes_changed) == before + 1
    widget.deleteLater()
    qtbot.waitUntil(lambda: len(graph.events.shapes_changed) == before)
    graph.set_params("input", {"shape": (1, 9, 9)})  # no call into a deleted widget


# -- downloads --------------------------------------------------------------------------------------------

def serve_mnist(served: Served, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = write_mnist(tmp_path / "served", train=40, test=10, gz=True)
    files = []
    for path in sorted(source.iterdir()):
        served.files[f"/mnist/{path.name}"] = path.read_bytes()
        files.append(RemoteFile(path.name, hashlib.md5(path.read_bytes()).hexdigest()))
    real = CATALOG["mnist"]
    monkeypatch.setitem(CATALOG, "mnist", RemoteDataset(real.mirrors, tuple(files), real.result))


def test_download_reaches_100_percent_then_previews(qtbot, picker: DatasetPicker, server, cache: Path,
                                                    tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    base, served = server
    serve_mnist(served, tmp_path, monkeypatch)
    picker.download_base_url = f"{base}/mnist/"
    row = picker.download
    choose(picker.form.source, "MNIST")
    assert row.isVisibleTo(picker) and row.download_button.text() == "Download"
    assert "MNIST is not in" in row.message.text() and picker.problem() is not None
    values: list[int] = []
    row.progress.valueChanged.connect(values.append)
    with qtbot.waitSignal(picker.changed, timeout=WAIT) as emitted:
        qtbot.mouseClick(row.download_button, Qt.MouseButton.LeftButton)
    folder = cache / "datasets" / "mnist"
    assert emitted.args == [DatasetConfig(name="mnist", path=str(folder.resolve()))]
    assert values[-1] == 1000 and values == sorted(values) and row.progress.text() == "100%"
    assert sorted(p.name for p in folder.iterdir()) == sorted(Path(k).name for k in served.files)
    assert row.message.text() == f"MNIST downloaded to {folder.resolve()}."
    wait_for_preview(qtbot, picker, "40 training / 10 validation samples · 10 classes · shape 1×28×28")
    assert picker.problem() is None and picker.form.source.isEnabled()


def test_cancel_leaves_no_final_file(qtbot, picker: DatasetPicker, server, cache: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    base, served = server
    payload = np.random.default_rng(3).integers(0, 256, 4_000_000, dtype=np.uint8).tobytes()
    served.files["/files/cifar-10-python.tar.gz"] = payload
    served.drip = 0.02  # 16 KB every 20 ms: some seconds for the whole file
    spec = RemoteDataset((base,), (RemoteFile("cifar-10-python.tar.gz", hashlib.md5(payload).hexdigest()),),
                         "cifar-10-python.tar.gz")
    monkeypatch.setitem(CATALOG, "cifar10", spec)
    picker.download_base_url = f"{base}/files/"
    row = picker.download
    choose(picker.form.source, "CIFAR-10")
    qtbot.mouseClick(row.download_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: row.progress.value() > 0, timeout=WAIT)
    assert not picker.form.source.isEnabled() and picker.problem() == "The dataset is still downloading."
    qtbot.mouseClick(row.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "cancelled" in row.message.text(), timeout=WAIT)
    final = cache / "datasets" / "cifar10" / "cifar-10-python.tar.gz"
    assert not final.exists()
    assert 0 < final.with_name(final.name + ".part").stat().st_size < len(payload)  # kept, to resume
    assert row.download_button.isVisibleTo(picker) and picker.form.source.isEnabled()
    assert picker.dataset_config() is None and "CIFAR-10 is not on this computer" in (picker.problem() or "")


def test_download_errors_are_sentences(qtbot, picker: DatasetPicker, server, cache: Path) -> None:
    base, _ = server
    picker.download_base_url = f"{base}/missing/"
    choose(picker.form.source, "Fashion-MNIST")
    row = picker.download
    qtbot.mouseClick(row.download_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: row.message.text().startswith("Download failed"), timeout=WAIT)
    assert "train-images-idx3-ubyte.gz: HTTP 404" in row.message.text()
    assert "Traceback" not in row.message.text() and "c62828" in row.message.styleSheet()
    assert row.download_button.text() == "Try again" and not (cache / "datasets" / "fashion_mnist" /
                                                               "train-images-idx3-ubyte.gz").exists()


def test_a_downloaded_dataset_is_found_in_the_default_folder(qtbot, picker: DatasetPicker, cache: Path) -> None:
    folder = write_mnist(cache / "datasets" / "mnist", train=20, test=10, gz=True)
    emitted: list[DatasetConfig | None] = []
    picker.changed.connect(emitted.append)
    choose(picker.form.source, "MNIST")
    assert emitted[-1] == picker.dataset_config() == DatasetConfig(name="mnist", path=str(folder.resolve()))
    assert picker.download.isHidden()
    wait_for_preview(qtbot, picker, "20 training / 10 validation samples")


def test_a_picker_closed_while_its_preview_loads_ignores_the_result(qtbot, cache: Path) -> None:
    widget = DatasetPicker()
    widget.set_dataset_config(DatasetConfig(name="shapes", samples=20_000, seed=3))  # some seconds to draw
    widget.show()  # the first preview starts now
    qtbot.waitUntil(lambda: running_tasks() > 0, timeout=WAIT)
    widget.close()
    widget.deleteLater()
    qtbot.waitUntil(lambda: not shiboken6.isValid(widget))
    assert running_tasks() == 1
    qtbot.waitUntil(lambda: running_tasks() == 0, timeout=WAIT)  # the thread ends on its own; nothing raises
    qtbot.wait(50)
