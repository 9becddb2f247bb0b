"""The evaluation panel on a real run: off the GUI thread, the confusion matrix, per-class table, samples."""

from __future__ import annotations

import math

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from designer.training.run_data import DataInfo
from designer.training.trained import evaluate_trained, open_trained
from designer.ui.training.confusion_view import heat
from designer.ui.training.evaluation_panel import CLASS_COLUMNS, EvaluationPanel
from tests.training.real_runs import finished_run

TIMEOUT = 60_000


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return finished_run(tmp_path_factory.mktemp("eval"), "eval")


@pytest.fixture(scope="module")
def reference(run):
    """The same evaluation made directly, to hold the panel's against."""
    return evaluate_trained(open_trained(run))


@pytest.fixture
def panel(qtbot):
    widget = EvaluationPanel()
    qtbot.addWidget(widget)
    widget.resize(1100, 700)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    widget.shutdown()


def _evaluated(panel, qtbot, checkpoint):
    panel.evaluate(checkpoint, device="cpu")
    assert panel.result is None and panel.busy  # evaluate() returned before the evaluation did
    qtbot.waitUntil(lambda: panel.result is not None, timeout=TIMEOUT)
    return panel.result


def _matrix(panel):
    model = panel.matrix.matrix
    return [[int(model.data(model.index(t, p))) for p in range(model.columnCount())]
            for t in range(model.rowCount())]


def test_the_matrix_fills_after_evaluation_and_counts_the_validation_set(panel, qtbot, run, reference):
    result = _evaluated(panel, qtbot, run / "checkpoints" / "best.pt")
    counts = _matrix(panel)
    assert sum(map(sum, counts)) == DataInfo.load(run).val_count == 179
    assert counts == reference.evaluation.confusion.tolist()
    model = panel.matrix.matrix
    names = [model.headerData(i, Qt.Orientation.Horizontal) for i in range(10)]
    assert names == [model.headerData(i, Qt.Orientation.Vertical) for i in range(10)] == list("0123456789")
    assert result.result.evaluation.count == 179
    correct = sum(counts[i][i] for i in range(10))
    status = panel.status.text()
    assert f"Accuracy {correct / 179:.2%}" in status and f"({correct} of 179)" in status


def test_cells_are_coloured_by_their_share_of_the_row(panel, qtbot, run):
    _evaluated(panel, qtbot, run)  # a run folder stands for its best checkpoint
    counts = _matrix(panel)
    model = panel.matrix.matrix
    for t, row in enumerate(counts):
        for p, count in enumerate(row):
            colour = model.data(model.index(t, p), Qt.ItemDataRole.BackgroundRole)
            assert colour == heat(count / sum(row))
    t = max(range(10), key=lambda i: counts[i][i])
    empty = next(p for p in range(10) if counts[t][p] == 0)
    darker = model.data(model.index(t, t), Qt.ItemDataRole.BackgroundRole)
    assert darker.lightness() < model.data(model.index(t, empty), Qt.ItemDataRole.BackgroundRole).lightness()


def test_the_class_table_gives_precision_recall_and_support(panel, qtbot, run, reference):
    _evaluated(panel, qtbot, run / "checkpoints" / "best.pt")
    table = panel.classes
    assert [table.horizontalHeaderItem(i).text() for i in range(table.columnCount())] == list(CLASS_COLUMNS)
    assert table.rowCount() == 10
    e = reference.evaluation
    supports = []
    for row in range(10):
        texts = [table.item(row, column).text() for column in range(4)]
        precision, recall = float(e.precision[row]), float(e.recall[row])
        assert texts[0] == str(row)
        assert texts[1] == ("—" if math.isnan(precision) else f"{precision:.1%}")
        assert texts[2] == f"{recall:.1%}"
        supports.append(int(texts[3]))
    assert supports == e.confusion.sum(dim=1).tolist() and sum(supports) == 179


def test_clicking_a_cell_lists_its_samples_most_confident_first(panel, qtbot, run):
    result = _evaluated(panel, qtbot, run / "checkpoints" / "best.pt")
    counts = _matrix(panel)
    e = result.result.evaluation
    mistakes = [(t, p) for t in range(10) for p in range(10) if t != p and counts[t][p] >= 2]
    cells = [max(((t, t) for t in range(10)), key=lambda c: counts[c[0]][c[1]]), *mistakes[:1]]
    for t, p in cells:
        with qtbot.waitSignal(panel.matrix.cell_clicked):
            QTest.mouseClick(panel.matrix.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                             panel.matrix.cell_rect_centre(t, p))
        expected = e.samples(t, p).tolist()
        assert len(expected) == counts[t][p] >= 2
        assert panel.samples.indices() == expected
        shown = [panel.samples.item(i).text().split("\n") for i in range(panel.samples.count())]
        assert all(name == str(p) for name, _ in shown)
        confidences = [float(e.confidence[i]) for i in expected]
        assert [c for _, c in shown] == [f"{c:.1%}" for c in confidences]
        assert confidences == sorted(confidences, reverse=True)
        assert not panel.samples.item(0).icon().isNull()
        assert panel.samples_caption.text().startswith(f"True {t}, predicted {p}: {counts[t][p]} samples")


def test_a_file_that_is_no_checkpoint_is_reported_in_the_panel(panel, qtbot, tmp_path):
    bad = tmp_path / "notes.pt"
    bad.write_text("not a checkpoint")
    with qtbot.waitSignal(panel.failed, timeout=TIMEOUT) as blocker:
        panel.evaluate(bad, device="cpu")
    assert str(bad) in blocker.args[0] and "not a Designer training checkpoint" in blocker.args[0]
    assert "Cannot evaluate" in panel.status.text() and "notes.pt" in panel.status.text()
    assert panel.result is None and panel.matrix.matrix.rowCount() == 0


def test_a_newer_evaluation_replaces_one_still_running(panel, qtbot, run, tmp_path):
    bad = tmp_path / "missing.pt"
    panel.evaluate(run, device="cpu")
    with qtbot.waitSignal(panel.failed, timeout=TIMEOUT):
        panel.evaluate(bad, device="cpu")  # the first one's result, when it comes, is not shown
    qtbot.waitUntil(lambda: panel.tasks.pending == 0, timeout=TIMEOUT)
    assert panel.result is None and "Cannot evaluate" in panel.status.text()


def test_colour_and_float_images_make_the_same_thumbnails(qtbot):
    from designer.data import DatasetConfig, prepare
    from designer.ui.training.sample_gallery import SampleGallery, to_pixels, to_qimage

    images = prepare(DatasetConfig.from_json({"name": "shapes", "samples": 100}), (3, 32, 32)).val.images
    assert images.dtype.is_floating_point is False and images.shape[1] == 3
    gallery = SampleGallery()
    qtbot.addWidget(gallery)
    shown = []
    for stored in (images, images.float() / 255):  # an .npz of 0..1 floats is stored as floats
        gallery.show_samples(stored, [4, 0, 2], [1] * len(images), [0.5] * len(images), ["a", "b"])
        assert gallery.indices() == [4, 0, 2]
        shown.append([gallery.item(row).icon().pixmap(56).toImage() for row in range(3)])
    assert shown[0] == shown[1]
    spread = images[0].int().amax(dim=0) - images[0].int().amin(dim=0)  # a pixel whose channels differ
    y, x = divmod(int(spread.argmax()), images.shape[3])
    assert spread[y, x] > 50
    pixel = to_qimage(to_pixels(images, [0])[0]).pixelColor(x, y)
    assert (pixel.red(), pixel.green(), pixel.blue()) == tuple(int(v) for v in images[0, :, y, x])
