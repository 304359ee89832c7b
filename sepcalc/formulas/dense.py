"""Fully connected layers."""

from __future__ import annotations

from collections.abc import Sequence

from sepcalc.cost import Cost, Num
from sepcalc.formulas.base import FUSED, Attrs, Parts, Shape, prod, register
from sepcalc.formulas.fused import norm_act


def linear_cost(c_in: Num, c_out: Num, positions: Num = 1, bias: bool = True) -> Cost:
    """Linear. weight = C_in * C_out; MACs = weight * positions; bias = C_out."""
    return Cost(
        weight=c_in * c_out,
        bias=c_out * int(bias),
        macs=c_in * c_out * positions,
        bias_ops=c_out * positions * int(bias),
        activations=c_out * positions,
    )


def _infer_linear(attrs: Attrs, inputs: Sequence[Shape]) -> Shape:
    return (attrs["out"], *inputs[0][1:])


@register("linear", infer=_infer_linear, buckets=("linear", *FUSED))
def _linear(attrs: Attrs, inputs: Sequence[Shape], out: Shape) -> Parts:
    """Linear over the channel (feature) axis; any spatial positions pass through."""
    cost = linear_cost(inputs[0][0], out[0], prod(out[1:]), attrs["bias"])
    return [("linear", cost), *norm_act(attrs["norm"], attrs["act"], out)]
