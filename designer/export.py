"""Writes a graph out in the formats other tools read: Python code, weights, ONNX, torch.export.

Each exporter refuses a graph with errors (the compile plan lists them) and
writes its file atomically, so a failed export never leaves half a file; a
read-only file is replaced only with ``replace_read_only``. Weights and
checkpoints are read back by :func:`read_tensor_file` alone, only through
formats that cannot carry code: ``torch.load`` with ``weights_only=True``, or
safetensors.
"""

from __future__ import annotations

import contextlib
import io
import logging
import pickle
import re
import tempfile
import warnings
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from designer.graph.errors import GraphError
from designer.graph.files import file_problem, write_atomic
from designer.graph.graph import Graph
from designer.graph.python_code import python_source

if TYPE_CHECKING:
    import torch

WEIGHT_SUFFIXES = (".pt", ".pth", ".safetensors")
NOT_TENSORS = "holds Python objects other than tensors; it is not loaded, since unpickling them could run code"
NOT_WEIGHTS = "not a PyTorch or safetensors weights file"
DETAIL_CHARS = 120  # of the reader's own words, after ours
# torch's weights_only message wraps its one useful line in advice for the programmer
_TORCH_ADVICE = ("Weights only load failed", "Please file an issue", "Check the documentation", "(1) ", "(2) ")
_TORCH_CAUSE = "WeightsUnpickler error:"  # what follows is the cause, where torch says it this way
_ESCAPES = re.compile(r"\x1b\[[0-9;]*m")  # torch puts bold text in its messages
# what torch's safe unpickler says when the file asks for an object (and code) rather than bad bytes
_OBJECTS = ("GLOBAL", "Can only build", "Can only create")


class ExportError(GraphError):
    """An export that cannot be done as asked; the message says why in one line."""


