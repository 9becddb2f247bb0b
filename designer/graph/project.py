"""The project file: versioned JSON, written atomically, read defensively.

Loading never executes anything from the file. Every problem becomes one
:class:`ProjectFileError` whose message says what is wrong and where
(``nodes[3] "conv1": kernel_size: must be between 1 and 4096, got 0``).
"""

from __future__ import annotations

import difflib
import json
import math
import os
import re
import stat
from pathlib import Path
from typing import Any

import networkx as nx

from designer.graph.errors import GraphError, ProjectFileError
from designer.graph.files import write_atomic
from designer.graph.graph import Edge, Graph
from designer.graph.groups import Group
from designer.graph.registry import REGISTRY, Registry

FORMAT = "designer-project"
VERSION = 2  # the newest version this reads and writes; version 1 files read unchanged
NESTED_GROUPS = 2  # the version that added a group's "parent" and "kind"
MAX_FILE_BYTES = 64 << 20
MAX_NODES = 100_000
MAX_EDGES = 400_000


def graph_to_dict(graph: Graph) -> dict[str, Any]:
    nodes = []
    for node in graph.nodes.values():
        nodes.append({
            "name": node.name,
            "type": node.type,
            "params": node.spec.to_json(node.params),
            "position": [round(node.position[0], 2), round(node.position[1], 2)],
        })
    edges: list[dict[str, Any]] = []
    for edge in graph.edges:
        entry: dict[str, Any] = {"source": edge.source, "target": edge.target}
        if graph.node(edge.target).spec.max_inputs != 1:
            entry["port"] = edge.port
        edges.append(entry)
    data: dict[str, Any] = {
        "format": FORMAT,
        "version": 1,
        "name": graph.name,
        "description": graph.description,
        "nodes": nodes,
        "edges": edges,
    }
    if graph.groups:  # only when there are any: files without groups read as before
        order = graph.topological_order()
        data["groups"] = [_group_entry(graph.groups[name], order) for name in _outer_first(graph)]
        if any("parent" in g or "kind" in g for g in data["groups"]):
            data["version"] = NESTED_GROUPS  # older versions would misread nested groups: they refuse it
    data["training"] = graph.meta.get("training", {})
    data["dataset"] = graph.meta.get("dataset", {})
    return data


def dumps(graph: Graph) -> str:
    """JSON with one node or edge per line, so version-control diffs stay readable."""
    data = graph_to_dict(graph)
    lines = ["{"]
    for i, (key, value) in enumerate(data.items()):
        comma = "," if i < len(data) - 1 else ""
        if key in ("nodes", "edges", "groups") and value:
            items = ",\n".join("    " + _compact(v) for v in value)
            lines.append(f'  "{key}": [\n{items}\n  ]{comma}')
        else:
            lines.append(f"  {_compact(key)}: {_compact(value)}{comma}")
    return "\n".join(lines) + "\n}\n"


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def save(graph: Graph, path: str | os.PathLike[str]) -> None:
    """Write the project atomically: a crash mid-save leaves the old file whole."""
    write_atomic(Path(path), dumps(graph).encode("utf-8"))


# -- reading -----------------------------------------------------------------

MAX_DEPTH = 64  # nesting of objects and lists, anywhere in the file
MAX_INT_DIGITS = 20


def _reject_constant(token: str) -> float:
    raise ValueError(f"{token} is not a number JSON allows")


def _parse_int(text: str) -> int:
    digits = text.lstrip("-")
    if len(digits) > MAX_INT_DIGITS:
        raise ValueError(f"the number {_clip(text, 24)} is too large")
    return int(text)


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {_clip(text, 24)} is too large")
    return value


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


MAX_MESSAGE = 1000


def _one_line(text: str) -> str:
    """A message fit for one line of a terminal: control characters escaped, length capped.

    Names and parameter keys come from the file and may hold newlines or be huge.
    """
    if not text.isprintable():
        text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return _clip(text, MAX_MESSAGE)


def _describe(value: Any) -> str:
    """A short repr for messages: a file may hold a megabyte where a name belongs."""
    return _clip(repr(value))


_ESCAPED_SURROGATE = re.compile(r"\\[uU][dD][89a-fA-F]")


def _check_document(data: Any, text: str) -> None:
    """Refuse nesting deeper than any project needs, and text that is not valid Unicode.

    JSON escapes can spell lone surrogates (``"\\ud800"``), which no file can hold:
    such a name would load, then fail to save or to print. The check walks the
    document only where ``text`` can hold either problem, and names the place
    only once it has found one.
    """
    strings = _ESCAPED_SURROGATE.search(text) is not None or not _encodable(text)
    if not _document_is_clean(data, strings):
        _report_document(data)


