"""Exports a training script: ``model.py`` and ``train.py`` in one folder.

``model.py`` is :func:`~designer.graph.python_code.python_source`'s file.
``train.py`` trains it as the project says (its ``training`` and ``dataset``
sections, written into the script as an editable ``CONFIG`` literal), with plain
PyTorch: ``python train.py`` on one device, ``torchrun`` for
DistributedDataParallel on many. Beside them go byte-for-byte copies of
:mod:`designer.training.portable` and :mod:`designer.training.portable_data`,
the engine's own optimizer, schedule, loss, augmentation and dataset readers,
so the script needs torch and numpy but not Designer; and, for the built-in
digits, their data file. The script's text is :mod:`designer.train_script_template`.

User text reaches the script only as Python literals made with ``repr`` (so a
dataset path cannot end a string) and as the plan's class identifier.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from designer.export import ExportError, export_weights, model_with_weights
from designer.graph.compile import plan
from designer.graph.files import make_folder, write_atomic
from designer.graph.graph import Graph
from designer.graph.python_code import INDENT, LINE_LENGTH, python_source
from designer.graph.templates import resources_dir
from designer.train_script_template import TEMPLATE
from designer.training import portable, portable_data
from designer.training.settings import config_comments

if TYPE_CHECKING:
    import torch

MODEL_FILE = "model.py"
SCRIPT_FILE = "train.py"
WEIGHTS_FILE = "initial_weights.pt"
DIGITS_FILE = "digits.npz"  # portable_data reads the built-in digits from here
# The shared modules, copied as they are: the script imports them by these names.
SHARED_MODULES = (Path(portable.__file__), Path(portable_data.__file__))

# Notes on CONFIG's lines (or above, where a line would be too long), for people editing it, by section:
# the training settings' from their schema (as short as fits above a line), with what only this script does.
_NOTES = {
    "training": {
        **config_comments(width=LINE_LENGTH - 2 * len(INDENT) - 2),
        "device": "auto, cpu, cuda, cuda:N or mps (torchrun: one GPU per process)",
        "stats_every": "the app's per-block statistics; unused here",
    },
    "dataset": {
        "name": "digits, shapes, cifar10, cifar100, mnist, fashion_mnist, folder or npz",
        "samples": "shapes",
        "validation": 'share of the training set, "given", or None',
        "normalize": "by the training set's per-channel mean and std",
        "augment": "random crop and flip",
    },
}


def train_script_source(graph: Graph, initial_weights: str | None = None,
                        base_dir: str | Path | None = None) -> str:
    """``train.py``'s text for ``graph``; ``initial_weights`` names a file beside it to start from.

    A relative dataset path is made absolute from ``base_dir`` (the project file's
    folder), where one is given. Raises GraphError for a graph with errors, a
    ConfigError or DataConfigError for bad settings.
    """
    from designer.data.config import DatasetConfig
    from designer.training.config import TrainingConfig

    p = plan(graph)
    input_shape, output_shape = _shapes(graph)
    training = TrainingConfig.from_json(graph.meta.get("training", {})).to_json(full=True)
    dataset_config = DatasetConfig.from_json(graph.meta.get("dataset", {}))
    dataset = {f.name: getattr(dataset_config, f.name) for f in fields(dataset_config)}
    dataset["augment"] = dataset_config.augment.to_json()
    dataset["path"] = _absolute(dataset["path"], base_dir)
    slots = {
        "@CLASS@": p.class_name,
        "@CONFIG@": _config_literal({"training": training, "dataset": dataset}),
        "@INPUT_SHAPE@": _literal(tuple(input_shape)),
        "@OUTPUT_SHAPE@": _literal(tuple(output_shape)),
        "@INITIAL_WEIGHTS@": _literal(initial_weights),
    }
    # One pass, so that no slot's name inside a filled-in value (a path) is filled in again.
    return re.sub("|".join(map(re.escape, slots)), lambda match: slots[match.group()], TEMPLATE)


def export_train_script(graph: Graph, folder: str | Path, weights: Mapping[str, torch.Tensor] | None = None,
                        base_dir: str | Path | None = None, *, replace_read_only: bool = False) -> list[Path]:
    """Write ``model.py``, ``train.py`` and the modules it imports into ``folder``.

    Also ``initial_weights.pt`` with ``weights``, and ``digits.npz`` when the
    project trains on the built-in digits. The folder is made if missing.
    Everything is checked before anything is written; each file is written
    atomically. Returns the files written.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ExportError(f"{folder}: is a file; a training script is a folder (model.py and train.py), "
                          "give a folder's path")
    model = python_source(graph)
    script = train_script_source(graph, WEIGHTS_FILE if weights is not None else None, base_dir)
    state = model_with_weights(graph, weights).state_dict() if weights is not None else None
    files = {MODEL_FILE: model.encode("utf-8"), SCRIPT_FILE: script.encode("utf-8")}
    files.update({module.name: module.read_bytes() for module in SHARED_MODULES})
    if _dataset_name(graph) == "digits":
        files[DIGITS_FILE] = (resources_dir() / "datasets" / DIGITS_FILE).read_bytes()
    make_folder(folder)
    written = [folder / name for name in files]
    for path, data in zip(written, files.values()):
        write_atomic(path, data, replace_read_only=replace_read_only)
    if state is not None:
        written.append(folder / WEIGHTS_FILE)
        export_weights(graph, written[-1], state, replace_read_only=replace_read_only)
    return written


