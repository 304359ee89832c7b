"""A network's totals in the search and space reports: which a table shows, in what order, and
each in its unit (a count grouped, a latency as a time, bytes with their binary size), exact in
CSV. One place, so that every table that a budget, a bound or an objective names shows that
total, in the unit the rest of the product prints it in."""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction
from typing import Any

from sepcalc.report.numbers import approximate, si

ORDER = ("macs", "params", "flops", "activations", "latency", "flash", "peak_memory")
"""The order of the totals' columns in every table and CSV."""
BYTES = ("flash", "peak_memory")


def ordered(metrics: Iterable[str]) -> tuple[str, ...]:
    """``metrics`` once each, in :data:`ORDER`."""
    given = set(metrics)
    return tuple(m for m in ORDER if m in given)


def text(metric: str, value: int | Fraction) -> str:
    """A total in a table or a line: ``568,740,352``, ``4.626 ms``, ``1,404,928 B (1.3 MiB)``."""
    if metric == "latency" or metric in BYTES:
        from sepcalc.device.units import duration, size

        return duration(Fraction(value)) if metric == "latency" else size(int(value))
    return f"{value:,}"


def grouped(metric: str, value: int) -> str:
    """A whole total grouped, with ``B`` for bytes: ``568,740,352``, ``1,404,928 B``."""
    return f"{value:,}" + (" B" if metric in BYTES else "")


def short(metric: str, value: int | Fraction) -> str:
    """A total at a glance: ``568.74M``, ``4.626 ms``, ``1.3 MiB``."""
    if metric == "latency" or metric in BYTES:
        from sepcalc.device.units import binary_size, duration

        return duration(Fraction(value)) if metric == "latency" else binary_size(round(value))
    return si(round(value))


def exact(value: int | Fraction) -> Any:
    """A total in CSV: a count or bytes as it is, a latency (seconds) as ``num/den``."""
    return f"{value.numerator}/{value.denominator}" if isinstance(value, Fraction) else value


def data(metric: str, value: int | Fraction) -> Any:
    """A total in JSON, exact: a count or bytes as an int, a latency as analyze gives it,
    ``{"exact": "num/den", "value": seconds}`` (docs/device.md)."""
    if metric == "latency":
        seconds = Fraction(value)
        return {
            "exact": f"{seconds.numerator}/{seconds.denominator}",
            "value": approximate(seconds),
        }
    return value
