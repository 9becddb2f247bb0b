"""How the importer words what it cannot import: every op at once, grouped by kind, in one line.

``cannot import 2 kinds of operation: ReLU6 ×35 (features.0.2, features.1.conv.0.2, …), mean ×1 (mean)``:
a kind is a module's class or the function or method called, with how many there are and where
the first few are; when a block's rule refused them, the reason follows. Code is shown as written
(``x[:, 0]``, ``mean(relu, dim=1)``) and cut between arguments, never inside a bracket or a string.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from designer.graph.model_loader import public_name
from designer.graph.shapes import fmt_shape

if TYPE_CHECKING:
    from torch import fx

CODE_LIMIT = 80  # characters of code shown for one call
VALUE_LIMIT = 24  # characters of one argument
EXAMPLES = 3  # places named per kind; more are "…"

_OPERATORS = {"add": "+", "sub": "-", "mul": "*", "truediv": "/", "floordiv": "//", "matmul": "@",
              "pow": "**", "mod": "%", "eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}


@dataclass(frozen=True)
class Problem:
    """One op no block takes: what kind it is, where, why (empty: no block claims its kind), and its code."""

    kind: str
    where: str
    reason: str = ""
    code: str = ""


def listing(problems: Sequence[Problem]) -> str:
    """The one-line message: the kinds in the order first met, each with its count and first places."""
    groups: dict[tuple[str, str], list[Problem]] = {}
    for problem in problems:
        group = groups.setdefault((problem.kind, problem.reason), [])
        if all(p.where != problem.where for p in group):  # two items of one call are one op
            group.append(problem)
    texts = [_group_text(group) for group in groups.values()]
    detailed = any(group[0].reason or (len(group) == 1 and group[0].code) for group in groups.values())
    kinds = len(groups)
    return (f"cannot import {kinds} kind{'s' if kinds != 1 else ''} of operation: "
            + ("; " if detailed else ", ").join(texts))


def _group_text(group: list[Problem]) -> str:
    first = group[0]
    places = [p.where for p in group]
    if len(places) > EXAMPLES:
        places = [*places[:EXAMPLES - 1], "…"]
    text = f"{first.kind} ×{len(group)} ({', '.join(places)})"
    # The code is that of the one op: in a group it would show only the first.
    details = [first.code] if len(group) == 1 and first.code and not first.reason.startswith(first.code) else []
    details += [first.reason] if first.reason else []
    return text + "".join(f": {d}" for d in details)


def function_name(target: Any) -> str:
    """The qualified name of a function fx recorded (``torch.nn.functional.relu``, ``operator.mul``)."""
    from torch.fx.node import _get_qualified_name

    try:
        name = _get_qualified_name(target)
    except Exception:
        name = getattr(target, "__name__", repr(target))
    return public_name(name.replace("_operator.", "operator.", 1))


def kind(node: fx.Node) -> str:
    """A function or method as people name it: ``F.relu6``, ``torch.cat``, ``Tensor.mean``, ``operator.mul``."""
    if node.op == "call_method":
        return f"Tensor.{node.target}"
    return function_name(node.target).replace("torch.nn.functional.", "F.", 1)


def place(node: fx.Node) -> str:
    """Where a function or method is called: its name, and the module whose forward calls it."""
    stack = node.meta.get("nn_module_stack") or {}
    path = next(reversed(stack.values()), ("",))[0] if stack else ""
    return f"{node.name} in {path}" if path else node.name


def code(node: fx.Node) -> str:
    """The call as code (``relu * 2``, ``x[:, 0]``, ``mean(relu, dim=1)``), short enough for a list."""
    name = str(node.target) if node.op == "call_method" else getattr(node.target, "__name__", "?")
    if getattr(node.target, "__module__", "") == "_operator" and len(node.args) == 2 and not node.kwargs:
        left, right = node.args
        if name == "getitem":
            entries = right if isinstance(right, tuple) else (right,)
            return _cut(f"{value_text(left)}[", [value_text(e) for e in entries], "]")
        if name in _OPERATORS:
            return f"{value_text(left)} {_OPERATORS[name]} {value_text(right)}"
    args, head = (node.args[1:], f"{value_text(node.args[0])}.{name}(") if node.op == "call_method" \
        and node.args else (node.args, f"{name}(")
    parts = [value_text(a) for a in args] + [f"{k}={value_text(v)}" for k, v in node.kwargs.items()]
    return _cut(head, parts, ")")


def _cut(head: str, parts: list[str], close: str, limit: int = CODE_LIMIT) -> str:
    """``head`` + the parts that fit, then ``…`` for the rest, and ``close``: brackets stay balanced."""
    shown: list[str] = []
    for i, part in enumerate(parts):
        rest = 0 if i == len(parts) - 1 else len(", …")
        if len(head) + len(", ".join([*shown, part])) + rest + len(close) > limit:
            shown.append("…")
            break
        shown.append(part)
    return head + ", ".join(shown) + close


def value_text(value: Any, limit: int = VALUE_LIMIT) -> str:
    """One argument as code: a node by its name, ``(96,)`` for a one-tuple, long values cut closed."""
    from torch import fx

    if isinstance(value, fx.Node):
        return value.name
    if value is Ellipsis:
        return "..."
    if isinstance(value, slice):
        parts = ["" if v is None else value_text(v, limit) for v in (value.start, value.stop, value.step)]
        return ":".join(parts[:2] if value.step is None else parts)
    if isinstance(value, (list, tuple)):
        open_, close = ("[", "]") if isinstance(value, list) else ("(", ")")
        if isinstance(value, tuple) and len(value) == 1:
            close = ",)"
        return _cut(open_, [value_text(v, limit) for v in value], close, limit)
    if isinstance(value, str):
        text = repr(value)
        return text if len(text) <= limit else repr(value[:max(limit - 3, 1)])[:-1] + "…" + text[-1]
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return f"tensor({fmt_shape(tuple(value.shape))})"
    text = repr(value)
    return text if len(text) <= limit and "\n" not in text else f"{type(value).__name__}(…)"
