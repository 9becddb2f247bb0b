"""Blocks that move values and compute nothing: Permute, Transpose, Reshape, Select, Narrow, ChannelShuffle.

Axes are numbered as torch numbers them, with the batch as axis 0, so a block
reads like the code it stands for (``x.permute(0, 2, 3, 1)``, ``x[:, 0]``); no
block may move, merge or take apart the batch axis, which the graph keeps first.

Taking part of a tensor is one block per part, ``Narrow`` (dim, start, length),
rather than one ``Split`` block with an output port per part. Every block has one
output today: the project file's edges, the canvas's ports, shape inference and
the generated ``forward`` all name a block's result by the block alone. Output
ports would change each of them and the file format (a version bump, and a
migration that loads older files unchanged) for a gain that is only visual:
ShuffleNet's ``x1, x2 = x.chunk(2, dim=1)`` is two Narrows reading the same
input, each used on its own, and a part nobody uses is simply not drawn. So
``chunk`` and ``split`` import as one Narrow per item the model uses, and
``x[:, a:b]`` as one Narrow; ``unbind`` and ``x[:, 0]`` as one Select.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from designer.graph.errors import ShapeError
from designer.graph.params import MAX_AXES, MAX_DIM, IntParam, IntsParam
from designer.graph.shapes import fmt_shape
from designer.graph.spec import (
    BATCH,
    REQUIRED,
    BlockSpec,
    CallSite,
    FromCall,
    FromModule,
    ModuleCall,
    Params,
    Refused,
    Shape,
)


def _axis(x: Shape, dim: int, key: str) -> int:
    """``dim`` in torch's numbering (batch first, negative from the end) as an index into the sample's ``x``."""
    rank = len(x) + 1
    if not -rank <= dim < rank:
        raise ShapeError(f"{key} {dim} is out of range for a {rank}-axis tensor (batch × {fmt_shape(x)}); "
                         f"use 1 to {rank - 1}", key)
    if dim % rank == 0:
        raise ShapeError(f"{key} {dim} is the batch axis, which stays as it is; use 1 to {rank - 1}", key)
    return dim % rank - 1


def _number(value: Any, what: str) -> int:
    """A plain number of the call (not the batch size, not a tensor), or Refused."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise Refused(f"its {what} is not a fixed number")
    return value


def _numbers(values: Any, what: str) -> list[int]:
    return [_number(v, what) for v in (values if isinstance(values, (list, tuple)) else [values])]


def _batch_dim(site: CallSite, dim: Any) -> int:
    if _number(dim, "dim") % len(site.inputs[0]) == 0:
        raise Refused("it splits the batch, which every block keeps whole")
    return int(dim)


def _index_text(ident: str, dim: int, item: str) -> str:
    """``x[:, 0]``, ``x[:, :, 2:5]``, ``x[..., 0]``: one axis indexed, as people write it."""
    if dim >= 0:
        return f"{ident}[{':, ' * dim}{item}]"
    return f"{ident}[..., {item}{', :' * (-dim - 1)}]"


def _torch_dims(dims: Sequence[int]) -> str:
    return ", ".join(map(str, dims))


# -- Permute and Transpose ------------------------------------------------------------


def _permutation(x: Shape, dims: Sequence[int]) -> list[int]:
    rank = len(x) + 1
    if len(dims) != rank:
        raise ShapeError(f"dims has {len(dims)} axes but the input, batch × {fmt_shape(x)}, has {rank}: "
                         f"give each of 0 to {rank - 1} once, 0 first", "dims")
    bad = next((d for d in dims if not -rank <= d < rank), None)
    if bad is not None:
        raise ShapeError(f"dims holds {bad}, out of range for a {rank}-axis tensor; use 0 to {rank - 1}",
                         "dims")
    order = [d % rank for d in dims]
    if len(set(order)) != rank:
        raise ShapeError(f"dims ({_torch_dims(dims)}) names an axis twice; give each of 0 to {rank - 1} once",
                         "dims")
    if order[0] != 0:
        raise ShapeError(f"dims ({_torch_dims(dims)}) moves the batch axis; keep 0 first", "dims")
    return [d - 1 for d in order[1:]]


def _permute_shape(inputs: Sequence[Shape], p: Params) -> Shape:
    x = inputs[0]
    return tuple(x[i] for i in _permutation(x, p["dims"]))


def _permute_read(site: CallSite) -> dict[str, Any] | None:
    dims = _numbers(site.arguments["dims"], "dims")
    if dims and dims[0] % len(site.inputs[0]) != 0:
        raise Refused("it moves the batch axis, which every block keeps first")
    if [d % len(site.inputs[0]) for d in dims] == list(range(len(dims))):
        return None  # the identity order changes nothing
    return {"dims": tuple(dims)}


