"""Light and dark themes: View ▸ Theme repaints the canvas, follows the system, is remembered;
exported pictures stay light."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QPointF, QSettings, Qt
from PySide6.QtGui import QColor, QGuiApplication, QImage
from PySide6.QtWidgets import QApplication, QMenu

from designer.graph.templates import load_template
from designer.ui import theme
from designer.ui.render import render
from designer.ui.theme_menu import saved_mode


@pytest.fixture(autouse=True)
def _light_again() -> Iterator[None]:
    """Every test starts and ends in the light theme, as the rest of the suite expects."""
    theme.set_theme_mode(theme.LIGHT_MODE)
    yield
    theme.set_theme_mode(theme.LIGHT_MODE)


def theme_menu(window) -> QMenu:
    view_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    return next(a.menu() for a in view_menu.actions() if a.text() == "&Theme")


def choose(window, label: str) -> None:
    action = next(a for a in theme_menu(window).actions() if a.text() == label)
    action.trigger()
    QApplication.processEvents()


def pixel(window, scene_point: QPointF) -> QColor:
    """The colour the canvas shows at a point of the scene, from a fresh grab of the viewport."""
    view = window.view
    image = view.viewport().grab().toImage()
    at = view.mapFromScene(scene_point)
    return image.pixelColor(at.x(), at.y())


def empty_canvas_point(window) -> QPointF:
    """A scene point with no item on it, between two grid lines, inside the viewport."""
    view = window.view
    corner = view.mapToScene(view.viewport().rect().topLeft())
    point = QPointF((corner.x() // 20 + 1) * 20 + 10, (corner.y() // 20 + 1) * 20 + 10)
    assert not view.graph_scene.items(point)
    return point


def block_fill_point(window, name: str) -> QPointF:
    """A scene point on the plain fill of block ``name``: its lower right corner, below the texts."""
    item = window.view.graph_scene.item_for_node(name)
    body = item.shape().boundingRect()
    return item.mapToScene(QPointF(body.right() - 14, body.bottom() - 5))


def test_dark_theme_repaints_the_canvas_background_and_blocks(window):
    window.view.resetTransform()
    window.view.center_on_node("c1")
    QApplication.processEvents()
    background, block = empty_canvas_point(window), block_fill_point(window, "c1")
    assert pixel(window, background) == theme.LIGHT.canvas_background
    assert pixel(window, block) == theme.LIGHT.block_fill

    choose(window, "&Dark")

    assert theme.current() is theme.DARK
    assert pixel(window, background) == theme.DARK.canvas_background
    assert pixel(window, block) == theme.DARK.block_fill
    assert window.palette().color(window.palette().ColorRole.Window) == QColor("#2b2f36")

    choose(window, "&Light")
    assert pixel(window, background) == theme.LIGHT.canvas_background
    assert pixel(window, block) == theme.LIGHT.block_fill


def test_the_choice_is_checked_and_kept_in_the_settings(window):
    actions = {a.text(): a for a in theme_menu(window).actions()}
    assert actions["&Light"].isChecked() and not actions["&Dark"].isChecked()
    choose(window, "&Dark")
    assert actions["&Dark"].isChecked() and not actions["&Light"].isChecked()
    assert window.settings.value(theme.SETTINGS_KEY) == theme.DARK_MODE
    assert saved_mode(window.settings) == theme.DARK_MODE


def test_saved_mode_defaults_to_system_and_ignores_nonsense(tmp_path):
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    assert saved_mode(settings) == theme.SYSTEM
    settings.setValue(theme.SETTINGS_KEY, "purple")
    assert saved_mode(settings) == theme.SYSTEM


def test_system_mode_follows_the_desktops_colour_scheme(window):
    choose(window, "&System")
    assert theme.theme_mode() == theme.SYSTEM
    hints = QGuiApplication.styleHints()
    background = empty_canvas_point(window)
    # The offscreen platform has no desktop to change; Qt emits this when the desktop's scheme changes.
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    QApplication.processEvents()
    assert theme.current() is theme.DARK
    assert pixel(window, background) == theme.DARK.canvas_background
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Light)
    QApplication.processEvents()
    assert theme.current() is theme.LIGHT

    choose(window, "&Dark")  # a fixed choice no longer follows the desktop
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Light)
    QApplication.processEvents()
    assert theme.current() is theme.DARK


def test_an_unknown_mode_is_refused_by_name():
    with pytest.raises(ValueError, match=r"'sepia'.*system, light, dark"):
        theme.set_theme_mode("sepia")


def _contrast(a: QColor, b: QColor) -> float:
    def luminance(colour: QColor) -> float:
        channels = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
                    for c in (colour.redF(), colour.greenF(), colour.blueF())]
        return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("colours", [theme.LIGHT, theme.DARK], ids=lambda t: t.name)
def test_category_colours_and_texts_stand_out_on_the_blocks(colours):
    # WCAG: 3:1 for graphics (the category stripe, the ports), 4.5:1 for text.
    for category in colours.categories:
        assert _contrast(colours.category_colour(category), colours.block_fill) >= 3.0, category
    assert _contrast(colours.block_text, colours.block_fill) >= 4.5
    assert _contrast(colours.block_muted, colours.block_fill) >= 4.5
    assert _contrast(colours.error, colours.error_fill) >= 3.0


def test_exported_pictures_stay_light_under_the_dark_theme(window, tmp_path):
    choose(window, "&Dark")
    render(load_template("lenet5"), tmp_path / "net.png")
    image = QImage(str(tmp_path / "net.png"))
    assert image.pixelColor(2, 2) == theme.LIGHT.canvas_background
    render(load_template("lenet5"), tmp_path / "net.svg")
    svg = (tmp_path / "net.svg").read_text()
    assert theme.LIGHT.block_fill.name() in svg and theme.LIGHT.canvas_background.name() in svg
    assert theme.DARK.block_fill.name() not in svg and theme.DARK.canvas_background.name() not in svg
    assert theme.current() is theme.DARK  # exporting left the editor's theme alone
