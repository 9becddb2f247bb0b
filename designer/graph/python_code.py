"""Writes a graph as one standalone, readable PyTorch file that imports only torch.

The file comes from the same :class:`~designer.graph.compile.Plan` as the
compiled module: the same identifiers (so the state_dict keys match and
weights load with ``strict=True``), the same constructor calls and the same
forward steps, here written as ``self.conv1(x)`` for people to read.

Every piece of user text (project and block names, the description) reaches
the file only as an identifier from the plan's namespace, inside ``repr()`` on
a comment line, or escaped inside the docstring, so no name can close a
string or comment or run code.
"""

from __future__ import annotations

import re
import unicodedata

from designer.graph.compile import Plan, plan
from designer.graph.graph import Graph
from designer.graph.helpers import helper_source
from designer.graph.structure import Class, Structure, structure
from designer.graph.summary import totals

LINE_LENGTH = 88  # what ruff format and black wrap at
INDENT = "    "


def python_source(graph: Graph) -> str:
    """The model file's text; raises GraphError if the graph has errors."""
    p = plan(graph)
    built = structure(graph, p, taken=p.helpers)
    imports = "import torch\nfrom torch import nn\n" if p.uses_torch else "from torch import nn\n"
    if built.uses_ordered_dict:
        imports = "from collections import OrderedDict\n\n" + imports
    parts = [_docstring(graph, p, built), imports]
    if p.helpers:
        parts.append("\n" + helper_source(list(p.helpers)))
    parts += ["\n" + _shared_class(built, cls) for cls in built.classes]
    parts.append("\n" + _root_class(built, p))
    return "\n".join(parts)


def _docstring(graph: Graph, p: Plan, built: Structure) -> str:
    total = totals(graph)
    lines = [f"{_doc_text(graph.name) or p.class_name}: a network exported from Designer.", ""]
    if graph.description:
        lines += [_doc_text(graph.description), ""]
    for name in graph.inputs():
        lines.append(f"Input {p.idents[name]}: {graph.result(name).shape_text} per sample")
    for name, ident in zip(graph.outputs(), built.root.returns, strict=True):
        lines.append(f"Output {ident}: {graph.result(name).shape_text} per sample")
    lines += [
        f"Parameters: {total['params']:,}",
        f"Multiply-accumulates per sample: {total['macs']:,}",
        "",
        "Weights saved by Designer load with strict=True:",
        "",
        f"    model = {p.class_name}()",
        '    model.load_state_dict(torch.load("weights.pt", weights_only=True))',
    ]
    return '"""' + "\n".join(lines) + '\n"""\n'


def _doc_text(text: str) -> str:
    """User text made safe inside a triple-quoted docstring: one line, no escapes."""
    kept = "".join(c if unicodedata.category(c)[0] != "C" else " " for c in text)
    return " ".join(kept.replace("\\", "\\\\").replace('"', '\\"').split())


def _root_class(built: Structure, p: Plan) -> str:
    root = built.root
    init = [f"{INDENT * 2}super().__init__()"]
    for j, ((attr, _, _), block) in enumerate(zip(root.members, root.blocks, strict=True)):
        comment = _origin(block, attr) if block is not None else ""
        init += _wrap(f"{INDENT * 2}self.{attr} = ", built.member_call(root, j).render(), comment)
    forward = [line for target, expression, comment in root.lines
               for line in _wrap(f"{INDENT * 2}{target} = ", expression, comment)]
    return _class_text(p.class_name, "", init, root.arguments, forward, root.returns)


def _shared_class(built: Structure, cls: Class) -> str:
    """A group's class, written from its first instance; what differs between instances is a parameter."""
    first = cls.instances[0]
    init = [f"{INDENT * 2}super().__init__()"]
    for j, (attr, _, _) in enumerate(first.members):
        call = built.member_call(first, j)
        names = {h: cls.holes[(j, h)] for h in range(len(call.holes)) if (j, h) in cls.holes}
        init += _wrap(f"{INDENT * 2}self.{attr} = ", call.render(names), "")
    forward = []
    for k, (target, expression, comment) in enumerate(first.lines):
        agreed = all(m.lines[k][2] == comment for m in cls.instances)  # one shape for every instance
        forward += _wrap(f"{INDENT * 2}{target} = ", expression, comment if agreed else "")
    parameters = "".join(f", {name}" for name in cls.parameters)
    return _class_text(cls.name, parameters, init, first.arguments, forward, first.returns)


