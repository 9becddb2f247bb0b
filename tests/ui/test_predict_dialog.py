"""The predict dialog on a real run: drop or open an image, the top-5 bars, and errors said in the dialog."""

from __future__ import annotations

import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from designer.data.builtin import load_digits
from designer.training.trained import open_trained, predict
from designer.ui.training.predict_dialog import PredictDialog
from tests.training.real_runs import finished_run

TIMEOUT = 30_000


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return finished_run(tmp_path_factory.mktemp("predict"), "predict") / "checkpoints" / "best.pt"


@pytest.fixture(scope="module")
def digit(tmp_path_factory):
    """A real 8×8 digits sample (a 3) as a PNG, the size the dataset's own images have."""
    digits = load_digits().train
    index = int((digits.labels == 3).nonzero()[0])
    path = tmp_path_factory.mktemp("images") / "three.png"
    Image.fromarray(digits.images[index, 0].numpy()).save(path)
    return path


@pytest.fixture
def dialog(qtbot, checkpoint):
    widget = PredictDialog(checkpoint)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    widget.shutdown()


def _drop(widget, path):
    """A file dragged from a file manager and dropped on the dialog, as Qt delivers it."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    where = QPoint(20, 20)
    enter = QDragEnterEvent(where, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, enter)
    assert enter.isAccepted()
    drop = QDropEvent(where.toPointF(), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, drop)
    assert drop.isAccepted()


def test_a_dropped_digit_gets_five_classes_with_probabilities_as_bars(dialog, qtbot, checkpoint, digit):
    with qtbot.waitSignal(dialog.predicted, timeout=TIMEOUT) as blocker:
        _drop(dialog, digit)  # dropped at once: the network may still be loading
    predictions = blocker.args[0]
    assert len(predictions) == 5 and len({name for name, _ in predictions}) == 5
    probabilities = [p for _, p in predictions]
    assert all(0 <= p <= 1 for p in probabilities) and sum(probabilities) <= 1 + 1e-6
    assert probabilities == sorted(probabilities, reverse=True)
    assert predictions == predict(open_trained(checkpoint), digit)
    assert dialog.shown_predictions() == [(name, f"{p:.1%}") for name, p in predictions]
    assert "three.png: 8×8, resized to 32×32 as the network expects" in dialog.message.text()
    assert not dialog.preview.pixmap().isNull()


def test_open_asks_for_a_file_and_predicts_it(dialog, qtbot, digit, monkeypatch):
    monkeypatch.setattr(dialog, "ask_image_path", lambda: str(digit))
    with qtbot.waitSignal(dialog.predicted, timeout=TIMEOUT):
        QTest.mouseClick(dialog.open_button, Qt.MouseButton.LeftButton)
    assert len(dialog.shown_predictions()) == 5 and dialog.image_path == digit


def test_a_file_that_is_no_image_is_said_in_the_dialog(dialog, qtbot, digit, tmp_path):
    with qtbot.waitSignal(dialog.predicted, timeout=TIMEOUT):
        dialog.predict_file(digit)
    text = tmp_path / "notes.png"
    text.write_text("these are not pixels")
    with qtbot.waitSignal(dialog.failed, timeout=TIMEOUT) as blocker:
        _drop(dialog, text)
    assert "notes.png" in blocker.args[0] and "not a readable image" in blocker.args[0]
    assert "not a readable image" in dialog.message.text()
    assert dialog.shown_predictions() == []  # the previous image's bars are gone


def test_a_checkpoint_that_cannot_be_read_is_said_in_the_dialog(qtbot, tmp_path):
    bad = tmp_path / "model.pt"
    bad.write_text("no weights here")
    widget = PredictDialog(bad)
    qtbot.addWidget(widget)
    with qtbot.waitSignal(widget.failed, timeout=TIMEOUT) as blocker:
        widget.show()
    assert str(bad) in blocker.args[0] and str(bad) in widget.message.text()
    assert widget.trained is None
