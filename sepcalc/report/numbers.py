"""Number formatting shared by the renderers."""

from __future__ import annotations

from typing import Any

from sepcalc.expr import plain as plain  # re-exported for the renderers
from sepcalc.expr import show

_SI = ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "K"))


def si(n: int) -> str:
    """A count with an SI suffix and 2 decimals: 568740352 -> '568.74M'."""
    for scale, suffix in _SI:
        if abs(n) >= scale:
            return f"{n / scale:.2f}{suffix}"
    return str(n)


def grouped(n: int) -> str:
    return f"{n:,}"


def share(part: int, total: int) -> str:
    return f"{100 * part / total:.2f}%" if total else "-"


def shape(dims: tuple[Any, ...]) -> str:
    return "x".join(str(d) for d in dims)


var = show
"""A var's value for people (re-exported from the core: search messages use it too)."""
