"""The layered layout wraps long networks into bands that fit a window, and never overlaps blocks."""

from __future__ import annotations

import itertools

import pytest

import designer
from designer.graph.layout import TYPICAL, layered_positions


def extent(positions: dict[str, tuple[float, float]]) -> tuple[float, float]:
    xs, ys = [p[0] for p in positions.values()], [p[1] for p in positions.values()]
    return max(xs) - min(xs) + TYPICAL.width + TYPICAL.tag, max(ys) - min(ys) + TYPICAL.height


@pytest.mark.parametrize("template", ["alexnet", "resnet18", "inception", "vit_tiny-cifar", "vgg16"])
def test_a_network_fits_a_wide_window_at_a_readable_size(template):
    positions = layered_positions(designer.load(template))
    width, height = extent(positions)
    assert 0.8 <= width / height <= 2.5, (width, height)
    assert min(1100 / width, 850 / height) >= 0.4  # the canvas of a 1600×1000 window: names legible


def test_alexnet_reads_in_bands_of_whole_blocks():
    positions = layered_positions(designer.load("alexnet"))
    rows = {y for _, y in positions.values()}
    assert 3 <= len(rows) <= 6
    for (xa, ya), (xb, yb) in itertools.combinations(positions.values(), 2):
        assert abs(xa - xb) >= TYPICAL.width + 20 or abs(ya - yb) >= TYPICAL.height + 20


def test_bands_break_where_one_edge_runs_back():
    graph = designer.load("inception")
    positions = layered_positions(graph)
    back = [e for e in graph.edges if positions[e.target][0] < positions[e.source][0]]
    assert back and all(len([b for b in back if b.source == e.source]) == 1 for e in back)
    assert len({e.source for e in back}) == len(back)  # one edge per break, not a module's four branches


def test_top_to_bottom_is_one_column_of_layers():
    positions = layered_positions(designer.load("lenet5"), "TB")
    assert len({x for x, _ in positions.values()}) == 1
