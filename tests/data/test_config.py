"""Dataset descriptions as they live in project files: round trips and errors that name the key."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from designer.data.config import Augment, DatasetConfig
from designer.data.errors import DataConfigError
from designer.graph.errors import GraphError

EXAMPLES = [
    {"name": "digits"},
    {"name": "shapes", "samples": 5000, "seed": 0},
    {"name": "cifar10", "path": "/data/cifar-10-python.tar.gz"},
    {"name": "mnist", "path": "/data/mnist"},
    {"name": "folder", "path": "photos", "validation": 0.2, "augment": {"crop_padding": 4, "hflip": True}},
    {"name": "npz", "path": "x.npz", "validation": "given", "normalize": False, "grayscale_to_rgb": True},
]


@pytest.mark.parametrize("data", EXAMPLES, ids=[e["name"] for e in EXAMPLES])
def test_examples_round_trip(data: dict[str, Any]) -> None:
    config = DatasetConfig.from_json(data)
    again = DatasetConfig.from_json(json.loads(json.dumps(config.to_json())))
    assert again == config


def test_defaults_and_compact_json() -> None:
    config = DatasetConfig.from_json({})
    assert config.name == "digits" and config.validation is None and config.normalize
    assert config.to_json() == {"name": "digits"}
    assert DatasetConfig.from_json({"name": "shapes", "seed": 0}).to_json() == {"name": "shapes"}
    assert DatasetConfig.from_json({"name": "Fashion-MNIST", "path": "f"}).name == "fashion_mnist"


@given(samples=st.one_of(st.none(), st.integers(1, 10**6)), seed=st.integers(0, 2**40),
       validation=st.one_of(st.none(), st.just("given"), st.floats(0, 0.99)),
       padding=st.integers(0, 64), flip=st.booleans(), normalize=st.booleans(), gray=st.booleans())
def test_any_valid_config_round_trips(samples: int | None, seed: int, validation: Any, padding: int,
                                      flip: bool, normalize: bool, gray: bool) -> None:
    config = DatasetConfig("shapes", None, samples, seed, validation, normalize, Augment(padding, flip), gray)
    assert DatasetConfig.from_json(json.loads(json.dumps(config.to_json()))) == config


BAD = [
    ({"name": "imagenet"}, "name", "unknown dataset 'imagenet'"),
    ({"name": 3}, "name", "must be a string"),
    ({"name": "digits", "colour": 1}, "colour", "unknown option"),
    ({"name": "cifar10"}, "path", "needs the path"),
    ({"name": "cifar10", "path": "  "}, "path", "needs the path"),
    ({"name": "digits", "path": "x"}, "path", "built in and takes no path"),
    ({"name": "digits", "samples": 10}, "samples", "only 'shapes'"),
    ({"name": "shapes", "samples": 0}, "samples", "between 1"),
    ({"name": "shapes", "samples": True}, "samples", "whole number"),
    ({"seed": -1}, "seed", "between 0"),
    ({"seed": 1.5}, "seed", "whole number"),
    ({"validation": 1.0}, "validation", "fraction"),
    ({"validation": "test"}, "validation", "fraction"),
    ({"validation": True}, "validation", "fraction"),
    ({"normalize": "yes"}, "normalize", "true or false"),
    ({"grayscale_to_rgb": 1}, "grayscale_to_rgb", "true or false"),
    ({"augment": True}, "augment", "must be an object"),
    ({"augment": {"crop_padding": -1}}, "augment.crop_padding", "between 0"),
    ({"augment": {"hflip": "no"}}, "augment.hflip", "true or false"),
    ({"augment": {"vflip": True}}, "augment.vflip", "unknown option"),
]


@pytest.mark.parametrize(("data", "key", "message"), BAD, ids=[b[1] + ":" + b[2] for b in BAD])
def test_bad_values_name_the_key(data: dict[str, Any], key: str, message: str) -> None:
    with pytest.raises(DataConfigError) as caught:
        DatasetConfig.from_json(data)
    assert caught.value.key == key
    assert message in str(caught.value) and str(caught.value).startswith(f"dataset {key}: ")
    assert isinstance(caught.value, GraphError) and isinstance(caught.value, ValueError)


def test_not_an_object() -> None:
    with pytest.raises(DataConfigError, match="must be an object"):
        DatasetConfig.from_json(["digits"])
