"""Colours, fonts and the application palette: a light and a dark :class:`Theme`, following the system.

The canvas paints with the colours of the theme in force (:func:`current`,
or the fixed theme of a scene that is drawn for export, see
:func:`theme_of`), so switching theme is one call: :func:`set_theme_mode`
("system", "light" or "dark") or :func:`apply_theme`. Either sets a Fusion
palette on the application and emits :func:`notifier`'s ``theme_changed``,
which the canvas scenes answer with a repaint. In "system" mode the theme
follows the desktop's colour scheme (``QStyleHints.colorScheme``) as it changes.

Widgets take their colours from here too, never their own: a text colour by
its role (:data:`TEXT_ROLES`: muted, error, ok, note, info, what-if), each
readable (WCAG AA, 4.5:1) on the window, base and button colours of its theme;
:func:`paint_text` gives a widget such a colour and keeps it right when the theme
changes, :func:`span` colours a part of a rich text (whose widget then redraws
it on ``theme_changed``). The plots, the runs' curve colours, the highlighted
rows of a comparison and the confusion matrix's heat are here as well.

The module-level constants (``CANVAS_BACKGROUND``, ``MESSAGE_ERROR``, ...) are
the light theme's colours, for widgets that do not follow the theme yet.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QGraphicsItem, QWidget

SYSTEM, LIGHT_MODE, DARK_MODE = "system", "light", "dark"
THEME_MODES = (SYSTEM, LIGHT_MODE, DARK_MODE)
SETTINGS_KEY = "theme"  # where the chosen mode is kept in QSettings

Role = QPalette.ColorRole

# The roles of text colours (Theme.texts); every one is readable on the window, base and button colours.
MUTED, ERROR_TEXT, OK, NOTE, INFO, WHAT_IF = "muted", "error", "ok", "note", "info", "what_if"
TEXT_ROLES = (MUTED, ERROR_TEXT, OK, NOTE, INFO, WHAT_IF)
_ROLE_PROPERTY, _CSS_PROPERTY = "designerTextRole", "designerTextCss"  # see paint_text
AA_TEXT = 4.5  # WCAG AA: the least contrast of normal-size text with what is behind it


@dataclass(frozen=True, eq=False)
class Theme:
    """Every colour the editor paints with; instances compare by identity."""

    name: str
    dark: bool
    canvas_background: QColor
    canvas_grid: QColor
    block_fill: QColor
    block_border: QColor
    block_text: QColor
    block_muted: QColor
    selection: QColor
    error: QColor
    error_fill: QColor
    unknown: QColor
    edge: QColor
    edge_label_fill: QColor
    port_free: QColor
    port_allowed: QColor
    header_alpha: int  # how strongly a block's header is tinted with its category colour
    categories: Mapping[str, str]
    default_category: str
    palette_roles: Mapping[QPalette.ColorRole, str]
    disabled_text: str
    texts: Mapping[str, str]  # a colour per text role (TEXT_ROLES)
    plot_background: QColor
    plot_foreground: QColor  # the axes, their ticks and labels, the titles, the legend's text
    plot_crosshair: QColor
    run_colours: tuple[str, ...]  # one per run in the training plots, in the order runs get them
    highlights: Mapping[str, str]  # the background of a compared value that is "changed", "added", "removed"
    heat: tuple[str, str]  # the confusion matrix: the colour of a share of 0, and of 1

    def text(self, role: str) -> QColor:
        """The colour of text in ``role`` (one of TEXT_ROLES)."""
        return QColor(self.texts[role])

    def category_colour(self, category: str) -> QColor:
        """The colour of a block category (shared: copy it before changing it)."""
        return _category_colour(self, category)

    def palette(self) -> QPalette:
        palette = QPalette()
        for role, colour in self.palette_roles.items():
            palette.setColor(role, QColor(colour))
        for role in (Role.Text, Role.ButtonText, Role.WindowText):
            palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(self.disabled_text))
        return palette


@functools.cache
def _category_colour(theme: Theme, category: str) -> QColor:
    # Asked for on every block repaint; a theme and its categories are few.
    return QColor(theme.categories.get(category, theme.default_category))


LIGHT = Theme(
    name="light", dark=False,
    canvas_background=QColor("#f6f7f9"), canvas_grid=QColor("#e3e6ea"),
    block_fill=QColor("#ffffff"), block_border=QColor("#b8c0cc"),
    block_text=QColor("#1f2933"), block_muted=QColor("#6b7785"),
    selection=QColor("#1565c0"), error=QColor("#c62828"), error_fill=QColor("#fdecea"),
    unknown=QColor("#9aa3ad"), edge=QColor("#8893a2"), edge_label_fill=QColor(255, 255, 255, 230),
    port_free=QColor("#ffffff"), port_allowed=QColor("#2e7d32"), header_alpha=40,
    categories=MappingProxyType({
        "Input": "#546e7a", "Convolution": "#1e88e5", "Pooling": "#00897b", "Normalization": "#8e24aa",
        "Activation": "#ef6c00", "Regularization": "#6d4c41", "Shape": "#78909c", "Linear": "#3949ab",
        "Merge": "#43a047", "Output": "#d81b60",
    }),
    default_category="#757575",
    palette_roles=MappingProxyType({
        Role.Window: "#eef0f3", Role.WindowText: "#1f2933", Role.Base: "#ffffff",
        Role.AlternateBase: "#f5f7fa", Role.Text: "#1f2933", Role.Button: "#f4f5f7",
        Role.ButtonText: "#1f2933", Role.Highlight: "#1565c0", Role.HighlightedText: "#ffffff",
        Role.ToolTipBase: "#fffff0", Role.ToolTipText: "#1f2933", Role.PlaceholderText: "#6b7785",
        Role.Link: "#1565c0",
    }),
    disabled_text="#9aa3ad",
    texts=MappingProxyType({MUTED: "#5c6773", ERROR_TEXT: "#c62828", OK: "#25702a", NOTE: "#8a5300",
                            INFO: "#1565c0", WHAT_IF: "#b34700"}),
    plot_background=QColor("#ffffff"), plot_foreground=QColor("#1f2933"), plot_crosshair=QColor("#8893a2"),
    run_colours=("#1565c0", "#d84315", "#2e7d32", "#6a1b9a", "#00838f", "#c62828", "#5d4037", "#ad1457",
                 "#827717", "#37474f"),
    highlights=MappingProxyType({"changed": "#fff3cd", "added": "#e3f4e1", "removed": "#fdecea"}),
    heat=("#ffffff", "#64b5f6"),  # light enough that the dark text reads on every share
)

# The same hues, lighter (Material 300 shades where the light theme uses 600s),
# so that the thin category stripe and the ports stand out against dark blocks.
DARK = Theme(
    name="dark", dark=True,
    canvas_background=QColor("#1b1e23"), canvas_grid=QColor("#262a31"),
    block_fill=QColor("#2a2f37"), block_border=QColor("#465061"),
    block_text=QColor("#e6e9ee"), block_muted=QColor("#a0aab6"),
    selection=QColor("#64b5f6"), error=QColor("#ef5350"), error_fill=QColor("#3d2528"),
    unknown=QColor("#737e8b"), edge=QColor("#7d8896"), edge_label_fill=QColor(27, 30, 35, 230),
    port_free=QColor("#2a2f37"), port_allowed=QColor("#66bb6a"), header_alpha=60,
    categories=MappingProxyType({
        "Input": "#90a4ae", "Convolution": "#64b5f6", "Pooling": "#4db6ac", "Normalization": "#ba68c8",
        "Activation": "#ffb74d", "Regularization": "#a1887f", "Shape": "#b0bec5", "Linear": "#7986cb",
        "Merge": "#81c784", "Output": "#f06292",
    }),
    default_category="#bdbdbd",
    palette_roles=MappingProxyType({
        Role.Window: "#2b2f36", Role.WindowText: "#e6e9ee", Role.Base: "#1f2227",
        Role.AlternateBase: "#272b31", Role.Text: "#e6e9ee", Role.Button: "#353a42",
        Role.ButtonText: "#e6e9ee", Role.Highlight: "#2f6fbf", Role.HighlightedText: "#ffffff",
        Role.ToolTipBase: "#353a42", Role.ToolTipText: "#e6e9ee", Role.PlaceholderText: "#9aa3ad",
        Role.Link: "#64b5f6", Role.BrightText: "#ffffff", Role.Light: "#4a505a", Role.Midlight: "#3c424b",
        Role.Mid: "#2a2e34", Role.Dark: "#16181c", Role.Shadow: "#0b0c0e",
    }),
    disabled_text="#6b7480",
    texts=MappingProxyType({MUTED: "#a0aab6", ERROR_TEXT: "#ff8a80", OK: "#81c784", NOTE: "#ffb74d",
                            INFO: "#64b5f6", WHAT_IF: "#ffa64d"}),
    plot_background=QColor("#1f2227"), plot_foreground=QColor("#e6e9ee"), plot_crosshair=QColor("#7d8896"),
    # Material 300s: the light theme's hues, bright enough (3:1 and more) for lines on the dark plot
    run_colours=("#64b5f6", "#ff8a65", "#81c784", "#ba68c8", "#4dd0e1", "#e57373", "#a1887f", "#f06292",
                 "#dce775", "#b0bec5"),
    highlights=MappingProxyType({"changed": "#4a3f1c", "added": "#23402a", "removed": "#4a2528"}),
    heat=("#1f2227", "#2a64ad"),  # dark enough that the light text reads on every share
)

# The light theme's colours under their old names, for widgets that do not follow the theme.
CATEGORY_COLOURS = dict(LIGHT.categories)
DEFAULT_CATEGORY_COLOUR = LIGHT.default_category
CANVAS_BACKGROUND = LIGHT.canvas_background
CANVAS_GRID = LIGHT.canvas_grid
BLOCK_FILL = LIGHT.block_fill
BLOCK_BORDER = LIGHT.block_border
BLOCK_TEXT = LIGHT.block_text
BLOCK_MUTED = LIGHT.block_muted
SELECTION = LIGHT.selection
ERROR = LIGHT.error
ERROR_FILL = LIGHT.error_fill
UNKNOWN = LIGHT.unknown
EDGE = LIGHT.edge
EDGE_LABEL_FILL = LIGHT.edge_label_fill
PORT_FREE = LIGHT.port_free
PORT_ALLOWED = LIGHT.port_allowed
MESSAGE_ERROR = "#c62828"


class ThemeNotifier(QObject):
    """Emits ``theme_changed(theme)`` after the application's theme changed, ``mode_changed(mode)``
    after the user's choice did (which need not change the theme)."""

    theme_changed = Signal(object)
    mode_changed = Signal(str)


