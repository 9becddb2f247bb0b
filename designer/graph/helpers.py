"""Classes a block needs that ``torch.nn`` does not have, as source text.

The exported model file must import only torch, so a block such as
StochasticDepth cannot come from torchvision: its class is written into the file,
from the source here, and the compiler executes the same source, so the compiled
module and the exported file run the same code. Each entry is a class statement
that uses only ``torch`` and ``nn`` (``nn.functional`` for functions), the file's two imports.
"""

from __future__ import annotations

import ast
import inspect
import linecache
import textwrap
import types
from functools import cache
from typing import Any

HELPERS: dict[str, str] = {
    # ConvNeXt's channels-first layer norm: torch's layer_norm wants the normalised axis last.
    "LayerNorm2d": '''
class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channels at each position of an N×C×H×W tensor."""

    def forward(self, x):
        x = x.permute(0, 2, 3, 1)
        x = nn.functional.layer_norm(
            x, self.normalized_shape, self.weight, self.bias, self.eps
        )
        return x.permute(0, 3, 1, 2)
''',
    # Huang et al. 2016, with torchvision.ops.StochasticDepth's arguments and its one draw
    # per sample ("row") or per batch ("batch"), so a seeded run drops the same samples.
    "StochasticDepth": '''
class StochasticDepth(nn.Module):
    """While training, zero the input with probability p, per sample ("row") or for the
    whole batch ("batch"), and scale what is kept by 1 / (1 - p); the identity in eval mode."""

    def __init__(self, p, mode):
        super().__init__()
        self.p = p
        self.mode = mode

    def forward(self, x):
        if not self.training or self.p == 0.0:
            return x
        keep = 1.0 - self.p
        size = [x.shape[0]] + [1] * (x.ndim - 1) if self.mode == "row" else [1] * x.ndim
        noise = torch.empty(size, dtype=x.dtype, device=x.device).bernoulli_(keep)
        if keep > 0.0:
            noise.div_(keep)
        return x * noise

    def extra_repr(self):
        return f"p={self.p}, mode={self.mode}"
''',
}


def helper_source(names: list[str]) -> str:
    """The class statements for ``names``, in the order given, separated as a file wants them."""
    return "\n\n".join(HELPERS[name].strip() + "\n" for name in names)


@cache
def helper_namespace(names: tuple[str, ...]) -> dict[str, Any]:
    """A namespace with ``torch``, ``nn`` and the helper classes ``names`` defined in it."""
    import torch
    import torch.nn as nn

    namespace: dict[str, Any] = {"__name__": "designer.graph.helpers.compiled", "torch": torch, "nn": nn}
    if names:
        source = helper_source(list(names))
        filename = f"<designer helpers: {' '.join(names)}>"
        # Registered so that inspect finds the source, as helper_of reads it.
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        exec(compile(source, filename, "exec"), namespace)
    return namespace


def helper_of(cls: type) -> str | None:
    """Which helper ``cls`` is, as an exported file or the compiler defines it, or None.

    The class must have the helper's name, bases and methods, statement for statement
    (compared as syntax trees, so where it was written does not matter): an edited
    copy computes something else and is not the block.
    """
    name = cls.__name__
    if name not in HELPERS:
        return None
    reference = helper_namespace((name,))[name]
    if cls.__bases__ != reference.__bases__:
        return None
    (statement,) = ast.parse(HELPERS[name]).body
    assert isinstance(statement, ast.ClassDef)
    wanted = {f.name: ast.dump(f) for f in statement.body if isinstance(f, ast.FunctionDef)}
    try:
        found = {key: ast.dump(ast.parse(textwrap.dedent(inspect.getsource(value))).body[0])
                 for key, value in vars(cls).items() if isinstance(value, types.FunctionType)}
    except (OSError, TypeError, SyntaxError):
        return None  # no source to compare: not known to be the helper
    return name if found == wanted else None
