"""Blocks that join branches: element-wise Add and channel Concat."""

from __future__ import annotations

from collections.abc import Sequence

from designer.graph.errors import ShapeError
from designer.graph.shapes import fmt_shape
from designer.graph.spec import Arg, BlockSpec, CallSite, FromCall, Params, Refused, Shape, Window


def _add_shape(inputs: Sequence[Shape], p: Params) -> Shape:
    first = inputs[0]
    for other in inputs[1:]:
        if other != first:
            raise ShapeError(f"Add inputs differ: {fmt_shape(first)} vs {fmt_shape(other)}")
    return first


def _concat_shape(inputs: Sequence[Shape], p: Params) -> Shape:
    first = inputs[0]
    for other in inputs[1:]:
        if len(other) != len(first):
            raise ShapeError(f"Concat inputs have different ranks: {fmt_shape(first)} vs {fmt_shape(other)}")
        if other[1:] != first[1:]:
            raise ShapeError(
                "Concat inputs must agree in everything but channels: "
                f"{fmt_shape(first)} vs {fmt_shape(other)}"
            )
    return (sum(x[0] for x in inputs), *first[1:])


def _merge_window(inputs: Sequence[Shape], p: Params) -> Window:
    return (1, 1, 1, 1)


def _add_forward(args: Sequence[Arg], p: Params, layer: str) -> str:
    return " + ".join(a.ident for a in args)


def _concat_forward(args: Sequence[Arg], p: Params, layer: str) -> str:
    # A learned tensor (a class token) has a batch of one: torch.cat does not broadcast, so it is expanded.
    batch = next((a.ident for a in args if a.batched), None)
    # -1 for every axis of a sample, written out: torch.fx cannot trace *x.shape[1:].
    parts = [a.ident if a.batched or batch is None
             else f"{a.ident}.expand({batch}.shape[0], {', '.join(['-1'] * a.rank)})" for a in args]
    return f"torch.cat([{', '.join(parts)}], dim=1)"


def _add_read(site: CallSite) -> dict[str, object]:
    if site.arguments.get("alpha", 1) != 1:
        raise Refused("alpha scales the second input; Add has no such parameter")
    # A learned tensor's leading 1 is where the batch broadcasts (the Parameter block's batch_axis).
    samples = {shape[1:] if batched or (len(shape) >= 2 and shape[0] == 1) else shape
               for shape, batched in zip(site.inputs, site.batched)}
    if samples != {site.output[1:]}:
        raise Refused("only tensors of the same shape can be added")
    return {}


def _concat_read(site: CallSite) -> dict[str, object] | None:
    dim, rank = site.arguments["dim"], len(site.inputs[0])
    if not isinstance(dim, int) or rank < 2 or dim % rank != 1:
        raise Refused(f"joins along dim {dim}; only the first axis after the batch, dim 1, can be drawn")
    return None if len(site.inputs) == 1 else {}


ADD = BlockSpec(
    type="Add",
    category="Merge",
    help="Adds two or more inputs of the same shape element by element (residual connections).",
    params=(),
    shape=_add_shape,
    min_inputs=2,
    max_inputs=None,
    window=_merge_window,
    forward=_add_forward,
    imports=(
        FromCall("operator.add", tensors=2, read=_add_read),
        *(FromCall(target, (("alpha", 1),), tensors=2, read=_add_read)
          for target in ("torch.add", "Tensor.add", "Tensor.add_")),
    ),
)

CONCAT = BlockSpec(
    type="Concat",
    category="Merge",
    help="Stacks two or more inputs along the channel axis; the other sizes must agree "
    "(Inception modules). The order of the inputs is the order of the channels.",
    params=(),
    shape=_concat_shape,
    formula=lambda inputs, out, p: f"{out[0]} = " + " + ".join(str(x[0]) for x in inputs),
    min_inputs=2,
    max_inputs=None,
    window=_merge_window,
    forward=_concat_forward,
    imports=tuple(FromCall(target, (("dim", 0),), tensors=None, read=_concat_read)
                  for target in ("torch.cat", "torch.concat", "torch.concatenate")),
)

SPECS = (ADD, CONCAT)
