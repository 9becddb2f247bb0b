"""Importing PyTorch models: loading the class, mapping ops to blocks, weights, refusals.

Every import is checked the same way: the imported graph is valid, each layer
compiles to the same ``torch.nn`` module (by ``repr``), and with the copied weights
the compiled graph computes exactly what the model computes, in eval mode.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import designer
from designer.graph.compile import plan
from designer.graph.importer import Imported, ModelImportError, import_model, load_model
from designer.graph.python_code import python_source
from designer.graph.structure import export_keys
from designer.graph.summary import totals
from designer.graph.templates import template_names

# -- helpers -----------------------------------------------------------------------------


def write(folder: Path, name: str, source: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


def randomise_statistics(model: nn.Module) -> None:
    """Running statistics other than 0 and 1, so that copying them shows in the outputs."""
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm) and module.running_mean is not None:
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
                module.num_batches_tracked.fill_(7)
                if module.affine:
                    module.weight.uniform_(0.5, 1.5)
                    module.bias.uniform_(-0.5, 0.5)


def assert_same_outputs(model: nn.Module, imported: Imported, shape: tuple[int, ...]) -> nn.Module:
    compiled = imported.graph.to_torch()
    compiled.load_state_dict(imported.state_dict, strict=True)
    model.eval()
    compiled.eval()
    x = torch.randn(3, *shape)
    with torch.no_grad():
        expected, got = model(x), compiled(x)
    if isinstance(expected, torch.Tensor):
        expected, got = (expected,), (got,)
    assert len(expected) == len(got)
    for want, have in zip(expected, got, strict=True):
        assert torch.equal(want, have)
    return compiled


def assert_same_layers(model: nn.Module, imported: Imported, compiled: nn.Module) -> None:
    """Each layer block compiles to the module it came from, hyperparameters and all."""
    originals = dict(model.named_modules())
    idents = plan(imported.graph).idents
    matched = 0
    for name in imported.graph.nodes:
        if name in originals:
            have = compiled.get_submodule(idents[name])
            assert layer_text(have) == layer_text(originals[name]), name
            matched += 1
    assert matched


def layer_text(module: nn.Module) -> str:
    """The module's repr less what changes nothing it computes: the inplace flag, ``(3, 3)`` for 3."""
    return re.sub(r"\((\d+), \1\)", r"\1", re.sub(r",? ?inplace=(True|False)", "", repr(module)))


def check_import(model: nn.Module, shape: tuple[int, ...], **kwargs: str) -> Imported:
    imported = import_model(model, shape, **kwargs)
    imported.graph.validate()
    assert imported.graph.is_valid()
    compiled = assert_same_outputs(model, imported, shape)
    assert_same_layers(model, imported, compiled)
    assert set(imported.state_dict) == set(compiled.state_dict())
    return imported


def types(imported: Imported) -> dict[str, str]:
    graph = imported.graph
    return {name: graph.node(name).type for name in graph.topological_order()}


# -- the four kinds of model the issue names -----------------------------------------------

ALEXNET_LIKE = """
    import torch.nn as nn

    class AlexNetLike(nn.Module):
        def __init__(self, num_classes=10):
            super().__init__()
            self.features = nn.Sequential(
                nn.Conv2d(3, 16, kernel_size=5, stride=2, padding=2),
                nn.ReLU(inplace=True),
                nn.LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2.0),
                nn.MaxPool2d(kernel_size=3, stride=2),
                nn.Conv2d(16, 32, kernel_size=3, padding=1, groups=2),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(kernel_size=3, stride=2),
            )
            self.classifier = nn.Sequential(
                nn.Dropout(),
                nn.Linear(32 * 3 * 3, 64),
                nn.ReLU(inplace=True),
                nn.Dropout(0.3),
                nn.Linear(64, num_classes),
            )

        def forward(self, x):
            x = self.features(x)
            x = x.view(x.size(0), -1)
            return self.classifier(x)
"""


