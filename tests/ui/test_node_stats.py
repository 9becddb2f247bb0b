"""Per-block training statistics on the canvas: tags fed by a real run, chosen from the View menu."""

from __future__ import annotations

import designer
from designer.data import DatasetConfig
from designer.training import TrainingConfig
from designer.training.records import NodeStats
from designer.ui.training_worker import TrainingWorker


def sample_from_a_real_run(qtbot, tmp_path) -> NodeStats:
    worker = TrainingWorker.for_graph(designer.load("lenet5"), DatasetConfig(),
                                      TrainingConfig(batch_size=64, epochs=1, stats_every=5), root=tmp_path)
    samples: list[NodeStats] = []
    worker.records.connect(lambda items: samples.extend(r for r in items if isinstance(r, NodeStats)))
    with qtbot.waitSignal(worker.finished, timeout=60_000):
        worker.start()
    assert len(samples) > 2
    return samples[-1]


def test_blocks_show_the_chosen_statistic_and_the_menu_switches_it(window, qtbot, tmp_path):
    sample = sample_from_a_real_run(qtbot, tmp_path)
    window.show_node_stats(sample.stats)
    scene = window.view.graph_scene
    tags = scene.stat_texts()
    assert set(tags) == set(sample.stats) and "input" not in tags  # the Input is no layer
    zeros = sample.stats["tanh1"]["zeros"]
    assert tags["tanh1"] == f"zeros {zeros:.0%}"
    window.menu_actions.stat_keys["grad_norm"].trigger()
    tags = scene.stat_texts()
    assert tags["c1"] == f"‖∇‖ {sample.stats['c1']['grad_norm']:.3g}"
    assert tags["tanh1"] == "‖∇‖ –"  # no parameters, no gradient norm
    window.menu_actions.stat_keys[None].trigger()
    assert scene.stat_texts() == {}
    assert all(not item.childItems() or all(c.isVisible() for c in item.childItems())
               for item in scene.block_items())


def test_colours_run_from_the_lowest_to_the_highest_value(window):
    stats = {"c1": {"mean": 0.0}, "tanh1": {"mean": 0.5}, "s2": {"mean": 1.0}, "ghost": {"mean": 2.0}}
    window.set_stat_key("mean")
    window.show_node_stats(stats)
    items = window.view.graph_scene.stat_items()
    assert set(items) == {"c1", "tanh1", "s2"}  # a block not in this graph is skipped
    assert items["c1"].colour.blue() > items["c1"].colour.red()
    assert items["s2"].colour.red() > items["s2"].colour.blue()
    tag = items["c1"]
    block = window.view.graph_scene.item_for_node("c1")
    assert tag.sceneBoundingRect().top() > block.sceneBoundingRect().bottom() - 3  # under the block
