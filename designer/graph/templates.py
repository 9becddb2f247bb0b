"""The template projects shipped in ``resources/templates``."""

from __future__ import annotations

import json
from pathlib import Path

from designer.graph.errors import ProjectFileError
from designer.graph.graph import Graph
from designer.graph.project import load


def resources_dir() -> Path:
    """``resources/`` beside the package in a checkout, inside it when installed."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "resources", package.parent / "resources"):
        if (candidate / "templates").is_dir():
            return candidate
    raise FileNotFoundError("the resources folder is missing from this installation")


def template_path(name: str) -> Path:
    return resources_dir() / "templates" / f"{name}.json"


def template_names() -> list[str]:
    return sorted(p.stem for p in (resources_dir() / "templates").glob("*.json"))


def template_description(name: str) -> str:
    data = json.loads(template_path(name).read_text(encoding="utf-8"))
    return str(data.get("description", ""))


def load_template(name: str) -> Graph:
    if name not in template_names():
        known = ", ".join(template_names())
        raise ProjectFileError(f"no template named {name!r} (templates: {known})")
    return load(template_path(name))