PERMUTE = BlockSpec(
    type="Permute",
    category="Shape",
    help="Reorders the axes, as x.permute(0, 2, 3, 1) turns C×H×W into H×W×C (ConvNeXt's channels-last "
    "layer norm). dims counts the batch as axis 0, which stays first.",
    params=(IntsParam("dims", (0, 2, 3, 1), "The new order of the axes, batch (0) first.",
                      low=-MAX_AXES, high=MAX_AXES - 1, lengths=(2, MAX_AXES)),),
    shape=_permute_shape,
    formula=lambda inputs, out, p: f"{fmt_shape(out)} = {fmt_shape(inputs[0])} in the order "
    f"{_torch_dims(p['dims'][1:])}",
    forward=lambda args, p, layer: f"{args[0].ident}.permute({_torch_dims(p['dims'])})",
    label=lambda p: _torch_dims(p["dims"]),
    aliases=("channels last", "movedim", "rearrange", "reorder axes"),
    imports=(
        FromCall("Tensor.permute", (("*dims", ()),), read=_permute_read),
        FromCall("torch.permute", (("dims", REQUIRED),), read=_permute_read),
    ),
)


def _transpose_shape(inputs: Sequence[Shape], p: Params) -> Shape:
    x = inputs[0]
    a, b = _axis(x, p["dim0"], "dim0"), _axis(x, p["dim1"], "dim1")
    out = list(x)
    out[a], out[b] = x[b], x[a]
    return tuple(out)


def _transpose_read(site: CallSite) -> dict[str, Any]:
    dims = (_number(site.arguments["dim0"], "dim0"), _number(site.arguments["dim1"], "dim1"))
    if any(d % len(site.inputs[0]) == 0 for d in dims):
        raise Refused("it moves the batch axis, which every block keeps first")
    return {"dim0": dims[0], "dim1": dims[1]}


_AXIS = {"low": -MAX_AXES, "high": MAX_AXES - 1}
_TRANSPOSE_ARGS = (("dim0", REQUIRED), ("dim1", REQUIRED))

TRANSPOSE = BlockSpec(
    type="Transpose",
    category="Shape",
    help="Swaps two axes, as x.transpose(1, 2) turns D×T into T×D. The batch is axis 0 and cannot be swapped.",
    params=(IntParam("dim0", 1, "One axis to swap (1 is the first after the batch).", **_AXIS),
            IntParam("dim1", 2, "The other axis.", **_AXIS)),
    shape=_transpose_shape,
    formula=lambda inputs, out, p: f"{fmt_shape(out)} = {fmt_shape(inputs[0])} with axes "
    f"{p['dim0']} and {p['dim1']} swapped",
    forward=lambda args, p, layer: f"{args[0].ident}.transpose({p['dim0']}, {p['dim1']})",
    label=lambda p: f"{p['dim0']} ↔ {p['dim1']}",
    aliases=("swapaxes", "swap axes", "swapdims"),
    imports=tuple(FromCall(target, _TRANSPOSE_ARGS, read=_transpose_read)
                  for target in ("Tensor.transpose", "torch.transpose", "Tensor.swapaxes", "torch.swapaxes",
                                 "Tensor.swapdims", "torch.swapdims")),
)


# -- Reshape --------------------------------------------------------------------------


