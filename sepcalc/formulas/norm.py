"""Normalization layers."""

from __future__ import annotations

from collections.abc import Sequence

from sepcalc.cost import Cost, Num
from sepcalc.formulas.base import Attrs, Parts, Shape, numel, register, same_shape


def batchnorm_cost(shape: Shape, affine: bool = True) -> Cost:
    """BatchNorm at inference. params = 2*C (gamma, beta) if affine; ops = 2 per element, else 1.

    Running mean and variance are buffers, not parameters.
    """
    n: Num = numel(shape)
    return Cost(norm=2 * shape[0] * int(affine), norm_ops=n * (1 + int(affine)), activations=n)


@register("batchnorm", infer=same_shape, buckets=("batchnorm",))
def _batchnorm(attrs: Attrs, inputs: Sequence[Shape], out: Shape) -> Parts:
    """BatchNorm (inference): 2*C parameters, 2 FLOPs per element."""
    return [("batchnorm", batchnorm_cost(out, attrs.get("affine", True)))]
