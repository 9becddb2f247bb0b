"""File ▸ Export: the open graph as Python code, a training script, ONNX, pt2, weights or a diagram.

Each command takes the open document and the window's
:class:`~designer.ui.actions.Prompts`. It refuses a graph with errors up front,
naming the first block that has one. Python code and the training script are
shown in a :class:`~designer.ui.export_dialog.CodePreviewDialog` first. Paths
come from ``prompts.ask_export_path`` and failures from the exporters go to
``prompts.show_error``: one message, no traceback.

Nothing here imports torch: :mod:`designer.export` and
:mod:`designer.train_script` import it inside the functions that need it, and
they, like :func:`~designer.ui.render.render`, write every file atomically.
"""

from __future__ import annotations

import contextlib
import importlib.util
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from designer.graph.errors import GraphError
from designer.ui.actions import Prompts
from designer.ui.document import Document
from designer.ui.export_dialog import CodePreviewDialog
from designer.ui.messages import user_message

ONNX_MISSING = "ONNX export needs the onnx and onnxscript packages: pip install 'designer[onnx]'"
T = TypeVar("T")
TORCH_EXPORTERS: tuple[type[BaseException], ...] = (Exception,)  # torch's own errors are many and untyped


@dataclass(frozen=True)
class ExportFormat:
    what: str  # "Python code": titles say "Export Python code", "Cannot export Python code"
    filter: str  # for the file dialog
    suffix: str  # added to a path given without one; "" for a folder

    @property
    def title(self) -> str:
        return f"Export {self.what}"


PYTHON = ExportFormat("Python code", "Python files (*.py)", ".py")
TRAIN_SCRIPT = ExportFormat("training script", "A folder for model.py and train.py (*)", "")
ONNX = ExportFormat("ONNX model", "ONNX models (*.onnx)", ".onnx")
PT2 = ExportFormat("ExportedProgram", "PyTorch ExportedProgram (*.pt2)", ".pt2")
WEIGHTS = ExportFormat("initial weights",
                       "safetensors (*.safetensors);;PyTorch state_dict (*.pt *.pth)", ".safetensors")
TRAINED = ExportFormat("trained network",
                       "safetensors weights (*.safetensors);;PyTorch state_dict (*.pt *.pth);;"
                       "ONNX models (*.onnx);;PyTorch ExportedProgram (*.pt2)", ".safetensors")
DIAGRAM = ExportFormat("diagram", "PNG images (*.png);;SVG pictures (*.svg)", ".png")


def onnx_available() -> bool:
    """Whether the onnx extra is installed; looked up without importing it (that takes seconds)."""
    return all(importlib.util.find_spec(name) is not None for name in ("onnx", "onnxscript"))


# -- the commands -----------------------------------------------------------------------


def export_python(document: Document, prompts: Prompts) -> CodePreviewDialog | None:
    """Show the model file; Save… writes it. Returns the open preview, or None if refused."""
    from designer.export import export_python as write
    from designer.graph.python_code import python_source

    graph = document.graph
    source = _generate(document, prompts, PYTHON, lambda: python_source(graph))
    if source is None:
        return None
    name = f"{_stem(document)}.py"
    return _preview(document, prompts, PYTHON, {name: source}, lambda path: write(graph, path))


def export_train_script(document: Document, prompts: Prompts) -> CodePreviewDialog | None:
    """Show train.py and model.py in tabs; Save… writes both into a folder, as ``designer export`` does."""
    from designer.graph.python_code import python_source
    from designer.train_script import MODEL_FILE, SCRIPT_FILE, export_train_script, train_script_source

    graph, base_dir = document.graph, _base_dir(document)
    files = _generate(document, prompts, TRAIN_SCRIPT, lambda: {
        SCRIPT_FILE: train_script_source(graph, None, base_dir),
        MODEL_FILE: python_source(graph),
    })
    if files is None:
        return None
    return _preview(document, prompts, TRAIN_SCRIPT, files,
                    lambda folder: export_train_script(graph, folder, None, base_dir))


def export_onnx(document: Document, prompts: Prompts) -> bool:
    if not onnx_available():
        prompts.show_error(f"Cannot export {ONNX.what}", ONNX_MISSING)
        return False
    from designer.export import export_onnx as write

    graph = document.graph
    return _export_file(document, prompts, ONNX, lambda path: write(graph, path), TORCH_EXPORTERS)


def export_pt2(document: Document, prompts: Prompts) -> bool:
    from designer.export import export_pt2 as write

    graph = document.graph
    return _export_file(document, prompts, PT2, lambda path: write(graph, path), TORCH_EXPORTERS)


def export_weights(document: Document, prompts: Prompts) -> bool:
    """The freshly initialised weights (seed 0), as .safetensors or .pt by the suffix."""
    from designer.export import export_weights as write

    graph = document.graph
    return _export_file(document, prompts, WEIGHTS, lambda path: write(graph, path))


