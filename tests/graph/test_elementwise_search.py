"""What people type for this area's blocks finds them first in the palette and quick-add."""

from __future__ import annotations

import pytest

from designer.graph.registry import REGISTRY
from designer.graph.search import ALIAS, match_rank, ranked


@pytest.mark.parametrize(("query", "block"), [
    ("swish", "SiLU"),
    ("hard swish", "Hardswish"),
    ("h-swish", "Hardswish"),
    ("hard sigmoid", "Hardsigmoid"),
    ("clipped relu", "ReLU6"),
    ("multiply", "Mul"),
    ("squeeze-excitation", "Mul"),
    ("global average pooling", "Mean"),
    ("gap", "Mean"),
    ("deconvolution", "ConvTranspose2d"),
    ("transposed convolution", "ConvTranspose2d"),
    ("interpolate", "Upsample"),
    ("resize", "Upsample"),
])
def test_an_alias_finds_its_block_first(query: str, block: str) -> None:
    assert match_rank(REGISTRY[block], query) == ALIAS
    assert ranked(REGISTRY.values(), query)[0].type == block


def test_the_prefix_of_a_name_still_wins() -> None:
    assert ranked(REGISTRY.values(), "upsa")[0].type == "Upsample"
    assert [spec.type for spec in ranked(REGISTRY.values(), "convt")][:1] == ["ConvTranspose2d"]
