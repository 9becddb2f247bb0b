"""How fast the canvas repaints and reacts on a 1,000-block graph, in a real main window.

Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/editor_canvas.py [--rounds 60]``

A 1,000-block network (Input, then conv-bn-relu stacked 333 times) laid out in
rows of 40 is opened in a :class:`MainWindow` whose canvas viewport is 1600×1000
(offscreen, so painting is Qt's raster engine, as on a desktop without OpenGL).
Cases, interleaved round by round so that machine noise hits every case alike:

* full repaint, zoomed to show every block (``viewport().repaint()``, which paints
  synchronously into the window's backing store); target ≤ 16 ms;
* full repaint at 100% zoom;
* drag step: one selected block moved by 7 px through the scene, then the
  event loop run until the view has repainted what changed;
* zoom step: ``zoom_by(1.1)`` or its inverse, then a full repaint;
* parameter edit: the Input's shape 3×32×32 ↔ 3×64×64 through
  ``Document.set_params`` (an undoable command; every block's shape changes),
  checked to have relabelled the last block, then a full repaint.

References from the same run: a full repaint of an empty canvas and of a
10-block graph, each in its own window of the same size; ratios are medians
divided by the 10-block reference's median.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, QSettings, Qt
from PySide6.QtWidgets import QApplication

from designer.graph.graph import Graph
from designer.ui.document import Document
from designer.ui.main_window import MainWindow

VIEWPORT = (1600, 1000)
PER_ROW = 40
COLUMN_GAP, ROW_GAP = 200.0, 110.0


def build_graph(nodes: int = 1000) -> Graph:
    """Input, then Conv2d-BatchNorm2d-ReLU repeated, a chain of ``nodes`` blocks in rows of 40."""
    graph = Graph()
    graph.name = f"stack{nodes}"
    cycle = ("Conv2d", "BatchNorm2d", "ReLU")
    previous = graph.add_node("Input", "input", {"shape": [3, 32, 32]}).name
    for i in range(1, nodes):
        kind = cycle[(i - 1) % 3]
        params = {"out_channels": 16, "kernel_size": 3, "padding": 1} if kind == "Conv2d" else {}
        row, column = divmod(i, PER_ROW)
        name = graph.add_node(kind, f"{kind.lower()}_{i}", params,
                              position=(column * COLUMN_GAP, row * ROW_GAP)).name
        graph.connect(previous, name)
        previous = name
    return graph


class PaintCounter(QObject):
    """Counts the paint events a widget receives (to check that a step really repainted)."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.count += 1
        return False


class Bench:
    """One shown window on ``graph``; each method is one timed step."""

    def __init__(self, app: QApplication, graph: Graph, settings: Path) -> None:
        self.app = app
        self.window = MainWindow(Document(graph), QSettings(str(settings), QSettings.Format.IniFormat))
        self.window.show()
        self.view = self.window.view
        # Size the window so that the canvas viewport is exactly VIEWPORT.
        for _ in range(3):
            app.processEvents()
            have = self.view.viewport().size()
            size = self.window.size()
            self.window.resize(size.width() + VIEWPORT[0] - have.width(),
                               size.height() + VIEWPORT[1] - have.height())
        app.processEvents()
        self.counter = PaintCounter()
        self.view.viewport().installEventFilter(self.counter)
        self.fit()
        self.flip = False

    def fit(self) -> None:
        """Zoom to show every block (the edges that wrap from row to row bulge further out)."""
        scene = self.view.graph_scene
        blocks = QRectF()
        for item in scene.block_items():
            blocks = blocks.united(item.sceneBoundingRect())
        if blocks.isEmpty():
            blocks = QRectF(-400, -250, 800, 500)
        self.view.fitInView(blocks.adjusted(-40, -40, 40, 40), Qt.AspectRatioMode.KeepAspectRatio)
        self.app.processEvents()

    def repaint(self) -> None:
        before = self.counter.count
        self.view.viewport().repaint()
        assert self.counter.count > before, "the viewport did not paint"

    def drag(self, name: str) -> None:
        item = self.view.graph_scene.item_for_node(name)
        before = self.counter.count
        item.setPos(item.pos() + QPointF(7 if self.flip else -7, 0))
        self.flip = not self.flip
        while self.counter.count == before:
            self.app.processEvents()

    def zoom(self) -> None:
        self.view.zoom_by(1.1 if self.flip else 1 / 1.1)
        self.flip = not self.flip
        self.repaint()

    def edit(self, last: str, settle: bool = False) -> None:
        """Flip the Input's size; check that the last block says the new shape; repaint.

        ``settle``: then also run the event loop until the summary table, which
        refreshes after a burst of edits, shows the new shapes too.
        """
        document = self.window.document
        size = 64 if self.flip else 32
        self.flip = not self.flip
        document.set_params("input", {"shape": [3, size, size]})
        texts = self.view.graph_scene.item_for_node(last).texts
        assert any(f"{size}×{size}" in t for t in texts), texts
        self.repaint()
        if settle:
            table = self.window.table
            while table.pending:
                self.app.processEvents()
            assert f"{size}, {size}" in table.item(table.row_of(last), 3).text() or \
                f"{size}×{size}" in table.item(table.row_of(last), 3).text()

    def close(self) -> None:
        self.window.document.undo_stack.setClean()
        self.window.close()
        self.window.deleteLater()


