"""Importing this area's blocks from their module and functional forms.

Each model is a small ``nn.Module`` written the way people write them; ``check_import``
demands the same outputs and layers as the original, with its weights.
"""

from __future__ import annotations

import torch.nn as nn
import torch.nn.functional as F

from tests.graph.test_importer import check_import, types

# -- activations -----------------------------------------------------------------------------


class MobileActivations(nn.Module):
    """Every new activation, as a module (in place where torch allows it) and as a function."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)
        self.relu6 = nn.ReLU6(inplace=True)
        self.hswish = nn.Hardswish(inplace=True)
        self.hsigmoid = nn.Hardsigmoid()
        self.silu = nn.SiLU(inplace=True)
        self.mish = nn.Mish()

    def forward(self, x):
        x = self.mish(self.silu(self.hsigmoid(self.hswish(self.relu6(self.conv(x))))))
        x = F.relu6(x, inplace=True)
        x = F.hardswish(x)
        x = F.hardsigmoid(x, inplace=False)
        x = F.silu(x, inplace=True)
        return F.mish(x)


def test_new_activations_import_from_modules_and_functions():
    imported = check_import(MobileActivations(), (3, 5, 5))
    assert list(types(imported).values()) == [
        "Input", "Conv2d", "ReLU6", "Hardswish", "Hardsigmoid", "SiLU", "Mish",
        "ReLU6", "Hardswish", "Hardsigmoid", "SiLU", "Mish",
    ]
    # inplace changes nothing the block computes: none of them has a parameter.
    assert all(node.params == {} for node in imported.graph.nodes.values()
               if node.type not in ("Input", "Conv2d"))
