"""The per-node table of ``designer summary``: shapes, formulas, costs, receptive fields."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from designer.graph.graph import Graph
from designer.graph.inference import OK
from designer.graph.machine import too_big_for_memory

# (size_h, size_w, jump_h, jump_w) in input pixels; None: no spatial layout.
Field = tuple[int, int, int, int]


@dataclass(frozen=True)
class Row:
    name: str
    type: str
    inputs: list[str]
    output_shape: str
    formula: str
    params: int
    macs: int
    activations: int
    receptive_field: Field | None
    status: str
    error: str | None

    def rf_text(self) -> str:
        if self.receptive_field is None:
            return "—"
        h, w, jh, jw = self.receptive_field
        size = f"{h}" if h == w else f"{h}×{w}"
        jump = f"{jh}" if jh == jw else f"{jh}×{jw}"
        return f"{size} /{jump}"


def receptive_fields(graph: Graph) -> dict[str, Field | None]:
    """Receptive field size and jump of every spatial output, in input pixels.

    Each window of extent k and stride s grows the field by (k − 1)·jump and
    multiplies the jump by s; a merge takes the widest of its inputs.
    """
    fields: dict[str, Field | None] = {}
    for name in graph.topological_order():
        node, result = graph.node(name), graph.result(name)
        if result.status != OK or result.shape is None or len(result.shape) != 3:
            fields[name] = None
            continue
        if node.spec.is_input:
            fields[name] = (1, 1, 1, 1)
            continue
        upstream = [fields[s] for s in graph.sources(name)]
        window = node.spec.window(result.inputs, node.params)
        if window is None or any(f is None for f in upstream):
            fields[name] = None
            continue
        merged = tuple(max(values) for values in zip(*upstream))
        h, w, jh, jw = merged
        kh, kw, sh, sw = window
        fields[name] = (h + (kh - 1) * jh, w + (kw - 1) * jw, jh * sh, jw * sw)
    return fields


def rows(graph: Graph) -> list[Row]:
    fields = receptive_fields(graph)
    table = []
    for name in graph.topological_order():
        node, result = graph.node(name), graph.result(name)
        table.append(Row(
            name=name,
            type=node.type,
            inputs=list(graph.sources(name)),
            output_shape=result.shape_text,
            formula=result.formula,
            params=result.param_count,
            macs=result.macs,
            activations=result.activations,
            receptive_field=fields[name],
            status=result.status,
            error=result.error,
        ))
    return table


def totals(graph: Graph) -> dict[str, int]:
    results = graph.results.values()
    return {
        "params": sum(r.param_count for r in results),
        "macs": sum(r.macs for r in results),
        "activations": sum(r.activations for r in results),
    }


def warning_list(graph: Graph) -> list[str]:
    """What is not an error in the graph but will fail on this machine."""
    reason = too_big_for_memory(totals(graph)["params"])
    return [] if reason is None else [f"the network cannot be built here: {reason}"]


def error_list(graph: Graph) -> list[str]:
    return [f"{node}: {message}" if node else message for node, message in graph.errors()]


def as_json(graph: Graph) -> dict[str, Any]:
    total = totals(graph)
    return {
        "name": graph.name,
        "nodes": [
            {
                "name": r.name,
                "type": r.type,
                "inputs": r.inputs,
                "output_shape": None if r.status != OK else [int(d) for d in graph.result(r.name).shape or ()],
                "formula": r.formula,
                "params": r.params,
                "macs": r.macs,
                "activations": r.activations,
                "receptive_field": None if r.receptive_field is None else {
                    "size": list(r.receptive_field[:2]), "jump": list(r.receptive_field[2:])},
                "error": r.error,
            }
            for r in rows(graph)
        ],
        "total_params": total["params"],
        "total_macs": total["macs"],
        "total_activations": total["activations"],
        "errors": error_list(graph),
        "warnings": warning_list(graph),
    }


def human(n: int) -> str:
    """1234567 -> '1.23M'."""
    for unit, scale in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= scale:
            return f"{n / scale:.3g}{unit}"
    return str(n)


def as_text(graph: Graph) -> str:
    table = rows(graph)
    header = ("Name", "Type", "Connected to", "Output", "Params", "MACs", "RF", "Formula / error")
    body = []
    for r in table:
        note = r.formula if r.status == OK else (r.error or "")
        if r.status == "error":
            note = "ERROR: " + note
        body.append((r.name, r.type, ", ".join(r.inputs), r.output_shape, f"{r.params:,}",
                     f"{r.macs:,}", r.rf_text(), note))
    widths = [max(len(str(row[i])) for row in [header, *body]) for i in range(len(header) - 1)]
    widths = [min(w, 28) for w in widths]

    def line(cells: tuple[str, ...]) -> str:
        parts = []
        for i, cell in enumerate(cells[:-1]):
            text = cell if len(cell) <= widths[i] else cell[: widths[i] - 1] + "…"
            parts.append(text.rjust(widths[i]) if i in (4, 5) else text.ljust(widths[i]))
        return "  ".join(parts) + "  " + cells[-1]

    rule = "─" * (sum(widths) + 2 * len(widths) + 16)
    out = [f"{graph.name}", rule, line(header), rule, *(line(c) for c in body), rule]
    total = totals(graph)
    out.append(f"Total parameters: {total['params']:,} ({human(total['params'])})")
    out.append(f"Total MACs per sample: {total['macs']:,} ({human(total['macs'])})")
    out.append(f"Activations per sample: {total['activations']:,} values, "
               f"{total['activations'] * 4 / 2**20:.2f} MiB as float32")
    out.extend(f"warning: {w}" for w in warning_list(graph))
    errors = error_list(graph)
    if errors:
        out.append(f"{len(errors)} error{'s' if len(errors) > 1 else ''}:")
        out.extend(f"  {e}" for e in errors)
    return "\n".join(out).rstrip() + "\n"
