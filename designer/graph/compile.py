"""Compiles a graph into a ``torch.nn.Module`` with generated ``forward`` code.

The forward source is generated once, as torch.fx does, so running the
compiled net costs what running one written by hand costs: no per-call
interpretation of the graph. It reads its layers from ``self._modules`` once
per call instead of as ``self.conv1``: every such attribute falls through to
the Python-level ``nn.Module.__getattr__`` (1.5 µs each), which made a
200-layer chain 1.2× slower than a hand-written loop (benchmarks/README.md).
"""

from __future__ import annotations

import linecache
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from designer.graph.errors import GraphError
from designer.graph.helpers import helper_namespace, helper_source
from designer.graph.machine import FLOAT32, format_bytes, too_big_for_memory
from designer.graph.naming import Namespace, class_name
from designer.graph.spec import Arg, ForwardRule, ModuleCall, Params

if TYPE_CHECKING:
    import torch.nn

    from designer.graph.graph import Graph


@dataclass(frozen=True)
class Step:
    """One line of ``forward``: ``ident`` = the block's expression over ``args``."""

    name: str
    ident: str
    forward: ForwardRule
    args: tuple[Arg, ...]
    params: Params
    parameter: bool = False  # the block is a learned tensor (an attribute), not a module

    def expression(self, layer: Callable[[str], str]) -> str:
        """The right-hand side, with ``layer(ident)`` giving how the block's own layer is reached."""
        return self.forward(self.args, self.params, layer(self.ident))


@dataclass(frozen=True)
class Plan:
    """What the compiled module is made of: layers to create, helper classes and forward steps."""

    class_name: str
    idents: dict[str, str]
    modules: dict[str, ModuleCall]
    arguments: list[str]
    steps: list[Step]
    returns: list[str]
    helpers: tuple[str, ...] = ()

    @property
    def uses_torch(self) -> bool:
        """Whether the code names ``torch`` itself, beyond ``nn`` (an import the file then needs)."""
        texts = [step.expression(lambda ident: ident) for step in self.steps]
        texts += [call.source() for call in self.modules.values()]
        texts += [helper_source(list(self.helpers))] if self.helpers else []
        return any("torch." in text for text in texts)


def module_attribute_names() -> set[str]:
    """Every name a layer attribute must not take: a class attribute or method of ``nn.Module``, an
    attribute its ``__init__`` sets on each instance (``training``, ``_parameters``), and what the
    compiled class adds (``code``). Setting a layer as ``training`` would hide the train/eval flag.
    """
    import torch.nn as nn

    return set(dir(nn.Module)) | set(vars(nn.Module())) | set(COMPILED_CLASS_ATTRIBUTES)


COMPILED_CLASS_ATTRIBUTES = ("code", "forward")


def plan(graph: Graph) -> Plan:
    """Lay out the module: names, constructor calls and forward lines in order."""
    problems = graph.errors() + [(n, r.error or "unknown")
                                 for n, r in graph.results.items() if r.status == "unknown"]
    if problems:
        listed = "; ".join(f"{n}: {m}" if n else m for n, m in problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise GraphError(f"the graph has errors: {listed}{more}")
    names = Namespace(module_attribute_names())
    order = graph.topological_order()
    idents = {name: names(name) for name in order}
    modules: dict[str, ModuleCall] = {}
    arguments: list[str] = []
    steps: list[Step] = []
    helpers: list[str] = []
    for name in order:
        node, result = graph.node(name), graph.result(name)
        spec = node.spec
        if spec.is_input:
            arguments.append(idents[name])
            continue
        if spec.module is not None:
            modules[name] = spec.module(result.inputs, node.params)
        helpers += [h for h in spec.helpers if h not in helpers]
        args = tuple(Arg(idents[s], graph.node(s).spec.batched, len(graph.result(s).shape or ()))
                     for s in graph.sources(name))
        parameter = name in modules and modules[name].parameter
        steps.append(Step(name, idents[name], spec.forward, args, node.params, parameter))
    returns = [idents[n] for n in graph.outputs()]
    return Plan(class_name(graph.name), idents, modules, arguments, steps, returns, tuple(helpers))


def _compiled_layer(parameters: set[str]) -> Callable[[str], str]:
    def layer(ident: str) -> str:
        # A learned tensor is an attribute; a module is read from self._modules (see the docstring).
        return f"self.{ident}" if ident in parameters else 'modules["' + ident + '"]'
    return layer


def forward_source(p: Plan) -> str:
    """The compiled ``forward``. ``modules`` cannot clash with an identifier:
    every ``nn.Module`` attribute name is reserved in the plan's namespace."""
    layer = _compiled_layer({step.ident for step in p.steps if step.parameter})
    uses_modules = any(not step.parameter for step in p.steps if step.name in p.modules)
    body = ["    modules = self._modules"] if uses_modules else []
    body += [f"    {step.ident} = {step.expression(layer)}" for step in p.steps]
    result = p.returns[0] if len(p.returns) == 1 else "(" + ", ".join(p.returns) + ",)"
    body.append(f"    return {result}")
    return f"def forward(self, {', '.join(p.arguments)}):\n" + "\n".join(body) + "\n"


_compiled = 0


def compile_graph(graph: Graph) -> torch.nn.Module:
    import torch.nn as nn

    global _compiled
    p = plan(graph)
    source = forward_source(p)
    _compiled += 1
    filename = f"<designer:{p.class_name}:{_compiled}>"
    # Registering the source lets tracebacks and inspect show the generated line.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace = dict(helper_namespace(p.helpers))
    exec(compile(source, filename, "exec"), namespace)
    cls = type(p.class_name, (nn.Module,), {"forward": namespace["forward"], "code": source})
    module = cls()
    _check_memory(graph)
    for name, call in p.modules.items():
        layer = _build(call, name, graph, namespace)
        if call.parameter:
            module.register_parameter(p.idents[name], layer)
        else:
            module.add_module(p.idents[name], layer)
    return module


def _build(call: ModuleCall, name: str, graph: Graph, namespace: dict[str, Any]) -> Any:
    """The layer, made by evaluating the same constructor text the exported file holds."""
    try:
        return eval(call.source(), namespace)
    except (MemoryError, RuntimeError) as exc:
        if not isinstance(exc, MemoryError) and "alloc" not in str(exc):
            raise
        raise GraphError(f"not enough memory to build the network: {name} needs "
                         f"{format_bytes(graph.result(name).param_count * FLOAT32)} "
                         "for its parameters") from None


def _check_memory(graph: Graph) -> None:
    """Refuse before allocating when the parameters alone cannot fit (torch would fail deep inside)."""
    params = sum(r.param_count for r in graph.results.values())
    reason = too_big_for_memory(params)
    if reason is not None:
        largest = max(graph.results, key=lambda n: graph.results[n].param_count)
        share = graph.results[largest].param_count
        raise GraphError(f"the network is too large to build: {reason} ({largest} alone has {share:,}); "
                         "make its largest layers smaller")
