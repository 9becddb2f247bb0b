"""Regenerates resources/templates/*.json from the definitions below.

Run ``python tools/build_templates.py`` after changing a definition; the JSON
files are what the app and the tests read.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from designer.graph.graph import Graph
from designer.graph.layout import apply_layout
from designer.graph.project import save

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "resources" / "templates"


class Builder:
    """Chains blocks: each call adds a node fed by the previous one."""

    def __init__(self, name: str, description: str, shape: list[int]) -> None:
        self.graph = Graph()
        self.graph.name, self.graph.description = name, description
        self.last = self.graph.add_node("Input", "input", {"shape": shape}).name

    def __call__(self, type: str, name: str | None = None, src: str | list[str] | None = None,
                 **params: object) -> str:
        node = self.graph.add_node(type, name, params)
        sources = [self.last] if src is None else [src] if isinstance(src, str) else src
        for source in sources:
            self.graph.connect(source, node.name)
        self.last = node.name
        return node.name

    def save(self, training: dict[str, object] | None = None, dataset: dict[str, object] | None = None) -> None:
        write(self.graph, training, dataset)


def write(graph: Graph, training: dict[str, object] | None = None,
          dataset: dict[str, object] | None = None) -> None:
    errors = graph.errors()
    assert not errors, errors
    if training:
        graph.meta["training"] = training
    if dataset:
        graph.meta["dataset"] = dataset
    apply_layout(graph)
    save(graph, OUT / f"{graph.name}.json")


def imported(name: str, module: str, factory: str, description: str, **kwargs: object) -> None:
    """A template made by importing the reference definition in tests/models, written from the paper
    as torchvision writes it: the same layers, names and parameter count as torchvision's."""
    from designer.graph.importer import import_model

    sys.path.insert(0, str(ROOT))
    model = getattr(importlib.import_module(f"tests.models.{module}"), factory)(**kwargs).eval()
    graph = import_model(model, (3, 224, 224), name).graph
    graph.description = description
    write(graph)


def lenet5() -> None:
    b = Builder("lenet5", "LeNet-5 (LeCun 1998): 1×32×32, two 5×5 convolutions, 120-84-10; "
                "61,706 parameters", [1, 32, 32])
    b("Conv2d", "c1", out_channels=6, kernel_size=5)
    b("Tanh", "tanh1")
    b("AvgPool2d", "s2", kernel_size=2, stride=2)
    b("Conv2d", "c3", out_channels=16, kernel_size=5)
    b("Tanh", "tanh2")
    b("AvgPool2d", "s4", kernel_size=2, stride=2)
    b("Flatten", "flatten")
    b("Linear", "c5", out_features=120)
    b("Tanh", "tanh3")
    b("Linear", "f6", out_features=84)
    b("Tanh", "tanh4")
    b("Linear", "output", out_features=10)
    # SGD at 0.01 peaks at 96.6% on digits; at 0.05 it passes 97% within 4-8 epochs for seeds 0-2.
    b.save({"lr": 0.05})


LRN = {"size": 5, "alpha": 5e-4, "beta": 0.75, "k": 2.0}  # the paper's k=2, n=5, α=1e-4, β=0.75


def alexnet() -> None:
    b = Builder("alexnet", "AlexNet (Krizhevsky 2012), the two-GPU original: 3×227×227, "
                "grouped conv2/4/5, LRN, 60,965,224 parameters", [3, 227, 227])
    b("Conv2d", "conv1", out_channels=96, kernel_size=11, stride=4)
    b("ReLU", "relu1")
    b("LocalResponseNorm", "norm1", **LRN)
    b("MaxPool2d", "pool1", kernel_size=3, stride=2)
    b("Conv2d", "conv2", out_channels=256, kernel_size=5, padding=2, groups=2)
    b("ReLU", "relu2")
    b("LocalResponseNorm", "norm2", **LRN)
    b("MaxPool2d", "pool2", kernel_size=3, stride=2)
    b("Conv2d", "conv3", out_channels=384, kernel_size=3, padding=1)
    b("ReLU", "relu3")
    b("Conv2d", "conv4", out_channels=384, kernel_size=3, padding=1, groups=2)
    b("ReLU", "relu4")
    b("Conv2d", "conv5", out_channels=256, kernel_size=3, padding=1, groups=2)
    b("ReLU", "relu5")
    b("MaxPool2d", "pool5", kernel_size=3, stride=2)
    b("Flatten", "flatten")
    for i, width in ((6, 4096), (7, 4096)):
        b("Linear", f"fc{i}", out_features=width)
        b("ReLU", f"relu{i}")
        b("Dropout", f"drop{i}", p=0.5)
    b("Linear", "fc8", out_features=1000)
    b.save()


