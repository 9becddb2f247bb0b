"""Regression: PySide6 6.12.0 on Python < 3.12 drops a reference to None on void calls.

After a few thousand paints the interpreter aborts with ``none_dealloc``;
pyproject.toml excludes that release. This catches it, or a release like it.
"""

import sys

from PySide6.QtGui import QColor, QImage, QPainter, QPen


def test_void_binding_calls_keep_none_alive():
    image = QImage(8, 8, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    pen = QPen(QColor("red"))
    try:
        before = sys.getrefcount(None)
        for _ in range(10_000):
            painter.setPen(pen)
        after = sys.getrefcount(None)
    finally:
        painter.end()
    # Other threads may touch None a little; a leak of one per call is 10,000.
    assert abs(after - before) < 100