def timed(step: Callable[[], None]) -> float:
    start = time.perf_counter()
    step()
    return (time.perf_counter() - start) * 1000


def summarise(samples: dict[str, list[float]], reference: str) -> None:
    base = statistics.median(samples[reference])
    print(f"{'case':<44} {'median ms':>10} {'p95 ms':>8} {'÷ ref':>7}")
    for case, values in samples.items():
        ordered = sorted(values)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        median = statistics.median(values)
        print(f"{case:<44} {median:>10.2f} {p95:>8.2f} {median / base:>7.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--nodes", type=int, default=1000)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    folder = Path(tempfile.mkdtemp(prefix="designer-bench-"))
    big = Bench(app, build_graph(args.nodes), folder / "a.ini")
    small = Bench(app, build_graph(10), folder / "b.ini")
    empty = Bench(app, Graph(), folder / "c.ini")
    last = big.window.graph.topological_order()[-1]
    middle = big.window.graph.topological_order()[args.nodes // 2]
    big.view.graph_scene.select_nodes([middle])
    print(f"{args.nodes} blocks, viewport {big.view.viewport().width()}×{big.view.viewport().height()}, "
          f"zoom to fit {big.view.zoom:.3f}")

    def at_100() -> None:
        big.view.resetTransform()
        big.view.center_on_node(middle)
        app.processEvents()

    cases: list[tuple[str, Callable[[], None] | None, Callable[[], None]]] = [
        ("reference: 10 blocks, full repaint", None, small.repaint),
        ("reference: empty canvas, full repaint", None, empty.repaint),
        ("full repaint, zoomed to fit", big.fit, big.repaint),
        ("full repaint, 100%", at_100, big.repaint),
        ("drag step (100%)", at_100, lambda: big.drag(middle)),
        ("zoom step + repaint (from fit)", big.fit, big.zoom),
        ("zoom step + repaint (100%)", at_100, big.zoom),
        ("parameter edit + repaint (fit)", big.fit, lambda: big.edit(last)),
        ("parameter edit + repaint (100%)", at_100, lambda: big.edit(last)),
        ("  … + summary table refreshed (fit)", big.fit, lambda: big.edit(last, settle=True)),
    ]
    samples: dict[str, list[float]] = {name: [] for name, _, _ in cases}
    for _ in range(3):  # warm-up: caches, fonts, first layouts
        for _, setup, step in cases:
            if setup is not None:
                setup()
            step()
    for round_ in range(args.rounds):
        order = cases if round_ % 2 == 0 else cases[::-1]
        for name, setup, step in order:
            if setup is not None:
                setup()
            samples[name].append(timed(step))
    summarise(samples, "reference: 10 blocks, full repaint")
    for bench in (big, small, empty):
        bench.close()
    app.processEvents()


if __name__ == "__main__":
    main()
