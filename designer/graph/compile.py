"""Compiles a graph into a ``torch.nn.Module`` with generated ``forward`` code.

The forward source is generated once, as torch.fx does, and executed with the
modules bound as attributes, so running the compiled net costs the same as
running one written by hand: no per-call interpretation of the graph.
"""

from __future__ import annotations

import linecache
from dataclasses import dataclass
from typing import TYPE_CHECKING

from designer.graph.errors import GraphError
from designer.graph.naming import Namespace, class_name
from designer.graph.spec import ModuleCall

if TYPE_CHECKING:
    import torch.nn

    from designer.graph.graph import Graph


@dataclass(frozen=True)
class Plan:
    """What the compiled module is made of: modules to create and forward lines."""

    class_name: str
    idents: dict[str, str]
    modules: dict[str, ModuleCall]
    arguments: list[str]
    lines: list[tuple[str, str]]  # (node name, "ident = expression")
    returns: list[str]


def module_attribute_names() -> set[str]:
    import torch.nn as nn

    return set(dir(nn.Module))


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
    lines: list[tuple[str, str]] = []
    for name in order:
        node, result = graph.node(name), graph.result(name)
        ident = idents[name]
        args = [idents[s] for s in graph.sources(name)]
        if node.spec.is_input:
            arguments.append(ident)
            continue
        if node.spec.module is not None:
            modules[name] = node.spec.module(result.inputs, node.params)
            expression = f"self.{ident}({args[0]})"
        elif node.type == "Add":
            expression = " + ".join(args)
        elif node.type == "Concat":
            expression = f"torch.cat([{', '.join(args)}], dim=1)"
        else:  # pragma: no cover - a spec without module must be handled above
            raise GraphError(f"{node.type} cannot be compiled")
        lines.append((name, f"{ident} = {expression}"))
    returns = [idents[n] for n in graph.outputs()]
    return Plan(class_name(graph.name), idents, modules, arguments, lines, returns)


def forward_source(p: Plan) -> str:
    body = [f"    {line}" for _, line in p.lines]
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
    for name, call in p.modules.items():
        module.add_module(p.idents[name], getattr(nn, call.cls)(*call.args, **dict(call.kwargs)))
    return module