def test_alexnet_like_sequential_with_view(tmp_path):
    path = write(tmp_path, "alex.py", ALEXNET_LIKE)
    model = load_model(f"{path}:AlexNetLike")
    imported = check_import(model, (3, 32, 32), name="alex")
    graph = imported.graph
    assert graph.name == "alex"
    assert list(types(imported).items()) == [
        ("x", "Input"), ("features.0", "Conv2d"), ("features.1", "ReLU"),
        ("features.2", "LocalResponseNorm"), ("features.3", "MaxPool2d"), ("features.4", "Conv2d"),
        ("features.5", "ReLU"), ("features.6", "MaxPool2d"), ("view", "Flatten"),
        ("classifier.0", "Dropout"), ("classifier.1", "Linear"), ("classifier.2", "ReLU"),
        ("classifier.3", "Dropout"), ("classifier.4", "Linear"),
    ]
    conv = graph.node("features.0").params
    assert (conv["kernel_size"], conv["stride"], conv["padding"]) == (5, 2, 2)
    assert graph.node("features.4").params["groups"] == 2
    assert graph.node("features.2").params == {"size": 5, "alpha": 5e-4, "beta": 0.75, "k": 2.0}
    assert graph.node("classifier.3").params == {"p": 0.3}
    assert graph.result("view").shape == (288,)
    assert graph.outputs() == ["classifier.4"]
    assert len({node.position for node in graph.nodes.values()}) == len(graph)  # laid out


RESNET_BLOCKS = """
    import torch
    import torch.nn as nn

    class BasicBlock(nn.Module):
        def __init__(self, cin, cout, stride=1):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.relu = nn.ReLU(inplace=True)
            self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.downsample = None
            if stride != 1 or cin != cout:
                self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False),
                                                nn.BatchNorm2d(cout))

        def forward(self, x):
            identity = x
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            if self.downsample is not None:
                identity = self.downsample(x)
            out += identity
            return self.relu(out)

    class PlainBlock(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.conv = nn.Conv2d(c, c, 3, padding=1)

        def forward(self, x):
            out = torch.relu(self.conv(x))
            out = out + x
            return out

    class TinyResNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Conv2d(3, 8, 3, padding=1, bias=False)
            self.bn = nn.BatchNorm2d(8)
            self.layer1 = nn.Sequential(BasicBlock(8, 8), BasicBlock(8, 16, stride=2), PlainBlock(16))
            self.pool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(16, 5)

        def forward(self, x):
            x = torch.relu(self.bn(self.stem(x)))
            x = self.layer1(x)
            return self.fc(torch.flatten(self.pool(x), 1))
"""


def test_resnet_blocks_with_in_place_and_plain_adds(tmp_path):
    path = write(tmp_path, "resnet.py", RESNET_BLOCKS)
    model = load_model(f"{path}:TinyResNet")
    randomise_statistics(model)
    imported = check_import(model, (3, 16, 16))
    graph = imported.graph
    adds = [name for name, kind in types(imported).items() if kind == "Add"]
    assert len(adds) == 3
    assert graph.sources(adds[0]) == ("layer1.0.bn2", "relu")  # out += identity, the stem's relu
    assert graph.sources(adds[1]) == ("layer1.1.bn2", "layer1.1.downsample.1")
    assert graph.sources(adds[2])[1] == "layer1.1.relu_1"  # out + x: the block's input
    # The same ReLU module called twice is two blocks; the second gets a suffix.
    assert graph.node("layer1.0.relu_1").type == "ReLU"
    assert graph.node("pool").params == {"output_size": 1}
    assert imported.state_dict["layer1_1_downsample_1.num_batches_tracked"].item() == 7
    assert torch.equal(imported.state_dict["bn.running_var"], model.bn.running_var)


INCEPTION_LIKE = """
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class Inception(nn.Module):
        def __init__(self, cin):
            super().__init__()
            self.b1 = nn.Conv2d(cin, 8, 1)
            self.b2 = nn.Sequential(nn.Conv2d(cin, 4, 1), nn.ReLU(), nn.Conv2d(4, 8, 3, padding=1))
            self.b3 = nn.Sequential(nn.Conv2d(cin, 2, 1), nn.ReLU(), nn.Conv2d(2, 4, 5, padding="same"))
            self.b4 = nn.Conv2d(cin, 4, 1)

        def forward(self, x):
            pooled = F.max_pool2d(x, 3, stride=1, padding=1)
            return torch.cat([self.b1(x), self.b2(x), self.b3(x), self.b4(pooled)], dim=1)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Conv2d(3, 6, 3, padding=1)
            self.mixed = Inception(6)
            self.head = nn.Linear(24 * 4 * 4, 10)

        def forward(self, x):
            x = self.mixed(F.relu(self.stem(x)))
            x = F.avg_pool2d(x, 2)
            return F.softmax(self.head(x.reshape(x.shape[0], -1)), dim=-1)
"""


