"""The first run on an image folder decodes it into the cache; the panel says how far, then how long it took."""

from __future__ import annotations

import numpy as np
from PIL import Image

from designer.data import DatasetConfig
from designer.training.config import TrainingConfig
from tests.ui.test_training_panel import log, trainer, wait_idle

__all__ = ["trainer"]  # the fixture, shared with the panel's own tests


def test_the_panel_tells_the_first_decoding_of_an_image_folder(trainer, qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("DESIGNER_CACHE_DIR", str(tmp_path / "cache"))  # nothing decoded yet
    rng = np.random.default_rng(0)
    for name in "0123456789":  # lenet5's ten classes
        (tmp_path / "imgs" / name).mkdir(parents=True)
        for i in range(4):
            Image.fromarray(rng.integers(0, 256, (12, 12), dtype=np.uint8), "L").save(
                tmp_path / "imgs" / name / f"{i}.png")
    window, panel, seen = trainer()
    told: list[tuple[int, int]] = []
    panel.session.decoding.connect(lambda done, total: told.append((done, total)))
    dataset = DatasetConfig.from_json({"name": "folder", "path": str(tmp_path / "imgs"), "validation": 0.25})
    panel.session.start(window.document, dataset, TrainingConfig(epochs=1, batch_size=10, stats_every=0))
    wait_idle(qtbot, panel)
    assert seen.ended[-1][0] == "finished", seen.ended
    assert told[0] == (0, 40) and told[-1] == (40, 40)
    assert "Decoded 40 images into the cache in" in log(panel)
    told.clear()
    panel.session.start(window.document, dataset, TrainingConfig(epochs=1, batch_size=10, stats_every=0))
    wait_idle(qtbot, panel)
    assert told == []  # read from the cache: nothing to say
    assert log(panel).count("Decoded 40 images") == 1
