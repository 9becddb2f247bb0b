"""Imports a PyTorch model into a graph: trace it, map every op to a block.

:func:`load_model` (from :mod:`designer.graph.model_loader`) turns
``path/to/file.py:Class`` or ``package.module:Class`` into an instance.
:func:`import_model` traces it with ``torch.fx``, runs it once on zeros to learn
the real shape of every op, maps modules, functions, methods and learned tensors
to blocks with their hyperparameters, checks each inferred shape against the real
one, and returns the laid-out graph with the model's weights keyed for
``graph.to_torch()``.

Which torch code is which block is not written here: every block's spec lists it
(``FromModule``, ``FromCall``, ``FromAttribute`` in :mod:`designer.graph.spec`), and
this module is the engine that reads those rules. A call that returns a tuple
(``x.chunk(2, dim=1)``) is mapped item by item, each item the model uses by the
rule with ``item``. Its own rules cover only what is no block:
sizes and what is computed from them (``x.size(0)``, ``h // p``, ``x.dim() == 3``),
followed for the blocks that read them, the checks on them (``torch._assert``),
dropped, and a learned tensor spread over the batch. A few patterns of several
ops are one block as drawn: ``a + b + c`` one Add, ShuffleNet's view, transpose,
view one ChannelShuffle.

Whatever has no block is listed, all at once, in one :class:`ModelImportError`
grouped by kind (:mod:`designer.graph.import_problems`): nothing is dropped. The
only ops left out are the ones that change nothing: ``contiguous()``, a dropout
traced with ``training=False``, sizes and the checks on them.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeGuard

from designer.graph import import_rules, import_trace
from designer.graph.errors import GraphError, ParamError
from designer.graph.graph import Graph
from designer.graph.import_groups import add_module_groups
from designer.graph.import_problems import Problem, code, kind, listing, place
from designer.graph.layout import apply_layout
from designer.graph.model_loader import ModelImportError, load_model, one_line
from designer.graph.registry import REGISTRY
from designer.graph.shapes import fmt_shape
from designer.graph.spec import (
    BATCH,
    INPUT,
    REQUIRED,
    BlockSpec,
    CallSite,
    FromCall,
    FromModule,
    Refused,
    Shape,
)

if TYPE_CHECKING:
    import torch
    from torch import fx, nn

__all__ = ["Imported", "ModelImportError", "import_model", "load_model"]


@dataclass
class Imported:
    """The imported graph, and the model's weights keyed like ``graph.to_torch().state_dict()``."""

    graph: Graph
    state_dict: dict[str, torch.Tensor]


# -- tracing and running --------------------------------------------------------


def import_model(model: nn.Module, input_shape: Sequence[int], name: str = "imported") -> Imported:
    """The graph computing what ``model`` computes on inputs of ``input_shape`` (no batch axis).

    The model is traced in the mode it is in: a fresh one is training, so
    ``F.dropout(x, training=self.training)`` becomes a Dropout block. Weights are copied.
    """
    shape = import_trace.input_shape(input_shape)
    label = type(model).__name__
    traced = import_trace.trace(model, label)
    context = _Context(traced, *import_trace.run(model, traced, shape, label), shape)
    import_trace.check_one_result(model, traced, label)
    ops, returned = _map_graph(context)
    graph = _build(ops, name, label)
    _check(graph, ops, returned, context, label)
    add_module_groups(graph, {op.name: op.node for op in ops if op.node is not None})
    apply_layout(graph)
    return Imported(graph, _weights(graph, ops))


# -- mapping ops to blocks --------------------------------------------------------


class _Unmappable(Exception):
    """An op with no block; the message is the reason shown after where it is (empty: it has no rule)."""


@dataclass
class _Op:
    """A block to create: type, parameters, the fx nodes feeding it and its weights."""

    type: str
    params: dict[str, Any]
    inputs: list[fx.Node]
    weights: dict[str, torch.Tensor] = field(default_factory=dict)
    name: str = ""
    sources: list[str | None] = field(default_factory=list)
    node: fx.Node | None = None
    shape_node: fx.Node | None = None  # where the real output shape is, when not ``node`` (a tuple's item)