class TensorFileError(ExportError):
    """A weights or checkpoint file that cannot be read; ``reason`` is why, without the path."""

    def __init__(self, path: str | Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = Path(path)
        self.reason = reason


def export_python(graph: Graph, path: str | Path, *, replace_read_only: bool = False) -> None:
    write_atomic(Path(path), python_source(graph).encode("utf-8"), replace_read_only=replace_read_only)


def export_weights(graph: Graph, path: str | Path, weights: Mapping[str, torch.Tensor] | None = None,
                   seed: int = 0, *, replace_read_only: bool = False) -> None:
    """The state_dict, as ``.pt`` (``torch.save``) or ``.safetensors`` by the file's suffix.

    Without ``weights``, the freshly initialised weights for ``seed``.
    """
    path = Path(path)
    state = nested_state(graph, model_with_weights(graph, weights, seed).state_dict())
    if path.suffix == ".safetensors":
        from safetensors.torch import save

        data = save({key: value.contiguous() for key, value in state.items()})
    elif path.suffix in (".pt", ".pth"):
        import torch

        buffer = io.BytesIO()
        torch.save(dict(state), buffer)
        data = buffer.getvalue()
    else:
        raise ExportError(f"{path.name}: weights are saved as {', '.join(WEIGHT_SUFFIXES)}; "
                          f"give the file one of these suffixes")
    write_atomic(path, data, replace_read_only=replace_read_only)


def read_tensor_file(path: str | Path) -> object:
    """What a ``.safetensors`` file or a ``torch.save`` file (tensors and plain values only) holds.

    The one reader of weights and checkpoints, so that one cause gets one
    wording wherever a file is read. A TensorFileError says why not: the
    file's problem (a FIFO is named, never opened), code that would have run,
    or not a weights file at all, with the reader's own words shortened after ours.
    """
    import torch

    problem = file_problem(path)
    if problem is not None:
        raise TensorFileError(path, problem)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's note on pickle protocols would be a second line
            if Path(path).suffix == ".safetensors":
                from safetensors.torch import load_file

                return load_file(str(path))
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        reason = NOT_TENSORS if any(words in str(exc) for words in _OBJECTS) else NOT_WEIGHTS
        raise TensorFileError(path, f"{reason} ({_detail(exc)})") from None
    except OSError as exc:
        reason = f"cannot be read: {exc.strerror}" if exc.strerror else f"{NOT_WEIGHTS} ({_detail(exc)})"
        raise TensorFileError(path, reason) from None
    except Exception as exc:  # whatever a malformed file makes the decoder raise (safetensors, zip, ...)
        raise TensorFileError(path, f"{NOT_WEIGHTS} ({_detail(exc)})") from None


def _detail(exc: BaseException) -> str:
    """The reader's own words in one short line: torch's advice to programmers dropped, cut to DETAIL_CHARS."""
    text = str(exc).split(_TORCH_CAUSE, 1)[-1]
    lines = [line.strip() for line in text.splitlines()]
    text = " ".join(line for line in lines if line and not line.startswith(_TORCH_ADVICE))
    text = _ESCAPES.sub("", text.split(" Please use `torch.serialization", 1)[0]) or type(exc).__name__
    return text if len(text) <= DETAIL_CHARS else f"{text[:DETAIL_CHARS - 1]}…"


def load_weights(path: str | Path) -> dict[str, torch.Tensor]:
    """A state_dict from ``.pt``/``.pth`` (tensors only, nothing unpickled) or ``.safetensors``."""
    import torch

    state = read_tensor_file(path)
    if isinstance(state, Mapping) and isinstance(state.get("model"), Mapping):
        state = state["model"]  # a training checkpoint: its model weights
    if not isinstance(state, Mapping) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ExportError(f"{path}: expected a state_dict (names mapped to tensors)")
    return dict(state)


def model_with_weights(graph: Graph, weights: Mapping[str, torch.Tensor] | None = None,
                       seed: int = 0) -> torch.nn.Module:
    """The compiled module in eval mode, with ``weights`` loaded or initialised from ``seed``."""
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = graph.to_torch()
    if weights is not None:
        weights = flat_state(graph, weights)
        check_weights_fit(model.state_dict(), weights)
        model.load_state_dict(weights, strict=True)
    return model.eval()


def nested_state(graph: Graph, state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The compiled module's state_dict with the exported file's keys (``layer1.0.conv1.weight``)."""
    from designer.graph.compile import plan
    from designer.graph.structure import export_keys

    paths = export_keys(graph, plan(graph))
    return {_renamed(key, paths): value for key, value in state.items()}


def flat_state(graph: Graph, weights: Mapping[str, torch.Tensor]) -> Mapping[str, torch.Tensor]:
    """Weights keyed as the exported file keys them, as the compiled module keys them; others as they are."""
    if not graph.groups:
        return weights
    from designer.graph.compile import plan
    from designer.graph.structure import export_keys

    paths = {path: ident for ident, path in export_keys(graph, plan(graph)).items()}
    if any(_renamed(key, paths) != key for key in weights):
        return {_renamed(key, paths): value for key, value in weights.items()}
    return weights


def _renamed(key: str, paths: Mapping[str, str]) -> str:
    """``key`` with its longest prefix found in ``paths`` replaced (a block's own key may hold dots)."""
    parts = key.split(".")
    for cut in range(len(parts), 0, -1):
        head = ".".join(parts[:cut])
        if head in paths:
            return ".".join([paths[head], *parts[cut:]])
    return key


def check_weights_fit(expected: Mapping[str, torch.Tensor], weights: Mapping[str, torch.Tensor]) -> None:
    """Raise ExportError naming the first few keys that are missing, extra or of another shape."""
    missing = [key for key in expected if key not in weights]
    extra = [key for key in weights if key not in expected]
    wrong = [f"{key} is {_dims(weights[key])} in the file, {_dims(value)} here"
             for key, value in expected.items() if key in weights and weights[key].shape != value.shape]
    problems = []
    for label, keys in (("missing", missing), ("not in this graph", extra), ("wrong shape", wrong)):
        if keys:
            more = f" and {len(keys) - 3} more" if len(keys) > 3 else ""
            problems.append(f"{label}: {', '.join(keys[:3])}{more}")
    if problems:
        raise ExportError("the weights do not fit this graph (" + "; ".join(problems) + ")")


def _dims(tensor: torch.Tensor) -> str:
    return "×".join(map(str, tensor.shape)) or "a scalar"


def example_inputs(graph: Graph, batch: int = 2) -> tuple[torch.Tensor, ...]:
    import torch

    generator = torch.Generator().manual_seed(0)
    shapes = [graph.result(name).shape or () for name in graph.inputs()]
    return tuple(torch.randn(batch, *shape, generator=generator) for shape in shapes)


def export_pt2(graph: Graph, path: str | Path, weights: Mapping[str, torch.Tensor] | None = None,
               seed: int = 0, *, replace_read_only: bool = False) -> None:
    """A ``torch.export`` program with a dynamic batch size, loadable with ``torch.export.load``."""
    import torch

    model = model_with_weights(graph, weights, seed)
    program = torch.export.export(model, example_inputs(graph), dynamic_shapes=_dynamic_batch(graph))
    buffer = io.BytesIO()
    torch.export.save(program, buffer)
    write_atomic(Path(path), buffer.getvalue(), replace_read_only=replace_read_only)


def export_onnx(graph: Graph, path: str | Path, weights: Mapping[str, torch.Tensor] | None = None,
                seed: int = 0, *, replace_read_only: bool = False) -> None:
    """An ONNX model with a dynamic batch size; needs the ``onnx`` extra."""
    try:
        import onnx  # noqa: F401
        import onnxscript  # noqa: F401
    except ImportError:
        raise ExportError("ONNX export needs the onnx and onnxscript packages: "
                          "pip install 'designer[onnx]'") from None
    import torch

    from designer.graph.compile import plan

    model = model_with_weights(graph, weights, seed)
    idents = plan(graph).idents
    with _quiet():
        program = torch.onnx.export(
            model, example_inputs(graph), dynamo=True, verbose=False,
            input_names=[idents[n] for n in graph.inputs()],
            output_names=[idents[n] for n in graph.outputs()],
            dynamic_shapes=_dynamic_batch(graph),
        )
    if program is None:  # only the legacy exporter returns nothing
        raise ExportError("the ONNX exporter produced no model")
    _write_through_file(Path(path), lambda temp: program.save(str(temp)), replace_read_only)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Hide the exporter's progress lines and its notes on torchvision ops we never use."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def _dynamic_batch(graph: Graph) -> tuple[dict[int, object], ...]:
    import torch

    batch = torch.export.Dim("batch", min=1, max=1 << 16)
    return tuple({0: batch} for _ in graph.inputs())


def _write_through_file(path: Path, writer: Callable[[Path], None], replace_read_only: bool) -> None:
    """For writers that only take a file name: write a private temporary, then atomically."""
    with tempfile.TemporaryDirectory(prefix="designer-export-") as folder:
        temp = Path(folder) / path.name
        writer(temp)
        write_atomic(path, temp.read_bytes(), replace_read_only=replace_read_only)