def test_inception_like_block_with_cat(tmp_path):
    path = write(tmp_path, "inception.py", INCEPTION_LIKE)
    imported = check_import(load_model(f"{path}:Net"), (3, 8, 8))
    graph = imported.graph
    (cat,) = [name for name, kind in types(imported).items() if kind == "Concat"]
    assert graph.sources(cat) == ("mixed.b1", "mixed.b2.2", "mixed.b3.2", "mixed.b4")
    assert graph.result(cat).shape == (24, 8, 8)
    assert graph.node("mixed.b3.2").params["padding"] == "same"
    assert graph.node("max_pool2d").params["kernel_size"] == 3
    assert graph.node("reshape").type == "Flatten"
    assert graph.node("softmax").params == {"dim": -1}


FUNCTIONAL = """
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class FunctionalNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 4, 5)
            self.conv2 = nn.Conv2d(4, 8, 3)
            self.fc1 = nn.Linear(8 * 2 * 2, 16)
            self.fc2 = nn.Linear(16, 10)

        def forward(self, input):
            x = F.max_pool2d(F.relu(self.conv1(input)), 2)
            x = F.max_pool2d(torch.sigmoid(self.conv2(x)), kernel_size=(2, 2), ceil_mode=True)
            x = torch.flatten(x, 1)
            x = F.dropout(x, p=0.25, training=self.training)
            x = F.leaky_relu(self.fc1(x), 0.2)
            x = F.dropout(x, 0.5, False)
            return F.log_softmax(torch.tanh(self.fc2(x)), dim=1)
"""


def test_functional_style_net(tmp_path):
    path = write(tmp_path, "functional.py", FUNCTIONAL)
    imported = check_import(load_model(f"{path}:FunctionalNet"), (1, 16, 16))
    assert list(types(imported).values()) == [
        "Input", "Conv2d", "ReLU", "MaxPool2d", "Conv2d", "Sigmoid", "MaxPool2d", "Flatten", "Dropout",
        "Linear", "LeakyReLU", "Linear", "Tanh", "LogSoftmax",
    ]
    graph = imported.graph
    assert graph.inputs() == ["input"]
    assert graph.node("max_pool2d_1").params["ceil_mode"] is True
    assert graph.node("max_pool2d_1").params["stride"] is None
    assert graph.node("dropout").params == {"p": 0.25}  # training=self.training, traced as True
    assert graph.node("leaky_relu").params == {"negative_slope": 0.2}
    # F.dropout(x, 0.5, False) never drops anything, so it is no block.
    assert graph.sources("fc2") == ("leaky_relu",)


def test_a_model_traced_in_eval_mode_keeps_no_self_training_dropout(tmp_path):
    path = write(tmp_path, "functional.py", FUNCTIONAL)
    imported = check_import(load_model(f"{path}:FunctionalNet").eval(), (1, 16, 16))
    assert "Dropout" not in types(imported).values()


def test_every_mapped_module_carries_its_hyperparameters():
    model = nn.Sequential(
        nn.Conv2d(4, 6, (3, 5), stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2, bias=False),
        nn.BatchNorm2d(6, eps=1e-3, momentum=0.3),
        nn.PReLU(6, init=0.1),
        nn.MaxPool2d((3, 2), stride=(1, 2), padding=(1, 0), dilation=(2, 1), ceil_mode=True),
        nn.AvgPool2d(3, stride=1, padding=1, ceil_mode=True, count_include_pad=False),
        nn.LocalResponseNorm(3, alpha=1e-3, beta=0.5, k=1.5),
        nn.ELU(alpha=0.7),
        nn.GELU(approximate="tanh"),
        nn.Softplus(beta=2.0, threshold=5.0),
        nn.Identity(),
        nn.AdaptiveAvgPool2d((2, 3)),
        nn.Flatten(),
        nn.Linear(36, 12, bias=False),
        nn.BatchNorm1d(12, affine=False, track_running_stats=False),
        nn.LeakyReLU(0.3, inplace=True),
        nn.Dropout(0.1),
        nn.Linear(12, 4),
        nn.Softmax(dim=1),
    )
    with torch.no_grad():
        model[2].weight.uniform_(-1, 1)
    randomise_statistics(model)
    imported = check_import(model, (4, 12, 12))
    graph = imported.graph
    assert graph.node("9").type == "Identity"  # kept, as the model has it: exported and imported again alike
    assert graph.node("0").params == {"out_channels": 6, "kernel_size": (3, 5), "stride": (2, 1),
                                      "padding": (1, 2), "dilation": (1, 2), "groups": 2, "bias": False}
    assert graph.node("1").params == {"eps": 1e-3, "momentum": 0.3, "affine": True,
                                      "track_running_stats": True}
    assert graph.node("13").params["track_running_stats"] is False
    assert torch.equal(imported.state_dict["n_2.weight"], model[2].weight)


