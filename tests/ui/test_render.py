"""``designer render``: the laid-out network with shapes on its edges, as SVG or PNG."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from PySide6.QtGui import QImage

import designer
from designer.graph import project
from tests.test_cli import assert_one_line_error, run


def svg_text(path) -> str:
    root = ET.parse(path).getroot()
    return " ".join(t.strip() for t in root.itertext() if t.strip())


def test_svg_shows_every_block_and_the_shapes_on_the_edges(qapp, capsys, tmp_path):
    out = tmp_path / "alexnet.svg"
    code, _, err = run(capsys, "render", "alexnet", "-o", str(out))
    assert code == 0 and err == f"wrote {out}\n"
    text = svg_text(out)
    for word in ("conv1", "pool5", "fc8", "96×55×55", "96×27×27", "256×6×6", "9216", "4096"):
        assert word in text, word


def test_png_is_a_real_picture_twice_the_scene_size(qapp, capsys, tmp_path):
    out = tmp_path / "net.png"
    code, _, err = run(capsys, "render", "inception", "-o", str(out))
    assert code == 0, err
    image = QImage(str(out))
    assert not image.isNull() and image.width() > 2000 and image.height() > 300
    colours = {image.pixel(x, image.height() // 2) for x in range(0, image.width(), 7)}
    assert len(colours) > 10  # blocks, edges and text, not a blank page


def test_keep_positions_draws_where_the_project_says(qapp, capsys, tmp_path):
    graph = designer.load("lenet5")
    for i, name in enumerate(graph.nodes):
        graph.move(name, (0.0, i * 100.0))  # a column
    project.save(graph, tmp_path / "column.json")
    tall, wide = tmp_path / "tall.png", tmp_path / "wide.png"
    assert run(capsys, "render", str(tmp_path / "column.json"), "-o", str(tall), "--keep-positions")[0] == 0
    assert run(capsys, "render", str(tmp_path / "column.json"), "-o", str(wide))[0] == 0
    assert QImage(str(tall)).height() > QImage(str(tall)).width()
    assert QImage(str(wide)).width() > QImage(str(wide)).height()
    assert designer.load(str(tmp_path / "column.json")).node("c1").position == (0.0, 100.0)


@pytest.mark.parametrize("name, words", [("net.gif", "diagrams are written as .svg or .png"),
                                         ("missing/net.svg", "no such folder")])
def test_bad_targets_get_one_line(qapp, capsys, tmp_path, name, words):
    code, out, err = run(capsys, "render", "lenet5", "-o", str(tmp_path / name))
    assert_one_line_error(code, out, err, words)
