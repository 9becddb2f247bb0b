"""The decoding of an image folder as the CLI shows it."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from designer.data.config import DatasetConfig
from designer.data.prepare import prepare
from designer.data.progress import DecodeProgress


def _folder(root: Path) -> Path:
    for name in ("a", "b"):
        (root / name).mkdir(parents=True)
        for i in range(3):
            Image.fromarray(np.full((4, 4), 40 * i, np.uint8), "L").save(root / name / f"{i}.png")
    return root


def test_a_log_gets_one_line_when_decoding_starts_and_one_when_it_ends(tmp_path: Path) -> None:
    stream = io.StringIO()
    config = DatasetConfig.from_json({"name": "folder", "path": str(_folder(tmp_path / "imgs"))})
    prepare(config, (1, 4, 4), cache_dir=tmp_path / "cache", progress=DecodeProgress(stream))
    lines = stream.getvalue().splitlines()
    assert lines[0] == "decoding 6 images into the cache (once for this folder and size)"
    assert lines[1].startswith("decoded 6 images in ") and lines[1].endswith(" s") and len(lines) == 2
    stream.truncate(0)
    prepare(config, (1, 4, 4), cache_dir=tmp_path / "cache", progress=DecodeProgress(stream))
    assert stream.getvalue() == ""  # cached: nothing to say


def test_a_terminal_sees_the_count_redrawn_in_place() -> None:
    stream = io.StringIO()
    progress = DecodeProgress(stream, tty=True)
    progress(0, 1000)
    progress(500, 1000)  # within the redraw interval: not drawn
    progress(1000, 1000)
    text = stream.getvalue()
    assert text.startswith("\rdecoding images: 0 of 1,000 (0%)\r\x1b[Kdecoded 1,000 images in ")
    assert text.endswith(" s\n") and "500" not in text
