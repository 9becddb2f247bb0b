"""Importing this area's blocks from their module and functional forms.

Each model is a small ``nn.Module`` written the way people write them; ``check_import``
demands the same outputs and layers as the original, with its weights.
"""

from __future__ import annotations

from collections import Counter

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from designer.graph.importer import ModelImportError, import_model
from tests.graph.test_importer import assert_same_outputs, check_import, types

# -- activations -----------------------------------------------------------------------------


class MobileActivations(nn.Module):
    """Every new activation, as a module (in place where torch allows it) and as a function."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)
        self.relu6 = nn.ReLU6(inplace=True)
        self.hswish = nn.Hardswish(inplace=True)
        self.hsigmoid = nn.Hardsigmoid()
        self.silu = nn.SiLU(inplace=True)
        self.mish = nn.Mish()

    def forward(self, x):
        x = self.mish(self.silu(self.hsigmoid(self.hswish(self.relu6(self.conv(x))))))
        x = F.relu6(x, inplace=True)
        x = F.hardswish(x)
        x = F.hardsigmoid(x, inplace=False)
        x = F.silu(x, inplace=True)
        return F.mish(x)


def test_new_activations_import_from_modules_and_functions():
    imported = check_import(MobileActivations(), (3, 5, 5))
    assert list(types(imported).values()) == [
        "Input", "Conv2d", "ReLU6", "Hardswish", "Hardsigmoid", "SiLU", "Mish",
        "ReLU6", "Hardswish", "Hardsigmoid", "SiLU", "Mish",
    ]
    # inplace changes nothing the block computes: none of them has a parameter.
    assert all(node.params == {} for node in imported.graph.nodes.values()
               if node.type not in ("Input", "Conv2d"))


# -- Mul and Mean: squeeze-and-excitation, as people write it --------------------------------


class SqueezeExcitation(nn.Module):
    """torchvision's shape of it: pooled by a module, gate first in the product."""

    def __init__(self, channels: int, squeezed: int):
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, squeezed, 1)
        self.fc2 = nn.Conv2d(squeezed, channels, 1)
        self.activation = nn.ReLU()
        self.scale_activation = nn.Hardsigmoid()

    def forward(self, x):
        scale = self.scale_activation(self.fc2(self.activation(self.fc1(self.avgpool(x)))))
        return scale * x


class SEWithMean(nn.Module):
    """The squeeze as a mean, the product in each of its spellings."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv2d(3, channels, 3, padding=1)
        self.gates = nn.ModuleList(
            nn.Sequential(nn.Conv2d(channels, 2, 1), nn.SiLU(), nn.Conv2d(2, channels, 1), nn.Sigmoid())
            for _ in range(4))

    def forward(self, x):
        x = self.conv(x)
        x = x * self.gates[0](x.mean((2, 3), keepdim=True))
        x = torch.mul(x, self.gates[1](torch.mean(x, dim=[-2, -1], keepdim=True)))
        x = x.mul(self.gates[2](x.mean([2, 3], True)))
        x.mul_(self.gates[3](x.mean(dim=(3, 2), keepdim=True)))
        return x.mean([2, 3])


def test_squeeze_and_excitation_module_imports_as_drawn():
    imported = check_import(SqueezeExcitation(6, 2), (6, 5, 5))
    assert list(types(imported).values()) == [
        "Input", "AdaptiveAvgPool2d", "Conv2d", "ReLU", "Conv2d", "Hardsigmoid", "Mul"]
    graph = imported.graph
    (mul,) = [n for n in graph.nodes if graph.node(n).type == "Mul"]
    assert graph.sources(mul) == ("scale_activation", "x")  # the gate first, as written
    assert graph.result(mul).shape == (6, 5, 5)


def test_mul_and_mean_import_from_every_spelling():
    imported = check_import(SEWithMean(4), (3, 6, 7))
    graph = imported.graph
    counted = Counter(types(imported).values())
    assert counted["Mul"] == 4 and counted["Mean"] == 5
    means = [graph.node(n).params for n in graph.topological_order() if graph.node(n).type == "Mean"]
    assert means == [{"dim": (2, 3), "keepdim": True}] * 4 + [{"dim": (2, 3), "keepdim": False}]
    assert graph.result(graph.outputs()[0]).shape == (4,)


def test_mean_over_channels_and_a_single_negative_axis():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 3, 1)

        def forward(self, x):
            x = self.conv(x)
            return torch.mean(x, 1, keepdim=True), x.mean(-1)

    imported = check_import(Net(), (3, 4, 5))
    graph = imported.graph
    params = {n: graph.node(n).params for n in graph.outputs()}
    assert list(params.values()) == [{"dim": (1,), "keepdim": True}, {"dim": (3,), "keepdim": False}]
    assert [graph.result(n).shape for n in graph.outputs()] == [(1, 4, 5), (3, 4)]


class LayerScale(nn.Module):
    """ConvNeXt's layer scale: a learned C×1×1 tensor, without the batch axis, times the branch."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.layer_scale = nn.Parameter(torch.rand(4, 1, 1))
        self.gamma = nn.Parameter(torch.rand(1, 4))

    def forward(self, x):
        x = self.layer_scale * self.conv(x)
        return torch.mul(x.mean((2, 3), keepdim=True).flatten(1), self.gamma)


