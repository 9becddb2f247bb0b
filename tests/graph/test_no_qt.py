"""designer.graph is the model: it must import and work with Qt unavailable."""

import subprocess
import sys

BLOCK_QT = """
import sys
class BlockQt:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("PySide6", "shiboken6", "PyQt5", "PyQt6", "pyqtgraph"):
            raise ImportError(f"Qt is blocked in this test: {name}")
sys.meta_path.insert(0, BlockQt())
import designer.graph, designer.graph.summary, designer.graph.layout
g = designer.graph.load("alexnet")
assert g.result("conv1").shape == (96, 55, 55)
assert not [m for m in sys.modules if m.startswith(("PySide6", "shiboken6", "pyqtgraph"))]
print("ok")
"""


def test_graph_package_imports_without_qt():
    done = subprocess.run([sys.executable, "-c", BLOCK_QT], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
