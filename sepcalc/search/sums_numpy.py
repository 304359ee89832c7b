"""The groups of :mod:`~sepcalc.search.sums` on numpy int64 arrays (the ``fast`` extra).

A :class:`Table` is one group's distribution: its distinct values (in any order) and their
counts. Nothing overflows: a table is built only when its total is below 2**62, so every count
and cumulative count of it fits; a sum of products of two tables' counts, which may pass
2**63, is split into limbs (:func:`exact_dot`) and finished in Python integers.

The values of a stage's total lie on a lattice ``low + k * step`` (the greatest common
difference of its values; 16 for OFA's MACs, 25,088 for one of its stages), and so do sums of
them, so tables are laid out densely along their lattice:

- a *cumulative count* ``F(u)`` at any point is one element of the dense cumulative array;
- a *merge* of two tables (the distribution of their sum) adds, for each value of one, the
  other's dense counts shifted there (*rows*: contiguous adds, the lattices' ratio as the
  rows of a 2-D layout), or scatters every pair with ``bincount`` (*pairs*: float64 weights,
  exact because the merged total is below 2**53), whichever takes fewer steps.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

from sepcalc.search.decompose import TooLarge

INT64 = 2**62
"""What a count or a partial sum may reach in int64 here (a margin below 2**63)."""
FLOAT_EXACT = 2**53
"""Below this, float64 sums of whole numbers are exact."""
MAX_DENSE = 16_000_000
"""The longest dense array (8 bytes an element) a table or a merge lays out: a wider one is
sorted and searched instead (fresh memory is slow to touch; no array passes 128 MiB)."""
GROUP_PAIRS = 30_000_000
"""The most pairs a merge whose result cannot be laid out densely may sort."""
CHEAP = 100_000_000
"""Merges costing at most this many steps (a step: one contiguous add, about 0.4 ns here) are
made down to one table."""
MAX_MERGE = 3_000_000_000
"""The most steps one merge may take to bring the groups down to two (about a second)."""
MAX_SEARCHES = 4_000_000_000
"""The most cumulative lookups one count over three groups may take."""
PAIR_STEPS = 25
"""A pair scattered by ``bincount``, in steps (measured on the OFA space's stages)."""
SORT_STEPS = 190
"""A pair merged by sorting, in steps."""
ROW_STEPS = 10_000
"""The fixed cost of one row added (a few numpy calls), in steps."""
OUT_STEPS = 17
"""One point of a merge's dense output (zeroed, scanned), in steps."""
PICK_CHUNK = 256
"""Weights summed per chunk when drawing among products that may pass 2**63."""


@dataclass(eq=False)
class Table:
    """Distinct values (any order) and their counts, all of them on ``low + k * step``."""

    np: Any
    values: Any
    counts: Any
    total: int
    low: int
    high: int
    step: int
    """The lattice's step: 0 for a single value."""
    _layout: tuple[Any, Any] | None = field(default=None, repr=False)

    @classmethod
    def of(cls, np: Any, values: Any, counts: Any, step: int | None = None) -> Table:
        """``step``: a lattice the values are known to lie on (else their greatest common
        difference)."""
        low, high = int(values.min()), int(values.max())
        if high == low:
            step = 0
        elif step is None:
            step = int(np.gcd.reduce(values - low))
        return cls(np, values, counts, int(counts.sum()), low, high, step)

    @property
    def size(self) -> int:
        return len(self.values)

    @property
    def span(self) -> int:
        """How many points of its lattice lie from ``low`` to ``high``."""
        return (self.high - self.low) // (self.step or 1) + 1

    def dense(self) -> Any:
        """The counts at every point of the lattice."""
        out = self.np.zeros(self.span, dtype=self.np.int64)
        out[(self.values - self.low) // (self.step or 1)] = self.counts
        return out

    def layout(self) -> tuple[Any, Any]:
        """(sorted values or None for the dense layout, cumulative counts: ``cum[0] = 0``)."""
        if self._layout is None:
            np = self.np
            if self.span <= MAX_DENSE:
                cum = np.zeros(self.span + 1, dtype=np.int64)
                cum[(self.values - self.low) // (self.step or 1) + 1] = self.counts
                np.cumsum(cum, out=cum)
                self._layout = (None, cum)
            else:
                order = np.argsort(self.values, kind="stable")
                cum = np.zeros(self.size + 1, dtype=np.int64)
                cum[1:] = np.cumsum(self.counts[order])
                self._layout = (self.values[order], cum)
        return self._layout

    def index(self, points: Any) -> Any:
        """For each point u, the k with ``cum[k]`` the count of values at most u."""
        keys, _ = self.layout()
        if keys is not None:
            return self.np.searchsorted(keys, points, side="right")
        k = (points - self.low) // (self.step or 1) + 1
        np = self.np
        return np.minimum(np.maximum(k, 0, out=k), self.span, out=k)

    def at_most(self, points: Any) -> Any:
        """The count of values at most u, for each point u (int64)."""
        return self.layout()[1][self.index(points)]

    def count_at(self, points: Any) -> Any:
        """The count of each point (0 where it is not a value)."""
        return self.at_most(points) - self.at_most(points - 1)

    def value_of_rank(self, r: int) -> int:
        """The value at rank r in 0..total-1 (the values in order, each ``count`` times)."""
        keys, cum = self.layout()
        p = int(self.np.searchsorted(cum, r, side="right")) - 1
        return int(keys[p]) if keys is not None else self.low + p * self.step

    def cut(self, cap: int | None) -> Table | None:
        """The values at most ``cap`` (None: nothing left)."""
        if cap is None or self.high <= cap:
            return self
        keep = self.values <= cap
        if not keep.any():
            return None
        return Table.of(self.np, self.values[keep], self.counts[keep])


@dataclass(eq=False)
class Node:
    """A table and how it was made: from one stage (``leaf``) or by merging two nodes."""

    table: Table
    leaf: int | None
    parts: tuple[Node, Node] | None = None


def table_of(np: Any, hist: dict[int, int]) -> Table:
    values = sorted(hist)
    return Table.of(
        np,
        np.array(values, dtype=np.int64),
        np.array([hist[v] for v in values], dtype=np.int64),
    )


# --- merging ----------------------------------------------------------------------------------


def merge_plan(a: Table, b: Table, cap: int | None) -> tuple[float, str]:
    """(estimated steps, method) of merging two tables, values over ``cap`` dropped."""
    if a.total * b.total >= INT64:
        return math.inf, ""
    step = math.gcd(a.step, b.step) or 1
    high = a.high + b.high if cap is None else min(a.high + b.high, cap)
    n = (high - a.low - b.low) // step + 1
    pairs = a.size * b.size
    best: tuple[float, str] = (math.inf, "")
    if n <= MAX_DENSE:
        rows = min(a.size * (b.span + ROW_STEPS), b.size * (a.span + ROW_STEPS))
        best = min(best, (float(rows + OUT_STEPS * n), "rows"))
        if a.total * b.total < FLOAT_EXACT:
            best = min(best, (float(PAIR_STEPS * pairs + OUT_STEPS * n), "pairs"))
    if pairs <= GROUP_PAIRS:
        best = min(best, (float(SORT_STEPS * pairs), "sort"))
    return best


def merge(a: Table, b: Table, cap: int | None, method: str) -> Table | None:
    """The distribution of the sum of two tables' values (over ``cap`` dropped; None: none
    left)."""
    np = a.np
    step = math.gcd(a.step, b.step) or 1
    low = a.low + b.low
    high = a.high + b.high if cap is None else min(a.high + b.high, cap)
    if high < low:
        return None
    n = (high - low) // step + 1
    if method == "rows":
        if a.size * (b.span + ROW_STEPS) > b.size * (a.span + ROW_STEPS):
            a, b = b, a
        values, counts = _rows(a, b, low, n, step)
    elif method == "pairs":
        values, counts = _pairs(a, b, low, n, step)
    else:
        values, counts = _sorted_pairs(a, b, high)
    if not len(values):
        return None
    # a + b lies on the lattice of both steps' gcd (the coarsest, unless values were dropped)
    return Table.of(np, values, counts, step)


def _rows(x: Table, y: Table, low: int, n: int, step: int) -> tuple[Any, Any]:
    """For each value of x, y's dense counts added at its offset. y's points are ``q`` apart on
    the merged lattice; position p is kept at [p % q, p // q], so each add is contiguous."""
    np = x.np
    q = (y.step // step) if y.step else 1
    dense = y.dense()
    cols = n // q + 2
    out = np.zeros((q, cols), dtype=np.int64)
    tmp = np.empty(len(dense), dtype=np.int64)
    base = y.low - low
    for v, c in zip(x.values.tolist(), x.counts.tolist(), strict=True):
        s = (v + base) // step
        if s >= n:
            continue
        m = min(len(dense), -(-(n - s) // q))
        r, c0 = s % q, s // q
        np.multiply(dense[:m], c, out=tmp[:m])
        row = out[r, c0 : c0 + m]
        np.add(row, tmp[:m], out=row)
    flat = out.ravel()
    nz = np.flatnonzero(flat)
    rows, cols_ = np.divmod(nz, cols)
    return low + (cols_ * q + rows) * step, flat[nz]


def _pairs(a: Table, b: Table, low: int, n: int, step: int) -> tuple[Any, Any]:
    """Every pair scattered by ``bincount`` (float64 weights: exact, the total is below
    2**53)."""
    np = a.np
    acc = None
    ai = (a.values - a.low) // step
    bi = (b.values - b.low) // step
    bc = b.counts.astype(np.float64)
    ac = a.counts.astype(np.float64)
    rows = max(1, max(4_000_000, min(n, 16_000_000)) // max(1, b.size))
    for start in range(0, a.size, rows):
        idx = (ai[start : start + rows, None] + bi[None, :]).ravel()
        w = (ac[start : start + rows, None] * bc[None, :]).ravel()
        keep = idx < n
        if not keep.all():
            idx, w = idx[keep], w[keep]
        found = np.bincount(idx, weights=w, minlength=n)
        if acc is None:
            acc = found
        else:
            acc += found
    assert acc is not None
    nz = np.flatnonzero(acc)
    return low + nz * step, acc[nz].astype(np.int64)


def _sorted_pairs(a: Table, b: Table, high: int) -> tuple[Any, Any]:
    """Every pair, sorted and summed by value (for a result too wide to lay out densely)."""
    np = a.np
    values = (a.values[:, None] + b.values[None, :]).ravel()
    counts = (a.counts[:, None] * b.counts[None, :]).ravel()
    keep = values <= high
    values, counts = values[keep], counts[keep]
    if not len(values):
        return values, counts
    order = np.argsort(values, kind="stable")
    values, counts = values[order], counts[order]
    starts = np.flatnonzero(np.concatenate(([True], values[1:] != values[:-1])))
    return values[starts], np.add.reduceat(counts, starts)


def plan(
    np: Any, hists: Sequence[dict[int, int]], high: int | None, whole: bool = False
) -> list[Node] | None:
    """The stages merged into at most three nodes. The pair with the fewest combinations is
    merged first (a single value, a shift, always); a merge is made if it costs at most
    :data:`MAX_MERGE` steps while more than two nodes remain, :data:`CHEAP` to make one table
    (with ``whole``, also if it combines at most :data:`GROUP_PAIRS` pairs). With ``high``,
    every table drops the values that no sum at most ``high`` can use. None: int64 cannot hold
    it (Python integers may); more than three tables left is refused."""
    for h in hists:
        if not all(isinstance(c, int) and c > 0 for c in h.values()):
            return None
        if max(abs(min(h)), abs(max(h))) * len(hists) >= INT64 or sum(h.values()) >= INT64:
            return None
    slack = None if high is None else high - sum(min(h) for h in hists)
    pool: list[Node] = []
    for i, h in enumerate(hists):
        table = table_of(np, h).cut(None if slack is None else min(h) + slack)
        assert table is not None  # the caller checked that the smallest sum is within high
        pool.append(Node(table, i))
    while len(pool) > 1:
        found = _next_merge(pool, slack, whole)
        if found is None:
            break
        i, j, method = found
        a, b = pool[i], pool[j]
        cap = None if slack is None else a.table.low + b.table.low + slack
        merged = merge(a.table, b.table, cap, method)
        assert merged is not None  # the smallest sum of the two is within the cap
        pool = [n for k, n in enumerate(pool) if k not in (i, j)] + [Node(merged, None, (a, b))]
    if len(pool) > 3:
        if any(a.table.total * b.table.total >= INT64 for a in pool for b in pool if a is not b):
            return None  # Python integers may merge further
        shown = ", ".join(f"{n.table.size:,}" for n in sorted(pool, key=lambda n: n.table.size))
        raise TooLarge(
            f"the stages' distributions do not merge into three tables that fit (sizes "
            f"{shown} after merging)"
        )
    return sorted(pool, key=lambda n: n.table.size)


def _next_merge(pool: list[Node], slack: int | None, whole: bool) -> tuple[int, int, str] | None:
    """The pair with the fewest combinations whose merge is within the budget, and how."""
    budget = CHEAP if len(pool) <= 2 else MAX_MERGE
    pairs = sorted(
        (a.table.size * b.table.size, i, j)
        for i, a in enumerate(pool)
        for j, b in enumerate(pool)
        if i < j
    )
    for product, i, j in pairs:
        a, b = pool[i].table, pool[j].table
        cost, method = merge_plan(a, b, None if slack is None else a.low + b.low + slack)
        # whatever the pure-Python path would merge (within GROUP_PAIRS) is merged here too,
        # down to two tables (to one for a whole distribution)
        within = product <= GROUP_PAIRS and (whole or len(pool) > 2)
        if method and (cost <= budget or min(a.size, b.size) == 1 or within):
            return i, j, method
    return None


# --- exact sums of products, and draws in proportion to them ----------------------------------


def exact_dot(np: Any, x: Any, y: Any) -> int:
    """``sum(x * y)`` of two nonnegative int64 arrays, exactly: the one with the larger
    values is split into limbs where a sum of products could pass 2**62."""
    n = len(x)
    if n == 0:
        return 0
    if n == 1:
        return int(x[0]) * int(y[0])
    xm, ym = int(x.max()), int(y.max())
    if xm * ym * n < INT64:
        return int(np.dot(x, y))
    if xm < ym:
        x, y, xm, ym = y, x, ym, xm
    bits = 62 - ym.bit_length() - n.bit_length()
    if bits < 8:
        half = n // 2
        return exact_dot(np, x[:half], y[:half]) + exact_dot(np, x[half:], y[half:])
    mask = (1 << bits) - 1
    return sum(
        int(np.dot((x >> shift) & mask, y)) << shift for shift in range(0, xm.bit_length(), bits)
    )


def _chunk_totals(np: Any, x: Any, y: Any) -> list[int]:
    """``sum(x * y)`` over each chunk of :data:`PICK_CHUNK` elements, exactly."""
    n = len(x)
    chunks = -(-n // PICK_CHUNK)
    if not n:
        return []
    xm, ym = int(x.max()), int(y.max())
    if xm < ym:
        x, y, xm, ym = y, x, ym, xm
    bits = 62 - ym.bit_length() - PICK_CHUNK.bit_length()
    if bits < 8:
        return [
            exact_dot(np, x[s : s + PICK_CHUNK], y[s : s + PICK_CHUNK])
            for s in range(0, n, PICK_CHUNK)
        ]
    xs = np.zeros(chunks * PICK_CHUNK, dtype=np.int64)
    ys = np.zeros(chunks * PICK_CHUNK, dtype=np.int64)
    xs[:n], ys[:n] = x, y
    xs, ys = xs.reshape(chunks, PICK_CHUNK), ys.reshape(chunks, PICK_CHUNK)
    mask = (1 << bits) - 1
    totals = [0] * chunks
    for shift in range(0, max(1, xm.bit_length()), bits):
        sums = (((xs >> shift) & mask) * ys).sum(axis=1).tolist()
        totals = [t + (v << shift) for t, v in zip(totals, sums, strict=True)]
    return totals


class ProductPicker:
    """Draws an index i with probability ``x[i] * y[i] / sum(x * y)``, exactly: a chunk by its
    exact total, then an index within it, in Python integers."""

    def __init__(self, np: Any, x: Any, y: Any) -> None:
        self.x, self.y = x, y
        self.prefix = list(accumulate(_chunk_totals(np, x, y)))
        self.total = self.prefix[-1] if self.prefix else 0

    def pick(self, rng: random.Random) -> int:
        r = rng.randrange(self.total)
        c = bisect_right(self.prefix, r)
        r -= self.prefix[c - 1] if c else 0
        start = c * PICK_CHUNK
        xs = self.x[start : start + PICK_CHUNK].tolist()
        ys = self.y[start : start + PICK_CHUNK].tolist()
        for k, (a, b) in enumerate(zip(xs, ys, strict=True)):
            if r < a * b:
                return start + k
            r -= a * b
        raise AssertionError("a chunk's total is the sum of its weights")


class Groups:
    """At most three nodes (fewest values first): the count of their sums within a band, and
    draws among those sums, each sum weighted by how many combinations give it."""

    def __init__(self, np: Any, nodes: list[Node]) -> None:
        self.np = np
        self.nodes = nodes
        self.low = sum(n.table.low for n in nodes)
        self.high = sum(n.table.high for n in nodes)
        self.total = math.prod(n.table.total for n in nodes)
        sizes = [n.table.size for n in nodes]
        self.searches = sizes[0] * sizes[1] if len(nodes) == 3 else sizes[0]
        self._pickers: dict[tuple[int, int], Any] = {}
        self._offsets: tuple[Any, Any] | None = None

    @classmethod
    def of(
        cls, np: Any, hists: Sequence[dict[int, int]], high: int | None, whole: bool = False
    ) -> Groups | None:
        nodes = plan(np, hists, high, whole)
        if nodes is None:
            return None
        if len(nodes) == 3:
            outer, left, right = (n.table for n in nodes)
            if left.total * right.total >= INT64:
                return None
            if outer.size * left.size > MAX_SEARCHES:
                raise TooLarge(
                    f"counting would take {outer.size * left.size:,} searches (the limit is "
                    f"{MAX_SEARCHES:,})"
                )
        return cls(np, nodes)

    def table(self) -> dict[int, int] | None:
        """The whole distribution, when the stages merged into one table."""
        if len(self.nodes) != 1:
            return None
        t = self.nodes[0].table
        return dict(zip(t.values.tolist(), t.counts.tolist(), strict=True))

    def clamp(self, low: int | None, high: int | None) -> tuple[int, int]:
        return (
            self.low if low is None else max(low, self.low),
            self.high if high is None else min(high, self.high),
        )

    def at_most(self, t: int) -> int:
        np = self.np
        if t < self.low:
            return 0
        if t >= self.high:
            return self.total
        tables = [n.table for n in self.nodes]
        if len(tables) == 1:
            return int(tables[0].at_most(np.array([t], dtype=np.int64))[0])
        if len(tables) == 2:
            a, b = tables
            return exact_dot(np, a.counts, b.layout()[1][self._index_of_rest(t)])
        outer, left, right = tables
        base = t - left.values
        total = 0
        chunk = max(1, 4_000_000 // max(1, left.size))
        for start in range(0, outer.size, chunk):
            o = outer.values[start : start + chunk]
            rows = (right.at_most(base[None, :] - o[:, None]) * left.counts[None, :]).sum(axis=1)
            counts = outer.counts[start : start + chunk]
            total += sum(map(int.__mul__, counts.tolist(), rows.tolist()))
        return total

    def _index_of_rest(self, t: int) -> Any:
        """For each value a of the first of two tables, the index k of the second's cumulative
        count at ``t - a``: ``b.index(t - a)`` without a division per value. With the
        second's values on ``low_b + step * k`` laid out densely, ``-a - low_b = q * step + r``
        (0 <= r < step) is kept, and ``(t - a - low_b) // step = q + t // step + (r >= step -
        t % step)``."""
        np = self.np
        a, b = self.nodes[0].table, self.nodes[1].table
        keys, _ = b.layout()
        if keys is not None:
            return b.index(t - a.values)
        if self._offsets is None:
            self._offsets = np.divmod(-a.values - b.low, b.step or 1)
        q, r = self._offsets
        step = b.step or 1
        k = q + (t // step + 1)
        k += r >= step - t % step
        return np.minimum(np.maximum(k, 0, out=k), b.span, out=k)

    def band(self, low: int | None, high: int | None) -> int:
        lo, hi = self.clamp(low, high)
        if lo > hi:
            return 0
        if len(self.nodes) == 3:  # the draws' weights are this count's terms: kept for them
            return int(self._top_picker(lo, hi).total)
        return self.at_most(hi) - self.at_most(lo - 1)

    def _top_picker(self, lo: int, hi: int) -> ProductPicker:
        picker = self._pickers.get((lo, hi))
        if picker is None:
            picker = self._pickers[(lo, hi)] = self._picker(self.nodes, lo, hi)
        return picker

    def draw(self, low: int | None, high: int | None, rng: random.Random) -> dict[int, int]:
        """One combination within the band (the caller checked there is one): each stage's
        value, by stage index."""
        lo, hi = self.clamp(low, high)
        values = self._draw(self.nodes, lo, hi, rng, memo=True)
        out: dict[int, int] = {}
        for node, v in zip(self.nodes, values, strict=True):
            self._split(node, v, rng, out)
        return out

    def _draw(
        self, nodes: list[Node], lo: int, hi: int, rng: random.Random, memo: bool
    ) -> list[int]:
        np = self.np
        first = nodes[0].table
        if len(nodes) == 1:
            below = int(first.at_most(np.array([lo - 1], dtype=np.int64))[0])
            upto = int(first.at_most(np.array([hi], dtype=np.int64))[0])
            return [first.value_of_rank(below + rng.randrange(upto - below))]
        picker = self._top_picker(lo, hi) if memo else self._picker(nodes, lo, hi)
        v = int(first.values[picker.pick(rng)])
        return [v, *self._draw(nodes[1:], lo - v, hi - v, rng, memo=False)]

    def _picker(self, nodes: list[Node], lo: int, hi: int) -> ProductPicker:
        """Weights of the first node's values: its count times the rest's count in the band
        (the band's lower end counted only where some sum can fall below it)."""
        np = self.np
        first = nodes[0].table
        lowest = sum(n.table.low for n in nodes)
        if len(nodes) == 2:
            rest = nodes[1].table
            ways = rest.at_most(hi - first.values)
            if lo > lowest:
                ways -= rest.at_most(lo - 1 - first.values)
            return ProductPicker(np, first.counts, ways)
        left, right = nodes[1].table, nodes[2].table
        ways = np.zeros(first.size, dtype=np.int64)
        chunk = max(1, 4_000_000 // max(1, left.size))
        for start in range(0, first.size, chunk):
            o = first.values[start : start + chunk, None]
            inside = right.at_most(hi - o - left.values[None, :])
            if lo > lowest:
                inside -= right.at_most(lo - 1 - o - left.values[None, :])
            ways[start : start + chunk] = (inside * left.counts[None, :]).sum(axis=1)
        return ProductPicker(np, first.counts, ways)

    def _split(self, node: Node, v: int, rng: random.Random, out: dict[int, int]) -> None:
        """The stages' values under a node's value v, drawn in proportion to their counts."""
        np = self.np
        while node.parts is not None:
            x, y = sorted(node.parts, key=lambda n: n.table.size)
            if x.table.size == 1:  # one way
                xv = x.table.low
            else:
                weights = x.table.counts * y.table.count_at(v - x.table.values)
                cum = np.cumsum(weights)
                i = int(np.searchsorted(cum, rng.randrange(int(cum[-1])), side="right"))
                xv = int(x.table.values[i])
            self._split(x, xv, rng, out)
            node, v = y, v - xv
        assert node.leaf is not None
        out[node.leaf] = v
