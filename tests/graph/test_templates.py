"""Every template loads, is valid, and states the figures the seed articles give."""

import pytest
import torch

import designer
from designer.graph.templates import template_names

EXPECTED_PARAMS = {
    "lenet5": 61_706,
    "alexnet": 60_965_224,
    "vgg16": 138_357_544,
    "resnet18": 11_689_512,
    # torchvision's counts for the same configurations (issue 12)
    "googlenet": 6_624_904,
    "senet": 28_088_024,
    "mobilenet_v2": 3_504_872,
    "efficientnet_b0": 5_288_548,
    "shufflenet_v2": 2_278_604,
}


def test_all_templates_ship():
    assert set(template_names()) >= {
        "lenet5", "alexnet", "alexnet-cifar", "vgg16", "vgg16-cifar", "resnet18", "inception",
        "googlenet", "senet", "se-resnet18-cifar", "mobilenet_v2", "efficientnet_b0", "shufflenet_v2",
        "vit_tiny-cifar",
    }


@pytest.mark.parametrize("name", ["se-resnet18-cifar", "vit_tiny-cifar"])
def test_the_cifar_sized_templates_train_on_built_in_data(name):
    graph = designer.load(name)
    assert graph.meta["dataset"] == {"name": "shapes"}
    assert graph.result(graph.inputs()[0]).shape == (3, 32, 32)
    assert graph.result(graph.outputs()[0]).shape == (10,)


@pytest.mark.parametrize("name", template_names())
def test_template_is_valid_and_params_match_torch(name):
    graph = designer.load(name)
    graph.validate()
    assert graph.errors() == []
    model = graph.to_torch()
    ours = sum(r.param_count for r in graph.results.values())
    assert ours == sum(p.numel() for p in model.parameters() if p.requires_grad)
    if name in EXPECTED_PARAMS:
        assert ours == EXPECTED_PARAMS[name]


def test_alexnet_shapes_and_formulas_match_the_articles():
    graph = designer.load("alexnet")
    shapes = {n: graph.result(n).shape for n in graph.nodes}
    assert shapes["conv1"] == (96, 55, 55)
    assert shapes["pool1"] == (96, 27, 27)
    assert shapes["conv2"] == (256, 27, 27)
    assert shapes["pool2"] == (256, 13, 13)
    assert shapes["conv3"] == shapes["conv4"] == (384, 13, 13)
    assert shapes["pool5"] == (256, 6, 6)
    assert shapes["fc8"] == (1000,)
    assert graph.result("conv1").formula == "55 = ⌊(227 − 11 + 2·0) / 4⌋ + 1"
    assert graph.result("pool1").formula == "27 = ⌊(55 − 3) / 2⌋ + 1"
    assert graph.result("conv2").formula == "27 = ⌊(27 − 5 + 2·2) / 1⌋ + 1"
    assert graph.result("pool5").formula == "6 = ⌊(13 − 3) / 2⌋ + 1"
    assert graph.node("conv2").params["groups"] == 2


def test_lenet_first_layer_matches_the_glossary():
    graph = designer.load("lenet5")
    # (32 − 5 + 1) = 28 feature maps with (5·5 + 1)·6 = 156 parameters.
    assert graph.result("c1").shape == (6, 28, 28)
    assert graph.result("c1").param_count == (5 * 5 + 1) * 6


def test_alexnet_lrn_computes_the_papers_formula():
    graph = designer.load("alexnet")
    lrn = dict(graph.to_torch().named_modules())["norm1"]
    torch.manual_seed(0)
    a = torch.randn(2, 96, 5, 5) * 10
    k, n, alpha, beta = 2.0, 5, 1e-4, 0.75  # the paper's constants
    squares = torch.nn.functional.pad(a * a, (0, 0, 0, 0, n // 2, n // 2))
    sums = sum(squares[:, i:i + 96] for i in range(n))
    expected = a / (k + alpha * sums) ** beta
    torch.testing.assert_close(lrn(a), expected, rtol=1e-5, atol=1e-6)
    assert "0.0001" in graph.result("norm1").formula


def test_vgg16_macs_are_the_published_15_5_giga():
    graph = designer.load("vgg16")
    macs = sum(r.macs for r in graph.results.values())
    assert 15.4e9 < macs < 15.6e9


def test_inception_has_a_four_way_concat():
    graph = designer.load("inception")
    concats = [n for n in graph.nodes.values() if n.type == "Concat"]
    assert concats and all(len(graph.sources(c.name)) == 4 for c in concats)
    c = concats[0].name
    assert graph.result(c).shape[0] == sum(graph.result(s).shape[0] for s in graph.sources(c))