def _reshape_shape(inputs: Sequence[Shape], p: Params) -> Shape:
    x, shape = inputs[0], p["shape"]
    values = math.prod(x)
    known = math.prod(s for s in shape if s != -1)
    if shape.count(-1) > 1:
        raise ShapeError(f"shape {fmt_shape(shape)} has more than one -1; only one size can be left to follow",
                         "shape")
    if -1 in shape:
        if values % known:
            raise ShapeError(f"shape {fmt_shape(shape)} cannot hold the {values:,} values of {fmt_shape(x)}: "
                             f"{values:,} is not a multiple of {known:,}", "shape")
        return tuple(values // known if s == -1 else s for s in shape)
    if known != values:
        raise ShapeError(f"shape {fmt_shape(shape)} holds {known:,} values but {fmt_shape(x)} has {values:,}; "
                         "make the sizes multiply to that, or write -1 for one of them", "shape")
    return tuple(shape)


def _reshape_formula(inputs: Sequence[Shape], out: Shape, p: Params) -> str:
    x, shape = inputs[0], p["shape"]
    values = math.prod(x)
    if -1 in shape:
        known = math.prod(s for s in shape if s != -1)
        return f"{fmt_shape(out)}: −1 is {values:,} / {known:,} = {values // known:,}"
    return f"{fmt_shape(out)}: the {values:,} values of {fmt_shape(x)}"


def _reshape_read(site: CallSite) -> dict[str, Any]:
    """``x.reshape(n, 768, 196)``, ``x.view(-1, 4, 8)``: the first size is the batch, the rest the block's."""
    sizes = list(site.arguments["shape"])
    if len(sizes) == 1 and isinstance(sizes[0], (list, tuple)):
        sizes = list(sizes[0])
    first, rest = (sizes[0], sizes[1:]) if sizes else (None, [])
    if first is not BATCH and first != -1:
        raise Refused(f"its first size, {first}, does not follow the batch; write x.size(0) or -1 there")
    if not rest or any(s is BATCH or not isinstance(s, int) for s in rest):
        raise Refused("only the first size may be the batch; the others must be numbers")
    if first == -1 and (-1 in rest or math.prod(rest) != math.prod(site.inputs[0][1:])):
        raise Refused("its -1 would move values from one sample to another")
    return {"shape": tuple(rest)}


_VIEW = (("*shape", ()),)

RESHAPE = BlockSpec(
    type="Reshape",
    category="Shape",
    help="Gives each sample a new shape holding the same values in the same order, as x.reshape(n, 768, 196) "
    "does; one size may be −1, worked out from the others. The batch axis stays. A shape of −1 alone is "
    "what Flatten does, and imports back as a Flatten.",
    params=(IntsParam("shape", (-1,), "The new shape of one sample; −1 for the one size that follows.",
                      low=-1, lengths=(1, MAX_AXES - 1), sizes=True),),
    shape=_reshape_shape,
    formula=_reshape_formula,
    forward=lambda args, p, layer: f"{args[0].ident}.reshape({args[0].ident}.shape[0], "
    f"{_torch_dims(p['shape'])})",
    label=lambda p: "×".join("−1" if s == -1 else str(s) for s in p["shape"]),
    aliases=("view", "unflatten"),
    imports=(
        FromCall("Tensor.view", _VIEW, read=_reshape_read),
        FromCall("Tensor.reshape", _VIEW, read=_reshape_read),
        FromCall("torch.reshape", (("shape", REQUIRED),), read=_reshape_read),
    ),
)


# -- Select and Narrow: one axis indexed --------------------------------------------------


def _select_shape(inputs: Sequence[Shape], p: Params) -> Shape:
    x = inputs[0]
    if len(x) < 2:
        raise ShapeError(f"Select needs two or more axes per sample, got {fmt_shape(x)}; "
                         "taking one of its values would leave only the batch", "dim")
    axis = _axis(x, p["dim"], "dim")
    size, index = x[axis], p["index"]
    if not -size <= index < size:
        raise ShapeError(f"index {index} is out of range for the {size} along axis {p['dim']}; "
                         f"use 0 to {size - 1} (or −{size} to −1 from the end)", "index")
    return x[:axis] + x[axis + 1:]


def _narrow_shape(inputs: Sequence[Shape], p: Params) -> Shape:
    x = inputs[0]
    axis = _axis(x, p["dim"], "dim")
    size, start, length = x[axis], p["start"], p["length"]
    if start >= size:
        raise ShapeError(f"start {start} is past the {size} along axis {p['dim']}; use 0 to {size - 1}",
                         "start")
    if start + length > size:
        raise ShapeError(f"start {start} + length {length} runs past the {size} along axis {p['dim']}; "
                         f"use length ≤ {size - start}", "length")
    return (*x[:axis], length, *x[axis + 1:])


def _narrow_item(p: Params) -> str:
    start, stop = p["start"], p["start"] + p["length"]
    return f":{stop}" if start == 0 else f"{start}:{stop}"


def _whole(entry: Any) -> bool:
    return isinstance(entry, slice) and entry.start is None and entry.stop is None and entry.step in (None, 1)


def _indexed(site: CallSite) -> tuple[int, Any] | None:
    """The one axis ``x[...]`` takes apart, numbered as written (from the end after ``...``), and what it takes.

    None when it takes everything (``x[:, :]``).
    """
    index = site.arguments["index"]
    entries = index if isinstance(index, tuple) else (index,)
    if any(e is None for e in entries):
        raise Refused("None adds an axis, which no block does")
    if entries.count(Ellipsis) > 1:
        raise Refused("it has more than one ...")
    cut = entries.index(Ellipsis) if Ellipsis in entries else len(entries)
    front, back = entries[:cut], entries[cut + 1:]
    rank = len(site.inputs[0])
    if len(front) + len(back) > rank:
        raise Refused(f"it indexes {len(front) + len(back)} axes of a {rank}-axis tensor")
    taken = [(i, e) for i, e in enumerate(front) if not _whole(e)]
    taken += [(i - len(back), e) for i, e in enumerate(back) if not _whole(e)]
    if not taken:
        return None
    if len(taken) > 1:
        raise Refused(f"it takes apart {len(taken)} axes at once; a block takes one: index one axis at a time")
    dim, entry = taken[0]
    if dim % rank == 0:
        raise Refused("it takes part of the batch, which every block keeps whole")
    if not isinstance(entry, (int, slice)) or isinstance(entry, bool):
        raise Refused("it indexes with something other than fixed numbers")
    return dim, entry


def _select_read(site: CallSite) -> dict[str, Any] | None:
    found = _indexed(site)
    if found is None:
        return None
    dim, entry = found
    if not isinstance(entry, int):
        raise Refused("it takes a range, not one item")
    return {"dim": dim, "index": entry}


def _slice_read(site: CallSite) -> dict[str, Any] | None:
    """``x[:, 24:48]`` as a Narrow; bounds from the end or past it are worked out on the real size."""
    found = _indexed(site)
    if found is None:
        return None
    dim, entry = found
    if not isinstance(entry, slice):
        raise Refused("it picks one item, which is a Select")
    if not all(v is None or isinstance(v, int) for v in (entry.start, entry.stop, entry.step)):
        raise Refused("its bounds are not fixed numbers")
    start, stop, step = entry.indices(site.inputs[0][dim])
    if step != 1:
        raise Refused(f"it takes every {step}th item; Narrow takes neighbours")
    if stop <= start:
        raise Refused("it takes nothing")
    return {"dim": dim, "start": start, "length": stop - start}


def _chunk_read(site: CallSite) -> dict[str, Any]:
    """Item k of ``x.chunk(n, dim)``: torch makes every chunk ⌈size / n⌉ long but the last."""
    dim = _batch_dim(site, site.arguments["dim"])
    size, chunks = site.inputs[0][dim], _number(site.arguments["chunks"], "number of chunks")
    each = -(-size // chunks)
    start = _item(site) * each
    return {"dim": dim, "start": start, "length": min(each, size - start)}


def _item(site: CallSite) -> int:
    """Which item of the returned tuple the block is: always given to a rule with ``item``."""
    assert site.item is not None
    return site.item


def _split_read(site: CallSite) -> dict[str, Any]:
    """Item k of ``x.split(24, dim)`` (pieces of 24, the last shorter) or ``x.split([58, 58], dim)``."""
    dim = _batch_dim(site, site.arguments["dim"])
    given = site.arguments.get("split_size", site.arguments.get("split_size_or_sections"))
    sizes, item, whole = _numbers(given, "split size"), _item(site), site.inputs[0][dim]
    if isinstance(given, (list, tuple)):
        return {"dim": dim, "start": sum(sizes[:item]), "length": sizes[item]}
    return {"dim": dim, "start": item * sizes[0], "length": min(sizes[0], whole - item * sizes[0])}


def _narrow_read(site: CallSite) -> dict[str, Any]:
    dim = _batch_dim(site, site.arguments["dim"])
    start, length = _number(site.arguments["start"], "start"), _number(site.arguments["length"], "length")
    return {"dim": dim, "start": start % site.inputs[0][dim], "length": length}


def _select_call_read(site: CallSite) -> dict[str, Any]:
    return {"dim": _batch_dim(site, site.arguments["dim"]), "index": _number(site.arguments["index"], "index")}


def _unbind_read(site: CallSite) -> dict[str, Any]:
    return {"dim": _batch_dim(site, site.arguments["dim"]), "index": _item(site)}


_GETITEM = (("index", REQUIRED),)

SELECT = BlockSpec(
    type="Select",
    category="Shape",
    help="Takes one item along an axis and drops that axis, as x[:, 0] takes ViT's class token from its "
    "T×D tokens. dim counts the batch as axis 0; a negative index counts from the end.",
    params=(IntParam("dim", 1, "The axis to take from (1 is the first after the batch).", **_AXIS),
            IntParam("index", 0, "Which item; −1 is the last.", low=-MAX_DIM, high=MAX_DIM)),
    shape=_select_shape,
    formula=lambda inputs, out, p: f"{fmt_shape(out)}: item {p['index']} of the "
    f"{inputs[0][_axis(inputs[0], p['dim'], 'dim')]} along axis {p['dim']}",
    input_ranks=frozenset(range(2, MAX_AXES)),
    rank_hint="Select needs two or more axes per sample",
    forward=lambda args, p, layer: _index_text(args[0].ident, p["dim"], str(p["index"])),
    label=lambda p: _index_text("", p["dim"], str(p["index"])),
    aliases=("class token", "cls token", "index", "take token", "unbind"),
    imports=(
        FromCall("operator.getitem", _GETITEM, read=_select_read),
        *(FromCall(target, (("dim", REQUIRED), ("index", REQUIRED)), read=_select_call_read)
          for target in ("Tensor.select", "torch.select")),
        *(FromCall(target, (("dim", 0),), read=_unbind_read, item=True)
          for target in ("Tensor.unbind", "torch.unbind")),
    ),
)

NARROW = BlockSpec(
    type="Narrow",
    category="Shape",
    help="Takes length neighbouring items from start along one axis, as x[:, 0:58] or x.narrow(1, 0, 58): "
    "ShuffleNet's halves from x.chunk(2, dim=1) are two Narrows. dim counts the batch as axis 0.",
    params=(IntParam("dim", 1, "The axis to take from (1 is the first after the batch).", **_AXIS),
            IntParam("start", 0, "The first item taken.", low=0, high=MAX_DIM),
            IntParam("length", 1, "How many items.", low=1, high=MAX_DIM)),
    shape=_narrow_shape,
    formula=lambda inputs, out, p: f"{fmt_shape(out)}: items {p['start']} to {p['start'] + p['length'] - 1} "
    f"of the {inputs[0][_axis(inputs[0], p['dim'], 'dim')]} along axis {p['dim']}",
    forward=lambda args, p, layer: _index_text(args[0].ident, p["dim"], _narrow_item(p)),
    label=lambda p: _index_text("", p["dim"], _narrow_item(p)),
    aliases=("slice", "split", "chunk", "crop channels", "take part"),
    imports=(
        FromCall("operator.getitem", _GETITEM, read=_slice_read),
        *(FromCall(target, (("dim", REQUIRED), ("start", REQUIRED), ("length", REQUIRED)), read=_narrow_read)
          for target in ("Tensor.narrow", "torch.narrow")),
        *(FromCall(target, (("chunks", REQUIRED), ("dim", 0)), read=_chunk_read, item=True)
          for target in ("Tensor.chunk", "torch.chunk")),
        FromCall("Tensor.split", (("split_size", REQUIRED), ("dim", 0)), read=_split_read, item=True),
        FromCall("torch.split", (("split_size_or_sections", REQUIRED), ("dim", 0)), read=_split_read,
                 item=True),
    ),
)


# -- ChannelShuffle -----------------------------------------------------------------------


def _shuffle_shape(inputs: Sequence[Shape], p: Params) -> Shape:
    x, groups = inputs[0], p["groups"]
    if len(x) < 2:
        raise ShapeError(f"ChannelShuffle needs channels and at least one more axis, got {fmt_shape(x)}")
    if x[0] % groups:
        raise ShapeError(f"the {x[0]} channels do not split into {groups} groups; use a groups that divides "
                         f"{x[0]}", "groups")
    return x


CHANNEL_SHUFFLE = BlockSpec(
    type="ChannelShuffle",
    prefix="shuffle",
    category="Shape",
    help="Interleaves the channels of groups groups, so that the next grouped convolution mixes them "
    "(ShuffleNet): channel i of group g goes to position i·groups + g.",
    params=(IntParam("groups", 2, "How many groups the channels come in.", low=1),),
    shape=_shuffle_shape,
    formula=lambda inputs, out, p: f"{out[0]} channels: {p['groups']} groups of {out[0] // p['groups']}, "
    "interleaved",
    input_ranks=frozenset(range(2, MAX_AXES)),
    rank_hint="ChannelShuffle needs C×H×W (or C×L)",
    module=lambda inputs, p: ModuleCall("ChannelShuffle", (p["groups"],)),
    label=lambda p: f"g{p['groups']}",
    aliases=("shuffle", "shufflenet", "channel shuffle"),
    imports=(
        FromModule("ChannelShuffle"),
        *(FromCall(target, (("groups", REQUIRED),)) for target in ("torch.channel_shuffle",
                                                                   "torch.native_channel_shuffle")),
    ),
)

SPECS = (PERMUTE, TRANSPOSE, RESHAPE, SELECT, NARROW, CHANNEL_SHUFFLE)
