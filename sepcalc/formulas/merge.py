"""Layers that combine, permute or split tensors: residual add, concat, channel shuffle, slice."""

from __future__ import annotations

from collections.abc import Sequence

from sepcalc.cost import Cost
from sepcalc.formulas.base import Attrs, Parts, Shape, ShapeError, numel, register


def add_cost(n_inputs: int, out: Shape) -> Cost:
    """Element-wise sum of n tensors: (n - 1) adds per output element."""
    return Cost(elem_ops=(n_inputs - 1) * numel(out), activations=numel(out))


def _infer_add(attrs: Attrs, inputs: Sequence[Shape]) -> Shape:
    if any(s != inputs[0] for s in inputs[1:]):
        shapes = ", ".join(str(list(s)) for s in inputs)
        raise ShapeError(f"cannot add tensors of different shapes: {shapes}")
    return inputs[0]


@register("add", infer=_infer_add, arity=None, buckets=("add",))
def _add(attrs: Attrs, inputs: Sequence[Shape], out: Shape) -> Parts:
    """Residual (element-wise) add of two or more equal shapes."""
    return [("add", add_cost(len(inputs), out))]


def _infer_concat(attrs: Attrs, inputs: Sequence[Shape]) -> Shape:
    if any(s[1:] != inputs[0][1:] for s in inputs[1:]):
        shapes = ", ".join(str(list(s)) for s in inputs)
        raise ShapeError(f"cannot concatenate channels of different spatial sizes: {shapes}")
    return (sum(s[0] for s in inputs), *inputs[0][1:])


@register("concat", infer=_infer_concat, arity=None, buckets=("concat",))
def _concat(attrs: Attrs, inputs: Sequence[Shape], out: Shape) -> Parts:
    """Channel concatenation: a copy, no arithmetic."""
    return [("concat", Cost(activations=numel(out)))]


def _infer_shuffle(attrs: Attrs, inputs: Sequence[Shape]) -> Shape:
    if inputs[0][0] % attrs["groups"]:
        raise ShapeError(f"groups={attrs['groups']} must divide the {inputs[0][0]} channels")
    return inputs[0]


@register("channel_shuffle", infer=_infer_shuffle, buckets=("channel_shuffle",))
def _shuffle(attrs: Attrs, inputs: Sequence[Shape], out: Shape) -> Parts:
    """Channel shuffle (ShuffleNet): a permutation, no arithmetic."""
    return [("channel_shuffle", Cost(activations=numel(out)))]


def _infer_slice(attrs: Attrs, inputs: Sequence[Shape]) -> Shape:
    (c, *size), start, stop = inputs[0], attrs["start"], attrs["stop"]
    if not start < stop <= c:
        raise ShapeError(
            f"channels {start}:{stop} are not a non-empty range of the {c} input channels "
            "(need 0 <= start < stop <= channels)"
        )
    return (stop - start, *size)


@register("slice", infer=_infer_slice, buckets=("slice",))
def _slice(attrs: Attrs, inputs: Sequence[Shape], out: Shape) -> Parts:
    """Channel slice start:stop (ShuffleNetV2's channel split): a view, no cost."""
    return [("slice", Cost())]
