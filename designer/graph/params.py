"""Parameter schemas: the type, range, default and help of each block parameter.

A schema turns whatever a user or a file supplies into the one canonical value
the rest of the model works with, or raises :class:`ParamError` saying what is
wrong. Canonical values are JSON-friendly except that pairs are tuples.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from designer.graph.errors import ParamError
from designer.graph.shapes import wanted_ranks

# Larger values are certainly a typo or a hostile file, and would make the
# shape and cost arithmetic meaningless.
MAX_DIM = 1 << 20


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class Param:
    """Base schema. ``kind`` names the editor a UI should use."""

    name: str
    default: Any
    help: str
    kind: str = field(default="any", init=False)

    def coerce(self, value: Any) -> Any:
        raise NotImplementedError

    def to_json(self, value: Any) -> Any:
        return value

    def fail(self, reason: str) -> ParamError:
        return ParamError(self.name, reason)


@dataclass(frozen=True)
class IntParam(Param):
    low: int = 0
    high: int = MAX_DIM
    kind: str = field(default="int", init=False)

    def coerce(self, value: Any) -> int:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not _is_int(value):
            raise self.fail(f"expected a whole number, got {_describe(value)}")
        if not self.low <= value <= self.high:
            raise self.fail(f"must be between {self.low} and {self.high}, got {value}")
        return int(value)


@dataclass(frozen=True)
class FloatParam(Param):
    low: float = -math.inf
    high: float = math.inf
    low_open: bool = False
    kind: str = field(default="float", init=False)

    def coerce(self, value: Any) -> float:
        if not (_is_int(value) or isinstance(value, float)):
            raise self.fail(f"expected a number, got {_describe(value)}")
        value = float(value)
        if not math.isfinite(value):
            raise self.fail(f"must be a finite number, got {value}")
        too_low = value <= self.low if self.low_open else value < self.low
        if too_low or value > self.high:
            left = "(" if self.low_open else "["
            raise self.fail(f"must be in {left}{self.low:g}, {self.high:g}], got {value:g}")
        return value


@dataclass(frozen=True)
class BoolParam(Param):
    kind: str = field(default="bool", init=False)

    def coerce(self, value: Any) -> bool:
        if not isinstance(value, bool):
            raise self.fail(f"expected true or false, got {_describe(value)}")
        return value


@dataclass(frozen=True)
class ChoiceParam(Param):
    choices: tuple[str, ...] = ()
    kind: str = field(default="choice", init=False)

    def coerce(self, value: Any) -> str:
        if value not in self.choices or not isinstance(value, str):
            options = ", ".join(repr(c) for c in self.choices)
            raise self.fail(f"must be one of {options}, got {_describe(value)}")
        return value


@dataclass(frozen=True)
class PairParam(Param):
    """An int used for both height and width, or ``[h, w]``.

    ``words`` are extra accepted strings (``"same"``, ``"valid"`` for padding);
    ``optional`` accepts ``None`` (a pooling stride that follows the kernel).
    """

    low: int = 0
    high: int = MAX_DIM
    words: tuple[str, ...] = ()
    optional: bool = False
    kind: str = field(default="pair", init=False)

    def coerce(self, value: Any) -> int | tuple[int, int] | str | None:
        if value is None and self.optional:
            return None
        if isinstance(value, str) and value in self.words:
            return value
        if isinstance(value, (list, tuple)):
            if len(value) != 2 or not all(_is_int(v) for v in value):
                raise self.fail(f"expected [height, width] as two whole numbers, got {_describe(value)}")
            for v in value:
                self._check_range(v)
            return (int(value[0]), int(value[1]))
        if _is_int(value):
            self._check_range(value)
            return int(value)
        raise self.fail(f"expected {self._expected()}, got {_describe(value)}")

    def _check_range(self, v: int) -> None:
        if not self.low <= v <= self.high:
            raise self.fail(f"must be between {self.low} and {self.high}, got {v}")

    def _expected(self) -> str:
        options = ["a whole number", "[height, width]"]
        options += [repr(w) for w in self.words]
        if self.optional:
            options.append("null")
        return " or ".join(options)

    def to_json(self, value: Any) -> Any:
        return list(value) if isinstance(value, tuple) else value


@dataclass(frozen=True)
class ShapeParam(Param):
    """A tensor shape without the batch axis: ``[C, H, W]`` or ``[features]``."""

    ranks: tuple[int, ...] = (1, 3)
    max_elements: int = 1 << 31
    kind: str = field(default="shape", init=False)

    def coerce(self, value: Any) -> tuple[int, ...]:
        if not isinstance(value, (list, tuple)) or len(value) not in self.ranks:
            raise self.fail(f"expected {wanted_ranks(self.ranks)} shape, like [3, 224, 224] or [784], "
                            f"got {_describe(value)}")
        if not all(_is_int(v) and 1 <= v <= MAX_DIM for v in value):
            raise self.fail(f"every size must be a whole number from 1 to {MAX_DIM}, got {_describe(value)}")
        if math.prod(value) > self.max_elements:
            raise self.fail(f"{math.prod(value):,} elements per sample is more than {self.max_elements:,}")
        return tuple(int(v) for v in value)

    def to_json(self, value: Any) -> Any:
        return list(value)


MAX_AXES = 8  # axes of a tensor, the batch included: more than any network here uses


@dataclass(frozen=True)
class IntsParam(Param):
    """Whole numbers in a row (axes, sizes), given as a list or typed as ``0, 2, 3, 1``.

    The inspector edits it as a line of numbers; what it holds is read here, so
    ``-1`` and ``−1`` are read as a person types them.
    """

    low: int = -MAX_AXES
    high: int = MAX_DIM
    lengths: tuple[int, int] = (1, MAX_AXES)
    sizes: bool = False  # sizes of axes: every number is -1 or at least 1
    kind: str = field(default="ints", init=False)

    def coerce(self, value: Any) -> tuple[int, ...]:
        if isinstance(value, str):
            value = self._parse(value)
        if isinstance(value, (list, tuple)):  # 2.0 is 2, as IntParam takes it
            value = [int(v) if isinstance(v, float) and v.is_integer() else v for v in value]
        shortest, longest = self.lengths
        if not isinstance(value, (list, tuple)) or not shortest <= len(value) <= longest:
            raise self.fail(f"expected {shortest} to {longest} whole numbers, like {list(self.default)}, "
                            f"got {_describe(value)}")
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            raise self.fail(f"expected whole numbers, got {_describe(value)}")
        outside = [v for v in value if not self.low <= v <= self.high or (self.sizes and v == 0)]
        if outside:
            allowed = f"-1 or 1 to {self.high}" if self.sizes else f"between {self.low} and {self.high}"
            raise self.fail(f"every number must be {allowed}, got {outside[0]}")
        return tuple(value)

    def _parse(self, text: str) -> Any:
        parts = [p for p in re.split(r"[\s,×xX*]+", text.strip().strip("[]()")) if p]
        if not parts or not all(re.fullmatch(r"[-−]?\d+", p) for p in parts):
            return text  # refused above, with the text as typed
        return [int(p.replace("−", "-")) for p in parts]

    def to_json(self, value: Any) -> Any:
        return list(value)


def pair(value: int | tuple[int, int]) -> tuple[int, int]:
    """The ``(h, w)`` of a pair parameter's canonical value."""
    return value if isinstance(value, tuple) else (value, value)
