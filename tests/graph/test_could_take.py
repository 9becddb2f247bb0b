"""BlockSpec.could_take agrees with Graph.check_connect for a block that has no inputs yet."""

from __future__ import annotations

import pytest

from designer.graph.errors import ConnectError
from designer.graph.graph import Graph
from designer.graph.registry import REGISTRY


@pytest.mark.parametrize("shape", [(3, 32, 32), (10,)])
@pytest.mark.parametrize("block_type", list(REGISTRY))
def test_could_take_matches_check_connect(block_type: str, shape: tuple[int, ...]) -> None:
    graph = Graph()
    graph.add_node("Input", "input", {"shape": list(shape)})
    assert graph.result("input").shape == shape
    target = graph.add_node(block_type).name
    try:
        graph.check_connect("input", target)
        allowed = True
    except ConnectError:
        allowed = False
    assert REGISTRY[block_type].could_take(shape) == allowed


def test_an_unknown_shape_rules_out_only_blocks_without_inputs() -> None:
    assert [t for t in REGISTRY if not REGISTRY[t].could_take(None)] == ["Input", "Parameter"]
