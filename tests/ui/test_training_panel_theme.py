"""The training panel's own texts follow the theme (issue 13, C17, the part in the panel's modules): the status
line, a failure, the dataset's fit and the preview's notes read at WCAG AA in both themes, before and after a
theme change."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QApplication

from designer.ui import theme
from tests.ui.theme_contrast import low_contrast, texts

WAIT = 60_000


@pytest.fixture(autouse=True)
def _light_again() -> Iterator[None]:
    yield
    theme.set_theme_mode(theme.LIGHT_MODE)


def _low_contrast(panel) -> list[str]:
    QApplication.processEvents()
    assert len(texts(panel)) >= 30
    return low_contrast(panel)


@pytest.mark.parametrize("mode", [theme.LIGHT_MODE, theme.DARK_MODE])
def test_status_failure_fit_and_preview_read_after_a_theme_change(make_window, qtbot, mode):
    window = make_window("lenet5")
    window.training_dock.raise_()
    panel = window.training_panel
    qtbot.waitUntil(lambda: panel.picker.preview.summary.text() != "", timeout=WAIT)
    panel.monitor.status.setText("Finished at step 260.")
    panel.monitor.show_failure("the loss became NaN at step 3")
    theme.set_theme_mode(theme.DARK_MODE if mode == theme.LIGHT_MODE else theme.LIGHT_MODE)
    theme.set_theme_mode(mode)
    assert _low_contrast(panel) == []
