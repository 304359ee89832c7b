"""Normalization and activation fused after a conv or linear layer (``norm:``/``act:`` keys)."""

from __future__ import annotations

from sepcalc.formulas.activation import ACTIVATIONS, activation_cost
from sepcalc.formulas.base import Attr, Parts, Shape
from sepcalc.formulas.norm import batchnorm_cost

NORMS = ("batchnorm",)
"""The norms a layer can fuse (``norm:``)."""


def norm_act_attrs(prefix: str = "", where: str = "") -> tuple[Attr, ...]:
    """The ``norm`` and ``act`` attributes (``mid_norm``, ``mid_act`` with a prefix)."""
    return (
        Attr(f"{prefix}norm", "choice", f"norm after the {where or 'layer'}", None, choices=NORMS),
        Attr(
            f"{prefix}act",
            "choice",
            f"activation after the {where or 'layer'} (and its norm)",
            None,
            choices=ACTIVATIONS,
        ),
    )


def norm_act(norm: str | None, act: str | None, shape: Shape) -> Parts:
    """The parts of a fused norm and activation; they run in place, so they write no tensor."""
    parts: Parts = []
    if norm:
        parts.append(("batchnorm", batchnorm_cost(shape).without_activations()))
    if act:
        parts.append(("activation", activation_cost(shape).without_activations()))
    return parts