@dataclass
class _Context:
    traced: fx.GraphModule
    shapes: dict[fx.Node, Shape | None]
    numbers: dict[fx.Node, Any]  # ints, and tuples of them for sizes
    tuples: dict[fx.Node, int]
    input_shape: Shape
    has_input: bool = False
    constants: set[fx.Node] = field(default_factory=set)  # specialised arguments and their checks
    helpers: set[fx.Node] = field(default_factory=set)  # x.size(), x.shape, items and products of them
    calls: dict[str, int] = field(default_factory=dict)  # calls so far, by module path
    items: dict[fx.Node, fx.Node] = field(default_factory=dict)  # getitem of a tuple a block stands for
    parts: dict[fx.Node, tuple[fx.Node, int]] = field(default_factory=dict)  # getitem -> (call, index)
    passes: dict[fx.Node, fx.Node] = field(default_factory=dict)  # nodes that pass a value on (contiguous)
    failed: set[fx.Node] = field(default_factory=set)  # nodes reported as unmappable
    unbatched: set[fx.Node] = field(default_factory=set)  # values without the batch axis (learned tensors)

    def batched(self, node: fx.Node) -> bool:
        return node not in self.unbatched


_SKIP = object()  # a node that becomes no block and feeds none
Mapped = Any  # an _Op, an fx.Node whose value this node passes on unchanged, or _SKIP


def _map_graph(context: _Context) -> tuple[list[_Op], Any]:
    """The ops in execution order and the block names the model returns."""
    values: dict[fx.Node, str | None] = {}
    ops: list[_Op] = []
    problems: list[Problem] = []
    taken: set[str] = set()
    returned: Any = None
    for node in context.traced.graph.nodes:
        if node.op == "output":
            returned = _returned(node.args[0], values)
            continue
        try:
            mapped = _map_node(node, context)
        except _Unmappable as exc:
            context.failed.add(node)
            if not _item_of_failed(node, context):
                problems.append(_problem(node, context, str(exc)))
            continue
        if isinstance(mapped, _Op):
            mapped.node = node
            mapped.sources = [values.get(source) for source in mapped.inputs]
            for fold in (_fold_sum, _fold_shuffle):
                fold(mapped, ops, context)
            _record(mapped, node, context, values, taken)
            ops.append(mapped)
        elif mapped is not _SKIP:
            values[node] = values.get(mapped)
            context.passes[node] = mapped
            if not context.batched(mapped):
                context.unbatched.add(node)
    if problems:
        raise ModelImportError(listing(problems))
    return ops, returned


def _item_of_failed(node: fx.Node, context: _Context) -> bool:
    """An item of what an op already reported returns (``pool(x)[0]``): that op is the one to fix."""
    return node.op == "call_function" and node.target is operator.getitem and \
        bool(node.args) and node.args[0] in context.failed


def _fold_sum(op: _Op, ops: list[_Op], context: _Context) -> None:
    """``a + b + c`` is one Add of three, as drawn (Python adds two at a time, in the same order)."""
    inner = _feeding(op, ops, context, "Add") if op.type == "Add" else None
    if inner is None:
        return
    ops.remove(inner)
    op.inputs = [*inner.inputs, *op.inputs[1:]]
    op.sources = [*inner.sources, *op.sources[1:]]


