"""``designer import``: a PyTorch file in, a project file (and weights) out, one-line errors."""

from __future__ import annotations

import importlib.util
import json
import textwrap

import pytest
import torch

import designer
from designer import export
from tests.test_cli import assert_one_line_error, run

NET = textwrap.dedent("""
    import torch
    from torch import nn


    class Net(nn.Module):
        def __init__(self, classes=10):
            super().__init__()
            self.features = nn.Sequential(
                nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(inplace=True), nn.MaxPool2d(2))
            self.fc = nn.Linear(16 * 16 * 16, classes)

        def forward(self, x):
            x = self.features(x)
            return self.fc(x.view(x.size(0), -1))


    class NeedsArgs(nn.Module):
        def __init__(self, width):
            super().__init__()
            self.fc = nn.Linear(width, width)

        def forward(self, x):
            return self.fc(x)
""")


@pytest.fixture
def net_file(tmp_path):
    path = tmp_path / "net.py"
    path.write_text(NET, encoding="utf-8")
    return path


def test_import_writes_a_project_and_weights_that_compute_the_same(capsys, tmp_path, net_file):
    project, weights = tmp_path / "net.json", tmp_path / "net.safetensors"
    torch.manual_seed(123)  # the importer instantiates Net in this process
    code, out, err = run(capsys, "import", f"{net_file}:Net", "--input-shape", "3,32,32",
                         "--args", '{"classes": 7}', "-o", str(project), "--weights", str(weights))
    assert code == 0, err
    assert out == "" and f"wrote {project}" in err
    graph = designer.load(str(project))
    assert graph.result("fc").shape == (7,) and graph.result("features.0").shape == (16, 32, 32)
    assert graph.name == "Net" and not graph.errors()

    spec = importlib.util.spec_from_file_location("net_for_test", net_file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    torch.manual_seed(123)
    original = module.Net(classes=7).eval()
    compiled = export.model_with_weights(graph, export.load_weights(weights))
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(compiled(x), original(x))


@pytest.mark.parametrize("argv, fragment", [
    (["{file}:Missing", "--input-shape", "3,32,32"], "Missing"),
    (["{file}:NeedsArgs", "--input-shape", "8"], "needs arguments"),
    (["{file}", "--input-shape", "3,32,32"], ":"),
    (["{file}:Net", "--input-shape", "3,32,32", "--args", "{bad json"], "JSON"),
    (["{file}:Net", "--input-shape", "1,32,32"], "Net"),
    (["nowhere.py:Net", "--input-shape", "3,32,32"], "nowhere.py"),
])
def test_bad_imports_get_one_line(capsys, tmp_path, net_file, argv, fragment):
    argv = [a.replace("{file}", str(net_file)) for a in argv]
    code, out, err = run(capsys, "import", *argv, "-o", str(tmp_path / "out.json"))
    assert_one_line_error(code, out, err, fragment)
    assert not (tmp_path / "out.json").exists()


def test_weights_need_a_known_suffix(capsys, tmp_path, net_file):
    code, out, err = run(capsys, "import", f"{net_file}:Net", "--input-shape", "3,32,32",
                         "-o", str(tmp_path / "n.json"), "--weights", str(tmp_path / "w.bin"))
    assert_one_line_error(code, out, err, "--weights: give a file ending in .pt")


FACTORIES = textwrap.dedent("""
    from torch import nn

    CALLED = []


    class Small(nn.Module):
        def __init__(self, width=4):
            super().__init__()
            self.fc = nn.Linear(width, 2)

        def forward(self, x):
            return self.fc(x)


    def small(width: int = 4) -> Small:
        return Small(width)


    def unannotated(width=4):
        CALLED.append(width)
        return Small(width)
""")


@pytest.mark.parametrize("spec, fragment", [
    ("os:system", "system is a function, not a torch.nn.Module class"),
    ("subprocess:getoutput", "getoutput is a function, not a torch.nn.Module class"),
    ("{file}:unannotated", "unannotated is a function"),
    ("{file}:CALLED", "CALLED is a list, not a torch.nn.Module class"),
])
def test_nothing_is_called_that_is_not_known_to_build_a_module(capsys, tmp_path, spec, fragment):
    """`designer import os:system --args '["touch …"]'` used to run the shell command before any check."""
    factories = tmp_path / "factories.py"
    factories.write_text(FACTORIES, encoding="utf-8")
    witness = tmp_path / "ran"
    code, out, err = run(capsys, "import", spec.replace("{file}", str(factories)), "--input-shape", "4",
                         "--args", json.dumps([f"touch {witness}"]), "-o", str(tmp_path / "out.json"))
    assert_one_line_error(code, out, err, fragment)
    assert not witness.exists()
    assert not (tmp_path / "out.json").exists()


def test_a_factory_annotated_to_return_a_module_is_imported(capsys, tmp_path):
    factories = tmp_path / "factories.py"
    factories.write_text(FACTORIES, encoding="utf-8")
    code, _, err = run(capsys, "import", f"{factories}:small", "--input-shape", "6", "--args", '{"width": 6}',
                       "-o", str(tmp_path / "small.json"))
    assert code == 0, err
    assert designer.load(str(tmp_path / "small.json")).result("fc").param_count == 14
