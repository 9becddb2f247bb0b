"""Block search: the type's name first, then its aliases, then words anywhere, then letters in order."""

from __future__ import annotations

import dataclasses

import pytest

from designer.graph.registry import REGISTRY
from designer.graph.search import ALIAS, EXACT, INSIDE, LETTERS, PREFIX, WORDS, match_rank, ranked

SILU = dataclasses.replace(REGISTRY["ReLU"], type="SiLU", help="x·σ(x), the sigmoid-weighted linear unit.",
                           aliases=("swish",))
SPECS = [*REGISTRY.values(), SILU]


def names(query: str) -> list[str]:
    return [spec.type for spec in ranked(SPECS, query)]


def test_typing_linear_lists_linear_before_what_merely_mentions_it():
    found = names("linear")
    assert found[0] == "Linear"
    assert found.index("Linear") < found.index("GELU") and found.index("Linear") < found.index("SiLU")


@pytest.mark.parametrize(("query", "block", "rank"), [
    ("Conv2d", "Conv2d", EXACT),
    ("conv2d", "Conv2d", EXACT),
    ("conv", "Conv2d", PREFIX),
    ("swish", "SiLU", ALIAS),
    ("swi", "SiLU", PREFIX + 2),  # the start of an alias
    ("pool", "AdaptiveAvgPool2d", INSIDE),
    ("residual", "Add", WORDS),
    ("mxpl", "MaxPool2d", LETTERS),
])
def test_each_kind_of_match(query, block, rank):
    spec = next(s for s in SPECS if s.type == block)
    assert match_rank(spec, query) == rank


def test_what_matches_nothing_is_left_out_and_empty_text_keeps_the_order():
    assert names("zzzz") == []
    assert names("  ") == [spec.type for spec in SPECS]
    assert match_rank(REGISTRY["ReLU"], "ml") is None  # two letters in order are too little to guess from
