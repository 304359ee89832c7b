"""A kind's symbolic view: the layer its closed form describes, in the symbols of ``symbols``.

A view does not repeat the formula: it gives the attributes and shapes of one representative
layer in symbols (``C_in``, ``k``, ``H``...), and ``sepcalc formula`` calls the kind's own cost
formula on them. The symbols arrive as an argument, so declaring a view imports no sympy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any, TypeAlias

from sepcalc.formulas.base import Shape

Symbols: TypeAlias = Any
"""The module :mod:`sepcalc.symbols` (passed in by the symbolic views, imported there)."""


@dataclass(frozen=True)
class Count:
    """What a layer view counts besides the layer's own weights and MACs."""

    bias: bool = False
    """A bias on every conv/linear stage: + C params, + 1 bias add per output element."""
    norm: bool = False
    """BatchNorm after every conv/linear stage: + 2*C params, + 2 ops per element."""
    act: bool = False
    """An activation after every conv/linear stage: + 1 op per element, no params."""

    def names(self) -> list[str]:
        return [f.name for f in fields(self) if getattr(self, f.name)]


Build: TypeAlias = Callable[[Symbols, Count], tuple[dict[str, Any], list[Shape], Shape]]


@dataclass(frozen=True)
class View:
    """The representative layer of a kind: its summary, what H and W mean, and its build."""

    summary: str
    sizes: str
    build: Build
    """(symbols, count) -> (attrs, input shapes, output shape) of the layer."""
    countable: bool = False
    """Whether a :class:`Count` (bias, norm, act) applies."""


OUTPUT_SIZE = (
    "H, W: output height and width (stride 1, 'same' padding, so also the input's: the "
    "MobileNet paper's D_F)"
)


def conv_attrs(S: Symbols, count: Count, **extra: Any) -> dict[str, Any]:
    """Attributes of a k x k, stride 1, 'same' conv-family layer with ``count``'s extras."""
    return {
        "kernel": (S.k, S.k),
        "stride": (1, 1),
        "padding": "same",
        "dilation": (1, 1),
        "groups": 1,
        "multiplier": 1,
        "bias": count.bias,
        "norm": "batchnorm" if count.norm else None,
        "act": "relu" if count.act else None,
        **extra,
    }


def feature_map(S: Symbols) -> Shape:
    """(C_in, H, W)."""
    return (S.C_in, S.H, S.W)
