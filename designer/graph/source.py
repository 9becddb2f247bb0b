"""Opening a graph from what a user types: a project file path or a template name."""

from __future__ import annotations

import os
from pathlib import Path

from designer.graph.errors import ProjectFileError
from designer.graph.graph import Graph
from designer.graph.project import load as load_file
from designer.graph.templates import load_template, template_names


def load(src: str | os.PathLike[str]) -> Graph:
    """The graph in project file ``src``, or the template named ``src``."""
    text = os.fspath(src)
    path = Path(text)
    if path.exists() or text.endswith(".json") or os.sep in text or "/" in text:
        return load_file(path)
    if text in template_names():
        return load_template(text)
    known = ", ".join(template_names())
    raise ProjectFileError(f"{text!r} is neither a project file nor a template (templates: {known})")
