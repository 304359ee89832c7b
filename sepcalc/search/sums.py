"""Exact counts of a sum of independent stages within bounds, and exact uniform draws among
them, without the whole joint distribution.

When the exact distribution of a total is too large to hold (the OFA space's MACs take
millions of distinct values), the number of architectures with ``total <= t`` is still exact:
the stages' distributions are merged into at most three groups that fit in memory, L, R and an
outer one O, and

    count(t) = sum over o in O of c(o) * sum over l in L of c(l) * F_R(t - o - l)

where F_R is R's cumulative count. With two groups the outer sum goes (O = {0}), and with one
the whole distribution is held. Only the values of L for which ``t - o - l`` falls inside R's
range need a search; the others count all of R or nothing. Every step is integer arithmetic:
the answer is exact. With an upper bound ``high``, a group keeps only the values that some
combination within ``high`` can use (its value plus every other group's smallest).

The same tables draw a combination within a band exactly uniformly, without rejection: a value
o of O with weight ``c(o) * (the number of (l, r) within the band less o)``, then l given o,
then r given o and l; then each group's value is split back into its stages' values through
the merges that made it (a value v of A + B: a value a of A with weight ``c_A(a) c_B(v - a)``).
Every weight is an exact integer.

With numpy installed (the ``fast`` extra) the tables are int64 arrays laid out densely on the
lattice their values lie on, larger merges are made (down to two groups, so a count is one
gather and a dot product), and every sum that could pass 2**63 is split
(:mod:`~sepcalc.search.sums_numpy`). It is used only where every count provably fits (checked
before, from the totals); otherwise, and without numpy, the same sums run in Python integers.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate, repeat
from operator import mul, sub
from typing import Any

from sepcalc.search.decompose import TooLarge

Hist = dict[int, int]

GROUP_PAIRS = 30_000_000
"""The most pairs merged into one group's distribution (in Python integers)."""
MAX_SEARCHES = 4_000_000_000
"""The most binary searches one count may take."""


def numpy_module() -> Any | None:
    """numpy (a dependency) when it imports, else None; the one switch between the two paths
    (the tests turn it off here to check the pure-Python path against the numpy one)."""
    try:
        import numpy
    except ImportError:
        return None
    return numpy


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
    counts: list[int]
    cum: list[int]

    @classmethod
    def of(cls, hist: Hist) -> Sorted:
        values = sorted(hist)
        counts = [hist[v] for v in values]
        return cls(values, counts, [0, *accumulate(counts)])

    def at_most(self, t: int) -> int:
        return self.cum[bisect_right(self.values, t)]

    def value_of_rank(self, r: int) -> int:
        """The value at rank r in 0..total-1 (the values in order, each ``count`` times)."""
        return self.values[bisect_right(self.cum, r) - 1]

    @property
    def total(self) -> int:
        return self.cum[-1]

    @property
    def size(self) -> int:
        return len(self.values)


class Counter:
    """The combinations of one value per stage (each weighted by its count) whose sum is within
    a band: how many, and uniform draws among them. Built with ``high``, it answers only bands
    up to ``high``."""

    def __init__(self, hists: Sequence[Hist], high: int | None = None, whole: bool = False) -> None:
        """``whole``: merge into one table (the whole distribution) wherever the merges stay
        within :data:`GROUP_PAIRS` pairs, even where two tables would count faster."""
        self.bound = high
        hists = [dict(h) for h in hists] or [{0: 1}]
        self.low = sum(min(h) for h in hists if h)
        """The smallest sum."""
        self.high = sum(max(h) for h in hists if h)
        """The largest sum."""
        self.empty = any(not h for h in hists) or (high is not None and self.low > high)
        self.groups: Any = None
        self.fast = False
        if self.empty:
            return
        np = numpy_module()
        if np is not None:
            from sepcalc.search.sums_numpy import Groups

            self.groups = Groups.of(np, hists, high, whole)
            self.fast = self.groups is not None
        if self.groups is None:
            self.groups = _Groups(hists, high)

    @property
    def tables(self) -> int:
        """How many groups the stages merged into (1: the whole distribution is held)."""
        return 0 if self.groups is None else len(self.groups.nodes)

    @property
    def sizes(self) -> list[int]:
        """How many distinct values each group holds."""
        return [] if self.groups is None else [n.table.size for n in self.groups.nodes]

    @property
    def searches(self) -> int:
        """The lookups one count takes."""
        return 0 if self.groups is None else int(self.groups.searches)

    @property
    def total(self) -> int:
        """Every combination (those within ``high`` when built with it)."""
        return 0 if self.groups is None else int(self.groups.total)

    def table(self) -> Hist | None:
        """The whole distribution, when the stages merged into one table."""
        if self.groups is None:
            return {}
        found: Hist | None = self.groups.table()
        return found

    def _check(self, t: int | None) -> None:
        if self.bound is not None and (t is None or t > self.bound):
            raise ValueError(f"built for sums up to {self.bound}, asked about {t}")

    def at_most(self, t: int) -> int:
        """How many combinations have a sum of at most ``t``."""
        self._check(t)
        return 0 if self.groups is None else int(self.groups.at_most(t))

    def at_most_each(self, ts: Sequence[int]) -> list[int]:
        return [self.at_most(t) for t in ts]

    def within(self, low: int | None, high: int | None) -> int:
        """How many combinations have ``low <= sum <= high`` (None: no such end)."""
        self._check(high if self.bound is not None else 0)
        return 0 if self.groups is None else int(self.groups.band(low, high))

    def draw(self, low: int | None, high: int | None, rng: random.Random) -> list[int]:
        """One combination with ``low <= sum <= high``, uniformly (each weighted by its count):
        one value per stage. The caller checks that :meth:`within` is not 0."""
        self._check(high if self.bound is not None else 0)
        assert self.groups is not None
        found = self.groups.draw(low, high, rng)
        return [found[i] for i in range(len(found))]


