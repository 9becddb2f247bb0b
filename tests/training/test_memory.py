"""The training-memory estimate, checked against a hand computation for LeNet-5."""

from __future__ import annotations

import subprocess
import sys

import pytest

import designer
from designer.graph.machine import format_bytes
from designer.training.config import TrainingConfig
from designer.training.memory import MemoryEstimate, estimate_memory, optimizer_slots

# LeNet-5 by hand: conv 6·(1·5·5)+6, conv 16·(6·5·5)+16, linear 120·400+120, 84·120+84, 10·84+10
LENET_PARAMS = 156 + 2_416 + 48_120 + 10_164 + 850
# outputs per sample: input 1·32·32, c1 and tanh 6·28·28 each, pool 6·14·14, c3 and tanh 16·10·10 each,
# pool and flatten 400 each, c5 and tanh 120 each, f6 and tanh 84 each, output 10
LENET_VALUES = 1_024 + 2 * 4_704 + 1_176 + 2 * 1_600 + 2 * 400 + 2 * 120 + 2 * 84 + 10


def test_lenet5_with_sgd_momentum_in_fp32_matches_the_hand_computation():
    assert LENET_PARAMS == 61_706 and LENET_VALUES == 16_026
    estimate = estimate_memory(designer.load("lenet5"), TrainingConfig(batch_size=64, momentum=0.9))
    assert estimate == MemoryEstimate(params=LENET_PARAMS * 4, grads=LENET_PARAMS * 4,
                                      optimizer=LENET_PARAMS * 4, activations=LENET_VALUES * 64 * 4)
    assert estimate.total == 4_843_128
    assert estimate.text() == "≈ 4.84 MB (params 247 kB, grads 247 kB, optimizer 247 kB, activations 4.1 MB)"


def test_adam_keeps_two_buffers_and_half_precision_halves_the_activations():
    estimate = estimate_memory(designer.load("lenet5"),
                               TrainingConfig(optimizer="adam", batch_size=32, precision="bf16"))
    assert estimate.optimizer == 2 * LENET_PARAMS * 4
    assert estimate.activations == LENET_VALUES * 32 * 2
    assert estimate.params == estimate.grads == LENET_PARAMS * 4  # weights stay float32 under autocast


@pytest.mark.parametrize(("optimizer", "momentum", "slots"), [
    ("sgd", 0.0, 0), ("sgd", 0.9, 1), ("adam", 0.9, 2), ("adamw", 0.0, 2), ("rmsprop", 0.0, 1),
    ("rmsprop", 0.5, 2),
])
def test_optimizer_state_per_parameter(optimizer, momentum, slots):
    assert optimizer_slots(optimizer, momentum) == slots


def test_blocks_in_error_count_as_nothing():
    graph = designer.load("lenet5")
    graph.set_params("c1", {"kernel_size": 40})  # larger than the 32×32 input: c1 and all after it fail
    estimate = estimate_memory(graph, TrainingConfig(batch_size=1))
    assert estimate.params == 0 and estimate.activations == 1_024 * 4  # the input alone


def test_format_bytes():
    assert [format_bytes(n) for n in (0, 950, 1_000, 246_824, 4_843_128, 12_300_000_000)] == [
        "0 B", "950 B", "1 kB", "247 kB", "4.84 MB", "12.3 GB"]


def test_the_estimate_needs_no_torch():
    # the editor shows it before training starts, without paying for torch
    code = ("import sys, designer; from designer.training.memory import estimate_memory;"
            "from designer.training.config import TrainingConfig;"
            "estimate_memory(designer.load('lenet5'), TrainingConfig()); assert 'torch' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