def _dataset_name(graph: Graph) -> str:
    from designer.data.config import DatasetConfig

    return DatasetConfig.from_json(graph.meta.get("dataset", {})).name


def _shapes(graph: Graph) -> tuple[tuple[int, ...], tuple[int, ...]]:
    inputs, outputs = graph.inputs(), graph.outputs()
    if len(inputs) != 1 or len(outputs) != 1:
        raise ExportError(f"a training script needs a graph with one Input and one output; "
                          f"this one has {len(inputs)} and {len(outputs)}")
    input_shape, output_shape = graph.result(inputs[0]).shape, graph.result(outputs[0]).shape
    if input_shape is None or output_shape is None:
        raise ExportError("the graph's shapes are not all known yet; fix the blocks marked unknown")
    return tuple(input_shape), tuple(output_shape)


def _absolute(path: str | None, base_dir: str | Path | None) -> str | None:
    if path is None or base_dir is None or Path(path).expanduser().is_absolute():
        return path
    return os.path.abspath(Path(base_dir) / path)


def _config_literal(config: Mapping[str, Mapping[str, Any]]) -> str:
    """``CONFIG = {...}``, one setting a line with its note, as ruff format lays it out."""
    lines = ["CONFIG = {"]
    for section, values in config.items():
        lines.append(f"{INDENT}{_string(section)}: {{")
        for key, value in values.items():
            line = f"{INDENT * 2}{_string(key)}: {_literal(value)},"
            note = f"  # {_NOTES[section][key]}" if key in _NOTES.get(section, {}) else ""
            if note and len(line + note) > LINE_LENGTH:  # ruff format would split the value
                lines.append(f"{INDENT * 2}#{note[3:]}")
                note = ""
            lines.append(line + note)
        lines.append(f"{INDENT}}},")
    lines.append("}")
    return "\n".join(lines)


def _literal(value: Any) -> str:
    """A JSON-like value as Python source, formatted as ruff format would."""
    if value is None or isinstance(value, (bool, int, float)):
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, tuple):
        items = [_literal(v) for v in value]
        return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
    if isinstance(value, list):
        return f"[{', '.join(_literal(v) for v in value)}]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_string(str(k))}: {_literal(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no literal for {type(value).__name__}")


def _string(text: str) -> str:
    """``repr(text)``, in double quotes unless that needs more escapes (ruff format's choice)."""
    literal = repr(text)
    if literal.startswith('"') or text.count('"') > text.count("'"):
        return literal  # repr chose double quotes, or single ones need fewer escapes
    # In repr's single-quoted text every ' is escaped and no " is.
    return '"' + literal[1:-1].replace("\\'", "'").replace('"', '\\"') + '"'
