"""Examples of this area's blocks for the spec walk (tests/graph/test_spec_walk.py)."""

from __future__ import annotations

from typing import Any

# type: (the input shape, the block's parameters, how many inputs it reads from that one Input)
EXAMPLES: dict[str, tuple[tuple[int, ...], dict[str, Any], int]] = {
    "ReLU6": ((3, 4, 4), {}, 1),
    "Hardswish": ((3, 4, 4), {}, 1),
    "Hardsigmoid": ((7,), {}, 1),
    "SiLU": ((3, 4, 4), {}, 1),
    "Mish": ((7,), {}, 1),
    "Mul": ((3, 4, 4), {}, 2),
    "Mean": ((3, 4, 5), {"dim": [2, 3], "keepdim": True}, 1),
    "ConvTranspose2d": ((4, 5, 6), {"out_channels": 6, "kernel_size": [3, 4], "stride": [2, 3],
                                    "padding": 1, "output_padding": [1, 2], "groups": 2, "bias": False,
                                    "dilation": [1, 2]}, 1),
    "Upsample": ((3, 4, 5), {"scale_factor": 1.5, "mode": "bilinear", "align_corners": True}, 1),
}