def _fold_shuffle(op: _Op, ops: list[_Op], context: _Context) -> None:
    """``view(n, g, c // g, h, w)``, ``transpose(1, 2)``, ``view(n, c, h, w)`` is ShuffleNet's channel
    shuffle, drawn as one ChannelShuffle; the same ops in any other pattern stay separate blocks."""
    swap = _feeding(op, ops, context, "Transpose", "Permute") if op.type == "Reshape" else None
    grouped = _feeding(swap, ops, context, "Reshape") if swap is not None else None
    if swap is None or grouped is None or grouped.node is None or swap.node is None:
        return
    before, split = context.shapes[grouped.inputs[0]], context.shapes[grouped.node]
    after = context.shapes[op.node] if op.node is not None else None
    if before is None or split is None or len(split) != len(before) + 1 or after != before \
            or split[1] * split[2] != before[1] or split[3:] != before[2:] \
            or not _swaps_1_and_2(swap, len(split)):
        return
    for inner in (swap, grouped):
        ops.remove(inner)
    op.type, op.params, op.name = "ChannelShuffle", {"groups": split[1]}, "channel_shuffle"
    op.inputs, op.sources = grouped.inputs, grouped.sources


def _swaps_1_and_2(op: _Op, rank: int) -> bool:
    if op.type == "Transpose":
        return {op.params["dim0"] % rank, op.params["dim1"] % rank} == {1, 2}
    return [d % rank for d in op.params["dims"]] == [0, 2, 1, *range(3, rank)]


def _feeding(op: _Op, ops: list[_Op], context: _Context, *types: str) -> _Op | None:
    """The op of one of ``types`` whose value is ``op``'s first input and goes nowhere else."""
    inner = next((o for o in reversed(ops) if o.name == op.sources[0]), None) if op.sources else None
    if inner is None or inner.type not in types or inner.node is None or op.node is None:
        return None
    node = inner.node
    while node is not op.node:  # through ops that pass the value on as it is (contiguous)
        users = list(node.users)
        if len(users) != 1 or (users[0] is not op.node and users[0] not in context.passes):
            return None
        node = users[0]
    return inner


def _returned(value: Any, values: dict[fx.Node, str | None]) -> list[str | None] | None:
    if _is_node(value):
        return [values.get(value)]
    if isinstance(value, (tuple, list)) and all(_is_node(v) for v in value):
        return [values.get(v) for v in value]
    return None


def _record(op: _Op, node: fx.Node, context: _Context, values: dict[fx.Node, str | None],
            taken: set[str]) -> None:
    base = op.name or node.name
    op.name = next(n for n in itertools.chain([base], (f"{base}_{i}" for i in itertools.count(1)))
                   if n not in taken)
    taken.add(op.name)
    values[node] = op.name
    if op.inputs and import_trace.in_place(node, context.traced):
        values[op.inputs[0]] = op.name  # whoever reads the input later reads what was written


def _map_node(node: fx.Node, context: _Context) -> Mapped:
    if node.op == "placeholder":
        return _placeholder(node, context)
    if node in context.items:
        return context.items[node]  # the item of a module's tuple that the module's block stands for
    if node in context.parts:
        call, index = context.parts[node]  # an item of a call's tuple: the block of that item
        return _finish(_by_rules(call, context, (index, node)), node, context)
    if node.op == "get_attr":
        return _attribute(node, context)
    if context.shapes[node] is None and all(n in context.constants for n in node.all_input_nodes):
        context.constants.add(node)  # checks that a specialised argument kept its value
        return _SKIP
    if node in context.tuples and node.op != "call_module":
        return _tuple_call(node, context)
    if node.op == "call_method" and node.target == "expand":
        try:
            return _expand(node, context)
        except Refused as exc:
            raise _Unmappable(str(exc)) from None
    if node.op != "call_module" and import_rules.call_key(node) in _SIZE_OPS:
        try:
            return _size_op(node, context)
        except Refused:
            pass  # not arithmetic on sizes: perhaps a block's (x * gate)
    return _finish(_by_rules(node, context), node, context)