class _State:
    current: Theme = LIGHT
    mode: str = LIGHT_MODE  # until set_theme_mode: what tests and the render command see
    notifier: ThemeNotifier | None = None
    following_system = False


def current() -> Theme:
    """The theme the application paints with now."""
    return _State.current


def theme_mode() -> str:
    """SYSTEM, LIGHT_MODE or DARK_MODE: what the user chose."""
    return _State.mode


def notifier() -> ThemeNotifier:
    if _State.notifier is None:
        _State.notifier = ThemeNotifier()
    return _State.notifier


def theme_of(item: QGraphicsItem) -> Theme:
    """The theme ``item`` is drawn in: its scene's fixed theme (an export), else the current one."""
    fixed = getattr(item.scene(), "theme", None)
    return fixed if isinstance(fixed, Theme) else _State.current


def category_colour(category: str) -> QColor:
    """The current theme's colour for a block category."""
    return _State.current.category_colour(category)


def text_colour(role: str) -> QColor:
    """The current theme's colour of text in ``role`` (one of TEXT_ROLES)."""
    return _State.current.text(role)


def span(html_text: str, role: str) -> str:
    """``html_text`` (already escaped) coloured as text in ``role``, for a rich text; its widget must
    build the text again on ``theme_changed``."""
    return f"<span style='color:{text_colour(role).name()}'>{html_text}</span>"


