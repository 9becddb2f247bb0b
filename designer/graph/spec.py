"""The declarative description of a block type: one :class:`BlockSpec` each.

A spec says everything the rest of the program needs to know about a block:
its ports, its parameter schema, how its output shape follows from its inputs
(and the formula that shows it), what it costs, and which ``torch.nn`` module
implements it. Adding a block type is adding one spec to the registry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from designer.graph.errors import ParamError
from designer.graph.params import Param

Shape = tuple[int, ...]
Params = Mapping[str, Any]
ShapeRule = Callable[[Sequence[Shape], Params], Shape]
FormulaRule = Callable[[Sequence[Shape], Shape, Params], str]
CostRule = Callable[[Sequence[Shape], Shape, Params], int]
# Kernel extent and stride of one window along (height, width), in the
# input's pixels; None means the block sees its whole input (Linear).
Window = tuple[int, int, int, int]
WindowRule = Callable[[Sequence[Shape], Params], Window | None]


@dataclass(frozen=True)
class ModuleCall:
    """A ``torch.nn`` constructor call: ``nn.<cls>(*args, **kwargs)``."""

    cls: str
    args: tuple[Any, ...] = ()
    kwargs: tuple[tuple[str, Any], ...] = ()

    def source(self, prefix: str = "nn.") -> str:
        parts = [_literal(a) for a in self.args]
        parts += [f"{key}={_literal(value)}" for key, value in self.kwargs]
        return f"{prefix}{self.cls}({', '.join(parts)})"


def _literal(value: Any) -> str:
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, tuple):
        return "(" + ", ".join(_literal(v) for v in value) + ")"
    return repr(value)


ModuleRule = Callable[[Sequence[Shape], Params], ModuleCall]


def _identity_window(inputs: Sequence[Shape], params: Params) -> Window:
    return (1, 1, 1, 1)


def _no_cost(inputs: Sequence[Shape], output: Shape, params: Params) -> int:
    return 0


@dataclass(frozen=True)
class BlockSpec:
    """Everything about one block type.

    ``max_inputs`` None means any number of inputs (merges). ``input_ranks``
    lists the per-sample ranks an input may have (None: any), so a connection
    can be refused before the shapes run. ``module`` None means the block is
    not a module but an expression (``Add``, ``Concat``) or the graph input.
    """

    type: str
    category: str
    help: str
    params: tuple[Param, ...]
    shape: ShapeRule
    formula: FormulaRule | None = None
    min_inputs: int = 1
    max_inputs: int | None = 1
    input_ranks: frozenset[int] | None = None
    rank_hint: str = ""
    module: ModuleRule | None = None
    param_count: CostRule = _no_cost
    macs: CostRule = _no_cost
    window: WindowRule = _identity_window
    label: Callable[[Params], str] | None = None
    prefix: str = ""
    schema: Mapping[str, Param] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "schema", {p.name: p for p in self.params})

    @property
    def name_prefix(self) -> str:
        """Stem of default node names: ``conv`` gives conv1, conv2, ..."""
        return self.prefix or self.type.lower()

    @property
    def is_input(self) -> bool:
        return self.max_inputs == 0

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    def coerce_params(self, values: Mapping[str, Any], base: Params | None = None) -> dict[str, Any]:
        """Validate ``values`` over ``base`` (or the defaults) and return the full dict."""
        result = dict(base) if base is not None else self.defaults()
        for key, value in values.items():
            param = self.schema.get(key)
            if param is None:
                known = ", ".join(self.schema) or "none"
                raise ParamError(key, f"{self.type} has no parameter {key!r} (it has: {known})")
            result[key] = param.coerce(value)
        return result

    def to_json(self, params: Params) -> dict[str, Any]:
        """The parameters that differ from the defaults, as JSON values."""
        return {
            p.name: p.to_json(params[p.name])
            for p in self.params
            if params[p.name] != p.default or p.kind == "shape"
        }

    def accepts_inputs(self, count: int) -> bool:
        return count >= self.min_inputs and (self.max_inputs is None or count <= self.max_inputs)

    def accepts_rank(self, rank: int) -> bool:
        """Whether an input of per-sample rank ``rank`` may feed this block."""
        return self.input_ranks is None or rank in self.input_ranks

    def could_take(self, shape: Shape | None) -> bool:
        """Whether a new block of this type, with no inputs yet, could take ``shape`` (None: unknown).

        It is what ``Graph.check_connect`` decides for such a block, so a
        list of blocks to add after a source can be filtered before one exists.
        """
        return not self.is_input and (shape is None or self.accepts_rank(len(shape)))
