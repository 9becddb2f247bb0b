"""Importing the shape blocks from their module and functional forms, sizes the code computes, and refusals.

Every model here is imported with ``check_import``: the graph is valid and, with the copied
weights, computes exactly what the model computes.
"""

from __future__ import annotations

from collections import Counter

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from designer.graph.importer import ModelImportError, import_model
from designer.graph.summary import totals
from tests.graph.test_importer import assert_one_line, check_import, randomise_statistics, types


def blocks(model: nn.Module, shape: tuple[int, ...]) -> list[tuple[str, dict]]:
    """The imported blocks after the Input and the model's first layer, with their parameters, in order."""
    imported = check_import(model, shape)
    graph = imported.graph
    return [(graph.node(n).type, dict(graph.node(n).params)) for n in graph.topological_order()[2:]]


def model(forward: str, channels: int = 6) -> nn.Module:
    """A convolution (a layer to check the weights with), then ``forward`` on its output ``x``."""
    namespace = {"torch": torch, "F": F, "nn": nn}
    exec("class Net(nn.Module):\n"
         "    def __init__(self, c):\n        super().__init__()\n        self.conv = nn.Conv2d(c, c, 1)\n"
         f"    def forward(self, x):\n        x = self.conv(x)\n        return {forward}\n", namespace)
    return namespace["Net"](channels)


# -- Permute, Transpose, Reshape ------------------------------------------------------------


@pytest.mark.parametrize(("forward", "expected"), [
    ("x.permute(0, 2, 3, 1)", [("Permute", {"dims": (0, 2, 3, 1)})]),
    ("x.permute([0, 3, 1, 2])", [("Permute", {"dims": (0, 3, 1, 2)})]),
    ("torch.permute(x, (0, -1, 1, 2))", [("Permute", {"dims": (0, -1, 1, 2)})]),
    ("x.transpose(1, 2)", [("Transpose", {"dim0": 1, "dim1": 2})]),
    ("torch.transpose(x, -1, -2)", [("Transpose", {"dim0": -1, "dim1": -2})]),
    ("x.swapaxes(1, 3)", [("Transpose", {"dim0": 1, "dim1": 3})]),
    ("torch.swapdims(x, 2, 3)", [("Transpose", {"dim0": 2, "dim1": 3})]),
    ("x.reshape(x.shape[0], 6, 16)", [("Reshape", {"shape": (6, 16)})]),
    ("x.view(x.size(0), -1, 4, 2)", [("Reshape", {"shape": (-1, 4, 2)})]),
    ("x.view(-1, 12, 8)", [("Reshape", {"shape": (12, 8)})]),
    ("torch.reshape(x, (x.size(0), 2, 3, 16))", [("Reshape", {"shape": (2, 3, 16)})]),
    ("x.view(x.size(0), -1)", [("Flatten", {"start_dim": 1, "end_dim": -1})]),  # still a Flatten
    ("x.permute(0, 1, 2, 3)", []),  # the identity order changes nothing
    ("x.permute(0, x.dim() - 2, 3, 1)", [("Permute", {"dims": (0, 2, 3, 1)})]),  # computed from sizes
])
def test_axes_and_reshapes_import(forward, expected):
    assert blocks(model(forward), (6, 4, 4)) == expected


# -- Select and Narrow ------------------------------------------------------------------------


@pytest.mark.parametrize(("forward", "expected"), [
    ("x[:, 0]", [("Select", {"dim": 1, "index": 0})]),
    ("x[:, :, -1]", [("Select", {"dim": 2, "index": -1})]),
    ("x[..., 2]", [("Select", {"dim": -1, "index": 2})]),
    ("x[..., 1, :]", [("Select", {"dim": -2, "index": 1})]),
    ("x.select(1, 3)", [("Select", {"dim": 1, "index": 3})]),
    ("torch.select(x, 2, 0)", [("Select", {"dim": 2, "index": 0})]),
    ("x[:, 2:5]", [("Narrow", {"dim": 1, "start": 2, "length": 3})]),
    ("x[:, :, 1:]", [("Narrow", {"dim": 2, "start": 1, "length": 3})]),
    ("x[:, -2:]", [("Narrow", {"dim": 1, "start": 4, "length": 2})]),
    ("x[:, : x.size(1) // 2]", [("Narrow", {"dim": 1, "start": 0, "length": 3})]),
    ("x[:, 1:100]", [("Narrow", {"dim": 1, "start": 1, "length": 5})]),  # past the end: what is there
    ("x[..., 1:3]", [("Narrow", {"dim": -1, "start": 1, "length": 2})]),
    ("x.narrow(1, 2, 4)", [("Narrow", {"dim": 1, "start": 2, "length": 4})]),
    ("torch.narrow(x, 3, -2, 2)", [("Narrow", {"dim": 3, "start": 2, "length": 2})]),
    ("x[:, :]", []),  # takes everything
])
def test_indexing_imports(forward, expected):
    assert blocks(model(forward), (6, 4, 4)) == expected


