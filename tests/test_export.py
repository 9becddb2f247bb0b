"""Export: the Python model file, weights, ONNX and torch.export, from the API and the CLI."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import socket
import stat
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
import torch

import designer
from designer import export
from designer.cli import main
from designer.graph import Graph
from designer.graph.compile import plan
from designer.graph.python_code import python_source
from designer.graph.structure import structure
from designer.graph.templates import template_names
from tests.graph.test_files import read_fifo_during
from tests.test_cli import assert_one_line_error, run

RUFF = Path(sys.executable).with_name("ruff")
posix_only = pytest.mark.skipif(sys.platform == "win32", reason="FIFOs, devices and sockets are POSIX")


@pytest.fixture
def cli(capsys):
    def call(*argv: str) -> tuple[int, str, str]:
        return run(capsys, *argv)

    return call


def import_file(path: Path):
    spec = importlib.util.spec_from_file_location(f"exported_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def exported_class(graph: Graph, tmp_path: Path):
    path = tmp_path / f"{graph.name.replace('-', '_')}.py"
    export.export_python(graph, path)
    module = import_file(path)
    classes = [v for v in vars(module).values() if isinstance(v, type) and issubclass(v, torch.nn.Module)
               and v is not torch.nn.Module]
    helpers = set(plan(graph).helpers)  # StochasticDepth, LayerNorm2d: defined in the file for its blocks
    groups = {cls.name for cls in structure(graph, plan(graph)).classes}  # a class per group structure
    assert {c.__name__ for c in classes} == {plan(graph).class_name} | helpers | groups
    return path, getattr(module, plan(graph).class_name)


@pytest.mark.parametrize("name", template_names())
def test_exported_file_loads_the_compiled_weights_and_computes_the_same(name, tmp_path):
    graph = designer.load(name)
    _, cls = exported_class(graph, tmp_path)
    compiled = export.model_with_weights(graph, seed=3)
    model = cls().eval()
    model.load_state_dict(export.nested_state(graph, compiled.state_dict()), strict=True)  # as exported
    x = export.example_inputs(graph, batch=2)
    with torch.no_grad():
        assert torch.equal(model(*x), compiled(*x))


@pytest.mark.parametrize("name", template_names())
def test_exported_file_passes_ruff_and_is_already_formatted(name, tmp_path):
    path = tmp_path / "model.py"
    export.export_python(designer.load(name), path)
    for args in (["check", "--isolated"], ["format", "--isolated", "--check"]):
        result = subprocess.run([str(RUFF), *args, str(path)], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr


def test_exported_file_reads_like_the_write_ups():
    text = python_source(designer.load("alexnet"))
    assert text.count("import") == 1 and "from torch import nn" in text  # only torch
    assert "class Alexnet(nn.Module):" in text
    assert "Input input_: 3×227×227 per sample" in text
    assert "Parameters: 60,965,224" in text
    assert "Multiply-accumulates per sample: 724,406,816" in text
    assert "self.conv1 = nn.Conv2d(3, 96, kernel_size=11, stride=4)\n" in text
    assert "self.conv2 = nn.Conv2d(96, 256, kernel_size=5, padding=2, groups=2)\n" in text
    assert "conv1 = self.conv1(input_)  # 96×55×55\n" in text
    assert "pool5 = self.pool5(relu5)  # 256×6×6\n" in text
    assert text.rstrip().endswith("return fc8")


def test_merges_are_written_as_plus_and_torch_cat():
    resnet, inception = python_source(designer.load("resnet18")), python_source(designer.load("inception"))
    assert "import torch\n" not in resnet
    assert "        layer1_0_add = layer1_0_bn2 + maxpool  # 64×56×56\n" in resnet
    assert "import torch\n" in inception and "torch.cat(" in inception and "dim=1" in inception


HOSTILE = [
    'a"b',
    "it's",
    'x"""; import os; os.system("touch PWNED"); """',
    "line\nbreak",
    "# not a comment",
    "__import__('os').system('touch PWNED')",
    "\\",
    "déjà vu ✓",
    "class",
    "self",
    "torch",
    "nn",
    "forward",
    "1st",
    "a\r\x0c\u2028b",
]


def hostile_graph() -> Graph:
    graph = Graph()
    graph.name = 'evil"""\nimport os; os.system("touch PWNED")\n"""'
    graph.description = 'also """; __import__("os").system("touch PWNED"); """ \\ # end'
    previous = graph.add_node("Input", "input\"'", {"shape": [3, 8, 8]}).name
    for i, name in enumerate(HOSTILE):
        node = graph.add_node("Conv2d" if i % 2 else "ReLU", name,
                              {"out_channels": 3, "padding": 1} if i % 2 else {})
        graph.connect(previous, node.name)
        previous = node.name
    branch = graph.add_node("ReLU", "\"\"\"branch\"\"\"")
    graph.connect(previous, branch.name)
    merge = graph.add_node("Concat", "cat'); print('x")
    graph.connect(previous, merge.name)
    graph.connect(branch.name, merge.name)
    return graph


def test_hostile_names_export_to_a_file_that_only_defines_the_model(tmp_path):
    graph = hostile_graph()
    path = tmp_path / "evil.py"
    export.export_python(graph, path)
    # Run the file in a fresh interpreter with an audit hook: after torch is
    # imported, executing the module may do nothing but define things.
    probe = textwrap.dedent(f"""
        import json, sys, torch, torch.nn
        source = open({str(path)!r}, encoding="utf-8").read()
        code = compile(source, "evil.py", "exec")
        events = []
        sys.addaudithook(lambda event, args: events.append(event) if event in {{
            "open", "os.system", "subprocess.Popen", "os.exec", "os.posix_spawn", "import",
            "builtins.input", "socket.connect", "os.remove", "shutil.rmtree"}} else None)
        namespace = {{"__name__": "evil"}}
        exec(code, namespace)
        print(json.dumps([sorted(k for k in namespace if not k.startswith("__")), events]))
    """)
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    names, events = json.loads(result.stdout)
    assert events == [] and len(names) == 3 and {"nn", "torch"} < set(names)
    assert not (tmp_path / "PWNED").exists()
    cls = import_file(path).__dict__[names[0]]
    compiled = export.model_with_weights(graph, seed=1)
    model = cls().eval()
    model.load_state_dict(compiled.state_dict(), strict=True)
    x = export.example_inputs(graph)
    with torch.no_grad():
        assert torch.equal(model(*x), compiled(*x))


@pytest.mark.parametrize("suffix", [".pt", ".safetensors"])
def test_weights_round_trip_into_the_exported_file(suffix, tmp_path):
    graph = designer.load("lenet5")
    weights = tmp_path / f"weights{suffix}"
    export.export_weights(graph, weights, seed=7)
    _, cls = exported_class(graph, tmp_path)
    model = cls().eval()
    model.load_state_dict(export.load_weights(weights), strict=True)
    reference = export.model_with_weights(graph, seed=7)
    x = export.example_inputs(graph)
    with torch.no_grad():
        assert torch.equal(model(*x), reference(*x))
    # different seeds give different weights, the same seed the same ones
    other = tmp_path / f"other{suffix}"
    export.export_weights(graph, other, seed=8)
    assert not torch.equal(export.load_weights(other)["c1.weight"], model.c1.weight)


def test_a_training_checkpoint_gives_its_model_weights(cli, tmp_path):
    graph = designer.load("lenet5")
    trained = export.model_with_weights(graph, seed=1).state_dict()
    trained = {key: value + 1 for key, value in trained.items()}
    torch.save({"model": trained, "epoch": 3}, tmp_path / "checkpoint.pt")  # a training checkpoint
    code, _, err = cli("export", "lenet5", "-f", "weights", "-o", str(tmp_path / "w.safetensors"),
                           "--weights", str(tmp_path / "checkpoint.pt"))
    assert code == 0, err
    loaded = export.load_weights(tmp_path / "w.safetensors")
    assert all(torch.equal(loaded[key], trained[key]) for key in trained)


def test_pt2_program_runs_any_batch_size(tmp_path):
    graph = designer.load("inception")
    path = tmp_path / "net.pt2"
    export.export_pt2(graph, path, seed=2)
    program = torch.export.load(path)
    reference = export.model_with_weights(graph, seed=2)
    x = torch.randn(5, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(program.module()(x), reference(x), rtol=0, atol=1e-6)


@pytest.mark.parametrize("name", ["lenet5", "inception"])
def test_onnx_model_matches_in_onnxruntime_at_any_batch(cli, name, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    graph = designer.load(name)
    path = tmp_path / "net.onnx"
    code, out, err = cli("export", name, "-f", "onnx", "-o", str(path), "--seed", "4")
    assert code == 0 and out == "" and err == f"wrote {path}\n"
    session = ort.InferenceSession(str(path))
    (inp,) = session.get_inputs()
    assert inp.name == "input_"
    x = torch.randn(3, *graph.result(graph.inputs()[0]).shape)
    (y,) = session.run(None, {inp.name: x.numpy()})
    with torch.no_grad():
        expected = export.model_with_weights(graph, seed=4)(x)
    torch.testing.assert_close(torch.from_numpy(y), expected, rtol=1e-4, atol=1e-5)


# -- bad input -----------------------------------------------------------------------------


def test_unknown_format_is_refused(cli):
    code, out, err = cli("export", "lenet5", "-f", "keras", "-o", "x")
    assert_one_line_error(code, out, err, "invalid choice: 'keras'")


def test_graph_with_errors_is_refused_with_the_errors_listed(cli, tmp_path):
    graph = designer.load("lenet5")
    graph.set_params("c1", {"kernel_size": 40})
    designer.graph.project.save(graph, tmp_path / "bad.json")
    target = tmp_path / "model.py"
    code, out, err = cli("export", str(tmp_path / "bad.json"), "-f", "python", "-o", str(target))
    assert_one_line_error(code, out, err, "the graph has errors: c1: kernel 40 is larger than the padded")
    assert not target.exists()


@pytest.mark.parametrize("where, words", [
    ("missing/model.py", "missing: no such folder"),
    ("missing/deeper/model.py", "missing: no such folder"),
    (".", "is a folder, not a file"),
])
def test_unwritable_paths_are_named(cli, tmp_path, where, words):
    code, out, err = cli("export", "lenet5", "-f", "python", "-o", str(tmp_path / where))
    assert_one_line_error(code, out, err, words)
    assert list(tmp_path.iterdir()) == []  # no temporary file left behind


def test_weights_need_a_known_suffix(cli, tmp_path):
    code, out, err = cli("export", "lenet5", "-f", "weights", "-o", str(tmp_path / "w.bin"))
    assert_one_line_error(code, out, err, "w.bin: weights are saved as .pt, .pth, .safetensors")


def test_weights_of_another_network_are_refused_by_key(cli, tmp_path):
    export.export_weights(designer.load("lenet5"), tmp_path / "lenet.pt")
    code, out, err = cli("export", "alexnet-cifar", "-f", "weights", "-o", str(tmp_path / "w.pt"),
                         "--weights", str(tmp_path / "lenet.pt"))
    assert_one_line_error(code, out, err, "the weights do not fit this graph (missing: ")
    assert "not in this graph: c1.weight" in err and not (tmp_path / "w.pt").exists()


def test_weights_of_the_wrong_shape_are_refused(cli, tmp_path):
    graph = designer.load("lenet5")
    export.export_weights(graph, tmp_path / "w.pt")
    graph.set_params("c1", {"out_channels": 8})
    designer.graph.project.save(graph, tmp_path / "wider.json")
    code, out, err = cli("export", str(tmp_path / "wider.json"), "-f", "pt2", "-o", str(tmp_path / "x.pt2"),
                         "--weights", str(tmp_path / "w.pt"))
    assert_one_line_error(code, out, err, "wrong shape: c1.weight is 6×1×5×5 in the file, 8×1×5×5 here")


class Payload:
    def __reduce__(self):
        return (print, ("unpickled!",))


def test_a_pickle_with_objects_is_never_unpickled(cli, tmp_path):
    torch.save({"c1.weight": Payload()}, tmp_path / "evil.pt")
    code, out, err = cli("export", "lenet5", "-f", "weights", "-o", str(tmp_path / "w.pt"),
                         "--weights", str(tmp_path / "evil.pt"))
    assert_one_line_error(code, out, err, "holds Python objects other than tensors")  # and out == ""


class System:
    """A pickle that would run a shell command when unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_pickle_payload_gets_the_same_short_words_from_export_and_eval(cli, tmp_path):
    evil, marker = tmp_path / "evil.pt", tmp_path / "ran"
    torch.save({"c1.weight": System(marker)}, evil)
    lines = []
    for argv in (["export", "lenet5", "-f", "weights", "-o", str(tmp_path / "w.pt"), "--weights", str(evil)],
                 ["eval", str(evil)]):
        code, out, err = cli(*argv)
        assert_one_line_error(code, out, err, f"{evil}: holds Python objects other than tensors; it is not "
                                              "loaded, since unpickling them could run code (Trying to load "
                                              "unsupported GLOBAL posix.system")
        assert len(err.replace(str(tmp_path), "")) < 250  # torch's own message runs to 600 characters
        lines.append(err)
    assert lines[0] == lines[1] and not marker.exists()


