"""Squeeze-and-excitation (SENet; MobileNetV3 and EfficientNet blocks)."""

from __future__ import annotations

from collections.abc import Sequence

from sepcalc.cost import Cost, Num
from sepcalc.formulas.activation import activation_cost
from sepcalc.formulas.base import Attrs, Parts, Shape, numel, register, same_shape
from sepcalc.formulas.dense import linear_cost
from sepcalc.formulas.pooling import global_pool_cost


def squeeze_excite_cost(shape: Shape, squeeze: Num) -> Cost:
    """SE: global pool, FC C->s (bias), act, FC s->C (bias), gate, scale.

    params = 2*C*s + s + C; MACs = 2*C*s; the scale is one multiply per element.
    """
    c = shape[0]
    return (
        global_pool_cost(shape)
        + linear_cost(c, squeeze)
        + activation_cost((squeeze,))
        + linear_cost(squeeze, c)
        + activation_cost((c,)).without_activations()
        + Cost(elem_ops=numel(shape), activations=numel(shape))
    )


@register("squeeze_excite", infer=same_shape, buckets=("squeeze_excite",))
def _squeeze_excite(attrs: Attrs, inputs: Sequence[Shape], out: Shape) -> Parts:
    """Squeeze-and-excitation with `squeeze` hidden channels (FCs written as 1x1 convs)."""
    return [("squeeze_excite", squeeze_excite_cost(out, attrs["squeeze"]))]
