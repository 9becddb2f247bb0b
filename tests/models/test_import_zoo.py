"""The modern networks of issue 12, written as torchvision writes them, import exactly.

For each: the imported graph has the original's parameter count, gives identical eval outputs with the
original's (random) weights, infers every layer's shape as the model computes it (the importer checks
that itself and refuses otherwise), and counts MACs equal to ``flop_counter`` / 2. The FLOPs are
counted on ``meta``: on the CPU in eval mode, attention's fused fast path hides its matmuls from the
counter.
"""

from __future__ import annotations

import copy
import importlib

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from designer import export
from designer.graph.importer import import_model
from designer.graph.model_loader import ModelImportError
from designer.graph.summary import totals

# module, factory, constructor arguments, image size (ViT's patch arithmetic asserts 224)
ZOO = [
    ("mobilenetv2", "mobilenet_v2", {}, 64),
    ("mobilenetv3", "mobilenet_v3_small", {}, 64),
    ("shufflenetv2", "shufflenet_v2_x1_0", {}, 64),
    ("efficientnet", "efficientnet_b0", {}, 64),
    ("mnasnet", "mnasnet1_0", {}, 64),
    ("regnet", "regnet_y_400mf", {}, 64),
    ("convnext", "convnext_tiny", {}, 64),
    ("vit", "vit_b_16", {}, 224),
    ("googlenet", "googlenet", {"aux_logits": False}, 64),
    ("senet", "se_resnet50", {}, 64),
]


def reference(module: str, factory: str, kwargs: dict[str, object]) -> torch.nn.Module:
    torch.manual_seed(0)
    model = getattr(importlib.import_module(f"tests.models.{module}"), factory)(**kwargs)
    with torch.no_grad():  # torchvision's init zeroes some heads: random weights make the outputs tell
        for p in model.parameters():
            p.normal_(0, 0.05)
    return model.eval()


def macs_on_meta(model: torch.nn.Module, size: int) -> int:
    meta = copy.deepcopy(model).to("meta")
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        meta(torch.empty(1, 3, size, size, device="meta"))
    return counter.get_total_flops() // 2


@pytest.mark.parametrize(("module", "factory", "kwargs", "size"), ZOO, ids=[z[1] for z in ZOO])
def test_a_modern_network_imports_exactly(module, factory, kwargs, size):
    model = reference(module, factory, kwargs)
    imported = import_model(model, (3, size, size), factory)
    graph = imported.graph
    assert graph.errors() == []
    assert totals(graph)["params"] == sum(p.numel() for p in model.parameters())
    compiled = export.model_with_weights(graph, imported.state_dict)
    x = torch.randn(2, 3, size, size, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert torch.equal(compiled(x), model(x))
    assert totals(graph)["macs"] == macs_on_meta(model, size)


def test_googlenet_with_aux_heads_in_training_mode_is_refused_naming_the_switch():
    model = reference("googlenet", "googlenet", {"aux_logits": True}).train()
    with pytest.raises(ModelImportError) as caught:
        import_model(model, (3, 224, 224), "googlenet")
    assert str(caught.value) == (
        "GoogLeNet returns 3 outputs in training mode (GoogLeNetOutputs(logits, aux_logits2, aux_logits1)), "
        "and a graph is trained on one: build it with aux_logits=False (--args '{\"aux_logits\": false}')")
