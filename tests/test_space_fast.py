"""The fast exact paths of the search-space commands, against brute force.

The stages' sums (``sums.Counter``: one, two or three tables, with numpy and in Python
integers) count at every edge and draw within a band; every count is checked against the
sum over every combination, and every draw's probability is computed exactly by running the
sampler under every sequence of outcomes its random number generator can give
(:class:`EveryOutcome`): each combination (each architecture) within the band must come out
with probability exactly its weight over the total (1/N), and nothing outside it. The Pareto
front's numpy scoring must give the very points (and architectures) the Python one gives.
"""

from __future__ import annotations

import itertools
import json
import random
from collections import Counter as Tally
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sepcalc.search import exact, spaces, sums, sums_numpy
from sepcalc.search.decompose import METRICS, VEC, Decomposition, TooLarge
from sepcalc.search.evaluator import totals_of
from sepcalc.search.exact import Bound
from sepcalc.search.space import load_space
from sepcalc.search.spaces import count_space, distribution, pareto, sample, within
from tests.test_space import SETTINGS, _space, brute, small
from tests.test_space import spaces as space_texts

ROOT = Path(__file__).resolve().parent.parent
OFA = ROOT / "examples" / "spaces" / "ofa_mobilenet_v3.yaml"

PATHS = ["numpy-1", "numpy-2", "numpy-3", "python-1", "python-3"]
"""numpy or Python integers, and how many tables the stages are merged into (at most)."""


@contextmanager
def path(name: str) -> Iterator[None]:
    """Force a path: ``numpy-k`` merges at most down to k tables (none beyond the shifts of a
    single value for k = 3), ``python-k`` the same without numpy."""
    kind, tables = name.split("-")
    with pytest.MonkeyPatch.context() as patch:
        if kind == "python":
            patch.setattr(sums, "numpy_module", lambda: None)
            patch.setattr(sums, "GROUP_PAIRS", 10**9 if tables == "1" else 0)
        else:
            patch.setattr(sums_numpy, "CHEAP", 10**12 if tables == "1" else 0)
            patch.setattr(sums_numpy, "MAX_MERGE", 0 if tables == "3" else 10**12)
            if tables != "1":  # nor into one table for a whole distribution
                patch.setattr(sums_numpy, "GROUP_PAIRS", 0)
        yield


class EveryOutcome(random.Random):
    """A random number generator that gives every outcome: run a draw under it again and again
    (:func:`outcomes`); each run follows the next sequence of outcomes of its ``randrange``
    calls, and a run's probability is the product of 1/n over them."""

    def __init__(self) -> None:
        super().__init__(0)
        self.path: list[int] = []
        self.sizes: list[int] = []
        self.depth = 0

    def randrange(self, start: int, stop: int | None = None, step: int = 1) -> int:
        assert stop is None
        assert step == 1
        assert start >= 1
        if self.depth == len(self.path):
            self.path.append(0)
            self.sizes.append(start)
        assert self.sizes[self.depth] == start, "the same outcomes so far, the same calls"
        self.depth += 1
        return self.path[self.depth - 1]

    def choice(self, seq: Any) -> Any:
        return seq[self.randrange(len(seq))]

    def random(self) -> float:
        raise AssertionError("exact draws use whole numbers only")

    def probability(self) -> Fraction:
        p = Fraction(1)
        for n in self.sizes[: self.depth]:
            p /= n
        return p

    def advance(self) -> bool:
        """To the next sequence of outcomes; False after the last."""
        del self.path[self.depth :], self.sizes[self.depth :]
        while self.path and self.path[-1] + 1 == self.sizes[-1]:
            self.path.pop()
            self.sizes.pop()
        self.depth = 0
        if not self.path:
            return False
        self.path[-1] += 1
        return True


def outcomes(draw: Callable[[EveryOutcome], Any], rng: EveryOutcome) -> dict[str, Fraction]:
    """Every result of ``draw`` (as JSON) and its exact probability."""
    found: dict[str, Fraction] = {}
    while True:
        key = json.dumps(draw(rng), sort_keys=True, default=str)
        found[key] = found.get(key, Fraction(0)) + rng.probability()
        if not rng.advance():
            return found


# --- the stages' sums -------------------------------------------------------------------------

