"""The seeded, stratified validation split."""

from __future__ import annotations

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from designer.data.split import split_indices


@given(labels=st.lists(st.integers(0, 6), min_size=1, max_size=200), fraction=st.floats(0.0, 0.95),
       seed=st.integers(0, 1000))
@settings(max_examples=60, deadline=None)
def test_split_is_a_stratified_partition(labels: list[int], fraction: float, seed: int) -> None:
    y = torch.tensor(labels)
    train, val = split_indices(y, fraction, seed)
    both = torch.cat([train, val]).sort().values
    assert torch.equal(both, torch.arange(len(labels)))
    for c in set(labels):
        count = labels.count(c)
        held = int((y[val] == c).sum())
        assert held == min(int(count * fraction + 0.5), count - 1)
        assert int((y[train] == c).sum()) >= 1  # every class keeps a training sample


def test_split_is_seeded() -> None:
    y = torch.arange(1000) % 10
    a = split_indices(y, 0.2, seed=1)
    assert all(torch.equal(p, q) for p, q in zip(a, split_indices(y, 0.2, seed=1)))
    assert not torch.equal(a[1], split_indices(y, 0.2, seed=2)[1])
    assert len(a[1]) == 200 and torch.equal(torch.bincount(y[a[1]]), torch.full((10,), 20))


def test_zero_fraction_holds_nothing_out() -> None:
    train, val = split_indices(torch.zeros(5, dtype=torch.long), 0.0, 0)
    assert train.tolist() == [0, 1, 2, 3, 4] and val.numel() == 0