class Halves(nn.Module):
    """ShuffleNet's stride-1 unit: one half passes, the other goes through a branch."""

    def __init__(self) -> None:
        super().__init__()
        self.branch = nn.Conv2d(3, 3, 1)

    def forward(self, x):
        x1, x2 = x.chunk(2, dim=1)
        return torch.cat((x1, self.branch(x2)), dim=1)


def test_chunk_items_import_as_one_narrow_each():
    imported = check_import(Halves(), (6, 4, 4))
    graph = imported.graph
    assert types(imported) == {"x": "Input", "chunk": "Narrow", "chunk_1": "Narrow", "branch": "Conv2d",
                               "cat": "Concat"}
    assert graph.node("chunk").params == {"dim": 1, "start": 0, "length": 3}
    assert graph.node("chunk_1").params == {"dim": 1, "start": 3, "length": 3}
    assert graph.sources("cat") == ("chunk", "branch")


@pytest.mark.parametrize(("forward", "expected"), [
    # chunk(3) of 7: pieces of ⌈7 / 3⌉ = 3, the last 1 long; only the items used are drawn.
    ("x.chunk(3, 1)[2]", [("Narrow", {"dim": 1, "start": 6, "length": 1})]),
    ("torch.chunk(x, 2, dim=-1)[-1]", [("Narrow", {"dim": -1, "start": 2, "length": 2})]),
    ("x.split(3, dim=1)[1]", [("Narrow", {"dim": 1, "start": 3, "length": 3})]),
    ("torch.split(x, [2, 5], 1)[1]", [("Narrow", {"dim": 1, "start": 2, "length": 5})]),
    ("x.unbind(2)[3]", [("Select", {"dim": 2, "index": 3})]),
    ("torch.unbind(x, dim=1)[0]", [("Select", {"dim": 1, "index": 0})]),
])
def test_items_of_splits_import(forward, expected):
    assert blocks(model(forward, 7), (7, 4, 4)) == expected


# -- ChannelShuffle ---------------------------------------------------------------------------


def channel_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    """As ShuffleNet v2 writes it."""
    batchsize, num_channels, height, width = x.size()
    channels_per_group = num_channels // groups
    x = x.view(batchsize, groups, channels_per_group, height, width)
    x = torch.transpose(x, 1, 2).contiguous()
    x = x.view(batchsize, num_channels, height, width)
    return x


class Shuffled(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 6, 1)
        self.bn = nn.BatchNorm2d(6)
        self.shuffle = nn.ChannelShuffle(2)

    def forward(self, x):
        y = channel_shuffle(self.bn(self.conv(x)), 3)
        return torch.channel_shuffle(self.shuffle(y), 2)


def test_channel_shuffle_as_module_function_and_view_transpose_view():
    model_ = Shuffled()
    randomise_statistics(model_)
    imported = check_import(model_, (3, 5, 5))
    graph = imported.graph
    assert types(imported) == {"x": "Input", "conv": "Conv2d", "bn": "BatchNorm2d",
                               "channel_shuffle": "ChannelShuffle", "shuffle": "ChannelShuffle",
                               "channel_shuffle_1": "ChannelShuffle"}
    assert graph.node("channel_shuffle").params == {"groups": 3}
    assert graph.sources("channel_shuffle") == ("bn",)
    assert graph.node("channel_shuffle_1").params == {"groups": 2}


