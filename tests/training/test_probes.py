"""Per-block statistics: what the hooks measure, how often the trainer samples them, where they go."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

import designer
from designer.data import DatasetConfig
from designer.graph.compile import plan
from designer.graph.graph import Graph
from designer.training import TrainingConfig
from designer.training.jobs import start_job
from designer.training.probes import Probes
from designer.training.records import NodeStats


def small_net() -> Graph:
    graph = Graph()
    graph.add_node("Input", "input", {"shape": [1, 8, 8]})
    for name, kind, params in [("conv", "Conv2d", {"out_channels": 4, "kernel_size": [3, 3]}),
                               ("relu", "ReLU", {}), ("flat", "Flatten", {}),
                               ("fc", "Linear", {"out_features": 3})]:
        graph.add_node(kind, name, params)
        graph.connect(graph.topological_order()[-2], name)
    return graph


def test_the_hooks_measure_what_the_layers_output_and_their_gradients():
    torch.manual_seed(0)
    graph = small_net()
    model = graph.to_torch()
    probes = Probes(graph, model, every=1)
    x = torch.randn(5, 1, 8, 8)
    probes.armed = True
    model(x).pow(2).sum().backward()
    stats = probes.collect(step=1).stats
    layers = dict(model.named_children())
    idents = plan(graph).idents
    conv_out = layers[idents["conv"]](x)
    relu_out = torch.relu(conv_out)
    assert set(stats) == {"conv", "relu", "flat", "fc"}  # the Input is an argument, not a layer
    assert stats["relu"]["mean"] == pytest.approx(relu_out.mean().item(), rel=1e-5)
    assert stats["relu"]["std"] == pytest.approx(relu_out.std().item(), rel=1e-5)
    assert stats["relu"]["zeros"] == pytest.approx((relu_out == 0).float().mean().item())
    assert 0.2 < stats["relu"]["zeros"] < 0.8  # random weights: about half the units are off
    conv = layers[idents["conv"]]
    expected = torch.cat([conv.weight.grad.flatten(), conv.bias.grad.flatten()]).norm().item()
    assert stats["conv"]["grad_norm"] == pytest.approx(expected, rel=1e-5)
    assert stats["relu"]["grad_norm"] is None  # no parameters
    probes.armed = False
    model(x)
    assert probes.collect(step=2).stats == {}  # unarmed steps measure nothing
    probes.remove()


def test_the_trainer_samples_every_n_steps_into_the_records_and_the_metrics_file(tmp_path: Path):
    config = TrainingConfig(batch_size=64, epochs=1, stats_every=7, log_every=5)
    job = start_job(designer.load("lenet5"), DatasetConfig(), config, root=tmp_path)
    samples = [r for r in job.records() if isinstance(r, NodeStats)]
    steps = job.trainer.session.step
    assert [s.step for s in samples] == [1, *range(7, steps + 1, 7)]
    assert {"c1", "tanh1", "f6", "output"} <= set(samples[-1].stats)
    assert all(-1 <= s.stats["tanh1"]["mean"] <= 1 for s in samples)
    metrics = Path(job.result().run_dir) / "metrics.jsonl"
    lines = [json.loads(line) for line in metrics.read_text().splitlines()]
    assert sum(1 for line in lines if line["kind"] == "node_stats") == len(samples)


def test_no_samples_when_turned_off(tmp_path: Path):
    config = TrainingConfig(batch_size=128, epochs=1, stats_every=0)
    job = start_job(designer.load("lenet5"), DatasetConfig(), config, root=tmp_path)
    assert not any(isinstance(r, NodeStats) for r in job.records())
