"""Turns user-given block names into unique, legal Python identifiers.

Block names are free text. Generated code and module attributes need
identifiers that are legal, unique after Unicode normalisation, and shadow no
keyword, builtin or ``nn.Module`` attribute. One :class:`Namespace` per graph
gives every consumer (the compiled module, exported code) the same answer.
"""

from __future__ import annotations

import builtins
import keyword
import re
import unicodedata
from collections.abc import Iterable

ALWAYS_RESERVED = frozenset(
    {"self", "torch", "nn", "F", "math", "Tensor", "Optional"}
    | set(keyword.kwlist)
    | set(keyword.softkwlist)
    | set(dir(builtins))
)

_RUNS = re.compile(r"_+")


def _clean(name: str) -> str:
    text = unicodedata.normalize("NFKC", name)
    chars = [c if (c.isascii() and (c.isalnum() or c == "_")) or ("a" + c).isidentifier() else "_"
             for c in text]
    text = _RUNS.sub("_", "".join(chars)).strip("_")
    if not text:
        return "node"
    if not text[0].isidentifier():
        text = "n_" + text
    return text if text.isidentifier() else "node"


class Namespace:
    """Hands out identifiers; the same name asked twice gets the same answer."""

    def __init__(self, reserved: Iterable[str] = ()) -> None:
        self._reserved = set(ALWAYS_RESERVED) | set(reserved)
        self._used: set[str] = set()
        self._given: dict[str, str] = {}

    def __call__(self, name: str) -> str:
        if name in self._given:
            return self._given[name]
        base = _clean(name)
        candidate = base
        if candidate in self._reserved:
            candidate = base = base + "_"
        n = 1
        while candidate in self._used or candidate in self._reserved:
            n += 1
            candidate = f"{base}_{n}"
        self._used.add(candidate)
        self._given[name] = candidate
        return candidate


def class_name(name: str) -> str:
    """A CamelCase class name for a project name (``vgg16-cifar`` -> ``Vgg16Cifar``)."""
    words = [w for w in re.split(r"[^0-9A-Za-z]+", unicodedata.normalize("NFKC", name)) if w]
    text = "".join(w[:1].upper() + w[1:] for w in words)
    if not text or not text[0].isalpha():
        text = "Net" + text
    return text if text not in ALWAYS_RESERVED else text + "Net"
