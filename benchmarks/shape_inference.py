"""Shape inference on a 1,000-node residual DAG, against torch meta tensors.

Run: ``.venv/bin/python benchmarks/shape_inference.py [--nodes 1000] [--rounds 200]``

Measures, interleaved round by round in one process so that machine noise hits
every case alike:

* a full pass (``graph.recompute()``), target ≤ 2 ms for 1,000 nodes;
* one ``set_params`` edit, which re-runs inference from the edited node and
  stops where shapes no longer change, target ≤ 0.2 ms, at several places;
* the reference to beat: the same graph compiled with ``to_torch()``, moved to
  the ``meta`` device, and a meta input run through it (torch's own shape
  propagation, no arithmetic on data).

Every number is the median over rounds of the mean of a small batch of calls;
the "÷ meta" column is that median divided by the meta reference's median from
the same run.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch

from designer.graph.graph import Edge, Graph

WIDTH = 32  # channels of the residual stream
BLOCKS_PER_STAGE = 3  # residual blocks between two concat transitions
DOWNSAMPLE_STAGES = 2  # the first transitions halve height and width
TAIL = ("AdaptiveAvgPool2d", "Flatten", "Linear")


class Builder:
    """Adds nodes and edges with inference deferred, as loading a file does."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.count = 0

    def add(self, type_: str, sources: list[str], params: dict[str, Any] | None = None,
            stem: str | None = None) -> str:
        name = f"{stem or type_.lower()}_{self.count}"
        self.graph.add_node(type_, name, params or {}, position=(self.count * 10.0, 0.0))
        self.count += 1
        for port, source in enumerate(sources):
            self.graph.restore_edge(Edge(source, name, port))
        return name


