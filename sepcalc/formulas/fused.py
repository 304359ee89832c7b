"""Normalization and activation fused after a conv or linear layer (``norm:``/``act:`` keys)."""

from __future__ import annotations

from sepcalc.formulas.activation import activation_cost
from sepcalc.formulas.base import Parts, Shape
from sepcalc.formulas.norm import batchnorm_cost


def norm_act(norm: str | None, act: str | None, shape: Shape) -> Parts:
    """The parts of a fused norm and activation; they run in place, so they write no tensor."""
    parts: Parts = []
    if norm:
        parts.append(("batchnorm", batchnorm_cost(shape).without_activations()))
    if act:
        parts.append(("activation", activation_cost(shape).without_activations()))
    return parts
