"""Every sympy symbol sepcalc uses, defined once with its assumptions.

Imported only on symbolic paths (``formula``, ``analyze --symbolic``, ``search``): a plain
``analyze`` never imports sympy.
"""

from __future__ import annotations

import sympy

C_in = sympy.Symbol("C_in", integer=True, positive=True)
"""Input channels."""
C_out = sympy.Symbol("C_out", integer=True, positive=True)
"""Output channels."""
k = sympy.Symbol("k", integer=True, positive=True)
"""Kernel size of a square (or cubic) kernel."""
k_h = sympy.Symbol("k_h", integer=True, positive=True)
k_w = sympy.Symbol("k_w", integer=True, positive=True)
H = sympy.Symbol("H", integer=True, positive=True)
"""Feature map height (of the layer's output, unless a formula says otherwise)."""
W = sympy.Symbol("W", integer=True, positive=True)
"""Feature map width."""
s = sympy.Symbol("s", integer=True, positive=True)
"""Stride."""
g = sympy.Symbol("g", integer=True, positive=True)
"""Groups."""
m = sympy.Symbol("m", integer=True, positive=True)
"""Depth multiplier of a depthwise convolution."""
C_se = sympy.Symbol("C_se", integer=True, positive=True)
"""Hidden (squeeze) channels of a squeeze-and-excitation block."""

n_h = sympy.Symbol("n_h", integer=True, positive=True)
"""Attention heads."""

LAYER_SYMBOLS: dict[str, sympy.Symbol] = {
    sym.name: sym for sym in (C_in, C_out, k, k_h, k_w, H, W, s, g, m, C_se, n_h)
}


def var_symbol(name: str) -> sympy.Symbol:
    """A spec var as a symbol: a positive real (a width multiplier, a resolution relaxed)."""
    return sympy.Symbol(name, positive=True)
