"""The compiled module (``graph.to_torch()``) against the same net written by hand.

Run: ``.venv/bin/python benchmarks/compiled_vs_handwritten.py [--rounds-scale 1.0]``

Three cases, each with identical layers and identical weights on both sides:

(a) a train step (forward, backward, SGD step) of the ``alexnet-cifar`` template
    at batch 64, target ratio ≤ 1.02;
(b) the forward pass of a 200-layer chain, 100 × (Linear(64, 64) + ReLU), at
    batch 1, target ≤ 1.05;
(c) the forward pass of a small MLP (784-256-128-10) at batch 1, target ≤ 1.05.

Each case alternates the arms round by round in one process (A B C, then
C B A, ...), each sample timing a small batch of calls, and reports medians.
A third arm, a second copy of the hand-written module, is an A/A control: its
ratio to the first copy shows how far from 1.0 noise alone moves a ratio on
this machine. The reference pools the samples of both copies: the ratio is
median(compiled) / median(both copies); ``per-round`` is the median of
compiled ÷ (mean of the two copies) within each round, with its interquartile
range.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch
import torch.nn.functional as F
from torch import nn

import designer
from designer.graph.graph import Graph

# -- the hand-written modules ---------------------------------------------------------------


class AlexNetCifar(nn.Module):
    """``alexnet-cifar`` written by hand, attribute names as the compiled module's."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, kernel_size=5, padding=2)
        self.relu1 = nn.ReLU()
        self.norm1 = nn.LocalResponseNorm(5, alpha=0.0005, k=2.0)
        self.pool1 = nn.MaxPool2d(kernel_size=3, stride=2)
        self.conv2 = nn.Conv2d(64, 192, kernel_size=5, padding=2, groups=2)
        self.relu2 = nn.ReLU()
        self.norm2 = nn.LocalResponseNorm(5, alpha=0.0005, k=2.0)
        self.pool2 = nn.MaxPool2d(kernel_size=3, stride=2)
        self.conv3 = nn.Conv2d(192, 384, kernel_size=3, padding=1)
        self.relu3 = nn.ReLU()
        self.conv4 = nn.Conv2d(384, 256, kernel_size=3, padding=1, groups=2)
        self.relu4 = nn.ReLU()
        self.conv5 = nn.Conv2d(256, 256, kernel_size=3, padding=1, groups=2)
        self.relu5 = nn.ReLU()
        self.pool5 = nn.MaxPool2d(kernel_size=3, stride=2)
        self.flatten = nn.Flatten()
        self.fc6 = nn.Linear(256 * 3 * 3, 1024)
        self.relu6 = nn.ReLU()
        self.drop6 = nn.Dropout()
        self.fc7 = nn.Linear(1024, 1024)
        self.relu7 = nn.ReLU()
        self.drop7 = nn.Dropout()
        self.fc8 = nn.Linear(1024, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool1(self.norm1(self.relu1(self.conv1(x))))
        x = self.pool2(self.norm2(self.relu2(self.conv2(x))))
        x = self.relu3(self.conv3(x))
        x = self.relu4(self.conv4(x))
        x = self.pool5(self.relu5(self.conv5(x)))
        x = self.flatten(x)
        x = self.drop6(self.relu6(self.fc6(x)))
        x = self.drop7(self.relu7(self.fc7(x)))
        return self.fc8(x)


class Chain(nn.Module):
    """``depth`` × (Linear + ReLU), the way one writes a deep chain: a list and a loop."""

    def __init__(self, depth: int, width: int) -> None:
        super().__init__()
        self.fcs = nn.ModuleList(nn.Linear(width, width) for _ in range(depth))
        self.relus = nn.ModuleList(nn.ReLU() for _ in range(depth))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for fc, relu in zip(self.fcs, self.relus):
            x = relu(fc(x))
        return x


class MLP(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(784, 256)
        self.relu1 = nn.ReLU()
        self.fc2 = nn.Linear(256, 128)
        self.relu2 = nn.ReLU()
        self.fc3 = nn.Linear(128, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc3(self.relu2(self.fc2(self.relu1(self.fc1(x)))))


# -- the same nets as graphs ------------------------------------------------------------------


def dense_graph(name: str, features: int, layers: list[int]) -> Graph:
    """Input(features) then Linear(n) + ReLU for each n, without the last ReLU."""
    graph = Graph()
    graph.name = name
    previous = graph.add_node("Input", "input", {"shape": [features]}).name
    for i, width in enumerate(layers, 1):
        fc = graph.add_node("Linear", f"fc{i}", {"out_features": width}).name
        graph.connect(previous, fc)
        previous = fc
        if i < len(layers):
            relu = graph.add_node("ReLU", f"relu{i}").name
            graph.connect(previous, relu)
            previous = relu
    return graph


def chain_graph(depth: int, width: int) -> Graph:
    graph = dense_graph("chain", width, [width] * depth)
    last = graph.add_node("ReLU", f"relu{depth}").name
    graph.connect(f"fc{depth}", last)
    return graph


def copy_weights(source: nn.Module, *targets: nn.Module) -> None:
    """Copy parameters and buffers in registration order, checking every shape."""
    with torch.no_grad():
        for target in targets:
            src = list(source.parameters()) + list(source.buffers())
            dst = list(target.parameters()) + list(target.buffers())
            assert len(src) == len(dst), (len(src), len(dst))
            for p, q in zip(src, dst, strict=True):
                assert p.shape == q.shape, (p.shape, q.shape)
                q.copy_(p)


# -- timing ------------------------------------------------------------------------------------


def interleave(arms: dict[str, Callable[[], object]], rounds: int, batch: int,
               before_round: Callable[[], None] | None = None) -> dict[str, list[float]]:
    """Seconds per call of each arm: ``batch`` calls per sample, arm order reversed every round."""
    samples: dict[str, list[float]] = {name: [] for name in arms}
    names = list(arms)
    clock = time.perf_counter
    for name in names:  # warm up: allocator caches, one-time dispatch, lazy init
        for _ in range(max(3, batch)):
            arms[name]()
    gc.collect()
    for r in range(rounds):
        if before_round is not None:
            before_round()
        for name in names if r % 2 == 0 else reversed(names):
            fn = arms[name]
            start = clock()
            for _ in range(batch):
                fn()
            samples[name].append((clock() - start) / batch)
    return samples


def summarise(title: str, samples: dict[str, list[float]], target: float, unit: float = 1e3,
              unit_name: str = "ms") -> dict[str, float]:
    """Print and return the ratios; the reference pools both hand-written copies."""
    compiled, hand, copy = samples["compiled"], samples["hand"], samples["hand_copy"]
    med = {name: statistics.median(values) for name, values in samples.items()}
    reference = statistics.median(hand + copy)
    ratio = med["compiled"] / reference
    paired = [c / ((h + k) / 2) for c, h, k in zip(compiled, hand, copy)]
    control = [k / h for h, k in zip(hand, copy)]
    pq, cq = statistics.quantiles(paired, n=4), statistics.quantiles(control, n=4)
    print(f"\n{title}  ({len(compiled)} rounds per arm)")
    for name, label in (("compiled", "compiled (to_torch)"), ("hand", "hand-written"),
                        ("hand_copy", "hand-written, 2nd copy")):
        print(f"  {label:<44} median {med[name] * unit:9.3f} {unit_name}")
    for name, values in samples.items():
        if name not in ("compiled", "hand", "hand_copy"):
            print(f"  {name:<44} median {statistics.median(values) * unit:9.3f} {unit_name}"
                  f"  (÷ hand-written {statistics.median(values) / reference:.3f})")
    verdict = "ok" if ratio <= target else "MISSED"
    print(f"  compiled ÷ hand-written: {ratio:.3f} (target ≤ {target:.2f}: {verdict}); "
          f"per-round {statistics.median(paired):.3f} [IQR {pq[0]:.3f}–{pq[2]:.3f}]")
    print(f"  A/A control, 2nd copy ÷ 1st copy: {med['hand_copy'] / med['hand']:.3f}; "
          f"per-round {statistics.median(control):.3f} [IQR {cq[0]:.3f}–{cq[2]:.3f}]")
    return {"ratio": ratio, "paired": statistics.median(paired), "control": med["hand_copy"] / med["hand"]}


# -- cases -------------------------------------------------------------------------------------


def train_step_case(rounds: int) -> dict[str, float]:
    torch.manual_seed(0)
    compiled = designer.load("alexnet-cifar").to_torch()
    hand, hand_copy = AlexNetCifar(), AlexNetCifar()
    copy_weights(compiled, hand, hand_copy)
    start = {k: v.clone() for k, v in compiled.state_dict().items()}
    models = {"compiled": compiled, "hand": hand, "hand_copy": hand_copy}
    for model in models.values():
        assert model.state_dict().keys() == start.keys()
        model.load_state_dict(start)

    x = torch.randn(64, 3, 32, 32)
    y = torch.randint(0, 10, (64,))
    with torch.no_grad():
        outs = [m.eval()(x) for m in models.values()]
    assert all(torch.equal(outs[0], o) for o in outs[1:]), "the nets differ"

    def step(model: nn.Module, optimizer: torch.optim.Optimizer) -> Callable[[], object]:
        def run() -> object:
            optimizer.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(x), y)
            loss.backward()  # type: ignore[no-untyped-call]
            optimizer.step()
            return loss

        return run

    arms = {}
    for name, model in models.items():
        model.train()
        arms[name] = step(model, torch.optim.SGD(model.parameters(), lr=0.01))

    def reset() -> None:
        # Same weights before every round: both arms do the same arithmetic, and
        # no run drifts towards overflow or denormals.
        for model in models.values():
            model.load_state_dict(start)

    samples = interleave(arms, rounds, batch=1, before_round=reset)
    return summarise("(a) alexnet-cifar train step, batch 64 (forward + backward + SGD step)", samples, 1.02)


def forward_arms(models: dict[str, nn.Module], x: torch.Tensor) -> dict[str, Callable[[], object]]:
    def forward(model: nn.Module) -> Callable[[], object]:
        def run() -> object:
            with torch.no_grad():
                return model(x)

        return run

    with torch.no_grad():
        outs = [m.eval()(x) for m in models.values()]
    assert all(torch.equal(outs[0], o) for o in outs[1:]), "the nets differ"
    return {name: forward(model) for name, model in models.items()}


def chain_case(rounds: int, depth: int = 100, width: int = 64) -> dict[str, float]:
    torch.manual_seed(0)
    compiled = chain_graph(depth, width).to_torch()
    hand, hand_copy = Chain(depth, width), Chain(depth, width)
    sequential = nn.Sequential(*(m for _ in range(depth) for m in (nn.Linear(width, width), nn.ReLU())))
    copy_weights(compiled, hand, hand_copy, sequential)
    models = {"compiled": compiled, "hand": hand, "hand_copy": hand_copy,
              "hand-written as nn.Sequential": sequential}
    samples = interleave(forward_arms(models, torch.randn(1, width)), rounds, batch=10)
    return summarise(f"(b) {2 * depth}-layer chain forward, {depth} × (Linear({width}, {width}) + ReLU), "
                     "batch 1, no_grad", samples, 1.05)


def mlp_case(rounds: int) -> dict[str, float]:
    torch.manual_seed(0)
    compiled = dense_graph("mlp", 784, [256, 128, 10]).to_torch()
    hand, hand_copy = MLP(), MLP()
    copy_weights(compiled, hand, hand_copy)
    samples = interleave(forward_arms({"compiled": compiled, "hand": hand, "hand_copy": hand_copy},
                                      torch.randn(1, 784)), rounds, batch=200)
    return summarise("(c) MLP 784-256-128-10 forward, batch 1, no_grad", samples, 1.05, 1e6, "µs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds-scale", type=float, default=1.0,
                        help="multiply every case's number of rounds (0.2 for a quick look)")
    args = parser.parse_args()
    torch.set_num_threads(2)
    scale = args.rounds_scale
    print(f"compiled vs hand-written: torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"python {sys.version.split()[0]}")
    results = {
        "(a) train step": train_step_case(max(4, round(80 * scale))),
        "(b) 200-layer chain": chain_case(max(4, round(300 * scale))),
        "(c) small MLP": mlp_case(max(4, round(400 * scale))),
    }
    print(f"\n{'summary':<24} {'compiled ÷ hand':>15} {'per-round':>10} {'A/A control':>12}")
    for name, r in results.items():
        print(f"  {name:<22} {r['ratio']:>15.3f} {r['paired']:>10.3f} {r['control']:>12.3f}")


if __name__ == "__main__":
    main()
