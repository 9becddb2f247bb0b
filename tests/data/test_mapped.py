"""Image folders too large for memory: decoded once into a raw file, read a batch at a time, sharded."""

from __future__ import annotations

import json
import os
import resource
import signal
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from designer.data.batches import Split, batch_count, batches
from designer.data.config import DatasetConfig
from designer.data.errors import DataFileError
from designer.data.folder import load_folder, scan_folder
from designer.data.mapped import MappedImages, RowFile
from designer.data.prepare import Prepared, prepare
from designer.data.transforms import Stats, channel_stats, chunk_rows


def _noisy_folder(root: Path, per_class: int = 12, size: int = 10, mode: str = "RGB") -> Path:
    """Two classes of random images, so that any row read from the wrong place shows."""
    rng = np.random.default_rng(0)
    shape = (size, size, 3) if mode == "RGB" else (size, size)
    for name in ("cat", "dog"):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode).save(root / name / f"{i}.png")
    return root


def _prepare(root: Path, cache: Path, map_above: int | None = None, channels: int = 3) -> Prepared:
    config = DatasetConfig.from_json({"name": "folder", "path": str(root), "validation": 0.25, "seed": 4,
                                      "augment": {"crop_padding": 2, "hflip": True},
                                      "grayscale_to_rgb": channels == 3})
    return prepare(config, (channels, 8, 8), cache_dir=cache, map_above=map_above)


def _epoch(split: Split, data: Prepared, seed: int, batch: int = 5) -> list[tuple[torch.Tensor, torch.Tensor]]:
    generator = torch.Generator().manual_seed(seed)
    return list(batches(split, batch, shuffle=True, generator=generator, augment=data.augment))


def test_a_mapped_folder_batches_exactly_as_in_memory(tmp_path: Path) -> None:
    root = _noisy_folder(tmp_path / "imgs")
    memory = _prepare(root, tmp_path / "cache")
    mapped = _prepare(root, tmp_path / "cache", map_above=0)
    assert isinstance(mapped.train.images, MappedImages) and isinstance(mapped.val.images, MappedImages)
    assert isinstance(memory.train.images, torch.Tensor)
    assert (len(mapped.train), len(mapped.val)) == (len(memory.train), len(memory.val)) == (18, 6)
    assert np.allclose(mapped.stats.mean, memory.stats.mean, rtol=0, atol=1e-12)
    assert np.allclose(mapped.stats.std, memory.stats.std, rtol=0, atol=1e-12)
    epochs = _epoch(mapped.train, mapped, 7), _epoch(memory.train, memory, 7)
    for (xa, ya), (xb, yb) in zip(*epochs, strict=True):
        assert torch.equal(xa, xb) and torch.equal(ya, yb)
    for (xa, ya), (xb, yb) in zip(batches(mapped.val, 4), batches(memory.val, 4), strict=True):
        assert torch.equal(xa, xb) and torch.equal(ya, yb)


def test_a_gray_mapped_folder_is_repeated_into_rgb(tmp_path: Path) -> None:
    root = _noisy_folder(tmp_path / "gray", per_class=4, mode="L")
    mapped = _prepare(root, tmp_path / "cache", map_above=0)
    memory = _prepare(root, tmp_path / "cache")
    assert mapped.train.images.shape == memory.train.images.shape == (6, 3, 8, 8)
    assert torch.equal(mapped.train.images[:], memory.train.images)
    assert torch.equal(mapped.train.images[[4, 0, 2]], memory.train.images[[4, 0, 2]])


def test_rows_far_apart_in_a_large_file_come_back_in_the_batch_order(tmp_path: Path) -> None:
    rows = np.random.default_rng(1).integers(0, 256, (300, 3, 40, 40), dtype=np.uint8)  # 4.8 kB a row
    path = tmp_path / "rows.u8"
    path.write_bytes(rows.tobytes())
    for whole_map_bytes in (0, rows.nbytes):  # read a group of rows at a time, or gathered from a map
        images = MappedImages(RowFile(path, rows.shape, whole_map_bytes))
        for index in ([299, 0, 150, 151, 152, 7], [5, 6, 7, 8], [0, 299], list(range(300))[::-1]):
            assert np.array_equal(images.take(index).numpy(), rows[index])
        assert np.array_equal(images.subset([3, 9, 200]).take([2, 0]).numpy(), rows[[200, 3]])


