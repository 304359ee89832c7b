"""Exact answers over a space: one dynamic program over (step, interface shape), many algebras.

The program walks the chain of :mod:`~sepcalc.search.decompose` steps carrying, for every shape
a step can output, one value of an *algebra* that summarizes every way to get there: a count
(how many architectures), the exact distribution of some totals (a convolution: totals add up
along the chain), the Pareto front with one architecture per point, or a count and the sums
for the mean. ``plus`` joins alternatives, ``times`` chains two parts. Every value is an exact
integer (or, for the choice-uniform measure, an exact fraction). A table that would grow past
its limit raises :class:`TooLarge` instead of answering approximately.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Generic, TypeVar

from sepcalc.formulas import Shape
from sepcalc.search.decompose import (
    PEAK,
    SUMMED,
    VEC,
    Chain,
    Decomposition,
    Label,
    Option,
    Step,
    Sub,
    TooLarge,
    Vec,
    _env_key,
    choice_weight,
    combine,
)

T = TypeVar("T")
Progress = Callable[[int, int], None]

MAX_PAIRS = 30_000_000
"""The most pairs one convolution of two distributions may combine."""
MAX_SUPPORT = 3_000_000
"""The most distinct values one distribution may hold."""

UNIFORM, CHOICE_UNIFORM = "uniform", "choices"
"""The two measures: every architecture equally likely (what a count counts), or every choice
made uniformly and independently, as OFA's ``sample_active_subnet`` does (depth uniform per
stage, then kernel and expansion uniform per block)."""


class Algebra(Generic[T]):
    def one(self, labels: tuple[Label, ...]) -> T:
        raise NotImplementedError

    def option(self, opt: Option) -> T:
        raise NotImplementedError

    def plus(self, a: T, b: T) -> T:
        raise NotImplementedError

    def times(self, a: T, b: T) -> T:
        raise NotImplementedError

    def scale(self, a: T, w: Fraction) -> T:
        raise NotImplementedError


class CountAlgebra(Algebra[Any]):
    """How many architectures (or, scaled, their probability)."""

    def one(self, labels: tuple[Label, ...]) -> Any:
        return 1

    def option(self, opt: Option) -> Any:
        return 1

    def plus(self, a: Any, b: Any) -> Any:
        return a + b

    def times(self, a: Any, b: Any) -> Any:
        return a * b

    def scale(self, a: Any, w: Fraction) -> Any:
        return a * w


class MomentAlgebra(Algebra[tuple[Any, tuple[Any, ...]]]):
    """(count, sum of every total over the architectures): the exact mean of each."""

    def one(self, labels: tuple[Label, ...]) -> tuple[Any, tuple[Any, ...]]:
        return 1, (0,) * len(VEC)

    def option(self, opt: Option) -> tuple[Any, tuple[Any, ...]]:
        return 1, opt.vec

    def plus(self, a: Any, b: Any) -> Any:
        return a[0] + b[0], tuple(x + y for x, y in zip(a[1], b[1], strict=True))

    def times(self, a: Any, b: Any) -> Any:
        return a[0] * b[0], tuple(x * b[0] + y * a[0] for x, y in zip(a[1], b[1], strict=True))

    def scale(self, a: Any, w: Fraction) -> Any:
        return a[0] * w, tuple(x * w for x in a[1])


Key = tuple[int, ...]


@dataclass(frozen=True)
class Bound:
    """``low <= total <= high`` on one metric (either end may be None)."""

    metric: str
    low: int | None = None
    high: int | None = None
    """Counts and bytes; a latency in whole ticks of the decomposition (see ``seconds``)."""
    seconds: tuple[Fraction | None, Fraction | None] | None = None
    """A latency bound as given, (low, high) in seconds, before the commands turn it into
    ticks (``low`` and ``high`` are then set)."""
    shown: str | None = None
    """How the user wrote it, for a bound in other units than the count (``latency <= 2ms``)."""

    def holds(self, value: int) -> bool:
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)

    def text(self) -> str:
        if self.shown is not None:
            return self.shown
        if self.low is not None and self.high is not None:
            return f"{self.low:,} <= {self.metric} <= {self.high:,}"
        if self.high is not None:
            return f"{self.metric} <= {self.high:,}"
        return f"{self.metric} >= {self.low:,}"


class HistAlgebra(Algebra[dict[Key, Any]]):
    """The exact joint distribution of some totals: {(total, ...): count}.

    Partial sums over an upper bound are dropped as they come (every total is a sum of
    counts of 0 or more, so a partial sum over a bound stays over it). A bound on peak memory
    (a maximum, not a sum) is no key: it holds for an architecture exactly when it holds for
    every option on its path, so options over it are left out.
    """

    def __init__(self, metrics: Sequence[str], bounds: Sequence[Bound] = ()) -> None:
        self.metrics = tuple(m for m in metrics if m in SUMMED)
        self.index = tuple(VEC.index(m) for m in self.metrics)
        self.highs = tuple(
            (self.metrics.index(b.metric), b.high)
            for b in bounds
            if b.high is not None and b.metric in SUMMED
        )
        self.bounds = tuple(b for b in bounds if b.metric in self.metrics)
        self.caps = caps(bounds)
        self.pairs = 0

    def holds(self, key: Key) -> bool:
        """Whether a whole architecture's key is within every bound on a summed metric."""
        return all(b.holds(key[self.metrics.index(b.metric)]) for b in self.bounds)

    def allows(self, opt: Option) -> bool:
        return all(opt.vec[i] <= high for i, high in self.caps)

    def key(self, vec: Vec) -> Key:
        return tuple(vec[i] for i in self.index)

    def fits(self, key: Key) -> bool:
        return all(key[i] <= high for i, high in self.highs)

    def one(self, labels: tuple[Label, ...]) -> dict[Key, Any]:
        return {(0,) * len(self.index): 1}

    def option(self, opt: Option) -> dict[Key, Any]:
        key = self.key(opt.vec)
        return {key: 1} if self.fits(key) and self.allows(opt) else {}

    def plus(self, a: dict[Key, Any], b: dict[Key, Any]) -> dict[Key, Any]:
        if len(a) < len(b):
            a, b = b, a
        out = dict(a)
        get = out.get
        for k, c in b.items():
            out[k] = get(k, 0) + c
        self._check(out)
        return out

    def times(self, a: dict[Key, Any], b: dict[Key, Any]) -> dict[Key, Any]:
        if len(a) < len(b):
            a, b = b, a
        pairs = len(a) * len(b)
        if pairs > MAX_PAIRS:
            raise TooLarge(
                f"combining two distributions of {len(a):,} and {len(b):,} values of "
                f"{', '.join(self.metrics)} takes {pairs:,} steps (the limit is {MAX_PAIRS:,})"
            )
        self.pairs += pairs
        out: dict[Key, Any] = {}
        get = out.get
        if len(self.index) == 1:
            high = self.highs[0][1] if self.highs else None
            for (y,), cy in b.items():
                for (x,), cx in a.items():
                    s = x + y
                    if high is None or s <= high:
                        one = (s,)
                        out[one] = get(one, 0) + cx * cy
        else:
            for kb, cb in b.items():
                for ka, ca in a.items():
                    k = tuple(x + y for x, y in zip(ka, kb, strict=True))
                    if self.fits(k):
                        out[k] = get(k, 0) + ca * cb
        self._check(out)
        return out

    def scale(self, a: dict[Key, Any], w: Fraction) -> dict[Key, Any]:
        return {k: c * w for k, c in a.items()}

    def _check(self, table: dict[Key, Any]) -> None:
        if len(table) > MAX_SUPPORT:
            raise TooLarge(
                f"the exact distribution of {', '.join(self.metrics)} takes more than "
                f"{MAX_SUPPORT:,} distinct values"
            )


