"""The preview's Python colouring, line by line and across the lines of a document."""

from __future__ import annotations

from PySide6.QtWidgets import QPlainTextEdit

from designer.ui.python_highlighter import (
    IN_TRIPLE_DOUBLE,
    IN_TRIPLE_SINGLE,
    NORMAL,
    PythonHighlighter,
    default_formats,
    line_spans,
)
from designer.ui.recent_files import push_path


def coloured(text: str, state: int = NORMAL) -> list[tuple[str, str]]:
    spans, _ = line_spans(text, state)
    return [(text[start:start + length], kind) for start, length, kind in spans]


def test_keywords_builtins_definitions_numbers_and_decorators():
    assert coloured("@torch.no_grad()") == [("@torch.no_grad", "decorator")]
    assert coloured("    def forward(self, x):") == [
        ("def", "keyword"), ("forward", "definition"), ("self", "builtin")]
    assert coloured("class Net(nn.Module):") == [("class", "keyword"), ("Net", "definition")]
    assert coloured("y = len(x) + 0x1F * 2.5e-3 if x is not None else 10j") == [
        ("len", "builtin"), ("0x1F", "number"), ("2.5e-3", "number"), ("if", "keyword"),
        ("is", "keyword"), ("not", "keyword"), ("None", "keyword"), ("else", "keyword"), ("10j", "number")]
    assert coloured("conv1 = self.conv1(input_)") == [("self", "builtin")], "digits in names are not numbers"


def test_strings_and_comments_hide_what_is_inside_them():
    assert coloured("x = 'a # not a comment' # a 'comment'") == [
        ("'a # not a comment'", "string"), ("# a 'comment'", "comment")]
    assert coloured(r'path = rb"C:\"for\"" + f"{x}"') == [(r'rb"C:\"for\""', "string"), ('f"{x}"', "string")]
    assert coloured('"unclosed to the end of the line') == [('"unclosed to the end of the line', "string")]


def test_triple_quoted_strings_run_across_lines():
    assert line_spans('"""Docstring', NORMAL) == ([(0, 12, "string")], IN_TRIPLE_DOUBLE)
    assert line_spans("it goes on; while 'is' not a keyword", IN_TRIPLE_DOUBLE) == (
        [(0, 36, "string")], IN_TRIPLE_DOUBLE)
    assert coloured('ends here""" and return', IN_TRIPLE_DOUBLE) == [
        ('ends here"""', "string"), ("and", "keyword"), ("return", "keyword")]
    assert line_spans("x = '''a", NORMAL)[1] == IN_TRIPLE_SINGLE
    assert line_spans('a """ b \'\'\' then """', IN_TRIPLE_SINGLE) == (
        [(0, 11, "string"), (17, 3, "string")], IN_TRIPLE_DOUBLE), "only its own delimiter closes a string"
    assert coloured("s = '''one line''' # done") == [("'''one line'''", "string"), ("# done", "comment")]
    assert line_spans("", IN_TRIPLE_SINGLE) == ([], IN_TRIPLE_SINGLE)


def test_the_highlighter_carries_the_state_from_block_to_block(qtbot):
    editor = QPlainTextEdit()  # the preview's kind of editor, whose document lays out its blocks
    qtbot.addWidget(editor)
    document = editor.document()
    highlighter = PythonHighlighter(document)
    editor.setPlainText('x = """first\nimport not_a_keyword\nlast""" + 1\nimport torch\n')
    colours = {kind: fmt.foreground().color().name() for kind, fmt in default_formats().items()}

    def formats(line: int) -> list[tuple[int, int, str]]:
        block = document.findBlockByNumber(line)
        return [(r.start, r.length, r.format.foreground().color().name()) for r in block.layout().formats()]

    assert formats(1) == [(0, 20, colours["string"])]
    assert formats(2) == [(0, 7, colours["string"]), (10, 1, colours["number"])]
    assert formats(3) == [(0, 6, colours["keyword"])]
    editor.setPlainText(document.toPlainText().replace('"""first', "'first'", 1))
    assert formats(1) == [(0, 6, colours["keyword"])], "the string closes on its line: the next one is code"
    assert highlighter.document() is document


def test_recent_paths_move_to_the_front_once_and_are_capped(tmp_path):
    a, b = str(tmp_path / "a.json"), str(tmp_path / "b.json")
    assert push_path([a, b], b) == [b, a]
    assert push_path([a], tmp_path / "sub" / ".." / "b.json") == [b, a]
    assert push_path([str(tmp_path / f"{i}.json") for i in range(10)], a, limit=3)[0] == a
    assert len(push_path([str(tmp_path / f"{i}.json") for i in range(10)], a, limit=3)) == 3


def test_code_colours_read_on_either_themes_text_fields():
    from PySide6.QtGui import QColor, QPalette

    from designer.ui import theme
    from designer.ui.python_highlighter import default_formats

    for colours in (theme.LIGHT, theme.DARK):
        base = QColor(colours.palette_roles[QPalette.ColorRole.Base])
        for kind, fmt in default_formats(colours.dark).items():
            ratio = theme.contrast(fmt.foreground().color(), base)
            assert ratio >= theme.AA_TEXT, f"{kind} in the {colours.name} theme: {ratio:.2f}:1"
