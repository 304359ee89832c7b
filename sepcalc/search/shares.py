"""Exact shares of a space's distribution: how many of each part's architectures are within
bounds, and what a plot of it draws (the CDF, the share in each bin).

Every share is a Fraction of exact counts (a space's counts run past 10**19, beyond a float's
53 bits); a plot turns them into floats only to draw them.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, replace
from fractions import Fraction

from sepcalc.errors import EXIT_FAILED
from sepcalc.search.decompose import Decomposition
from sepcalc.search.exact import Bound
from sepcalc.search.space import Value
from sepcalc.search.spaces import (
    Distribution,
    DistributionResult,
    Progress,
    count_space,
    edges,
)

MAX_STEPS = 2_000
"""The most points of a drawn CDF: past this many distinct values, the CDF is taken at the
edges of this many equal ranges (exact there)."""
DRAWN_BINS = 30
"""The histogram's bins when the distribution gives every value and no bins."""


def with_bounds(
    dec: Decomposition,
    result: DistributionResult,
    bounds: Sequence[Bound],
    progress: Progress | None = None,
) -> DistributionResult:
    """``result`` with, per part, how many of its architectures are within every bound (the
    exact count of :func:`~sepcalc.search.spaces.count_space`, per var value for a part of one
    var assignment); failed (exit 1) when none of any part is."""
    if not bounds:
        return result
    counted = count_space(dec, bounds, progress)
    assert counted.within is not None
    if len(result.parts) == 1 and not result.parts[0].label:
        within: tuple[int, ...] = (counted.within,)
    else:
        per_var = [(values, w or 0) for values, _, w in counted.by_var]
        within = tuple(next(w for v, w in per_var if v == d.label) for d in result.parts)
    return replace(
        result,
        bounds=counted.bounds,
        within=within,
        exit_code=EXIT_FAILED if not any(within) else result.exit_code,
    )


@dataclass(frozen=True)
class Bar:
    low: int
    high: int
    """Inclusive."""
    share: Fraction
    """Of the part's architectures, in [low, high]."""

    @property
    def density(self) -> Fraction:
        """The share per unit of the metric: bars of different widths compare by it."""
        return self.share / (self.high - self.low + 1)


@dataclass(frozen=True)
class Curve:
    """One part of a distribution as a plot draws it."""

    label: dict[str, Value]
    """The var values of the sub-space (empty: the whole space)."""
    count: int
    cdf: tuple[tuple[int, Fraction], ...]
    """(x, the share of the architectures at or below x), x increasing, from (min - 1, 0)."""
    steps: bool
    """True when ``cdf`` has every distinct value (a step function); False when it is known at
    its points only (bin edges, or a subset of too many values)."""
    bars: tuple[Bar, ...]
    within: Fraction | None
    """The share within every bound (None without bounds)."""


@dataclass(frozen=True)
class Curves:
    space: str
    metric: str
    bounds: tuple[Bound, ...]
    parts: tuple[Curve, ...]


def curves(result: DistributionResult) -> Curves:
    """What a plot of ``result`` draws, exact."""
    within = result.within or (None,) * len(result.parts)
    return Curves(
        result.space,
        result.metric,
        result.bounds,
        tuple(_curve(d, w) for d, w in zip(result.parts, within, strict=True)),
    )


def _curve(d: Distribution, within: int | None) -> Curve:
    share = None if within is None else Fraction(within, d.count)
    start = (d.minimum - 1, Fraction(0))
    if d.values is None:
        cdf = [start, *((b.high, Fraction(b.cumulative, d.count)) for b in d.bins)]
        bars = tuple(Bar(b.low, b.high, Fraction(b.count, d.count)) for b in d.bins)
        return Curve(d.label, d.count, tuple(cdf), False, bars, share)
    at_most = _AtMost(d.values)
    steps = len(d.values) <= MAX_STEPS
    points = at_most.xs if steps else [high for _, high in edges(d.minimum, d.maximum, MAX_STEPS)]
    cdf = [start, *((x, Fraction(at_most(x), d.count)) for x in points)]
    bars = tuple(
        Bar(low, high, Fraction(at_most(high) - at_most(low - 1), d.count))
        for low, high in edges(d.minimum, d.maximum, DRAWN_BINS)
    )
    return Curve(d.label, d.count, tuple(cdf), steps, bars, share)


class _AtMost:
    """How many architectures have a value at or below x, from every (value, count)."""

    def __init__(self, values: Sequence[tuple[int, int]]) -> None:
        self.xs = [v for v, _ in values]
        self.running = []
        total = 0
        for _, c in values:
            total += c
            self.running.append(total)

    def __call__(self, x: int) -> int:
        k = bisect_right(self.xs, x)
        return self.running[k - 1] if k else 0
