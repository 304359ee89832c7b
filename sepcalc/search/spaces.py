"""The questions asked of a search space, answered exactly: count, distribution, Pareto front,
best architecture under budgets, and uniform samples within budgets.

Every answer comes from the dynamic program of :mod:`~sepcalc.search.exact` over the space's
steps (:mod:`~sepcalc.search.decompose`). Where the steps are independent (each has one output
shape), a count within one bound on a summed total, a distribution's bins and uniform samples
within that bound come from the stages' sums (:mod:`~sepcalc.search.sums`): exact, and without
the joint table. Samples whose tables do not fit are drawn from the whole space and kept when
within budget (each kept one still uniform among those within budget, and said so); otherwise
the question is refused with the reason. No answer is ever estimated.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from itertools import accumulate
from typing import Any

from sepcalc.conventions import DEFAULT, Convention
from sepcalc.errors import EXIT_FAILED, EXIT_OK, SepcalcError
from sepcalc.formulas import Shape
from sepcalc.search.decompose import (
    DEVICE_METRICS,
    METRICS,
    SUMMED,
    VEC,
    Chain,
    Decomposition,
    Label,
    Option,
    TooLarge,
    Vec,
    _env_key,
    choice_weight,
    combine,
)
from sepcalc.search.exact import (
    CHOICE_UNIFORM,
    MAX_SUPPORT,
    UNIFORM,
    Bound,
    CountAlgebra,
    FrontAlgebra,
    HistAlgebra,
    MomentAlgebra,
    Program,
    flatten,
    front,
)
from sepcalc.search.space import Assignment, Space, Value
from sepcalc.search.sums import Counter

Progress = Callable[[int, int], None]

# --- bounds -----------------------------------------------------------------------------------


def check_bounds(bounds: Sequence[Bound], dec: Decomposition | None = None) -> None:
    seen: set[str] = set()
    for b in bounds:
        if b.metric not in VEC:
            raise SepcalcError(f"unknown metric '{b.metric}'; choose from {', '.join(VEC)}")
        if dec is not None:
            check_metric(dec, b.metric)
        if b.metric not in SUMMED and b.low is not None:
            raise SepcalcError(
                f"{b.metric}: only an upper bound: it is the largest of the stages' peaks, so "
                "a lower bound cannot be checked stage by stage"
            )
        if b.metric in seen:
            raise SepcalcError(f"{b.metric} is bounded twice; give each metric once")
        seen.add(b.metric)
        if b.low is not None and b.high is not None and b.low > b.high:
            raise SepcalcError(f"{b.metric}: the band {b.low:,}:{b.high:,} is empty")


def check_metric(dec: Decomposition, metric: str) -> None:
    """A device total needs the device model: latency a device to run on."""
    if metric not in DEVICE_METRICS:
        return
    if metric == "latency" and (dec.device is None or dec.device.device is None):
        raise SepcalcError("a latency needs a device to run on (see docs/device.md)")
    if dec.device is None:
        raise SepcalcError(f"{metric} needs the device model (a precision; see docs/device.md)")


def in_units(dec: Decomposition, bounds: Sequence[Bound]) -> list[Bound]:
    """The bounds checked, a latency bound in seconds turned into the program's whole ticks
    (a latency is a whole number of ticks, so ``t <= high`` iff ``ticks <= floor(high / tick)``
    and ``t >= low`` iff ``ticks >= ceil(low / tick)``)."""
    check_bounds(bounds, dec)
    out = []
    for b in bounds:
        if b.metric == "latency" and b.seconds is not None:
            lo, hi = b.seconds
            low = None if lo is None else -(-lo // dec.tick)
            high = None if hi is None else hi // dec.tick
            b = Bound(b.metric, int(low) if low is not None else None,
                      int(high) if high is not None else None, None, b.shown)  # fmt: skip
        out.append(b)
    return out


def within(vec: Vec, bounds: Sequence[Bound]) -> bool:
    return all(b.holds(vec[VEC.index(b.metric)]) for b in bounds)


def totals(vec: Vec, dec: Decomposition) -> dict[str, int | Fraction]:
    """The totals a report shows: the counts, and with a device request the device totals
    (latency back in seconds, exact)."""
    out: dict[str, int | Fraction] = dict(zip(METRICS, vec, strict=False))
    if dec.device is not None:
        for m in DEVICE_METRICS:
            value = vec[VEC.index(m)]
            if m == "latency":
                if dec.device.device is None:
                    continue
                out[m] = value * dec.tick
            else:
                out[m] = value
    return out


# --- assignments from labels ------------------------------------------------------------------


def assignment_of(space: Space, labels: Sequence[Label]) -> dict[str, Value]:
    """The assignment that a path of the program's labels stands for."""
    per_block: dict[str, dict[int, Value]] = {}
    out: dict[str, Value] = {}
    for name, i, value in labels:
        if i is None:
            out[name] = value
        else:
            per_block.setdefault(name, {})[i] = value
    for c in space.choices:
        if c.per == "block" and c.name not in out:
            got = per_block.get(c.name, {})
            out[c.name] = tuple(got[i] for i in sorted(got)) or (c.values[0],)
        elif c.name not in out:
            out[c.name] = c.values[0]
    return {c.name: out[c.name] for c in space.choices}