hists = st.lists(
    st.dictionaries(st.integers(0, 50), st.integers(1, 4), min_size=1, max_size=5),
    min_size=1,
    max_size=3,
)


def combinations(hs: list[dict[int, int]]) -> Iterator[tuple[tuple[int, ...], int]]:
    """Every combination of one value per stage, with its weight (the product of counts)."""
    for combo in itertools.product(*(h.items() for h in hs)):
        weight = 1
        for _, c in combo:
            weight *= c
        yield tuple(v for v, _ in combo), weight


@pytest.mark.parametrize("name", PATHS)
@settings(SETTINGS, max_examples=40)
@given(hists, st.lists(st.integers(-5, 170), min_size=1, max_size=8), st.data())
def test_counts_at_every_edge_match_brute_force(
    name: str, hs: list[dict[int, int]], edges: list[int], data: st.DataObject
) -> None:
    every = list(combinations(hs))
    with path(name):
        counter = sums.Counter(hs)
        assert counter.fast == name.startswith("numpy")
        assert counter.at_most_each(edges) == [
            sum(w for v, w in every if sum(v) <= e) for e in edges
        ]
        low, high = sorted(data.draw(st.tuples(st.integers(-5, 170), st.integers(-5, 170))))
        assert counter.within(low, high) == sum(w for v, w in every if low <= sum(v) <= high)
        # built with an upper bound: each table keeps only the values a sum within it can use
        bounded = sums.Counter(hs, high)
        assert bounded.within(low, high) == counter.within(low, high)
        assert bounded.within(None, high) == sum(w for v, w in every if sum(v) <= high)
        table = counter.table()
        if table is not None:
            assert table == dict(sorted(Tally(_expand(every)).items()))


def _expand(every: list[tuple[tuple[int, ...], int]]) -> Iterator[int]:
    for values, weight in every:
        yield from [sum(values)] * weight


@pytest.mark.parametrize("name", PATHS)
@settings(SETTINGS, max_examples=15)
@given(
    st.lists(
        st.dictionaries(st.integers(0, 12), st.integers(1, 3), min_size=1, max_size=3),
        min_size=1,
        max_size=3,
    ),
    st.integers(-2, 30),
    st.integers(0, 30),
)
def test_draws_are_exactly_uniform_within_the_band(
    name: str, hs: list[dict[int, int]], low: int, width: int
) -> None:
    """Each combination within the band has probability (its weight) / (the band's total)."""
    high = low + width
    inside = {v: w for v, w in combinations(hs) if low <= sum(v) <= high}
    total = sum(inside.values())
    assume(total)
    with path(name):
        for counter in (sums.Counter(hs), sums.Counter(hs, high)):
            assert counter.within(low, high) == total

            def draw(rng: EveryOutcome, counter: sums.Counter = counter) -> list[int]:
                return counter.draw(low, high, rng)

            found = outcomes(draw, EveryOutcome())
            expected = {json.dumps(list(v)): Fraction(w, total) for v, w in inside.items()}
            assert found == expected


def test_the_paths_merge_as_forced() -> None:
    # three stages of three values on different lattices and a single value (a shift, always
    # merged): the tests above exercise one, two and three tables with numpy, one and three in
    # Python
    hs = [{0: 1, 3: 2, 6: 1}, {0: 1, 10: 1, 30: 2}, {5: 1}, {1: 1, 2: 3, 9: 1}]
    found = {}
    for name in PATHS:
        with path(name):
            counter = sums.Counter(hs)
            found[name] = (counter.fast, counter.tables)
    assert found == {
        "numpy-1": (True, 1),
        "numpy-2": (True, 2),
        "numpy-3": (True, 3),
        "python-1": (False, 1),
        "python-3": (False, 3),
    }
    with path("python-3"), pytest.raises(TooLarge, match="three tables"):
        sums.Counter([*hs, {0: 1, 4: 1}])


@pytest.mark.parametrize(
    ("x", "y"),
    [
        ([2**40, 3, 2**35], [2**30, 2**22 + 1, 7]),
        ([2**61, 1], [3, 2**61]),
        ([5] * 3000, [2**50] * 3000),
    ],
    ids=["limbs", "single-products-past-2**63", "sum-past-2**63"],
)
def test_exact_dot_never_overflows(x: list[int], y: list[int]) -> None:
    np = pytest.importorskip("numpy")
    expected = sum(a * b for a, b in zip(x, y, strict=True))
    got = sums_numpy.exact_dot(np, np.array(x, dtype=np.int64), np.array(y, dtype=np.int64))
    assert got == expected
    picker = sums_numpy.ProductPicker(np, np.array(x, dtype=np.int64), np.array(y, dtype=np.int64))
    assert picker.total == expected