def _document_is_clean(data: Any, strings: bool) -> bool:
    """The fast pass of :func:`_check_document`: no paths, strings only if ``strings``."""
    if not isinstance(data, (dict, list)):
        return not (strings and isinstance(data, str) and not _encodable(data))
    stack: list[tuple[dict[str, Any] | list[Any], int]] = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if depth >= MAX_DEPTH:
            return False
        if isinstance(value, dict):
            if strings and not all(map(_encodable, value)):
                return False
            items: Any = value.values()
        else:
            items = value
        for item in items:
            if isinstance(item, (dict, list)):
                stack.append((item, depth + 1))
            elif strings and isinstance(item, str) and not _encodable(item):
                return False
    return True


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _report_document(data: Any) -> None:
    """Find the first problem :func:`_check_document` saw, in reading order, and say where it is."""
    stack: list[tuple[Any, int, str]] = [(data, 0, "")]
    while stack:
        value, depth, where = stack.pop()
        if isinstance(value, str):
            _check_text(value, where)
        elif isinstance(value, (dict, list)):
            if depth >= MAX_DEPTH:
                raise ProjectFileError(f"{_clip(where) or 'the file'}: nested more than {MAX_DEPTH} "
                                       "levels deep")
            inner: list[tuple[Any, int, str]] = []
            if isinstance(value, dict):
                for key, item in value.items():
                    place = f"{where}.{_clip(str(key), 40)}" if where else _clip(str(key), 40)
                    _check_text(str(key), place)
                    inner.append((item, depth + 1, place))
            else:
                inner.extend((item, depth + 1, f"{where}[{i}]") for i, item in enumerate(value))
            stack.extend(reversed(inner))  # the first problem in the file's order
    raise AssertionError("_report_document found nothing to report")  # pragma: no cover


