"""The reference models are torchvision's networks: counts, keys, shapes, traceability and ops semantics.

The ImageNet-sized models are built on ``device="meta"`` (no memory, no arithmetic) for their parameter counts,
their 224×224 output shapes and their fx traces; real forwards run at num_classes=10 on small inputs, and
compare the traced GraphModule with the eager module so the importer can rely on the trace.
"""

import functools
import typing
from collections.abc import Callable

import pytest
import torch
from torch import nn

from tests.models import ops
from tests.models.convnext import CNBlockConfig, ConvNeXt, convnext_tiny
from tests.models.efficientnet import EfficientNet, efficientnet_b0
from tests.models.googlenet import GoogLeNet, GoogLeNetOutputs, googlenet
from tests.models.mnasnet import MNASNet, mnasnet1_0
from tests.models.mobilenetv2 import MobileNetV2, mobilenet_v2
from tests.models.mobilenetv3 import MobileNetV3, mobilenet_v3_large, mobilenet_v3_small
from tests.models.regnet import RegNet, regnet_y_400mf
from tests.models.senet import SEResNet, se_resnet50
from tests.models.shufflenetv2 import ShuffleNetV2, shufflenet_v2_x1_0
from tests.models.vit import VisionTransformer, vit_b_16

# name: (factory, its keyword arguments, torchvision's parameter count at 1,000 classes)
MODELS: dict[str, tuple[Callable[..., nn.Module], dict[str, typing.Any], int]] = {
    "mobilenet_v2": (mobilenet_v2, {}, 3_504_872),
    "mobilenet_v3_small": (mobilenet_v3_small, {}, 2_542_856),
    "mobilenet_v3_large": (mobilenet_v3_large, {}, 5_483_032),
    "shufflenet_v2_x1_0": (shufflenet_v2_x1_0, {}, 2_278_604),
    "efficientnet_b0": (efficientnet_b0, {}, 5_288_548),
    "mnasnet1_0": (mnasnet1_0, {}, 4_383_312),
    "regnet_y_400mf": (regnet_y_400mf, {}, 4_344_144),
    "convnext_tiny": (convnext_tiny, {}, 28_589_128),
    "vit_b_16": (vit_b_16, {}, 86_567_656),
    "googlenet": (googlenet, {"aux_logits": False}, 6_624_904),
    "googlenet_aux": (googlenet, {"aux_logits": True}, 13_004_888),
    # Not in torchvision: ResNet-50's 25,557,032 plus 2,530,992 for the SE gates (see tests/models/senet.py).
    "se_resnet50": (se_resnet50, {}, 28_088_024),
}

FACTORY_CLASSES = [(mobilenet_v2, MobileNetV2), (mobilenet_v3_small, MobileNetV3),
                   (mobilenet_v3_large, MobileNetV3), (shufflenet_v2_x1_0, ShuffleNetV2),
                   (efficientnet_b0, EfficientNet), (mnasnet1_0, MNASNet), (regnet_y_400mf, RegNet),
                   (convnext_tiny, ConvNeXt), (vit_b_16, VisionTransformer), (googlenet, GoogLeNet),
                   (se_resnet50, SEResNet)]

