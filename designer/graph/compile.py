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
from typing import TYPE_CHECKING

from designer.graph.errors import GraphError
from designer.graph.machine import FLOAT32, format_bytes, too_big_for_memory
from designer.graph.naming import Namespace, class_name
from designer.graph.spec import ModuleCall

if TYPE_CHECKING:
    import torch.nn

    from designer.graph.graph import Graph


@dataclass(frozen=True)
class Step:
    """One line of ``forward``: ``ident`` = an op over ``args`` (identifiers)."""

    name: str
    ident: str
    op: str  # "module" (call the layer named ident), "add" or "concat"
    args: tuple[str, ...]

    def expression(self, layer: Callable[[str], str]) -> str:
        """The right-hand side, with ``layer(ident)`` giving how a layer is reached."""
        if self.op == "module":
            return f"{layer(self.ident)}({self.args[0]})"
        if self.op == "add":
            return " + ".join(self.args)
        return f"torch.cat([{', '.join(self.args)}], dim=1)"


@dataclass(frozen=True)
class Plan:
    """What the compiled module is made of: modules to create and forward steps."""

    class_name: str
    idents: dict[str, str]
    modules: dict[str, ModuleCall]
    arguments: list[str]
    steps: list[Step]
    returns: list[str]


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
    for name in order:
        node, result = graph.node(name), graph.result(name)
        ident = idents[name]
        args = tuple(idents[s] for s in graph.sources(name))
        if node.spec.is_input:
            arguments.append(ident)
            continue
        if node.spec.module is not None:
            modules[name] = node.spec.module(result.inputs, node.params)
            op = "module"
        elif node.type in ("Add", "Concat"):
            op = node.type.lower()
        else:  # pragma: no cover - a spec without module must be handled above
            raise GraphError(f"{node.type} cannot be compiled")
        steps.append(Step(name, ident, op, args))
    returns = [idents[n] for n in graph.outputs()]
    return Plan(class_name(graph.name), idents, modules, arguments, steps, returns)


def _layer_from_modules(ident: str) -> str:
    return 'modules["' + ident + '"]'


def forward_source(p: Plan) -> str:
    """The compiled ``forward``. ``modules`` cannot clash with an identifier:
    every ``nn.Module`` attribute name is reserved in the plan's namespace."""
    body = ["    modules = self._modules"] if p.modules else []
    body += [f"    {step.ident} = {step.expression(_layer_from_modules)}" for step in p.steps]
    result = p.returns[0] if len(p.returns) == 1 else "(" + ", ".join(p.returns) + ",)"
    body.append(f"    return {result}")
    return f"def forward(self, {', '.join(p.arguments)}):\n" + "\n".join(body) + "\n"


_compiled = 0


def compile_graph(graph: Graph) -> torch.nn.Module:
    import torch
    import torch.nn as nn

    global _compiled
    p = plan(graph)
    source = forward_source(p)
    _compiled += 1
    filename = f"<designer:{p.class_name}:{_compiled}>"
    # Registering the source lets tracebacks and inspect show the generated line.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict[str, object] = {"torch": torch}
    exec(compile(source, filename, "exec"), namespace)
    cls = type(p.class_name, (nn.Module,), {"forward": namespace["forward"], "code": source})
    module = cls()
    _check_memory(graph)
    for name, call in p.modules.items():
        try:
            layer = getattr(nn, call.cls)(*call.args, **dict(call.kwargs))
        except (MemoryError, RuntimeError) as exc:
            if not isinstance(exc, MemoryError) and "alloc" not in str(exc):
                raise
            raise GraphError(f"not enough memory to build the network: {name} needs "
                             f"{format_bytes(graph.result(name).param_count * FLOAT32)} "
                             "for its parameters") from None
        module.add_module(p.idents[name], layer)
    return module


def _check_memory(graph: Graph) -> None:
    """Refuse before allocating when the parameters alone cannot fit (torch would fail deep inside)."""
    params = sum(r.param_count for r in graph.results.values())
    reason = too_big_for_memory(params)
    if reason is not None:
        largest = max(graph.results, key=lambda n: graph.results[n].param_count)
        share = graph.results[largest].param_count
        raise GraphError(f"the network is too large to build: {reason} ({largest} alone has {share:,}); "
                         "make its largest layers smaller")