def _check_text(text: str, where: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ProjectFileError(f"{where or 'the file'}: text with an invalid character "
                               f"(\\u{ord(text[exc.start]):04x} at position {exc.start})") from None


def loads(text: str | bytes, registry: Registry = REGISTRY, source: str = "project") -> Graph:
    """The graph in a project file's contents; any problem is a :class:`ProjectFileError`."""
    if isinstance(text, (bytes, bytearray, memoryview)):
        try:
            text = bytes(text).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ProjectFileError(f"{source}: not a text file (byte {exc.start} is not UTF-8)") from None
    if not isinstance(text, str):
        raise ProjectFileError(f"{source}: expected the file's text, got {type(text).__name__}")
    if not text.strip():
        raise ProjectFileError(f"{source}: the file is empty")
    try:
        data = json.loads(text, parse_constant=_reject_constant, parse_int=_parse_int,
                          parse_float=_parse_float)
    except json.JSONDecodeError as exc:
        raise ProjectFileError(
            f"{source}: not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    except RecursionError:
        raise ProjectFileError(f"{source}: not valid JSON: nested too deeply") from None
    except ValueError as exc:
        raise ProjectFileError(f"{source}: not valid JSON: {exc}") from None
    try:
        _check_document(data, text)
        return graph_from_dict(data, registry)
    except ProjectFileError as exc:
        raise ProjectFileError(_one_line(f"{source}: {exc}")) from None


def load(path: str | os.PathLike[str], registry: Registry = REGISTRY) -> Graph:
    """The graph in the project file at ``path``; any problem is a :class:`ProjectFileError`."""
    try:
        path = Path(path)
    except TypeError:
        raise ProjectFileError(f"expected a file path, got {type(path).__name__}") from None
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise ProjectFileError(f"{path}: is a folder, not a project file")
        if not stat.S_ISREG(info.st_mode):
            raise ProjectFileError(f"{path}: not a regular file")
        if info.st_size > MAX_FILE_BYTES:
            raise ProjectFileError(f"{path}: {info.st_size:,} bytes is too large for a project file")
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            raise ProjectFileError(f"{path}: more than {MAX_FILE_BYTES:,} bytes is too large "
                                   "for a project file")
    except ProjectFileError:
        raise
    except IsADirectoryError:
        raise ProjectFileError(f"{path}: is a folder, not a project file") from None
    except FileNotFoundError:
        raise ProjectFileError(f"{path}: no such file") from None
    except OSError as exc:
        raise ProjectFileError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    except ValueError as exc:  # a NUL byte in the path, for one
        raise ProjectFileError(f"{_describe(str(path))}: not a usable file name: {exc}") from None
    graph = loads(data, registry, str(path))
    if graph.name == "network":
        graph.name = path.stem
    return graph


_MISSING: Any = object()


def _expect(value: Any, kind: type | tuple[type, ...], where: str, what: str) -> Any:
    if value is _MISSING:
        raise ProjectFileError(f"{where}: missing; expected {what}")
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        raise ProjectFileError(f"{where}: expected {what}, got {_json_type(value)}")
    return value


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "text", bool: "true/false",
             int: "a number", float: "a number", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def graph_from_dict(data: Any, registry: Registry = REGISTRY) -> Graph:
    """The graph a parsed project file describes; any problem is a :class:`ProjectFileError`."""
    _expect(data, dict, "the file", "a JSON object")
    if data.get("format") != FORMAT:
        raise ProjectFileError(f'not a Designer project ("format" is {_describe(data.get("format"))}, '
                               f"expected {FORMAT!r})")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ProjectFileError(f'"version" must be a whole number, got {_describe(version)}')
    if version > VERSION:
        raise ProjectFileError(f"version {_clip(str(version), 24)} was written by a newer Designer; "
                               f"this one reads versions up to {VERSION}")
    if version < 1:
        raise ProjectFileError(f"unknown version {_clip(str(version), 24)}")
    nodes = _expect(data.get("nodes", _MISSING), list, '"nodes"', "a list")
    edges = _expect(data.get("edges", []), list, '"edges"', "a list")
    if len(nodes) > MAX_NODES or len(edges) > MAX_EDGES:
        raise ProjectFileError(f"{len(nodes):,} nodes and {len(edges):,} edges is more than "
                               f"this version handles ({MAX_NODES:,} and {MAX_EDGES:,})")
    graph = Graph(registry)
    graph.name = _expect(data.get("name", "network"), str, '"name"', "text") or "network"
    graph.description = _expect(data.get("description", ""), str, '"description"', "text")
    for key in ("training", "dataset"):
        graph.meta[key] = dict(_expect(data.get(key, {}), dict, f'"{key}"', "an object"))
    # Registry is a Mapping whose lookups raise UnknownBlockError, not KeyError,
    # so ``in`` would raise instead of answering: ask a plain set.
    known = frozenset(registry)
    with graph.deferred_inference():
        for i, entry in enumerate(nodes):
            _add_node(graph, known, entry, f"nodes[{i}]")
        parsed = _parse_edges(graph, edges)
        # Before any edge goes in: inference cannot order a graph with a loop,
        # and leaving this block runs it, error or not.
        _check_acyclic(graph, parsed)
        for where, edge in parsed:
            try:
                graph.restore_edge(edge)
            except GraphError as exc:
                raise ProjectFileError(f"{where} {edge.source} → {edge.target}: {exc}") from None
    _add_groups(graph, _expect(data.get("groups", []), list, '"groups"', "a list"))
    return graph


def _outer_first(graph: Graph) -> list[str]:
    """Group names with each parent before the groups inside it, as reading them back needs."""
    order: list[str] = []
    pending: list[str | None] = [None]
    while pending:
        children = graph.groups.children(pending.pop(0))
        order += children
        pending += children
    return order


def _group_entry(group: Group, order: list[str]) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": group.name, "members": [n for n in order if n in group.members],
                             "collapsed": group.collapsed}
    if group.parent is not None:  # only when nested: files of flat groups read as before
        entry["parent"] = group.parent
    if group.kind:
        entry["kind"] = group.kind
    return entry


def _add_groups(graph: Graph, groups: list[Any]) -> None:
    for i, entry in enumerate(groups):
        where = f"groups[{i}]"
        _expect(entry, dict, where, "an object")
        name = _expect(entry.get("name", _MISSING), str, f'{where}: "name"', "text")
        where = f"{where} {_clip(json.dumps(name, ensure_ascii=False))}"
        members = _expect(entry.get("members", _MISSING), list, f"{where}: members", "a list of block names")
        if not all(isinstance(m, str) for m in members):
            raise ProjectFileError(f"{where}: members must be block names")
        collapsed = _expect(entry.get("collapsed", False), bool, f"{where}: collapsed", "true/false")
        parent = entry.get("parent")
        if parent is not None:
            _expect(parent, str, f"{where}: parent", "a group name written before it")
            if parent not in graph.groups:
                raise ProjectFileError(f"{where}: parent {_clip(json.dumps(parent, ensure_ascii=False))} "
                                       "is not a group written before it")
        kind = _expect(entry.get("kind", ""), str, f"{where}: kind", "a class name")
        try:
            graph.groups.add(name, members, collapsed, parent=parent, kind=kind)
        except GraphError as exc:
            raise ProjectFileError(f"{where}: {exc}") from None


def _add_node(graph: Graph, known: frozenset[str], entry: Any, where: str) -> None:
    _expect(entry, dict, where, "an object")
    name = entry.get("name")
    if not isinstance(name, str):
        raise ProjectFileError(f'{where}: "name" must be text, got {_json_type(name)}')
    where = f"{where} {_clip(json.dumps(name, ensure_ascii=False))}"
    type_name = entry.get("type")
    if not isinstance(type_name, str) or type_name not in known:
        hint = ""
        if isinstance(type_name, str):
            lower = {k.lower(): k for k in known}
            close = difflib.get_close_matches(type_name.lower(), sorted(lower), 1)
            hint = f"; did you mean {lower[close[0]]!r}?" if close else ""
        raise ProjectFileError(f"{where}: unknown block type {_describe(type_name)}{hint}")
    params = _expect(entry.get("params", {}), dict, f"{where}: params", "an object")
    position = entry.get("position", [0, 0])
    if (not isinstance(position, list) or len(position) != 2
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                       and abs(v) < 1e9 for v in position)):
        raise ProjectFileError(f"{where}: position must be [x, y] with two numbers")
    try:
        graph.add_node(type_name, name, params, (position[0], position[1]))
    except GraphError as exc:
        raise ProjectFileError(f"{where}: {exc}") from None
    except OverflowError:  # a number only a parsed dict, never a parsed file, can hold
        raise ProjectFileError(f"{where}: params: a number is too large") from None


