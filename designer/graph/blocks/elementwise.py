"""(being written)"""

from __future__ import annotations

from designer.graph.spec import BlockSpec

SPECS: tuple[BlockSpec, ...] = ()