def alexnet_cifar() -> None:
    b = Builder("alexnet-cifar", "AlexNet shrunk for CIFAR-10's 3×32×32 images: 5×5 and 3×3 "
                "convolutions, LRN, overlapping pooling, two dropout layers", [3, 32, 32])
    b("Conv2d", "conv1", out_channels=64, kernel_size=5, padding=2)
    b("ReLU", "relu1")
    b("LocalResponseNorm", "norm1", **LRN)
    b("MaxPool2d", "pool1", kernel_size=3, stride=2)
    b("Conv2d", "conv2", out_channels=192, kernel_size=5, padding=2, groups=2)
    b("ReLU", "relu2")
    b("LocalResponseNorm", "norm2", **LRN)
    b("MaxPool2d", "pool2", kernel_size=3, stride=2)
    b("Conv2d", "conv3", out_channels=384, kernel_size=3, padding=1)
    b("ReLU", "relu3")
    b("Conv2d", "conv4", out_channels=256, kernel_size=3, padding=1, groups=2)
    b("ReLU", "relu4")
    b("Conv2d", "conv5", out_channels=256, kernel_size=3, padding=1, groups=2)
    b("ReLU", "relu5")
    b("MaxPool2d", "pool5", kernel_size=3, stride=2)
    b("Flatten", "flatten")
    for i in (6, 7):
        b("Linear", f"fc{i}", out_features=1024)
        b("ReLU", f"relu{i}")
        b("Dropout", f"drop{i}", p=0.5)
    b("Linear", "fc8", out_features=10)
    b.save()


def vgg16() -> None:
    b = Builder("vgg16", "VGG-16 (Simonyan & Zisserman 2014), configuration D: 3×224×224, "
                "thirteen 3×3 convolutions, 138,357,544 parameters", [3, 224, 224])
    for stage, (width, convs) in enumerate(((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)), 1):
        for i in range(1, convs + 1):
            b("Conv2d", f"conv{stage}_{i}", out_channels=width, kernel_size=3, padding=1)
            b("ReLU", f"relu{stage}_{i}")
        b("MaxPool2d", f"pool{stage}", kernel_size=2, stride=2)
    b("Flatten", "flatten")
    for i in (6, 7):
        b("Linear", f"fc{i}", out_features=4096)
        b("ReLU", f"relu{i}")
        b("Dropout", f"drop{i}", p=0.5)
    b("Linear", "fc8", out_features=1000)
    b.save()


def vgg16_cifar() -> None:
    b = Builder("vgg16-cifar", "VGG-16 for CIFAR-10 with batch norm and dropout after each "
                "convolution (the PaddlePaddle book's variant)", [3, 32, 32])
    stages = ((64, [0.3, 0]), (128, [0.4, 0]), (256, [0.4, 0.4, 0]),
              (512, [0.4, 0.4, 0]), (512, [0.4, 0.4, 0]))
    for stage, (width, drops) in enumerate(stages, 1):
        for i, rate in enumerate(drops, 1):
            b("Conv2d", f"conv{stage}_{i}", out_channels=width, kernel_size=3, padding=1)
            b("BatchNorm2d", f"bn{stage}_{i}")
            b("ReLU", f"relu{stage}_{i}")
            if rate:
                b("Dropout", f"drop{stage}_{i}", p=rate)
        b("MaxPool2d", f"pool{stage}", kernel_size=2, stride=2)
    b("Flatten", "flatten")
    b("Dropout", "drop6", p=0.5)
    b("Linear", "fc1", out_features=512)
    b("BatchNorm1d", "bn_fc1")
    b("ReLU", "relu_fc1")
    b("Dropout", "drop7", p=0.5)
    b("Linear", "fc2", out_features=512)
    b("Linear", "output", out_features=10)
    b.save()


def resnet18() -> None:
    b = Builder("resnet18", "ResNet-18 (He 2015): 3×224×224, eight basic blocks whose residual "
                "Adds skip two 3×3 convolutions; 11,689,512 parameters", [3, 224, 224])
    b("Conv2d", "conv1", out_channels=64, kernel_size=7, stride=2, padding=3, bias=False)
    b("BatchNorm2d", "bn1")
    b("ReLU", "relu")
    b("MaxPool2d", "maxpool", kernel_size=3, stride=2, padding=1)
    width = 64
    for stage, planes in enumerate((64, 128, 256, 512), 1):
        for block in range(2):
            prefix = f"layer{stage}_{block}"
            stride = 2 if stage > 1 and block == 0 else 1
            entry = b.last
            b("Conv2d", f"{prefix}_conv1", out_channels=planes, kernel_size=3, stride=stride,
              padding=1, bias=False)
            b("BatchNorm2d", f"{prefix}_bn1")
            b("ReLU", f"{prefix}_relu1")
            b("Conv2d", f"{prefix}_conv2", out_channels=planes, kernel_size=3, padding=1, bias=False)
            main = b("BatchNorm2d", f"{prefix}_bn2")
            shortcut = entry
            if stride != 1 or width != planes:
                b("Conv2d", f"{prefix}_down", src=entry, out_channels=planes, kernel_size=1,
                  stride=stride, bias=False)
                shortcut = b("BatchNorm2d", f"{prefix}_down_bn")
            b("Add", f"{prefix}_add", src=[main, shortcut])
            b("ReLU", f"{prefix}_out")
            width = planes
    b("AdaptiveAvgPool2d", "avgpool", output_size=1)
    b("Flatten", "flatten")
    b("Linear", "fc", out_features=1000)
    b.save()