def paint_text(widget: QWidget, role: str | None, css: str = "") -> None:
    """Colour ``widget``'s text as ``role`` (None: the palette's own), with the style sheet ``css`` added
    (``font-weight: bold;``), now and whenever the theme changes."""
    widget.setProperty(_ROLE_PROPERTY, role or "")
    widget.setProperty(_CSS_PROPERTY, css)
    _restyle(widget, _State.current)


def _restyle(widget: QWidget, theme: Theme) -> None:
    role, css = widget.property(_ROLE_PROPERTY), widget.property(_CSS_PROPERTY) or ""
    widget.setStyleSheet(f"color: {theme.text(role).name()}; {css}" if role else css)


def contrast(a: QColor, b: QColor) -> float:
    """WCAG's contrast ratio of two opaque colours, from 1 (the same) to 21 (black on white)."""
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _luminance(colour: QColor) -> float:
    channels = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
                for c in (colour.redF(), colour.greenF(), colour.blueF())]
    return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]


def readable_on(background: QColor) -> QColor:
    """The light or the dark theme's text colour, whichever reads better on ``background``."""
    dark, light = QColor(LIGHT.palette_roles[Role.Text]), QColor(DARK.palette_roles[Role.Text])
    return dark if contrast(dark, background) >= contrast(light, background) else light