class AlmostShuffled(nn.Module):
    """The same ops, but the grouped view is also used on its own: they stay separate blocks."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(6, 6, 1)

    def forward(self, x):
        x = self.conv(x)
        n, c, h, w = x.shape
        grouped = x.view(n, 2, c // 2, h, w)
        shuffled = grouped.transpose(1, 2).reshape(n, c, h, w)
        return shuffled, grouped[:, 0]


@pytest.mark.parametrize(("forward", "kinds"), [
    ("x.view(x.size(0), 2, 3, 4, 4).transpose(2, 3).reshape(x.size(0), 6, 4, 4)",
     ["Reshape", "Transpose", "Reshape"]),  # another pair of axes swapped: not a shuffle
    ("x.view(x.size(0), 2, 3, 4, 4).permute(0, 2, 1, 3, 4).reshape(x.size(0), 6, 4, 4)",
     ["ChannelShuffle"]),  # the same swap, written as a permute
])
def test_only_the_exact_shuffle_pattern_folds(forward, kinds):
    assert [kind for kind, _ in blocks(model(forward), (6, 4, 4))] == kinds


def test_a_pattern_whose_parts_are_used_elsewhere_stays_separate_blocks():
    imported = check_import(AlmostShuffled(), (6, 4, 4))
    assert list(types(imported).values()) == ["Input", "Conv2d", "Reshape", "Transpose", "Reshape", "Select"]
    assert imported.graph.result("view").shape == (2, 3, 4, 4)  # four axes per sample in between


# -- sizes the code computes and checks -------------------------------------------------------


class PatchEmbedding(nn.Module):
    """ViT's ``_process_input``, and the class token taken at the end, as torchvision writes them."""

    def __init__(self, image_size: int = 8, patch_size: int = 4, hidden_dim: int = 6) -> None:
        super().__init__()
        self.image_size, self.patch_size, self.hidden_dim = image_size, patch_size, hidden_dim
        self.conv_proj = nn.Conv2d(3, hidden_dim, kernel_size=patch_size, stride=patch_size)

    def _process_input(self, x: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        p = self.patch_size
        torch._assert(h == self.image_size, f"Wrong image height! Expected {self.image_size} but got {h}!")
        torch._assert(w == self.image_size, f"Wrong image width! Expected {self.image_size} but got {w}!")
        n_h = h // p
        n_w = w // p
        x = self.conv_proj(x)
        x = x.reshape(n, self.hidden_dim, n_h * n_w)
        return x.permute(0, 2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self._process_input(x)
        torch._assert(x.dim() == 3, f"Expected (batch_size, seq_length, hidden_dim) got {x.shape}")
        torch._assert(x.ndim - 1 > 1, "three axes")
        torch._assert(x.numel() % 2 == 0, "an even count")
        return x[:, 0]


def test_vit_process_input_follows_its_sizes_and_drops_its_checks():
    imported = check_import(PatchEmbedding(), (3, 8, 8))
    graph = imported.graph
    assert list(types(imported).items()) == [("x", "Input"), ("conv_proj", "Conv2d"), ("reshape", "Reshape"),
                                             ("permute", "Permute"), ("getitem_4", "Select")]
    assert graph.node("reshape").params == {"shape": (6, 4)}
    assert graph.result("permute").shape == (4, 6)
    assert graph.result("getitem_4").shape == (6,)


# -- what cannot be drawn ---------------------------------------------------------------------


@pytest.mark.parametrize(("forward", "fragment"), [
    ("x.permute(1, 0, 2, 3)", "Tensor.permute ×1 (permute): conv.permute(1, 0, 2, 3): it moves the batch axis"),
    ("torch.transpose(x, 0, 1)", "transpose(conv, 0, 1): it moves the batch axis"),
    ("x.reshape(-1, 4, 4)", "conv.reshape(-1, 4, 4): its -1 would move values from one sample to another"),
    ("x.view(x.size(0), x.size(0), -1)", "only the first size may be the batch"),
    ("x.chunk(2, dim=0)[0]", "Tensor.chunk ×1 (chunk): conv.chunk(2, dim=0): it splits the batch"),
    ("torch.cat(x.chunk(2, 1), 1)", "Tensor.chunk ×1 (chunk): conv.chunk(2, 1): what it returns is used whole"),
    ("x.max(1)[0]", "Tensor.max ×1 (max_1): conv.max(1)"),
    ("x.select(0, 1)", "conv.select(0, 1): it splits the batch"),
    ("x[:, 1:1]", "conv[:, 1:1]: it takes nothing"),
    ("x.transpose(x.size(0), 1)", "conv.transpose(size, 1): its dim0 is not a fixed number"),
    ("x.chunk(x.size(0), 1)[0]", "conv.chunk(size, 1): its number of chunks is not a fixed number"),
    ("x.split([x.size(0), 4], 1)[1]", "conv.split([size, 4], 1): its split size is not a fixed number"),
    ("x[:, x.size(0)]", "conv[:, size]: it indexes with something other than fixed numbers"),
    ("torch.reshape(x, x.shape)", "reshape(conv, getattr_1): its first size, 2, does not follow the batch"),
])
def test_what_cannot_be_drawn_says_why(forward, fragment):
    with pytest.raises(ModelImportError) as error:
        import_model(model(forward), (6, 4, 4))
    assert_one_line(error, "cannot import", fragment)


def test_len_of_a_tensor_is_named_with_what_to_write_instead():
    with pytest.raises(ModelImportError) as error:
        import_model(model("x.view(len(x), -1)"), (6, 4, 4))
    assert str(error.value) == ("cannot trace Net: len() of a tensor is not recorded by torch.fx; "
                                "write x.shape[0] (or x.size(0)) for the batch size")


def test_two_items_of_one_call_that_cannot_be_drawn_are_one_op():
    with pytest.raises(ModelImportError) as error:
        import_model(model("x.max(1)[0] + x.max(1)[1]"), (6, 4, 4))
    message = assert_one_line(error)
    assert "Tensor.max ×2 (max_1, max_2)" in message


# -- ShuffleNet v2, written from the paper (Ma et al. 2018) as torchvision writes it ---------------


def conv_bn(cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1,
            relu: bool = True) -> list[nn.Module]:
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups, bias=False),
                               nn.BatchNorm2d(cout)]
    return [*layers, nn.ReLU(inplace=True)] if relu else layers


