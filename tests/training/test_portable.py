"""The exported script's copies of portable.py and portable_data.py against Designer's engine.

Each test imports the modules from a real export folder (the files a user gets)
and checks that they give what the engine gives: the same optimizer groups,
learning rate at every step of every schedule, loss values, augmented pixels
from one seed, and the same prepared images, labels and statistics for every
kind of dataset. Hostile and broken files get a one-line DataProblem.
"""

from __future__ import annotations

import gzip
import importlib.util
import io
import os
import pickle
import struct
import sys
import tarfile
from dataclasses import fields
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

import designer
from designer.data import DatasetConfig, prepare
from designer.data.transforms import augment_batch
from designer.train_script import export_train_script
from designer.training import OPTIMIZERS, SCHEDULES, TrainingConfig, make_loss, make_optimizer
from designer.training.schedules import Schedule

ROOT = Path(__file__).resolve().parents[2]
DIGITS_HERE = ROOT / "resources" / "datasets"


def _import(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"exported_{path.stem}_{abs(hash(path))}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[ModuleType, ModuleType]:
    folder = tmp_path_factory.mktemp("export")
    export_train_script(designer.load("lenet5"), folder)
    return _import(folder / "portable.py"), _import(folder / "portable_data.py")


def _settings(**changes: Any) -> dict[str, Any]:
    return TrainingConfig(**changes).to_json(full=True)  # what the script's CONFIG["training"] holds


def _model() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))


# -- training parts -----------------------------------------------------------------------


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_optimizers_have_the_engines_settings(exported, name):
    changes = {"optimizer": name, "lr": 0.03, "momentum": 0.7, "weight_decay": 1e-3, "betas": (0.8, 0.95),
               "nesterov": name == "sgd"}
    engine = make_optimizer(_model().parameters(), TrainingConfig(**changes))
    script = exported[0].make_optimizer(_model().parameters(), _settings(**changes))
    assert type(script) is type(engine)
    strip = [{k: v for k, v in group.items() if k != "params"} for group in engine.param_groups]
    assert [{k: v for k, v in group.items() if k != "params"} for group in script.param_groups] == strip


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_every_step_of_every_schedule_has_the_engines_rate(exported, schedule):
    changes = {"schedule": schedule, "lr": 0.1, "min_lr": 0.004, "warmup_steps": 7, "decay_epochs": 1.5,
               "gamma": 0.5, "epochs": 4, "patience": 1}
    rates: list[list[float]] = []
    for make in (lambda o: Schedule(o, TrainingConfig(**changes), 10),
                 lambda o: exported[0].Schedule(o, _settings(**changes), 10)):
        schedule_ = make(torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1))
        seen = []
        for step in range(60):
            seen.append(schedule_.lr)
            schedule_.step()
            if step % 10 == 9:  # an epoch's end; the validation loss stalls from the third on
                schedule_.epoch_end(max(1.0, 3.0 - step / 10))
        rates.append(seen)
    assert rates[0] == rates[1]
    assert len(set(rates[0])) > 1 or schedule == "constant"


@pytest.mark.parametrize("loss", ["cross_entropy", "mse", "l1", "hinge"])
def test_every_loss_gives_the_engines_value(exported, loss):
    output = torch.randn(8, 5, generator=torch.Generator().manual_seed(2))
    target = torch.arange(8) % 5
    engine = make_loss(TrainingConfig(loss=loss, label_smoothing=0.1))(output, target)
    script = exported[0].make_loss(_settings(loss=loss, label_smoothing=0.1))(output, target)
    assert torch.equal(engine, script)


@pytest.mark.parametrize(("crop", "flip"), [(3, False), (0, True), (4, True)])
def test_augmentation_draws_the_engines_pixels_from_one_seed(exported, crop, flip):
    seeded = torch.Generator().manual_seed(1)
    images = torch.randint(0, 256, (16, 3, 12, 10), dtype=torch.uint8, generator=seeded)
    engine = augment_batch(images, crop, flip, torch.Generator().manual_seed(7))
    script = exported[0].augment_batch(images, crop, flip, torch.Generator().manual_seed(7))
    assert torch.equal(engine, script) and not torch.equal(script, images)


def test_shards_of_an_epoch_are_each_processs_share_of_every_batch(exported):
    order = torch.randperm(103, generator=torch.Generator().manual_seed(0))
    shards = [exported[0].shard_order(order, rank, 4) for rank in range(4)]
    assert {len(s) for s in shards} == {25}
    assert sorted(torch.cat(shards).tolist()) == sorted(order[:100].tolist())
    # Rank r's k-th batch of 8 is the samples r, r + 4, … of the job's k-th batch of 32.
    assert torch.equal(shards[1][8:16], order[32:64][1::4])


