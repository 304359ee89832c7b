"""Exact counts of a sum of independent stages under a bound, without its whole distribution.

When the exact distribution of a total is too large to hold (the OFA space's MACs take
millions of distinct values), the number of architectures with ``total <= t`` is still exact:
the stages' distributions are merged into at most three groups that fit in memory, L, R and an
outer one O, and

    count(t) = sum over o in O of c(o) * sum over l in L of c(l) * F_R(t - o - l)

where F_R is R's cumulative count (a binary search in its sorted values). Only the values of
L for which ``t - o - l`` falls inside R's range need a search; the others count all of R or
nothing (prefix sums of L). Every step is integer arithmetic: the answer is exact.

With numpy installed (the ``fast`` extra) the inner sum runs on int64 arrays: R's cumulative
counts are laid out densely on the lattice its values lie on (their greatest common
difference), so ``F_R(t - o - l)`` is one gathered element, and the sum one dot product. It is
used only where every count and value provably fits in 63 bits (checked before, from the
totals); otherwise, and without numpy, the same sum runs in Python integers.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import accumulate, repeat
from operator import mul, sub
from typing import Any

from sepcalc.search.decompose import TooLarge

Hist = dict[int, Any]
Progress = Callable[[int, int], None]

GROUP_PAIRS = 30_000_000
"""The most pairs merged into one group's distribution."""
MAX_SEARCHES = 4_000_000_000
"""The most binary searches one count may take."""
MAX_DENSE = 60_000_000
"""The longest dense table of cumulative counts the numpy path lays out (8 bytes each)."""
INT64 = 2**62
"""What int64 arithmetic may reach here (a margin below 2**63)."""


def convolve(a: Hist, b: Hist, high: int | None = None) -> Hist:
    """The distribution of the sum of two independent totals (values over ``high`` dropped)."""
    if len(a) < len(b):
        a, b = b, a
    out: Hist = {}
    get = out.get
    for y, cy in b.items():
        for x, cx in a.items():
            s = x + y
            if high is None or s <= high:
                out[s] = get(s, 0) + cx * cy
    return out


@dataclass(frozen=True)
class Sorted:
    """A distribution as sorted values and cumulative counts (``cum[k]``: the first k)."""

    values: list[int]
    counts: list[Any]
    cum: list[Any]

    @classmethod
    def of(cls, hist: Hist) -> Sorted:
        values = sorted(hist)
        counts = [hist[v] for v in values]
        return cls(values, counts, [0, *accumulate(counts)])

    def at_most(self, t: int) -> Any:
        return self.cum[bisect_right(self.values, t)]

    @property
    def total(self) -> Any:
        return self.cum[-1]


def groups(hists: Sequence[Hist], high: int | None) -> list[Hist]:
    """Merge the smallest distributions while a merge stays within :data:`GROUP_PAIRS`."""
    pool = sorted((h for h in hists), key=len)
    while len(pool) > 1 and len(pool[0]) * len(pool[1]) <= GROUP_PAIRS:
        merged = convolve(pool[0], pool[1], high)
        pool = sorted([merged, *pool[2:]], key=len)
    return pool