class ShuffleUnit(nn.Module):
    """Stride 1: half the channels pass, the other half goes through the branch; stride 2: two branches."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.stride, half = stride, cout // 2
        self.branch1 = nn.Sequential(*conv_bn(cin, cin, 3, stride, groups=cin, relu=False),
                                     *conv_bn(cin, half, 1)) if stride > 1 else nn.Sequential()
        self.branch2 = nn.Sequential(*conv_bn(cin if stride > 1 else half, half, 1),
                                     *conv_bn(half, half, 3, stride, groups=half, relu=False),
                                     *conv_bn(half, half, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride == 1:
            x1, x2 = x.chunk(2, dim=1)
            out = torch.cat((x1, self.branch2(x2)), dim=1)
        else:
            out = torch.cat((self.branch1(x), self.branch2(x)), dim=1)
        return channel_shuffle(out, 2)


class ShuffleNetV2(nn.Module):
    """×1.0: stages of 4, 8 and 4 units at 116, 232 and 464 channels."""

    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        self.conv1 = nn.Sequential(*conv_bn(3, 24, 3, 2))
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        stages, cin = [], 24
        for repeats, cout in ((4, 116), (8, 232), (4, 464)):
            units = [ShuffleUnit(cin, cout, 2), *(ShuffleUnit(cout, cout, 1) for _ in range(repeats - 1))]
            stages.append(nn.Sequential(*units))
            cin = cout
        self.stage2, self.stage3, self.stage4 = stages
        self.conv5 = nn.Sequential(*conv_bn(464, 1024, 1))
        self.fc = nn.Linear(1024, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stage4(self.stage3(self.stage2(self.maxpool(self.conv1(x)))))
        return self.fc(self.conv5(x).mean([2, 3]))


def test_shufflenet_v2_imports_exactly():
    model_ = ShuffleNetV2()
    randomise_statistics(model_)
    imported = check_import(model_, (3, 32, 32))  # a small image keeps it fast; the parameters do not change
    graph = imported.graph
    assert totals(graph)["params"] == 2_278_604  # torchvision's shufflenet_v2_x1_0
    kinds = Counter(node.type for node in graph.nodes.values())
    assert (kinds["Narrow"], kinds["ChannelShuffle"], kinds["Concat"]) == (26, 16, 16)  # 13 stride-1 units
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model_.eval()(torch.zeros(1, 3, 32, 32))
    assert totals(graph)["macs"] == counter.get_total_flops() // 2
