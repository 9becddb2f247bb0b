"""A monospaced font that really is one, whatever fonts the machine has.

``QFontDatabase.systemFont(FixedFont)`` asks fontconfig for "monospace", which
on a Debian desktop with Noto installed resolves to "Noto Sans Mono": its
metadata says dual spacing, so Qt does not treat it as fixed-pitch, and on some
machines the alias lands on a proportional family. Code previews then lose
their columns. When the system's answer is not fixed-pitch, the first installed
family that is wins, preferring the common programming fonts.
"""

from __future__ import annotations

from PySide6.QtGui import QFont, QFontDatabase, QFontInfo

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