def _class_text(name: str, parameters: str, init: list[str], arguments: list[str], forward: list[str],
                returns: list[str]) -> str:
    result = returns[0] if len(returns) == 1 else ", ".join(returns)
    return "\n".join([
        f"class {name}(nn.Module):",
        *_signature(f"{INDENT}def __init__", f"self{parameters}"),
        *init,
        "",
        f"{INDENT}def forward(self, {', '.join(arguments)}):",
        *forward,
        f"{INDENT * 2}return {result}",
        "",
    ])


def _signature(head: str, parameters: str) -> list[str]:
    """A ``def`` line, with its parameters wrapped as ruff format wraps them when it is too long."""
    if len(f"{head}({parameters}):") <= LINE_LENGTH:
        return [f"{head}({parameters}):"]
    inner = INDENT * 2
    if len(inner + parameters) <= LINE_LENGTH:
        return [f"{head}(", inner + parameters, f"{INDENT}):"]
    return [f"{head}(", *(f"{inner}{name}," for name in _split_args(parameters)), f"{INDENT}):"]


def _origin(name: str, ident: str) -> str:
    """A comment naming the block when its identifier had to differ from its name."""
    return "" if name == ident else f"block {name!r}"


def _wrap(head: str, call: str, comment: str) -> list[str]:
    """``head + call`` laid out as ruff format would, with the comment at its end.

    A statement too long for one line gets its comment on the line above
    (ruff counts trailing comments in the length), then its arguments on one
    indented line if they fit there, else one per line with a trailing comma.
    """
    tail = f"  # {comment}" if comment else ""
    if len(head + call + tail) <= LINE_LENGTH:
        return [head + call + tail]
    indent = head[: len(head) - len(head.lstrip())]
    above = [f"{indent}# {comment}"] if comment else []
    return above + _layout(head, call, indent)


def _layout(head: str, call: str, indent: str, tail: int = 0) -> list[str]:
    """``tail``: characters that will follow the last line (an argument's comma)."""
    if len(head + call) + tail <= LINE_LENGTH or not call.endswith((")", "]")):
        return [head + call]
    opener, closer = _split_point(call)
    deeper = indent + INDENT
    if head.rstrip().endswith("=") and len(head + call[:opener]) > LINE_LENGTH:
        # Not even the call's opening bracket fits after the name: ruff wraps the right-hand side instead.
        return [head + "(", *_layout(deeper, call, deeper), indent + ")"]
    inner = call[opener:len(call) - len(closer)]
    if len(deeper + inner) <= LINE_LENGTH:
        return [head + call[:opener], deeper + inner, indent + closer]
    lines = [head + call[:opener]]
    for arg in _split_args(inner):
        lines += _layout(deeper, arg + ",", deeper) if not arg.endswith(("]", ")")) else \
            _with_comma(_layout(deeper, arg, deeper, tail=1))
    return [*lines, indent + closer]


_TRAILING_INDEX = re.compile(r"\)(\[[^\[\]]*\])$")


def _split_point(call: str) -> tuple[int, str]:
    """Where a long expression breaks: after the bracket matching its last one, and what closes it.

    ``f(a, b)[0]`` breaks in the call's brackets, keeping ``)[0]`` together, as ruff does.
    """
    trailer = _TRAILING_INDEX.search(call)
    end = len(call) - (len(trailer.group(1)) if trailer else 0) - 1
    depth = 0
    for i in range(end, -1, -1):
        depth += call[i] in ")]"
        depth -= call[i] in "(["
        if depth == 0:
            return i + 1, call[end:]
    return call.index("(") + 1, call[end:]  # pragma: no cover - brackets always match in generated code


def _with_comma(lines: list[str]) -> list[str]:
    return [*lines[:-1], lines[-1] + ","]


def _split_args(text: str) -> list[str]:
    """Split a call's argument text at top-level commas (the values hold tuples)."""
    args, depth, start = [], 0, 0
    for i, char in enumerate(text):
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == "," and depth == 0:
            args.append(text[start:i].strip())
            start = i + 1
    args.append(text[start:].strip())
    return [a for a in args if a]