# A few state_dict keys (and shapes) exactly as torchvision names them, across each model's hierarchy.
KEYS: dict[str, dict[str, tuple[int, ...]]] = {
    "mobilenet_v2": {"features.0.0.weight": (32, 3, 3, 3), "features.1.conv.0.0.weight": (32, 1, 3, 3),
                     "features.1.conv.1.weight": (16, 32, 1, 1), "features.2.conv.0.0.weight": (96, 16, 1, 1),
                     "features.2.conv.3.running_var": (24,), "features.18.0.weight": (1280, 320, 1, 1),
                     "classifier.1.weight": (1000, 1280)},
    "mobilenet_v3_small": {"features.1.block.0.0.weight": (16, 1, 3, 3),
                           "features.1.block.1.fc1.weight": (8, 16, 1, 1), "features.4.block.2.fc2.bias": (96,),
                           "features.12.0.weight": (576, 96, 1, 1),
                           "classifier.0.weight": (1024, 576), "classifier.3.weight": (1000, 1024)},
    "shufflenet_v2_x1_0": {"conv1.0.weight": (24, 3, 3, 3), "stage2.0.branch1.0.weight": (24, 1, 3, 3),
                           "stage2.1.branch2.0.weight": (58, 58, 1, 1),
                           "stage4.3.branch2.6.running_mean": (232,),
                           "conv5.0.weight": (1024, 464, 1, 1), "fc.weight": (1000, 1024)},
    "efficientnet_b0": {"features.1.0.block.0.0.weight": (32, 1, 3, 3),
                        "features.1.0.block.1.fc1.weight": (8, 32, 1, 1),
                        "features.2.0.block.2.fc1.weight": (4, 96, 1, 1),
                        "features.7.0.block.3.0.weight": (320, 1152, 1, 1),
                        "features.8.0.weight": (1280, 320, 1, 1), "classifier.1.weight": (1000, 1280)},
    "mnasnet1_0": {"layers.0.weight": (32, 3, 3, 3), "layers.6.weight": (16, 32, 1, 1),
                   "layers.8.0.layers.0.weight": (48, 16, 1, 1), "layers.13.0.layers.7.running_var": (320,),
                   "layers.14.weight": (1280, 320, 1, 1), "classifier.1.weight": (1000, 1280)},
    "regnet_y_400mf": {"stem.0.weight": (32, 3, 3, 3),
                       "trunk_output.block1.block1-0.proj.0.weight": (48, 32, 1, 1),
                       "trunk_output.block1.block1-0.f.b.0.weight": (48, 8, 3, 3),
                       "trunk_output.block1.block1-0.f.se.fc1.weight": (8, 48, 1, 1),
                       "trunk_output.block4.block4-5.f.c.1.running_var": (440,), "fc.weight": (1000, 440)},
    "convnext_tiny": {"features.0.0.weight": (96, 3, 4, 4), "features.0.1.weight": (96,),
                      "features.1.0.layer_scale": (96, 1, 1), "features.1.0.block.0.weight": (96, 1, 7, 7),
                      "features.1.0.block.2.weight": (96,), "features.1.0.block.3.weight": (384, 96),
                      "features.2.1.weight": (192, 96, 2, 2), "features.5.8.block.5.bias": (384,),
                      "classifier.0.weight": (768,), "classifier.2.weight": (1000, 768)},
    "vit_b_16": {"class_token": (1, 1, 768), "conv_proj.weight": (768, 3, 16, 16),
                 "encoder.pos_embedding": (1, 197, 768),
                 "encoder.layers.encoder_layer_0.self_attention.in_proj_weight": (2304, 768),
                 "encoder.layers.encoder_layer_0.self_attention.out_proj.weight": (768, 768),
                 "encoder.layers.encoder_layer_11.mlp.0.weight": (3072, 768),
                 "encoder.layers.encoder_layer_11.mlp.3.bias": (768,), "encoder.ln.weight": (768,),
                 "heads.head.weight": (1000, 768)},
    "googlenet_aux": {"conv1.conv.weight": (64, 3, 7, 7), "conv1.bn.running_mean": (64,),
                      "inception3a.branch2.1.conv.weight": (128, 96, 3, 3),
                      "inception5b.branch3.1.conv.weight": (128, 48, 3, 3),
                      "inception4e.branch4.1.bn.weight": (128,), "aux1.conv.conv.weight": (128, 512, 1, 1),
                      "aux2.fc1.weight": (1024, 2048), "aux2.fc2.bias": (1000,), "fc.weight": (1000, 1024)},
    "se_resnet50": {"conv1.weight": (64, 3, 7, 7), "layer1.0.downsample.0.weight": (256, 64, 1, 1),
                    "layer1.0.se.fc1.weight": (16, 256, 1, 1), "layer3.5.conv2.weight": (256, 256, 3, 3),
                    "layer4.2.se.fc2.bias": (2048,), "fc.weight": (1000, 2048)},
}


@functools.cache
def meta_model(name: str) -> nn.Module:
    """The model at 1,000 classes on the meta device, in eval mode (built once; the tests only read it)."""
    factory, kwargs, _ = MODELS[name]
    with torch.device("meta"):
        return factory(**kwargs).eval()


@pytest.mark.parametrize("name", MODELS)
def test_parameter_count_is_torchvisions(name: str) -> None:
    assert sum(p.numel() for p in meta_model(name).parameters()) == MODELS[name][2]


@pytest.mark.parametrize("name", KEYS)
def test_state_dict_keys_are_torchvisions(name: str) -> None:
    state = meta_model(name).state_dict()
    assert {key: tuple(state[key].shape) for key in KEYS[name] if key in state} == KEYS[name]


@pytest.mark.parametrize("name", MODELS)
def test_imagenet_output_shape(name: str) -> None:
    assert meta_model(name)(torch.empty(2, 3, 224, 224, device="meta")).shape == (2, 1000)


@pytest.mark.parametrize("name", MODELS)
def test_symbolic_trace_in_eval_mode(name: str) -> None:
    traced = torch.fx.symbolic_trace(meta_model(name))
    traced.graph.lint()
    assert [node.op for node in traced.graph.nodes].count("output") == 1