def test_sums_outside_a_process_group_are_the_process_own(exported):
    values = torch.tensor([3.0, 1.0, 2.0], dtype=torch.float64)
    assert exported[0].all_reduce_sums(values) is values and values.tolist() == [3.0, 1.0, 2.0]


def test_a_checkpoint_is_replaced_whole_and_leaves_no_temporary_file(exported, tmp_path):
    path = tmp_path / "ck" / "last.pt"
    for step in (1, 2):
        exported[0].save_checkpoint(path, {"model": {"w": torch.ones(2) * step}, "step": step})
    assert sorted(p.name for p in path.parent.iterdir()) == ["last.pt"]
    assert exported[0].load_checkpoint(path)["step"] == 2


@pytest.mark.parametrize(("make", "words"), [
    (lambda p: p.mkdir(), "is a folder; give a checkpoint file"),
    (lambda p: None, "no such file; give a checkpoint file"),
    (lambda p: p.write_bytes(b"not a checkpoint"), "not a readable checkpoint ("),
    (lambda p: torch.save({"step": 1}, p), "not a training checkpoint (it holds no 'model')"),
])
def test_a_checkpoint_that_cannot_be_read_is_one_sentence(exported, tmp_path, make, words):
    make(tmp_path / "last.pt")
    with pytest.raises(exported[0].SetupError) as caught:
        exported[0].load_checkpoint(tmp_path / "last.pt")
    assert str(caught.value).startswith(f"{tmp_path / 'last.pt'}: {words}")
    assert "\n" not in str(caught.value)


def test_devices_and_precisions_that_are_not_here_are_named(exported):
    portable = exported[0]
    assert portable.pick_device("cpu") == torch.device("cpu")
    if not torch.cuda.is_available():
        with pytest.raises(portable.SetupError, match=r"training.device: cuda:3 is not available on this "
                                                      r"machine; choose one of auto, .*cpu"):
            portable.pick_device("cuda:3")
    with pytest.raises(portable.SetupError, match="fp16 needs a GPU; on the CPU choose"):
        portable.autocast_dtype("fp16", torch.device("cpu"))
    assert portable.autocast_dtype("bf16", torch.device("cpu")) == torch.bfloat16


# -- data ---------------------------------------------------------------------------------


def _dataset(spec: dict[str, Any]) -> tuple[DatasetConfig, dict[str, Any]]:
    """The engine's config and the script's CONFIG["dataset"], as the export writes it."""
    config = DatasetConfig.from_json(spec)
    values = {f.name: getattr(config, f.name) for f in fields(config)}
    return config, {**values, "augment": config.augment.to_json()}


def _assert_same(exported, spec: dict[str, Any], input_shape: tuple[int, ...], tmp_path: Path,
                 here: Path = DIGITS_HERE) -> None:
    config, settings = _dataset(spec)
    engine = prepare(config, input_shape, cache_dir=tmp_path / "cache", output_shape=None)
    script = exported[1].prepare(settings, input_shape, here=here)
    for mine, theirs in ((script.train, engine.train), (script.val, engine.val)):
        assert torch.equal(mine[0], theirs.images) and torch.equal(mine[1], theirs.labels)
    assert (script.mean, script.std) == (engine.stats.mean, engine.stats.std)
    assert (script.flatten, script.classes) == (engine.train.flatten, engine.info.classes)


def test_digits_and_shapes_are_the_engines(exported, tmp_path):
    _assert_same(exported, {"name": "digits"}, (1, 32, 32), tmp_path)
    _assert_same(exported, {"name": "digits", "validation": 0.25, "seed": 3}, (64,), tmp_path)
    _assert_same(exported, {"name": "shapes", "samples": 300, "seed": 4}, (3, 24, 20), tmp_path)
    _assert_same(exported, {"name": "shapes", "samples": 50, "normalize": False}, (768,), tmp_path)


def test_npz_with_and_without_a_given_split_is_the_engines(exported, tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "a.npz", x=rng.integers(0, 256, (60, 10, 10, 3), dtype=np.uint8), y=np.arange(60) % 4,
             x_test=rng.integers(0, 256, (12, 10, 10, 3), dtype=np.uint8), y_test=np.arange(12) % 4)
    np.savez(tmp_path / "b.npz", x=rng.random((40, 9, 9), dtype=np.float32), y=np.arange(40) % 3)
    _assert_same(exported, {"name": "npz", "path": str(tmp_path / "a.npz")}, (3, 16, 16), tmp_path)
    _assert_same(exported, {"name": "npz", "path": str(tmp_path / "a.npz"), "validation": 0.2}, (3, 8, 8),
                 tmp_path)
    _assert_same(exported, {"name": "npz", "path": str(tmp_path / "b.npz"), "grayscale_to_rgb": True},
                 (3, 9, 9), tmp_path)


