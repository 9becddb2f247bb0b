"""Opening the window does not import torch (about 1.4 s): the window must appear within a second.

Checked in a fresh interpreter, since this test session has long imported torch for other tests.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import sys
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

app = QApplication([])
from designer.ui.main_window import MainWindow
from designer.ui.document import Document

window = MainWindow(Document.open("alexnet"), QSettings(sys.argv[1], QSettings.Format.IniFormat))
window.show()
app.processEvents()
assert window.view.graph_scene.block_items(), "the window shows no blocks"
heavy = sorted(name for name in sys.modules if name.split(".")[0] == "torch")
print("torch modules:", heavy[:5])
window.close()
"""


def test_building_the_main_window_does_not_import_torch(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", DESIGNER_DATA_DIR=str(tmp_path / "data"))
    result = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "settings.ini")], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "torch modules: []" in result.stdout, result.stdout
