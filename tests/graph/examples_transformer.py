"""Examples of this area's blocks for the spec walk (tests/graph/test_spec_walk.py)."""

from __future__ import annotations

from typing import Any

# type: (the input shape, the block's parameters, how many inputs it reads from that one Input)
EXAMPLES: dict[str, tuple[tuple[int, ...], dict[str, Any], int]] = {
    "LayerNorm": ((3, 4, 5), {"normalized_dims": 2, "eps": 1e-6, "bias": False}, 1),
    "LayerNorm2d": ((4, 3, 3), {"eps": 1e-6}, 1),
    "StochasticDepth": ((3, 4, 4), {"p": 0.2, "mode": "batch"}, 1),
    # No input: the walk adds it to the Input, so its shape is the Input's with the batch's 1 in front.
    "Parameter": ((3, 4, 4), {"shape": [1, 3, 4, 4]}, 0),
    "MultiheadAttention": ((5, 8), {"num_heads": 2, "bias": False}, 1),
}
