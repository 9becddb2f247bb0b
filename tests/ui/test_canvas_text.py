"""Texts on the canvas are measured in the font they are drawn in, and nothing covers anything.

Machines differ in their fonts, so each check runs in two font families of
different widths, picked among those installed: the blocks must grow to fit
their texts in either, and shape tags, ports, texts and blocks must never meet.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QFont, QFontDatabase, QFontMetricsF, QImage

import designer
from designer.ui.canvas.scene import GraphScene
from designer.ui.fonts import set_canvas_family
from designer.ui.render import diagram_scene
from tests.test_cli import run

SAMPLE = "inception3a_5x5_reduce_relu 128×32×32"


def two_families() -> list[str]:
    """The narrowest and the widest installed families (by the width of a block's name)."""
    def width(family: str) -> float:
        font = QFont()
        font.setFamilies([family])
        font.setPixelSize(12)
        return QFontMetricsF(font).horizontalAdvance(SAMPLE)

    latin, symbol = QFontDatabase.WritingSystem.Latin, QFontDatabase.WritingSystem.Symbol
    families = [f for f in QFontDatabase.families() if not QFontDatabase.isPrivateFamily(f)
                and latin in QFontDatabase.writingSystems(f) and symbol not in QFontDatabase.writingSystems(f)]
    if len(families) < 2:
        pytest.skip("this machine has a single font family")
    ranked = sorted(families, key=width)
    return [ranked[0], ranked[-1]]


@pytest.fixture(params=[0, 1], ids=["narrow font", "wide font"])
def family(request, qapp) -> Iterator[str]:
    chosen = two_families()[request.param]
    set_canvas_family(chosen)
    yield chosen
    set_canvas_family(None)


def meet(a: QRectF, b: QRectF) -> bool:
    return a.intersected(b).width() > 0.01 and a.intersected(b).height() > 0.01


def assert_nothing_covers_anything(scene: GraphScene) -> None:
    blocks = scene.block_items()
    tags = [e.label_rect() for e in scene.edge_items() if not e.label_rect().isEmpty()]
    assert tags, "no shape tag drawn at all"
    for block in blocks:
        body, texts, ports = block.body_rect(), block.text_rects(), block.port_rects()
        for text in texts:
            assert body.contains(text), (block.name, "text leaves its block")
            assert not any(meet(text, port) for port in ports), (block.name, "a port covers a text")
        assert not any(meet(a, b) for a, b in itertools.combinations(texts, 2)), (block.name, block.texts)
        for tag in tags:
            assert not meet(tag, body), (block.name, "a shape tag lies on a block")
    for a, b in itertools.combinations(blocks, 2):
        assert not meet(a.body_rect(), b.body_rect()), (a.name, b.name)
    for a, b in itertools.combinations(tags, 2):
        assert not meet(a, b), "two shape tags meet"


@pytest.mark.parametrize("template", ["inception", "alexnet"])
def test_laid_out_network_has_no_text_port_or_tag_over_another(family, template):
    scene = diagram_scene(designer.load(template))
    try:
        assert_nothing_covers_anything(scene)
        names = {b.name: b.texts[0] for b in scene.block_items()}
        assert all(shown == name for name, shown in names.items()), "a name was cut"
    finally:
        scene.detach()


def test_blocks_grow_with_the_font(qapp):
    widths = []
    for chosen in two_families():
        set_canvas_family(chosen)
        scene = diagram_scene(designer.load("inception"))
        widths.append(scene.item_for_node("inception3a_5x5_reduce_relu").body_rect().width())
        scene.detach()
    set_canvas_family(None)
    assert widths[1] > widths[0]


def test_render_gives_a_page_not_a_strip(qapp, capsys, tmp_path):
    out = tmp_path / "inc.png"
    assert run(capsys, "render", "inception", "-o", str(out))[0] == 0
    image = QImage(str(out))
    assert 1.0 <= image.width() / image.height() <= 2.5, (image.width(), image.height())


@pytest.mark.parametrize("template", ["resnet18", "inception"])
def test_no_edge_runs_through_a_block(qapp, template):
    """Skip connections and the edges back to the start of the next band go round the blocks."""
    scene = diagram_scene(designer.load(template))
    try:
        bodies = {b.name: b.body_rect() for b in scene.block_items()}
        for edge in scene.edge_items():
            points = [edge.path_point(i / 40) for i in range(1, 40)]
            crossed = [name for name, body in bodies.items() if name not in (edge.edge.source, edge.edge.target)
                       and any(body.contains(p) for p in points)]
            assert not crossed, (edge.edge, crossed)
    finally:
        scene.detach()
