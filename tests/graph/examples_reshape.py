"""Examples of this area's blocks for the spec walk (tests/graph/test_spec_walk.py)."""

from __future__ import annotations

from typing import Any

# type: (the input shape, the block's parameters, how many inputs it reads from that one Input)
EXAMPLES: dict[str, tuple[tuple[int, ...], dict[str, Any], int]] = {
    "Permute": ((3, 4, 5), {"dims": [0, 2, 3, 1]}, 1),
    "Transpose": ((3, 4, 5), {"dim0": 1, "dim1": -1}, 1),
    "Reshape": ((3, 4, 6), {"shape": [6, -1, 2]}, 1),
    "Select": ((3, 4, 5), {"dim": 2, "index": -1}, 1),
    "Narrow": ((6, 4, 5), {"dim": 1, "start": 2, "length": 3}, 1),
    "ChannelShuffle": ((6, 4, 4), {"groups": 3}, 1),
}
