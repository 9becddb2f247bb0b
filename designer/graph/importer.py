"""Imports a PyTorch model into a graph: trace it, map every op to a block.

:func:`load_model` (from :mod:`designer.graph.model_loader`) turns
``path/to/file.py:Class`` or ``package.module:Class`` into an instance.
:func:`import_model` traces it with ``torch.fx``, runs it once on zeros to learn
the real shape of every op, maps modules and functions to blocks with their
hyperparameters, checks each inferred shape against the real one, and returns
the laid-out graph with the model's weights keyed for ``graph.to_torch()``.

Whatever has no block is listed, all at once, in one :class:`ModelImportError`: nothing
is dropped. The only ops left out are the ones that change nothing: ``nn.Identity``,
``contiguous()``, a dropout traced with ``training=False`` and the ``x.size(0)`` that
only tells a ``view`` to keep the batch.
"""

from __future__ import annotations

import functools
import inspect
import itertools
import math
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeGuard

from designer.graph.errors import GraphError, ParamError
from designer.graph.graph import Graph
from designer.graph.layout import apply_layout
from designer.graph.model_loader import ModelImportError, exc_text, load_model, one_line
from designer.graph.registry import REGISTRY
from designer.graph.shapes import fmt_shape
from designer.graph.spec import Shape

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
    shape = _input_shape(input_shape)
    label = type(model).__name__
    traced = _trace(model, label)
    context = _Context(traced, *_run(model, traced, shape, label), shape)
    ops, returned = _map_graph(context)
    graph = _build(ops, name, label)
    _check(graph, ops, returned, context, label)
    apply_layout(graph)
    return Imported(graph, _weights(graph, ops))


def _input_shape(input_shape: Sequence[int]) -> Shape:
    param = REGISTRY["Input"].schema["shape"]
    try:
        shape: Shape = param.coerce(list(input_shape))
    except (ParamError, TypeError) as exc:
        reason = exc.reason if isinstance(exc, ParamError) else str(exc)
        raise ModelImportError(f"input shape {input_shape}: {reason}") from None
    return shape


def _trace(model: nn.Module, label: str) -> fx.GraphModule:
    import torch.fx as fx

    concrete = _defaults_after_input(model, label)
    try:
        traced = fx.symbolic_trace(model, concrete_args=concrete or None)
    except Exception as exc:
        raise ModelImportError(f"cannot trace {label}: {exc_text(exc)}; models with data-dependent "
                               "control flow cannot be imported") from None
    # An in-place op often has no users, yet later ops read what it wrote: keep it.
    traced.graph.eliminate_dead_code(is_impure_node=lambda n: n.is_impure() or _in_place(n, traced))
    traced.recompile()
    return traced