def system_theme() -> Theme:
    """DARK when the desktop asks for a dark colour scheme, else LIGHT (also when it does not say)."""
    app = QGuiApplication.instance()
    if not isinstance(app, QGuiApplication):
        return LIGHT
    return DARK if QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark else LIGHT


def apply_theme(app: QApplication, theme: Theme) -> None:
    """Fusion with ``theme``'s palette (the same look on every platform, offscreen included)."""
    if app.style().name().lower() != "fusion":
        app.setStyle("Fusion")
    app.setPalette(theme.palette())
    changed = theme is not _State.current
    _State.current = theme
    if changed:
        for widget in app.allWidgets():
            if widget.property(_ROLE_PROPERTY) is not None:
                _restyle(widget, theme)
        notifier().theme_changed.emit(theme)


def apply_light_theme(app: QApplication) -> None:
    apply_theme(app, LIGHT)


def set_theme_mode(mode: str) -> None:
    """Use the LIGHT or DARK theme, or (SYSTEM) whichever the desktop's colour scheme asks for."""
    if mode not in THEME_MODES:
        raise ValueError(f"unknown theme {mode!r}: expected one of {', '.join(THEME_MODES)}")
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        raise RuntimeError("set_theme_mode() needs a QApplication")
    changed = mode != _State.mode
    _State.mode = mode
    if mode == SYSTEM and not _State.following_system:
        QGuiApplication.styleHints().colorSchemeChanged.connect(_on_system_scheme_changed)
        _State.following_system = True
    apply_theme(app, theme_for_mode(mode))
    if changed:
        notifier().mode_changed.emit(mode)


def theme_for_mode(mode: str) -> Theme:
    if mode == SYSTEM:
        return system_theme()
    return DARK if mode == DARK_MODE else LIGHT


def _on_system_scheme_changed(scheme: Qt.ColorScheme) -> None:
    app = QApplication.instance()
    if _State.mode == SYSTEM and isinstance(app, QApplication):
        apply_theme(app, DARK if scheme == Qt.ColorScheme.Dark else LIGHT)