# --- summary and count ------------------------------------------------------------------------


@dataclass(frozen=True)
class StepInfo:
    entries: tuple[str, ...]
    kind: str
    choices: tuple[str, ...]


@dataclass(frozen=True)
class CountResult:
    space: str
    choices: tuple[tuple[str, str, tuple[Value, ...]], ...]
    """(name, per, values) of every choice."""
    steps: tuple[StepInfo, ...]
    assignments: int
    """Every assignment of the choices."""
    buildable: int
    """Those whose network builds."""
    bounds: tuple[Bound, ...]
    within: int | None
    """Those within every bound (None without bounds)."""
    method: str
    failures: tuple[tuple[str, str], ...] = ()
    """(an assignment that does not build, its error): one per distinct error."""
    by_var: tuple[tuple[dict[str, Value], int, int | None], ...] = ()
    """Per assignment of the var choices: its values, buildable count, count within bounds."""
    choice_share: Fraction | None = None
    """The probability that OFA's sampler (every choice uniform) draws within the bound."""

    @property
    def exit_code(self) -> int:
        return EXIT_FAILED if self.bounds and not self.within else EXIT_OK


def assignments(dec: Decomposition, chain: Chain) -> int:
    """How many assignments one var assignment has (built or not)."""
    total = 1
    for step in dec.steps:
        alts = dec.alternatives(step, chain.env)
        count = 0
        for alt in alts:
            n = 1
            for sub in alt.subs:
                n *= dec.option_count(sub, chain.env)
            count += n
        total *= count
    return total


def _chain_values(chain: Chain) -> dict[str, Value]:
    return {name: v for name, _, v in chain.labels}


def count_space(
    dec: Decomposition,
    bounds: Sequence[Bound] = (),
    progress: Progress | None = None,
    choice_share: bool = False,
) -> CountResult:
    """How many architectures the space has, build, and are within every bound; with
    ``choice_share`` (one bound), also the exact share of OFA's sampler within it."""
    given, bounds = tuple(bounds), in_units(dec, bounds)
    if choice_share and len(bounds) != 1:
        raise SepcalcError("the sampler's share is computed for one bound")
    chains = list(dec.chains())
    counting = Program(dec, CountAlgebra())
    total = buildable = 0
    within_total: int | None = 0 if bounds else None
    method = "table"
    by_var = []
    for n, chain in enumerate(chains, 1):
        a = assignments(dec, chain)
        b = sum(counting.chain(chain).values())
        w = None
        if bounds:
            w, how = _count_within(dec, chain, bounds)
            if how != "table":
                method = how
            assert within_total is not None
            within_total += w
        total += a
        buildable += b
        by_var.append((_chain_values(chain), b, w))
        if progress is not None:
            progress(n, len(chains))
    failures = tuple((labels, message) for message, labels in dec.stats.failed.items())
    return CountResult(
        dec.space.name,
        tuple((c.name, c.per, c.values) for c in dec.space.choices),
        steps_info(dec),
        total,
        buildable,
        given,
        within_total,
        method,
        failures,
        tuple(by_var) if dec.space.var_choices else (),
        choice_probability(dec, bounds[0]) if choice_share else None,
    )


def steps_info(dec: Decomposition) -> tuple[StepInfo, ...]:
    out = []
    for step in dec.steps:
        names = tuple(dec.space.label(j) for j in step.entries)
        choices = tuple(c.name for j in step.entries for c in dec.space.entry_choices(j))
        out.append(StepInfo(names, step.kind, choices))
    return tuple(out)


def _count_within(dec: Decomposition, chain: Chain, bounds: Sequence[Bound]) -> tuple[int, str]:
    """Architectures of one var assignment within every bound, and how it was counted: with one
    bound on a summed total, from the stages' distributions (:class:`Counter`), otherwise (or
    when a step's output shape depends on its choices) from the joint table."""
    summed = [b for b in bounds if b.metric in SUMMED]
    capped = [b for b in bounds if b.metric not in SUMMED]
    split: TooLarge | None = None
    if len(summed) == 1:
        (bound,) = summed
        try:
            hists = stage_hists(dec, chain, bound.metric, bound.high, capped)
        except TooLarge as exc:  # a step's output shape depends on its choices
            split = exc
        else:  # the joint table is the stages' sums combined: no other way
            try:
                counter = Counter(hists, bound.high)
            except TooLarge as exc:
                raise TooLarge(
                    f"the stages' totals of {bound.metric} do not combine within the limits: {exc}"
                ) from None
            return counter.within(bound.low, bound.high), _method(counter)
    metrics = [b.metric for b in bounds]
    try:
        table = Program(dec, HistAlgebra(metrics, bounds)).chain(chain)
    except TooLarge as exc:
        if split is not None:
            raise TooLarge(f"{exc}; nor could it be split: {split}") from None
        raise TooLarge(
            f"{exc}; with one bound the count can still be exact (three tables instead of "
            "one), with several it cannot (a peak-memory bound aside)"
        ) from None
    algebra = HistAlgebra(metrics, bounds)
    count = 0
    for hist in table.values():
        for key, c in hist.items():
            if algebra.holds(key):
                count += c
    return count, "table"