def _defaults_after_input(model: nn.Module, label: str) -> dict[str, Any]:
    """Values for forward's optional arguments: the trace specialises to them."""
    try:
        params = list(inspect.signature(model.forward).parameters.values())
    except (TypeError, ValueError):
        return {}
    named = [p for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    required = [p.name for p in named[1:] if p.default is p.empty]
    if required:
        names = ", ".join([named[0].name, *required])
        raise ModelImportError(f"{label}.forward takes {1 + len(required)} inputs ({names}); "
                               "only models with one input can be imported")
    return {p.name: p.default for p in named[1:]}


def _in_place(node: fx.Node, traced: fx.GraphModule) -> bool:
    if node.op == "call_module":
        return getattr(traced.get_submodule(str(node.target)), "inplace", False) is True
    if node.op not in ("call_function", "call_method"):
        return False
    name = str(node.target) if node.op == "call_method" else getattr(node.target, "__name__", "")
    return node.kwargs.get("inplace") is True or (name.endswith("_") and not name.endswith("__"))


def _run(model: nn.Module, traced: fx.GraphModule, shape: Shape,
         label: str) -> tuple[dict[fx.Node, Shape | None], dict[fx.Node, int]]:
    """The real output shape of every node (batch first), from one run on zeros in eval mode,
    and the value of every node that gives a number (``x.size(1)``).

    The batch is two: batch norm without running statistics refuses a batch of one.
    """
    import torch
    import torch.fx as fx

    first = next(itertools.chain(model.parameters(), model.buffers()), None)
    x = torch.zeros((2, *shape), device=first.device if first is not None else "cpu",
                    dtype=first.dtype if first is not None and first.is_floating_point() else torch.float32)
    interpreter = fx.Interpreter(traced)
    shapes: dict[fx.Node, Shape | None] = {}
    numbers: dict[fx.Node, int] = {}
    modes = {m: m.training for m in itertools.chain(model.modules(), traced.modules())}
    node = None
    try:
        traced.eval()
        with torch.no_grad():
            for node in traced.graph.nodes:
                value = _run_node(interpreter, node, x)
                interpreter.env[node] = value
                shapes[node] = tuple(value.shape) if isinstance(value, torch.Tensor) else None
                if isinstance(value, int):
                    numbers[node] = value
    except Exception as exc:
        at = f" at {node.name}" if node is not None else ""
        raise ModelImportError(f"{label} fails on a {fmt_shape(shape)} input{at}: {exc_text(exc)}; "
                               "check the input shape") from None
    finally:
        for module, training in modes.items():
            module.training = training
    return shapes, numbers


def _run_node(interpreter: fx.Interpreter, node: fx.Node, x: torch.Tensor) -> Any:
    if node.op == "placeholder":
        # The first argument is the input; the others were specialised to their defaults.
        return x if not interpreter.env else (node.args[0] if node.args else None)
    if node.op == "output":
        return None
    args, kwargs = interpreter.fetch_args_kwargs_from_env(node)
    return getattr(interpreter, node.op)(node.target, args, kwargs)


# -- mapping ops to blocks --------------------------------------------------------


class _Unmappable(Exception):
    """An op with no block; the message is the detail shown after its name."""


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


@dataclass
class _Context:
    traced: fx.GraphModule
    shapes: dict[fx.Node, Shape | None]
    numbers: dict[fx.Node, int]
    input_shape: Shape
    has_input: bool = False
    constants: set[fx.Node] = field(default_factory=set)  # specialised arguments and their checks
    helpers: set[fx.Node] = field(default_factory=set)  # x.size(), x.shape, items and products of them
    calls: dict[str, int] = field(default_factory=dict)  # calls so far, by module path


_SKIP = object()  # a node that becomes no block and feeds none
Mapped = Any  # an _Op, an fx.Node whose value this node passes on unchanged, or _SKIP
Rule = Callable[["fx.Node", _Context], Mapped]


def _map_graph(context: _Context) -> tuple[list[_Op], Any]:
    """The ops in execution order and the block names the model returns."""
    values: dict[fx.Node, str | None] = {}
    ops: list[_Op] = []
    problems: list[str] = []
    taken: set[str] = set()
    returned: Any = None
    for node in context.traced.graph.nodes:
        if node.op == "output":
            returned = _returned(node.args[0], values)
            continue
        try:
            mapped = _map_node(node, context)
        except _Unmappable as exc:
            problems.append(_problem(node, context, str(exc)))
            continue
        if isinstance(mapped, _Op):
            _record(mapped, node, context, values, taken)
            ops.append(mapped)
        elif mapped is not _SKIP:
            values[node] = values.get(mapped)
    if problems:
        raise ModelImportError(_listing(problems))
    return ops, returned


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
    op.node = node
    op.sources = [values.get(source) for source in op.inputs]
    values[node] = op.name
    if op.inputs and _in_place(node, context.traced):
        values[op.inputs[0]] = op.name  # whoever reads the input later reads what was written


def _listing(problems: list[str]) -> str:
    count = len(problems)
    return f"cannot import {count} operation{'s' if count != 1 else ''}: " + ", ".join(problems)


def _map_node(node: fx.Node, context: _Context) -> Mapped:
    if node.op == "placeholder":
        return _placeholder(node, context)
    if node.op == "get_attr":
        raise _Unmappable("a parameter or buffer used directly; only layers can be imported")
    if context.shapes[node] is None and all(n in context.constants for n in node.all_input_nodes):
        context.constants.add(node)  # checks that a specialised argument kept its value
        return _SKIP
    if node.op == "call_module":
        mapped = _module_op(node, context)
    else:
        functions, methods = _rules()
        rule = functions.get(node.target) if node.op == "call_function" else methods.get(str(node.target))
        if rule is None:
            raise _Unmappable("")
        mapped = rule(node, context)
    return _finish(mapped, node, context) if isinstance(mapped, _Op) else mapped


def _placeholder(node: fx.Node, context: _Context) -> Mapped:
    if not context.has_input:
        context.has_input = True
        name = str(node.target).rstrip("_") or "input"
        return _Op("Input", {"shape": list(context.input_shape)}, [], name=name)
    if node.args or str(node.target).startswith("*"):
        context.constants.add(node)  # a default the trace specialised to, or empty *args
        return _SKIP
    raise _Unmappable("a second input")


def _finish(op: _Op, node: fx.Node, context: _Context) -> _Op:
    """Put the carried values in the block's terms and check the block can hold them."""
    spec = REGISTRY[op.type]
    if op.inputs:
        _normalise(op, context.shapes[op.inputs[0]] or (), context.shapes[node] or ())
    try:
        op.params = spec.coerce_params(op.params)
    except ParamError as exc:
        raise _Unmappable(str(exc)) from None
    return op


def _normalise(op: _Op, before: Shape, after: Shape) -> None:
    params, schema = op.params, REGISTRY[op.type].schema
    if op.type == "AdaptiveAvgPool2d":
        size = params["output_size"]
        size = list(size) if isinstance(size, (list, tuple)) else [size, size]
        params["output_size"] = [s if s is not None else after[2 + i] for i, s in enumerate(size)]
    for key in params:
        if schema[key].kind == "pair":
            params[key] = _pair(params[key])
    if op.type == "Flatten" and "start_dim" in params:
        if params["start_dim"] < 0:
            params["start_dim"] += len(before)
        if params["start_dim"] == 0:
            raise _Unmappable("it flattens the batch axis too")
    if op.type in ("Softmax", "LogSoftmax") and params.get("dim", 1) is None:
        params["dim"] = 0 if len(before) in (0, 1, 3) else 1  # torch's rule for an implicit dim


def _pair(value: Any) -> Any:
    """One number for equal sides, as people write it; an empty stride means the kernel's."""
    if not isinstance(value, (list, tuple)):
        return value
    if not value:
        return None
    return value[0] if len(value) == 1 or (len(value) == 2 and value[0] == value[1]) else tuple(value)


def _module_op(node: fx.Node, context: _Context) -> Mapped:
    import torch.nn as nn

    target = str(node.target)
    module = context.traced.get_submodule(target)
    cls = type(module).__name__
    count = context.calls[target] = context.calls.get(target, 0) + 1
    if type(module) is nn.Identity:
        return _tensor_arg(node, context)
    if cls not in _module_blocks() or type(module) is not getattr(nn, cls):
        raise _Unmappable("")
    if len(node.args) != 1 or node.kwargs:
        raise _Unmappable("called with more than its input")
    state = module.state_dict()
    if count > 1 and state:
        raise _Unmappable("called a second time, but blocks cannot share weights")
    for key, wanted in _FIXED.get(cls, {}).items():
        if getattr(module, key) != wanted:
            raise _Unmappable(f"{key}={getattr(module, key)!r} has no block parameter")
    params = {key: module.bias is not None if key == "bias" else getattr(module, key)
              for key in REGISTRY[cls].schema}
    name = target if count == 1 else f"{target}_{count - 1}"
    return _Op(cls, params, [_tensor_arg(node, context)], dict(state), name=name)


# Module settings the blocks cannot express, with the one value each may have.
_FIXED: dict[str, dict[str, Any]] = {
    "Conv2d": {"padding_mode": "zeros"},
    "MaxPool2d": {"return_indices": False},
    "AvgPool2d": {"divisor_override": None},
}


@functools.cache
def _module_blocks() -> frozenset[str]:
    """Block types that are a torch.nn module of the same name, with the same arguments."""
    return frozenset(t for t, spec in REGISTRY.items() if spec.module is not None)


def _tensor_arg(node: fx.Node, context: _Context) -> fx.Node:
    value = node.args[0] if node.args else None
    if not _is_node(value) or context.shapes.get(value) is None:
        raise _Unmappable(f"{_render(node)} does not take a tensor")
    return value


def _is_node(value: Any) -> TypeGuard[fx.Node]:
    import torch.fx as fx

    return isinstance(value, fx.Node)


def _is_tensor(value: Any, context: _Context) -> TypeGuard[fx.Node]:
    return _is_node(value) and context.shapes.get(value) is not None


# -- function and method calls ----------------------------------------------------

_REQUIRED = object()


@dataclass(frozen=True)
class _Call:
    """A call that is one block: its arguments after the input, with their defaults.

    ``fixed`` names the arguments the block cannot express unless they keep that value.
    Arguments named like a block parameter are carried over; the others (``inplace``,
    ``_stacklevel``) change nothing the graph computes.
    """

    block: str
    signature: tuple[tuple[str, Any], ...] = ()
    fixed: tuple[tuple[str, Any], ...] = ()


def _call_op(call: _Call, node: fx.Node, context: _Context) -> Mapped:
    x = _tensor_arg(node, context)
    bound = _bind(node, call.signature)
    for key, wanted in call.fixed:
        if bound[key] != wanted:
            raise _Unmappable(f"{key}={bound[key]!r} has no block parameter")
    if call.block == "Dropout" and bound["training"] is False:
        return x  # a dropout that never drops in any mode
    schema = REGISTRY[call.block].schema
    return _Op(call.block, {k: v for k, v in bound.items() if k in schema}, [x])


def _bind(node: fx.Node, signature: tuple[tuple[str, Any], ...]) -> dict[str, Any]:
    names = [name for name, _ in signature]
    bound = dict(signature)
    if len(node.args) - 1 > len(names):
        raise _Unmappable(f"{_render(node)} has more arguments than expected")
    bound.update(zip(names, node.args[1:]))
    for key, value in node.kwargs.items():
        if key not in bound:
            raise _Unmappable(f"argument {key} has no block parameter")
        bound[key] = value
    for key, value in bound.items():
        if value is _REQUIRED:
            raise _Unmappable(f"{_render(node)} lacks {key}")
        if _holds_node(value):
            raise _Unmappable(f"{key} is computed while the model runs")
    return bound


def _holds_node(value: Any) -> bool:
    if isinstance(value, (list, tuple)):
        return any(_holds_node(v) for v in value)
    return _is_node(value)


def _add_op(node: fx.Node, context: _Context) -> Mapped:
    alpha = node.kwargs.get("alpha", 1)
    if len(node.args) != 2 or set(node.kwargs) - {"alpha"} or alpha != 1:
        raise _Unmappable(_render(node))
    a, b = node.args
    if not (_is_tensor(a, context) and _is_tensor(b, context)) or context.shapes[a] != context.shapes[b]:
        raise _Unmappable(f"{_render(node)}: only tensors of the same shape can be added")
    return _Op("Add", {}, [a, b])


def _cat_op(node: fx.Node, context: _Context) -> Mapped:
    tensors = node.args[0] if node.args else node.kwargs.get("tensors")
    dim = node.args[1] if len(node.args) > 1 else node.kwargs.get("dim", node.kwargs.get("axis", 0))
    if not isinstance(tensors, (list, tuple)) or not tensors or set(node.kwargs) - {"tensors", "dim", "axis"} \
            or not all(_is_tensor(t, context) for t in tensors):
        raise _Unmappable(_render(node))
    rank = len(context.shapes[tensors[0]] or ())
    if not isinstance(dim, int) or rank < 2 or dim % rank != 1:
        raise _Unmappable(f"joins along dim {dim}; only the channel axis, dim 1, can be drawn")
    return tensors[0] if len(tensors) == 1 else _Op("Concat", {}, list(tensors))


def _view_op(node: fx.Node, context: _Context) -> Mapped:
    """``view``/``reshape`` to (batch, features) is a Flatten; any other view has no block."""
    x = _tensor_arg(node, context)
    dims = list(node.args[1:])
    if len(dims) == 1 and isinstance(dims[0], (list, tuple)):
        dims = list(dims[0])
    before, after = context.shapes[x] or (), context.shapes[node]
    features = math.prod(before[1:])
    if node.kwargs or len(dims) != 2 or after != (before[0], features) \
            or not _flattens(dims, features, context):
        raise _Unmappable(f"{_render(node)} is not a flatten to (batch, features)")
    return _Op("Flatten", {}, [x])


def _flattens(dims: list[Any], features: int, context: _Context) -> bool:
    """(batch, -1), (batch, features) or (-1, features); features may be ``c * h * w`` of a shape."""
    second = context.numbers.get(dims[1]) if _is_helper(dims[1], context) else dims[1]
    if _is_batch_size(dims[0]):
        return isinstance(second, int) and second in (-1, features)
    return isinstance(dims[0], int) and dims[0] == -1 and isinstance(second, int) and second == features


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


def _size_op(node: fx.Node, context: _Context) -> Mapped:
    """``t.size()``, ``t.shape``, items and products of them: read by views, checked there."""

    source = node.args[0] if node.args else None
    if node.target is operator.mul:
        ok = all(isinstance(a, int) or _is_helper(a, context) for a in node.args)
    elif node.op == "call_function" and node.target is operator.getitem:
        ok = _is_helper(source, context)
    elif node.op == "call_function":
        ok = _is_tensor(source, context) and node.args[1:] == ("shape",)
    else:
        ok = _is_tensor(source, context)
    if not ok:
        raise _Unmappable(_render(node))
    context.helpers.add(node)
    return _SKIP


def _is_helper(value: Any, context: _Context) -> bool:
    return _is_node(value) and value in context.helpers


def _same(node: fx.Node, context: _Context) -> Mapped:
    if len(node.args) != 1 or node.kwargs:
        raise _Unmappable(_render(node))
    return _tensor_arg(node, context)


@functools.cache
def _rules() -> tuple[dict[Any, Rule], dict[str, Rule]]:
    """The rules for call_function targets, by function, and call_method targets, by name."""
    import torch
    import torch.nn.functional as F

    def call(block: str, *signature: tuple[str, Any], fixed: tuple[tuple[str, Any], ...] = ()) -> Rule:
        return functools.partial(_call_op, _Call(block, signature, fixed))

    pool = (("kernel_size", _REQUIRED), ("stride", None), ("padding", 0))
    softmax = (("dim", None), ("_stacklevel", 3), ("dtype", None))
    functions: dict[Any, Rule] = {
        torch.relu: call("ReLU"), torch.relu_: call("ReLU"), F.relu: call("ReLU", ("inplace", False)),
        torch.sigmoid: call("Sigmoid"), torch.tanh: call("Tanh"),
        F.leaky_relu: call("LeakyReLU", ("negative_slope", 0.01), ("inplace", False)),
        F.elu: call("ELU", ("alpha", 1.0), ("inplace", False)),
        F.gelu: call("GELU", ("approximate", "none")),
        F.softplus: call("Softplus", ("beta", 1.0), ("threshold", 20.0)),
        F.max_pool2d: call("MaxPool2d", *pool, ("dilation", 1), ("ceil_mode", False), ("return_indices", False),
                           fixed=(("return_indices", False),)),
        F.avg_pool2d: call("AvgPool2d", *pool, ("ceil_mode", False), ("count_include_pad", True),
                           ("divisor_override", None), fixed=(("divisor_override", None),)),
        F.adaptive_avg_pool2d: call("AdaptiveAvgPool2d", ("output_size", _REQUIRED)),
        F.dropout: call("Dropout", ("p", 0.5), ("training", True), ("inplace", False)),
        F.softmax: call("Softmax", *softmax, fixed=(("dtype", None),)),
        F.log_softmax: call("LogSoftmax", *softmax, fixed=(("dtype", None),)),
        torch.softmax: call("Softmax", ("dim", _REQUIRED), ("dtype", None), fixed=(("dtype", None),)),
        torch.log_softmax: call("LogSoftmax", ("dim", _REQUIRED), ("dtype", None), fixed=(("dtype", None),)),
        torch.flatten: call("Flatten", ("start_dim", 0), ("end_dim", -1)),
        operator.add: _add_op, torch.add: _add_op,
        torch.cat: _cat_op, torch.concat: _cat_op, torch.concatenate: _cat_op,
        torch.reshape: _view_op, getattr: _size_op, operator.getitem: _size_op, operator.mul: _size_op,
    }
    return functions, _method_rules(call)


def _method_rules(call: Callable[..., Rule]) -> dict[str, Rule]:
    methods: dict[str, Rule] = {name: call(block) for block in ("ReLU", "Sigmoid", "Tanh")
                                for name in (block.lower(), block.lower() + "_")}
    methods.update({
        "flatten": call("Flatten", ("start_dim", 0), ("end_dim", -1)),
        "softmax": call("Softmax", ("dim", _REQUIRED), ("dtype", None), fixed=(("dtype", None),)),
        "log_softmax": call("LogSoftmax", ("dim", _REQUIRED), ("dtype", None), fixed=(("dtype", None),)),
        "add": _add_op, "add_": _add_op, "view": _view_op, "reshape": _view_op,
        "size": _size_op, "contiguous": _same,
    })
    return methods


# -- describing what cannot be imported ---------------------------------------------

_OPERATORS = {"add": "+", "sub": "-", "mul": "*", "truediv": "/", "floordiv": "//", "matmul": "@",
              "pow": "**", "mod": "%"}


def _problem(node: fx.Node, context: _Context, detail: str) -> str:
    """``name (what: detail)``; an op with no rule at all shows as the code that calls it."""
    name = str(node.target) if node.op in ("call_module", "get_attr") else node.name
    if node.op == "call_module":
        what = type(context.traced.get_submodule(name)).__name__
    elif node.op == "call_method":
        what = f"Tensor.{node.target}"
    elif node.op == "call_function":
        what = _function_name(node.target)
    else:
        what = node.op
    if not detail and node.op == "call_function" and not what.startswith("operator."):
        return f"{name} ({one_line(f'{what}({_arguments(node.args, node.kwargs)})', 80)})"
    if not detail and node.op in ("call_function", "call_method"):
        detail = _render(node)
    return f"{name} ({what}: {detail})" if detail else f"{name} ({what})"


def _function_name(target: Any) -> str:
    from torch.fx.node import _get_qualified_name

    try:
        name = _get_qualified_name(target)
    except Exception:
        name = getattr(target, "__name__", repr(target))
    return name.replace("_operator.", "operator.", 1)


def _render(node: fx.Node) -> str:
    """The call as code (``relu * 2``, ``x[:, 0]``, ``mean(relu, dim=1)``), short enough for a list."""
    name = str(node.target) if node.op == "call_method" else getattr(node.target, "__name__", "?")
    if getattr(node.target, "__module__", "") == "_operator" and len(node.args) == 2 and not node.kwargs:
        left, right = (_arg_text(a) for a in node.args)
        if name == "getitem":
            return one_line(f"{left}[{right.strip('()')}]", 80)
        if name in _OPERATORS:
            return one_line(f"{left} {_OPERATORS[name]} {right}", 80)
    if node.op == "call_method" and node.args:
        return one_line(f"{_arg_text(node.args[0])}.{name}({_arguments(node.args[1:], node.kwargs)})", 80)
    return one_line(f"{name}({_arguments(node.args, node.kwargs)})", 80)


def _arguments(args: Sequence[Any], kwargs: Mapping[str, Any]) -> str:
    return ", ".join([*(_arg_text(a) for a in args), *(f"{k}={_arg_text(v)}" for k, v in kwargs.items())])


def _arg_text(value: Any) -> str:
    if _is_node(value):
        return value.name
    if isinstance(value, slice):
        parts = [_arg_text(v) if v is not None else "" for v in (value.start, value.stop, value.step)]
        return ":".join(parts[:2] if value.step is None else parts)
    if isinstance(value, (list, tuple)):
        inner = ", ".join(_arg_text(v) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner})"
    return one_line(repr(value), 24)


# -- building the graph -------------------------------------------------------------


def _build(ops: list[_Op], name: str, label: str) -> Graph:
    graph = Graph()
    graph.name = name
    graph.description = f"Imported from the PyTorch model {label}."
    problems: list[str] = []
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
            problems.append(f"{op.name} ({op.type}: {one_line(str(exc))})")
    problems += [f"{node} ({graph.node(node).type}: {message})" for node, message in graph.errors() if node]
    if problems:
        raise ModelImportError(_listing(problems))
    return graph


def _check(graph: Graph, ops: list[_Op], returned: list[str | None] | None, context: _Context,
           label: str) -> None:
    """Every block's inferred shape is the real one, and the graph returns what the model does."""
    for op in ops:
        assert op.node is not None
        real = (context.shapes[op.node] or ())[1:]
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
    return {f"{idents[name]}.{key}": value.detach().cpu().clone()
            for name in graph.topological_order() for key, value in by_name[name].weights.items()}
