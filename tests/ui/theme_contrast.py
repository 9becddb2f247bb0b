"""Measuring the contrast of the text a panel shows, as drawn: the tests of the light and dark themes use it.

A panel is grabbed to an image once; for each text in it (a label, a button, a
line edit, a cell of a list or table, a header section, a tab) the colour the
text is drawn in (its palette's, an item's own foreground, the colours of a rich
text's spans) is compared with the background actually painted behind it: the
most frequent colour of the image where the text lies.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QModelIndex, QPoint, QRect, Qt
from PySide6.QtGui import QColor, QImage, QPalette
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QGroupBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QRadioButton,
    QTabBar,
    QWidget,
)

from designer.ui.theme import AA_TEXT, contrast

Role = QPalette.ColorRole
_SPAN_COLOUR = re.compile(r"color:\s*(#[0-9a-fA-F]{6}|#[0-9a-fA-F]{3})[^>]*>([^<]*)")
_DECORATION = {"■", ""}  # a category's swatch beside its written name: a graphic, not text to read


@dataclass(frozen=True)
class Text:
    """A text of a panel: what it is, its colour and the background behind it."""

    where: str
    colour: QColor
    background: QColor

    @property
    def ratio(self) -> float:
        return contrast(self.colour, self.background)

    def __str__(self) -> str:
        return f"{self.where}: {self.colour.name()} on {self.background.name()} ({self.ratio:.2f}:1)"


class Grab:
    """A panel drawn into an image, and the most frequent colour of any of its rectangles."""

    def __init__(self, panel: QWidget) -> None:
        self.panel = panel
        image = panel.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
        self.ratio = image.devicePixelRatio()
        height, width = image.height(), image.width()
        raw = np.frombuffer(image.constBits(), dtype=np.uint32, count=height * image.bytesPerLine() // 4)
        self.pixels = raw.reshape(height, image.bytesPerLine() // 4)[:, :width].copy()

    def background(self, widget: QWidget, rect: QRect) -> QColor:
        """The colour that fills most of ``rect`` (in ``widget``'s coordinates)."""
        top_left = widget.mapTo(self.panel, rect.topLeft())
        x0, y0 = round(top_left.x() * self.ratio), round(top_left.y() * self.ratio)
        x1, y1 = x0 + round(rect.width() * self.ratio), y0 + round(rect.height() * self.ratio)
        h, w = self.pixels.shape
        area = self.pixels[max(0, y0):min(h, y1), max(0, x0):min(w, x1)]
        if area.size == 0:
            return QColor()
        values, counts = np.unique(area, return_counts=True)
        return QColor.fromRgb(int(values[int(np.argmax(counts))]) & 0xFFFFFF)


def texts(panel: QWidget) -> list[Text]:
    """Every text ``panel`` shows now (visible and enabled: disabled controls are exempt in WCAG)."""
    grab = Grab(panel)
    found: list[Text] = []
    for widget in [panel, *panel.findChildren(QWidget)]:
        if (not widget.isVisibleTo(panel) and widget is not panel) or not widget.isEnabled():
            continue
        if widget.width() <= 1 or widget.height() <= 1 or not _inside(panel, widget):
            continue
        found += list(_texts_of(grab, widget))
    return found


def low_contrast(panel: QWidget, least: float = AA_TEXT) -> list[str]:
    return [str(text) for text in texts(panel) if text.ratio < least]


def _inside(panel: QWidget, widget: QWidget) -> bool:
    top_left = widget.mapTo(panel, QPoint(0, 0))
    return panel.rect().intersects(QRect(top_left, widget.size()))


def _name(widget: QWidget, text: str) -> str:
    return f"{type(widget).__name__} {text[:40]!r}"


def _texts_of(grab: Grab, widget: QWidget) -> Iterator[Text]:
    widget.ensurePolished()
    palette = widget.palette()
    if isinstance(widget, QLabel):
        if widget.text().strip() and widget.pixmap().isNull():
            background = grab.background(widget, widget.contentsRect())
            yield Text(_name(widget, widget.text()), palette.color(widget.foregroundRole()), background)
            for colour, content in _SPAN_COLOUR.findall(widget.text()):
                if content.strip() not in _DECORATION:
                    yield Text(_name(widget, content), QColor(colour), background)
    elif isinstance(widget, QLineEdit):
        text, role = (widget.text(), Role.Text) if widget.text() else (widget.placeholderText(),
                                                                       Role.PlaceholderText)
        if text:
            yield Text(_name(widget, text), palette.color(role), grab.background(widget, widget.rect()))
    elif isinstance(widget, QAbstractButton) and widget.text():
        role = Role.WindowText if isinstance(widget, (QCheckBox, QRadioButton)) else Role.ButtonText
        # inside the frame (a default button's is the highlight colour), where the label is drawn
        yield Text(_name(widget, widget.text()), palette.color(role),
                   grab.background(widget, widget.rect().adjusted(4, 4, -4, -4)))
    elif isinstance(widget, QComboBox) and widget.currentText() and not widget.isEditable():
        yield Text(_name(widget, widget.currentText()), palette.color(Role.ButtonText),
                   grab.background(widget, widget.rect().adjusted(4, 4, -20, -4)))
    elif isinstance(widget, QGroupBox) and widget.title():
        yield Text(_name(widget, widget.title()), palette.color(Role.WindowText),
                   grab.background(widget, QRect(0, 0, widget.width(), widget.fontMetrics().height())))
    elif isinstance(widget, QAbstractSpinBox):
        yield Text(_name(widget, widget.text()), palette.color(Role.Text),
                   grab.background(widget, widget.rect()))
    elif isinstance(widget, QPlainTextEdit) and widget.toPlainText():
        viewport = widget.viewport()
        yield Text(_name(widget, widget.toPlainText()), palette.color(Role.Text),
                   grab.background(viewport, viewport.rect()))
    elif isinstance(widget, QTabBar):
        for i in range(widget.count()):
            colour = widget.tabTextColor(i)
            colour = colour if colour.isValid() else palette.color(Role.WindowText)
            yield Text(_name(widget, widget.tabText(i)), colour, grab.background(widget, widget.tabRect(i)))
    elif isinstance(widget, QHeaderView):
        yield from _header_texts(grab, widget)
    elif isinstance(widget, QAbstractItemView) and widget.model() is not None:
        yield from _item_texts(grab, widget, QModelIndex())


def _header_texts(grab: Grab, header: QHeaderView) -> Iterator[Text]:
    model = header.model()
    if model is None:
        return
    viewport = header.viewport()
    for section in range(header.count()):
        text = model.headerData(section, header.orientation(), Qt.ItemDataRole.DisplayRole)
        if header.isSectionHidden(section) or not text:
            continue
        start, size = header.sectionViewportPosition(section), header.sectionSize(section)
        rect = (QRect(start, 0, size, viewport.height()) if header.orientation() == Qt.Orientation.Horizontal
                else QRect(0, start, viewport.width(), size))
        if rect.intersects(viewport.rect()):
            yield Text(_name(header, str(text)), header.palette().color(Role.ButtonText),
                       grab.background(viewport, rect.intersected(viewport.rect())))


def _item_texts(grab: Grab, view: QAbstractItemView, parent: QModelIndex) -> Iterator[Text]:
    model, viewport = view.model(), view.viewport()
    selected = view.selectionModel()
    for row in range(model.rowCount(parent)):
        for column in range(model.columnCount(parent)):
            index = model.index(row, column, parent)
            rect = view.visualRect(index).intersected(viewport.rect())
            text = index.data(Qt.ItemDataRole.DisplayRole)
            if rect.isEmpty() or text in (None, ""):
                continue
            is_selected = selected is not None and selected.isSelected(index)
            brush = index.data(Qt.ItemDataRole.ForegroundRole)
            if is_selected:
                colour = view.palette().color(Role.HighlightedText)
            elif brush is not None:
                colour = brush.color() if hasattr(brush, "color") else QColor(brush)
            else:
                colour = view.palette().color(Role.Text)
            yield Text(_name(view, str(text)), colour, grab.background(viewport, rect))
        first = model.index(row, 0, parent)
        if model.rowCount(first) > 0 and (not hasattr(view, "isExpanded") or view.isExpanded(first)):
            yield from _item_texts(grab, view, first)
