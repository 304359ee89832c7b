"""Element-wise activation functions."""

from __future__ import annotations

from collections.abc import Sequence

from sepcalc.cost import Cost
from sepcalc.formulas.base import Attrs, Parts, Shape, numel, register, same_shape

ACTIVATIONS = (
    "relu",
    "relu6",
    "hardswish",
    "hardsigmoid",
    "sigmoid",
    "silu",
    "swish",
    "gelu",
    "tanh",
)


def activation_cost(shape: Shape) -> Cost:
    """Any activation: one evaluation per element, no parameters.

    NB: a transcendental function (sigmoid, gelu, tanh) costs more than one FLOP on real
    hardware; we count function evaluations, as ptflops does.
    """
    return Cost(act_ops=numel(shape), activations=numel(shape))


@register(*ACTIVATIONS, infer=same_shape, buckets=("activation",))
def _activation(attrs: Attrs, inputs: Sequence[Shape], out: Shape) -> Parts:
    """Activation: 1 FLOP per element, no parameters."""
    return [("activation", activation_cost(out))]
