"""``designer lr-find``: the learning-rate range test, printed as a small curve and a suggestion.

Nothing is written (no run folder); ``--json`` prints the curve and both
suggestions as one object. Torch is imported only when the command runs.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from designer.cli import _write

if TYPE_CHECKING:
    from designer.training.lr_find import LrFinding

ROWS = 12  # of the printed curve
BAR = 30
# designer.training.lr_find's defaults, repeated here because importing it imports torch, which
# `designer --help` must not wait for (a test checks that the two agree)
DEFAULT_STEPS, MIN_STEPS, START_LR, END_LR = 100, 10, 1e-7, 10.0


def add_lr_find_command(sub: Any) -> None:
    """Add ``lr-find`` to the main parser's subcommands."""
    from designer.cli import bounded
    from designer.cli_train import DATASET_HELP
    from designer.training.config import MAX_BATCH

    rate = bounded(float, 0.0, math.inf, above=True)
    p = sub.add_parser("lr-find", help="suggest a learning rate from a short run at a growing rate")
    p.add_argument("src", help="a project file or a template name")
    p.add_argument("--dataset", metavar="NAME|PATH", help=DATASET_HELP)
    p.add_argument("--batch-size", type=bounded(int, 1, MAX_BATCH), metavar="N", help="samples per batch")
    p.add_argument("--device", metavar="D", help="auto, cpu, cuda, cuda:N or mps")
    p.add_argument("--steps", type=bounded(int, MIN_STEPS, 100_000), default=DEFAULT_STEPS, metavar="N",
                   help=f"steps at most (default {DEFAULT_STEPS}); it stops early once the loss shoots up")
    p.add_argument("--start", type=rate, default=START_LR, metavar="X", help=f"first rate ({START_LR:g})")
    p.add_argument("--end", type=rate, default=END_LR, metavar="X", help=f"last rate ({END_LR:g})")
    p.add_argument("--json", action="store_true", help="print the curve and the suggestions as JSON")
    p.set_defaults(run=_cmd_lr_find)


def _cmd_lr_find(args: argparse.Namespace) -> int:
    import designer
    from designer.cli import CliError
    from designer.cli_train import dataset_config
    from designer.data import DatasetConfig
    from designer.training import TrainingConfig
    from designer.training.lr_find import find_lr

    if args.start >= args.end:
        raise CliError(f"--start ({args.start:g}) must be below --end ({args.end:g})")
    graph = designer.load(args.src)
    base_dir = Path(args.src).resolve().parent if Path(args.src).is_file() else Path.cwd()
    own = graph.meta.get("dataset", {})
    dataset = dataset_config(args.dataset, own) if args.dataset else DatasetConfig.from_json(own)
    changes = {key: value for key, value in (("batch_size", args.batch_size), ("device", args.device))
               if value is not None}
    config = TrainingConfig.from_json(graph.meta.get("training", {})).replace(**changes)
    print(f"lr-find: {graph.name} on {dataset.name}, {config.optimizer}, batch {config.batch_size}, "
          f"up to {args.steps} steps from {args.start:g} to {args.end:g}…", file=sys.stderr)
    finding = find_lr(graph, dataset, config, steps=args.steps, start=args.start, end=args.end,
                      base_dir=base_dir)
    if args.json:
        _write(json.dumps(finding.to_json(), ensure_ascii=False) + "\n")
    else:
        _write(finding_text(finding, args.src))
    return 0


def finding_text(finding: LrFinding, src: str) -> str:
    """The curve as a few rows of rate, smoothed loss and a bar, then the suggestion and how to use it."""
    from designer.training.divergence import loss_text, number_text

    lines = [f"{len(finding.lrs)} steps in {finding.seconds:.1f} s"
             + (f"; stopped early: {finding.stopped}" if finding.stopped else "")]
    if finding.lrs:
        shown = sorted({round(i * (len(finding.lrs) - 1) / (ROWS - 1)) for i in range(ROWS)})
        values = [finding.smoothed[i] for i in shown]
        low, high = min(values), max(values)
        lines.append(f"{'rate':>9}  {'loss':>8}")
        for i, value in zip(shown, values):
            filled = 1 + round((BAR - 1) * (value - low) / (high - low)) if high > low else 1
            lines.append(f"{number_text(finding.lrs[i]):>9}  {loss_text(value):>8}  {'#' * filled}")
    suggestion = finding.suggestion
    if suggestion is None:
        lines.append("no suggestion: the loss never fell; try more --steps, a wider --start/--end range, "
                     "or check the data")
        return "\n".join(lines) + "\n"
    steepest = f"; steepest descent at {number_text(finding.steepest)}" if finding.steepest is not None else ""
    source = "the smoothed loss's minimum ÷ 10" if finding.minimum is not None else "the steepest descent"
    lines.append(f"suggested learning rate: {number_text(suggestion)} ({source}){steepest}")
    lines.append(f"train with it: designer train {src} --lr {number_text(suggestion)}")
    return "\n".join(lines) + "\n"
