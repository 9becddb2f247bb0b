"""Renders the main window offscreen to docs/screenshot.png for the README."""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication

import designer
from designer.ui.main_window import MainWindow


def main() -> None:
    app = QApplication(sys.argv[:1])
    window = MainWindow(designer.load(sys.argv[1] if len(sys.argv) > 1 else "alexnet"))
    window.resize(1280, 760)
    window.show()
    app.processEvents()
    out = Path(__file__).resolve().parent.parent / "docs" / "screenshot.png"
    window.grab().save(str(out))
    print("wrote", out)


if __name__ == "__main__":
    main()
