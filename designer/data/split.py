"""Holding out a validation set: a seeded, stratified split of sample indices."""

from __future__ import annotations

import torch


def split_indices(labels: torch.Tensor, fraction: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Training and validation indices (each ascending), ``fraction`` of every class held out.

    Stratified so that small datasets keep every class in both halves: each class
    gives ``round(fraction × its count)`` samples, but always keeps one for training.
    The same labels, fraction and seed always give the same split.
    """
    labels = labels.cpu()
    n = labels.shape[0]
    if fraction <= 0 or n == 0:
        return torch.arange(n), torch.empty(0, dtype=torch.long)
    generator = torch.Generator().manual_seed(seed)
    perm = torch.randperm(n, generator=generator)
    # Group by class, keeping the random order inside each class; a sample's rank is its
    # position within its class.
    order = perm[torch.argsort(labels[perm], stable=True)]
    grouped = labels[order]
    counts = torch.bincount(grouped)
    starts = torch.cumsum(counts, 0) - counts
    rank = torch.arange(n) - starts[grouped]
    held = torch.minimum(torch.floor(counts * fraction + 0.5).long(), (counts - 1).clamp(min=0))
    is_val = rank < held[grouped]
    return order[~is_val].sort().values, order[is_val].sort().values
