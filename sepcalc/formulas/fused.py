"""Normalization and activation fused after a conv or linear layer (``norm:``/``act:`` keys)."""

from __future__ import annotations

from sepcalc.formulas.activation import ACTIVATIONS, activation_cost
from sepcalc.formulas.base import Attr, Attrs, Parts, Shape, ShapeError
from sepcalc.formulas.norm import batchnorm_cost, check_groups, stat_norm_cost

NORMS = ("batchnorm", "layernorm", "groupnorm")
"""The norms a layer can fuse (``norm:``); each is affine, and its breakdown bucket is its name."""


def norm_act_attrs(prefix: str = "", where: str = "") -> tuple[Attr, ...]:
    """The ``norm``, ``norm_groups`` and ``act`` attributes (``mid_norm``... with a prefix)."""
    return (
        Attr(f"{prefix}norm", "choice", f"norm after the {where or 'layer'}", None, choices=NORMS),
        Attr(
            f"{prefix}norm_groups",
            "int",
            f"the group count of a `{prefix}norm: groupnorm` (needed by it, refused otherwise)",
            None,
        ),
        Attr(
            f"{prefix}act",
            "choice",
            f"activation after the {where or 'layer'} (and its norm)",
            None,
            choices=ACTIVATIONS,
        ),
    )


def check_norm_groups(attrs: Attrs, channels: int, prefix: str = "") -> None:
    """``norm_groups`` is given exactly when the norm is a groupnorm, and divides the channels
    (attributes built by hand, without it, have none)."""
    norm, groups = attrs[f"{prefix}norm"], attrs.get(f"{prefix}norm_groups")
    if norm == "groupnorm" and groups is None:
        raise ShapeError(
            f"{prefix}norm: groupnorm needs {prefix}norm_groups, its number of groups",
            f"{prefix}norm",
        )
    if norm != "groupnorm" and groups is not None:
        raise ShapeError(
            f"{prefix}norm_groups applies only to {prefix}norm: groupnorm "
            f"({prefix}norm is {norm or 'not set'})",
            f"{prefix}norm_groups",
        )
    if groups is not None:
        check_groups(channels, groups, f"{prefix}norm_groups")


def norm_act(attrs: Attrs, shape: Shape, prefix: str = "") -> Parts:
    """The parts of the norm and activation fused after a layer whose output has ``shape``
    (``mid_norm``/``mid_act`` with a prefix); they run in place, so they write no tensor."""
    norm, act = attrs[f"{prefix}norm"], attrs[f"{prefix}act"]
    check_norm_groups(attrs, shape[0], prefix)
    parts: Parts = []
    if norm == "batchnorm":
        parts.append(("batchnorm", batchnorm_cost(shape).without_activations()))
    elif norm:
        parts.append((norm, stat_norm_cost(shape).without_activations()))
    if act:
        parts.append(("activation", activation_cost(shape).without_activations()))
    return parts
