"""The Training panel as a newcomer first sees it in a 1600×1000 window (issue 13, C11 and C14).

The essentials (dataset, epochs, batch size, learning rate, optimizer, Start) show without scrolling, nothing
is cut or needs a horizontal scroll bar, the empty log takes no room, and before any run the progress bars
show the planned run: epochs from the settings, batches per epoch from the dataset and the batch size.
"""

from __future__ import annotations

import math

import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QFont
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QCheckBox, QLabel, QPushButton, QWidget

WAIT = 60_000
DIGITS_TRAIN = 1618  # training samples of the built-in digits with the automatic validation split


@pytest.fixture(params=["default font", "a wider serif"])
def panel(request, make_window, qapp):
    """The panel in a 1600×1000 window, in the app's font or a wider one (machines differ)."""
    if request.param != "default font":
        default = qapp.font()
        qapp.setFont(QFont("DejaVu Serif", default.pointSize() + 2))  # Qt picks a serif if it is not here
        request.addfinalizer(lambda: qapp.setFont(default))
    window = make_window("lenet5")
    window.resize(1600, 1000)
    window.training_dock.raise_()
    QApplication.processEvents()
    return window.training_panel


def _rect_in(widget: QWidget, ancestor: QWidget) -> QRect:
    return QRect(widget.mapTo(ancestor, QPoint(0, 0)), widget.size())


def _seen_whole(widget: QWidget, viewport: QWidget) -> bool:
    return not widget.visibleRegion().isEmpty() and viewport.rect().contains(_rect_in(widget, viewport))


def _essentials(panel) -> dict[str, QWidget]:
    form = panel.form
    return {"dataset": panel.picker.form.source, "epochs": form.editor("epochs").field(),
            "batch size": form.editor("batch_size").field(), "lr": form.editor("lr").field(),
            "optimizer": form.editor("optimizer").field()}


def test_dataset_main_settings_and_start_show_without_scrolling(panel):
    viewport = panel.settings_scroll.viewport()
    hidden = [name for name, widget in _essentials(panel).items() if not _seen_whole(widget, viewport)]
    assert hidden == []
    assert panel.settings_scroll.verticalScrollBar().value() == 0
    assert _seen_whole(panel.start_button, panel)


def test_nothing_needs_a_horizontal_scroll_bar_and_no_text_is_cut(panel):
    scroll = panel.settings_scroll
    assert not scroll.horizontalScrollBar().isVisible()
    viewport = scroll.viewport()
    content = scroll.widget()
    wider = [w for w in content.findChildren(QWidget) if w.isVisibleTo(content)
             and _rect_in(w, viewport).right() > viewport.rect().right()]
    assert wider == []
    texts = (QLabel, QCheckBox, QPushButton)
    cut = [(type(w).__name__, w.text(), w.width(), w.sizeHint().width()) for w in panel.findChildren(QWidget)
           if isinstance(w, texts) and w.isVisibleTo(panel) and w.text()
           and not (isinstance(w, QLabel) and w.wordWrap()) and w.width() < w.sizeHint().width()]
    assert cut == []


def test_the_log_takes_room_only_once_it_has_something_in_it(panel):
    log = panel.monitor.log
    assert log.isHidden()
    scroll_height = panel.settings_scroll.height()
    panel.monitor.log_line("Starting lenet5 on digits…")
    QApplication.processEvents()
    assert log.isVisible()
    assert log.height() >= 4 * log.fontMetrics().lineSpacing()
    assert panel.settings_scroll.height() < scroll_height


def _retype(widget: QWidget, text: str) -> None:
    widget.setFocus()
    widget.lineEdit().selectAll()
    QTest.keyClicks(widget, text)
    QTest.keyClick(widget, Qt.Key.Key_Return)


def test_before_a_run_the_bars_show_the_planned_epochs_and_batches(panel, qtbot):
    monitor = panel.monitor
    assert monitor.epoch_bar.text() == "Epoch 0 / 10"
    qtbot.waitUntil(lambda: panel.picker.preview.summary.text() != "", timeout=WAIT)
    assert monitor.batch_bar.text() == f"Batch 0 / {math.ceil(DIGITS_TRAIN / 64)}"

    _retype(panel.form.editor("epochs").field(), "3")
    assert monitor.epoch_bar.text() == "Epoch 0 / 3"
    _retype(panel.form.editor("batch_size").field(), "100")
    assert monitor.batch_bar.text() == f"Batch 0 / {math.ceil(DIGITS_TRAIN / 100)}"
    panel.document.undo_stack.undo()
    assert monitor.batch_bar.text() == f"Batch 0 / {math.ceil(DIGITS_TRAIN / 64)}"
