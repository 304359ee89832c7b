"""Quantities as people write them, read exactly: bytes (``320KiB``, ``1MB``), rates (``19.5T``,
``2039G``) and times (``5ms``, ``0.02s``). Never through a float. And written back for people:
a time in the largest unit below it (``4.626 ms``), bytes with their binary size (``1,404,928 B
(1.3 MiB)``), the same in every report and message."""

from __future__ import annotations

import re
from fractions import Fraction

from sepcalc.expr import ExprError, decimal, fixed, scientific

SI = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15}
BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}
SECONDS = {"s": Fraction(1), "ms": Fraction(1, 10**3), "us": Fraction(1, 10**6),
           "µs": Fraction(1, 10**6), "ns": Fraction(1, 10**9)}  # fmt: skip

_NUMBER = r"(?P<number>(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9][0-9_]*)(?:[eE][+-]?[0-9]+)?)"
_AMOUNT = re.compile(_NUMBER + r"\s*(?P<prefix>Ki|Mi|Gi|Ti|[kKMGTP]?)(?P<unit>[A-Za-z/]*)")
_TIME = re.compile(_NUMBER + r"\s*(?P<unit>s|ms|us|µs|ns)?")


class QuantityError(ValueError):
    """A quantity that cannot be read; the message says what is expected."""


def _number(text: str) -> Fraction:
    try:
        return Fraction(decimal(text))
    except ExprError as exc:
        raise QuantityError(str(exc)) from None


def amount(value: object, units: tuple[str, ...] = ("", "B")) -> Fraction:
    """``19.5T`` -> 19_500_000_000_000, ``320KiB`` -> 327_680 (``units``: the unit words
    accepted after the prefix, e.g. ``B`` for bytes or ``B/s`` for a bandwidth)."""
    if isinstance(value, bool):
        raise QuantityError(f"{value!r} is not a number")
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        return _number(repr(value))
    if not isinstance(value, str):
        raise QuantityError(f"{value!r} is not a number")
    match = _AMOUNT.fullmatch(value.strip())
    if not match or match["unit"] not in units:
        shown = " or ".join(repr(u) for u in units if u) or "no unit"
        raise QuantityError(
            f"'{value}' is not a quantity; write a number with an optional K, M, G, T prefix "
            f"(decimal) or Ki, Mi, Gi (binary), then {shown}, e.g. 320KiB or 19.5T"
        )
    prefix = match["prefix"]
    scale = BINARY[prefix] if prefix in BINARY else SI[prefix.upper()]
    result = _number(match["number"]) * scale
    if result < 0:
        raise QuantityError(f"'{value}' is negative")
    return result


def byte_count(value: object) -> int:
    """A whole number of bytes: ``320KiB`` -> 327_680, ``1MB`` -> 1_000_000."""
    result = amount(value)
    if result.denominator != 1:
        raise QuantityError(f"'{value}' is not a whole number of bytes")
    return result.numerator


def seconds(value: object) -> Fraction:
    """A time as an exact number of seconds: ``5ms`` -> 1/200, ``0.02`` -> 1/50."""
    if isinstance(value, bool):
        raise QuantityError(f"{value!r} is not a time")
    if isinstance(value, int | float):
        return amount(value)
    if not isinstance(value, str):
        raise QuantityError(f"{value!r} is not a time")
    match = _TIME.fullmatch(value.strip())
    if not match:
        raise QuantityError(
            f"'{value}' is not a time; write a number with an optional unit s, ms, us or ns, "
            "e.g. 5ms or 0.02s"
        )
    return _number(match["number"]) * SECONDS[match["unit"] or "s"]


_TIME_UNITS = ((Fraction(1), "s"), (Fraction(1, 10**3), "ms"), (Fraction(1, 10**6), "us"),
               (Fraction(1, 10**9), "ns"))  # fmt: skip


def duration(seconds: Fraction) -> str:
    """A time with 3 decimals in the largest unit below it: '1.234 ms' (rounded for people;
    exact wherever the number is data); from a million seconds on, in scientific notation."""
    if not seconds:
        return "0"
    if seconds >= 10**6:
        return f"{scientific(seconds, 4)} s"
    for scale, unit in _TIME_UNITS:
        if seconds >= scale:
            return f"{fixed(seconds / scale, 3)} {unit}"
    return f"{fixed(seconds / _TIME_UNITS[-1][0], 3)} ns"


def binary_size(n: int) -> str:
    """Bytes in the largest binary unit they reach, 1 decimal: '1.3 MiB', '980.0 KiB', '512 B'."""
    for power, unit in ((3, "GiB"), (2, "MiB"), (1, "KiB")):
        if n >= 1024**power:
            return f"{fixed(Fraction(n, 1024**power), 1)} {unit}"
    return f"{n:,} B"


def size(n: int) -> str:
    """Bytes, grouped, with the binary size beside them: '1,404,928 B (1.3 MiB)'."""
    return f"{n:,} B" + (f" ({binary_size(n)})" if n >= 1024 else "")
