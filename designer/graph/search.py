"""Finding a block type by what a person types: the palette's and quick-add's search.

A match ranks by how directly the text names the block: the type's own name
exactly, then as its beginning, then one of its aliases ("swish" for SiLU,
"attention" for MultiheadAttention), then inside the name, then every word
somewhere in its name, aliases, category or help, and last the letters in
order within the name ("mxpl" for MaxPool2d). Typing "linear" therefore lists
Linear before GELU, whose help mentions a linear unit.
"""

from __future__ import annotations

from collections.abc import Iterable

from designer.graph.spec import BlockSpec

EXACT, PREFIX, ALIAS, ALIAS_PREFIX, INSIDE, WORDS, LETTERS = range(7)


def match_rank(spec: BlockSpec, query: str) -> int | None:
    """How well ``query`` finds ``spec`` (lower is better), or None when it does not."""
    text = " ".join(query.lower().split())
    if not text:
        return EXACT
    name = spec.type.lower()
    aliases = [a.lower() for a in spec.aliases]
    if name == text:
        return EXACT
    if name.startswith(text):
        return PREFIX
    if text in aliases:
        return ALIAS
    if any(a.startswith(text) for a in aliases):
        return ALIAS_PREFIX
    if text in name:
        return INSIDE
    haystack = " ".join([name, *aliases, spec.category.lower(), spec.help.lower()])
    if all(word in haystack for word in text.split()):
        return WORDS
    if _in_order(text.replace(" ", ""), name):
        return LETTERS
    return None


def ranked(specs: Iterable[BlockSpec], query: str) -> list[BlockSpec]:
    """The specs ``query`` finds, best first; ties keep the order given (the palette's)."""
    scored = [(rank, i, spec) for i, spec in enumerate(specs) if (rank := match_rank(spec, query)) is not None]
    return [spec for _, _, spec in sorted(scored, key=lambda t: (t[0], t[1]))]


def _in_order(letters: str, name: str) -> bool:
    remaining = iter(name)
    return len(letters) >= 3 and all(c in remaining for c in letters)