def _method(counter: Counter) -> str:
    return "table" if counter.tables <= 1 else "three tables"


@dataclass
class StageTables:
    """Each step's distribution of one total on its one input shape, and the program that
    made them (its tables draw a step's choices given its total)."""

    program: Program[dict[Any, Any]]
    hists: list[dict[int, int]]
    shapes: list[tuple[Shape, Shape]]
    """Each step's input and output shape."""


def stage_tables(
    dec: Decomposition,
    chain: Chain,
    metric: str,
    high: int | None,
    capped: Sequence[Bound] = (),
    program: Program[dict[Any, Any]] | None = None,
) -> StageTables:
    """The distribution of each step's total on its one input shape (of the options within the
    ``capped`` peak-memory bound); refuses when a step's output shape depends on its choices
    (then only the joint table is exact). A step with no option left ends the list with an
    empty distribution (nothing is within the bounds). ``program``: one of the same algebra to
    share (its tables are memoized)."""
    bound = [Bound(metric, high=high)] if high is not None else []
    if program is None:
        program = Program(dec, HistAlgebra([metric], [*bound, *capped]))
    shape = chain.input_shape
    out = StageTables(program, [], [])
    for step in dec.steps:
        found = program.step(step, chain.env, shape)
        if not found:
            out.hists.append({})
            break
        if len(found) != 1:
            raise TooLarge(
                f"the output shape of {', '.join(dec.space.label(j) for j in step.entries)} "
                "depends on its choices, so the stages are not independent"
            )
        ((after, hist),) = found.items()
        out.hists.append({k[0]: c for k, c in hist.items()})
        out.shapes.append((shape, after))
        shape = after
    return out


def stage_hists(
    dec: Decomposition,
    chain: Chain,
    metric: str,
    high: int | None,
    capped: Sequence[Bound] = (),
) -> list[dict[int, int]]:
    """Each step's distribution (see :func:`stage_tables`)."""
    return stage_tables(dec, chain, metric, high, capped).hists


# --- distribution -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Bin:
    low: int
    high: int
    """Inclusive."""
    count: int
    cumulative: int


@dataclass(frozen=True)
class Distribution:
    label: dict[str, Value]
    """The var values of this sub-space (empty: the whole space)."""
    metric: str
    count: int
    mean: Fraction
    minimum: int
    maximum: int
    quantiles: tuple[tuple[Fraction, int], ...]
    """(q, the smallest value v with at least q of the architectures at or below v)."""
    values: tuple[tuple[int, int], ...] | None
    """Every distinct value and its count (None when binned or too many)."""
    bins: tuple[Bin, ...]
    method: str


@dataclass(frozen=True)
class DistributionResult:
    space: str
    metric: str
    parts: tuple[Distribution, ...]
    notes: tuple[str, ...] = ()
    exit_code: int = EXIT_OK
    bounds: tuple[Bound, ...] = ()
    within: tuple[int, ...] | None = None
    """Per part, how many of its architectures are within every bound (None without bounds;
    see :func:`sepcalc.search.shares.with_bounds`)."""


QUANTILES = (
    Fraction(1, 100),
    Fraction(1, 10),
    Fraction(1, 4),
    Fraction(1, 2),
    Fraction(3, 4),
    Fraction(9, 10),
    Fraction(99, 100),
)


def distribution(
    dec: Decomposition,
    metric: str,
    bins: int | None = None,
    by_var: bool = False,
    progress: Progress | None = None,
) -> DistributionResult:
    """The exact distribution of one total over the space (or each var assignment)."""
    if metric in ("latency", "peak_memory"):
        raise SepcalcError(
            f"the distribution of {metric} is not offered: "
            + (
                "a latency is an exact fraction of a second; bound it, minimize it or put it "
                "on the Pareto front"
                if metric == "latency"
                else "peak memory is the largest of the stages' peaks, not a sum; bound it, "
                "minimize it or put it on the Pareto front"
            )
        )
    if metric not in (*METRICS, "flash"):
        raise SepcalcError(
            f"unknown metric '{metric}'; choose from {', '.join((*METRICS, 'flash'))}"
        )
    check_metric(dec, metric)
    chains = list(dec.chains())
    groups: list[list[Chain]] = [[c] for c in chains] if by_var else [chains]
    parts = []
    notes: list[str] = []
    for n, group in enumerate(groups, 1):
        parts.append(_distribution(dec, group, metric, bins, notes))
        if progress is not None:
            progress(n, len(groups))
    return DistributionResult(dec.space.name, metric, tuple(parts), tuple(dict.fromkeys(notes)))


