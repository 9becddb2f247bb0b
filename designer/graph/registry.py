"""The registry of block types, by name."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from designer.graph.blocks import (
    activations,
    conv,
    dense,
    elementwise,
    io,
    merge,
    norm,
    pool,
    reshape,
    transformer,
)
from designer.graph.errors import UnknownBlockError
from designer.graph.spec import BlockSpec

CATEGORIES = (
    "Input", "Convolution", "Pooling", "Normalization", "Activation", "Regularization",
    "Shape", "Linear", "Attention", "Merge", "Output",
)


class Registry(Mapping[str, BlockSpec]):
    """Block specs by type name; a test can build a small one of its own."""

    def __init__(self, specs: Iterable[BlockSpec]) -> None:
        self._specs: dict[str, BlockSpec] = {}
        for spec in specs:
            if spec.type in self._specs:
                raise ValueError(f"block type {spec.type!r} registered twice")
            self._specs[spec.type] = spec

    def __getitem__(self, name: str) -> BlockSpec:
        try:
            return self._specs[name]
        except KeyError:
            raise UnknownBlockError(f"unknown block type {name!r}") from None

    def __contains__(self, name: object) -> bool:
        # Mapping's default goes through __getitem__, whose error is not a KeyError.
        return name in self._specs

    def __iter__(self) -> Iterator[str]:
        return iter(self._specs)

    def __len__(self) -> int:
        return len(self._specs)

    def by_category(self) -> dict[str, list[BlockSpec]]:
        groups: dict[str, list[BlockSpec]] = {c: [] for c in CATEGORIES}
        for spec in self._specs.values():
            groups.setdefault(spec.category, []).append(spec)
        return {c: specs for c, specs in groups.items() if specs}


REGISTRY = Registry(
    spec
    for module in (io, conv, pool, norm, activations, elementwise, dense, reshape, transformer, merge)
    for spec in module.SPECS
)