def _idx(path: Path, array: np.ndarray) -> None:
    header = struct.pack(f">BBBB{array.ndim}I", 0, 0, 0x08, array.ndim, *array.shape)
    path.write_bytes(gzip.compress(header + array.astype(np.uint8).tobytes()))


def test_mnist_idx_files_are_the_engines(exported, tmp_path):
    rng = np.random.default_rng(1)
    for prefix, count in (("train", 30), ("t10k", 10)):
        _idx(tmp_path / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (count, 28, 28)))
        _idx(tmp_path / f"{prefix}-labels-idx1-ubyte.gz", np.arange(count) % 10)
    _assert_same(exported, {"name": "mnist", "path": str(tmp_path)}, (1, 32, 32), tmp_path)


def _cifar_batch(rng: np.random.Generator, count: int) -> bytes:
    pixels = rng.integers(0, 256, (count, 3072), dtype=np.uint8)
    data = {b"data": pixels, b"labels": [i % 10 for i in range(count)]}
    return pickle.dumps(data, protocol=2)


def test_cifar_archives_and_folders_are_the_engines(exported, tmp_path):
    rng = np.random.default_rng(2)
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        (folder / name).write_bytes(_cifar_batch(rng, 6))
    with tarfile.open(tmp_path / "cifar.tar.gz", "w:gz") as archive:
        archive.add(folder, arcname=folder.name)
    _assert_same(exported, {"name": "cifar10", "path": str(tmp_path)}, (3, 32, 32), tmp_path)
    _assert_same(exported, {"name": "cifar10", "path": str(tmp_path / "cifar.tar.gz")}, (3, 16, 16), tmp_path)


def test_a_pickle_that_would_run_code_is_refused(exported, tmp_path):
    class Hostile:
        def __reduce__(self) -> tuple[Any, ...]:
            return (os.system, ("touch " + str(tmp_path / "ran"),))

    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        (folder / name).write_bytes(pickle.dumps({"data": Hostile()}, protocol=2))
    with pytest.raises(exported[1].DataProblem, match=r"data_batch_1 is not a readable CIFAR pickle "
                                                      r"\(refused to load (posix|os|nt)\.system: not data\)"):
        exported[1].prepare(_dataset({"name": "cifar10", "path": str(tmp_path)})[1], (3, 32, 32))
    assert not (tmp_path / "ran").exists()


def test_image_folders_are_the_engines(exported, tmp_path):
    rng = np.random.default_rng(3)
    for split, count in (("train", 6), ("val", 2)):
        for label in ("cat", "dog"):
            (tmp_path / "imgs" / split / label).mkdir(parents=True)
            for i in range(count):
                pixels = rng.integers(0, 256, (20 + i, 18, 3), dtype=np.uint8)
                Image.fromarray(pixels).save(tmp_path / "imgs" / split / label / f"{i}.png")
    _assert_same(exported, {"name": "folder", "path": str(tmp_path / "imgs")}, (3, 16, 16), tmp_path)


@pytest.mark.parametrize(("spec", "words"), [
    ({"name": "npz", "path": "missing.npz"}, "missing.npz: no such file"),
    ({"name": "digits"}, "the dataset has 1 channel(s), the Input [3, 8, 8] expects 3: "
                         'set CONFIG["dataset"]["grayscale_to_rgb"] = True'),
])
def test_data_that_cannot_be_used_is_one_sentence(exported, tmp_path, spec, words):
    with pytest.raises(exported[1].DataProblem) as caught:
        exported[1].prepare(_dataset(spec)[1], (3, 8, 8), here=DIGITS_HERE)
    assert words in str(caught.value) and "\n" not in str(caught.value)


def test_the_output_must_have_one_score_per_class(exported):
    with pytest.raises(exported[1].DataProblem, match=r"output is \[7\] but the dataset has 10 classes"):
        exported[1].prepare(_dataset({"name": "digits"})[1], (1, 8, 8), (7,), here=DIGITS_HERE)


def test_pickled_batches_from_python_2_with_bytes_keys_are_read(exported, tmp_path):
    buffer = io.BytesIO()
    pickle.dump({b"data": np.zeros((2, 3072), dtype=np.uint8), b"labels": [1, 2]}, buffer, protocol=2)
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        (folder / name).write_bytes(buffer.getvalue())
    train, given, classes = exported[1].read_cifar(tmp_path, "cifar10")
    assert (train[0].shape, given[1].tolist(), classes) == ((10, 3, 32, 32), [1, 2], 10)
