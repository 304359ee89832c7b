"""Number formatting shared by the renderers."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

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


def var(value: Any) -> str:
    """A var's value for people: 0.5 rather than 1/2, and 1/3 where no decimal is exact."""
    if isinstance(value, Fraction) and value.denominator != 1:
        as_float = float(value)
        return repr(as_float) if Fraction(repr(as_float)) == value else str(value)
    return str(value)


def plain(value: Any) -> Any:
    """A number as JSON has it: ints stay exact, other rationals become floats."""
    if isinstance(value, Fraction):
        return value.numerator if value.denominator == 1 else float(value)
    return value