def _distribution(
    dec: Decomposition, chains: Sequence[Chain], metric: str, bins: int | None, notes: list[str]
) -> Distribution:
    label = _chain_values(chains[0]) if len(chains) == 1 and dec.space.var_choices else {}
    moments = Program(dec, MomentAlgebra())
    count = 0
    total = 0
    for chain in chains:
        for c, sums in moments.chain(chain).values():
            count += c
            total += sums[VEC.index(metric)]
    if count == 0:
        raise SepcalcError("no architecture of the space builds")
    mean = Fraction(total, count)
    hist, counters, why = _whole_distribution(dec, chains, metric)
    if hist is None:
        if bins is None:
            raise TooLarge(f"{why}: ask for bins, which are counted exactly without it")
        notes.append(f"{why}: each bin was counted exactly at its edges instead")
        return _binned_by_counts(counters, metric, bins, label, count, mean)
    values = sorted(hist.items())
    cumulative = list(accumulate(c for _, c in values))
    quantiles = []
    for q in QUANTILES:
        need = q * count
        k = next(i for i, c in enumerate(cumulative) if c >= need)
        quantiles.append((q, values[k][0]))
    lo, hi = values[0][0], values[-1][0]
    bin_list: list[Bin] = []
    if bins is not None:
        keys = [v for v, _ in values]
        before = 0
        for b_lo, b_hi in edges(lo, hi, bins):
            upto = cumulative[bisect_right(keys, b_hi) - 1]
            bin_list.append(Bin(b_lo, b_hi, upto - before, upto))
            before = upto
    return Distribution(
        label,
        metric,
        count,
        mean,
        lo,
        hi,
        tuple(quantiles),
        None if bins is not None else tuple(values),
        tuple(bin_list),
        "table",
    )


def _whole_distribution(
    dec: Decomposition, chains: Sequence[Chain], metric: str
) -> tuple[dict[int, int] | None, list[Counter], str]:
    """The exact distribution of a total over the chains, when it fits in one table; else the
    chains' counters (which count at any edge) and why it does not fit."""
    try:
        counters = [Counter(stage_hists(dec, chain, metric, None), whole=True) for chain in chains]
    except TooLarge as split:  # a step's output shape depends on its choices: the joint table
        try:
            hist: dict[int, int] = {}
            program = Program(dec, HistAlgebra([metric]))
            for chain in chains:
                for h in program.chain(chain).values():
                    for (v,), c in h.items():
                        hist[v] = hist.get(v, 0) + c
        except TooLarge as exc:
            raise TooLarge(f"{exc}; nor can it be counted stage by stage: {split}") from None
        return hist, [], ""
    hist = {}
    for counter in counters:
        table = counter.table()
        if table is None:
            sizes = " and ".join(f"{n:,}" for n in counter.sizes)
            return (
                None,
                counters,
                (
                    f"the exact distribution of {metric} does not fit in one table (the stages' "
                    f"totals merge into tables of {sizes} distinct values)"
                ),
            )
        for v, c in table.items():
            hist[v] = hist.get(v, 0) + c
    if len(hist) > MAX_SUPPORT:
        return (
            None,
            counters,
            (f"the exact distribution of {metric} takes more than {MAX_SUPPORT:,} distinct values"),
        )
    return hist, counters, ""


