"""The ``designer`` command line: with no arguments it opens the app.

Every subcommand reports bad input in one line on stderr and exits non-zero;
no traceback reaches the user.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn, TypeVar

from designer.graph.errors import GraphError
from designer.graph.files import ReadOnlyError
from designer.training.config import MAX_SEED

EXIT_INVALID_GRAPH = 1
EXIT_BAD_INPUT = 2
EXIT_BROKEN_PIPE = 128 + 13  # what a shell reports for a process killed by SIGPIPE


class CliError(Exception):
    """A problem with what the user asked for; the message is shown as is."""


class _Parser(argparse.ArgumentParser):
    """Reports a bad command line as one ``designer: error: ...`` line, like every other error.

    argparse would print the whole usage first and exit from inside
    ``parse_args``; :func:`main` returns the exit code instead.
    """

    def error(self, message: str) -> NoReturn:
        raise CliError(f"{message} (see `{self.prog} --help`)")


def _write(text: str) -> None:
    """Print to stdout even where its encoding lacks ⌊ × − (a Windows console, LANG=C)."""
    try:
        sys.stdout.write(text)
    except UnicodeEncodeError:
        encoding = getattr(sys.stdout, "encoding", None) or "ascii"
        sys.stdout.write(text.encode(encoding, "backslashreplace").decode(encoding))


Number = TypeVar("Number", int, float)
SHOWN_DIGITS = 32  # of a value too long to repeat whole in a one-line message


def bounded(kind: Callable[[str], Number], low: Number, high: Number, *,
            above: bool = False) -> Callable[[str], Number]:
    """An argparse ``type``: ``kind`` (int or float) from ``low`` (above it, with ``above``) to ``high``.

    Anything else, infinities and NaN included, is one line naming the range and
    the value; argparse puts the option in front ("argument --seed: ...").
    """
    whole = kind is int
    lower = f"above {low:g}" if above else f"from {low:,}" if whole else f"from {low:g}"
    upper = "" if not whole and math.isinf(high) else f" to {high:,}" if whole else f" to {high:g}"
    allowed = f"{'a whole number' if whole else 'a number'} {lower}{upper}"

    def parse(text: str) -> Number:
        try:
            value = kind(text)
        except (ValueError, OverflowError):  # int("9" * 5000) is a ValueError too
            value = None
        if (value is None or not (whole or math.isfinite(value)) or value < low or value > high
                or (above and value == low)):
            shown = text if len(text) <= SHOWN_DIGITS else f"{text[:SHOWN_DIGITS]}…"
            raise argparse.ArgumentTypeError(f"must be {allowed}, got {shown}")
        return value

    return parse


def _parse_shape(text: str) -> list[int]:
    from designer.graph.shapes import parse_shape

    try:
        return list(parse_shape(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _cmd_templates(args: argparse.Namespace) -> int:
    from designer.graph.templates import template_description, template_names

    names = template_names()
    width = max(map(len, names))
    _write("".join(f"{name.ljust(width)}  {template_description(name)}\n" for name in names))
    return 0


def _cmd_summary(args: argparse.Namespace) -> int:
    import designer
    from designer.graph import summary

    graph = designer.load(args.src)
    if args.input is not None:
        inputs = graph.inputs()
        if len(inputs) != 1:
            raise CliError(f"--input needs a graph with exactly one Input block; it has {len(inputs)}")
        graph.set_params(inputs[0], {"shape": args.input})
    if args.json:
        _write(json.dumps(summary.as_json(graph), ensure_ascii=False, indent=2) + "\n")
    else:
        _write(summary.as_text(graph))
    return EXIT_INVALID_GRAPH if graph.errors() else 0


EXPORT_FORMATS = ("python", "weights", "onnx", "pt2", "train-script")


def _cmd_export(args: argparse.Namespace) -> int:
    import designer
    from designer import export

    graph = designer.load(args.src)
    weights = export.load_weights(args.weights) if args.weights else None
    force = args.force
    if args.format == "python":
        if weights is not None:
            raise CliError("--weights goes with --format weights, onnx, pt2 or train-script; "
                           "the Python file holds code only")
        export.export_python(graph, args.output, replace_read_only=force)
    elif args.format == "weights":
        export.export_weights(graph, args.output, weights, args.seed, replace_read_only=force)
    elif args.format == "onnx":
        export.export_onnx(graph, args.output, weights, args.seed, replace_read_only=force)
    elif args.format == "pt2":
        export.export_pt2(graph, args.output, weights, args.seed, replace_read_only=force)
    else:
        from designer.train_script import export_train_script

        # A relative dataset path in a project file starts at the file's folder.
        base_dir = os.path.dirname(os.path.abspath(args.src)) if os.path.isfile(args.src) else None
        written = export_train_script(graph, args.output, weights, base_dir, replace_read_only=force)
        print(f"wrote {', '.join(map(str, written))}", file=sys.stderr)
        return 0
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


def _cmd_import(args: argparse.Namespace) -> int:
    from designer import export
    from designer.graph import project
    from designer.graph.importer import import_model, load_model

    if args.weights and not args.weights.endswith(export.WEIGHT_SUFFIXES):
        raise CliError(f"--weights: give a file ending in {', '.join(export.WEIGHT_SUFFIXES)}")
    model = load_model(args.spec, args.args)
    name = args.spec.rsplit(":", 1)[-1]
    imported = import_model(model, args.input_shape, name)
    project.save(imported.graph, args.output)
    print(f"wrote {args.output}: {len(imported.graph)} blocks", file=sys.stderr)
    if args.weights:
        export.export_weights(imported.graph, args.weights, imported.state_dict)
        print(f"wrote {args.weights}", file=sys.stderr)
    return 0


def _cmd_render(args: argparse.Namespace) -> int:
    import designer

    graph = designer.load(args.src)
    from PySide6.QtWidgets import QApplication

    if QApplication.instance() is None:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"  # a picture needs no screen
    app = QApplication.instance() or QApplication(["designer"])
    from designer.ui.render import render

    layout = None if args.keep_positions else args.direction
    render(graph, args.output, layout, replace_read_only=args.force)
    del app
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


def _cmd_gui(args: argparse.Namespace) -> int:
    from designer.ui.app import run

    return run(getattr(args, "src", None))


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="designer",
        description="Draw, check, train and export convolutional neural networks. "
        "With no command, opens the app.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("templates", help="list the built-in template networks")
    p.set_defaults(run=_cmd_templates)

    p = sub.add_parser("summary", help="print shapes, formulas, parameters and MACs per block")
    p.add_argument("src", help="a project file or a template name (see `designer templates`)")
    p.add_argument("--input", type=_parse_shape, metavar="C,H,W",
                   help="re-run the table for another input size")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(run=_cmd_summary)

    p = sub.add_parser("export", help="write the network as Python code, weights, ONNX or torch.export")
    p.add_argument("src", help="a project file or a template name")
    p.add_argument("--format", "-f", choices=EXPORT_FORMATS, required=True,
                   help="python: a model file importing only torch; weights: the state_dict "
                        "(.pt or .safetensors); onnx; pt2: a torch.export program; "
                        "train-script: a folder with model.py and a train.py that runs under torchrun")
    p.add_argument("-o", "--output", required=True, metavar="PATH",
                   help="the file to write (a folder for train-script)")
    p.add_argument("--weights", metavar="FILE",
                   help="trained weights to include (.pt, .pth or .safetensors); default: fresh ones")
    p.add_argument("--seed", type=bounded(int, 0, MAX_SEED), default=0, metavar="N",
                   help="seed for fresh weights (default 0)")
    _add_force(p)
    p.set_defaults(run=_cmd_export)

    p = sub.add_parser("import", help="turn a PyTorch nn.Module class into a project file")
    p.add_argument("spec", metavar="FILE.py:Class",
                   help="the class to import: path/to/file.py:ClassName or package.module:ClassName")
    p.add_argument("--input-shape", type=_parse_shape, required=True, metavar="C,H,W",
                   help="the shape of one input sample, e.g. 3,32,32")
    p.add_argument("--args", metavar="JSON", help="constructor arguments as a JSON object or list")
    p.add_argument("-o", "--output", required=True, metavar="NET.json", help="the project file to write")
    p.add_argument("--weights", metavar="FILE",
                   help="also write the model's weights (.pt or .safetensors), keyed for the new project")
    p.set_defaults(run=_cmd_import)

    p = sub.add_parser("render", help="draw the network with its shapes to an SVG or PNG file")
    p.add_argument("src", help="a project file or a template name")
    p.add_argument("-o", "--output", required=True, metavar="NET.svg|NET.png", help="the picture to write")
    p.add_argument("--direction", choices=("LR", "TB"), default="LR",
                   help="lay the blocks out left to right (default) or top to bottom")
    p.add_argument("--keep-positions", action="store_true",
                   help="draw the blocks where the project places them instead of laying them out")
    _add_force(p)
    p.set_defaults(run=_cmd_render)

    p = sub.add_parser("open", help="open a project file or template in the app")
    p.add_argument("src", nargs="?", help="a project file or a template name")
    p.set_defaults(run=_cmd_gui)

    from designer.cli_train import add_train_commands  # here: designer.cli_train imports from this module
    add_train_commands(sub)
    from designer.cli_lr_find import add_lr_find_command
    add_lr_find_command(sub)
    return parser


def _add_force(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--force", action="store_true",
                        help="replace the output even where it is read-only; it stays read-only "
                             "(without --force a read-only file is left as it is, as cp would)")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (``--help`` exits from argparse, with 0)."""
    parser = build_parser()
    args = argparse.Namespace()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            args.run = _cmd_gui
        code = int(args.run(args))
        sys.stdout.flush()
        return code
    except (GraphError, CliError) as exc:
        _error(str(exc))
        return EXIT_BAD_INPUT
    except ReadOnlyError as exc:
        hint = "; --force replaces it (and it stays read-only)" if "force" in vars(args) else ""
        _error(f"{exc}{hint}")
        return EXIT_BAD_INPUT
    except BrokenPipeError:
        # `designer summary vgg16 | head`: the reader left; say nothing more.
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        _error(f"{where}{exc.strerror or exc}")
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130


def _error(message: str) -> None:
    """One line on stderr, however many lines the message had."""
    line = " ".join(message.split("\n"))
    print(f"designer: error: {line}", file=sys.stderr)


def _silence_stdout() -> None:
    """Point stdout at the null device so the interpreter's last flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass
