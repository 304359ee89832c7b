"""Layers that combine, permute or split tensors: residual add, concat, channel shuffle, slice."""

from __future__ import annotations

from collections.abc import Sequence

from sepcalc.cost import Cost
from sepcalc.formulas.base import (
    Attr,
    Attrs,
    Example,
    Parts,
    Shape,
    ShapeError,
    declare,
    numel,
    view_traffic,
)
from sepcalc.formulas.torchplan import call
from sepcalc.formulas.view import View, feature_map


def broadcast(inputs: Sequence[Shape], verb: str = "add") -> Shape:
    """The shape of the inputs broadcast together: in each dimension, every size is equal or 1.

    The inputs must have the same dimensions (torch would align a flat vector with the last
    spatial dimension, which no network means). Sizes are compared, never hashed, so that any
    number type that compares can stand for them (the grid search passes many sizes at once).
    """
    if any(len(s) != len(inputs[0]) for s in inputs[1:]):
        raise ShapeError(
            f"cannot {verb} tensors of different dimensions: {_shapes(inputs)}", "inputs"
        )
    out = []
    for sizes in zip(*inputs, strict=True):
        sized = [n for n in sizes if n != 1]
        if any(n != sized[0] for n in sized[1:]):
            raise ShapeError(
                f"cannot {verb} tensors of shapes {_shapes(inputs)}: in each dimension the "
                "sizes must be equal or 1 (broadcast)",
                "inputs",
            )
        out.append(sized[0] if sized else 1)
    return tuple(out)


def elementwise_cost(inputs: Sequence[Shape], out: Shape) -> Cost:
    """n tensors combined left to right (x1 op x2, then op x3...): one op per element of each
    partial result, so (n - 1) per output element when the shapes are equal."""
    ops = sum(numel(broadcast(inputs[: j + 1])) for j in range(1, len(inputs)))
    return Cost(elem_ops=ops, activations=numel(out))


def _shapes(inputs: Sequence[Shape]) -> str:
    return ", ".join(str(list(s)) for s in inputs)


def _infer_add(attrs: Attrs, inputs: Sequence[Shape]) -> Shape:
    """The inputs' shape, broadcast (each dimension equal or 1)."""
    return broadcast(inputs, "add")


def _infer_mul(attrs: Attrs, inputs: Sequence[Shape]) -> Shape:
    """The inputs' shape, broadcast (each dimension equal or 1)."""
    return broadcast(inputs, "multiply")


@declare(
    "add",
    attrs=(),
    infer=_infer_add,
    buckets=("add",),
    torch=lambda layer: call("Add"),
    flops="n - 1 per output element for an n-way add of equal shapes (broadcast: 1 per element "
    "of each partial sum)",
    examples=(
        Example({"inputs": ["input", "input"]}),
        Example({"inputs": ["input"] * 3}),
    ),
    view=View(
        "residual add of two tensors of C_in channels",
        "H, W: the size of the tensors added",
        lambda S, c: ({}, [feature_map(S), feature_map(S)], feature_map(S)),
    ),
    arity=None,
)
def _add(attrs: Attrs, inputs: Sequence[Shape], out: Shape) -> Parts:
    """Residual (element-wise) add of two or more tensors, broadcast."""
    return [("add", elementwise_cost(inputs, out))]


@declare(
    "mul",
    attrs=(),
    infer=_infer_mul,
    buckets=("mul",),
    torch=lambda layer: call("Mul"),
    flops="n - 1 per output element for an n-way product of equal shapes (a C x 1 x 1 gate: "
    "1 per output element); fvcore and FlopCounterMode count 0 for aten::mul",
    examples=(
        Example({"inputs": ["input", "input"]}),
        Example({"inputs": ["input"] * 3}, size=(4,)),
    ),
    view=View(
        "element-wise product of two tensors of C_in channels (a gate of C_in x 1 x 1: the same)",
        "H, W: the size of the output",
        lambda S, c: ({}, [feature_map(S), feature_map(S)], feature_map(S)),
    ),
    arity=None,
)
def _mul(attrs: Attrs, inputs: Sequence[Shape], out: Shape) -> Parts:
    """Element-wise product of two or more tensors, broadcast (gating): 1 op per output element."""
    return [("mul", elementwise_cost(inputs, out))]


def _infer_concat(attrs: Attrs, inputs: Sequence[Shape]) -> Shape:
    """Channels summed (the inputs' spatial sizes must be equal)."""
    if any(s[1:] != inputs[0][1:] for s in inputs[1:]):
        raise ShapeError(
            f"cannot concatenate channels of different spatial sizes: {_shapes(inputs)}", "inputs"
        )
    return (sum(s[0] for s in inputs), *inputs[0][1:])


@declare(
    "concat",
    attrs=(),
    infer=_infer_concat,
    buckets=("concat",),
    torch=lambda layer: call("Concat"),
    flops="0 (a copy)",
    examples=(Example({"inputs": ["input", "input"]}),),
    arity=None,
)
def _concat(attrs: Attrs, inputs: Sequence[Shape], out: Shape) -> Parts:
    """Channel concatenation: a copy, no arithmetic."""
    return [("concat", Cost(activations=numel(out)))]


def _infer_shuffle(attrs: Attrs, inputs: Sequence[Shape]) -> Shape:
    """The input's shape."""
    if inputs[0][0] % attrs["groups"]:
        raise ShapeError(
            f"groups={attrs['groups']} must divide the {inputs[0][0]} channels", "groups"
        )
    return inputs[0]


@declare(
    "channel_shuffle",
    attrs=(Attr("groups", "int", "groups whose channels are interleaved"),),
    infer=_infer_shuffle,
    buckets=("channel_shuffle",),
    torch=lambda layer: call("ChannelShuffle", layer.attrs["groups"]),
    flops="0 (a permutation)",
    examples=(Example({"groups": 2}), Example({"groups": 3}, channels=6, size=(4,))),
)
def _shuffle(attrs: Attrs, inputs: Sequence[Shape], out: Shape) -> Parts:
    """Channel shuffle (ShuffleNet): a permutation, no arithmetic."""
    return [("channel_shuffle", Cost(activations=numel(out)))]


def _infer_slice(attrs: Attrs, inputs: Sequence[Shape]) -> Shape:
    """`stop - start` channels."""
    (c, *size), start, stop = inputs[0], attrs["start"], attrs["stop"]
    if not start < stop <= c:
        raise ShapeError(
            f"channels {start}:{stop} are not a non-empty range of the {c} input channels "
            "(need 0 <= start < stop <= channels)",
            "stop",
        )
    return (stop - start, *size)


@declare(
    "slice",
    attrs=(
        Attr("start", "int", "first channel taken", 0, low=0),
        Attr("stop", "int", "channels start..stop-1 are taken (torch's x[:, start:stop])"),
    ),
    infer=_infer_slice,
    buckets=("slice",),
    torch=lambda layer: call("Slice", layer.attrs["start"], layer.attrs["stop"]),
    flops="0 (a view)",
    examples=(Example({"start": 0, "stop": 4}), Example({"start": 4, "stop": 8})),
    traffic=view_traffic,
)
def _slice(attrs: Attrs, inputs: Sequence[Shape], out: Shape) -> Parts:
    """Channel slice start:stop (ShuffleNetV2's channel split): a view, no cost."""
    return [("slice", Cost())]