@pytest.mark.parametrize(("factory", "cls"), FACTORY_CLASSES, ids=[f.__name__ for f, _ in FACTORY_CLASSES])
def test_factory_is_annotated_with_its_class(factory: Callable[..., nn.Module], cls: type) -> None:
    assert typing.get_type_hints(factory)["return"] is cls
    assert issubclass(cls, nn.Module)


def test_factories_refuse_pretrained_weights() -> None:
    with pytest.raises(ValueError, match="no pretrained weights"):
        mobilenet_v2(weights="IMAGENET1K_V1")


# -- real forwards ---------------------------------------------------------------------------------------------

# The CNNs at 10 classes; the two widest in narrower or shallower configurations of the same classes.
SMALL: dict[str, Callable[[], nn.Module]] = {
    "mobilenet_v2": lambda: mobilenet_v2(num_classes=10),
    "mobilenet_v3_small": lambda: mobilenet_v3_small(num_classes=10),
    "shufflenet_v2_x1_0": lambda: shufflenet_v2_x1_0(num_classes=10),
    "efficientnet_b0": lambda: efficientnet_b0(num_classes=10),
    "mnasnet1_0": lambda: mnasnet1_0(num_classes=10),
    "regnet_y_400mf": lambda: regnet_y_400mf(num_classes=10),
    "convnext": lambda: ConvNeXt([CNBlockConfig(24, 48, 2), CNBlockConfig(48, None, 2)], 0.1, num_classes=10),
    "googlenet": lambda: googlenet(aux_logits=False, num_classes=10, init_weights=False),
    "se_resnet": lambda: SEResNet([1, 1, 1, 1], num_classes=10),
}


@pytest.mark.parametrize("name", SMALL)
def test_real_forward_and_trace_agree(name: str) -> None:
    torch.manual_seed(0)
    model = SMALL[name]().eval()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        eager = model(x)
        traced = torch.fx.symbolic_trace(model)(x)
    assert eager.shape == (2, 10)
    assert torch.isfinite(eager).all()
    torch.testing.assert_close(traced, eager, rtol=0, atol=0)


def small_vit(**kwargs: typing.Any) -> VisionTransformer:
    return VisionTransformer(image_size=224, patch_size=16, num_layers=2, num_heads=3, hidden_dim=48,
                             mlp_dim=96, num_classes=10, **kwargs)


def test_vit_real_forward_at_224_and_trace_agree() -> None:
    torch.manual_seed(0)
    model = small_vit().eval()
    nn.init.normal_(model.heads.head.weight)  # torchvision starts it at zero, which would compare trivially
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        eager = model(x)
        traced = torch.fx.symbolic_trace(model)(x)
    assert eager.shape == (2, 10)
    assert eager.abs().sum() > 0
    torch.testing.assert_close(traced, eager, rtol=0, atol=0)


def test_vit_asserts_the_image_size() -> None:
    with pytest.raises(AssertionError, match="Wrong image height! Expected 224 but got 192!"):
        small_vit()(torch.randn(1, 3, 192, 224))


def test_vit_trace_keeps_the_size_asserts() -> None:
    traced = torch.fx.symbolic_trace(small_vit().eval())
    asserts = [node for node in traced.graph.nodes if node.target is torch._assert]
    assert len(asserts) == 2 + 1 + 2  # height and width, the encoder's rank, each layer's rank


def test_googlenet_train_mode_returns_three_outputs_in_torchvisions_order() -> None:
    torch.manual_seed(0)
    model = googlenet(aux_logits=True, num_classes=10, init_weights=False).train()
    heads: dict[str, torch.Tensor] = {}
    for name in ("aux1", "aux2"):
        getattr(model, name).register_forward_hook(lambda _m, _i, out, name=name: heads.__setitem__(name, out))
    outputs = model(torch.randn(2, 3, 64, 64))
    assert isinstance(outputs, GoogLeNetOutputs)
    assert outputs._fields == ("logits", "aux_logits2", "aux_logits1")
    assert [tuple(t.shape) for t in outputs] == [(2, 10)] * 3
    # torchvision's crosswise order: the field aux_logits2 holds aux1's output (the head after inception4a).
    assert outputs.aux_logits2 is heads["aux1"]
    assert outputs.aux_logits1 is heads["aux2"]


def test_googlenet_eval_mode_and_no_aux_return_the_logits() -> None:
    x = torch.randn(2, 3, 64, 64)
    with_aux = googlenet(aux_logits=True, num_classes=10, init_weights=False)
    with torch.no_grad():
        assert isinstance(with_aux.eval()(x), torch.Tensor)
    with_aux.aux_logits = False  # what torchvision's googlenet() does to drop the heads after loading weights
    assert isinstance(with_aux.train()(x), torch.Tensor)


