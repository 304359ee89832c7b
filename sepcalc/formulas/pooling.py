"""Windowed and global pooling."""

from __future__ import annotations

from collections.abc import Sequence

from sepcalc.cost import Cost
from sepcalc.formulas.base import Attrs, Parts, Shape, ShapeError, numel, prod, register
from sepcalc.formulas.conv import spatial_out


def pool_cost(kernel: Sequence[int], out: Shape) -> Cost:
    """Max or average pooling: one op per window element per output element, no parameters."""
    return Cost(pool_ops=prod(kernel) * numel(out), activations=numel(out))


def global_pool_cost(inp: Shape) -> Cost:
    """Global average pooling: one add per input element (the divide is not counted)."""
    return Cost(gpool_ops=numel(inp), activations=inp[0])


def _infer_pool(attrs: Attrs, inputs: Sequence[Shape]) -> Shape:
    return (inputs[0][0], *spatial_out(attrs, inputs[0]))


@register("maxpool", "avgpool", infer=_infer_pool, buckets=("pool",))
def _pool(attrs: Attrs, inputs: Sequence[Shape], out: Shape) -> Parts:
    """Max/average pooling: k*k ops per output element."""
    return [("pool", pool_cost(attrs["kernel"], out))]


def _infer_global(attrs: Attrs, inputs: Sequence[Shape]) -> Shape:
    if len(inputs[0]) < 2:
        raise ShapeError(f"needs an input with spatial dimensions, got shape {list(inputs[0])}")
    return (inputs[0][0], *(1 for _ in inputs[0][1:]))


@register("global_avg_pool", infer=_infer_global, buckets=("pool",))
def _global_pool(attrs: Attrs, inputs: Sequence[Shape], out: Shape) -> Parts:
    """Global average pooling to 1 x 1: one op per input element."""
    return [("pool", global_pool_cost(inputs[0]))]


def adaptive_pool_cost(inp: Shape, out: Shape) -> Cost:
    """Adaptive average pooling: one add per input element, as fvcore counts it.

    NB: exact when the output size divides the input size (windows tile the input); torch's
    overlapping windows otherwise read some elements twice, which this does not count.
    """
    return Cost(gpool_ops=numel(inp), activations=numel(out))


def _infer_adaptive(attrs: Attrs, inputs: Sequence[Shape]) -> Shape:
    if len(inputs[0]) < 2:
        raise ShapeError(f"needs an input with spatial dimensions, got shape {list(inputs[0])}")
    return (inputs[0][0], *attrs["size"])


@register("adaptive_avg_pool", infer=_infer_adaptive, buckets=("pool",))
def _adaptive_pool(attrs: Attrs, inputs: Sequence[Shape], out: Shape) -> Parts:
    """Adaptive average pooling to a given output size: one op per input element."""
    return [("pool", adaptive_pool_cost(inputs[0], out))]
