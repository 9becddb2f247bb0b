"""A monospaced font that really is one, whatever fonts the machine has.

``QFontDatabase.systemFont(FixedFont)`` asks fontconfig for "monospace", which
on a Debian desktop with Noto installed resolves to "Noto Sans Mono": its
metadata says dual spacing, so Qt does not treat it as fixed-pitch, and on some
machines the alias lands on a proportional family. Code previews then lose
their columns. When the system's answer is not fixed-pitch, the first installed
family that is wins, preferring the common programming fonts.
"""

from __future__ import annotations

from typing import ClassVar

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontDatabase, QFontInfo, QFontMetricsF

PREFERRED = ("DejaVu Sans Mono", "Liberation Mono", "Noto Mono", "Cascadia Mono", "Consolas", "Menlo",
             "SF Mono", "Ubuntu Mono", "Courier New")


def monospace_font() -> QFont:
    """The system's fixed-pitch font if it is one, else an installed fixed-pitch family at its size."""
    system = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    if QFontInfo(system).fixedPitch():
        return system
    installed = [family for family in QFontDatabase.families() if QFontDatabase.isFixedPitch(family)]
    ranked = [f for f in PREFERRED if f in installed] + sorted(f for f in installed if f not in PREFERRED)
    for family in ranked:
        font = QFont(system)
        font.setFamilies([family])
        if QFontInfo(font).fixedPitch():
            return font
    system.setStyleHint(QFont.StyleHint.TypeWriter)  # nothing installed says fixed-pitch: ask by kind
    system.setFixedPitch(True)
    return system


# -- the canvas's fonts ---------------------------------------------------------------------------
#
# Canvas texts are sized in pixels, that is in scene units: a block's text then takes the room it was
# measured to take on every device (a 192-dpi picture from ``designer render`` drew point-sized text
# twice as large as the layout measured it). Their family is set explicitly, never left for the
# painter to resolve from the widget's font: measured in one family and drawn in another, texts ran
# into each other and under the ports.


class _CanvasFamily:
    families: list[str] | None = None  # None: the application's font
    generation = 0  # counts family changes; measured widths of an older generation are stale
    changes = 0
    fonts: ClassVar[list[QFont]] = []


def canvas_font(pixels: int, bold: bool = False) -> QFont:
    """A canvas font ``pixels`` scene units high, in the canvas family (see :func:`set_canvas_family`)."""
    font = QFont()
    font.setPixelSize(pixels)
    font.setBold(bold)
    _CanvasFamily.fonts.append(font)
    if _CanvasFamily.generation:
        font.setFamilies(_canvas_families())
    return font


def set_canvas_family(family: str | None) -> None:
    """Draw the canvas in ``family`` (None: the application's font); every canvas font follows."""
    _CanvasFamily.families = [family] if family else None
    _CanvasFamily.generation = 0
    _resolve()


def canvas_generation() -> int:
    """A number that changes whenever the canvas family does (its fonts are resolved first)."""
    if not _CanvasFamily.generation:
        _resolve()
    return _CanvasFamily.generation


def _canvas_families() -> list[str]:
    if _CanvasFamily.families:
        return _CanvasFamily.families
    return QFont().families() or [QFont().family()]  # the application's font, now that there is one


def _resolve() -> None:
    families = _canvas_families()
    for font in _CanvasFamily.fonts:
        font.setFamilies(families)
    _CanvasFamily.changes += 1
    _CanvasFamily.generation = _CanvasFamily.changes


class CanvasMetrics:
    """Widths of texts in one canvas font, remembered (blocks and edges ask on every layout, mostly
    for the same few texts such as ``64×16×16``), forgotten when the canvas family changes."""

    LIMIT = 4096

    def __init__(self, font: QFont) -> None:
        self.font = font
        self._generation = -1
        self._metrics: QFontMetricsF | None = None  # made when first needed, after the application
        self._widths: dict[str, float] = {}

    @property
    def metrics(self) -> QFontMetricsF:
        if self._metrics is None or self._generation != canvas_generation():
            self._generation = _CanvasFamily.generation
            self._metrics = QFontMetricsF(self.font)
            self._widths = {}
        return self._metrics

    def width(self, text: str) -> float:
        widths = self._widths if self._generation == _CanvasFamily.generation else None
        width = widths.get(text) if widths is not None else None
        if width is None:
            metrics = self.metrics
            if len(self._widths) >= self.LIMIT:
                self._widths.clear()
            width = self._widths[text] = metrics.horizontalAdvance(text)
        return width

    def height(self) -> float:
        return self.metrics.height()

    def ascent(self) -> float:
        return self.metrics.ascent()

    def elided(self, text: str, width: float, mode: Qt.TextElideMode = Qt.TextElideMode.ElideRight) -> str:
        return self.metrics.elidedText(text, mode, width) if self.width(text) > width else text
