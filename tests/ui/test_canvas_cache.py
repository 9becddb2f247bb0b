"""The canvas caches each block and edge as a picture: what it shows must always equal a fresh drawing.

Every check compares the viewport with the same viewport drawn again after
every item's cached picture was thrown away.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from designer.ui.canvas.port_item import DIMMED
from tests.ui.gestures import at


def shown(window) -> QImage:
    QApplication.processEvents()
    return window.view.viewport().grab().toImage()


def drawn_afresh(window) -> QImage:
    for item in window.view.graph_scene.items():
        item.update()  # drops its cached picture
    return shown(window)


def zoom_to(window, zoom: float, centre: str = "c3") -> None:
    view = window.view
    view.resetTransform()
    view.scale(zoom, zoom)
    view.center_on_node(centre)
    QApplication.processEvents()


def test_an_edit_shows_the_new_shapes_at_full_size(window):
    zoom_to(window, 1.0)
    before = shown(window)
    window.document.set_params("input", {"shape": [1, 64, 64]})
    after = shown(window)
    assert after != before
    assert after == drawn_afresh(window)
    assert "→ 16×26×26" in window.view.graph_scene.item_for_node("c3").texts


def test_an_edit_made_zoomed_out_shows_when_zoomed_back_in(window):
    zoom_to(window, 0.2)  # the blocks show their names alone so small
    window.document.set_params("input", {"shape": [1, 64, 64]})
    assert shown(window) == drawn_afresh(window)
    window.view.graph_scene.clearSelection()
    zoom_to(window, 1.0)
    assert shown(window) == drawn_afresh(window)
    window.document.undo_stack.undo()
    assert shown(window) == drawn_afresh(window)


def test_an_error_frames_the_block_even_zoomed_out(window):
    zoom_to(window, 0.25)
    before = shown(window)
    window.document.set_params("c1", {"kernel_size": 40})  # larger than the 32×32 input
    after = shown(window)
    assert after != before and after == drawn_afresh(window)


def test_ports_dimmed_while_connecting_are_drawn_dimmed(window):
    zoom_to(window, 1.0, "tanh1")
    scene, view = window.view.graph_scene, window.view
    before = shown(window)
    start = at(view, scene.item_for_node("tanh1").output_port)
    QTest.mousePress(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    QTest.mouseMove(view.viewport(), start + QPoint(30, 40))
    assert scene.item_for_node("c1").input_port(0).state == DIMMED  # it would make a cycle
    during = shown(window)
    assert during != before and during == drawn_afresh(window)
    QTest.keyClick(view.viewport(), Qt.Key.Key_Escape)  # gives up the connection
    QTest.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                       start + QPoint(30, 40))
    after = shown(window)
    assert after == before and after == drawn_afresh(window)
