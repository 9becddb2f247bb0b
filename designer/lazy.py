"""Packages whose names are loaded on first use (PEP 562).

``designer.data`` and ``designer.training`` re-export names from their modules,
some of which import torch (~1.5 s). The editor imports their torch-free modules
(configs, records, errors) at start-up, so the packages must not import every
module up front: :func:`lazy_names` makes each name load its module when first read.
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Callable, Mapping
from typing import Any


def lazy_names(package: str, homes: Mapping[str, str]) -> Callable[[str], Any]:
    """The ``__getattr__`` for ``package``: name → the module of ``homes[name]`` that defines it.

    It also keeps a name that is both a module and the function it defines
    (``designer.data.prepare``) the function: importing a submodule would otherwise
    set the module as the package's attribute over it.
    """
    module = sys.modules[package]

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{home}"), name)
        setattr(module, name, value)  # later lookups skip this function
        return value

    class _Package(types.ModuleType):
        def __setattr__(self, name: str, value: Any) -> None:
            if isinstance(value, types.ModuleType) and homes.get(name) == name:
                return
            super().__setattr__(name, value)

    module.__class__ = _Package
    return __getattr__
