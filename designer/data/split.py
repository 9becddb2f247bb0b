"""Holding out a validation set: a seeded, stratified split of sample indices (the exported script's)."""

from __future__ import annotations

from designer.training.portable_data import split_indices

__all__ = ["split_indices"]
