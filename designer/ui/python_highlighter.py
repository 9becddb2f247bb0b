"""Python syntax colouring for the code previews: keywords, builtins, strings, comments, numbers.

:func:`line_spans` is the whole grammar, plain Python: it splits one line into
coloured spans and says whether a triple-quoted string runs on into the next
line. :class:`PythonHighlighter` hands each line of a ``QTextDocument`` to it
and carries that state from block to block, as ``QSyntaxHighlighter`` wants.
"""

from __future__ import annotations

import builtins
import keyword
import re

from PySide6.QtGui import QColor, QFont, QSyntaxHighlighter, QTextCharFormat, QTextDocument

from designer.ui import theme

# Block states: outside any string, or inside a triple-quoted string opened on an earlier line.
NORMAL = 0
IN_TRIPLE_SINGLE = 1
IN_TRIPLE_DOUBLE = 2
_DELIMITERS = {IN_TRIPLE_SINGLE: "'''", IN_TRIPLE_DOUBLE: '"""'}
_STATES = {"'''": IN_TRIPLE_SINGLE, '"""': IN_TRIPLE_DOUBLE}

KEYWORDS = frozenset([*keyword.kwlist, *keyword.softkwlist]) - {"_"}
BUILTINS = frozenset(name for name in dir(builtins) if not name.startswith("_")) | {"self"}

_PREFIX = r"(?:\b[rRbBuUfF]{1,2})?"
_TOKEN = re.compile(
    rf"""
    (?P<comment>\#.*)
    |(?P<triple>{_PREFIX}(?:'''|\"\"\"))
    |(?P<string>{_PREFIX}(?:'(?:\\.|[^'\\])*'?|"(?:\\.|[^"\\])*"?))
    |(?P<decorator>@[A-Za-z_][\w.]*)
    |(?P<number>\b(?:0[xXoObB][0-9a-fA-F_]+|\d[\d_]*(?:\.[\d_]*)?(?:[eE][+-]?\d+)?j?)\b)
    |(?P<word>\b[A-Za-z_]\w*)
    """,
    re.VERBOSE,
)

Span = tuple[int, int, str]  # start, length, kind


def line_spans(text: str, state: int = NORMAL) -> tuple[list[Span], int]:
    """The coloured spans of one line, and the state the next line starts in.

    Kinds: "keyword", "builtin", "definition" (the name after def or class),
    "string", "comment", "number", "decorator".
    """
    spans: list[Span] = []
    pos = 0
    if state in _DELIMITERS:
        end = text.find(_DELIMITERS[state])
        if end < 0:
            return [(0, len(text), "string")] if text else [], state
        pos = end + 3
        spans.append((0, pos, "string"))
    previous_word = ""
    while (match := _TOKEN.search(text, pos)) is not None:
        kind, start, pos = match.lastgroup or "", match.start(), match.end()
        if kind == "triple":
            delimiter = match.group()[-3:]
            end = text.find(delimiter, pos)
            if end < 0:
                spans.append((start, len(text) - start, "string"))
                return spans, _STATES[delimiter]
            pos = end + 3
            spans.append((start, pos - start, "string"))
        elif kind == "word":
            word = match.group()
            if previous_word in ("def", "class"):
                spans.append((start, pos - start, "definition"))
            elif word in KEYWORDS:
                spans.append((start, pos - start, "keyword"))
            elif word in BUILTINS:
                spans.append((start, pos - start, "builtin"))
            previous_word = word
            continue
        else:
            spans.append((start, pos - start, kind))
        previous_word = ""
    return spans, NORMAL


def _format(colour: str, bold: bool = False, italic: bool = False) -> QTextCharFormat:
    fmt = QTextCharFormat()
    fmt.setForeground(QColor(colour))
    if bold:
        fmt.setFontWeight(QFont.Weight.Bold)
    fmt.setFontItalic(italic)
    return fmt


def default_formats(dark: bool = False) -> dict[str, QTextCharFormat]:
    """Colours that read well (≥ 4.5:1) on the theme's text fields: white, or the dark theme's base."""
    if dark:
        return {
            "keyword": _format("#8ab4f8", bold=True),
            "builtin": _format("#d7aefb"),
            "definition": _format("#6fd3c1", bold=True),
            "string": _format("#f6a59d"),
            "comment": _format("#a8b3bf", italic=True),
            "number": _format("#fdbd6f"),
            "decorator": _format("#e6c86e"),
        }
    return {
        "keyword": _format("#0b57d0", bold=True),
        "builtin": _format("#8e24aa"),
        "definition": _format("#00695c", bold=True),
        "string": _format("#b3261e"),
        "comment": _format("#6b7785", italic=True),
        "number": _format("#bf4a00"),
        "decorator": _format("#7b5800"),
    }


class PythonHighlighter(QSyntaxHighlighter):
    """Colours a QTextDocument's text as Python."""

    def __init__(self, document: QTextDocument) -> None:
        super().__init__(document)
        self.formats = default_formats(theme.current().dark)
        theme.notifier().theme_changed.connect(self._on_theme_changed)

    def _on_theme_changed(self, colours: theme.Theme) -> None:
        self.formats = default_formats(colours.dark)
        self.rehighlight()

    def highlightBlock(self, text: str) -> None:
        previous = self.previousBlockState()
        spans, state = line_spans(text, previous if previous in _DELIMITERS else NORMAL)
        for start, length, kind in spans:
            self.setFormat(start, length, self.formats[kind])
        self.setCurrentBlockState(state)
