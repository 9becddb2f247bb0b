"""What differs between two training runs: their outcome, settings, dataset and graph, row by row.

``diff_runs`` reads two run folders (``run.json``, ``config.json``, ``data.json``
and ``graph.json``; no checkpoint, no torch work) and returns a :class:`RunDiff`:
one :class:`DiffRow` per compared value, sections in a fixed order, so that a
view can show the two runs side by side and highlight the rows that changed.
Settings are compared with their defaults filled in, so a run that states
``lr: 0.01`` and one that leaves it to the default of 0.01 agree. Graph nodes
are matched by name: a node only one run has is added or removed, a node in
both compares its type and each parameter; edges compare as ``source → target``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from designer.graph.registry import REGISTRY, Registry
from designer.training.errors import CheckpointError
from designer.training.runs import RunFolder

SAME, CHANGED, ADDED, REMOVED = "same", "changed", "added", "removed"
ABSENT = "—"  # a value one run does not have
SECTIONS = ("Run", "Training", "Dataset", "Graph")


@dataclass(frozen=True)
class DiffRow:
    """One compared value; ``left``/``right`` are display texts, ABSENT where a run lacks it."""

    section: str
    key: str
    left: str
    right: str
    change: str  # same, changed, added (only the right run has it), removed (only the left has it)

    @property
    def changed(self) -> bool:
        return self.change != SAME


@dataclass(frozen=True)
class RunDiff:
    """Two runs compared: ``rows`` in section order, and the graph's changes by kind."""

    left: Path
    right: Path
    left_name: str
    right_name: str
    rows: tuple[DiffRow, ...]

    def section(self, name: str) -> list[DiffRow]:
        return [row for row in self.rows if row.section == name]

    @property
    def changes(self) -> list[DiffRow]:
        return [row for row in self.rows if row.changed]

    @property
    def causes(self) -> list[DiffRow]:
        """The changes in what the runs were given (settings, data, graph), not in how they ended."""
        return [row for row in self.changes if row.section != "Run"]


def diff_runs(left: str | Path, right: str | Path, registry: Registry = REGISTRY) -> RunDiff:
    """Compare the run folders ``left`` and ``right``; a CheckpointError names a file that cannot be read."""
    a, b = _RunFiles.read(Path(left)), _RunFiles.read(Path(right))
    rows = [
        *diff_values("Run", _outcome(a.info), _outcome(b.info)),
        *diff_values("Training", _training(a.config), _training(b.config)),
        *diff_values("Dataset", _dataset(a.dataset), _dataset(b.dataset)),
        *diff_graphs(a.graph, b.graph, registry),
    ]
    return RunDiff(a.path, b.path, a.label, b.label, tuple(rows))


@dataclass(frozen=True)
class _RunFiles:
    path: Path
    info: dict[str, Any]
    config: dict[str, Any]
    dataset: dict[str, Any]
    graph: dict[str, Any]

    @property
    def label(self) -> str:
        return RunFolder(self.path).label() or str(self.info.get("name") or self.path.name)

    @classmethod
    def read(cls, path: Path) -> _RunFiles:
        folder = RunFolder.open(path)
        config = folder.read_json(folder.config_path) if folder.config_path.is_file() else {}
        graph = folder.read_json(folder.graph_path)
        data_file = folder.path / "data.json"  # the dataset as trained: its path made absolute
        data = folder.read_json(data_file) if data_file.is_file() else {}
        dataset = data.get("dataset", graph.get("dataset", {}))
        if not isinstance(dataset, dict):
            raise CheckpointError(f"{data_file}: 'dataset' should be an object")
        return cls(folder.path, folder.info(), config, dataset, graph)


# -- settings --------------------------------------------------------------------------------


def diff_values(section: str, left: Mapping[str, Any], right: Mapping[str, Any]) -> list[DiffRow]:
    """Key by key, in the left's order then the right's new keys; nested objects as dotted keys."""
    a, b = _flatten(left), _flatten(right)
    rows = []
    for key in [*a, *(k for k in b if k not in a)]:
        rows.append(_row(section, key, a.get(key, _MISSING), b.get(key, _MISSING)))
    return rows


_MISSING = object()