def test_layer_scale_is_a_mul_by_a_learned_tensor():
    imported = check_import(LayerScale(), (3, 5, 5))
    graph = imported.graph
    assert [(graph.node(n).type, graph.result(n).shape) for n in graph.topological_order()] == [
        ("Input", (3, 5, 5)), ("Parameter", (4, 1, 1)), ("Conv2d", (4, 5, 5)), ("Mul", (4, 5, 5)),
        ("Mean", (4, 1, 1)), ("Flatten", (4,)), ("Parameter", (4,)), ("Mul", (4,)),
    ]


def test_a_product_of_two_learned_tensors_is_refused():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Parameter(torch.rand(4, 1, 1))
            self.b = nn.Parameter(torch.rand(4, 1, 1))
            self.conv = nn.Conv2d(4, 4, 1)

        def forward(self, x):
            return self.conv(x) * (self.a * self.b)

    with pytest.raises(ModelImportError) as error:
        import_model(Net(), (4, 3, 3))
    assert "both are learned tensors; Mul multiplies what the network computes for each sample" \
        in str(error.value)


class TokenPool(nn.Module):
    """Patches as tokens, averaged over the tokens: a ViT head without the class token."""

    def __init__(self):
        super().__init__()
        self.patches = nn.Conv2d(3, 8, 2, stride=2)
        self.fc = nn.Linear(8, 8)

    def forward(self, x):
        tokens = self.fc(self.patches(x).flatten(2).transpose(1, 2))
        return tokens.mean(dim=1)


def test_mean_over_tokens():
    imported = check_import(TokenPool(), (3, 4, 4))
    graph = imported.graph
    (mean,) = graph.outputs()
    assert graph.node(mean).params == {"dim": (1,), "keepdim": False}
    assert (graph.result(mean).shape, graph.result(mean).formula) == ((8,), "8 = mean over 4")


@pytest.mark.parametrize(("forward", "fragment"), [
    ("return x * 2", "a tensor times a number has no block; Mul multiplies two tensors"),
    ("return torch.mul(x, 0.5)", "a tensor times a number has no block"),
    ("return x.mul(x.size(1))", "a tensor times a number has no block"),
    ("return x.mean()", "it averages every axis, the batch too; give dim, e.g. x.mean((2, 3))"),
    ("return x.mean(0)", "it averages over the batch axis (dim 0)"),
    ("return torch.mean(x, (-4, 1))", "it averages over the batch axis (dim 0)"),
    ("return x.mean((2, 3), dtype=torch.float64)", "dtype=torch.float64 has no block parameter"),
    ("return x.mean((1, 2, 3))", "averaging every axis of 2×4×4 leaves no axis per sample"),
])
def test_what_is_not_mul_or_mean_says_why(forward, fragment):
    assert_refused(forward, (2, 4, 4), fragment)


def test_a_product_torch_only_broadcasts_by_chance_is_refused():
    # The import runs a batch of 2: (2, 2, 2, 2) · (2, 2) works there, and for no other batch size.
    assert_refused("return x * x.mean((2, 3))", (2, 2, 2),
                   "Mul needs inputs with the same number of axes, got 2×2×2 and 2: ")


def assert_refused(forward: str, shape: tuple[int, ...], fragment: str) -> None:
    namespace = {"torch": torch, "F": F, "nn": nn}
    exec(f"class Net(nn.Module):\n    def forward(self, x):\n        {forward}\n", namespace)
    with pytest.raises(ModelImportError) as error:
        import_model(namespace["Net"](), shape)
    message = str(error.value)
    assert fragment in message and "\n" not in message


# -- ConvTranspose2d ---------------------------------------------------------------------------


class Decoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.encode = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.up1 = nn.ConvTranspose2d(8, 4, kernel_size=4, stride=2, padding=1)
        self.up2 = nn.ConvTranspose2d(4, 6, (3, 2), stride=(2, 1), padding=(1, 0), output_padding=(1, 0),
                                      groups=2, bias=False, dilation=(1, 2))

    def forward(self, x):
        return self.up2(F.relu(self.up1(self.encode(x))))