class Counter:
    """``count(total <= t)`` for a sum of independent stage distributions, at any t."""

    def __init__(self, hists: Sequence[Hist], high: int | None = None) -> None:
        self.fast = _NumpyCounter.of(hists, high)
        if self.fast is not None:
            self.total_count = self.fast.total
            return
        pool = groups(hists, high)
        if len(pool) > 3:
            sizes = ", ".join(f"{len(h):,}" for h in pool)
            raise TooLarge(
                f"the stages' distributions do not merge into three tables that fit (sizes "
                f"{sizes} after merging)"
            )
        while len(pool) < 3:
            pool.insert(0, {0: 1})
        self.outer = Sorted.of(pool[0])
        self.left = Sorted.of(pool[1])
        self.right = Sorted.of(pool[2])
        self.total_count = self.outer.total * self.left.total * self.right.total
        self.searches = len(pool[0]) * len(pool[1])
        if self.searches > MAX_SEARCHES:
            raise TooLarge(
                f"counting would take {self.searches:,} searches (the limit is {MAX_SEARCHES:,})"
            )

    @property
    def total(self) -> Any:
        return self.total_count

    def inner(self, u: int) -> Any:
        """sum over l in L of c(l) * F_R(u - l)."""
        left, right = self.left, self.right
        lo_r, hi_r = right.values[0], right.values[-1]
        # l <= u - hi_r: all of R; u - lo_r < l: none; between: a search each
        full = bisect_right(left.values, u - hi_r)
        part = bisect_right(left.values, u - lo_r)
        total = left.cum[full] * right.total
        if part > full:
            targets = map(sub, repeat(u, part - full), left.values[full:part])
            found = map(bisect_right, repeat(right.values, part - full), targets)
            total += sum(map(mul, left.counts[full:part], map(right.cum.__getitem__, found)))
        return total

    def at_most(self, t: int, progress: Progress | None = None) -> Any:
        """How many combinations have a total of at most ``t``."""
        if self.fast is not None:
            return self.fast.at_most(t, progress)
        outer = self.outer
        total = 0
        n = len(outer.values)
        step = max(1, n // 100)
        for k, (o, c) in enumerate(zip(outer.values, outer.counts, strict=True)):
            total += c * self.inner(t - o)
            if progress is not None and k % step == 0:
                progress(k, n)
        if progress is not None:
            progress(n, n)
        return total


class _NumpyCounter:
    """The same count on numpy int64 arrays, where it is exact (see the module's docstring)."""

    CHUNK = 16
    """Outer values handled per array operation."""

    def __init__(self, np: Any, pool: list[tuple[Any, Any]]) -> None:
        self.np = np
        while len(pool) < 3:
            pool.insert(0, (np.zeros(1, dtype=np.int64), np.ones(1, dtype=np.int64)))
        (self.outer_values, self.outer_counts), left, right = pool
        self.left_values, self.left_counts = left
        values, counts = right
        self.low = int(values[0])
        step = int(np.gcd.reduce(values - values[0])) or 1
        self.step = step
        self.span = int((values[-1] - values[0]) // step) + 1
        dense = np.zeros(self.span + 1, dtype=np.int64)
        dense[(values - values[0]) // step + 1] = counts
        self.cum = np.cumsum(dense)  # cum[k + 1]: R's count at or below low + k * step
        self.total = int(self.outer_counts.sum()) * int(self.left_counts.sum()) * int(counts.sum())

    @classmethod
    def of(cls, hists: Sequence[Hist], high: int | None) -> _NumpyCounter | None:
        try:
            import numpy as np
        except ImportError:
            return None
        for h in hists:
            if not h or not all(isinstance(c, int) for c in h.values()):
                return None  # fractions (a weighted measure): Python integers only
            if max(abs(min(h)), abs(max(h))) * len(hists) >= INT64:
                return None
        # (values, counts, the group's total count as a Python int)
        pool = sorted(
            (
                (
                    np.array(sorted(h), dtype=np.int64),
                    np.array([h[v] for v in sorted(h)], dtype=np.int64),
                    sum(h.values()),
                )
                for h in hists
                if sum(h.values()) < INT64
            ),
            key=lambda p: len(p[0]),
        )
        if len(pool) < len(hists):
            return None
        while len(pool) > 3 or (len(pool) > 1 and len(pool[0][0]) * len(pool[1][0]) <= GROUP_PAIRS):
            a, b = pool[0], pool[1]
            if len(a[0]) * len(b[0]) > GROUP_PAIRS or a[2] * b[2] >= INT64:
                return None
            merged = (*_np_convolve(np, a, b, high), a[2] * b[2])
            pool = sorted([merged, *pool[2:]], key=lambda p: len(p[0]))
        # a row of the inner sum reaches (left total) * (right total); the outer count is
        # multiplied in Python
        if len(pool) >= 2 and pool[-1][2] * pool[-2][2] >= INT64:
            return None
        values = pool[-1][0]
        if (
            len(values)
            and int(values[-1] - values[0]) // (int(np.gcd.reduce(values - values[0])) or 1)
            > MAX_DENSE
        ):
            return None
        if len(pool) == 3 and len(pool[0][0]) * len(pool[1][0]) > MAX_SEARCHES:
            return None
        return cls(np, [(v, c) for v, c, _ in pool])

    def at_most(self, t: int, progress: Progress | None = None) -> int:
        np = self.np
        total = 0
        n = len(self.outer_values)
        base = (t - self.low) - self.left_values  # k = (base - o) // step + 1
        for start in range(0, n, self.CHUNK):
            o = self.outer_values[start : start + self.CHUNK]
            k = (base[None, :] - o[:, None]) // self.step + 1
            np.clip(k, 0, self.span, out=k)
            rows = (self.cum[k] * self.left_counts[None, :]).sum(axis=1)
            total += sum(
                int(c) * int(r)
                for c, r in zip(self.outer_counts[start : start + self.CHUNK], rows, strict=True)
            )
            if progress is not None:
                progress(min(start + self.CHUNK, n), n)
        return total


def _np_convolve(
    np: Any, a: tuple[Any, ...], b: tuple[Any, ...], high: int | None
) -> tuple[Any, Any]:
    """The sum of two independent totals on int64 arrays: sorted distinct values, counts."""
    values = (a[0][:, None] + b[0][None, :]).ravel()
    counts = (a[1][:, None] * b[1][None, :]).ravel()
    if high is not None:
        keep = values <= high
        values, counts = values[keep], counts[keep]
    if not len(values):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    order = np.argsort(values, kind="stable")
    values, counts = values[order], counts[order]
    starts = np.flatnonzero(np.concatenate(([True], values[1:] != values[:-1])))
    return values[starts], np.add.reduceat(counts, starts)
