"""Shared pieces for the training tests: LeNet-5 and a small, learnable synthetic data set.

Each class is a fixed random 32×32 pattern; a sample is its class's pattern plus
noise, all drawn from seeded generators, so every run sees the same numbers.
The batch callables are deterministic functions of the epoch, as the exact
resume test needs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import torch

import designer
from designer.graph.graph import Graph

CLASSES = 10
TRAIN = 256
VAL = 128
BATCH = 32
STEPS = TRAIN // BATCH

Batches = Iterator[tuple[torch.Tensor, torch.Tensor]]


def make_set(count: int, seed: int, noise: float = 0.6) -> tuple[torch.Tensor, torch.Tensor]:
    patterns = torch.randn(CLASSES, 1, 32, 32, generator=torch.Generator().manual_seed(1234))
    generator = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, CLASSES, (count,), generator=generator)
    images = patterns[labels] + noise * torch.randn(count, 1, 32, 32, generator=generator)
    return images, labels


TRAIN_SET = make_set(TRAIN, 1)
VAL_SET = make_set(VAL, 2)


def train_batches(epoch: int) -> Batches:
    """The training set in an order that depends only on the epoch."""
    images, labels = TRAIN_SET
    order = torch.randperm(TRAIN, generator=torch.Generator().manual_seed(1000 + epoch))
    for start in range(0, TRAIN, BATCH):
        index = order[start:start + BATCH]
        yield images[index], labels[index]


def val_batches() -> Batches:
    images, labels = VAL_SET
    for start in range(0, VAL, 64):
        yield images[start:start + 64], labels[start:start + 64]


@pytest.fixture
def lenet() -> Graph:
    return designer.load("lenet5")


@pytest.fixture
def collect() -> tuple[list, Callable]:
    """A record list and the callback that fills it."""
    records: list = []
    return records, records.append
