"""``designer train``, ``designer eval`` and ``designer predict``.

``add_train_commands`` registers the three on the main parser. Nothing here
imports torch until a command runs, so ``designer --help`` stays fast. Faults
(a bad setting, data that does not fit the graph, a loss that turns NaN) are
GraphError subclasses or CliError, which :func:`designer.cli.main` prints as
one line with exit code 2; Ctrl-C stops a run cleanly, saving a checkpoint to
resume from, and exits with 130.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from designer.cli import CliError, _write
from designer.graph.files import file_problem

if TYPE_CHECKING:
    from designer.data import DatasetConfig
    from designer.graph.graph import Graph
    from designer.training import TrainingConfig
    from designer.training.control import Control
    from designer.training.distributed import Launch, World
    from designer.training.jobs import TrainingJob

EXIT_STOPPED = 130  # what a shell reports for Ctrl-C
DATASET_HELP = ("a built-in dataset (digits, shapes), a path (a CIFAR .tar.gz or folder, MNIST IDX files, "
                "a folder of class folders, an .npz), NAME:PATH, or a JSON object like the project's "
                "\"dataset\" section; default: the project's own")


def add_train_commands(sub: Any) -> None:
    """Add ``train``, ``eval`` and ``predict`` to the main parser's subcommands."""
    from designer.cli import bounded
    from designer.training.config import MAX_BATCH
    from designer.training.settings import add_training_flags

    batch_size = bounded(int, 1, MAX_BATCH)
    top = bounded(int, 1, 1_000_000)  # more than any classifier has classes
    p = sub.add_parser("train", help="train a network on a dataset, with a progress bar")
    p.add_argument("src", nargs="?", help="a project file or a template name (left out with --resume)")
    p.add_argument("--dataset", metavar="NAME|PATH", help=DATASET_HELP)
    add_training_flags(p, notes={"epochs": "with --resume: raise to go on",
                                 "batch_size": "of one step in all, shared by the processes"})
    p.add_argument("--out", metavar="DIR", help="where runs/<run id>/ is made (default: the project "
                                                 "file's folder, or the current folder for a template)")
    p.add_argument("--resume", metavar="CKPT", help="go on with a run: its folder or its checkpoints/last.pt")
    p.add_argument("--json", action="store_true", help="end with the results as one JSON line on stdout")
    _add_launch_options(p)
    # For the app, which shows a data-parallel job it started as one run: each record as a JSON line.
    p.add_argument("--records", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(run=_cmd_train, train_parser=p)

    p = sub.add_parser("eval", help="measure a trained network: accuracy, per-class table, confusion matrix")
    p.add_argument("trained", metavar="RUN_OR_CHECKPOINT",
                   help="a run folder (its best checkpoint) or a .pt file")
    p.add_argument("--dataset", metavar="NAME|PATH", help=DATASET_HELP.replace("the project's own",
                                                                                "the one it was trained on"))
    p.add_argument("--batch-size", type=batch_size, default=256, metavar="N", help="default 256")
    p.add_argument("--device", default="auto", metavar="D", help="auto (default), cpu, cuda, cuda:N or mps")
    p.add_argument("--json", action="store_true", help="print JSON instead of tables")
    p.set_defaults(run=_cmd_eval)

    p = sub.add_parser("predict", help="the top-5 classes of an image, by a trained network")
    p.add_argument("trained", metavar="CHECKPOINT_OR_RUN", help="a .pt checkpoint or a run folder")
    p.add_argument("image", help="an image file (PNG, JPEG, BMP, ...)")
    p.add_argument("--top", type=top, default=5, metavar="K", help="how many classes to list (default 5)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=_cmd_predict)


# -- train -------------------------------------------------------------------------------


def _cmd_train(args: argparse.Namespace) -> int:
    from designer.training.distributed import world_from_env

    world = world_from_env()
    launch = _launch_spec(args)
    if not launch.parallel and not world.parallel:
        launch = _every_gpu(args, launch)
    if launch.parallel and not world.parallel:
        return _launch(args, launch)
    if not world.parallel:
        return _train(args)
    try:
        return _train(args, world)
    except Exception as exc:
        _report_rank_failure(world, exc)
        raise


def _train(args: argparse.Namespace, world: World | None = None) -> int:
    from designer.cli_output import Progress, summary_text
    from designer.training.distributed import SINGLE

    world = world or SINGLE
    job = _train_job(args, world)
    summary = job.summary()
    progress = Progress(sys.stderr) if world.main and not args.records else None
    try:
        with _stop_on_ctrl_c(job.control, again_quits=not world.parallel):
            for record in job.records():
                summary.add(record)
                if progress is not None:
                    progress.show(record)
                elif args.records and world.main:
                    _write(json.dumps(record.to_json(), ensure_ascii=False) + "\n")
                    sys.stdout.flush()
    finally:
        if progress is not None:
            progress.close()  # a fault's one-line message must start on a line of its own
    if world.main and not args.records:  # rank 0 reports for the job; the app reads the records instead
        if args.json:
            sys.stderr.write(summary_text(summary))
            _write(json.dumps(summary.to_json(), ensure_ascii=False) + "\n")
        else:
            _write(summary_text(summary))
    return EXIT_STOPPED if summary.status == "stopped" else 0


def _train_job(args: argparse.Namespace, world: World) -> TrainingJob:
    """The job the command line asks for; every fault found before training is raised here."""
    from designer.training.jobs import resume_job, start_job
    from designer.training.settings import flag_name, training_changes

    if args.resume:
        fixed = [flag_name(key) for key in training_changes(args) if key not in ("epochs", "device")]
        if fixed:
            raise CliError(f"{' and '.join(fixed)} cannot change on --resume: the run goes on with its own "
                           "settings (start a new run to change them)")
        if args.src and world.main:
            print(f"note: {args.src} is not used: a resumed run trains the graph it started with",
                  file=sys.stderr)
        dataset = dataset_config(args.dataset, {}) if args.dataset else None
        return resume_job(_run_to_resume(Path(args.resume)), epochs=args.epochs, dataset=dataset,
                          device=args.device, world=world, sync_batchnorm=args.sync_batchnorm,
                          progress=_decode_progress(world))
    graph, dataset, config, base_dir = _new_run(args)
    root = Path(args.out) if args.out else base_dir
    return start_job(graph, dataset, config, root=root, base_dir=base_dir, world=world,
                     sync_batchnorm=args.sync_batchnorm, progress=_decode_progress(world))


def _decode_progress(world: World) -> Callable[[int, int], None] | None:
    """The first decoding of an image folder, told on stderr by the process that reports for the job."""
    from designer.data.progress import DecodeProgress

    return DecodeProgress(sys.stderr) if world.main else None


def _new_run(args: argparse.Namespace) -> tuple[Graph, DatasetConfig, TrainingConfig, Path]:
    """The graph, dataset and settings of a new run as the command line gives them."""
    import designer
    from designer.data import DatasetConfig
    from designer.training import TrainingConfig

    if not args.src:
        raise CliError("give the network to train (a project file or a template name), or --resume RUN")
    graph = designer.load(args.src)
    base_dir = Path(args.src).resolve().parent if Path(args.src).is_file() else Path.cwd()
    own = graph.meta.get("dataset", {})
    dataset = dataset_config(args.dataset, own) if args.dataset else DatasetConfig.from_json(own)
    from designer.training.settings import training_changes

    config = TrainingConfig.from_json(graph.meta.get("training", {})).replace(**training_changes(args))
    return graph, dataset, config, base_dir


# -- data-parallel runs ------------------------------------------------------------------

_LAUNCH_OPTIONS = ("nproc_per_node", "nnodes", "node_rank", "rdzv_endpoint")


def _add_launch_options(p: argparse.ArgumentParser) -> None:
    from designer.cli import bounded

    count = bounded(int, 1, 1024)
    g = p.add_argument_group("data-parallel training (torchrun's options, same meaning)")
    g.add_argument("--nproc-per-node", type=count, default=1, metavar="N",
                   help="processes on this machine: one per GPU, or CPU processes sharing the cores")
    g.add_argument("--nnodes", type=count, default=1, metavar="M", help="machines in the job (default 1)")
    g.add_argument("--node-rank", type=bounded(int, 0, 1023), default=0, metavar="R",
                   help="this machine's number, 0 to M-1 (0: the one at --rdzv-endpoint)")
    g.add_argument("--rdzv-endpoint", metavar="HOST:PORT",
                   help="where the machines meet: node 0's address and a free port, the same on all")
    g.add_argument("--sync-batchnorm", action="store_true",
                   help="BatchNorm statistics over the whole batch, not each process's share")


def _every_gpu(args: argparse.Namespace, launch: Launch) -> Launch:
    """``--device cuda:all`` (or a project or run set to it): one process per GPU of this machine."""
    from designer.training.distributed import every_gpu

    device = args.device
    if device is None and args.resume:
        from designer.training.runs import RunFolder

        folder = RunFolder.open(_run_to_resume(Path(args.resume)))
        device = folder.read_json(folder.config_path).get("device")
    elif device is None:
        device = _new_run(args)[2].device
    return every_gpu(str(device)) or launch


def _launch_spec(args: argparse.Namespace) -> Launch:
    from designer.training.distributed import Launch

    if args.node_rank >= args.nnodes:
        raise CliError(f"--node-rank {args.node_rank} must be below --nnodes {args.nnodes} (machines are "
                       f"numbered from 0)")
    if args.nnodes > 1 and args.rdzv_endpoint is None:
        raise CliError(f"--nnodes {args.nnodes} needs --rdzv-endpoint HOST:PORT: the address of the machine "
                       f"with --node-rank 0 and a free port on it, the same on every machine")
    if args.rdzv_endpoint is not None and not _endpoint(args.rdzv_endpoint):
        raise CliError(f"--rdzv-endpoint: {args.rdzv_endpoint!r} is not HOST:PORT (like 10.0.0.1:29500)")
    return Launch(args.nproc_per_node, args.nnodes, args.node_rank, args.rdzv_endpoint)


def _endpoint(text: str) -> bool:
    host, _, port = text.rpartition(":")
    return bool(host) and port.isdigit() and 0 < int(port) < 65536


def _launch(args: argparse.Namespace, launch: Launch) -> int:
    """Check what can be checked here, then run the workers; the first failure is one line."""
    from designer.training.distributed import launch as run_workers
    from designer.training.distributed import rank_batch

    processes = launch.nproc_per_node * launch.nnodes
    if args.sync_batchnorm:
        import torch

        from designer.training.distributed import SYNC_BN_NEEDS_CUDA

        if not torch.cuda.is_available():
            raise CliError(SYNC_BN_NEEDS_CUDA)
    if args.resume:
        from designer.training.runs import RunFolder

        folder = RunFolder.open(_run_to_resume(Path(args.resume)))
        rank_batch(int(folder.read_json(folder.config_path).get("batch_size", 0)), processes)
    else:
        _, _, config, _ = _new_run(args)
        rank_batch(config.batch_size, processes)
    return run_workers(launch, _worker_argv(args))


def _worker_argv(args: argparse.Namespace) -> list[str]:
    """The command line each worker runs: this one, without the launch options."""
    argv = ["train"]
    for action in args.train_parser._actions:
        value = getattr(args, action.dest, None)
        if action.dest in (*_LAUNCH_OPTIONS, "help") or value is None:
            continue
        if not action.option_strings:
            argv.append(str(value))
        elif isinstance(action, argparse.BooleanOptionalAction):  # --x or --no-x, as given
            argv.append(action.option_strings[0] if value else action.option_strings[-1])
        elif value is True:
            argv.append(action.option_strings[-1])
        elif value is not False:
            argv += [action.option_strings[-1], str(value)]
    return argv


def _report_rank_failure(world: World, exc: BaseException) -> None:
    """A worker's fault goes to the launcher, which prints it once for the job."""
    from designer.graph.errors import GraphError
    from designer.training.distributed import report_failure

    message = str(exc) if isinstance(exc, (GraphError, CliError)) else f"{type(exc).__name__}: {exc}"
    if report_failure(world, message):
        raise SystemExit(2) from None


def _run_to_resume(path: Path) -> Path:
    """The run folder of ``--resume``: the folder itself, or the one holding ``checkpoints/last.pt``."""
    if path.is_dir():
        return path
    if not os.path.lexists(path):
        raise CliError(f"--resume: {path}: no such run folder or checkpoint")
    problem = file_problem(path)
    if problem is not None:
        raise CliError(f"--resume: {path}: {problem}")
    if path.parent.name != "checkpoints" or not (path.parent.parent / "run.json").is_file():
        raise CliError(f"--resume: {path} is not inside a run folder (run/checkpoints/last.pt); "
                       "give the run folder")
    if path.name != "last.pt":
        raise CliError(f"--resume goes on from where the run stopped, checkpoints/last.pt, not {path.name}; "
                       f"give {path.parent.parent}")
    return path.parent.parent


@contextlib.contextmanager
def _stop_on_ctrl_c(control: Control, again_quits: bool = True) -> Iterator[None]:
    """The first Ctrl-C asks the run to stop after this batch and save; a second one quits at once.

    The handler only flips the flag: writing from it could meet a write to the
    same stream it interrupted, which Python refuses. The summary says it stopped.
    A rank of a data-parallel job hears Ctrl-C from the launcher, which may pass
    it on more than once; it keeps stopping with the others (the launcher kills
    what has not ended after 30 s).
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        if control.stop_requested and again_quits:
            raise KeyboardInterrupt
        control.request_stop()

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


# -- the --dataset option ----------------------------------------------------------------


def dataset_config(text: str, own: dict[str, Any]) -> DatasetConfig:
    """``--dataset``: a name, a path, NAME:PATH or a JSON object; the project's other options are kept.

    Options of the project's own dataset (validation share, normalisation,
    augmentation, grayscale to RGB) still apply to the data named here, except
    those tied to the old source (its path, its sample count, its own test split).
    """
    from designer.data import DatasetConfig
    from designer.data.config import BUILTIN, SOURCES
    from designer.data.guess import guess_source, split_named

    text = text.strip()
    if text.startswith("{"):
        try:
            return DatasetConfig.from_json(json.loads(text))
        except ValueError as exc:
            raise CliError(f"--dataset: not a JSON object ({exc})") from None
    named = split_named(text)
    if named is not None:
        name, path = named[0], str(Path(named[1]).expanduser().resolve())
    elif text.lower() in BUILTIN:
        name, path = text.lower(), None
    elif Path(text).expanduser().exists():
        name, where = guess_source(Path(text).expanduser().resolve())
        path = str(where)
    elif text.lower().replace("-", "_") in SOURCES:
        name, path = text, None  # the config says this source needs a path
    else:
        raise CliError(f"--dataset: {text!r} is neither a dataset name ({', '.join(BUILTIN)}) nor an "
                       f"existing file or folder")
    kept = {k: v for k, v in own.items() if k not in ("name", "path", "samples") and
            not (k == "validation" and v == "given")}
    return DatasetConfig.from_json({**kept, "name": name, **({"path": path} if path else {})})


# -- eval and predict --------------------------------------------------------------------


def _cmd_eval(args: argparse.Namespace) -> int:
    from designer.cli_output import evaluation_json, evaluation_text
    from designer.training import TrainingConfig, pick_device
    from designer.training.trained import evaluate_trained, open_trained

    device = pick_device(TrainingConfig(device=args.device))
    trained = open_trained(_existing(args.trained))
    _notes(trained.notes)
    dataset = dataset_config(args.dataset, trained.info.dataset) if args.dataset else None
    result = evaluate_trained(trained, dataset, args.batch_size, device)
    _notes(result.notes)
    report = evaluation_json(result, str(trained.checkpoint))
    _write(json.dumps(report, ensure_ascii=False) + "\n" if args.json else evaluation_text(report))
    return 0


def _cmd_predict(args: argparse.Namespace) -> int:
    from designer.cli_output import predictions_text
    from designer.training.trained import open_trained, predict

    image = _readable_file(args.image)  # before the network loads: a wrong path is said at once
    trained = open_trained(_existing(args.trained))
    _notes(trained.notes)
    predictions = predict(trained, image, args.top)
    if args.json:
        listed = [{"class": name, "probability": p} for name, p in predictions]
        _write(json.dumps({"image": args.image, "predictions": listed}, ensure_ascii=False) + "\n")
    else:
        _write(predictions_text(predictions))
    return 0


def _existing(path: str) -> Path:
    if not Path(path).exists():
        raise CliError(f"{path}: no such file or folder")
    return Path(path)


def _readable_file(path: str) -> Path:
    problem = file_problem(path)
    if problem is not None:
        raise CliError(f"{path}: {problem}")
    return Path(path)


def _notes(notes: tuple[str, ...]) -> None:
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
