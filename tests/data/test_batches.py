"""Batching by tensor indexing, batched augmentation, normalisation, resizing."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from designer.data.batches import Split, batch_count, batches
from designer.data.config import Augment
from designer.data.transforms import (
    Stats,
    augment_batch,
    channel_stats,
    grayscale_to_rgb,
    random_crop,
    resize_images,
)


def _numbered(n: int, channels: int = 1, size: int = 4) -> Split:
    """Sample i is filled with i % 256 and labelled i, so every batch can be checked by eye."""
    ids = torch.arange(n)
    images = (ids % 256).to(torch.uint8).view(n, 1, 1, 1).expand(n, channels, size, size).contiguous()
    return Split(images, ids, Stats.identity(channels))


@given(n=st.integers(1, 300), batch=st.integers(1, 64), seed=st.integers(0, 2**32))
@settings(max_examples=40, deadline=None)
def test_shuffled_epoch_covers_every_sample_once(n: int, batch: int, seed: int) -> None:
    split = _numbered(n)
    generator = torch.Generator().manual_seed(seed)
    seen = []
    for x, y in batches(split, batch, shuffle=True, generator=generator):
        assert x.dtype == torch.float32 and y.dtype == torch.int64 and len(x) <= batch
        # Pixels travel with their labels.
        assert torch.equal((x[:, 0, 0, 0] * 255).round().long(), y % 256)
        seen.append(y)
    assert sorted(torch.cat(seen).tolist()) == list(range(n))
    assert sum(1 for _ in batches(split, batch)) == batch_count(split, batch)


def test_unshuffled_order_and_drop_last() -> None:
    split = _numbered(10)
    assert [y.tolist() for _, y in batches(split, 4)] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert [len(y) for _, y in batches(split, 4, drop_last=True)] == [4, 4]
    assert batch_count(split, 4, drop_last=True) == 2
    with pytest.raises(ValueError, match="batch_size"):
        next(batches(split, 0))


def test_shuffle_is_seeded_and_changes_between_epochs() -> None:
    split = _numbered(50)

    def epoch(generator: torch.Generator) -> list[int]:
        return torch.cat([y for _, y in batches(split, 8, shuffle=True, generator=generator)]).tolist()

    a, b = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    first, again = epoch(a), epoch(b)
    assert first == again
    assert epoch(a) != first


def test_normalisation_uses_the_split_stats() -> None:
    images = torch.tensor([0, 51, 102, 255], dtype=torch.uint8).view(4, 1, 1, 1).expand(4, 2, 3, 3).contiguous()
    split = Split(images, torch.zeros(4, dtype=torch.long), Stats((0.2, 0.4), (0.5, 0.25)))
    x, _ = next(batches(split, 4))
    pixel = images[:, :, 0, 0].float() / 255
    assert torch.allclose(x[:, 0, 0, 0], (pixel[:, 0] - 0.2) / 0.5, atol=1e-6)
    assert torch.allclose(x[:, 1, 2, 2], (pixel[:, 1] - 0.4) / 0.25, atol=1e-6)


def test_float_images_and_flat_batches() -> None:
    images = torch.rand(6, 3, 2, 2)
    split = Split(images, torch.arange(6), Stats.identity(3), flatten=True)
    x, _ = next(batches(split, 6))
    assert x.shape == (6, 12) and torch.allclose(x, images.flatten(1))
    assert split.sample_shape == (12,)


def test_stats_mean_and_std_per_channel() -> None:
    images = torch.randint(0, 256, (50, 3, 5, 5), dtype=torch.uint8)
    stats = channel_stats(images)
    as_float = images.double() / 255
    mean, std = torch.tensor(stats.mean, dtype=torch.float64), torch.tensor(stats.std, dtype=torch.float64)
    assert torch.allclose(mean, as_float.mean(dim=(0, 2, 3)), atol=1e-9)
    assert torch.allclose(std, as_float.std(dim=(0, 2, 3), unbiased=False), atol=1e-9)
    flat = channel_stats(torch.full((4, 1, 2, 2), 7, dtype=torch.uint8))
    assert flat.std == (1.0,)  # a constant channel is left unscaled, not divided by zero


# -- augmentation ----------------------------------------------------------------------------


def test_random_crop_is_a_shifted_window_of_the_padded_image() -> None:
    torch.manual_seed(0)
    x = torch.randint(1, 256, (32, 2, 6, 5), dtype=torch.uint8)
    pad = 2
    out = random_crop(x, pad, torch.Generator().manual_seed(1))
    assert out.shape == x.shape and out.dtype == x.dtype
    padded = torch.nn.functional.pad(x, (pad,) * 4)
    offsets = set()
    for i in range(len(x)):
        matches = [(dy, dx) for dy in range(2 * pad + 1) for dx in range(2 * pad + 1)
                   if torch.equal(out[i], padded[i, :, dy:dy + 6, dx:dx + 5])]
        assert matches, f"sample {i} is not a crop of its padded image"
        offsets.add(matches[0])
    assert len(offsets) > 5  # offsets are drawn per sample


def test_flip_flips_some_samples_and_keeps_the_rest() -> None:
    x = torch.randint(0, 256, (64, 3, 4, 4), dtype=torch.uint8)
    out = augment_batch(x, 0, True, torch.Generator().manual_seed(0))
    flipped = torch.tensor([torch.equal(o, s.flip(2)) for o, s in zip(out, x)])
    kept = torch.tensor([torch.equal(o, s) for o, s in zip(out, x)])
    assert bool((flipped | kept).all()) and 10 < int(flipped.sum()) < 54


def test_augmentation_is_seeded_and_keeps_shapes() -> None:
    x = torch.randint(0, 256, (16, 3, 8, 8), dtype=torch.uint8)

    def run(seed: int) -> torch.Tensor:
        return augment_batch(x, 4, True, torch.Generator().manual_seed(seed))

    assert torch.equal(run(5), run(5)) and not torch.equal(run(5), run(6))
    assert run(5).shape == x.shape
    split = Split(x, torch.arange(16), Stats.identity(3))
    out = [b for b, _ in batches(split, 5, True, torch.Generator().manual_seed(0), Augment(4, True))]
    assert [tuple(b.shape) for b in out] == [(5, 3, 8, 8)] * 3 + [(1, 3, 8, 8)]


# -- whole-set transforms --------------------------------------------------------------------


def test_resize_keeps_uint8_and_constant_images() -> None:
    x = torch.full((3, 1, 8, 8), 77, dtype=torch.uint8)
    up = resize_images(x, (32, 32))
    assert up.dtype == torch.uint8 and up.shape == (3, 1, 32, 32) and up.unique().tolist() == [77]
    down = resize_images(torch.rand(2, 3, 40, 30), (10, 12))
    assert down.dtype == torch.float32 and down.shape == (2, 3, 10, 12)
    assert resize_images(x, (8, 8)) is x


def test_grayscale_to_rgb_copies_the_channel() -> None:
    x = torch.randint(0, 256, (2, 1, 3, 3), dtype=torch.uint8)
    rgb = grayscale_to_rgb(x)
    assert rgb.shape == (2, 3, 3, 3) and all(torch.equal(rgb[:, c], x[:, 0]) for c in range(3))
