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

from designer.graph.compile import Plan, Step, plan
from designer.graph.graph import Graph
from designer.graph.helpers import helper_source
from designer.graph.summary import totals

LINE_LENGTH = 88  # what ruff format and black wrap at
INDENT = "    "


def python_source(graph: Graph) -> str:
    """The model file's text; raises GraphError if the graph has errors."""
    p = plan(graph)
    parts = [
        _docstring(graph, p),
        "import torch\nfrom torch import nn\n" if p.uses_torch else "from torch import nn\n",
    ]
    if p.helpers:
        parts.append("\n" + helper_source(list(p.helpers)))
    parts.append("\n" + _class(graph, p))
    return "\n".join(parts)


def _docstring(graph: Graph, p: Plan) -> str:
    total = totals(graph)
    lines = [f"{_doc_text(graph.name) or p.class_name}: a network exported from Designer.", ""]
    if graph.description:
        lines += [_doc_text(graph.description), ""]
    for name in graph.inputs():
        lines.append(f"Input {p.idents[name]}: {graph.result(name).shape_text} per sample")
    for name in graph.outputs():
        lines.append(f"Output {p.idents[name]}: {graph.result(name).shape_text} per sample")
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


def _class(graph: Graph, p: Plan) -> str:
    init = [f"{INDENT * 2}super().__init__()"]
    for name, call in p.modules.items():
        ident = p.idents[name]
        init += _wrap(f"{INDENT * 2}self.{ident} = ", call.source(), _origin(name, ident))
    forward = []
    for step in p.steps:
        comment = graph.result(step.name).shape_text
        forward += _wrap(f"{INDENT * 2}{step.ident} = ", _expression(step), comment)
    result = p.returns[0] if len(p.returns) == 1 else ", ".join(p.returns)
    forward.append(f"{INDENT * 2}return {result}")
    return "\n".join([
        f"class {p.class_name}(nn.Module):",
        f"{INDENT}def __init__(self):",
        *init,
        "",
        f"{INDENT}def forward(self, {', '.join(p.arguments)}):",
        *forward,
        "",
    ])


def _expression(step: Step) -> str:
    return step.expression(lambda ident: f"self.{ident}")


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


def _layout(head: str, call: str, indent: str) -> list[str]:
    if len(head + call) <= LINE_LENGTH or not call.endswith((")", "]")):
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
            _with_comma(_layout(deeper, arg, deeper))
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
