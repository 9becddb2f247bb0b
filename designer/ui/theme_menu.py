"""View ▸ Theme: System, Light or Dark, remembered in the settings under ``theme``."""

from __future__ import annotations

from PySide6.QtCore import QObject, QSettings
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QMenu

from designer.ui import theme

LABELS = {theme.SYSTEM: "&System", theme.LIGHT_MODE: "&Light", theme.DARK_MODE: "&Dark"}
TIPS = {
    theme.SYSTEM: "Light or dark as the desktop's colour scheme is, following it as it changes",
    theme.LIGHT_MODE: "Dark text on light backgrounds",
    theme.DARK_MODE: "Light text on dark backgrounds",
}


def saved_mode(settings: QSettings) -> str:
    """The theme mode kept in ``settings``; SYSTEM when none (or an unknown one) is."""
    mode = settings.value(theme.SETTINGS_KEY, theme.SYSTEM)
    return mode if isinstance(mode, str) and mode in theme.THEME_MODES else theme.SYSTEM


def add_theme_menu(menu: QMenu, settings: QSettings) -> dict[str, QAction]:
    """Fill ``menu`` with one exclusive choice per theme mode; a choice applies and saves it."""
    return ThemeChoice(menu, settings).actions


class ThemeChoice(QObject):
    """The checkable actions of a Theme menu, kept in step with the mode (another window may change it)."""

    def __init__(self, menu: QMenu, settings: QSettings) -> None:
        super().__init__(menu)  # lives and dies with the menu, and so does the connection below
        self.settings = settings
        menu.setToolTipsVisible(True)
        group = QActionGroup(self)
        self.actions: dict[str, QAction] = {}
        for mode, text in LABELS.items():
            action = QAction(text, menu)
            action.setCheckable(True)
            action.setToolTip(TIPS[mode])
            action.setStatusTip(TIPS[mode])
            action.triggered.connect(lambda checked=False, m=mode: self.choose(m))
            group.addAction(action)
            menu.addAction(action)
            self.actions[mode] = action
        self._show_mode(theme.theme_mode())
        theme.notifier().mode_changed.connect(self._show_mode)

    def choose(self, mode: str) -> None:
        theme.set_theme_mode(mode)
        self.settings.setValue(theme.SETTINGS_KEY, mode)

    def _show_mode(self, mode: str) -> None:
        self.actions[mode].setChecked(True)
