"""The trainer's step against a bare training loop on the same model, data and optimizer.

Run: ``.venv/bin/python benchmarks/training_step.py [--template lenet5] [--rounds 7] [--steps 60]``

Both arms train a fresh copy of the template (same initial weights) with SGD on
the same in-memory batches of 64. The bare arm is the textbook loop
(``zero_grad``, forward, loss, backward, step) with nothing else. The trainer arm
is ``designer.training.train`` with its defaults (``log_every`` 10): device-side
sums, batch records, the control checks and the schedule. Each arm's time per
step is taken between the end of step 10 and the end of the last step, so the
setup, the first steps' warm-up and the checkpoint at the epoch's end are left
out. The arms alternate round by round and the medians are reported; the ratio
is the engine's overhead per step (target ≤ 1.05 on lenet5, where a step is
cheapest and overhead shows most).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch

import designer
from designer.graph.graph import Graph
from designer.training import BatchRecord, TrainingConfig, train

WARM = 10


def make_batches(graph: Graph, steps: int, batch: int = 64) -> list[tuple[torch.Tensor, torch.Tensor]]:
    shape = graph.result(graph.inputs()[0]).shape
    classes = graph.result(graph.outputs()[0]).shape[0]
    generator = torch.Generator().manual_seed(0)
    return [(torch.randn(batch, *shape, generator=generator),
             torch.randint(0, classes, (batch,), generator=generator)) for _ in range(steps)]


def bare(graph: Graph, batches: list[tuple[torch.Tensor, torch.Tensor]]) -> float:
    torch.manual_seed(0)
    model = graph.to_torch().train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()
    start = 0.0
    for i, (x, y) in enumerate(batches, 1):
        optimizer.zero_grad(set_to_none=True)
        loss_fn(model(x), y).backward()
        optimizer.step()
        if i == WARM:
            start = time.perf_counter()
    return (time.perf_counter() - start) / (len(batches) - WARM)


def engine(graph: Graph, batches: list[tuple[torch.Tensor, torch.Tensor]], root: Path) -> float:
    marks: dict[int, float] = {}

    def on_record(record: object) -> None:
        if isinstance(record, BatchRecord):
            marks[record.step] = time.perf_counter()

    config = TrainingConfig(epochs=1, device="cpu", log_every=WARM)
    train(graph, config, lambda epoch: batches, len(batches), root=root, on_record=on_record)
    return (marks[len(batches)] - marks[WARM]) / (len(batches) - WARM)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--template", default="lenet5")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--steps", type=int, default=60, help="a multiple of 10")
    args = parser.parse_args()
    graph = designer.load(args.template)
    batches = make_batches(graph, args.steps)
    times: dict[str, list[float]] = {"bare": [], "trainer": []}
    with tempfile.TemporaryDirectory(prefix="designer-bench-") as folder:
        for round_ in range(args.rounds):
            arms = ["bare", "trainer"] if round_ % 2 == 0 else ["trainer", "bare"]
            for arm in arms:
                seconds = bare(graph, batches) if arm == "bare" else engine(graph, batches, Path(folder))
                times[arm].append(seconds)
    medians = {arm: statistics.median(values) for arm, values in times.items()}
    print(f"{args.template}, batch 64, {args.steps} steps, {args.rounds} rounds, "
          f"{torch.get_num_threads()} threads")
    for arm, value in medians.items():
        print(f"  {arm:8s} {value * 1e3:8.2f} ms/step")
    print(f"  ratio    {medians['trainer'] / medians['bare']:8.3f}")


if __name__ == "__main__":
    main()
