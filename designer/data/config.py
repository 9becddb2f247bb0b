"""The dataset description a project file holds, e.g. ``{"name": "shapes", "samples": 5000}``.

``DatasetConfig.from_json`` checks every key and value and names the key it
rejects; ``to_json`` writes the name and whatever differs from the defaults, so
the project file stays short and diffs stay readable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from designer.data.errors import DataConfigError

BUILTIN = ("digits", "shapes")
ON_DISK = ("cifar10", "cifar100", "mnist", "fashion_mnist", "folder", "npz")
SOURCES = BUILTIN + ON_DISK
_ALIASES = {"cifar-10": "cifar10", "cifar-100": "cifar100", "fashion-mnist": "fashion_mnist"}
DEFAULT_SAMPLES = 5000  # shapes
DEFAULT_VALIDATION = 0.1  # when the source has no test split of its own
MAX_PADDING = 64


@dataclass(frozen=True)
class Augment:
    """Random crop after zero padding by ``crop_padding`` pixels, and random horizontal flips."""

    crop_padding: int = 0
    hflip: bool = False

    def __post_init__(self) -> None:
        _check_int("augment.crop_padding", self.crop_padding, 0, MAX_PADDING)
        _check_bool("augment.hflip", self.hflip)

    @property
    def enabled(self) -> bool:
        return self.crop_padding > 0 or self.hflip

    @classmethod
    def from_json(cls, data: Any) -> Augment:
        if not isinstance(data, Mapping):
            raise DataConfigError("augment", 'must be an object like {"crop_padding": 4, "hflip": true}')
        _refuse_unknown(data, ("crop_padding", "hflip"), "augment.")
        return cls(**dict(data))

    def to_json(self) -> dict[str, Any]:
        return {"crop_padding": self.crop_padding, "hflip": self.hflip}


@dataclass(frozen=True)
class DatasetConfig:
    """Which dataset to train on and how to prepare it. Checked on construction."""

    name: str = "digits"
    path: str | None = None
    samples: int | None = None
    seed: int = 0
    # A fraction of the training set, "given" for the source's own test split, or None:
    # "given" where the source has one, else DEFAULT_VALIDATION.
    validation: float | Literal["given"] | None = None
    normalize: bool = True
    augment: Augment = field(default_factory=Augment)
    grayscale_to_rgb: bool = False

    def __post_init__(self) -> None:
        if self.name not in SOURCES:
            raise DataConfigError("name", f"unknown dataset {self.name!r}: choose one of {', '.join(SOURCES)}")
        self._check_path()
        if self.samples is not None:
            if self.name != "shapes":
                raise DataConfigError("samples", f"only 'shapes' takes a sample count, not {self.name!r}")
            _check_int("samples", self.samples, 1, 10_000_000)
        _check_int("seed", self.seed, 0, 2**63 - 1)
        _check_validation(self.validation)
        _check_bool("normalize", self.normalize)
        _check_bool("grayscale_to_rgb", self.grayscale_to_rgb)
        if not isinstance(self.augment, Augment):
            raise DataConfigError("augment", "must be an Augment")

    def _check_path(self) -> None:
        if self.name in BUILTIN:
            if self.path is not None:
                raise DataConfigError("path", f"{self.name!r} is built in and takes no path")
        elif not isinstance(self.path, str) or not self.path.strip():
            raise DataConfigError("path", f"{self.name!r} needs the path of its file or folder")

    @property
    def sample_count(self) -> int:
        return self.samples if self.samples is not None else DEFAULT_SAMPLES

    @classmethod
    def from_json(cls, data: Any) -> DatasetConfig:
        """Build from a project file's ``dataset`` object; a DataConfigError names the bad key."""
        if not isinstance(data, Mapping):
            raise DataConfigError("description", 'must be an object like {"name": "digits"}')
        keys = tuple(f.name for f in fields(cls))
        _refuse_unknown(data, keys, "")
        values = dict(data)
        name = values.get("name", "digits")
        if not isinstance(name, str):
            raise DataConfigError("name", f"must be a string, not {name!r}")
        values["name"] = _ALIASES.get(name.lower(), name.lower())
        if "augment" in values:
            values["augment"] = Augment.from_json(values["augment"])
        return cls(**values)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        default = DatasetConfig()
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name != "name" and value != getattr(default, f.name):
                out[f.name] = value.to_json() if isinstance(value, Augment) else value
        return out


def _refuse_unknown(data: Mapping[Any, Any], known: tuple[str, ...], prefix: str) -> None:
    for key in data:
        if key not in known:
            raise DataConfigError(f"{prefix}{key}", f"unknown option; the options are {', '.join(known)}")


def _check_int(key: str, value: Any, low: int, high: int) -> None:
    # bool is an int in Python, but `"samples": true` is a mistake, not 1.
    if not isinstance(value, int) or isinstance(value, bool):
        raise DataConfigError(key, f"must be a whole number, not {value!r}")
    if not low <= value <= high:
        raise DataConfigError(key, f"must be between {low} and {high:,}, not {value}")


def _check_bool(key: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise DataConfigError(key, f"must be true or false, not {value!r}")


def _check_validation(value: Any) -> None:
    if value is None or value == "given":
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise DataConfigError("validation", f'must be a fraction from 0 up to (not including) 1, '
                                            f'or "given", not {value!r}')
