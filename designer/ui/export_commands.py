"""File ▸ Export: the open graph as Python code, a training script, ONNX, pt2, weights or a diagram.

Each command refuses a graph with errors up front, naming the first block that
has one. Python code and the training script are shown in a
:class:`~designer.ui.export_dialog.CodePreviewDialog` first. Paths come from
the window's :meth:`~designer.ui.main_window.MainWindow.ask_export_path` and
failures from the exporters go to its ``show_error``: one message, no traceback.

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
from typing import TYPE_CHECKING, TypeVar

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from designer.graph.errors import GraphError
from designer.ui.export_dialog import CodePreviewDialog
from designer.ui.messages import user_message

if TYPE_CHECKING:
    from designer.ui.main_window import MainWindow

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


def export_python(window: MainWindow) -> CodePreviewDialog | None:
    """Show the model file; Save… writes it. Returns the open preview, or None if refused."""
    from designer.export import export_python as write
    from designer.graph.python_code import python_source

    graph = window.graph
    source = _generate(window, PYTHON, lambda: python_source(graph))
    if source is None:
        return None
    name = f"{_stem(window)}.py"
    return _preview(window, PYTHON, {name: source}, lambda path: write(graph, path))


def export_train_script(window: MainWindow) -> CodePreviewDialog | None:
    """Show train.py and model.py in tabs; Save… writes both into a folder, as ``designer export`` does."""
    from designer.graph.python_code import python_source
    from designer.train_script import MODEL_FILE, SCRIPT_FILE, export_train_script, train_script_source

    graph, base_dir = window.graph, _base_dir(window)
    files = _generate(window, TRAIN_SCRIPT, lambda: {
        SCRIPT_FILE: train_script_source(graph, None, base_dir),
        MODEL_FILE: python_source(graph),
    })
    if files is None:
        return None
    return _preview(window, TRAIN_SCRIPT, files,
                    lambda folder: export_train_script(graph, folder, None, base_dir))


def export_onnx(window: MainWindow) -> bool:
    if not onnx_available():
        window.show_error(f"Cannot export {ONNX.what}", ONNX_MISSING)
        return False
    from designer.export import export_onnx as write

    graph = window.graph
    return _export_file(window, ONNX, lambda path: write(graph, path), TORCH_EXPORTERS)


def export_pt2(window: MainWindow) -> bool:
    from designer.export import export_pt2 as write

    graph = window.graph
    return _export_file(window, PT2, lambda path: write(graph, path), TORCH_EXPORTERS)


def export_weights(window: MainWindow) -> bool:
    """The freshly initialised weights (seed 0), as .safetensors or .pt by the suffix."""
    from designer.export import export_weights as write

    graph = window.graph
    return _export_file(window, WEIGHTS, lambda path: write(graph, path))


def export_trained(window: MainWindow, checkpoint: Path) -> bool:
    """A run's trained network, by the suffix chosen: weights, ONNX or an ExportedProgram."""
    from designer.export import export_onnx as write_onnx
    from designer.export import export_pt2 as write_pt2
    from designer.export import export_weights as write_weights
    from designer.training.trained import open_trained

    path = _ask_path(window, TRAINED)
    if path is None:
        return False
    if path.suffix == ".onnx" and not onnx_available():
        window.show_error(f"Cannot export {TRAINED.what}", ONNX_MISSING)
        return False
    writers = {".onnx": write_onnx, ".pt2": write_pt2}

    def write(target: Path) -> None:
        trained = open_trained(checkpoint)  # a TrainingError is a GraphError: _write reports it
        weights = trained.model.state_dict()
        writers.get(target.suffix, write_weights)(trained.graph, target, weights)

    return _write(window, TRAINED, path, write, TORCH_EXPORTERS)


def export_diagram(window: MainWindow) -> bool:
    """The network as drawn, as PNG or SVG by the suffix; a graph with errors is drawn with them."""
    from designer.ui.render import render

    path = _ask_path(window, DIAGRAM)
    if path is None:
        return False
    graph = window.graph
    return _write(window, DIAGRAM, path, lambda target: render(graph, target, None))


# -- the steps they share ---------------------------------------------------------------


def refuse_errors(window: MainWindow, fmt: ExportFormat) -> bool:
    """Say why a graph with errors cannot be exported; True if it was refused."""
    errors = window.graph.errors()
    if not errors:
        return False
    node, message = errors[0]
    text = f"{node}: {message}" if node else message
    if len(errors) > 1:
        text += f"\n\n{len(errors) - 1} more error{'s' if len(errors) > 2 else ''} in the graph."
    window.show_error(f"Cannot export {fmt.what}", f"The graph has errors. {text}")
    return True


def _generate(window: MainWindow, fmt: ExportFormat, make: Callable[[], T]) -> T | None:
    if refuse_errors(window, fmt):
        return None
    try:
        with _busy():  # the first export imports torch
            return make()
    except GraphError as exc:
        window.show_error(f"Cannot export {fmt.what}", str(exc))
        return None


def _preview(window: MainWindow, fmt: ExportFormat, files: Mapping[str, str],
             save: Callable[[Path], object]) -> CodePreviewDialog:
    """Open the preview without blocking; its Save… asks for a path and writes, then closes it."""
    dialog = CodePreviewDialog(fmt.title, files, window)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.setWindowModality(Qt.WindowModality.WindowModal)

    def on_save() -> None:
        path = _ask_path(window, fmt)
        if path is not None and _write(window, fmt, path, save):
            dialog.accept()

    dialog.save_requested.connect(on_save)
    dialog.open()
    return dialog


def _export_file(window: MainWindow, fmt: ExportFormat, write: Callable[[Path], None],
                 errors: tuple[type[BaseException], ...] = ()) -> bool:
    if refuse_errors(window, fmt):
        return False
    path = _ask_path(window, fmt)
    if path is None:
        return False
    return _write(window, fmt, path, write, errors)


def _write(window: MainWindow, fmt: ExportFormat, path: Path, write: Callable[[Path], object],
           errors: tuple[type[BaseException], ...] = ()) -> bool:
    """Write ``path``; say what was written on the status bar, or why it failed in a dialog."""
    caught: tuple[type[BaseException], ...] = (GraphError, OSError, *errors)
    try:
        with _busy():
            result = write(path)
    except caught as exc:
        window.show_error(f"Cannot export {fmt.what}", user_message(exc))
        return False
    written = result if isinstance(result, list) else [path]  # a training script lists its files
    window.statusBar().showMessage(f"Exported {', '.join(map(str, written))}", 10_000)
    return True


def _ask_path(window: MainWindow, fmt: ExportFormat) -> Path | None:
    suggested = _base_dir(window) or Path.cwd()
    name = f"{_stem(window)}-training" if fmt is TRAIN_SCRIPT else f"{_stem(window)}{fmt.suffix}"
    text = window.ask_export_path(fmt.title, str(suggested / name), fmt.filter)
    if not text:
        return None
    path = Path(text)
    return path.with_suffix(fmt.suffix) if fmt.suffix and not path.suffix else path


def _stem(window: MainWindow) -> str:
    """The project file's name, or the graph's, made safe as a file name."""
    document = window.document
    stem = document.path.stem if document.path is not None else window.graph.name
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in stem).strip("._")
    return safe or "network"


def _base_dir(window: MainWindow) -> Path | None:
    """The project file's folder: exports go beside it, and a relative dataset path starts there."""
    path = window.document.path
    return path.resolve().parent if path is not None else None


@contextlib.contextmanager
def _busy() -> Iterator[None]:
    QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    try:
        yield
    finally:
        QApplication.restoreOverrideCursor()
