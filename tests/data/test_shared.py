"""The engine's data layer and the exported script share one implementation.

designer/training/portable_data.py (and portable.py) are copied beside an
exported train.py; the engine's modules call them rather than keep copies, so a
fix in one reaches both. These tests pin that the engine's public names are the
shared functions, and that the shared functions say the engine's words.
"""

from __future__ import annotations

import pytest

from designer.data import builtin, split, transforms
from designer.training import portable, portable_data


@pytest.mark.parametrize(("engine", "shared"), [
    (transforms.augment_batch, portable.augment_batch),
    (transforms.random_crop, portable.random_crop),
    (transforms.resize_images, portable_data.resize_images),
    (transforms.pixel_scale, portable_data.pixel_scale),
    (transforms.chunk_rows, portable_data.chunk_rows),
    (transforms.grayscale_to_rgb, portable_data.grayscale_to_rgb),
    (split.split_indices, portable_data.split_indices),
])
def test_the_engines_transforms_are_the_shared_ones(engine, shared):
    assert engine is shared


def test_the_shapes_are_drawn_by_the_shared_code():
    raw = builtin.make_shapes(40, seed=5, size=(12, 10))
    images, labels = portable_data.make_shapes(40, 5, (12, 10))
    assert raw.train.images.equal(images) and raw.train.labels.equal(labels)
    assert builtin.SHAPE_NAMES == portable_data.SHAPE_NAMES
