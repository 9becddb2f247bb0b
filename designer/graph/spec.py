"""The declarative description of a block type: one :class:`BlockSpec` each.

A spec says everything the rest of the program needs to know about a block:
its ports, its parameter schema, how its output shape follows from its inputs
(and the formula that shows it), what it costs, which ``torch.nn`` module (or
helper class, or ``nn.Parameter``) implements it, how its line of ``forward``
is written, and which torch modules, functions and methods are this block when
a model is imported. Compiling, the exported Python file and the importer all
read these; adding a block type is adding one spec to the registry.

Everything here is plain data and pure functions: torch objects are named by
their qualified names (``"torch.nn.functional.relu"``), resolved by the
importer, so ``designer.graph`` imports without torch.
"""

from __future__ import annotations

import json
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
    """What a block holds, as the constructor call that makes it.

    ``nn.<cls>(*args, **kwargs)`` by default; with ``helper`` the class is one of
    :mod:`designer.graph.helpers` (written into the exported file), and ``text``
    gives the whole expression where a call is not enough
    (``nn.Parameter(torch.zeros(1, 1, 768))``). The compiler evaluates this same
    text, so the compiled module and the exported file build the same layers.
    """

    cls: str
    args: tuple[Any, ...] = ()
    kwargs: tuple[tuple[str, Any], ...] = ()
    helper: bool = False
    text: str | None = None
    parameter: bool = False  # ``text`` makes an nn.Parameter, an attribute of the model rather than a module

    def source(self) -> str:
        if self.text is not None:
            return self.text
        parts = [_literal(a) for a in self.args]
        parts += [f"{key}={_literal(value)}" for key, value in self.kwargs]
        return f"{'' if self.helper else 'nn.'}{self.cls}({', '.join(parts)})"


def _literal(value: Any) -> str:
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):  # double quotes, as ruff format writes them; JSON escapes are Python's too
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, tuple):
        return "(" + ", ".join(_literal(v) for v in value) + ")"
    return repr(value)


ModuleRule = Callable[[Sequence[Shape], Params], ModuleCall]


@dataclass(frozen=True)
class Arg:
    """One input of a forward line: the identifier holding it, and whether it has the batch axis.

    A Parameter block's value has none (it broadcasts), which a concatenation must expand.
    """

    ident: str
    batched: bool = True
    rank: int = 0  # axes of one sample


# (inputs in port order, params, how the block's own layer is reached) -> the right-hand side.
ForwardRule = Callable[[Sequence[Arg], Params, str], str]


def call_layer(args: Sequence[Arg], params: Params, layer: str) -> str:
    """The forward line of a module block: ``self.conv1(x)``."""
    return f"{layer}({args[0].ident})"


def layer_value(args: Sequence[Arg], params: Params, layer: str) -> str:
    """The forward line of a block that is a learned tensor: ``self.class_token``."""
    return layer


# -- how imported code maps to a block -------------------------------------------------

REQUIRED = object()  # an argument without a default in an import signature


class _Batch:
    """The batch size where imported code computes it (``x.size(0)``), as an import rule sees it."""

    def __repr__(self) -> str:
        return "batch"


BATCH = _Batch()


class _Input:
    """In ``FromModule.call``: the argument is the block's own input again (attention's ``x, x, x``)."""

    def __repr__(self) -> str:
        return "the input"


INPUT = _Input()


class Refused(Exception):
    """Raised by an import rule: this call is not the block; the message says why, for the user."""


@dataclass(frozen=True)
class CallSite:
    """An imported call, in plain values, for a block's own import rule to read.

    ``arguments`` holds the call's arguments after its tensors, bound to the rule's
    signature by name, with sizes the code computes replaced by their values
    (``BATCH`` for the batch size); ``inputs`` the shapes of its tensors and
    ``output`` the shape of its result, all as torch has them: with the batch
    axis first, except for a learned tensor, which ``batched`` marks False.
    """

    arguments: Mapping[str, Any]
    inputs: tuple[Shape, ...]
    output: Shape
    batched: tuple[bool, ...] = ()
    item: int | None = None  # for a rule with ``item``: which item of the returned tuple this block is