def test_statistics_are_summed_in_chunks_of_bounded_size() -> None:
    # ImageNet at 224 × 224: no chunk of float64 pixels above 64 MiB, where 4096 images made 4.9 GB.
    shape = (1_281_167, 3, 224, 224)
    assert chunk_rows(shape) >= 1 and chunk_rows(shape) * 3 * 224 * 224 * 8 <= 64 * 2**20
    images = torch.randint(0, 256, (50, 3, 4, 4), dtype=torch.uint8)
    whole = images.double() / 255
    stats = channel_stats(images)
    assert np.allclose(stats.mean, whole.mean(dim=(0, 2, 3)).tolist(), atol=1e-12)


# -- decoding in worker processes ------------------------------------------------------------


def test_worker_processes_decode_the_same_pixels_and_report_progress(tmp_path: Path) -> None:
    root = _noisy_folder(tmp_path / "imgs", per_class=20)
    said: list[tuple[int, int]] = []
    by_processes = load_folder(scan_folder(root, tmp_path / "a"), (8, 8), workers=2,
                               progress=lambda done, total: said.append((done, total)))
    in_process = load_folder(scan_folder(root, tmp_path / "b"), (8, 8), workers=0)
    assert torch.equal(by_processes.train.images, in_process.train.images)
    assert said[0] == (0, 40) and said[-1] == (40, 40)
    assert [done for done, _ in said] == sorted(done for done, _ in said)
    # Decoded once: the second load reads the cache and says nothing.
    said.clear()
    load_folder(scan_folder(root, tmp_path / "a"), (8, 8), progress=lambda *step: said.append(step))
    assert said == []