def _tuple_call(node: fx.Node, context: _Context) -> Mapped:
    """``x.chunk(2, dim=1)``: each item the model takes (``a, b = ...``) becomes that item's own block."""
    indices = [u.args[1] if u.op == "call_function" and u.target is operator.getitem and len(u.args) == 2
               else None for u in node.users]
    if not all(isinstance(i, int) for i in indices):
        raise _Unmappable("what it returns is used whole; only its items, taken one by one "
                          "(a, b = x.chunk(2, dim=1)), can be drawn")
    for user, index in zip(node.users, indices):
        assert isinstance(index, int)
        context.parts[user] = (node, index % context.tuples[node])
    return _SKIP


def _placeholder(node: fx.Node, context: _Context) -> Mapped:
    if not context.has_input:
        context.has_input = True
        name = str(node.target).rstrip("_") or "input"
        return _Op("Input", {"shape": list(context.input_shape)}, [], name=name)
    if node.args or str(node.target).startswith("*"):
        context.constants.add(node)  # a default the trace specialised to, or empty *args
        return _SKIP
    raise _Unmappable("a second input")


def _finish(op: Mapped, node: fx.Node, context: _Context) -> Mapped:
    """Put the carried values in the block's terms and check the block can hold them."""
    if not isinstance(op, _Op):
        return op
    spec = REGISTRY[op.type]
    for key, value in op.params.items():
        if key in spec.schema and spec.schema[key].kind == "pair":
            op.params[key] = _pair(value)
    try:
        op.params = spec.coerce_params(op.params)
    except ParamError as exc:
        raise _Unmappable(str(exc)) from None
    return op


def _pair(value: Any) -> Any:
    """One number for equal sides, as people write it; an empty stride means the kernel's."""
    if not isinstance(value, (list, tuple)):
        return value
    if not value:
        return None
    return value[0] if len(value) == 1 or (len(value) == 2 and value[0] == value[1]) else tuple(value)


def _tensor_arg(node: fx.Node, context: _Context) -> fx.Node:
    value = node.args[0] if node.args else None
    if not _is_node(value) or context.shapes.get(value) is None:
        raise Refused("it does not take a tensor")
    return value


def _is_node(value: Any) -> TypeGuard[fx.Node]:
    import torch.fx as fx

    return isinstance(value, fx.Node)


def _is_tensor(value: Any, context: _Context) -> TypeGuard[fx.Node]:
    return _is_node(value) and context.shapes.get(value) is not None


def _by_rules(node: fx.Node, context: _Context, item: tuple[int, fx.Node] | None = None) -> Mapped:
    """The first block whose import rule takes this node (or this ``item`` of what it returns: its
    index and the node that takes it); else the reason the last rule gave.

    Rules claiming one call come from the most particular to the most general (Flatten's
    ``x.view(n, -1)`` before Reshape's), so the last speaks to the code as written.
    """
    if node.op == "call_module":
        module = context.traced.get_submodule(str(node.target))
        candidates: list[Any] = import_rules.module_rules(type(module))
    else:
        candidates = import_rules.rules().calls.get(import_rules.call_key(node), [])
    if not candidates:
        raise _Unmappable("")
    reasons, unbound = [], []
    for spec, rule in candidates:
        try:
            if isinstance(rule, FromModule):
                return _from_module(spec, rule, node, context)
            return _from_call(spec, rule, node, context, item)
        except _Unbound as exc:
            unbound.append(str(exc))
        except Refused as exc:
            reasons.append(str(exc))
    # A rule the call's arguments fit speaks to it better than one they did not even bind to.
    raise _Unmappable((reasons or unbound)[-1])


class _Unbound(Refused):
    """The call's arguments do not fit the rule (a number where it takes a tensor, one too many)."""


def _attribute(node: fx.Node, context: _Context) -> Mapped:
    """A learned tensor used directly (a class token): the block that holds one, without the batch axis."""
    import torch.nn as nn

    value = context.traced
    for part in str(node.target).split("."):
        value = getattr(value, part)
    if not isinstance(value, nn.Parameter) or not import_rules.rules().attributes:
        raise _Unmappable("a buffer used directly; only layers and learned tensors can be imported")
    spec, rule = import_rules.rules().attributes[0]
    context.unbatched.add(node)
    try:
        params = rule.read(tuple(value.shape))
    except Refused as exc:
        raise _Unmappable(str(exc)) from None
    return _Op(spec.type, params, [], {"": value}, name=str(node.target))


