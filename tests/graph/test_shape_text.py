"""One reading of shape text for every place a person types one: the inspector, the what-if box, the CLI."""

from __future__ import annotations

import pytest

from designer.graph.shapes import SHAPE_HINT, fmt_shape, parse_shape, rank_name, wanted_ranks

READ = [
    ("3×224×224", (3, 224, 224)),
    ("3x224x224", (3, 224, 224)),
    ("3 X 224 x 224", (3, 224, 224)),
    ("3*224*224", (3, 224, 224)),
    ("3 224 224", (3, 224, 224)),
    ("3,224,224", (3, 224, 224)),
    (" [3, 224, 224] ", (3, 224, 224)),
    ("(3, 224, 224)", (3, 224, 224)),
    ("197×768", (197, 768)),
    ("784", (784,)),
    ("[784]", (784,)),
]
REFUSED = ["", "  ", "3×", "×3", "a×b×c", "3×224×224×1", "-3×2×2", "3×0×2", "3.5×2×2", "3;224;224", "٣×٢×٢"]


@pytest.mark.parametrize(("text", "shape"), READ)
def test_every_usual_spelling_is_read(text, shape):
    assert parse_shape(text) == shape
    assert parse_shape(fmt_shape(shape)) == shape  # what we print reads back


@pytest.mark.parametrize("text", REFUSED)
def test_anything_else_is_refused_with_how_to_write_it(text):
    with pytest.raises(ValueError) as caught:
        parse_shape(text)
    assert SHAPE_HINT in str(caught.value) or "at least 1" in str(caught.value)


def test_ranks_limit_what_is_read():
    assert parse_shape("3×32×32", ranks=(3,)) == (3, 32, 32)
    with pytest.raises(ValueError):
        parse_shape("197×768", ranks=(1, 3))


def test_one_wording_of_ranks():
    assert [rank_name(r) for r in (1, 2, 3)] == ["flat", "T×D", "C×H×W"]
    assert wanted_ranks({3, 1}) == "a flat or a C×H×W"


def test_the_cli_and_the_inspector_read_shapes_the_same_way():
    from designer.cli import _parse_shape
    from designer.ui.param_editors import parse_shape as inspector_parse

    for text, shape in READ:
        assert _parse_shape(text) == list(shape) == inspector_parse(text)
    for text in REFUSED:  # left for the Input block to refuse in its own words, a rank as a list
        assert inspector_parse(text) == ([3, 224, 224, 1] if text == "3×224×224×1" else text)