def test_a_bad_image_in_a_worker_is_named_and_no_cache_is_left(tmp_path: Path) -> None:
    root = _noisy_folder(tmp_path / "imgs", per_class=20)
    bad = root / "dog" / "7.png"  # its header reads, its pixels are cut short: only the decoder finds out
    Image.fromarray(np.random.default_rng(2).integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(bad)
    bad.write_bytes(bad.read_bytes()[:2000])
    cache = tmp_path / "cache"
    with pytest.raises(DataFileError, match="not a readable image") as caught:
        load_folder(scan_folder(root, cache), (8, 8), workers=2)
    assert caught.value.path == bad
    left = [p.name for p in cache.iterdir() if p.suffix not in (".json", ".lock") or "x8x8.json" in p.name]
    assert left == []  # the empty .lock file stays: removing it would let two decoders in at once


# -- the cache file damaged, before or during a run ------------------------------------------


def _cache_file(cache: Path) -> Path:
    (found,) = cache.glob("folder-*x8x8.u8")
    return found


def test_a_cache_cut_short_before_a_run_is_decoded_again(tmp_path: Path) -> None:
    root, cache = _noisy_folder(tmp_path / "imgs"), tmp_path / "cache"
    first = _prepare(root, cache, map_above=0).train.images[:]
    data = _cache_file(cache)
    full = data.stat().st_size
    os.truncate(data, full // 2)
    again = _prepare(root, cache, map_above=0)
    assert data.stat().st_size == full
    assert torch.equal(again.train.images[:], first)


def test_a_cache_cut_short_during_a_run_is_named(tmp_path: Path) -> None:
    root, cache = _noisy_folder(tmp_path / "imgs"), tmp_path / "cache"
    data = _prepare(root, cache, map_above=0)
    os.truncate(_cache_file(cache), 100)
    with pytest.raises(DataFileError, match="cut short or changed by another program") as caught:
        list(batches(data.train, 4))
    assert caught.value.path == _cache_file(cache)


def test_a_cache_deleted_during_a_run_is_still_read(tmp_path: Path) -> None:
    root, cache = _noisy_folder(tmp_path / "imgs"), tmp_path / "cache"
    data = _prepare(root, cache, map_above=0)
    before = [x for x, _ in batches(data.val, 4)]
    _cache_file(cache).unlink()
    assert all(torch.equal(a, b) for (a, _), b in zip(batches(data.val, 4), before, strict=True))


def _load_with_a_file_size_limit(root: Path, cache: Path, map_above: int) -> str:
    """What loading says when no file may grow past 2 kB (as on a full disk), from a forked child."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        try:
            os.close(read)
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an error from the write, not a killed process
            resource.setrlimit(resource.RLIMIT_FSIZE, (2048, 2048))
            try:
                raw = load_folder(scan_folder(root, cache), (8, 8), map_above=map_above, workers=0)
                said = f"loaded {len(raw.train)}"
            except DataFileError as exc:
                said = str(exc)
            os.write(write, said.encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        text = pipe.read()
    os.waitpid(pid, 0)
    return text


@pytest.mark.skipif(not hasattr(os, "fork") or not hasattr(resource, "RLIMIT_FSIZE"),
                    reason="needs fork and a file size limit")
def test_a_cache_that_cannot_be_written_is_said_and_never_half_used(tmp_path: Path) -> None:
    root, cache = _noisy_folder(tmp_path / "imgs", per_class=20), tmp_path / "cache"
    said = _load_with_a_file_size_limit(root, cache, map_above=0)
    assert said.startswith(f"{cache}{os.sep}folder-"), said
    assert ".u8: the decoded images (0 MiB) cannot be written: " in said
    assert said.endswith("; free some space there, or set DESIGNER_CACHE_DIR to a folder on a disk with room")
    assert not list(cache.glob("*.u8")) and not list(cache.glob(".*.tmp"))
    # A set small enough for memory does without the cache.
    assert _load_with_a_file_size_limit(root, cache, map_above=2**30) == "loaded 40"
    # Room again: decoded, cached and vouched for.
    raw = load_folder(scan_folder(root, cache), (8, 8), map_above=0)
    meta = json.loads(_cache_file(cache).with_suffix(".json").read_text())
    assert meta["complete"] is True and meta["shape"] == [40, 3, 8, 8] and len(raw.train) == 40


# -- shards of a data-parallel run -----------------------------------------------------------


def _numbered(n: int) -> Split:
    ids = torch.arange(n)
    return Split((ids % 256).to(torch.uint8).view(n, 1, 1, 1).expand(n, 1, 2, 2).contiguous(), ids,
                 Stats.identity(1))


@pytest.mark.parametrize("n", [40, 41, 7])
def test_two_ranks_share_each_step_of_the_single_process_batches(n: int) -> None:
    split = _numbered(n)

    def steps(batch: int, shard: tuple[int, int]) -> list[list[int]]:
        generator = torch.Generator().manual_seed(11)
        return [y.tolist() for _, y in batches(split, batch, shuffle=True, generator=generator, shard=shard)]

    whole, ranks = steps(8, (0, 1)), [steps(4, (r, 2)) for r in (0, 1)]
    assert len(ranks[0]) == len(ranks[1]) == batch_count(split, 4, shard=(0, 2))
    for step, (a, b) in enumerate(zip(*ranks, strict=True)):
        assert not set(a) & set(b)
        together = set(a) | set(b)
        assert together == set(whole[step]) or (step == len(whole) - 1 and together < set(whole[step]))
    assert sum(len(a) for a in ranks[0]) == n // 2


def test_unsharded_draws_are_unchanged_and_validation_is_dealt_in_turn() -> None:
    split = _numbered(10)
    generator = torch.Generator().manual_seed(3)
    order = torch.randperm(10, generator=torch.Generator().manual_seed(3)).tolist()
    assert [y.tolist() for _, y in batches(split, 4, shuffle=True, generator=generator)] == \
        [order[:4], order[4:8], order[8:]]
    assert [y.tolist() for _, y in batches(split, 2, shard=(1, 3))] == [[1, 4], [7]]
    assert batch_count(split, 2, shard=(1, 3), shuffle=False) == 2
    assert batch_count(split, 2, shard=(1, 3)) == 2 and batch_count(split, 2, True, shard=(0, 3)) == 1
    with pytest.raises(ValueError, match="shard"):
        next(batches(split, 2, shard=(3, 3)))


def test_two_processes_needing_the_same_cache_decode_it_once(tmp_path: Path) -> None:
    """As the ranks of a data-parallel job do: the second waits for the first, then reads its cache."""
    import threading

    root = _noisy_folder(tmp_path / "imgs", per_class=20)
    decoded: list[str] = []
    results: dict[str, torch.Tensor] = {}

    def load(name: str) -> None:
        def progress(done: int, total: int) -> None:
            if done == total:
                decoded.append(name)
        data = load_folder(scan_folder(root, tmp_path / "cache"), (8, 8), workers=0, progress=progress)
        results[name] = data.train.images

    threads = [threading.Thread(target=load, args=(name,)) for name in ("rank0", "rank1")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(decoded) == 1, decoded
    assert torch.equal(results["rank0"], results["rank1"])