@pytest.mark.parametrize("content", [b"", b"garbage", b"PK\x03\x04broken zip"])
@pytest.mark.parametrize("suffix", [".pt", ".safetensors"])
def test_unreadable_weights_files_are_named(cli, tmp_path, content, suffix):
    (tmp_path / f"w{suffix}").write_bytes(content)
    code, out, err = cli("export", "lenet5", "-f", "weights", "-o", str(tmp_path / "out.pt"),
                         "--weights", str(tmp_path / f"w{suffix}"))
    assert_one_line_error(code, out, err, f"w{suffix}: not a PyTorch or safetensors weights file (")
    assert len(err.replace(str(tmp_path), "")) < 220


def unblocking_fifo(path: Path) -> threading.Event:
    """A FIFO at ``path``; a reader that opens it anyway is let go after 3 s. Set the event to stop."""
    os.mkfifo(path)
    done = threading.Event()

    def release() -> None:
        done.wait(3)
        while not done.is_set():
            with contextlib.suppress(OSError):  # no reader yet
                os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
            time.sleep(0.05)

    threading.Thread(target=release, daemon=True).start()
    return done


@posix_only
def test_weights_that_are_a_fifo_or_a_folder_are_named_not_read(cli, tmp_path):
    fifo = tmp_path / "w.pt"
    done = unblocking_fifo(fifo)
    started = time.monotonic()
    try:
        code, out, err = cli("export", "lenet5", "-f", "weights", "-o", str(tmp_path / "out.pt"),
                             "--weights", str(fifo))
    finally:
        done.set()
    assert_one_line_error(code, out, err, f"{fifo}: is a named pipe (FIFO), not a file")
    assert time.monotonic() - started < 2
    (tmp_path / "w.safetensors").mkdir()
    code, out, err = cli("export", "lenet5", "-f", "weights", "-o", str(tmp_path / "out.pt"),
                         "--weights", str(tmp_path / "w.safetensors"))
    assert_one_line_error(code, out, err, "w.safetensors: is a folder, not a file")


