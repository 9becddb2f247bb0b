"""The ``designer`` command line: ``templates`` and ``summary``, in-process and as a real process.

Bad input gets exit code 2 and one ``designer: error: ...`` line on stderr,
never a traceback; a graph with errors still gets its table, and exit code 1.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from designer.cli import EXIT_BAD_INPUT, EXIT_BROKEN_PIPE, EXIT_INVALID_GRAPH, main
from designer.graph import Graph, project
from designer.graph.templates import template_description, template_names, template_path

SEVEN = ["alexnet", "alexnet-cifar", "inception", "lenet5", "resnet18", "vgg16", "vgg16-cifar"]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_process(*argv: str, **env: str) -> subprocess.CompletedProcess[bytes]:
    environment = {**os.environ, "PYTHONUTF8": "1", **env}
    return subprocess.run([sys.executable, "-m", "designer", *argv], capture_output=True,
                          env=environment, timeout=120, check=False)


def assert_one_line_error(code: int, out: str, err: str, fragment: str) -> None:
    assert code == EXIT_BAD_INPUT
    assert out == ""
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("designer: error: ")
    assert fragment in lines[0]


def table_row(out: str, name: str) -> str:
    rows = [line for line in out.splitlines() if line.split(" ", 1)[0] == name]
    assert len(rows) == 1, (name, out)
    return rows[0]


# -- summary ---------------------------------------------------------------------------


ALEXNET_FACTS = [
    "96×55×55",
    "55 = ⌊(227 − 11 + 2·0) / 4⌋ + 1",
    "27 = ⌊(55 − 3) / 2⌋ + 1",
    "6 = ⌊(13 − 3) / 2⌋ + 1",
    "Total parameters: 60,965,224",
]


def test_summary_alexnet(capsys):
    code, out, err = run(capsys, "summary", "alexnet")
    assert code == 0 and err == ""
    for fact in ALEXNET_FACTS:
        assert fact in out
    assert out.splitlines()[0] == "alexnet"
    conv1 = table_row(out, "conv1")
    assert "Conv2d" in conv1 and "96×55×55" in conv1 and "34,944" in conv1
    assert "55 = ⌊(227 − 11 + 2·0) / 4⌋ + 1" in conv1
    assert "27 = ⌊(55 − 3) / 2⌋ + 1" in table_row(out, "pool1")
    assert "6 = ⌊(13 − 3) / 2⌋ + 1" in table_row(out, "pool5")
    assert "256×6×6" in table_row(out, "pool5")
    assert "ERROR" not in out and "error:" not in out


def test_summary_alexnet_as_a_real_process():
    result = run_process("summary", "alexnet")
    out, err = result.stdout.decode("utf-8"), result.stderr.decode("utf-8")
    assert result.returncode == 0, err
    assert err == ""
    for fact in ALEXNET_FACTS:
        assert fact in out


def test_summary_survives_a_console_without_unicode():
    result = run_process("summary", "alexnet", PYTHONUTF8="0", PYTHONIOENCODING="ascii")
    assert result.returncode == 0, result.stderr.decode()
    assert b"Traceback" not in result.stderr
    out = result.stdout.decode("ascii")
    assert "96\\xd755\\xd755" in out
    assert "Total parameters: 60,965,224" in out


def test_summary_json_has_the_documented_keys(capsys):
    code, out, err = run(capsys, "summary", "alexnet", "--json")
    assert code == 0 and err == ""
    data = json.loads(out)
    assert {"nodes", "total_params", "total_macs", "errors"} <= set(data)
    assert data["total_params"] == 60_965_224
    assert data["total_macs"] > 0
    assert data["errors"] == []
    for node in data["nodes"]:
        assert {"name", "type", "inputs", "output_shape", "formula", "params", "macs", "error"} <= set(node)
    nodes = {n["name"]: n for n in data["nodes"]}
    assert nodes["input"]["inputs"] == [] and nodes["input"]["output_shape"] == [3, 227, 227]
    conv1 = nodes["conv1"]
    assert conv1["type"] == "Conv2d"
    assert conv1["inputs"] == ["input"]
    assert conv1["output_shape"] == [96, 55, 55]
    assert conv1["formula"] == "55 = ⌊(227 − 11 + 2·0) / 4⌋ + 1"
    assert conv1["params"] == 34_944
    assert conv1["macs"] == 105_415_200
    assert conv1["error"] is None
    assert nodes["fc8"]["output_shape"] == [1000]
    assert sum(n["params"] for n in data["nodes"]) == data["total_params"]
    assert sum(n["macs"] for n in data["nodes"]) == data["total_macs"]


def test_summary_input_reruns_the_shapes(capsys):
    code, out, _ = run(capsys, "summary", "vgg16")
    assert code == 0
    assert "Total parameters: 138,357,544" in out
    assert "224 = ⌊(224 − 3 + 2·1) / 1⌋ + 1" in table_row(out, "conv1_1")

    code, out, err = run(capsys, "summary", "vgg16", "--input", "3,32,32")
    assert code == 0 and err == ""
    assert "3×32×32" in table_row(out, "input")
    assert "32 = ⌊(32 − 3 + 2·1) / 1⌋ + 1" in table_row(out, "conv1_1")
    assert "512×1×1" in table_row(out, "pool5")
    assert "4096 outputs, each from 512 inputs" in table_row(out, "fc6")
    assert "Total parameters: 37,694,248" in out

    code, out, _ = run(capsys, "summary", "vgg16", "--input", "3,32,32", "--json")
    nodes = {n["name"]: n for n in json.loads(out)["nodes"]}
    assert nodes["input"]["output_shape"] == [3, 32, 32]
    assert nodes["pool5"]["output_shape"] == [512, 1, 1]
    assert nodes["fc6"]["params"] == 512 * 4096 + 4096


def test_summary_input_that_breaks_the_graph_exits_1(capsys):
    code, out, err = run(capsys, "summary", "vgg16", "--input", "3,16,16")
    assert code == EXIT_INVALID_GRAPH and err == ""
    assert "ERROR: window 2 does not fit the input 1×1" in table_row(out, "pool5")
    assert "unknown" in table_row(out, "fc8")
    assert "1 error:" in out


def write_bad_conv_project(path: Path) -> Path:
    g = Graph()
    g.name = "too-small"
    g.add_node("Input", "input", {"shape": [3, 8, 8]})
    g.add_node("Conv2d", "conv1", {"out_channels": 4, "kernel_size": 3})
    g.add_node("Conv2d", "conv2", {"out_channels": 4, "kernel_size": 11})
    g.add_node("ReLU", "relu")
    g.connect("input", "conv1")
    g.connect("conv1", "conv2")
    g.connect("conv2", "relu")
    project.save(g, path)
    return path


def test_summary_of_an_invalid_graph_prints_the_table_and_exits_1(capsys, tmp_path):
    path = write_bad_conv_project(tmp_path / "bad-conv.json")
    code, out, err = run(capsys, "summary", str(path))
    assert code == EXIT_INVALID_GRAPH
    assert err == ""
    assert out.splitlines()[0] == "too-small"
    assert "6 = ⌊(8 − 3 + 2·0) / 1⌋ + 1" in table_row(out, "conv1")  # what works is still shown
    assert "4×6×6" in table_row(out, "conv1")
    assert "ERROR: kernel 11 is larger than the padded input 6" in table_row(out, "conv2")
    assert "unknown" in table_row(out, "relu")
    assert "1 error:" in out
    assert "  conv2: kernel 11 is larger than the padded input 6; reduce kernel_size or add padding ≥ 3" in out

    code, out, err = run(capsys, "summary", str(path), "--json")
    assert code == EXIT_INVALID_GRAPH and err == ""
    data = json.loads(out)
    assert data["errors"] == ["conv2: kernel 11 is larger than the padded input 6; "
                              "reduce kernel_size or add padding ≥ 3"]
    nodes = {n["name"]: n for n in data["nodes"]}
    assert nodes["conv1"]["output_shape"] == [4, 6, 6]
    assert nodes["conv2"]["output_shape"] is None
    assert "kernel 11" in nodes["conv2"]["error"]


def test_summary_of_an_invalid_graph_as_a_real_process(tmp_path):
    path = write_bad_conv_project(tmp_path / "bad-conv.json")
    result = run_process("summary", str(path))
    assert result.returncode == EXIT_INVALID_GRAPH
    assert b"Traceback" not in result.stderr
    assert "kernel 11 is larger than the padded input 6" in result.stdout.decode("utf-8")


def test_summary_of_a_graph_without_input_exits_1(capsys, tmp_path):
    g = Graph()
    g.add_node("ReLU", "relu")
    project.save(g, tmp_path / "headless.json")
    code, out, _ = run(capsys, "summary", str(tmp_path / "headless.json"))
    assert code == EXIT_INVALID_GRAPH
    assert "the graph has no Input block" in out


def test_summary_of_a_saved_file_matches_the_template(capsys, tmp_path):
    path = tmp_path / "copy.json"
    path.write_bytes(template_path("lenet5").read_bytes())
    assert run(capsys, "summary", "lenet5") == run(capsys, "summary", str(path))


# -- bad input: exit 2, one line, no traceback ----------------------------------------------


def test_unknown_template(capsys):
    code, out, err = run(capsys, "summary", "alexnet2")
    assert_one_line_error(code, out, err, "'alexnet2' is neither a project file nor a template")
    assert "vgg16-cifar" in err


def test_missing_file(capsys, tmp_path):
    missing = tmp_path / "nope.json"
    code, out, err = run(capsys, "summary", str(missing))
    assert_one_line_error(code, out, err, f"{missing}: no such file")


def test_a_folder(capsys, tmp_path):
    code, out, err = run(capsys, "summary", str(tmp_path))
    assert_one_line_error(code, out, err, "is a folder, not a project file")


@pytest.mark.parametrize("content, fragment", [
    (b'{"format": "designer-project", "version": 1, "nodes": [', "not valid JSON"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "not a text file"),
    (b"", "the file is empty"),
    (b'{"format": "designer-project", "version": 1, "nodes": [{"name": "a", "type": "Input"},'
     b' {"name": "b", "type": "Add"}, {"name": "c", "type": "ReLU"}], "edges": ['
     b'{"source": "a", "target": "b"}, {"source": "c", "target": "b"}, {"source": "b", "target": "c"}]}',
     "the edges form a loop"),
    (b'{"format": "designer-project", "version": 1, "nodes": [{"name": "a", "type": "Conv3d"}]}',
     "unknown block type 'Conv3d'"),
    (b'{"format": "designer-project", "version": 1, "nodes": [{"name": "c", "type": "Conv2d",'
     b' "params": {"kernel_size": 0}}]}', 'nodes[0] "c": kernel_size: must be between 1 and 4096, got 0'),
    (b'{"format": "designer-project", "version": 9, "nodes": []}', "written by a newer Designer"),
])
def test_corrupt_file(capsys, tmp_path, content, fragment):
    path = tmp_path / "corrupt.json"
    path.write_bytes(content)
    code, out, err = run(capsys, "summary", str(path))
    assert_one_line_error(code, out, err, fragment)
    assert str(path) in err


def test_corrupt_file_as_a_real_process(tmp_path):
    path = tmp_path / "corrupt.json"
    path.write_text('{"format": "designer-project", "version": 1, "nodes": [{"name": "x", "type": "Input", '
                    '"params": {"shape": [3, 100000, 100000]}}]}')
    result = run_process("summary", str(path))
    assert result.returncode == EXIT_BAD_INPUT
    assert result.stdout == b""
    err = result.stderr.decode("utf-8")
    assert "Traceback" not in err
    assert err.count("\n") == 1 and err.startswith("designer: error: ")
    assert "elements per sample is more than" in err


@pytest.mark.parametrize("shape, fragment", [
    ("0,1", "argument --input: every size must be at least 1 (write C×H×W like 3×224×224"),
    ("3,32,32,2", "argument --input: '3,32,32,2' is not a shape: write C×H×W like 3×224×224"),
    ("3,0,32", "every size must be at least 1"),
    ("a,b,c", "argument --input: 'a,b,c' is not a shape: write C×H×W like 3×224×224"),
    ("3,100000,100000", "shape: 30,000,000,000 elements per sample is more than"),
])
def test_bad_input_shape(capsys, shape, fragment):
    code, out, err = run(capsys, "summary", "alexnet", "--input", shape)
    assert_one_line_error(code, out, err, fragment)


def test_bad_input_shape_as_a_real_process():
    result = run_process("summary", "alexnet", "--input", "0,1")
    assert result.returncode == EXIT_BAD_INPUT
    assert result.stdout == b""
    err = result.stderr.decode("utf-8")
    assert "Traceback" not in err and "usage:" not in err
    assert err.splitlines() == [
        "designer: error: argument --input: every size must be at least 1 (write C×H×W like 3×224×224, "
        "T×D like 197×768, or one feature count like 784) (see `designer summary --help`)"
    ]


def test_input_needs_exactly_one_input_block(capsys, tmp_path):
    g = Graph()
    g.add_node("Input", "a", {"shape": [3, 8, 8]})
    g.add_node("Input", "b", {"shape": [3, 8, 8]})
    g.add_node("Add", "add")
    g.connect("a", "add")
    g.connect("b", "add")
    project.save(g, tmp_path / "two.json")
    code, out, err = run(capsys, "summary", str(tmp_path / "two.json"), "--input", "3,4,4")
    assert_one_line_error(code, out, err, "--input needs a graph with exactly one Input block; it has 2")


@pytest.mark.parametrize("argv, fragment", [
    (["summary"], "the following arguments are required: src"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    (["summary", "alexnet", "--jsn"], "unrecognized arguments: --jsn"),
])
def test_bad_command_lines(capsys, argv, fragment):
    code, out, err = run(capsys, *argv)
    assert_one_line_error(code, out, err, fragment)


SEEDS = "a whole number from 0 to 9,223,372,036,854,775,807"
BATCHES = "a whole number from 1 to 1,048,576"
EPOCHS = "a whole number from 1 to 1,000,000"
TOP = "a whole number from 1 to 1,000,000"
EXPORT = ["export", "lenet5", "-f", "weights", "-o", "w.pt"]
PREDICT = ["predict", "run", "x.png"]


@pytest.mark.parametrize("argv, fragment", [
    ([*EXPORT, "--seed", str(2**64)], f"argument --seed: must be {SEEDS}, got 18446744073709551616"),
    ([*EXPORT, "--seed", "-1"], f"argument --seed: must be {SEEDS}, got -1"),
    ([*EXPORT, "--seed", "1.5"], f"argument --seed: must be {SEEDS}, got 1.5"),
    (["train", "lenet5", "--epochs", str(10**30)], f"argument --epochs: must be {EPOCHS}, got {10**30}"),
    (["train", "lenet5", "--epochs", "0"], f"argument --epochs: must be {EPOCHS}, got 0"),
    (["train", "lenet5", "--batch-size", "-5"], f"argument --batch-size: must be {BATCHES}, got -5"),
    (["train", "lenet5", "--lr", "inf"], "argument --lr: must be a number > 0, got inf"),
    (["train", "lenet5", "--lr", "nan"], "argument --lr: must be a number > 0, got nan"),
    (["train", "lenet5", "--lr", "0"], "argument --lr: must be a number > 0, got 0"),
    (["train", "lenet5", "--lr", "1e999"], "argument --lr: must be a number > 0, got 1e999"),
    (["train", "lenet5", "--lr", "fast"], "argument --lr: must be a number > 0, got fast"),
    (["eval", "run", "--batch-size", str(2**64)], f"argument --batch-size: must be {BATCHES}, got {2**64}"),
    ([*PREDICT, "--top", "0"], f"argument --top: must be {TOP}, got 0"),
    ([*PREDICT, "--top", "9" * 5000], f"argument --top: must be {TOP}, got {'9' * 32}…"),
])
def test_number_options_name_the_option_the_range_and_the_value(capsys, argv, fragment):
    code, out, err = run(capsys, *argv)
    assert_one_line_error(code, out, err, fragment)
    assert len(err) < 200


def test_help_still_works(capsys):
    with pytest.raises(SystemExit) as info:
        main(["summary", "--help"])
    assert info.value.code == 0
    assert "--input C,H,W" in capsys.readouterr().out


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX pipes")
def test_a_reader_that_leaves_gets_no_error_message():
    process = subprocess.Popen([sys.executable, "-m", "designer", "summary", "resnet18", "--json"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env={**os.environ, "PYTHONUTF8": "1"})
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # like `| head -0`: every write fails with a broken pipe
    err = process.stderr.read().decode("utf-8")
    assert process.wait(timeout=60) == EXIT_BROKEN_PIPE
    assert err == ""


# -- templates ---------------------------------------------------------------------------------


def test_templates_lists_all_seven_with_descriptions(capsys):
    code, out, err = run(capsys, "templates")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert [line.split()[0] for line in lines] == sorted(template_names())
    assert set(SEVEN) <= set(template_names())
    for name in SEVEN:
        (line,) = [line for line in lines if line.split()[0] == name]
        description = template_description(name)
        assert description
        assert line.endswith("  " + description)
    alexnet = next(line for line in lines if line.startswith("alexnet "))
    assert "60,965,224 parameters" in alexnet


def test_templates_as_a_real_process():
    result = run_process("templates")
    assert result.returncode == 0 and result.stderr == b""
    names = [line.split()[0] for line in result.stdout.decode("utf-8").splitlines()]
    assert set(SEVEN) <= set(names)