def _expand(node: fx.Node, context: _Context) -> Mapped:
    """``token.expand(x.shape[0], -1, -1)``: a learned tensor spread over the batch, as a Concat does itself."""
    x = node.args[0] if node.args else None
    sizes = _bind(node, node.args[1:], node.kwargs, (("*size", ()),), context)["size"]
    if not _is_node(x) or context.batched(x) or not sizes or sizes[0] is not BATCH \
            or any(s not in (-1, d) for s, d in zip(sizes[1:], (context.shapes[x] or ())[1:])):
        raise Refused("only a learned tensor spread over the batch (expand(batch, -1, …)) can be drawn")
    return x


def _from_module(spec: BlockSpec, rule: FromModule, node: fx.Node, context: _Context) -> Mapped:
    target = str(node.target)
    module = context.traced.get_submodule(target)
    count = context.calls[target] = context.calls.get(target, 0) + 1
    x = _tensor_arg(node, context)
    expected = tuple((key, x) if value is INPUT else (key, value) for key, value in rule.call)
    if node.args[1:] + tuple(node.kwargs.items()) != _call_values(node, expected):
        raise Refused("called with more than its input")
    state = module.state_dict()
    if count > 1 and state:
        raise Refused("called a second time, but blocks cannot share weights")
    for key, wanted in rule.fixed:
        if getattr(module, key) != wanted:
            raise Refused(f"{key}={getattr(module, key)!r} has no block parameter")
    site = CallSite({}, (context.shapes[x] or (),), _output_shape(node, rule.output_item, context),
                    (context.batched(x),))
    params = rule.read(module, site) if rule.read is not None else {
        key: module.bias is not None if key == "bias" else getattr(module, key) for key in spec.schema}
    if params is None:
        return x
    name = target if count == 1 else f"{target}_{count - 1}"
    shape_node = next(iter(node.users)) if rule.output_item is not None else None
    return _Op(spec.type, params, [x], dict(state), name=name, shape_node=shape_node)


def _call_values(node: fx.Node, expected: tuple[tuple[str, Any], ...]) -> tuple[Any, ...]:
    """What the call's extra arguments must be for ``expected``, written the way the node writes them."""
    positional = len(node.args) - 1
    values = [value for _, value in expected[:positional]]
    return (*values, *((key, value) for key, value in expected[positional:] if key in node.kwargs))


def _output_shape(node: fx.Node, item: int | None, context: _Context) -> Shape:
    if item is None:
        return context.shapes[node] or ()
    users = [u for u in node.users if u.op == "call_function" and u.target is operator.getitem
             and u.args[1:] == (item,)]
    if len(users) != len(node.users) or not users:
        raise Refused(f"only item {item} of what it returns can be used")
    for user in users:
        context.items[user] = node
    return context.shapes[users[0]] or ()


def _from_call(spec: BlockSpec, rule: FromCall, node: fx.Node, context: _Context,
               item: tuple[int, fx.Node] | None = None) -> Mapped:
    signature = rule.signature
    if rule.item != (item is not None):
        raise Refused("it returns several tensors" if item is not None else "its items are used as one")
    if rule.tensors is None:
        listed = node.args[0] if node.args else node.kwargs.get("tensors")
        if not isinstance(listed, (list, tuple)) or not listed:
            raise _Unbound("does not take a list of tensors")
        tensors, rest = list(listed), node.args[1:]
    else:
        tensors, rest = list(node.args[:rule.tensors]), node.args[rule.tensors:]
    if len(tensors) != (rule.tensors or len(tensors)) or not all(_is_tensor(t, context) for t in tensors):
        raise _Unbound("its inputs must be tensors the model computes")
    kwargs = {k: v for k, v in node.kwargs.items() if not (rule.tensors is None and k == "tensors")}
    bound = _bind(node, rest, kwargs, signature, context)
    for key, wanted in rule.fixed:
        if bound[key] != wanted:
            raise Refused(f"{key}={bound[key]!r} has no block parameter")
    result = item[1] if item is not None else node
    site = CallSite(bound, tuple(context.shapes[t] or () for t in tensors), context.shapes[result] or (),
                    tuple(context.batched(t) for t in tensors), item[0] if item is not None else None)
    params = rule.read(site) if rule.read is not None else {k: v for k, v in bound.items() if k in spec.schema}
    if params is None:
        return tensors[0]
    return _Op(spec.type, params, tensors, name=node.name if item is not None else "")


