"""Normalization layers."""

from __future__ import annotations

from collections.abc import Sequence

from sepcalc.cost import Cost, Num
from sepcalc.formulas.base import (
    Attr,
    Attrs,
    Example,
    Layer,
    Parts,
    Shape,
    declare,
    numel,
    same_shape,
)
from sepcalc.formulas.torchplan import Call, call, dims, nd
from sepcalc.formulas.view import View, feature_map


def batchnorm_cost(shape: Shape, affine: bool = True) -> Cost:
    """BatchNorm at inference. params = 2*C (gamma, beta) if affine; ops = 2 per element, else 1.

    Running mean and variance are buffers, not parameters.
    """
    n: Num = numel(shape)
    return Cost(norm=2 * shape[0] * int(affine), norm_ops=n * (1 + int(affine)), activations=n)


def _torch_batchnorm(layer: Layer) -> Call:
    n = max(dims(layer), 1)
    return call(nd(layer, "BatchNorm", n), layer.output_shape[0], affine=layer.attrs["affine"])


@declare(
    "batchnorm",
    attrs=(Attr("affine", "bool", "learned scale and shift (gamma, beta)", True),),
    infer=same_shape,
    buckets=("batchnorm",),
    torch=_torch_batchnorm,
    flops="2 per element (scale and shift at inference); 1 if not affine",
    examples=(Example({}), Example({"affine": False}, size=(5,)), Example({}, size=())),
    view=View(
        "BatchNorm at inference (affine) on C_in channels",
        "H, W: the size of the tensor normalized",
        lambda S, c: ({"affine": True}, [feature_map(S)], feature_map(S)),
    ),
)
def _batchnorm(attrs: Attrs, inputs: Sequence[Shape], out: Shape) -> Parts:
    """BatchNorm (inference): 2*C parameters, 2 FLOPs per element."""
    return [("batchnorm", batchnorm_cost(out, attrs["affine"]))]