def test_googlenet_transform_input_maps_imagenet_normalisation_to_the_ported_weights_range() -> None:
    model = googlenet(aux_logits=False, transform_input=True, init_weights=False)
    image = torch.rand(2, 3, 4, 4)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    torch.testing.assert_close(model._transform_input((image - mean) / std), (image - 0.5) / 0.5)


# -- ops -------------------------------------------------------------------------------------------------------


def test_ops_report_torchvisions_qualified_names() -> None:
    assert (ops.stochastic_depth.__module__, ops.stochastic_depth.__qualname__) == (
        "torchvision.ops.stochastic_depth", "stochastic_depth")
    assert ops.StochasticDepth.__module__ == "torchvision.ops.stochastic_depth"
    for cls in (ops.Conv2dNormActivation, ops.SqueezeExcitation, ops.Permute, ops.MLP):
        assert cls.__module__ == "torchvision.ops.misc"


@pytest.mark.parametrize("name", ["efficientnet_b0", "convnext_tiny"])
def test_stochastic_depth_is_one_fx_leaf_call(name: str) -> None:
    traced = torch.fx.symbolic_trace(meta_model(name))
    calls = [node for node in traced.graph.nodes
             if node.op == "call_function" and node.target is ops.stochastic_depth]
    assert len(calls) == {"efficientnet_b0": 9, "convnext_tiny": 18}[name]  # one per residual block
    assert all(node.args[2:] == ("row", False) for node in calls)  # in eval mode: training=False


def test_stochastic_depth_is_the_identity_when_not_training_or_p_is_zero() -> None:
    x = torch.randn(4, 3)
    assert ops.stochastic_depth(x, 0.5, "row", training=False) is x
    assert ops.stochastic_depth(x, 0.0, "batch") is x
    assert ops.StochasticDepth(0.9, "row").eval()(x) is x


def test_stochastic_depth_row_mode_drops_whole_samples_and_rescales() -> None:
    torch.manual_seed(0)
    out = ops.stochastic_depth(torch.ones(2000, 3, 2), 0.25, "row")
    per_sample = out.flatten(1)
    assert (per_sample == per_sample[:, :1]).all()  # one draw per sample
    assert per_sample[:, 0].unique().tolist() == [0.0, pytest.approx(1 / 0.75)]
    assert 0.70 < (per_sample[:, 0] > 0).float().mean() < 0.80  # survival rate 1 - p


def test_stochastic_depth_batch_mode_drops_the_whole_batch() -> None:
    torch.manual_seed(0)
    draws = {tuple(ops.stochastic_depth(torch.ones(8, 3), 0.5, "batch").unique().tolist()) for _ in range(50)}
    assert draws == {(0.0,), (2.0,)}


def test_stochastic_depth_with_p_one_zeroes_everything() -> None:
    assert not ops.stochastic_depth(torch.ones(5, 2), 1.0, "row").any()


@pytest.mark.parametrize(("p", "mode", "message"), [
    (1.5, "row", "drop probability has to be between 0 and 1, but got 1.5"),
    (0.5, "column", "mode has to be either 'batch' or 'row', but got column"),
])
def test_stochastic_depth_refuses_bad_arguments(p: float, mode: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ops.stochastic_depth(torch.ones(2, 2), p, mode)


def test_squeeze_excitation_scales_each_channel_by_its_gate() -> None:
    torch.manual_seed(0)
    se = ops.SqueezeExcitation(8, 2)
    x = torch.randn(2, 8, 5, 5)
    gate = torch.sigmoid(se.fc2(torch.relu(se.fc1(x.mean((2, 3), keepdim=True)))))
    torch.testing.assert_close(se(x), gate * x)


def test_conv2d_norm_activation_has_a_bias_only_without_norm() -> None:
    with_norm = ops.Conv2dNormActivation(3, 4)
    without = ops.Conv2dNormActivation(3, 4, kernel_size=5, norm_layer=None, activation_layer=None)
    assert [type(m) for m in with_norm] == [nn.Conv2d, nn.BatchNorm2d, nn.ReLU]
    assert with_norm[0].bias is None and with_norm[0].padding == (1, 1)
    assert [type(m) for m in without] == [nn.Conv2d]
    assert without[0].bias is not None and without[0].padding == (2, 2)


def test_mlp_layers() -> None:
    mlp = ops.MLP(4, [8, 4], activation_layer=nn.GELU, dropout=0.1)
    assert [type(m) for m in mlp] == [nn.Linear, nn.GELU, nn.Dropout, nn.Linear, nn.Dropout]
    assert ops.Permute([0, 2, 1])(torch.zeros(1, 2, 3)).shape == (1, 3, 2)