def test_python_export_takes_no_weights(cli, tmp_path):
    export.export_weights(designer.load("lenet5"), tmp_path / "w.pt")
    code, out, err = cli("export", "lenet5", "-f", "python", "-o", str(tmp_path / "m.py"),
                         "--weights", str(tmp_path / "w.pt"))
    assert_one_line_error(code, out, err, "--weights goes with --format weights, onnx, pt2 or train-script")


# -- where the output goes: special files, links, read-only files --------------------------------


def test_an_output_under_a_file_names_the_file(cli, tmp_path):
    (tmp_path / "somefile.txt").write_text("notes")
    code, out, err = cli("export", "lenet5", "-f", "python", "-o", str(tmp_path / "somefile.txt" / "out.py"))
    assert_one_line_error(code, out, err, f"{tmp_path / 'somefile.txt'}: is a file, not a folder")
    assert (tmp_path / "somefile.txt").read_text() == "notes"


@posix_only
def test_export_into_dev_null_succeeds_and_leaves_it_a_device(cli):
    code, _out, err = cli("export", "lenet5", "-f", "python", "-o", os.devnull)
    assert code == 0 and err == f"wrote {os.devnull}\n"
    assert stat.S_ISCHR(os.lstat(os.devnull).st_mode)


@posix_only
def test_export_into_a_fifo_nobody_reads_is_refused(cli, tmp_path):
    fifo, link = tmp_path / "pipe", tmp_path / "link.py"
    os.mkfifo(fifo)
    link.symlink_to(fifo)
    for target in (fifo, link):
        code, out, err = cli("export", "lenet5", "-f", "python", "-o", str(target))
        assert_one_line_error(code, out, err, "a named pipe (FIFO) that no program is reading")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and link.is_symlink()