def _bind(node: fx.Node, args: Sequence[Any], kwargs: Mapping[str, Any],
          signature: tuple[tuple[str, Any], ...], context: _Context) -> dict[str, Any]:
    """The call's arguments by name, with sizes the code computes replaced by their values."""
    names = [name for name, _ in signature]
    bound = {name.lstrip("*"): value for name, value in signature}
    if names and names[-1].startswith("*"):
        star = names.pop().lstrip("*")
        fixed, extra = args[:len(names)], args[len(names):]
        one_tuple = len(extra) == 1 and isinstance(extra[0], (list, tuple))
        bound[star] = tuple(extra[0]) if one_tuple else tuple(extra)
        args = fixed
    if len(args) > len(names):
        raise _Unbound("it has more arguments than expected")
    bound.update(zip(names, args))
    for key, value in kwargs.items():
        if key not in bound:
            raise _Unbound(f"argument {key} has no block parameter")
        bound[key] = value
    for key, value in bound.items():
        if value is REQUIRED:
            raise Refused(f"it lacks {key}")
        bound[key] = _plain(value, key, context)
    return bound


def _plain(value: Any, key: str, context: _Context) -> Any:
    """A value as an import rule reads it: a size the code computes becomes its number (BATCH for the batch)."""
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v, key, context) for v in value)
    if isinstance(value, slice):
        return slice(*(_plain(v, key, context) for v in (value.start, value.stop, value.step)))
    if not _is_node(value):
        return value
    if _is_batch_size(value):
        return BATCH
    if value in context.helpers and value in context.numbers:
        return context.numbers[value]
    raise _Unbound(f"{key} is computed while the model runs")


def _size_op(node: fx.Node, context: _Context) -> Mapped:
    """Sizes and what is computed from them: ``x.size()``, ``x.shape``, ``x.dim()``, their items,
    arithmetic and comparisons. Their values are known from the run, for the blocks that read them
    (``x.view(n, c // g, ...)``); ``torch._assert`` on them is dropped: a check that held on that run."""
    key, source = import_rules.call_key(node), node.args[0] if node.args else None
    if key in ("torch._assert", "operator.getitem"):
        ok = _is_helper(source, context) or (key == "torch._assert" and isinstance(source, bool))
    elif key == "getattr":
        ok = _is_tensor(source, context) and node.args[1:] in (("shape",), ("ndim",))
    elif key.startswith("Tensor."):
        ok = _is_tensor(source, context)
    else:
        ok = all(isinstance(a, (int, float)) or _is_helper(a, context) for a in node.args)
    if not ok:
        raise Refused(code(node))
    if key != "torch._assert":
        context.helpers.add(node)
    return _SKIP


# The importer's own rules, tried before the blocks': sizes and checks on them, which are no block.
_SIZE_OPS = frozenset({
    "getattr", "Tensor.size", "Tensor.dim", "Tensor.numel", "torch._assert", "operator.getitem",
    *(f"operator.{name}" for name in ("add", "sub", "mul", "floordiv", "mod", "eq", "ne", "lt", "le", "gt",
                                      "ge")),
})


