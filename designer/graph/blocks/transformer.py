"""Transformer pieces: learned tensors (class token, position embedding, layer scale) and self-attention.

A Parameter block is a tensor the model learns and uses as it is, with no input. Its
``shape`` is the tensor's own, as torch creates it; ``batch_axis`` says whether a leading
size of 1 stands for the batch, so ViT's (1, 1, 768) class token is 1×768 per sample and
ConvNeXt's (96, 1, 1) layer scale is 96×1×1. Either way its value has no batch axis of
the batch's size: it broadcasts where it is added or multiplied, and Concat expands it.
Its weight's state_dict key is the block's identifier itself (``class_token``).

MultiheadAttention is self-attention over T×D tokens (``batch_first=True``), written
``self.attn(x, x, x, need_weights=False)[0]`` as torchvision's ViT calls it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from designer.graph.errors import ShapeError
from designer.graph.params import BoolParam, ChoiceParam, FloatParam, IntParam, ShapeParam
from designer.graph.shapes import fmt_shape, need_rank
from designer.graph.spec import (
    INPUT,
    Arg,
    BlockSpec,
    CallSite,
    FromAttribute,
    FromModule,
    ModuleCall,
    Params,
    Refused,
    Shape,
    layer_value,
)

# -- a learned tensor ----------------------------------------------------------------------


def _parameter_shape(inputs: Sequence[Shape], p: Params) -> Shape:
    shape: Shape = p["shape"]
    if not p["batch_axis"]:
        return shape
    if shape[0] != 1:
        raise ShapeError(f"with batch_axis on, the first size stands for the batch and must be 1, not "
                         f"{shape[0]}: make the shape 1×{fmt_shape(shape)} or turn batch_axis off",
                         "batch_axis")
    if len(shape) == 1:
        raise ShapeError("with batch_axis on, the shape needs a size after the batch's 1, like 1×768; "
                         "or turn batch_axis off", "batch_axis")
    return shape[1:]


def _tuple_text(shape: Shape) -> str:
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def _parameter_module(inputs: Sequence[Shape], p: Params) -> ModuleCall:
    sizes = ", ".join(map(str, p["shape"]))
    init = p["init"]
    if init == "normal":
        value = f"torch.empty({sizes}).normal_(std={p['std']!r})"
    elif init == "constant":
        value = f"torch.full({_tuple_text(p['shape'])}, {p['value']!r})"
    else:
        value = f"torch.{init}({sizes})"
    return ModuleCall("Parameter", text=f"nn.Parameter({value})", parameter=True)


def _parameter_formula(inputs: Sequence[Shape], out: Shape, p: Params) -> str:
    return f"{fmt_shape(out)} per sample: the learned {fmt_shape(p['shape'])} tensor, the same for every sample"


def _parameter_label(p: Params) -> str:
    init = {"normal": f"normal {p['std']:g}", "constant": f"= {p['value']:g}"}.get(p["init"], p["init"])
    return f"{fmt_shape(p['shape'])} {init}"


def _parameter_read(shape: Shape) -> dict[str, Any]:
    # A leading 1 is where the batch broadcasts (a class token); a tensor without one is per sample.
    return {"shape": list(shape), "batch_axis": len(shape) >= 2 and shape[0] == 1}


PARAMETER = BlockSpec(
    type="Parameter",
    prefix="param",
    category="Attention",
    help="A tensor the network learns and uses as it is: ViT's class token (1×1×D, joined to the tokens by "
    "Concat) and position embedding (1×T×D, added), ConvNeXt's layer scale (C×1×1, multiplied). "
    "It has no input; every sample sees the same values. Its parameters are its elements.",
    params=(
        ShapeParam("shape", (1, 1, 64), "The tensor's sizes as torch creates it, e.g. [1, 1, 768].",
                   ranks=(1, 2, 3, 4)),
        BoolParam("batch_axis", True, "The first size, 1, stands for the batch, so a sample sees the rest: "
                  "[1, 197, 768] is 197×768 per sample. Off, the whole shape is per sample ([96, 1, 1])."),
        ChoiceParam("init", "zeros", "Initial values: zeros, ones, normal (mean 0, std) or a constant value.",
                    choices=("zeros", "ones", "normal", "constant")),
        FloatParam("std", 0.02, "Standard deviation of the normal initialisation.", low=0),
        FloatParam("value", 1e-6, "The constant initial value (layer scale starts at 1e-6)."),
    ),
    shape=_parameter_shape,
    formula=_parameter_formula,
    min_inputs=0,
    max_inputs=0,
    module=_parameter_module,
    param_count=lambda inputs, out, p: math.prod(p["shape"]),
    window=lambda inputs, p: None,  # it sees no pixels of the input: no receptive field
    label=_parameter_label,
    forward=layer_value,
    batched=False,
    aliases=("learned tensor", "nn.Parameter", "class token", "cls token", "position embedding",
             "positional embedding", "layer scale"),
    imports=(FromAttribute(_parameter_read),),
)


# -- self-attention ------------------------------------------------------------------------


def _mha_shape(inputs: Sequence[Shape], p: Params) -> Shape:
    x = inputs[0]
    need_rank("MultiheadAttention", x, (2,), "attention runs over tokens, one row each")
    heads, width = p["num_heads"], x[1]
    if width % heads:
        below = max(d for d in range(1, heads) if width % d == 0)
        above = next((d for d in range(heads + 1, width + 1) if width % d == 0), None)
        choices = f"{below} or {above}" if above is not None else str(below)
        raise ShapeError(f"embed_dim {width} (the input's last size) is not divisible by num_heads {heads}: "
                         f"use {choices} heads", "num_heads")
    return x


def _mha_formula(inputs: Sequence[Shape], out: Shape, p: Params) -> str:
    tokens, width = inputs[0]
    heads = p["num_heads"]
    return (f"{heads} head{'s' if heads > 1 else ''} of {width // heads}: softmax(Q·Kᵀ / √{width // heads})·V "
            f"over {tokens} tokens, then {width} → {width}")


def _mha_module(inputs: Sequence[Shape], p: Params) -> ModuleCall:
    kwargs: list[tuple[str, Any]] = [("dropout", p["dropout"])] if p["dropout"] else []
    if not p["bias"]:
        kwargs.append(("bias", False))
    kwargs.append(("batch_first", True))
    return ModuleCall("MultiheadAttention", (inputs[0][1], p["num_heads"]), tuple(kwargs))


def _mha_forward(args: Sequence[Arg], p: Params, layer: str) -> str:
    x = args[0].ident
    return f"{layer}({x}, {x}, {x}, need_weights=False)[0]"


def _mha_macs(inputs: Sequence[Shape], out: Shape, p: Params) -> int:
    tokens, width = inputs[0]
    # Q, K, V and output projections, then Q·Kᵀ and the weighted sum of V, each T·T·(D/h) per head.
    return 4 * tokens * width * width + 2 * tokens * tokens * width


def _mha_read(module: Any, site: CallSite) -> dict[str, Any]:
    if not module.batch_first:
        raise Refused("batch_first=False: its input is T×N×D; the block takes N×T×D (batch_first=True)")
    if not module._qkv_same_embed_dim or module.bias_k is not None or module.add_zero_attn:
        raise Refused("kdim, vdim, add_bias_kv and add_zero_attn have no block parameter")
    return {"num_heads": module.num_heads, "dropout": module.dropout, "bias": module.in_proj_bias is not None}


MULTIHEADATTENTION = BlockSpec(
    type="MultiheadAttention",
    prefix="attn",
    category="Attention",
    help="Self-attention over T×D tokens (torch's nn.MultiheadAttention with batch_first=True, called with "
    "the input as query, key and value): embed_dim is the input's D, split over num_heads heads. "
    "MACs count the four D×D projections per token (T·4·D²) and, summed over the heads, Q·Kᵀ and the "
    "weighted sum of V (T·T·D each): what torch's flop counter finds for the module in eval mode, "
    "halved; softmax and scaling are not counted.",
    params=(
        IntParam("num_heads", 8, "Number of heads; embed_dim must divide evenly among them.", low=1),
        FloatParam("dropout", 0.0, "Dropout on the attention weights while training.", low=0, high=1),
        BoolParam("bias", True, "Learn biases in the input and output projections."),
    ),
    shape=_mha_shape,
    formula=_mha_formula,
    input_ranks=frozenset({2}),
    rank_hint="attention runs over tokens, one row each",
    module=_mha_module,
    param_count=lambda inputs, out, p: 4 * inputs[0][1] ** 2 + (4 * inputs[0][1] if p["bias"] else 0),
    macs=_mha_macs,
    window=lambda inputs, p: None,
    label=lambda p: f"{p['num_heads']} heads",
    forward=_mha_forward,
    aliases=("attention", "self-attention", "multi-head attention", "mha", "transformer"),
    # Query, key and value are all the block's input.
    imports=(FromModule("MultiheadAttention", read=_mha_read, output_item=0,
                        call=(("key", INPUT), ("value", INPUT), ("need_weights", False))),),
)

SPECS = (PARAMETER, MULTIHEADATTENTION)
