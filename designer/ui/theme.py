"""Colours, fonts and the light application palette shared by every view.

The canvas paints with these constants only, so a theme is one place to change.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

CATEGORY_COLOURS = {
    "Input": "#546e7a",
    "Convolution": "#1e88e5",
    "Pooling": "#00897b",
    "Normalization": "#8e24aa",
    "Activation": "#f57c00",
    "Regularization": "#6d4c41",
    "Shape": "#78909c",
    "Linear": "#3949ab",
    "Merge": "#43a047",
    "Output": "#d81b60",
}
DEFAULT_CATEGORY_COLOUR = "#757575"

CANVAS_BACKGROUND = QColor("#f6f7f9")
CANVAS_GRID = QColor("#e3e6ea")
BLOCK_FILL = QColor("#ffffff")
BLOCK_BORDER = QColor("#b8c0cc")
BLOCK_TEXT = QColor("#1f2933")
BLOCK_MUTED = QColor("#6b7785")
SELECTION = QColor("#1565c0")
ERROR = QColor("#c62828")
ERROR_FILL = QColor("#fdecea")
UNKNOWN = QColor("#9aa3ad")
EDGE = QColor("#8893a2")
EDGE_LABEL_FILL = QColor(255, 255, 255, 230)
PORT_FREE = QColor("#ffffff")
PORT_ALLOWED = QColor("#2e7d32")
MESSAGE_ERROR = "#c62828"


def category_colour(category: str) -> QColor:
    return QColor(CATEGORY_COLOURS.get(category, DEFAULT_CATEGORY_COLOUR))


def canvas_font(point_size: float, bold: bool = False) -> QFont:
    font = QFont()
    font.setPointSizeF(point_size)
    font.setBold(bold)
    return font


def apply_light_theme(app: QApplication) -> None:
    """Fusion with a light palette: the same look on every platform, offscreen included."""
    app.setStyle("Fusion")
    palette = QPalette()
    roles = {
        QPalette.ColorRole.Window: "#eef0f3",
        QPalette.ColorRole.WindowText: "#1f2933",
        QPalette.ColorRole.Base: "#ffffff",
        QPalette.ColorRole.AlternateBase: "#f5f7fa",
        QPalette.ColorRole.Text: "#1f2933",
        QPalette.ColorRole.Button: "#f4f5f7",
        QPalette.ColorRole.ButtonText: "#1f2933",
        QPalette.ColorRole.Highlight: "#1565c0",
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.ToolTipBase: "#fffff0",
        QPalette.ColorRole.ToolTipText: "#1f2933",
        QPalette.ColorRole.PlaceholderText: "#8a94a0",
    }
    for role, colour in roles.items():
        palette.setColor(role, QColor(colour))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor("#9aa3ad"))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor("#9aa3ad"))
    app.setPalette(palette)