def _is_batch_size(value: Any) -> bool:
    """Whether ``value`` is ``t.size(0)``, ``t.size()[0]`` or ``t.shape[0]``."""
    if not _is_node(value):
        return False
    if value.op == "call_method" and value.target == "size":
        return (value.args[1:], value.kwargs) in (((0,), {}), ((), {"dim": 0}))
    if value.op != "call_function" or value.target is not operator.getitem or value.args[1] != 0:
        return False
    whole = value.args[0]
    return _is_node(whole) and (
        (whole.op == "call_method" and whole.target == "size" and len(whole.args) == 1 and not whole.kwargs)
        or (whole.op == "call_function" and whole.target is getattr and whole.args[1:] == ("shape",)))


def _is_helper(value: Any, context: _Context) -> bool:
    return _is_node(value) and value in context.helpers


# -- describing what cannot be imported ---------------------------------------------


def _problem(node: fx.Node, context: _Context, reason: str) -> Problem:
    """What the op is, where, and why no block takes it; an item of a call's tuple is that call."""
    node = context.parts[node][0] if node in context.parts else node
    if node.op == "call_module":
        return Problem(type(context.traced.get_submodule(str(node.target))).__name__, str(node.target), reason)
    if node.op in ("call_function", "call_method"):
        return Problem(kind(node), place(node), reason, code(node))
    if node.op == "get_attr" and str(node.target).startswith("_tensor_constant"):
        # A tensor forward makes itself (torch.tensor(...)) has no name of its own: say where it is used.
        return Problem("tensor made in forward", f"used by {next(iter(node.users)).name}", reason)
    if node.op == "get_attr":
        return Problem("attribute", str(node.target), reason)
    return Problem("input" if node.op == "placeholder" else node.op, node.name, reason)


# -- building the graph -------------------------------------------------------------


def _build(ops: list[_Op], name: str, label: str) -> Graph:
    graph = Graph()
    graph.name = name
    graph.description = f"Imported from the PyTorch model {label}."
    problems: list[Problem] = []
    failed: set[str] = set()
    for op in ops:
        sources = [s for s in op.sources if s is not None]
        if len(sources) != len(op.sources) or failed.intersection(sources):
            failed.add(op.name)  # what feeds it was already reported
            continue
        try:
            graph.add_node(op.type, op.name, op.params)
            for port, source in enumerate(sources):
                graph.connect(source, op.name, port)
        except GraphError as exc:
            failed.add(op.name)
            problems.append(Problem(op.type, op.name, one_line(str(exc))))
    problems += [Problem(graph.node(node).type, node, message) for node, message in graph.errors() if node]
    if problems:
        raise ModelImportError(listing(problems))
    return graph


def _check(graph: Graph, ops: list[_Op], returned: list[str | None] | None, context: _Context,
           label: str) -> None:
    """Every block's inferred shape is the real one, and the graph returns what the model does."""
    for op in ops:
        assert op.node is not None
        if not context.batched(op.node):
            continue  # a learned tensor: its block's shape is the tensor's own, read from it
        real = (context.shapes[op.shape_node or op.node] or ())[1:]
        inferred = graph.result(op.name).shape
        if inferred != real:
            raise ModelImportError(f"{op.name}: the graph infers {fmt_shape(inferred or ())} but "
                                   f"{label} gives {fmt_shape(real)}")
    outputs = graph.outputs()
    if returned != outputs:
        said = ", ".join(str(n) for n in returned) if returned else "something other than tensors"
        raise ModelImportError(f"{label} returns {said}, but a graph returns the blocks nothing else uses, "
                               f"in order ({', '.join(outputs) or 'none'}): its outputs cannot be drawn")


def _weights(graph: Graph, ops: list[_Op]) -> dict[str, torch.Tensor]:
    from designer.graph.compile import plan

    idents = plan(graph).idents
    by_name = {op.name: op for op in ops}
    return {f"{idents[name]}.{key}".rstrip("."): value.detach().cpu().clone()
            for name in graph.topological_order() for key, value in by_name[name].weights.items()}
