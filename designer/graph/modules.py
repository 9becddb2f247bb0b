"""Reusable modules: an Inception module, an SE block, an inverted residual, as named groups to drop in.

Each is a fragment (project JSON, see :mod:`designer.graph.fragment`) in
``resources/modules``, made by ``tools/build_modules.py``: the blocks, their
edges and one group naming them. Its first block is an ``Identity`` called
``in``, so the module has one place to connect its input to however many of its
blocks read it. Dropping one from the palette pastes it as one undo step.
"""

from __future__ import annotations

import json
from functools import cache

from designer.graph.errors import ProjectFileError
from designer.graph.project import FORMAT, VERSION
from designer.graph.templates import resources_dir

ENTRY = "in"


def module_names() -> list[str]:
    folder = resources_dir() / "modules"
    return sorted(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []


@cache
def module_text(name: str) -> str:
    """The module's fragment text; a ProjectFileError for one not shipped."""
    if name not in module_names():
        raise ProjectFileError(f"no module named {name!r} (modules: {', '.join(module_names())})")
    text = (resources_dir() / "modules" / f"{name}.json").read_text(encoding="utf-8")
    data = json.loads(text)
    if data.get("format") != FORMAT or data.get("version") not in range(1, VERSION + 1):
        raise ProjectFileError(f"module {name!r} is not a project fragment this Designer reads "
                               f"(versions 1 to {VERSION})")
    return text


def module_description(name: str) -> str:
    return str(json.loads(module_text(name)).get("description", ""))