def _parse_edges(graph: Graph, edges: list[Any]) -> list[tuple[str, Edge]]:
    """Check each entry's fields and give an edge without "port" the first free one."""
    parsed = []
    taken: dict[str, dict[int, tuple[str, str]]] = {}  # target: port: (entry, source)
    for i, entry in enumerate(edges):
        where = f"edges[{i}]"
        _expect(entry, dict, where, "an object")
        source, target = entry.get("source"), entry.get("target")
        for key, value in (("source", source), ("target", target)):
            if not isinstance(value, str):
                raise ProjectFileError(f'{where}: "{key}" must be a block name, got {_json_type(value)}')
            if value not in graph:
                raise ProjectFileError(f"{where}: {key} {_describe(value)} is not a block in this file")
        port = entry.get("port")
        if port is not None and (not isinstance(port, int) or isinstance(port, bool)
                                 or not 0 <= port < MAX_EDGES):
            raise ProjectFileError(f'{where}: "port" must be a whole number ≥ 0, got {_describe(port)}')
        ports = taken.setdefault(target, {})
        single = graph.node(target).spec.max_inputs == 1
        if port is None:
            port = 0 if single else next(p for p in range(len(ports) + 1) if p not in ports)
        if port in ports:
            earlier, other = ports[port]
            taken_by = f"{earlier} already connects {_describe(other)} to it"
            if single:
                raise ProjectFileError(f"{where}: {_describe(target)} takes one input, and {taken_by}")
            raise ProjectFileError(f"{where}: input {port} of {_describe(target)} is taken twice: {taken_by}")
        ports[port] = (where, source)
        parsed.append((where, Edge(source, target, port)))
    return parsed


def _check_acyclic(graph: Graph, edges: list[tuple[str, Edge]]) -> None:
    """Refuse a loop, showing it; Kahn's algorithm first, since networkx's search is slow."""
    successors: dict[str, list[str]] = {name: [] for name in graph.nodes}
    indegree = dict.fromkeys(graph.nodes, 0)
    for _, edge in edges:
        successors[edge.source].append(edge.target)
        indegree[edge.target] += 1
    ready = [name for name, count in indegree.items() if count == 0]
    while ready:
        for target in successors[ready.pop()]:
            indegree[target] -= 1
            if not indegree[target]:
                ready.append(target)
    left = {name for name, count in indegree.items() if count}
    if not left:
        return
    topology = nx.DiGraph()
    topology.add_edges_from((e.source, e.target) for _, e in edges if e.source in left and e.target in left)
    cycle = nx.find_cycle(topology)
    names = [u for u, *_ in cycle]
    if len(names) > 12:
        names = [*names[:6], f"... {len(names) - 11} more ...", *names[-5:]]
    path = " → ".join([*names, cycle[0][0]])
    raise ProjectFileError(f"the edges form a loop: {path}")