def caps(bounds: Sequence[Bound]) -> tuple[tuple[int, int], ...]:
    """(index, high) of the upper bounds on a maximum (peak memory): each option must keep them."""
    return tuple((VEC.index(b.metric), b.high) for b in bounds
                 if b.metric not in SUMMED and b.high is not None)  # fmt: skip


Witness = Any
"""A tree of labels: ('L', labels) or ('C', left, right); flattened once a point is kept."""


def flatten(w: Witness) -> list[Label]:
    out: list[Label] = []
    stack = [w]
    while stack:
        node = stack.pop()
        if node[0] == "L":
            out.extend(node[1])
        else:
            stack.append(node[2])
            stack.append(node[1])
    return out


class FrontAlgebra(Algebra[list[tuple[Vec, Witness]]]):
    """The Pareto front on some keys (metrics with a sign: +1 larger is better, -1 smaller),
    one architecture per point. Bounded metrics are kept as keys while partial sums are pruned
    (smaller is better under an upper bound, larger above a lower one), so that no pruned part
    could have met a bound that a kept part misses. A bound on peak memory leaves out the
    options over it (see :class:`HistAlgebra`); as a key, peak memory combines by the larger of
    two parts' peaks, which keeps dominance (a part no worse than another stays no worse
    after the same rest), so the front stays exact."""

    def __init__(self, keys: Sequence[tuple[str, int]], bounds: Sequence[Bound] = ()) -> None:
        self.keys = tuple(keys)
        prune = list(self.keys)
        summed = [b for b in bounds if b.metric in SUMMED]
        for b in summed:  # a lower bound favours larger partial sums, an upper one smaller
            for end, sign in ((b.high, -1), (b.low, 1)):
                if end is not None and (b.metric, sign) not in prune:
                    prune.append((b.metric, sign))
        self.prune_keys = tuple((VEC.index(m), s) for m, s in prune)
        self.highs = tuple((VEC.index(b.metric), b.high) for b in summed if b.high is not None)
        self.caps = caps(bounds)

    def fits(self, vec: Vec) -> bool:
        return all(vec[i] <= high for i, high in (*self.highs, *self.caps))

    def one(self, labels: tuple[Label, ...]) -> list[tuple[Vec, Witness]]:
        return [((0,) * len(VEC), ("L", labels))]

    def option(self, opt: Option) -> list[tuple[Vec, Witness]]:
        return [(opt.vec, ("L", opt.labels))] if self.fits(opt.vec) else []

    def plus(self, a: list[Any], b: list[Any]) -> list[Any]:
        return front(a + b, self.prune_keys)

    def times(self, a: list[Any], b: list[Any]) -> list[Any]:
        pairs = len(a) * len(b)
        if pairs > MAX_PAIRS:
            raise TooLarge(f"combining two fronts of {len(a):,} and {len(b):,} points")
        # score every pair on the pruning keys first; sum the vectors and join the witnesses
        # only of the pairs that stay on the front
        kept = _front_pairs_numpy(a, b, self.prune_keys, self.highs)
        if kept is None:
            kept = _front_indices(self._scored(a, b))
        return [(combine(a[i][0], b[j][0]), ("C", a[i][1], b[j][1])) for i, j in kept]

    def _scored(self, a: list[Any], b: list[Any]) -> list[tuple[tuple[int, ...], int, int]]:
        """(negated score, i, j) of every pair within the upper bounds."""
        keys = self.prune_keys
        highs = self.highs
        scored = []
        if any(m == PEAK for m, _ in keys):  # a maximum: the pair's peak is the larger one
            for i, (va, _) in enumerate(a):
                for j, (vb, _) in enumerate(b):
                    if highs and not all(va[m] + vb[m] <= h for m, h in highs):
                        continue
                    vc = combine(va, vb)
                    scored.append((tuple(-s * vc[m] for m, s in keys), i, j))
            return scored
        for i, (va, _) in enumerate(a):
            sa = tuple(-s * va[m] for m, s in keys)  # negated: an ascending sort is best first
            for j, (vb, _) in enumerate(b):
                if highs and not all(va[m] + vb[m] <= h for m, h in highs):
                    continue
                score = tuple(x - s * vb[m] for x, (m, s) in zip(sa, keys, strict=True))
                scored.append((score, i, j))
        return scored

    def scale(self, a: list[Any], w: Fraction) -> list[Any]:
        return a