def _row(section: str, key: str, left: Any, right: Any) -> DiffRow:
    if left is _MISSING:
        return DiffRow(section, key, ABSENT, _text(right), ADDED)
    if right is _MISSING:
        return DiffRow(section, key, _text(left), ABSENT, REMOVED)
    return DiffRow(section, key, _text(left), _text(right), SAME if _equal(left, right) else CHANGED)


def _equal(left: Any, right: Any) -> bool:
    # JSON gives 1 and 1.0 for the same setting, and lists where the config had tuples
    if isinstance(left, (int, float)) and isinstance(right, (int, float)) and \
            not isinstance(left, bool) and not isinstance(right, bool):
        return float(left) == float(right)
    return bool(left == right)


def _flatten(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, Mapping) and value:
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _text(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}" if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _outcome(info: Mapping[str, Any]) -> dict[str, Any]:
    """What a run came to, in the words the runs list uses."""
    best = info.get("best_score")
    return {
        "status": info.get("status"),
        "epochs": f"{info.get('epochs_done', 0)} of {info.get('epochs', 0)}",
        "best validation accuracy": f"{best:.2%}" if isinstance(best, (int, float)) else None,
    }  # not the start time: it always differs, and the runs list shows it


def _training(config: Mapping[str, Any]) -> dict[str, Any]:
    """The settings with the defaults filled in (config.json of an older run may leave some out)."""
    from designer.training.config import TrainingConfig

    defaults = TrainingConfig().to_json(full=True)
    return {**defaults, **config}


def _dataset(dataset: Mapping[str, Any]) -> dict[str, Any]:
    from designer.data.config import Augment, DatasetConfig

    defaults: dict[str, Any] = {}
    for f in fields(DatasetConfig):
        value = getattr(DatasetConfig(), f.name)
        defaults[f.name] = value.to_json() if isinstance(value, Augment) else value
    return {**defaults, **dataset}


# -- graphs ----------------------------------------------------------------------------------


def diff_graphs(left: Mapping[str, Any], right: Mapping[str, Any],
                registry: Registry = REGISTRY) -> list[DiffRow]:
    """Nodes (by name: added, removed, type and parameter changes), then edges added or removed."""
    a, b = _nodes(left, registry), _nodes(right, registry)
    rows = []
    for name in [*a, *(n for n in b if n not in a)]:
        if name not in b:
            rows.append(DiffRow("Graph", name, _describe(a[name]), ABSENT, REMOVED))
        elif name not in a:
            rows.append(DiffRow("Graph", name, ABSENT, _describe(b[name]), ADDED))
        else:
            rows.extend(_node_rows(name, a[name], b[name]))
    edges_a, edges_b = _edges(left), _edges(right)
    rows += [DiffRow("Graph", f"edge {e}", "yes", ABSENT, REMOVED) for e in edges_a if e not in edges_b]
    rows += [DiffRow("Graph", f"edge {e}", ABSENT, "yes", ADDED) for e in edges_b if e not in edges_a]
    return rows


@dataclass(frozen=True)
class _Node:
    type: str
    params: dict[str, Any]


def _nodes(graph: Mapping[str, Any], registry: Registry) -> dict[str, _Node]:
    nodes = graph.get("nodes", [])
    out = {}
    for entry in nodes if isinstance(nodes, list) else []:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str):
            continue  # the run's own reader would refuse it; here it is simply not compared
        kind = str(entry.get("type", "?"))
        params = entry.get("params")
        params = params if isinstance(params, Mapping) else {}
        out[entry["name"]] = _Node(kind, {**_defaults(kind, registry), **params})
    return out


def _defaults(kind: str, registry: Registry) -> dict[str, Any]:
    """A block's parameter defaults as JSON values: graph.json leaves out those left at the default."""
    if kind not in registry:
        return {}
    return {p.name: p.to_json(p.default) for p in registry[kind].params}


def _node_rows(name: str, left: _Node, right: _Node) -> list[DiffRow]:
    rows = [DiffRow("Graph", name, left.type, right.type, SAME if left.type == right.type else CHANGED)]
    keys = [*left.params, *(k for k in right.params if k not in left.params)]
    rows += [_row("Graph", f"{name}.{key}", left.params.get(key, _MISSING), right.params.get(key, _MISSING))
             for key in keys]
    return rows