class InPlace(nn.Module):
    """In-place ops whose results are never assigned: later ops read what they wrote."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.head = nn.Conv2d(4, 4, 1)

    def forward(self, x):
        y = self.conv(x)
        y.relu_()
        z = self.head(y)
        z.add_(y)
        return z.contiguous().view(-1, 4 * 6 * 6), F.softmax(z.flatten(1), dim=1)


def test_in_place_ops_and_two_outputs():
    imported = check_import(InPlace(), (3, 8, 8))
    graph = imported.graph
    assert graph.sources("head") == ("relu_",)
    assert graph.node("add_").type == "Add" and graph.sources("add_") == ("head", "relu_")
    assert graph.sources("view") == ("add_",) and graph.node("view").type == "Flatten"
    assert graph.outputs() == ["view", "softmax"]


class Options(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.fc = nn.Linear(4 * 4 * 4, 2)

    def forward(self, x, return_features=False, *extra, **options):
        y = self.conv(x)
        b, c, h, w = y.shape
        features = y.view(b, c * h * w)
        if return_features:
            return features
        return self.fc(features)


def test_optional_forward_arguments_and_an_unpacked_shape():
    imported = check_import(Options(), (3, 4, 4))
    assert list(types(imported).values()) == ["Input", "Conv2d", "Flatten", "Linear"]


def test_constructor_arguments_as_json_object_or_list(tmp_path):
    path = write(tmp_path, "alex.py", ALEXNET_LIKE)
    by_name = load_model(f"{path}:AlexNetLike", '{"num_classes": 7}')
    by_position = load_model(f"{path}:AlexNetLike", "[3]")
    assert by_name.classifier[4].out_features == 7
    assert by_position.classifier[4].out_features == 3


def test_package_module_form(tmp_path, monkeypatch):
    write(tmp_path, "zoo_pkg/__init__.py", "")
    write(tmp_path, "zoo_pkg/nets.py", FUNCTIONAL)
    monkeypatch.syspath_prepend(str(tmp_path))
    model = load_model("zoo_pkg.nets:FunctionalNet")
    assert type(model).__name__ == "FunctionalNet"
    check_import(model, (1, 16, 16))


def test_package_module_form_finds_the_current_folder_as_python_m_does(tmp_path, monkeypatch):
    write(tmp_path, "zoo_here/__init__.py", "")
    write(tmp_path, "zoo_here/nets.py", FUNCTIONAL)
    monkeypatch.chdir(tmp_path)
    assert type(load_model("zoo_here.nets:FunctionalNet")).__name__ == "FunctionalNet"
    # Nothing stays behind: an edited module is read afresh, and the folder leaves sys.path.
    assert "zoo_here" not in sys.modules and "zoo_here.nets" not in sys.modules
    assert str(tmp_path) not in sys.path
    write(tmp_path, "zoo_here/nets.py", FUNCTIONAL.replace("class FunctionalNet", "class RenamedNet"))
    assert type(load_model("zoo_here.nets:RenamedNet")).__name__ == "RenamedNet"


def test_cli_import_of_a_package_in_the_current_folder(tmp_path):
    write(tmp_path, "zoo_cli/__init__.py", "")
    write(tmp_path, "zoo_cli/nets.py", FUNCTIONAL)
    designer_cli = Path(sys.executable).with_name("designer")
    command = [str(designer_cli), "import", "zoo_cli.nets:FunctionalNet", "--input-shape", "1,16,16",
               "-o", "net.json"]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "wrote net.json: 14 blocks"
    assert (tmp_path / "net.json").is_file()


def test_files_with_the_same_name_do_not_shadow_each_other(tmp_path):
    first = write(tmp_path / "a", "model.py", "import torch.nn as nn\nclass Net(nn.Linear):\n"
                  "    def __init__(self):\n        super().__init__(4, 2)\n")
    second = write(tmp_path / "b", "model.py", "import torch.nn as nn\nclass Net(nn.Linear):\n"
                   "    def __init__(self):\n        super().__init__(4, 3)\n")
    assert load_model(f"{first}:Net").out_features == 2
    assert load_model(f"{second}:Net").out_features == 3
    assert not [name for name in sys.modules if name.startswith("_designer_import")]


def test_a_file_imports_its_siblings_and_leaves_none_behind(tmp_path):
    write(tmp_path, "blocks_sibling.py", "import torch.nn as nn\n"
          "def head():\n    return nn.Linear(4, 2)\n")
    path = write(tmp_path, "net.py", """
        import torch.nn as nn
        from blocks_sibling import head

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = head()

            def forward(self, x):
                return self.fc(x)
    """)
    check_import(load_model(f"{path}:Net"), (4,))
    assert "blocks_sibling" not in sys.modules
    assert str(tmp_path) not in sys.path


# -- Designer's own helper classes ------------------------------------------------------------


def helper_blocks() -> designer.Graph:
    graph = designer.Graph()
    graph.name = "helpers"
    graph.add_node("Input", "x", {"shape": [4, 3, 3]})
    graph.add_node("LayerNorm2d", "norm", {"eps": 1e-6})
    graph.add_node("StochasticDepth", "drop", {"p": 0.2, "mode": "batch"})
    graph.connect("x", "norm")
    graph.connect("norm", "drop")
    return graph


@pytest.mark.parametrize("via", ["to_torch", "python file"])
def test_helper_classes_designer_writes_import_back_as_their_blocks(via, tmp_path):
    graph = helper_blocks()
    if via == "to_torch":
        model = graph.to_torch()
    else:
        path = tmp_path / "helpers.py"
        path.write_text(python_source(graph), encoding="utf-8")
        model = load_model(f"{path}:{plan(graph).class_name}")
    with torch.no_grad():
        model.norm.weight.uniform_(0.5, 1.5)
    imported = check_import(model, (4, 3, 3))
    assert types(imported) == {"x": "Input", "norm": "LayerNorm2d", "drop": "StochasticDepth"}
    assert imported.graph.node("norm").params == graph.node("norm").params
    assert imported.graph.node("drop").params == {"p": 0.2, "mode": "batch"}


def test_an_edited_copy_of_a_helper_is_not_its_block(tmp_path):
    source = python_source(helper_blocks()).replace("return x", "return 2 * x", 1)
    path = tmp_path / "edited.py"
    path.write_text(source, encoding="utf-8")
    model = load_model(f"{path}:{plan(helper_blocks()).class_name}")
    with pytest.raises(ModelImportError) as error:
        import_model(model, (4, 3, 3))
    assert_one_line(error, "cannot import", "operator.mul")


# -- every template: to_torch() and the exported Python file -------------------------------

# Smaller inputs for the big templates keep the test fast; every shape stays valid.
SMALLER = {"alexnet": [3, 67, 67], "vgg16": [3, 32, 32], "resnet18": [3, 32, 32]}


@pytest.mark.parametrize("via", ["to_torch", "python file"])
@pytest.mark.parametrize("template", template_names())
def test_template_round_trip(template, via, tmp_path):
    graph = designer.load(template)
    (inp,) = graph.inputs()
    if template in SMALLER:
        graph.set_params(inp, {"shape": SMALLER[template]})
    assert graph.is_valid()
    shape = graph.result(inp).shape
    if via == "to_torch":
        model = graph.to_torch()
    else:
        path = tmp_path / "exported.py"
        path.write_text(python_source(graph), encoding="utf-8")
        model = load_model(f"{path}:{plan(graph).class_name}")
    randomise_statistics(model)
    imported = check_import(model, shape, name=graph.name)
    copy = imported.graph
    assert copy.name == graph.name and copy.inputs() == graph.inputs()
    assert totals(copy)["params"] == totals(graph)["params"]
    # Layers keep their names (as identifiers, or their paths in the exported file's nesting);
    # merges are named by torch.fx.
    idents = plan(graph).idents
    paths = export_keys(graph, plan(graph)) if via != "to_torch" else {i: i for i in idents.values()}
    for name, node in graph.nodes.items():
        if node.spec.module is not None:
            assert copy.node(paths[idents[name]]).type == node.type
            assert copy.result(paths[idents[name]]).shape == graph.result(name).shape
    assert Counter((n.type, copy.result(k).shape) for k, n in copy.nodes.items()) == \
        Counter((n.type, graph.result(k).shape) for k, n in graph.nodes.items())


@pytest.mark.parametrize("template", ["alexnet", "resnet18"])
def test_full_size_templates_keep_their_shapes(template):
    graph = designer.load(template)
    imported = import_model(graph.to_torch(), graph.result("input").shape)
    idents = plan(graph).idents
    for name in graph.topological_order():
        if graph.node(name).spec.module is not None:
            assert imported.graph.result(idents[name]).shape == graph.result(name).shape
    assert totals(imported.graph) == totals(graph)


# -- what cannot be imported ---------------------------------------------------------------


def assert_one_line(error: pytest.ExceptionInfo[ModelImportError], *fragments: str) -> str:
    message = str(error.value)
    assert "\n" not in message and "Traceback" not in message
    for fragment in fragments:
        assert fragment in message, message
    return message


class Mixed(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)
        self.soft = nn.ModuleList([nn.Softsign() for _ in range(4)])
        self.conv1d = nn.Conv1d(3, 4, 1)
        self.shuffle = nn.PixelShuffle(2)
        self.register_buffer("offset", torch.ones(1))

    def forward(self, x):
        y = self.conv(x)
        for soft in self.soft:
            y = soft(y)
        squared = y ** 2
        return (torch.cumsum(squared, dim=1), self.conv1d(x.flatten(2)), squared.view(1, -1),
                self.offset.exp(), torch.cat([x, x], dim=2), self.shuffle(y))


def test_every_unmappable_op_is_listed_at_once_grouped_by_kind():
    with pytest.raises(ModelImportError) as error:
        import_model(Mixed(), (3, 8, 8))
    assert_one_line(error)
    assert str(error.value) == (
        "cannot import 9 kinds of operation: "
        "Softsign ×4 (soft.0, soft.1, …); "
        "operator.pow ×1 (pow_1): soft_3 ** 2; "
        "torch.cumsum ×1 (cumsum): cumsum(pow_1, dim=1); "
        "Conv1d ×1 (conv1d); "
        "Tensor.view ×1 (view): pow_1.view(1, -1): its first size, 1, does not follow the batch; "
        "write x.size(0) or -1 there; "
        "attribute ×1 (offset): a buffer used directly; only layers and learned tensors can be imported; "
        "Tensor.exp ×1 (exp): offset.exp(); "
        "torch.cat ×1 (cat): cat([x, x], dim=2): joins along dim 2; only the first axis after the batch, "
        "dim 1, can be drawn; "
        "PixelShuffle ×1 (shuffle)"
    )


def test_kinds_without_reasons_are_listed_as_the_issue_writes_them():
    model = nn.Sequential(*[nn.Softsign() for _ in range(3)], nn.Hardtanh(), nn.Softsign())
    with pytest.raises(ModelImportError) as error:
        import_model(model, (4,))
    assert str(error.value) == "cannot import 2 kinds of operation: Softsign ×4 (0, 1, …), Hardtanh ×1 (3)"


class Inner(nn.Module):
    def forward(self, x):
        return torch.roll(x, (1,), (2,))


class Outer(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.Sequential(Inner(), Inner())

    def forward(self, x):
        return self.blocks(x)


def test_a_function_called_inside_a_module_is_placed_there_and_a_one_tuple_keeps_its_comma():
    with pytest.raises(ModelImportError) as error:
        import_model(Outer(), (3, 4, 4))
    assert str(error.value) == ("cannot import 1 kind of operation: "
                                "torch.roll ×2 (roll in blocks.0, roll_1 in blocks.1)")
    with pytest.raises(ModelImportError) as error:
        import_model(Inner(), (3, 4, 4))
    assert str(error.value).endswith("torch.roll ×1 (roll): roll(x, (1,), (2,))")


class LongArguments(nn.Module):
    def forward(self, x):
        torch._assert(x.sum() >= 0, "the input must hold no negative numbers, " * 3)
        return torch.roll(x, shifts=tuple(range(1, 30)), dims=(1,) * 29)


def test_long_arguments_are_cut_between_items_and_brackets_and_quotes_stay_closed():
    with pytest.raises(ModelImportError) as error:
        import_model(LongArguments(), (3, 4, 4))
    message = assert_one_line(error)
    assert "_assert(ge, 'the input must hold n…')" in message
    assert "roll(x, shifts=(1, 2, 3, 4, 5, 6, 7, …), dims=(1, 1, 1, 1, 1, 1, 1, …))" in message
    for opening, closing in ("()", "[]"):
        assert message.count(opening) == message.count(closing), message
    assert message.count("'") % 2 == 0


def test_no_internal_module_name_reaches_the_message(tmp_path):
    path = write(tmp_path, "shifty.py", """
        import torch
        import torch.fx
        import torch.nn as nn

        def spread(x):
            return torch.roll(x, 1, 2)

        torch.fx.wrap("spread")

        class Net(nn.Module):
            def forward(self, x):
                return spread(x)
    """)
    with pytest.raises(ModelImportError) as error:
        import_model(load_model(f"{path}:Net"), (3, 4, 4))
    assert str(error.value) == "cannot import 1 kind of operation: shifty.spread ×1 (spread): spread(x)"


class Unsupported(nn.Module):
    def __init__(self):
        super().__init__()
        self.pad = nn.Conv2d(3, 3, 3, padding=1, padding_mode="reflect")
        self.pool = nn.MaxPool2d(2, return_indices=True)
        self.avg = nn.AvgPool2d(2, divisor_override=3)
        self.bn = nn.BatchNorm2d(3, momentum=None)
        self.shared = nn.Conv2d(3, 3, 1)

    def forward(self, x):
        x, _ = self.pool(self.pad(x))
        return self.shared(self.shared(self.bn(self.avg(x))))


def test_settings_a_block_cannot_hold_are_listed():
    with pytest.raises(ModelImportError) as error:
        import_model(Unsupported(), (3, 8, 8))
    # The pool's item x is no problem of its own: the pool is.
    assert str(error.value) == (
        "cannot import 5 kinds of operation: Conv2d ×1 (pad): padding_mode='reflect' has no block parameter; "
        "MaxPool2d ×1 (pool): return_indices=True has no block parameter; "
        "AvgPool2d ×1 (avg): divisor_override=3 has no block parameter; "
        "BatchNorm2d ×1 (bn): momentum: expected a number, got None; "
        "Conv2d ×1 (shared): called a second time, but blocks cannot share weights"
    )


@pytest.mark.parametrize(("forward", "fragment"), [
    ("return x.view(-1, 4)", "Tensor.view ×1 (view): x.view(-1, 4): its -1 would move values from one sample "
                             "to another"),
    ("return x.view(2, -1)", "Tensor.view ×1 (view): x.view(2, -1): its first size, 2, does not follow the "
                             "batch; write x.size(0) or -1 there"),
    ("return x.view(x.size(1), -1)", "x.view(size, -1): its first size, 2, does not follow the batch"),
    ("return torch.flatten(x)", "torch.flatten ×1 (flatten): flatten(x): it flattens the batch axis too"),
    ("return torch.add(x, x, alpha=2)", "torch.add ×1 (add): add(x, x, alpha=2): alpha scales"),
    ("return x[:, 0, 1]", "operator.getitem ×1 (getitem): x[:, 0, 1]: it takes apart 2 axes at once"),
    ("return x[0]", "operator.getitem ×1 (getitem): x[0]: it takes part of the batch"),
    ("return x[:, ::2]", "x[:, ::2]: it takes every 2th item; Narrow takes neighbours"),
    ("return x[:, None]", "x[:, None]: None adds an axis, which no block does"),
    ("return x.size(1) * x", "operator.mul ×1 (mul): size * x"),
    ("return F.softmax(x, dim=1, dtype=torch.float64)", "dtype=torch.float64"),
])
def test_unmappable_functional_forms(forward, fragment):
    namespace = {"torch": torch, "F": F, "nn": nn}
    exec(f"class Net(nn.Module):\n    def forward(self, x):\n        {forward}\n", namespace)
    with pytest.raises(ModelImportError) as error:
        import_model(namespace["Net"](), (2, 4, 4))  # 2 channels: size(1) is the batch size too
    assert_one_line(error, "cannot import 1 kind of operation: ", fragment)


class Untraceable(nn.Module):
    def forward(self, x):
        if x.sum() > 0:
            return x
        return -x


class TwoInputs(nn.Module):
    def forward(self, x, y):
        return x + y


class ReturnsInner(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(4, 4)
        self.b = nn.Linear(4, 4)

    def forward(self, x):
        y = self.a(x)
        return y, self.b(y)


@pytest.mark.parametrize(("model", "shape", "fragments"), [
    (Untraceable(), (3,), ["cannot trace Untraceable", "data-dependent control flow"]),
    (TwoInputs(), (3,), ["TwoInputs.forward takes 2 inputs (x, y)"]),
    (nn.Linear(10, 3), (3, 8, 8), ["Linear fails on a 3×8×8 input at linear", "check the input shape"]),
    (nn.Linear(10, 3), (3, 10, 2, 2), ["input shape (3, 10, 2, 2)", "a flat, a T×D or a C×H×W shape"]),
    (ReturnsInner(), (4,), ["ReturnsInner returns a, b", "(b)"]),
])
def test_models_that_cannot_be_imported(model, shape, fragments):
    with pytest.raises(ModelImportError) as error:
        import_model(model, shape)
    assert_one_line(error, *fragments)


# -- bad input to load_model ---------------------------------------------------------------

NEEDS_ARGUMENTS = """
    import torch.nn as nn

    class Net(nn.Module):
        def __init__(self, num_classes: int, width: float = 1.0):
            super().__init__()
            self.fc = nn.Linear(4, num_classes)

    class Broken(nn.Module):
        def __init__(self):
            raise RuntimeError("no weights\\nhere")

    class Plain:
        pass

    def helper():
        return 3
