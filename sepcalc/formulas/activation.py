"""Element-wise activation functions."""

from __future__ import annotations

from collections.abc import Sequence

from sepcalc.cost import Cost
from sepcalc.formulas.base import Attrs, Example, Layer, Parts, Shape, declare, numel, same_shape
from sepcalc.formulas.torchplan import ACT_CLASSES, Call, call
from sepcalc.formulas.view import View, feature_map

ACTIVATIONS = tuple(ACT_CLASSES)
"""Every activation a layer kind or a fused ``act:`` can name."""


def activation_cost(shape: Shape) -> Cost:
    """Any activation: one evaluation per element, no parameters.

    NB: a transcendental function (sigmoid, gelu, tanh) costs more than one FLOP on real
    hardware; we count function evaluations, as ptflops does.
    """
    return Cost(act_ops=numel(shape), activations=numel(shape))


def _torch_activation(layer: Layer) -> Call:
    return call(ACT_CLASSES[layer.kind])


def _view(kind: str) -> View:
    return View(
        f"{kind} activation on C_in channels",
        "H, W: the size of the tensor activated",
        lambda S, c: ({}, [feature_map(S)], feature_map(S)),
    )


@declare(
    *ACTIVATIONS,
    attrs=(),
    infer=same_shape,
    buckets=("activation",),
    torch=_torch_activation,
    flops="1 per element (a function evaluation, as ptflops counts)",
    examples=(Example({}), Example({}, size=(3, 2, 2))),
    view=_view,
)
def _activation(attrs: Attrs, inputs: Sequence[Shape], out: Shape) -> Parts:
    """Activation: 1 FLOP per element, no parameters."""
    return [("activation", activation_cost(out))]