def test_transposed_convolutions_import_with_every_argument():
    imported = check_import(Decoder(), (3, 8, 10))
    graph = imported.graph
    assert graph.node("up2").params == {
        "out_channels": 6, "kernel_size": (3, 2), "stride": (2, 1), "padding": (1, 0),
        "output_padding": (1, 0), "groups": 2, "bias": False, "dilation": (1, 2)}
    assert graph.result("up1").shape == (4, 8, 10)
    assert graph.result("up2").shape == (6, 16, 12)


def test_a_transposed_convolution_given_its_output_size_is_refused():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.down = nn.Conv2d(3, 3, 3, stride=2, padding=1)
            self.up = nn.ConvTranspose2d(3, 3, 3, stride=2, padding=1)

        def forward(self, x):
            return self.up(self.down(x), output_size=x.size())

    with pytest.raises(ModelImportError) as error:
        import_model(Net(), (3, 8, 8))
    assert "called with more than its input" in str(error.value)


# -- Upsample -----------------------------------------------------------------------------------


class UNetUp(nn.Module):
    """A decoder's ways up: modules and functions, by factor and to a size."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.up = nn.Upsample(scale_factor=2)
        self.smooth = nn.Upsample(size=(9, 13), mode="bilinear", align_corners=True)
        self.exact = nn.Upsample(scale_factor=1.5, mode="nearest-exact")

    def forward(self, x):
        x = self.smooth(self.up(self.conv(x)))
        x = F.interpolate(x, scale_factor=(2.0, 2.0), mode="bicubic")
        x = F.interpolate(x, size=20)
        return self.exact(x)


def test_upsample_imports_from_the_module_and_interpolate():
    imported = check_import(UNetUp(), (3, 4, 5))
    graph = imported.graph
    ups = [graph.node(n).params for n in graph.topological_order() if graph.node(n).type == "Upsample"]
    assert ups == [
        {"size": None, "scale_factor": 2.0, "mode": "nearest", "align_corners": False},
        {"size": (9, 13), "scale_factor": 2.0, "mode": "bilinear", "align_corners": True},
        {"size": None, "scale_factor": 2.0, "mode": "bicubic", "align_corners": False},
        {"size": 20, "scale_factor": 2.0, "mode": "nearest", "align_corners": False},
        {"size": None, "scale_factor": 1.5, "mode": "nearest-exact", "align_corners": False},
    ]
    assert graph.result(graph.outputs()[0]).shape == (4, 30, 30)


class OldSpellings(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 1)
        self.nearest = nn.UpsamplingNearest2d(scale_factor=2)
        self.bilinear = nn.UpsamplingBilinear2d(size=(7, 9))

    def forward(self, x):
        x = self.bilinear(self.nearest(self.conv(x)))
        return F.upsample(x, scale_factor=3, mode="bilinear")


@pytest.mark.filterwarnings("ignore:`nn.functional.upsample` is deprecated:UserWarning")
def test_the_upsampling_classes_and_f_upsample_are_upsample():
    model = OldSpellings()
    imported = import_model(model, (3, 4, 4))
    assert_same_outputs(model, imported, (3, 4, 4))
    graph = imported.graph
    assert graph.node("bilinear").params == {
        "size": (7, 9), "scale_factor": 2.0, "mode": "bilinear", "align_corners": True}
    assert graph.node("nearest").params["mode"] == "nearest"
    assert list(types(imported).values())[-1] == "Upsample"


@pytest.mark.parametrize(("forward", "fragment"), [
    ("return F.interpolate(x, scale_factor=(2, 3))",
     "scale_factor (2, 3) differs between height and width; Upsample scales both by one factor: "
     "give size instead"),
    ("return F.interpolate(x, scale_factor=1.7, recompute_scale_factor=True)",
     "recompute_scale_factor=True with a scale that does not give whole sizes"),
    ("return F.interpolate(x, scale_factor=2.0, mode='bilinear', antialias=True)",
     "antialias=True has no block parameter"),
    ("return F.interpolate(x.flatten(2), scale_factor=2.0)",
     "only a batch of C×H×W images can be drawn as Upsample"),
    ("return F.interpolate(x, scale_factor=2.0, mode='area')", "mode: must be one of"),
])
def test_what_is_not_upsample_says_why(forward, fragment):
    assert_refused(forward, (2, 4, 4), fragment)


def test_a_recomputed_whole_scale_is_upsample():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 3, 1)

        def forward(self, x):
            return F.interpolate(self.conv(x), scale_factor=2.5, mode="bilinear", recompute_scale_factor=True)

    imported = check_import(Net(), (3, 4, 6))  # 4·2.5 and 6·2.5 are whole: the recomputed scale is 2.5
    assert imported.graph.result(imported.graph.outputs()[0]).shape == (3, 10, 15)