# --- the commands on small random spaces ------------------------------------------------------


TINY = 24
"""The most architectures a space may have when every outcome of its sampler is followed."""


@settings(SETTINGS, max_examples=25)
@given(space_texts(), st.integers(0, 10**6), st.sampled_from(METRICS), st.sampled_from(PATHS))
def test_uniform_samples_within_a_bound_are_exactly_uniform(
    text: str, cut: int, metric: str, name: str
) -> None:
    """Every architecture within the bound is drawn with probability exactly 1/N (so each is
    reachable), every draw is within the bound and has the totals analyze gives."""
    space = small(text)
    every = brute(space)
    assume(len(every) <= TINY)
    values = sorted(v[METRICS.index(metric)] for _, v in every)
    high = values[cut % len(values)]
    low = values[(cut // 7) % len(values)]
    bounds = (
        [Bound(metric, low=min(low, high), high=high)] if cut % 2 else [Bound(metric, high=high)]
    )
    inside = {json.dumps(a, sort_keys=True, default=str): v for a, v in every if within(v, bounds)}
    with path(name):
        dec = Decomposition(space)
        rng = EveryOutcome()
        # the stages' sums where the steps' shapes do not depend on the choices (else the
        # joint table): both exact
        draw, method = spaces._drawer(dec, list(dec.chains()), bounds, rng, [])
        assert method == "tables"
        assert draw is not None

        def one(rng: EveryOutcome) -> dict[str, Any]:
            labels, vec = draw()
            assert within(vec, bounds)
            return spaces.assignment_of(space, labels)

        found = outcomes(one, rng)
    assert found == dict.fromkeys(inside, Fraction(1, len(inside)))
    drawn = sample(dec, 3, cut % 50, bounds)
    assert drawn.method == "tables"
    assert drawn.draws == 3
    for s in drawn.samples:
        analyzed = totals_of(space.graph(s.assignment).total(), dec.convention).as_dict()
        assert analyzed == s.totals
        assert json.dumps(s.assignment, sort_keys=True, default=str) in inside


@settings(SETTINGS, max_examples=15)
@given(space_texts(), st.integers(1, 12), st.sampled_from(METRICS), st.sampled_from(PATHS))
def test_binned_distribution_and_counts_match_brute_force(
    text: str, bins: int, metric: str, name: str
) -> None:
    space = small(text)
    every = brute(space)
    values = sorted(v[METRICS.index(metric)] for _, v in every)
    with path(name):
        d = distribution(Decomposition(space), metric, bins=bins).parts[0]
        high = values[bins % len(values)]
        counted = count_space(Decomposition(space), [Bound(metric, high=high)]).within
    assert d.count == len(values)
    assert (d.minimum, d.maximum) == (values[0], values[-1])
    for b in d.bins:
        assert b.count == sum(1 for v in values if b.low <= v <= b.high)
        assert b.cumulative == sum(1 for v in values if v <= b.high)
    assert counted == sum(1 for v in values if v <= high)


@settings(SETTINGS, max_examples=15)
@given(space_texts(), st.integers(0, 10**6))
def test_numpy_and_python_fronts_are_the_same(text: str, cut: int) -> None:
    """The same points and the same architecture for each (the numpy scoring keeps the pairs
    the Python one keeps, ties included), with and without a bound."""
    space = small(text)
    every = brute(space)
    macs = sorted(v[0] for _, v in every)
    bound = [Bound("macs", high=macs[cut % len(macs)])]
    keys_list = [[("macs", -1), ("params", 1)], [("params", 1)], [("activations", -1)]]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(exact, "FRONT_NUMPY", 0)  # numpy on every pair
        fast = [pareto(Decomposition(space), k, bound).points for k in keys_list]
    with path("python-1"):
        slow = [pareto(Decomposition(space), k, bound).points for k in keys_list]
    assert fast == slow


def test_uniform_samples_weigh_each_var_value_by_its_count_within_the_bound() -> None:
    # two resolutions of a one-stage space (depth 1 or 2, kernel 1 or 3 per block: 6
    # architectures each); under a MAC bound that keeps more of the small resolution, each of
    # the architectures within it still comes out with probability 1/N
    text = """
name: t
vars: {res: {choice: [6, 10]}}
input: {channels: 3, size: res}
blocks:
  b:
    params: {out: null, k: 3}
    layers:
      - {kind: conv, name: c, out: out, kernel: k, norm: batchnorm, act: relu}
layers:
  - {kind: conv, name: stem, out: 4, kernel: 3}
  - {block: b, name: s0, repeat: {choice: [1, 2]}, out: 4, k: {choice: [1, 3]}}
"""
    space = _space(text)
    every = brute(space)
    assert len(every) == 12
    macs = sorted(v[0] for _, v in every)
    bound = [Bound("macs", high=macs[7])]
    inside = [a for a, v in every if within(v, bound)]
    assert sorted(Tally(a["res"] for a in inside).values()) == [2, 6]
    for name in PATHS:
        with path(name):
            dec = Decomposition(space)
            rng = EveryOutcome()
            draw, _ = spaces._drawer(dec, list(dec.chains()), bound, rng, [])
            assert draw is not None

            def one(rng: EveryOutcome, draw: spaces.Draw = draw) -> dict[str, Any]:
                return spaces.assignment_of(space, draw()[0])

            found = outcomes(one, rng)
        keys = [json.dumps(a, sort_keys=True, default=str) for a in inside]
        assert found == dict.fromkeys(keys, Fraction(1, 8)), name


vectors = st.lists(
    st.tuples(*[st.integers(0, 3)] * len(VEC)).map(lambda t: (t, ("L", ()))),
    min_size=1,
    max_size=12,
)


@settings(SETTINGS, max_examples=200)
@given(
    vectors,
    vectors,
    st.lists(st.tuples(st.sampled_from(VEC), st.sampled_from([1, -1])), min_size=1, max_size=2),
    st.one_of(st.none(), st.integers(0, 6)),
)
def test_numpy_pair_scoring_keeps_the_pairs_python_keeps(
    a: list[Any], b: list[Any], keys: list[tuple[str, int]], high: int | None
) -> None:
    """Small values, so that many pairs tie: the same pairs kept, in the same order (of equal
    scores, the first in (i, j) order), with a bound and with peak memory (a maximum)."""
    assume(len({m for m, _ in keys}) == len(keys))
    bounds = [Bound("macs", high=high)] if high is not None else []
    algebra = exact.FrontAlgebra(keys, bounds)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(exact, "FRONT_NUMPY", 0)
        patch.setattr(exact, "FRONT_CHUNK", 7)  # several chunks, merged
        fast = exact._front_pairs_numpy(a, b, algebra.prune_keys, algebra.highs)
    if len(algebra.prune_keys) > 2:  # a bound on a key it maximizes: pruned on three
        assert fast is None
        return
    assert fast == exact._front_indices(algebra._scored(a, b))


def test_without_numpy_a_large_draw_falls_back_to_rejection_and_says_why() -> None:
    text = BASE_CHAIN
    with path("python-3"), pytest.MonkeyPatch.context() as patch:
        patch.setattr(spaces, "MAX_PYTHON_SEARCHES", 0)
        # each stage's table still fits (3 x 3 pairs), the joint one does not
        patch.setattr(exact, "MAX_PAIRS", 20)
        dec = Decomposition(_space(text))
        values = sorted(v[0] for _, v in brute(dec.space))
        result = sample(dec, 4, 1, [Bound("macs", high=values[len(values) // 2])])
    assert result.method == "draws kept within bounds"
    assert "the limit is 20" in result.notes[0]
    assert "without numpy (the fast extra), drawing from the stages' tables" in result.notes[0]
    assert len(result.samples) == 4


BASE_CHAIN = """
name: t
input: {channels: 3, size: 8}
blocks:
  b:
    params: {out: null, k: 3}
    layers:
      - {kind: conv, name: c, out: out, kernel: k, norm: batchnorm, act: relu}
layers:
  - {kind: conv, name: stem, out: 4, kernel: 3}
  - {block: b, name: s0, repeat: {choice: [1, 2]}, out: 4, k: {choice: [1, 3]}}
  - {block: b, name: s1, repeat: {choice: [1, 2]}, out: 6, k: {choice: [1, 3, 5]}}
  - {block: b, name: s2, repeat: 2, out: 8, k: {choice: [1, 3]}}
"""


def test_repeats_built_once_per_argument_values_match_brute_force(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A block's layers see a repeat only through the call's arguments (here a stride that
    depends on i, and a condition on i): repeats with equal arguments on equal inputs are built
    once, and every total is still the one analyze gives."""
    text = """
name: t
input: {channels: 3, size: 12}
blocks:
  b:
    params: {out: null, k: 3, s: 1}
    layers:
      - {kind: conv, name: c, out: out, kernel: k, stride: s, norm: batchnorm, act: relu}
layers:
  - {kind: conv, name: stem, out: 4, kernel: 3}
  - {block: b, name: s0, repeat: {choice: [1, 2, 3, 4]}, out: 4, s: "2 if i == 1 else 1",
     k: {choice: [1, 3]}}
  - {block: b, name: s1, repeat: {choice: [2, 3]}, out: 8, k: {choice: [1, 3]},
     when: "i != 1"}
  - {kind: global_avg_pool}
"""
    space = _space(text)
    every = brute(space)
    decs = [Decomposition(space), Decomposition(space)]
    monkeypatch.setattr(decs[1], "_call_key", lambda *args: None)  # every repeat built
    for dec in decs:
        for m, metric in enumerate(METRICS):
            d = distribution(dec, metric).parts[0]
            assert dict(d.values or ()) == dict(Tally(v[m] for _, v in every)), metric
    # s0's repeat 0 alone (depth 1) and in a chain (depth 2 to 4) differ only in its layers'
    # names, and its repeat 3 takes repeat 2's arguments (stride 1) and input (6 x 6): 2 x 2
    # builds fewer. s1's repeat 2 takes repeat 0's arguments, but another input (8 channels)
    assert (decs[0].stats.builds, decs[1].stats.builds) == (21, 25)


def test_samples_are_reproduced_by_their_seed() -> None:
    dec = Decomposition(_space(BASE_CHAIN))
    values = sorted(v[0] for _, v in brute(dec.space))
    bound = [Bound("macs", low=values[5], high=values[-10])]
    first = sample(dec, 20, 7, bound)
    again = sample(Decomposition(_space(BASE_CHAIN)), 20, 7, bound)
    other = sample(Decomposition(_space(BASE_CHAIN)), 20, 8, bound)
    assert first.samples == again.samples
    assert first.samples != other.samples
    assert first.method == "tables"


# --- the OFA space ----------------------------------------------------------------------------


def test_ofa_samples_within_300m_macs_are_drawn_directly() -> None:
    # 856,295,841,105,991,212 of the 21,758,655,492,572,485,851 sub-networks fit 300M MACs
    # (test_space.py); they are drawn from the stages' tables, none rejected
    dec = Decomposition(load_space(OFA))
    result = sample(dec, 30, 5, [Bound("macs", high=300_000_000)])
    assert (result.method, result.draws, result.notes) == ("tables", 30, ())
    assert all(s.totals["macs"] <= 300_000_000 for s in result.samples)
    space = load_space(OFA)
    s = result.samples[0]
    analyzed = totals_of(space.graph(s.assignment).total(), dec.convention).as_dict()
    assert analyzed == s.totals


def test_ofa_binned_params_agree_with_counts_at_their_edges() -> None:
    # 20 bins of parameters from 3,410,792 (the smallest network, test_space.py) to 7,664,760;
    # each bin's cumulative count is the count within its upper edge
    dec = Decomposition(load_space(OFA))
    d = distribution(dec, "params", bins=20).parts[0]
    assert (d.minimum, d.maximum, d.method) == (3_410_792, 7_664_760, "three tables")
    assert d.count == d.bins[-1].cumulative == 21_758_655_492_572_485_851
    assert sum(b.count for b in d.bins) == d.count
    edge = d.bins[7].high
    counted = count_space(Decomposition(load_space(OFA)), [Bound("params", high=edge)])
    assert counted.within == d.bins[7].cumulative