def inception() -> None:
    b = Builder("inception", "A small GoogLeNet-style network for 3×32×32 images: two Inception "
                "modules whose four branches meet in a Concat", [3, 32, 32])
    b("Conv2d", "stem", out_channels=64, kernel_size=3, padding=1)
    b("ReLU", "stem_relu")
    for module, (c1, c3r, c3, c5r, c5, pp) in (
        ("inception3a", (32, 48, 64, 8, 16, 16)),
        ("inception3b", (64, 64, 96, 16, 48, 32)),
    ):
        entry = b.last
        b1 = b("Conv2d", f"{module}_1x1", src=entry, out_channels=c1, kernel_size=1)
        b1 = b("ReLU", f"{module}_1x1_relu")
        b("Conv2d", f"{module}_3x3_reduce", src=entry, out_channels=c3r, kernel_size=1)
        b("ReLU", f"{module}_3x3_reduce_relu")
        b("Conv2d", f"{module}_3x3", out_channels=c3, kernel_size=3, padding=1)
        b3 = b("ReLU", f"{module}_3x3_relu")
        b("Conv2d", f"{module}_5x5_reduce", src=entry, out_channels=c5r, kernel_size=1)
        b("ReLU", f"{module}_5x5_reduce_relu")
        b("Conv2d", f"{module}_5x5", out_channels=c5, kernel_size=5, padding=2)
        b5 = b("ReLU", f"{module}_5x5_relu")
        b("MaxPool2d", f"{module}_pool", src=entry, kernel_size=3, stride=1, padding=1)
        b("Conv2d", f"{module}_pool_proj", out_channels=pp, kernel_size=1)
        bp = b("ReLU", f"{module}_pool_proj_relu")
        b("Concat", f"{module}_concat", src=[b1, b3, b5, bp])
        if module == "inception3a":
            b("MaxPool2d", "pool3", kernel_size=3, stride=2, padding=1)
    b("AdaptiveAvgPool2d", "avgpool", output_size=1)
    b("Flatten", "flatten")
    b("Dropout", "dropout", p=0.4)
    b("Linear", "fc", out_features=10)
    b.save()


def googlenet() -> None:
    imported("googlenet", "googlenet", "googlenet",
             "GoogLeNet (Szegedy 2014): 3×224×224, nine Inception modules, each running 1×1, 3×3 and 5×5 "
             "convolutions and pooling side by side and concatenating them, with 1×1 reductions that keep the "
             "cost down: 22 layers deep for 6.6 M parameters, 12× fewer than AlexNet (no aux heads); "
             "6,624,904 parameters", aux_logits=False)


def senet() -> None:
    imported("senet", "senet", "se_resnet50",
             "SE-ResNet-50 (Hu 2017): ResNet-50 whose every bottleneck rescales its channels by a "
             "squeeze-and-excitation gate (global average, 1×1 down by 16, ReLU, 1×1 up, sigmoid, multiply) "
             "before the residual Add; 28,088,024 parameters")


def mobilenet_v2() -> None:
    imported("mobilenet_v2", "mobilenetv2", "mobilenet_v2",
             "MobileNet v2 (Sandler 2018): inverted residuals, 1×1 expand, 3×3 depthwise, linear 1×1 "
             "bottleneck, ReLU6; 3,504,872 parameters")


def efficientnet_b0() -> None:
    imported("efficientnet_b0", "efficientnet", "efficientnet_b0",
             "EfficientNet-B0 (Tan 2019): MBConv blocks with squeeze-and-excitation, SiLU and stochastic "
             "depth, found by architecture search and scaled by width, depth and resolution; "
             "5,288,548 parameters")


def shufflenet_v2() -> None:
    imported("shufflenet_v2", "shufflenetv2", "shufflenet_v2_x1_0",
             "ShuffleNet v2 ×1.0 (Ma 2018): each unit splits the channels in two halves, convolves one, "
             "concatenates and shuffles them so information crosses the groups; 2,278,604 parameters")