def edges(lo: int, hi: int, bins: int) -> list[tuple[int, int]]:
    """``bins`` inclusive integer ranges covering lo..hi, as equal as integers allow."""
    if bins < 1:
        raise SepcalcError("the number of bins must be 1 or more")
    width = hi - lo + 1
    bins = min(bins, width)
    cuts = [lo + (width * k) // bins for k in range(bins + 1)]
    return [(cuts[k], cuts[k + 1] - 1) for k in range(bins)]


def _binned_by_counts(
    counters: Sequence[Counter],
    metric: str,
    bins: int,
    label: dict[str, Value],
    count: int,
    mean: Fraction,
) -> Distribution:
    """Bins counted exactly at their edges: the cumulative count at each upper edge."""
    counters = [c for c in counters if not c.empty]  # a var value none of whose options build
    lo = min(c.low for c in counters)
    hi = max(c.high for c in counters)
    ranges = edges(lo, hi, bins)
    each = [c.at_most_each([h for _, h in ranges]) for c in counters]
    upto = [sum(counts) for counts in zip(*each, strict=True)]
    bin_list = []
    before = 0
    for (b_lo, b_hi), u in zip(ranges, upto, strict=True):
        bin_list.append(Bin(b_lo, b_hi, u - before, u))
        before = u
    return Distribution(
        label, metric, count, mean, lo, hi, (), None, tuple(bin_list), "three tables"
    )


# --- Pareto front and best --------------------------------------------------------------------


@dataclass(frozen=True)
class Point:
    totals: dict[str, int | Fraction]
    assignment: dict[str, Value]


@dataclass(frozen=True)
class FrontResult:
    space: str
    keys: tuple[tuple[str, int], ...]
    bounds: tuple[Bound, ...]
    points: tuple[Point, ...]

    @property
    def exit_code(self) -> int:
        return EXIT_FAILED if not self.points else EXIT_OK


def pareto(
    dec: Decomposition,
    keys: Sequence[tuple[str, int]],
    bounds: Sequence[Bound] = (),
    progress: Progress | None = None,
) -> FrontResult:
    """The exact Pareto front on ``keys`` ((metric, +1 larger is better / -1 smaller)) of the
    architectures within every bound, one architecture per point, best first on the first key."""
    given, bounds = tuple(bounds), in_units(dec, bounds)
    for m, _ in keys:
        if m not in VEC:
            raise SepcalcError(f"unknown metric '{m}'; choose from {', '.join(VEC)}")
        check_metric(dec, m)
    if len({m for m, _ in keys}) != len(keys):
        raise SepcalcError("each metric may be a key of the front once")
    algebra = FrontAlgebra(keys, bounds)
    found = Program(dec, algebra).total(progress) or []
    feasible = [(v, w) for v, w in found if within(v, bounds)]
    index = tuple((VEC.index(m), s) for m, s in keys)
    kept = front(feasible, index)
    points = tuple(Point(totals(v, dec), assignment_of(dec.space, flatten(w))) for v, w in kept)
    return FrontResult(dec.space.name, tuple(keys), given, points)


@dataclass(frozen=True)
class BestResult:
    space: str
    objective: tuple[str, int]
    bounds: tuple[Bound, ...]
    best: Point | None
    reason: str | None

    @property
    def exit_code(self) -> int:
        return EXIT_FAILED if self.best is None else EXIT_OK


def best(
    dec: Decomposition,
    objective: tuple[str, int],
    bounds: Sequence[Bound] = (),
    progress: Progress | None = None,
) -> BestResult:
    """The architecture with the largest (or smallest) ``objective`` within every bound; of
    equals, the one first on the front (smallest bounded metrics)."""
    result = pareto(dec, [objective], bounds, progress)
    if result.points:
        return BestResult(dec.space.name, objective, tuple(bounds), result.points[0], None)
    lows = []
    for b in bounds:
        if b.high is None and b.seconds is None:
            continue
        smallest = pareto(dec, [(b.metric, -1)]).points
        if smallest:
            least = smallest[0].totals[b.metric]
            lows.append(
                f"the smallest {b.metric} in the space is {shown_total(b.metric, least)} "
                f"(bound {b.shown.split('<= ')[-1] if b.shown else f'{b.high:,}'})"
            )
    reason = "no architecture is within every bound" + (": " + "; ".join(lows) if lows else "")
    return BestResult(dec.space.name, objective, tuple(bounds), None, reason)


def shown_total(metric: str, value: int | Fraction) -> str:
    """A total in words for a message, as the reports print it; a latency exactly too."""
    from sepcalc.search.targets import shown

    if isinstance(value, Fraction):
        return f"{shown(metric, value)} ({value.numerator}/{value.denominator} s exactly)"
    return shown(metric, value)


# --- sampling ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    totals: dict[str, int | Fraction]
    assignment: dict[str, Value]


@dataclass(frozen=True)
class SampleResult:
    space: str
    sampler: str
    bounds: tuple[Bound, ...]
    samples: tuple[Sample, ...]
    method: str
    """'tables' (drawn within the bounds directly), 'draws kept within bounds', or 'choices'."""
    draws: int
    """How many architectures were drawn to keep these (equal to the samples for 'tables')."""
    seed: int
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def exit_code(self) -> int:
        return EXIT_FAILED if not self.samples else EXIT_OK


MAX_DRAWS_PER_SAMPLE = 2000
"""Draws from the whole space per sample wanted, when the bounds' tables do not fit."""
MAX_PYTHON_SEARCHES = 5_000_000
"""Without numpy, the most searches the stages' tables may take to draw within a bound (more,
and draws from the whole space kept when within it are faster)."""


class _Backward:
    """Draws architectures exactly in proportion to the tables of a :class:`HistAlgebra`
    (with no metric: uniformly), from the last step back to the first."""

    def __init__(
        self,
        dec: Decomposition,
        algebra: HistAlgebra,
        rng: random.Random,
        program: Program[dict[Any, Any]] | None = None,
    ) -> None:
        self.dec = dec
        self.alg = algebra
        self.program: Program[dict[Any, Any]] = program or Program(dec, algebra)
        self.rng = rng
        self._prefixes: dict[Any, list[dict[Shape, dict[Any, Any]]]] = {}
        self._options: dict[Any, dict[tuple[Shape, Any], list[Option]]] = {}
        self._candidates: dict[Any, list[tuple[Any, Any]]] = {}
        self._single: dict[Any, tuple[list[Label], Vec]] = {}
        self._envs: dict[int, tuple[dict[str, Any], tuple[Any, ...]]] = {}

    def env_key(self, env: dict[str, Any]) -> tuple[Any, ...]:
        """``_env_key(env)``, memoized (the env is kept, so its id stays its own)."""
        found = self._envs.get(id(env))
        if found is None:
            found = self._envs[id(env)] = (env, _env_key(env))
        return found[1]

    def prefixes(
        self,
        key: Any,
        start: dict[Shape, Any],
        parts: Sequence[Callable[[Shape], dict[Shape, Any]]],
    ) -> list[dict[Shape, Any]]:
        found = self._prefixes.get(key)
        if found is None:
            found = [start]
            for part in parts:
                found.append(self.program.then(found[-1], part))
            self._prefixes[key] = found
        return found

    def chain_prefixes(self, chain: Chain) -> list[dict[Shape, Any]]:
        parts = [lambda s, st=step: self.program.step(st, chain.env, s) for step in self.dec.steps]
        start = {chain.input_shape: self.alg.one(chain.labels)}
        return self.prefixes(("chain", chain.labels), start, parts)

    def pick(self, weighted: list[tuple[Any, Any]]) -> Any:
        if len(weighted) == 1:
            return weighted[0][1]
        total = sum(w for w, _ in weighted)
        r = self.rng.randrange(total) if isinstance(total, int) else self.rng.random() * total
        for w, item in weighted:
            if r < w:
                return item
            r -= w
        return weighted[-1][1]

    def back(
        self,
        prefixes: list[dict[Shape, Any]],
        parts: Sequence[Callable[[Shape], dict[Shape, Any]]],
        inside: Sequence[Callable[[Shape, Shape, Any], tuple[list[Label], Vec]]],
        shape: Shape,
        key: Any,
    ) -> tuple[list[Label], Vec]:
        labels: list[Label] = []
        vec = (0,) * len(VEC)
        for k in range(len(parts) - 1, -1, -1):
            memo = (id(prefixes), k, shape, key)  # the prefixes are memoized: their id is theirs
            cands = self._candidates.get(memo)
            if cands is None:
                cands = self._candidates[memo] = []
                for s_in, before in prefixes[k].items():
                    h = parts[k](s_in).get(shape)
                    if not h:
                        continue
                    for b, cb in h.items():
                        rest = tuple(x - y for x, y in zip(key, b, strict=True))
                        cp = before.get(rest)
                        if cp:
                            cands.append((cp * cb, (s_in, b, rest)))
            s_in, b, rest = self.pick(cands)
            got, v = inside[k](s_in, shape, b)
            labels += got
            vec = combine(vec, v)
            shape, key = s_in, rest
        return labels, vec

    def draw(self, chain: Chain, shape: Shape, key: Any) -> tuple[list[Label], Vec]:
        env = chain.env
        parts = [lambda s, st=step: self.program.step(st, env, s) for step in self.dec.steps]
        inside = [
            lambda s, o, b, st=step: self.in_step(st, env, s, o, b) for step in self.dec.steps
        ]
        labels, vec = self.back(self.chain_prefixes(chain), parts, inside, shape, key)
        return [*chain.labels, *labels], vec

    def in_step(
        self, step: Any, env: dict[str, Any], s_in: Shape, s_out: Shape, key: Any
    ) -> tuple[list[Label], Vec]:
        memo = ("step", step, self.env_key(env), s_in, s_out, key)
        single = self._single.get(memo)
        if single is not None:  # one architecture has this total: no draw
            return single
        weighted = self._candidates.get(memo)
        if weighted is None:
            weighted = self._candidates[memo] = []
            for n, alt in enumerate(self.dec.alternatives(step, env)):
                parts = [lambda s, sb=sub: self.program.sub(sb, env, s) for sub in alt.subs]
                pre = self.prefixes(
                    ("alt", step, self.env_key(env), n, s_in),
                    {s_in: self.alg.one(alt.labels)},
                    parts,
                )
                c = pre[-1].get(s_out, {}).get(key)
                if c:
                    weighted.append((c, (alt, parts, pre)))
        alt, parts, pre = self.pick(weighted)
        inside = [lambda s, o, b, sb=sub: self.in_sub(sb, env, s, o, b) for sub in alt.subs]
        labels, vec = self.back(pre, parts, inside, s_out, key)
        found = [*alt.labels, *labels], vec
        if len(weighted) == 1 and weighted[0][0] == 1:
            self._single[memo] = found
        return found

    def in_sub(
        self, sub: Any, env: dict[str, Any], s_in: Shape, s_out: Shape, key: Any
    ) -> tuple[list[Label], Vec]:
        cache_key = (sub, self.env_key(env), s_in)
        table = self._options.get(cache_key)
        if table is None:
            table = {}
            ok, _ = self.dec.options(sub, env, s_in)
            for opt in ok:
                k = self.alg.key(opt.vec)
                if self.alg.fits(k) and self.alg.allows(opt):
                    table.setdefault((opt.out, k), []).append(opt)
            self._options[cache_key] = table
        found = table[(s_out, key)]
        opt = self.rng.choice(found) if len(found) > 1 else found[0]
        return list(opt.labels), opt.vec


def sample(
    dec: Decomposition,
    n: int,
    seed: int = 0,
    bounds: Sequence[Bound] = (),
    sampler: str = UNIFORM,
    progress: Progress | None = None,
) -> SampleResult:
    """``n`` architectures within every bound: uniformly among them (``uniform``), or with
    every choice uniform and independent, as OFA samples, kept when within bounds
    (``choices``)."""
    given, bounds = tuple(bounds), in_units(dec, bounds)
    if n < 1:
        raise SepcalcError("the number of samples must be 1 or more")
    rng = random.Random(seed)
    if sampler == CHOICE_UNIFORM:
        return replace(_sample_choices(dec, n, seed, bounds, rng, progress), bounds=given)
    chains = list(dec.chains())
    notes: list[str] = []
    draw, method = _drawer(dec, chains, bounds, rng, notes)
    samples: list[Sample] = []
    draws = 0
    if draw is not None:
        limit = n if method == "tables" else n * MAX_DRAWS_PER_SAMPLE
        while len(samples) < n and draws < limit:
            labels, vec = draw()
            draws += 1
            if within(vec, bounds):
                samples.append(Sample(totals(vec, dec), assignment_of(dec.space, labels)))
                if progress is not None:
                    progress(len(samples), n)
    if method != "tables" and len(samples) < n:
        notes.append(f"{draws:,} draws kept {len(samples):,} within the bounds")
    return SampleResult(
        dec.space.name, UNIFORM, given, tuple(samples), method, draws, seed, tuple(notes)
    )


Draw = Callable[[], tuple[list[Label], Vec]]


def _drawer(
    dec: Decomposition,
    chains: Sequence[Chain],
    bounds: Sequence[Bound],
    rng: random.Random,
    notes: list[str],
) -> tuple[Draw | None, str]:
    """How to draw: uniformly within the bounds from exact tables (the stages' sums under one
    bound, else the joint table), or, when neither fits, uniformly from the whole space (the
    caller keeps a draw when within the bounds). None: nothing to draw from."""
    summed = [b for b in bounds if b.metric in SUMMED]
    split: TooLarge | None = None
    if len(summed) == 1:
        try:
            sums = StageSums(dec, chains, summed[0], [b for b in bounds if b not in summed], rng)
        except TooLarge as exc:
            split = exc
        else:
            return (sums.draw if sums.total else None), "tables"
    try:
        if isinstance(split, _Uncombined):  # the joint table is those sums combined
            raise split
        algebra = HistAlgebra([b.metric for b in bounds], bounds)
        back = _Backward(dec, algebra, rng)
        finals = []
        for chain in chains:
            for shape, hist in back.chain_prefixes(chain)[-1].items():
                for key, c in hist.items():
                    if algebra.holds(key):
                        finals.append((c, (chain, shape, key)))
        method = "tables"
    except TooLarge as exc:
        why = f"{exc}; {split}" if split is not None and exc is not split else str(exc)
        notes.append(
            f"{why}: drawn uniformly from the whole space and kept when within every bound "
            "(each kept one is uniform among those within the bounds)"
        )
        back = _Backward(dec, HistAlgebra([]), rng)
        finals = []
        for chain in chains:
            for shape, hist in back.chain_prefixes(chain)[-1].items():
                finals.append((hist[()], (chain, shape, ())))
        method = "draws kept within bounds"
    if not finals:
        return None, method

    def draw() -> tuple[list[Label], Vec]:
        return back.draw(*back.pick(finals))

    return draw, method


class _Uncombined(TooLarge):
    """The stages are independent, but their sums do not combine within the limits (so
    neither does the joint table)."""


class StageSums:
    """Uniform draws within one bound on a summed total, without rejection: a var assignment in
    proportion to its count within the bound; each step's total from the stages' sums
    (:class:`Counter`, every combination weighted by its count); then each step's choices given
    its total, backwards through that step's tables. Each architecture within the bound is drawn
    with probability exactly 1 / (their number)."""

    def __init__(
        self,
        dec: Decomposition,
        chains: Sequence[Chain],
        bound: Bound,
        capped: Sequence[Bound],
        rng: random.Random,
    ) -> None:
        self.dec = dec
        self.bound = bound
        self.rng = rng
        high = [Bound(bound.metric, high=bound.high)] if bound.high is not None else []
        algebra = HistAlgebra([bound.metric], [*high, *capped])
        program: Program[dict[Any, Any]] = Program(dec, algebra)
        self.back = _Backward(dec, algebra, rng, program)
        self.parts: list[tuple[int, tuple[Chain, StageTables, Counter]]] = []
        for chain in chains:
            tables = stage_tables(dec, chain, bound.metric, bound.high, capped, program)
            try:
                counter = Counter(tables.hists, bound.high)
            except TooLarge as exc:
                raise _Uncombined(
                    f"the stages' totals of {bound.metric} do not combine within the limits: {exc}"
                ) from None
            if not counter.fast and counter.searches > MAX_PYTHON_SEARCHES:
                raise TooLarge(
                    f"without numpy (the fast extra), drawing from the stages' tables would "
                    f"take {counter.searches:,} searches"
                )
            count = counter.within(bound.low, bound.high)
            if count:
                self.parts.append((count, (chain, tables, counter)))
        self.total = sum(c for c, _ in self.parts)
        """How many architectures are within the bound."""

    def draw(self) -> tuple[list[Label], Vec]:
        chain, tables, counter = self.back.pick(self.parts)
        values = counter.draw(self.bound.low, self.bound.high, self.rng)
        labels = list(chain.labels)
        vec = (0,) * len(VEC)
        for step, (s_in, s_out), v in zip(self.dec.steps, tables.shapes, values, strict=True):
            got, part = self.back.in_step(step, chain.env, s_in, s_out, (v,))
            labels += got
            vec = combine(vec, part)
        return labels, vec


def _sample_choices(
    dec: Decomposition,
    n: int,
    seed: int,
    bounds: Sequence[Bound],
    rng: random.Random,
    progress: Progress | None,
) -> SampleResult:
    chains = list(dec.chains())
    samples: list[Sample] = []
    draws = 0
    failed = 0
    limit = n * MAX_DRAWS_PER_SAMPLE
    while len(samples) < n and draws < limit:
        draws += 1
        chain = rng.choice(chains)
        labels: list[Label] = list(chain.labels)
        vec = (0,) * len(VEC)
        shape = chain.input_shape
        ok = True
        for step in dec.steps:
            alt = rng.choice(dec.alternatives(step, chain.env))
            labels += alt.labels
            for sub in alt.subs:
                opts, bad = dec.options(sub, chain.env, shape)
                pool: list[Any] = [*opts, *bad]
                # every choice uniform: an option's probability is its choices' product
                weights = [choice_weight(dec.space, o.labels) for o in pool]
                chosen = rng.choices(pool, weights)[0] if pool else None
                if not isinstance(chosen, Option):
                    ok = False
                    break
                labels += chosen.labels
                vec = combine(vec, chosen.vec)
                shape = chosen.out
            if not ok:
                break
        if not ok:
            failed += 1
            continue
        if within(vec, bounds):
            samples.append(Sample(totals(vec, dec), assignment_of(dec.space, labels)))
            if progress is not None:
                progress(len(samples), n)
    notes = []
    if failed:
        notes.append(f"{failed:,} draws did not build and were drawn again")
    return SampleResult(
        dec.space.name,
        CHOICE_UNIFORM,
        tuple(bounds),
        tuple(samples),
        "choices",
        draws,
        seed,
        tuple(notes),
    )


def choice_probability(dec: Decomposition, bound: Bound) -> Fraction:
    """The exact probability that the choice-uniform (OFA) sampler draws an architecture within
    ``bound``: what a rejection sampler keeps."""
    total = Fraction(0)
    chains = list(dec.chains())
    for chain in chains:
        if bound.metric in SUMMED:
            try:
                total += _choice_probability_by_counts(dec, chain, bound)
                continue
            except TooLarge:  # a step's output shape depends on its choices: the joint table
                pass
        algebra = HistAlgebra([bound.metric], [bound])
        program = Program(dec, algebra, CHOICE_UNIFORM)
        for hist in program.chain(chain).values():
            total += sum(
                (Fraction(c) for key, c in hist.items() if algebra.holds(key)), Fraction(0)
            )
    return total / len(chains)


def _choice_probability_by_counts(dec: Decomposition, chain: Chain, bound: Bound) -> Fraction:
    """The same probability from the stages' sums (:class:`Counter`): each stage's
    probabilities scaled to integers by their common denominator."""
    program = Program(dec, HistAlgebra([bound.metric], [bound]), CHOICE_UNIFORM)
    shape = chain.input_shape
    hists = []
    scale = 1
    for step in dec.steps:
        found = program.step(step, chain.env, shape)
        if len(found) != 1:
            raise TooLarge(
                f"the output shape of {', '.join(dec.space.label(j) for j in step.entries)} "
                "depends on its choices, so the stages are not independent"
            )
        ((shape, hist),) = found.items()
        denominator = math.lcm(*(Fraction(c).denominator for c in hist.values()))
        scale *= denominator
        hists.append({k[0]: int(c * denominator) for k, c in hist.items()})
    return Fraction(Counter(hists, bound.high).within(bound.low, bound.high), scale)


def evaluate(
    space: Space, assignment: Assignment, convention: Convention = DEFAULT
) -> dict[str, int]:
    """The totals of one assignment, from its ordinary spec (what ``analyze`` reports)."""
    from sepcalc.search.evaluator import totals_of

    return totals_of(space.graph(assignment).total(), convention).as_dict()