"""


@pytest.mark.parametrize(("spec", "args", "fragments"), [
    ("{dir}/net.py", None, ["names no class", "path/to/file.py:ClassName"]),
    ("{dir}/missing.py:Net", None, ["missing.py: no such file"]),
    ("{dir}/net.py:Nope", None, ["has no class 'Nope'", "(it defines Net, Broken)"]),
    ("{dir}/net.py:Plain", None, ["Plain is not a torch.nn.Module subclass"]),
    ("{dir}/net.py:helper", None, ["helper is a function, not a torch.nn.Module class"]),
    ("{dir}/net.py:Net", None, ["Net() needs arguments: pass them as JSON with --args",
                                "'{\"num_classes\": 10}'", "(missing: num_classes)"]),
    ("{dir}/net.py:Net", '{"num_classes": 3, "depth": 2}', ["Net() does not take these arguments",
                                                            "depth"]),
    ("{dir}/net.py:Net", "{num_classes: 3}", ["not valid JSON", "column 2"]),
    ("{dir}/net.py:Net", "3", ["must be a JSON object", "not 3"]),
    ("{dir}/net.py:Broken", None, ["Broken() fails: RuntimeError: no weights here"]),
    ("{dir}/syntax.py:Net", None, ["cannot import syntax.py", "syntax error in syntax.py line 3"]),
    ("{dir}/imports.py:Net", None, ["cannot import imports.py", "ModuleNotFoundError",
                                    "no_such_module_for_designer"]),
    ("{dir}/raises.py:Net", None, ["cannot import raises.py: ValueError: bad config"]),
    ("{dir}/exits.py:Net", None, ["cannot import exits.py: SystemExit"]),
    ("no_such_package_for_designer.models:Net", None, ["cannot import no_such_package_for_designer",
                                                        "ModuleNotFoundError"]),
])
def test_bad_input_gets_one_line(tmp_path, spec, args, fragments):
    write(tmp_path, "net.py", NEEDS_ARGUMENTS)
    write(tmp_path, "syntax.py", "import torch\n\nclass Net(:\n    pass\n")
    write(tmp_path, "imports.py", "import no_such_module_for_designer\n")
    write(tmp_path, "raises.py", "raise ValueError('bad config')\n")
    write(tmp_path, "exits.py", "import sys\nsys.exit(3)\n")
    with pytest.raises(ModelImportError) as error:
        load_model(spec.format(dir=tmp_path), args)
    assert_one_line(error, *fragments)
    assert not [name for name in sys.modules if name.startswith("_designer_import")]