FRONT_CHUNK = 2_000_000
"""Pairs scored per numpy array operation when two fronts are combined."""
FRONT_NUMPY = 1_000
"""Fewer pairs are scored in Python (faster than setting up arrays)."""


def _front_pairs_numpy(
    a: list[tuple[Vec, Witness]],
    b: list[tuple[Vec, Witness]],
    keys: Sequence[tuple[int, int]],
    highs: Sequence[tuple[int, int]],
) -> list[tuple[int, int]] | None:
    """What :func:`_front_indices` keeps of every pair's score, on int64 arrays (a chunk of
    rows at a time: a pair dropped within its chunk is dropped among all pairs, so the front of
    the chunks' fronts is the front). None: numpy is not installed, there are more than two
    keys, too few pairs, or a sum could pass 2**62."""
    from sepcalc.search.sums import numpy_module

    if not a or not b or len(a) * len(b) < FRONT_NUMPY or not 1 <= len(keys) <= 2:
        return None
    np = numpy_module()
    if np is None:
        return None
    cols = sorted({m for m, _ in keys} | {m for m, _ in highs})
    av = np.array([[v[m] for m in cols] for v, _ in a], dtype=object)
    bv = np.array([[v[m] for m in cols] for v, _ in b], dtype=object)
    if max(abs(int(av.max())), abs(int(av.min())), abs(int(bv.max())), abs(int(bv.min()))) >= 2**60:
        return None
    av, bv = av.astype(np.int64), bv.astype(np.int64)
    rows = max(1, FRONT_CHUNK // len(b))
    found: list[Any] = []
    for start in range(0, len(a), rows):
        x = av[start : start + rows]
        i, j = np.indices((len(x), len(b)))
        mask = np.ones(i.shape, dtype=bool)
        for m, h in highs:
            c = cols.index(m)
            mask &= (x[:, c, None] + bv[None, :, c]) <= h
        scores = []
        for m, sign in keys:
            c = cols.index(m)
            if m == PEAK:  # a maximum: the pair's peak is the larger one
                both = np.maximum(x[:, c, None], bv[None, :, c])
            else:
                both = x[:, c, None] + bv[None, :, c]
            scores.append((-sign * both)[mask])
        found.append(_lowest(np, scores, i[mask] + start, j[mask]))
    if len(found) > 1:
        merged = [np.concatenate([f[k] for f in found]) for k in range(len(keys) + 2)]
        found = [_lowest(np, merged[: len(keys)], merged[-2], merged[-1])]
    *_, i, j = found[0]
    return list(zip(i.tolist(), j.tolist(), strict=True))


def _lowest(np: Any, scores: list[Any], i: Any, j: Any) -> tuple[Any, ...]:
    """The (scores..., i, j) that :func:`_front_indices` keeps: sorted by (scores, i, j), each
    whose last score is below every earlier one's (with one score: the first)."""
    order = np.lexsort((j, i, *reversed(scores)))
    scores = [s[order] for s in scores]
    i, j = i[order], j[order]
    if not len(i):
        keep = np.zeros(0, dtype=bool)
    elif len(scores) == 1:
        keep = np.zeros(len(i), dtype=bool)
        keep[0] = True
    else:
        y = scores[1]
        keep = np.ones(len(y), dtype=bool)
        keep[1:] = y[1:] < np.minimum.accumulate(y)[:-1]
    return (*(s[keep] for s in scores), i[keep], j[keep])


def _front_indices(scored: list[tuple[tuple[int, ...], int, int]]) -> list[tuple[int, int]]:
    """The (i, j) of the negated scores no other dominates (smaller is better in every
    coordinate); of equal scores, the first in (i, j) order."""
    scored.sort()
    kept: list[tuple[int, int]] = []
    if scored and len(scored[0][0]) == 2:
        best = None
        for (_, y), i, j in scored:
            if best is None or y < best:
                kept.append((i, j))
                best = y
        return kept
    kept_keys: list[tuple[int, ...]] = []
    for k, i, j in scored:
        if not any(all(x <= y for x, y in zip(o, k, strict=True)) for o in kept_keys):
            kept_keys.append(k)
            kept.append((i, j))
    return kept


def front(points: list[tuple[Vec, Witness]], keys: Sequence[tuple[int, int]]) -> list[Any]:
    """The points no other point dominates on ``keys`` (index, sign); of equal points, the
    first."""
    scored = sorted(
        ((tuple(s * v[i] for i, s in keys), n, v, w) for n, (v, w) in enumerate(points)),
        key=lambda t: (tuple(-x for x in t[0]), t[1]),
    )
    kept: list[tuple[Vec, Witness]] = []
    if len(keys) == 2:
        best = None
        for k, _, v, w in scored:
            if best is None or k[1] > best:
                kept.append((v, w))
                best = k[1]
        return kept
    kept_keys: list[tuple[int, ...]] = []
    for k, _, v, w in scored:
        if not any(all(x >= y for x, y in zip(o, k, strict=True)) for o in kept_keys):
            kept_keys.append(k)
            kept.append((v, w))
    return kept


# --- the dynamic program ----------------------------------------------------------------------


class Program(Generic[T]):
    """Runs one algebra over a decomposition, memoizing every step and link by input shape."""

    def __init__(self, dec: Decomposition, alg: Algebra[T], measure: str = UNIFORM) -> None:
        self.dec = dec
        self.alg = alg
        self.measure = measure
        self._subs: dict[Any, dict[Shape, T]] = {}
        self._steps: dict[Any, dict[Shape, T]] = {}

    def chain(self, chain: Chain, progress: Progress | None = None) -> dict[Shape, T]:
        """By output shape: the algebra's value over every architecture of one var assignment."""
        state: dict[Shape, T] = {chain.input_shape: self.alg.one(chain.labels)}
        for n, step in enumerate(self.dec.steps, 1):

            def part(s: Shape, st: Step = step) -> dict[Shape, T]:
                return self.step(st, chain.env, s)

            state = self.then(state, part)
            if progress is not None:
                progress(n, len(self.dec.steps))
        return state

    def then(
        self, state: dict[Shape, T], part: Callable[[Shape], dict[Shape, T]]
    ) -> dict[Shape, T]:
        alg = self.alg
        new: dict[Shape, T] = {}
        for shape, acc in state.items():
            for out, value in part(shape).items():
                t = alg.times(acc, value)
                new[out] = t if out not in new else alg.plus(new[out], t)
        return new

    def step(self, step: Step, env: dict[str, Any], shape: Shape) -> dict[Shape, T]:
        key = (step, _env_key(env), shape)
        found = self._steps.get(key)
        if found is not None:
            return found
        alternatives = self.dec.alternatives(step, env)
        result: dict[Shape, T] = {}
        for alt in alternatives:
            state = {shape: self.alg.one(alt.labels)}
            for sub in alt.subs:

                def link(s: Shape, sb: Sub = sub) -> dict[Shape, T]:
                    return self.sub(sb, env, s)

                state = self.then(state, link)
            for out, value in state.items():
                if self.measure == CHOICE_UNIFORM:
                    value = self.alg.scale(value, Fraction(1, len(alternatives)))
                result[out] = value if out not in result else self.alg.plus(result[out], value)
        self._steps[key] = result
        return result

    def sub(self, sub: Sub, env: dict[str, Any], shape: Shape) -> dict[Shape, T]:
        key = (sub, _env_key(env), shape)
        found = self._subs.get(key)
        if found is not None:
            return found
        ok, _ = self.dec.options(sub, env, shape)
        result: dict[Shape, T] = {}
        for opt in ok:
            value = self.alg.option(opt)
            if self.measure == CHOICE_UNIFORM:  # every choice uniform, each repeat drawn anew
                value = self.alg.scale(value, choice_weight(self.dec.space, opt.labels))
            result[opt.out] = (
                value if opt.out not in result else self.alg.plus(result[opt.out], value)
            )
        self._subs[key] = result
        return result

    def total(self, progress: Progress | None = None) -> T | None:
        """The value over the whole space (every var assignment, every output shape)."""
        out: T | None = None
        chains = list(self.dec.chains())
        for n, chain in enumerate(chains, 1):
            for value in self.chain(chain).values():
                if self.measure == CHOICE_UNIFORM:
                    value = self.alg.scale(value, Fraction(1, len(chains)))
                out = value if out is None else self.alg.plus(out, value)
            if progress is not None:
                progress(n, len(chains))
        return out


def chains_with(dec: Decomposition) -> Iterator[Chain]:
    yield from dec.chains()
