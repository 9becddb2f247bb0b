"""Edit ▸ Group, Ungroup, Collapse/Expand, Repeat and Rename Group, on the canvas's selection.

Each takes the document, the view (for the selection) and the prompts (for a
name or a count, and for the reason an edit is refused); each returns whether
it changed anything.
"""

from __future__ import annotations

from collections.abc import Callable

from designer.graph.errors import GraphError
from designer.ui.actions import Prompts
from designer.ui.canvas.view import GraphView
from designer.ui.document import Document


def group_selection(document: Document, view: GraphView, prompts: Prompts) -> bool:
    """Group the selected blocks under a name the user gives."""
    names = view.graph_scene.selected_nodes()
    if not names:
        prompts.show_status("Select the blocks to group first", 5000)
        return False
    name = prompts.ask_group_name(document.graph.groups.unique_name())
    if not name:
        return False
    return attempt(prompts, "Cannot group", lambda: document.group(names, name))


def ungroup_selection(document: Document, view: GraphView, prompts: Prompts) -> bool:
    groups = view.graph_scene.selected_groups()
    if not groups:
        prompts.show_status("Select a group (or a block in one) to ungroup", 5000)
        return False
    with document.macro(f"Ungroup {', '.join(groups)}"):
        for group in groups:
            document.ungroup(group)
    return True


def toggle_selected_groups(document: Document, view: GraphView, prompts: Prompts) -> bool:
    """Collapse the selected groups, or expand them when all are collapsed."""
    groups = view.graph_scene.selected_groups()
    if not groups:
        prompts.show_status("Select a group (or a block in one) to collapse or expand", 5000)
        return False
    collapse = not all(document.graph.groups[g].collapsed for g in groups)
    for group in groups:
        document.set_group_collapsed(group, collapse)
    return True


def repeat_selected_group(document: Document, view: GraphView, prompts: Prompts) -> bool:
    """Chain copies of the selected group after it, as many as the user asks for."""
    groups = view.graph_scene.selected_groups()
    if len(groups) != 1:
        prompts.show_status("Select one group to repeat", 5000)
        return False
    copies = prompts.ask_repeat_count(groups[0])
    if copies is None:
        return False
    return attempt(prompts, "Cannot repeat", lambda: document.repeat_group(groups[0], copies))


def rename_selected_group(document: Document, view: GraphView, prompts: Prompts) -> bool:
    groups = view.graph_scene.selected_groups()
    if len(groups) != 1:
        prompts.show_status("Select one group to rename", 5000)
        return False
    name = prompts.ask_group_name(groups[0])
    if not name or name == groups[0]:
        return False
    return attempt(prompts, "Cannot rename", lambda: document.rename_group(groups[0], name))


def attempt(prompts: Prompts, title: str, edit: Callable[[], object]) -> bool:
    """Make ``edit``; a refusal from the model is shown in a dialog titled ``title``."""
    try:
        edit()
    except GraphError as exc:
        prompts.show_error(title, str(exc))
        return False
    return True
