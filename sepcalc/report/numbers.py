"""Number formatting shared by the renderers."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from sepcalc.expr import approximate as approximate  # re-exported for the renderers
from sepcalc.expr import fixed as fixed
from sepcalc.expr import plain as plain
from sepcalc.expr import scientific as scientific
from sepcalc.expr import show

_SI = ("", "K", "M", "G", "T", "P", "E")
"""SI suffixes by power of 1000: K = 10**3 ... E = 10**18."""


def si(n: int) -> str:
    """A count with an SI suffix (K, M, G, T, P, E) and 2 decimals: 568740352 -> '568.74M';
    from 1000E on, scientific notation with 2 decimals: 5.76e+44.

    Exact for any int (no float divides it). A count that rounds up to 1000 of one suffix
    takes the next (999_999 -> '1.00M', 999_999 * 10**18 -> '1.00e+21').
    """
    power = 0
    while power + 1 < len(_SI) and abs(n) >= 1000 ** (power + 1):
        power += 1
    if power == 0:
        return str(n)
    text = fixed(Fraction(n, 1000**power))
    if text.lstrip("-").startswith("1000."):
        if power + 1 == len(_SI):
            return _scientific(n)
        power += 1
        text = fixed(Fraction(n, 1000**power))
    if power + 1 == len(_SI) and abs(n) >= 1000 ** len(_SI):
        return _scientific(n)
    return text + _SI[power]


def _scientific(n: int) -> str:
    """``n`` as m.mm e+X with 2 decimals, ties away from zero as :func:`fixed` rounds."""
    exponent = len(str(abs(n))) - 1
    text = fixed(Fraction(n, 10**exponent))
    if text.lstrip("-").startswith("10."):
        exponent += 1
        text = fixed(Fraction(n, 10**exponent))
    return f"{text}e+{exponent}"


def grouped(n: int) -> str:
    return f"{n:,}"


def signed_percent(value: Fraction | int) -> str:
    """``value`` as a percentage with a sign and 2 decimals, exactly: 1/3 -> '+33.33%'."""
    text = fixed(100 * Fraction(value))
    return f"{'' if text.startswith('-') else '+'}{text}%"


def share(part: int, total: int) -> str:
    """part as a percentage of total, 2 decimals; '-' when total is 0."""
    return f"{fixed(Fraction(100 * part, total))}%" if total else "-"


def times(numerator: int, denominator: int) -> str:
    """A reduction factor, 2 decimals: '32.00x'; '-' when undefined (a zero denominator)."""
    return f"{fixed(Fraction(numerator, denominator))}x" if denominator else "-"


def shape(dims: tuple[Any, ...]) -> str:
    return "x".join(str(d) for d in dims)


var = show
"""A var's value for people (re-exported from the core: search messages use it too)."""
