"""The two datasets that need no download: UCI ``digits`` (shipped) and generated ``shapes``.

``digits`` is the 1,797 8×8 handwritten digits of the UCI "Optical Recognition of
Handwritten Digits" test set (CC BY 4.0; see ``resources/datasets/README.md``).
``shapes`` is drawn seeded, in ten classes, at any size, all at once with tensor
operations (no per-image Python), by the code the exported script draws them with.
"""

from __future__ import annotations

from designer.data.imageset import ImageSet, RawData
from designer.data.shared import engine_errors
from designer.graph.templates import resources_dir
from designer.training import portable_data
from designer.training.portable_data import SHAPE_NAMES

__all__ = ["DIGIT_NAMES", "SHAPE_NAMES", "load_digits", "make_shapes"]

DIGIT_NAMES = tuple(str(i) for i in range(10))


def load_digits() -> RawData:
    """The shipped digits as uint8 ``[1797, 1, 8, 8]``, their 0..16 counts stretched to 0..255."""
    with engine_errors():
        images, labels = portable_data.read_digits(resources_dir() / "datasets" / "digits.npz")
    return RawData(ImageSet(images, labels), None, DIGIT_NAMES)


def make_shapes(samples: int, seed: int, size: tuple[int, int] = (32, 32)) -> RawData:
    """``samples`` RGB images of coloured shapes on coloured backgrounds, as balanced as possible.

    The same ``samples``, ``seed`` and ``size`` always give the same images.
    """
    images, labels = portable_data.make_shapes(samples, seed, size)
    return RawData(ImageSet(images, labels), None, SHAPE_NAMES)