# --- the pure-Python groups -------------------------------------------------------------------


@dataclass(eq=False)
class _Node:
    table: Sorted
    hist: Hist
    leaf: int | None
    parts: tuple[_Node, _Node] | None = None


class _Groups:
    """The groups in Python integers: the two smallest merged while a merge stays within
    :data:`GROUP_PAIRS` (a single value, a shift, always), at most three left."""

    def __init__(self, hists: Sequence[Hist], high: int | None) -> None:
        slack = None if high is None else high - sum(min(h) for h in hists)
        pool = []
        for i, h in enumerate(hists):
            kept = h if slack is None else {v: c for v, c in h.items() if v <= min(h) + slack}
            pool.append(_Node(Sorted.of(kept), kept, i))
        pool.sort(key=lambda n: len(n.hist))
        while len(pool) > 1 and (
            len(pool[0].hist) == 1 or len(pool[0].hist) * len(pool[1].hist) <= GROUP_PAIRS
        ):
            a, b = pool[0], pool[1]
            cap = None if slack is None else a.table.values[0] + b.table.values[0] + slack
            merged = convolve(a.hist, b.hist, cap)
            pool = sorted(
                [_Node(Sorted.of(merged), merged, None, (a, b)), *pool[2:]],
                key=lambda n: len(n.hist),
            )
        if len(pool) > 3:
            shown = ", ".join(f"{len(n.hist):,}" for n in pool)
            raise TooLarge(
                f"the stages' distributions do not merge into three tables that fit (sizes "
                f"{shown} after merging)"
            )
        self.nodes = pool
        self.low = sum(n.table.values[0] for n in pool)
        self.high = sum(n.table.values[-1] for n in pool)
        self.total = math.prod(n.table.total for n in pool)
        sizes = [len(n.hist) for n in pool]
        self.searches = sizes[0] * sizes[1] if len(pool) == 3 else sizes[0]
        if self.searches > MAX_SEARCHES:
            raise TooLarge(
                f"counting would take {self.searches:,} searches (the limit is {MAX_SEARCHES:,})"
            )
        self._prefixes: dict[tuple[int, int], list[int]] = {}

    def table(self) -> Hist | None:
        return dict(sorted(self.nodes[0].hist.items())) if len(self.nodes) == 1 else None

    def at_most(self, t: int) -> int:
        return _at_most([n.table for n in self.nodes], t)

    def band(self, low: int | None, high: int | None) -> int:
        lo = self.low if low is None else max(low, self.low)
        hi = self.high if high is None else min(high, self.high)
        return self.at_most(hi) - self.at_most(lo - 1) if lo <= hi else 0

    def draw(self, low: int | None, high: int | None, rng: random.Random) -> dict[int, int]:
        lo = self.low if low is None else max(low, self.low)
        hi = self.high if high is None else min(high, self.high)
        tables = [n.table for n in self.nodes]
        values = []
        for k in range(len(tables)):
            first, rest = tables[k], tables[k + 1 :]
            if not rest:
                below = first.at_most(lo - 1)
                v = first.value_of_rank(below + rng.randrange(first.at_most(hi) - below))
            else:
                weights = [
                    c * (_at_most(rest, hi - x) - _at_most(rest, lo - 1 - x))
                    for x, c in zip(first.values, first.counts, strict=True)
                ]
                if k == 0:  # the first group's weights hold for every draw in this band
                    prefix = self._prefixes.get((lo, hi))
                    if prefix is None:
                        prefix = self._prefixes[(lo, hi)] = list(accumulate(weights))
                    v = first.values[bisect_right(prefix, rng.randrange(prefix[-1]))]
                else:
                    v = first.values[_pick(weights, rng)]
            values.append(v)
            lo, hi = lo - v, hi - v
        out: dict[int, int] = {}
        for node, v in zip(self.nodes, values, strict=True):
            _split(node, v, rng, out)
        return out


def _at_most(tables: Sequence[Sorted], t: int) -> int:
    """How many combinations of one value per table (one to three) sum to at most t."""
    if len(tables) == 1:
        return tables[0].at_most(t)
    if len(tables) == 2:
        return _inner(tables[0], tables[1], t)
    outer, left, right = tables
    pairs = zip(outer.values, outer.counts, strict=True)
    return sum(c * _inner(left, right, t - o) for o, c in pairs)


def _inner(left: Sorted, right: Sorted, u: int) -> int:
    """sum over l in L of c(l) * F_R(u - l)."""
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


def _pick(weights: Sequence[int], rng: random.Random) -> int:
    """An index drawn with probability ``weights[i] / sum(weights)``, exactly."""
    r = rng.randrange(sum(weights))
    for i, w in enumerate(weights):
        if r < w:
            return i
        r -= w
    raise AssertionError("r is below the sum of the weights")


def _split(node: _Node, v: int, rng: random.Random, out: dict[int, int]) -> None:
    """The stages' values under a node's value v, drawn in proportion to their counts."""
    while node.parts is not None:
        x, y = sorted(node.parts, key=lambda n: len(n.hist))
        if len(x.hist) == 1:  # one way
            (a,) = x.hist
        else:
            get = y.hist.get
            candidates = [(a, c * get(v - a, 0)) for a, c in x.hist.items()]
            a = candidates[_pick([w for _, w in candidates], rng)][0]
        _split(x, a, rng, out)
        node, v = y, v - a
    assert node.leaf is not None
    out[node.leaf] = v
