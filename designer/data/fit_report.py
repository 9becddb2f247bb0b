"""In plain words, whether a dataset fits a network, for the editor's dataset picker.

The rules are fit.py's (``plan_geometry``, ``check_classes``), the same that
``prepare`` applies before training; this module only says what they mean for the
images: made RGB, resized, flattened, or refused and why. It also reads the
network's input and output shapes off a Graph. No torch and no Qt: the editor
calls it on the GUI thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from designer.data.errors import DataFitError
from designer.data.fit import Geometry, check_classes, plan_geometry
from designer.graph.errors import GraphError
from designer.graph.graph import Graph

Shape = tuple[int, ...]
DISPLAY_NAMES = {
    "digits": "digits", "shapes": "shapes", "cifar10": "CIFAR-10", "cifar100": "CIFAR-100",
    "mnist": "MNIST", "fashion_mnist": "Fashion-MNIST", "folder": "the image folder", "npz": "the .npz file",
}


@dataclass(frozen=True)
class DatasetFacts:
    """What a loaded dataset holds, as far as fitting a network and summing it up go.

    ``channels`` and ``size`` are the images' as stored (as loaded, where ``any_size``:
    shapes are drawn and image folders decoded at whatever size the Input asks for).
    ``colour_note`` names the few colour images of a mostly grayscale folder.
    """

    name: str
    channels: int
    size: tuple[int, int]
    any_size: bool
    classes: int
    class_names: tuple[str, ...]
    train_count: int
    val_count: int
    notes: tuple[str, ...] = ()
    colour_note: str = ""

    @property
    def display_name(self) -> str:
        return DISPLAY_NAMES.get(self.name, self.name)

    def summary(self) -> str:
        """``1,617 training / 180 validation samples · 10 classes · shape 1×8×8``."""
        classes = f"{self.classes:,} class{'' if self.classes == 1 else 'es'}"
        if self.any_size:
            made = "drawn" if self.name == "shapes" else "decoded"
            shape = f"shape {self.channels}×H×W, {made} at the network's input size"
        else:
            shape = f"shape {dims((self.channels, *self.size))}"
        return (f"{self.train_count:,} training / {self.val_count:,} validation "
                f"sample{'' if self.val_count == 1 else 's'} · {classes} · {shape}")


@dataclass(frozen=True)
class FitReport:
    """``ok``: trains as it is; ``note``: trains, but the images are changed to fit; ``error``: cannot train."""

    level: Literal["ok", "note", "error"]
    text: str


def network_shapes(graph: Graph) -> tuple[Shape, Shape]:
    """The shapes of the network's one Input and one output; a GraphError says why not."""
    inputs, outputs = graph.inputs(), graph.outputs()
    if len(inputs) != 1:
        raise GraphError("the network has no Input block" if not inputs
                         else f"the network has {len(inputs)} Input blocks; training takes one")
    if len(outputs) != 1:
        raise GraphError("the network has no output" if not outputs else
                         f"the network has {len(outputs)} outputs ({', '.join(outputs)}); training takes one")
    input_shape, output_shape = graph.result(inputs[0]).shape, graph.result(outputs[0]).shape
    if input_shape is None or output_shape is None:
        raise GraphError("the network's shapes are not all known: fix the blocks marked in red first")
    return tuple(input_shape), tuple(output_shape)


def describe_fit(facts: DatasetFacts, grayscale_to_rgb: bool, input_shape: Shape,
                 output_shape: Shape) -> FitReport:
    """Whether ``facts``' dataset can train a network taking ``input_shape`` and giving ``output_shape``."""
    native = None if facts.any_size else facts.size
    try:
        geometry = plan_geometry(input_shape, facts.channels, grayscale_to_rgb, native, facts.colour_note)
        check_classes(facts.classes, output_shape)
    except DataFitError as exc:
        return FitReport("error", f"Does not fit: {exc}.")
    changes = _changes(facts, geometry)
    takes = f"the network takes {_taken(input_shape)}"
    if not changes:
        return FitReport("ok", f"Fits: {takes} and gives {facts.classes} class scores; "
                               f"{facts.display_name} {_has(facts)}.")
    return FitReport("note", f"Fits: {takes}; {facts.display_name} {_has(facts)} — "
                             f"they will be {_join(changes)}.")


def _changes(facts: DatasetFacts, geometry: Geometry) -> list[str]:
    """What happens to the images on their way into the network, in the order it happens."""
    changes = []
    if geometry.channels != facts.channels:
        changes.append("made RGB")
    if facts.any_size:
        pass  # drawn or decoded at the wanted size in the first place
    elif geometry.size != facts.size:
        changes.append(f"resized to {geometry.size[0]}×{geometry.size[1]}" if geometry.flatten else "resized")
    if geometry.flatten:
        changes.append("flattened")
    return changes


def _has(facts: DatasetFacts) -> str:
    if facts.any_size:
        made = "draws" if facts.name == "shapes" else "decodes"
        return f"{made} its {facts.channels}-channel images at that size"
    return f"has {dims((facts.channels, *facts.size))}"


def _taken(shape: Shape) -> str:
    return f"{dims(shape)} images" if len(shape) == 3 else f"{dims(shape)} features"


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def dims(shape: Shape) -> str:
    """``1×32×32``."""
    return "×".join(str(d) for d in shape)
