"""Classes a block needs that ``torch.nn`` does not have, as source text.

The exported model file must import only torch, so a block such as
StochasticDepth cannot come from torchvision: its class is written into the file,
from the source here, and the compiler executes the same source, so the compiled
module and the exported file run the same code. Each entry is a class statement
that uses only ``torch`` and ``nn`` (``nn.functional`` for functions), the file's two imports.
"""

from __future__ import annotations

from functools import cache
from typing import Any

HELPERS: dict[str, str] = {}


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
        exec(compile(helper_source(list(names)), "<designer helpers>", "exec"), namespace)
    return namespace