def build_graph(nodes: int = 1000) -> tuple[Graph, dict[str, str]]:
    """A deterministic valid DAG of exactly ``nodes`` blocks, and the nodes the edits touch.

    Input 3×32×32, a conv-bn-relu stem, then stages of three residual blocks
    (conv-bn-relu-conv-bn-add-relu, 7 nodes each) closed by a transition that
    concatenates the stage's output with its input, reduces the channels back
    with a 1×1 conv (stride 2 in the first two transitions), then bn-relu-dropout.
    ReLUs pad the count, and global average pooling, Flatten and Linear end it.
    """
    block, transition = 7, 5
    stage = BLOCKS_PER_STAGE * block + transition
    fixed = 4 + len(TAIL)  # input and stem, and the tail
    if nodes < fixed + stage:
        raise ValueError(f"need at least {fixed + stage} nodes")
    graph = Graph()
    graph.name = f"residual{nodes}"
    marks: dict[str, str] = {}
    transition_convs: list[str] = []
    residual_convs: list[str] = []
    dropouts: list[str] = []
    b = Builder(graph)
    with graph.deferred_inference():
        x = b.add("Input", [], {"shape": [3, 32, 32]})
        marks["input"] = x
        x = b.add("Conv2d", [x], {"out_channels": WIDTH, "kernel_size": 3, "padding": 1}, "conv")
        x = b.add("BatchNorm2d", [x], stem="bn")
        x = b.add("ReLU", [x])
        stages = (nodes - fixed) // stage
        for s in range(stages):
            stage_in = x
            for _ in range(BLOCKS_PER_STAGE):
                skip = x
                y = b.add("Conv2d", [x], {"out_channels": WIDTH, "padding": 1}, "conv")
                residual_convs.append(y)
                y = b.add("BatchNorm2d", [y], stem="bn")
                y = b.add("ReLU", [y])
                y = b.add("Conv2d", [y], {"out_channels": WIDTH, "padding": 1}, "conv")
                y = b.add("BatchNorm2d", [y], stem="bn")
                y = b.add("Add", [skip, y])
                x = b.add("ReLU", [y])
            y = b.add("Concat", [x, stage_in])
            stride = 2 if s < DOWNSAMPLE_STAGES else 1
            y = b.add("Conv2d", [y], {"out_channels": WIDTH, "kernel_size": 1, "stride": stride}, "conv")
            transition_convs.append(y)
            y = b.add("BatchNorm2d", [y], stem="bn")
            y = b.add("ReLU", [y])
            x = b.add("Dropout", [y], {"p": 0.1})
            dropouts.append(x)
        while b.count < nodes - len(TAIL):
            x = b.add("ReLU", [x])
        x = b.add("AdaptiveAvgPool2d", [x], stem="gap")
        x = b.add("Flatten", [x])
        x = b.add("Linear", [x], {"out_features": 10}, "fc")
    assert len(graph) == nodes, len(graph)
    assert graph.is_valid(), graph.errors()[:3]
    middle = len(transition_convs) // 2
    marks.update(
        last_transition=transition_convs[-1],
        middle_transition=transition_convs[middle],
        middle_residual_conv=residual_convs[len(residual_convs) // 2],
        middle_dropout=dropouts[middle],
        output=x,
    )
    return graph, marks


# -- cases -----------------------------------------------------------------------------------


def toggler(graph: Graph, name: str, key: str, a: Any, b: Any) -> Callable[[], None]:
    """A call that flips ``name.key`` between ``a`` and ``b`` with ``set_params``."""
    state = [False]

    def edit() -> None:
        state[0] = not state[0]
        graph.set_params(name, {key: b if state[0] else a})

    return edit


def reach(graph: Graph, name: str, key: str, a: Any, b: Any) -> int:
    """How many nodes one edit reports changed (the edited node and those whose shape moved)."""
    graph.set_params(name, {key: a})
    seen: set[str] = set()
    graph.events.shapes_changed.connect(seen.update)
    try:
        graph.set_params(name, {key: b})
    finally:
        graph.events.shapes_changed.disconnect(seen.update)
    graph.set_params(name, {key: a})
    return len(seen)


def probe(graph: Graph, output: str) -> Callable[[], None]:
    """Three topology edits: add a ReLU, connect it after ``output``, remove it again.

    ``remove_node`` leaves the topological order to be rebuilt by the next
    edit; the empty ``run_from`` pays for that here, so the case after this one
    does not.
    """

    def edit() -> None:
        graph.add_node("ReLU", "probe")
        graph.connect(output, "probe")
        graph.remove_node("probe")
        graph._inference.run_from(())

    return edit


def cold_pass(graph: Graph) -> Callable[[], None]:
    """A full pass with no earlier results, as after loading a file (``deferred_inference``)."""
    inference = graph._inference

    def run() -> None:
        inference.results = {}
        inference.run_all()

    return run


def meta_reference(graph: Graph) -> tuple[Callable[[], None], tuple[int, ...]]:
    """Torch's own shape propagation: the compiled module on the meta device, eval mode."""
    module = graph.to_torch().to("meta").eval()
    shape = graph.node(graph.inputs()[0]).params["shape"]
    x = torch.empty((1, *shape), device="meta")

    def run() -> None:
        with torch.no_grad():
            module(x)

    with torch.no_grad():
        out = module(x)
    return run, tuple(out.shape[1:])


class Case:
    """A timed call: ``batch`` calls per sample, one sample every ``every`` rounds."""

    def __init__(self, fn: Callable[[], object], batch: int = 1, every: int = 1) -> None:
        self.fn, self.batch, self.every = fn, batch, every
        self.samples: list[float] = []


def measure(cases: dict[str, Case], rounds: int) -> None:
    """Per-call seconds of each case, interleaved round by round, in alternating order.

    The garbage collector stays on, as in the application; medians keep a
    collection that lands in one sample from moving the result.
    """
    clock = time.perf_counter
    for case in cases.values():  # warm up
        for _ in range(case.batch):
            case.fn()
    gc.collect()
    items = list(cases.values())
    for r in range(rounds):
        for case in items if r % 2 == 0 else reversed(items):
            if r % case.every:
                continue
            fn = case.fn
            start = clock()
            for _ in range(case.batch):
                fn()
            case.samples.append((clock() - start) / case.batch)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=200,
                        help="rounds of the fast cases; the meta reference runs every 5th round")
    args = parser.parse_args()
    torch.set_num_threads(2)

    start = time.perf_counter()
    graph, marks = build_graph(args.nodes)
    built = time.perf_counter() - start
    meta, meta_shape = meta_reference(graph)
    out = graph.result(marks["output"]).shape
    assert out == meta_shape, (out, meta_shape)

    mid_t, last_t = marks["middle_transition"], marks["last_transition"]
    edits = {
        # key: (label, node, param, value a, value b)
        "a": ("(a) near the end: last transition conv stride 1↔2", last_t, "stride", 1, 2),
        "b": ("(b) middle: middle transition conv stride 1↔2", mid_t, "stride", 1, 2),
        "c": ("(c) start: Input 3×32×32 ↔ 3×64×64", marks["input"], "shape", (3, 32, 32), (3, 64, 64)),
        "b2": ("(b') middle, local: residual conv out_channels 32↔48", marks["middle_residual_conv"],
               "out_channels", WIDTH, 48),
        "d1": ("(d) no shape change: middle Dropout p 0.1↔0.2", marks["middle_dropout"], "p", 0.1, 0.2),
        "d2": ("(d) no shape change: middle conv bias on↔off", mid_t, "bias", True, False),
    }
    sizes = {k: reach(graph, node, key, a, b) for k, (_, node, key, a, b) in edits.items()}
    graph.validate()

    cases = {
        "meta": Case(meta, every=5),
        "full": Case(graph.recompute, batch=2),
        "cold": Case(cold_pass(graph), batch=2),
    }
    for key, (_, node, param, a, b) in edits.items():
        # An even batch leaves the graph as it was after every sample.
        cases[key] = Case(toggler(graph, node, param, a, b), batch=2 if sizes[key] > 100 else 20)
    cases["e"] = Case(probe(graph, marks["output"]), batch=2)
    measure(cases, args.rounds)
    graph.validate()
    assert graph.result(marks["output"]).shape == meta_shape

    med = {name: statistics.median(case.samples) for name, case in cases.items()}
    ref = med["meta"]
    n = args.nodes
    rows: list[tuple[str, str, int | str, float | None]] = [
        ("torch meta tensors: to_torch() module on 'meta' (reference)", "meta", n, None),
        (f"full pass, {n} nodes: graph.recompute()", "full", n, 2.0),
        (f"full pass, {n} nodes, no earlier results (after loading)", "cold", n, 2.0),
    ]
    rows += [(label, key, sizes[key], 0.2) for key, (label, *_rest) in edits.items()]
    rows.append(("(e) topology: add_node + connect + remove_node (3 edits)", "e", "-", None))

    print(f"shape inference benchmark: {n} nodes, {len(graph.edges)} edges; {args.rounds} interleaved "
          f"rounds (meta: {len(cases['meta'].samples)}); torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads; graph built in {built * 1e3:.0f} ms")
    head = (f"{'case':<62} {'nodes':>5} {'median ms':>10} {'p10 ms':>8} {'p90 ms':>8} {'÷ meta':>8} "
            f"{'target ms':>12}")
    print(head)
    print("-" * len(head))
    for label, key, size, target in rows:
        values = sorted(cases[key].samples)
        p10, p90 = values[len(values) // 10], values[(len(values) * 9) // 10]
        m = med[key]
        goal = "" if target is None else f"≤{target:g} " + ("ok" if m * 1e3 <= target else "MISSED")
        print(f"{label:<62} {size!s:>5} {m * 1e3:>10.3f} {p10 * 1e3:>8.3f} {p90 * 1e3:>8.3f} "
              f"{m / ref:>8.5f} {goal:>12}")
    print("\nnodes: how many results the call reports changed (the edited node and every node whose "
          "shape or error moved).\n÷ meta: the median over the meta reference's median from this run.")


if __name__ == "__main__":
    main()
