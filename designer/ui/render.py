"""Draws a network as a picture (SVG or PNG) for papers and slides, without a window.

The picture is the canvas itself: the same block and edge items, with shapes
on the edges, laid out in layers, drawn by a :class:`GraphScene` that no view
shows. ``designer render`` and File ▸ Export Diagram both come here.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QMarginsF, QRectF, QSize, Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgGenerator

from designer.graph.errors import GraphError
from designer.graph.files import write_atomic
from designer.graph.graph import Graph
from designer.graph.layout import apply_layout
from designer.ui.canvas.scene import GraphScene
from designer.ui.theme import LIGHT

FORMATS = (".svg", ".png")
MARGIN = 24.0
PNG_SCALE = 2.0  # sharp on high-density screens and in print
ASPECT = 1.6  # a slide (16:9) or a page's width, rather than a strip


def render(graph: Graph, path: str | os.PathLike[str], layout: str | None = "LR", *,
           replace_read_only: bool = False) -> None:
    """Write ``graph`` to ``path`` (``.svg`` or ``.png``); a read-only file only with ``replace_read_only``.

    ``layout`` lays it out first, "LR" (left to right, as the ports face) or
    "TB"; None keeps the positions the user drew.
    """
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise GraphError(f"{path.name}: diagrams are written as {' or '.join(FORMATS)}; "
                         "give the file one of these suffixes")
    if QGuiApplication.instance() is None:
        raise RuntimeError("render() needs a QGuiApplication")  # the CLI makes an offscreen one
    scene = diagram_scene(graph, layout)
    try:
        rect = scene.itemsBoundingRect().marginsAdded(QMarginsF(MARGIN, MARGIN, MARGIN, MARGIN))
        data = _svg(scene, rect, graph.name) if path.suffix.lower() == ".svg" else _png(scene, rect)
    finally:
        scene.detach()
    write_atomic(path, data, replace_read_only=replace_read_only)


def diagram_scene(graph: Graph, layout: str | None = "LR") -> GraphScene:
    """The scene a picture of ``graph`` shows, laid out with the blocks' sizes as drawn (``layout``: "LR",
    "TB", or None for the positions the user drew); ``graph`` itself is not moved. Detach it when done."""
    if layout is not None:
        graph = graph.copy()  # the caller's positions stay as they were
    scene = GraphScene(graph, theme=LIGHT)  # papers and slides are white, whatever the editor's theme
    if layout is not None:
        apply_layout(graph, layout, footprints=scene.footprints(), aspect=ASPECT)  # the scene follows the moves
        scene.reroute_edges()
    for item in scene.items():
        # Cached items would reach the SVG as bitmaps; drawn directly they stay text and lines.
        item.setCacheMode(item.CacheMode.NoCache)
    return scene


def _paint(scene: GraphScene, painter: QPainter, target: QRectF, source: QRectF) -> None:
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    painter.fillRect(target, scene.theme.canvas_background)
    scene.render(painter, target, source, Qt.AspectRatioMode.KeepAspectRatio)


def _png(scene: GraphScene, rect: QRectF) -> bytes:
    size = QSize(round(rect.width() * PNG_SCALE), round(rect.height() * PNG_SCALE))
    image = QImage(size, QImage.Format.Format_ARGB32_Premultiplied)
    image.setDotsPerMeterX(round(96 * PNG_SCALE / 0.0254))
    image.setDotsPerMeterY(round(96 * PNG_SCALE / 0.0254))
    painter = QPainter(image)
    _paint(scene, painter, QRectF(0, 0, size.width(), size.height()), rect)
    painter.end()
    return _encoded(image.save, ".png")


def _svg(scene: GraphScene, rect: QRectF, title: str) -> bytes:
    def write(name: str) -> bool:
        generator = QSvgGenerator()
        generator.setFileName(name)
        generator.setSize(rect.size().toSize())
        generator.setViewBox(QRectF(0, 0, rect.width(), rect.height()))
        generator.setTitle(title)
        generator.setDescription("Drawn by Designer")
        painter = QPainter(generator)
        _paint(scene, painter, QRectF(0, 0, rect.width(), rect.height()), rect)
        return painter.end()

    return _encoded(write, ".svg")


def _encoded(write: Callable[[str], bool], suffix: str) -> bytes:
    """Let a Qt writer that wants a file name write to a private temporary file, then read it back."""
    with tempfile.TemporaryDirectory(prefix="designer-render-") as folder:
        name = os.path.join(folder, "picture" + suffix)
        if not write(name):
            raise GraphError("the picture could not be drawn")
        return Path(name).read_bytes()