# CallSite -> the block's parameters (as a file would give them); None when the call changes
# nothing (dropout with training=False) and its input goes on as it is; Refused when it is not the block.
ReadRule = Callable[[CallSite], dict[str, Any] | None]


@dataclass(frozen=True)
class FromModule:
    """An ``nn.Module`` class whose instances are this block (``"Conv2d"`` is ``torch.nn.Conv2d``).

    By default the block's parameters are the module's attributes of the same
    names (``bias`` is whether it has one); ``fixed`` lists attributes the block
    cannot express unless they hold that value; ``read`` replaces the default.
    ``call`` names the arguments the module is called with after its input,
    with the only values they may take (``need_weights=False``; ``INPUT`` for the
    block's input again).
    """

    cls: str
    fixed: tuple[tuple[str, Any], ...] = ()
    read: Callable[[Any, CallSite], dict[str, Any] | None] | None = None
    call: tuple[tuple[str, Any], ...] = ()
    output_item: int | None = None  # the module returns a tuple; the block is this item of it


@dataclass(frozen=True)
class FromCall:
    """A function (``"torch.nn.functional.relu"``) or ``Tensor`` method (``"Tensor.relu"``) that is this block.

    ``tensors`` is how many leading arguments are the block's inputs (``None``:
    a list of them, as ``torch.cat`` takes); ``signature`` the arguments after
    them with their defaults, ``REQUIRED`` for none; a name starting with ``*``
    takes the rest of the positional arguments as a tuple (``x.view(*shape)``,
    or the one tuple given). With ``item`` the call returns a tuple and the block is one
    of its items (``x.chunk(2, dim=1)[0]``): one block per item used, each read with
    ``CallSite.item``. Arguments named like a block
    parameter are carried over, ``fixed`` ones must keep their value and the rest
    (``inplace``) change nothing; ``read`` replaces that with the block's own rule.
    """

    target: str
    signature: tuple[tuple[str, Any], ...] = ()
    fixed: tuple[tuple[str, Any], ...] = ()
    tensors: int | None = 1
    read: ReadRule | None = None
    item: bool = False


@dataclass(frozen=True)
class FromAttribute:
    """A learned tensor the model holds and uses directly (``self.class_token``), as this block.

    ``read`` gives the block's parameters from the tensor's shape; its value becomes
    the block's weight. Such a value has no batch axis: it broadcasts.
    """

    read: Callable[[Shape], dict[str, Any]]


ImportRule = FromModule | FromCall | FromAttribute


def _identity_window(inputs: Sequence[Shape], params: Params) -> Window:
    return (1, 1, 1, 1)


def _no_cost(inputs: Sequence[Shape], output: Shape, params: Params) -> int:
    return 0


@dataclass(frozen=True)
class BlockSpec:
    """Everything about one block type.

    ``max_inputs`` None means any number of inputs (merges). ``input_ranks``
    lists the per-sample ranks an input may have (None: any), so a connection
    can be refused before the shapes run. ``module`` None means the block holds
    nothing: its ``forward`` is an expression (``Add``, ``Concat``) or it is the
    graph input. ``helpers`` names what the exported file must define for it
    (:mod:`designer.graph.helpers`); ``imports`` what imported code it stands for.
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
    forward: ForwardRule = call_layer
    helpers: tuple[str, ...] = ()
    imports: tuple[ImportRule, ...] = ()
    aliases: tuple[str, ...] = ()  # what people also call it, for search: "swish" for SiLU
    is_input: bool = False
    batched: bool = True  # False: the output has no batch axis (a learned tensor), it broadcasts
    schema: Mapping[str, Param] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "schema", {p.name: p for p in self.params})

    @property
    def name_prefix(self) -> str:
        """Stem of default node names: ``conv`` gives conv1, conv2, ..."""
        return self.prefix or self.type.lower()

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
        return self.max_inputs != 0 and (shape is None or self.accepts_rank(len(shape)))