def _describe(node: _Node) -> str:
    shown = ", ".join(f"{k}={_text(v)}" for k, v in node.params.items())
    return f"{node.type}({shown})"


def _edges(graph: Mapping[str, Any]) -> list[str]:
    edges = graph.get("edges", [])
    out = []
    for entry in edges if isinstance(edges, list) else []:
        if isinstance(entry, Mapping):
            port = entry.get("port", 0)
            out.append(f"{entry.get('source')} → {entry.get('target')}" + (f" (input {port})" if port else ""))
    return out


# -- telling runs apart ------------------------------------------------------------------------

LABEL_PARTS = 3  # a run's label names at most this many of the settings that set it apart
# Settings that change how a run is logged, not what it learns: never worth a place in a label.
_QUIET = frozenset({"log_every", "stats_every"})
# The settings people vary most, first; then the rest of training, the dataset and the graph, in file order.
_FIRST = ("lr", "batch_size", "optimizer", "epochs", "schedule", "weight_decay", "dataset.name")
_WORDS = {"batch_size": "batch", "dataset.name": "dataset", "weight_decay": "wd"}
_ALONE = frozenset({"optimizer", "schedule"})  # their value says what they are: "adam", "cosine"


def run_settings(path: str | Path, registry: Registry = REGISTRY) -> dict[str, str]:
    """What a run was given, each value as text: its training settings and dataset (defaults filled in)
    under their own and ``dataset.`` keys, and its graph's parameters under ``graph.<node>.<param>``
    (a node as ``graph.<node>``: its type). A CheckpointError names a file that cannot be read."""
    files = _RunFiles.read(Path(path))
    settings = {key: _text(value) for key, value in _flatten(_training(files.config)).items()
                if key not in _QUIET}
    dataset = _flatten(_dataset(files.dataset))
    settings.update({f"dataset.{key}": _text(value) for key, value in dataset.items()})
    for name, node in _nodes(files.graph, registry).items():
        settings[f"graph.{name}"] = node.type
        settings.update({f"graph.{name}.{key}": _text(value) for key, value in _flatten(node.params).items()})
    return settings


def distinct_labels(names: Sequence[str], settings: Sequence[Mapping[str, str]]) -> list[str]:
    """A label per run that tells runs of the same name apart: the name, then what differs among them.

    Runs given as newest first, each with its :func:`run_settings`; a run alone with
    its name keeps the name ("lenet5"); runs sharing it read "lenet5 · lr 0.05" and
    "lenet5 · lr 0.1", and runs that differ in nothing are numbered from the oldest.
    """
    labels = list(names)
    groups: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        groups.setdefault(name, []).append(i)
    for name, members in groups.items():
        if len(members) < 2:
            continue
        keys = _differing([settings[i] for i in members])[:LABEL_PARTS]
        everywhere = {key for key in keys if all(key in settings[i] for i in members)}
        for place, i in enumerate(members):
            parts = [_part(key, settings[i].get(key), key in everywhere) for key in keys]
            labels[i] = " · ".join([name, *parts] if parts else [name, f"#{len(members) - place}"])
    return labels


def _differing(settings: list[Mapping[str, str]]) -> list[str]:
    """The keys whose value is not the same in every run, the most telling first."""
    keys: list[str] = []
    for values in settings:
        keys += [key for key in values if key not in keys]
    differ = [key for key in keys if len({values.get(key) for values in settings}) > 1]
    nodes = {key for key in differ if key.startswith("graph.") and key.count(".") == 1}
    differ = [key for key in differ if key.rsplit(".", 1)[0] not in nodes]  # a node's presence says it all
    first = [key for key in _FIRST if key in differ]
    return first + [key for key in differ if key not in first]


def _part(key: str, value: str | None, everywhere: bool) -> str:
    """How one differing setting reads in a label: "lr 0.05", "adam", "+drop" (a node the others lack)."""
    if key.startswith("graph.") and key.count(".") == 1 and not everywhere:
        return f"{'+' if value is not None else '−'}{key[6:]}"
    if value is None:
        return f"no {key.removeprefix('graph.')}"
    if key in _ALONE:
        return value
    return f"{_WORDS.get(key, key.removeprefix('graph.'))} {value}"
