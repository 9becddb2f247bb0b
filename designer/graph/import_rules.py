"""Every block's import rules in one table, by the qualified name of the module class or call they match.

The rules are written in the blocks' specs (:mod:`designer.graph.spec`: ``FromModule``,
``FromCall``, ``FromAttribute``) with torch objects named by strings; this module
resolves the names once (a package that is not installed, torchvision, is matched by
name alone) and finds the rules for a traced node. One of Designer's own helper
classes, as an exported file defines it, finds the rules of the blocks that use it.
"""

from __future__ import annotations

import functools
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from designer.graph.import_problems import function_name
from designer.graph.registry import REGISTRY
from designer.graph.spec import BlockSpec, FromAttribute, FromCall, FromModule

if TYPE_CHECKING:
    from torch import fx



@dataclass(frozen=True)
class Rules:
    """Every block's import rules, by the qualified name of the module class or the call they match.

    ``helpers`` holds the module rules of the blocks whose class is one of Designer's helpers
    (:mod:`designer.graph.helpers`), by the helper's name: an exported file defines that class
    itself, and it is the block as surely as the class the rule names (torchvision's).
    """

    modules: dict[str, list[tuple[BlockSpec, FromModule]]]
    calls: dict[str, list[tuple[BlockSpec, FromCall]]]
    attributes: list[tuple[BlockSpec, FromAttribute]]
    helpers: dict[str, list[tuple[BlockSpec, FromModule]]]


@functools.cache
def rules() -> Rules:
    modules: dict[str, list[tuple[BlockSpec, FromModule]]] = {}
    calls: dict[str, list[tuple[BlockSpec, FromCall]]] = {}
    attributes: list[tuple[BlockSpec, FromAttribute]] = []
    helpers: dict[str, list[tuple[BlockSpec, FromModule]]] = {}
    for spec in REGISTRY.values():
        for rule in spec.imports:
            if isinstance(rule, FromAttribute):
                attributes.append((spec, rule))
            elif isinstance(rule, FromModule):
                found = None if "." in rule.cls else _resolve(f"torch.nn.{rule.cls}")
                modules.setdefault(rule.cls if found is None else qualified(found), []).append((spec, rule))
                for helper in spec.helpers:
                    helpers.setdefault(helper, []).append((spec, rule))
            else:
                target = rule.target
                if not target.startswith("Tensor."):
                    found = _resolve(target)
                    target = function_name(found) if found is not None else target
                calls.setdefault(target, []).append((spec, rule))
    return Rules(modules, calls, attributes, helpers)


# Per class, as the tracer asks for every module it meets; weak, so a user's classes can go.
_by_class: weakref.WeakKeyDictionary[type, list[tuple[BlockSpec, FromModule]]] = weakref.WeakKeyDictionary()


def module_rules(cls: type) -> list[tuple[BlockSpec, FromModule]]:
    """The rules of the blocks a module class is: by its qualified name, or as the helper it is."""
    found = _by_class.get(cls)
    if found is None:
        found = _by_class[cls] = _find_module_rules(cls)
    return found


def _find_module_rules(cls: type) -> list[tuple[BlockSpec, FromModule]]:
    table = rules()
    found = table.modules.get(qualified(cls))
    if found is None and cls.__name__ in table.helpers:
        from designer.graph.helpers import helper_of

        helper = helper_of(cls)  # reads the class's source: only for a class named like a helper
        found = table.helpers.get(helper) if helper is not None else None
    return found or []


def _resolve(name: str) -> Any:
    """The object a qualified name names, or None where its package is not installed (torchvision)."""
    import importlib

    module_name, _, attr = name.rpartition(".")
    try:
        return getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError):
        return None


def qualified(cls: Any) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def call_key(node: fx.Node) -> str:
    return f"Tensor.{node.target}" if node.op == "call_method" else function_name(node.target)
