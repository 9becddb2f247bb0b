"""Importing modern networks in-process: trace, run once, map, build, lay out (issue 12: EfficientNet-B0 ≤ 2 s).

Run: ``.venv/bin/python benchmarks/import_models.py [--rounds 5]``

The networks are the reference definitions in ``tests/models`` (written from the papers as torchvision
writes them), in eval mode, at 3×224×224. Each round imports every network once, in an order reversed
every other round; the report gives the median and the fastest of the rounds, and, as a reference
from the same run, the model's own eval forward pass at batch 2 (the importer runs it once on zeros),
so the ratio says how much of an import is the model's own computation.
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch

from designer.graph.importer import import_model

NETWORKS = [
    ("mobilenetv2", "mobilenet_v2", {}),
    ("efficientnet", "efficientnet_b0", {}),
    ("shufflenetv2", "shufflenet_v2_x1_0", {}),
    ("regnet", "regnet_y_400mf", {}),
    ("convnext", "convnext_tiny", {}),
    ("googlenet", "googlenet", {"aux_logits": False}),
    ("senet", "se_resnet50", {}),
    ("vit", "vit_b_16", {}),
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(2)
    models = {factory: getattr(importlib.import_module(f"tests.models.{module}"), factory)(**kwargs).eval()
              for module, factory, kwargs in NETWORKS}
    x = torch.zeros(2, 3, 224, 224)
    import_model(models["mobilenet_v2"], (3, 224, 224))  # warm-up: the first trace imports torch.fx's parts
    imports: dict[str, list[float]] = {name: [] for name in models}
    forwards: dict[str, list[float]] = {name: [] for name in models}
    for round_ in range(args.rounds):
        order = list(models) if round_ % 2 == 0 else list(reversed(models))
        for name in order:
            start = time.perf_counter()
            with torch.no_grad():
                models[name](x)
            forwards[name].append(time.perf_counter() - start)
            start = time.perf_counter()
            import_model(models[name], (3, 224, 224), name)
            imports[name].append(time.perf_counter() - start)
    print(f"{'network':22} {'import median':>14} {'fastest':>8} {'forward':>8} {'÷ forward':>10}")
    for name in models:
        median, forward = statistics.median(imports[name]), statistics.median(forwards[name])
        print(f"{name:22} {median:13.2f}s {min(imports[name]):7.2f}s {forward:7.2f}s {median / forward:10.1f}")


if __name__ == "__main__":
    main()