def se_resnet18_cifar() -> None:
    b = Builder("se-resnet18-cifar", "A small SE-ResNet-18 for 3×32×32 images (He 2015, Hu 2017): a 3×3 stem, "
                "eight basic blocks of 16 to 128 channels, each gated by squeeze-and-excitation (Mean, two 1×1 "
                "convolutions, Sigmoid, Mul) before its residual Add; trains on the built-in shapes",
                [3, 32, 32])
    b("Conv2d", "stem", out_channels=16, kernel_size=3, padding=1, bias=False)
    b("BatchNorm2d", "stem_bn")
    b("ReLU", "stem_relu")
    width = 16
    for stage, planes in enumerate((16, 32, 64, 128), 1):
        for block in range(2):
            prefix = f"layer{stage}_{block}"
            stride = 2 if stage > 1 and block == 0 else 1
            entry = b.last
            b("Conv2d", f"{prefix}_conv1", out_channels=planes, kernel_size=3, stride=stride, padding=1,
              bias=False)
            b("BatchNorm2d", f"{prefix}_bn1")
            b("ReLU", f"{prefix}_relu1")
            b("Conv2d", f"{prefix}_conv2", out_channels=planes, kernel_size=3, padding=1, bias=False)
            main = b("BatchNorm2d", f"{prefix}_bn2")
            b("Mean", f"{prefix}_squeeze", dim=[2, 3], keepdim=True)
            b("Conv2d", f"{prefix}_se_fc1", out_channels=max(planes // 16, 4), kernel_size=1)
            b("ReLU", f"{prefix}_se_relu")
            b("Conv2d", f"{prefix}_se_fc2", out_channels=planes, kernel_size=1)
            gate = b("Sigmoid", f"{prefix}_gate")
            scaled = b("Mul", f"{prefix}_excite", src=[main, gate])
            shortcut = entry
            if stride != 1 or width != planes:
                b("Conv2d", f"{prefix}_down", src=entry, out_channels=planes, kernel_size=1, stride=stride,
                  bias=False)
                shortcut = b("BatchNorm2d", f"{prefix}_down_bn")
            b("Add", f"{prefix}_add", src=[scaled, shortcut])
            b("ReLU", f"{prefix}_out")
            width = planes
    b("AdaptiveAvgPool2d", "avgpool", output_size=1)
    b("Flatten", "flatten")
    b("Linear", "fc", out_features=10)
    b.save({"epochs": 5}, {"name": "shapes"})


def vit_tiny_cifar() -> None:
    dim, heads, layers, tokens = 64, 4, 4, 64
    b = Builder("vit_tiny-cifar", "A tiny Vision Transformer for 3×32×32 images (Dosovitskiy 2020): 4×4 "
                "patches embedded by a strided convolution into 64 tokens of 64 features, a learned class "
                "token and position embedding, four pre-norm encoder layers (attention with 4 heads, MLP "
                "of 128), the class token read out; trains on the built-in shapes", [3, 32, 32])
    b("Conv2d", "patchify", out_channels=dim, kernel_size=4, stride=4)
    b("Flatten", "flatten_patches", start_dim=2)
    patches = b("Transpose", "to_tokens", dim0=1, dim1=2)
    b("Parameter", "class_token", src=[], shape=[1, 1, dim], init="zeros")
    b("Concat", "with_class_token", src=["class_token", patches])
    b("Parameter", "pos_embedding", src=[], shape=[1, tokens + 1, dim], init="normal", std=0.02)
    x = b("Add", "embedded", src=["with_class_token", "pos_embedding"])
    for i in range(layers):
        prefix = f"layer{i}"
        b("LayerNorm", f"{prefix}_ln1", src=x)
        b("MultiheadAttention", f"{prefix}_attention", num_heads=heads)
        attended = b("Add", f"{prefix}_add1", src=[x, b.last])
        b("LayerNorm", f"{prefix}_ln2")
        b("Linear", f"{prefix}_mlp1", out_features=2 * dim)
        b("GELU", f"{prefix}_gelu")
        b("Linear", f"{prefix}_mlp2", out_features=dim)
        x = b("Add", f"{prefix}_add2", src=[attended, b.last])
    b("LayerNorm", "ln", src=x)
    b("Select", "class_out", dim=1, index=0)
    b("Linear", "head", out_features=10)
    b.save({"epochs": 8, "optimizer": "adamw", "lr": 0.001}, {"name": "shapes"})


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    for build in (lenet5, alexnet, alexnet_cifar, vgg16, vgg16_cifar, resnet18, inception, googlenet, senet,
                  mobilenet_v2, efficientnet_b0, shufflenet_v2, se_resnet18_cifar, vit_tiny_cifar):
        build()
        print("wrote", build.__name__)