def export_trained(document: Document, prompts: Prompts, checkpoint: Path) -> bool:
    """A run's trained network, by the suffix chosen: weights, ONNX or an ExportedProgram."""
    from designer.export import export_onnx as write_onnx
    from designer.export import export_pt2 as write_pt2
    from designer.export import export_weights as write_weights
    from designer.training.trained import open_trained

    path = _ask_path(document, prompts, TRAINED)
    if path is None:
        return False
    if path.suffix == ".onnx" and not onnx_available():
        prompts.show_error(f"Cannot export {TRAINED.what}", ONNX_MISSING)
        return False
    writers = {".onnx": write_onnx, ".pt2": write_pt2}

    def write(target: Path) -> None:
        trained = open_trained(checkpoint)  # a TrainingError is a GraphError: _write reports it
        weights = trained.model.state_dict()
        writers.get(target.suffix, write_weights)(trained.graph, target, weights)

    return _write(document, prompts, TRAINED, path, write, TORCH_EXPORTERS)


def export_diagram(document: Document, prompts: Prompts) -> bool:
    """The network as drawn, as PNG or SVG by the suffix; a graph with errors is drawn with them."""
    from designer.ui.render import render

    path = _ask_path(document, prompts, DIAGRAM)
    if path is None:
        return False
    graph = document.graph
    return _write(document, prompts, DIAGRAM, path, lambda target: render(graph, target, None))


# -- the steps they share ---------------------------------------------------------------


def refuse_errors(document: Document, prompts: Prompts, fmt: ExportFormat) -> bool:
    """Say why a graph with errors cannot be exported; True if it was refused."""
    errors = document.graph.errors()
    if not errors:
        return False
    node, message = errors[0]
    text = f"{node}: {message}" if node else message
    if len(errors) > 1:
        text += f"\n\n{len(errors) - 1} more error{'s' if len(errors) > 2 else ''} in the graph."
    prompts.show_error(f"Cannot export {fmt.what}", f"The graph has errors. {text}")
    return True


def _generate(document: Document, prompts: Prompts, fmt: ExportFormat, make: Callable[[], T]) -> T | None:
    if refuse_errors(document, prompts, fmt):
        return None
    try:
        with _busy():  # the first export imports torch
            return make()
    except GraphError as exc:
        prompts.show_error(f"Cannot export {fmt.what}", str(exc))
        return None


def _preview(document: Document, prompts: Prompts, fmt: ExportFormat, files: Mapping[str, str],
             save: Callable[[Path], object]) -> CodePreviewDialog:
    """Open the preview without blocking; its Save… asks for a path and writes, then closes it."""
    dialog = CodePreviewDialog(fmt.title, files, prompts.dialog_parent())
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.setWindowModality(Qt.WindowModality.WindowModal)

    def on_save() -> None:
        path = _ask_path(document, prompts, fmt)
        if path is not None and _write(document, prompts, fmt, path, save):
            dialog.accept()

    dialog.save_requested.connect(on_save)
    dialog.open()
    return dialog


def _export_file(document: Document, prompts: Prompts, fmt: ExportFormat, write: Callable[[Path], None],
                 errors: tuple[type[BaseException], ...] = ()) -> bool:
    if refuse_errors(document, prompts, fmt):
        return False
    path = _ask_path(document, prompts, fmt)
    if path is None:
        return False
    return _write(document, prompts, fmt, path, write, errors)


def _write(document: Document, prompts: Prompts, fmt: ExportFormat, path: Path, write: Callable[[Path], object],
           errors: tuple[type[BaseException], ...] = ()) -> bool:
    """Write ``path``; say what was written on the status bar, or why it failed in a dialog."""
    caught: tuple[type[BaseException], ...] = (GraphError, OSError, *errors)
    try:
        with _busy():
            result = write(path)
    except caught as exc:
        prompts.show_error(f"Cannot export {fmt.what}", user_message(exc))
        return False
    written = result if isinstance(result, list) else [path]  # a training script lists its files
    prompts.show_status(f"Exported {', '.join(map(str, written))}")
    return True


def _ask_path(document: Document, prompts: Prompts, fmt: ExportFormat) -> Path | None:
    suggested = _base_dir(document) or Path.cwd()
    name = f"{_stem(document)}-training" if fmt is TRAIN_SCRIPT else f"{_stem(document)}{fmt.suffix}"
    text = prompts.ask_export_path(fmt.title, str(suggested / name), fmt.filter)
    if not text:
        return None
    path = Path(text)
    return path.with_suffix(fmt.suffix) if fmt.suffix and not path.suffix else path


def _stem(document: Document) -> str:
    """The project file's name, or the graph's, made safe as a file name."""
    stem = document.path.stem if document.path is not None else document.graph.name
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in stem).strip("._")
    return safe or "network"


def _base_dir(document: Document) -> Path | None:
    """The project file's folder: exports go beside it, and a relative dataset path starts there."""
    path = document.path
    return path.resolve().parent if path is not None else None


@contextlib.contextmanager
def _busy() -> Iterator[None]:
    QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    try:
        yield
    finally:
        QApplication.restoreOverrideCursor()
