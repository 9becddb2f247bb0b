"""The importer's first steps: trace the user's model with torch.fx and run it once to learn every shape.

:func:`trace` records the model's forward (the modules a block claims from outside
``torch.nn`` stay whole); :func:`run` runs it on zeros in eval mode and keeps the real
shape of every op, the value of every size the code computes and the length of every
tuple of tensors, for :mod:`designer.graph.importer` to map. Every failure is one
:class:`ModelImportError` line.
"""

from __future__ import annotations

import functools
import inspect
import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeGuard

from designer.graph import import_rules
from designer.graph.errors import ParamError
from designer.graph.model_loader import ModelImportError, exc_text
from designer.graph.registry import REGISTRY
from designer.graph.shapes import fmt_shape
from designer.graph.spec import Shape

if TYPE_CHECKING:
    import torch
    from torch import fx, nn


def _is_node(value: Any) -> TypeGuard[fx.Node]:
    import torch.fx as fx

    return isinstance(value, fx.Node)


def check_one_result(model: nn.Module, traced: fx.GraphModule, label: str) -> None:
    """Refuse a model that returns a named tuple of tensors (GoogLeNet's aux heads in training mode),
    naming the constructor argument that turns the extra outputs off where there is one."""
    output = next(n for n in reversed(traced.graph.nodes) if n.op == "output")
    value = output.args[0] if output.args else None
    if not (_is_node(value) and value.op == "call_function" and inspect.isclass(value.target)
            and issubclass(value.target, tuple)):
        return
    count = len(value.args) + len(value.kwargs)
    fields = ", ".join(getattr(value.target, "_fields", ()))
    what = f"{value.target.__name__}({fields})" if fields else value.target.__name__
    switch = _aux_switch(model)
    fix = (f"build it with {switch}=False (--args '{{\"{switch}\": false}}')" if switch
           else "make it return one tensor")
    mode = "training" if model.training else "eval"
    raise ModelImportError(f"{label} returns {count} outputs in {mode} mode ({what}), and a graph is "
                           f"trained on one: {fix}")


def _aux_switch(model: nn.Module) -> str | None:
    """The constructor's flag for auxiliary outputs (``aux_logits``), when it has one set to True."""
    try:
        parameters = inspect.signature(type(model).__init__).parameters
    except (TypeError, ValueError):
        return None
    return next((name for name in parameters if "aux" in name and getattr(model, name, None) is True), None)


def input_shape(input_shape: Sequence[int]) -> Shape:
    param = REGISTRY["Input"].schema["shape"]
    try:
        shape: Shape = param.coerce(list(input_shape))
    except (ParamError, TypeError) as exc:
        reason = exc.reason if isinstance(exc, ParamError) else str(exc)
        raise ModelImportError(f"input shape {input_shape}: {reason}") from None
    return shape


def trace(model: nn.Module, label: str) -> fx.GraphModule:
    import torch.fx as fx

    concrete = _defaults_after_input(model, label)
    try:
        tracer = _tracer()()
        graph = tracer.trace(model, concrete_args=concrete or None)
        traced = fx.GraphModule(tracer.root, graph, type(model).__name__)
    except Exception as exc:
        if "'len' is not supported" in str(exc):
            raise ModelImportError(f"cannot trace {label}: len() of a tensor is not recorded by torch.fx; "
                                   "write x.shape[0] (or x.size(0)) for the batch size") from None
        raise ModelImportError(f"cannot trace {label}: {exc_text(exc)}; models with data-dependent "
                               "control flow cannot be imported") from None
    # An in-place op often has no users, yet later ops read what it wrote: keep it.
    traced.graph.eliminate_dead_code(is_impure_node=lambda n: n.is_impure() or in_place(n, traced))
    traced.recompile()
    return traced


@functools.cache
def _tracer() -> type[fx.Tracer]:
    """fx's tracer, which also keeps whole the modules a block stands for from outside ``torch.nn``
    (torchvision's ``StochasticDepth``), as it keeps ``torch.nn``'s own."""
    import torch.fx as fx

    class Tracer(fx.Tracer):
        proxy_buffer_attributes = True  # a buffer read in forward is named as itself, not a _tensor_constant0

        def is_leaf_module(self, m: nn.Module, module_qualified_name: str) -> bool:
            return super().is_leaf_module(m, module_qualified_name) or bool(import_rules.module_rules(type(m)))

    return Tracer


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


def in_place(node: fx.Node, traced: fx.GraphModule) -> bool:
    if node.op == "call_module":
        return getattr(traced.get_submodule(str(node.target)), "inplace", False) is True
    if node.op not in ("call_function", "call_method"):
        return False
    name = str(node.target) if node.op == "call_method" else getattr(node.target, "__name__", "")
    return node.kwargs.get("inplace") is True or (name.endswith("_") and not name.endswith("__"))


def run(model: nn.Module, traced: fx.GraphModule, shape: Shape,
         label: str) -> tuple[dict[fx.Node, Shape | None], dict[fx.Node, Any], dict[fx.Node, int]]:
    """The real output shape of every node (batch first), from one run on zeros in eval mode,
    the value of every node that gives a number or sizes (``x.size(1)``, ``x.shape[2:]``) and
    the length of every tuple of tensors (``x.chunk(2)``).

    The batch is two: batch norm without running statistics refuses a batch of one.
    """
    import torch
    import torch.fx as fx

    first = next(itertools.chain(model.parameters(), model.buffers()), None)
    x = torch.zeros((2, *shape), device=first.device if first is not None else "cpu",
                    dtype=first.dtype if first is not None and first.is_floating_point() else torch.float32)
    interpreter = fx.Interpreter(traced)
    shapes: dict[fx.Node, Shape | None] = {}
    numbers: dict[fx.Node, Any] = {}
    tuples: dict[fx.Node, int] = {}
    modes = {m: m.training for m in itertools.chain(model.modules(), traced.modules())}
    node = None
    try:
        traced.eval()
        with torch.no_grad():
            for node in traced.graph.nodes:
                value = _run_node(interpreter, node, x)
                interpreter.env[node] = value
                shapes[node] = tuple(value.shape) if isinstance(value, torch.Tensor) else None
                if isinstance(value, (int, torch.Size)):
                    numbers[node] = tuple(value) if isinstance(value, torch.Size) else value
                elif isinstance(value, (tuple, list)) and value and \
                        all(isinstance(v, torch.Tensor) for v in value):
                    tuples[node] = len(value)
    except Exception as exc:
        at = f" at {node.name}" if node is not None else ""
        raise ModelImportError(f"{label} fails on a {fmt_shape(shape)} input{at}: {exc_text(exc)}; "
                               "check the input shape") from None
    finally:
        for module, training in modes.items():
            module.training = training
    return shapes, numbers, tuples


def _run_node(interpreter: fx.Interpreter, node: fx.Node, x: torch.Tensor) -> Any:
    if node.op == "placeholder":
        # The first argument is the input; the others were specialised to their defaults.
        return x if not interpreter.env else (node.args[0] if node.args else None)
    if node.op == "output":
        return None
    args, kwargs = interpreter.fetch_args_kwargs_from_env(node)
    return getattr(interpreter, node.op)(node.target, args, kwargs)