@posix_only
def test_export_into_a_fifo_with_a_reader_streams_the_file(cli, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    codes: list[int] = []
    argv = ("export", "lenet5", "-f", "python", "-o", str(fifo))
    got = read_fifo_during(fifo, lambda: codes.append(cli(*argv)[0]))
    assert codes == [0] and got.decode() == python_source(designer.load("lenet5"))
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


@posix_only
def test_export_onto_a_socket_is_refused(cli, tmp_path):
    path = tmp_path / "s"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        code, out, err = cli("export", "lenet5", "-f", "python", "-o", str(path))
    assert_one_line_error(code, out, err, f"{path}: is a socket; only a regular file, a named pipe")
    assert stat.S_ISSOCK(os.lstat(path).st_mode)


def test_export_through_a_link_replaces_the_file_and_keeps_the_link(cli, tmp_path):
    real, link = tmp_path / "real.py", tmp_path / "link.py"
    real.write_text("old")
    link.symlink_to(real)
    assert cli("export", "lenet5", "-f", "python", "-o", str(link))[0] == 0
    assert link.is_symlink() and real.read_text().startswith('"""')


@pytest.mark.parametrize("fmt, name", [("python", "m.py"), ("weights", "w.safetensors"), ("pt2", "m.pt2")])
def test_a_read_only_output_is_kept_unless_forced(cli, tmp_path, fmt, name):
    target = tmp_path / name
    target.write_text("mine")
    target.chmod(0o444)
    code, out, err = cli("export", "lenet5", "-f", fmt, "-o", str(target))
    assert_one_line_error(code, out, err, f"{target}: is read-only, so it was not replaced; "
                                          "--force replaces it (and it stays read-only)")
    assert target.read_text() == "mine"
    assert cli("export", "lenet5", "-f", fmt, "-o", str(target), "--force")[0] == 0
    assert target.read_bytes() != b"mine" and stat.S_IMODE(target.stat().st_mode) == 0o444


def test_a_read_only_file_in_a_training_script_folder_is_kept_unless_forced(cli, tmp_path):
    (tmp_path / "model.py").write_text("mine")
    (tmp_path / "model.py").chmod(0o444)
    code, out, err = cli("export", "lenet5", "-f", "train-script", "-o", str(tmp_path))
    assert_one_line_error(code, out, err, "model.py: is read-only, so it was not replaced; --force replaces it")
    assert (tmp_path / "model.py").read_text() == "mine"
    assert cli("export", "lenet5", "-f", "train-script", "-o", str(tmp_path), "--force")[0] == 0
    assert (tmp_path / "model.py").read_text() != "mine"


def test_help_says_what_force_does(capsys):
    with pytest.raises(SystemExit):
        main(["export", "--help"])
    assert "replace the output even where it is read-only; it stays read-only" in " ".join(
        capsys.readouterr().out.split())
