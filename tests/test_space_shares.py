"""sepcalc.search.shares: the exact shares a plot of a space's distribution draws (CDF, bins,
the share within bounds), against brute force over every architecture of a small space and
over random distributions, and exact where a float would not be (counts past 2**53)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sepcalc.errors import EXIT_FAILED, EXIT_OK
from sepcalc.search import shares
from sepcalc.search.decompose import Decomposition
from sepcalc.search.exact import Bound
from sepcalc.search.shares import curves, with_bounds
from sepcalc.search.space import load_space
from sepcalc.search.spaces import Distribution, DistributionResult, distribution

# Input 3x8x8; stem 3x3 'same', 3 -> 4, no bias: 3*3*3*4 * 64 = 6,912 MACs; a: 1x1 4 -> o1,
# 4*o1*64 = 256*o1; b: 1x1 o1 -> o2, 64*o1*o2. With o1 in {4, 8, 16}, o2 in {4, 8}:
#   (4, 4) 8,960  (4, 8) 9,984  (8, 4) 11,008  (8, 8) 13,056  (16, 4) 15,104  (16, 8) 19,200
SIX = """
name: t
vars: {res: 8}
input: {channels: 3, size: res}
layers:
  - {kind: conv, name: stem, out: 4, kernel: 3, bias: false}
  - {kind: pointwise, name: a, out: {choice: [4, 8, 16]}, bias: false}
  - {kind: pointwise, name: b, out: {choice: [4, 8]}, bias: false}
"""
MACS = (8_960, 9_984, 11_008, 13_056, 15_104, 19_200)


@pytest.fixture
def six(tmp_path: Path) -> Path:
    path = tmp_path / "six.yaml"
    path.write_text(SIX)
    return path


def test_the_cdf_of_six_architectures_by_hand(six: Path) -> None:
    result = distribution(Decomposition(load_space(six)), "macs")
    drawn = curves(result)
    (part,) = drawn.parts
    assert part.steps  # every value: a step function
    # from just below the smallest (nothing), then one sixth more at each value
    assert part.cdf == ((8_959, 0), *((m, Fraction(k, 6)) for k, m in enumerate(MACS, 1)))
    assert part.within is None
    # 30 bins over 8,960..19,200 (10,241 values): each 341 or 342 wide; the first holds 8,960
    # only, the last 19,200 only
    assert len(part.bars) == shares.DRAWN_BINS
    assert sum(b.share for b in part.bars) == 1
    assert (part.bars[0].low, part.bars[-1].high) == (8_960, 19_200)
    assert part.bars[0].share == part.bars[-1].share == Fraction(1, 6)
    assert part.bars[0].density == Fraction(1, 6 * 341)


def test_within_bounds_per_var_value(six: Path) -> None:
    # res 16 quadruples every layer's MACs (16**2 / 8**2): 35,840 and up, none within 12K;
    # at res 8, three of six are within: 8,960, 9,984 and 11,008
    dec = Decomposition(load_space(six, varied={"res": [8, 16]}))
    result = distribution(dec, "macs", by_var=True)
    bounded = with_bounds(dec, result, [Bound("macs", high=12_000)])
    assert bounded.within == (3, 0)
    assert bounded.exit_code == EXIT_OK
    assert [p.within for p in curves(bounded).parts] == [Fraction(1, 2), Fraction(0)]
    # over both resolutions at once: 3 of 12; none within 8,000: exit 1
    whole = distribution(dec, "macs")
    assert with_bounds(dec, whole, [Bound("macs", high=12_000)]).within == (3,)
    assert with_bounds(dec, whole, [Bound("macs", high=8_000)]).exit_code == EXIT_FAILED


def test_a_bound_on_another_metric_is_counted_jointly(six: Path) -> None:
    # params = 3*3*3*4 + 4*o1 + o1*o2 = 140, 156, 172, 204, 236, 300 in the order of MACS:
    # params <= 200 keeps the first three, and of those macs >= 10,000 only (8, 4), 11,008
    dec = Decomposition(load_space(six))
    result = distribution(dec, "macs")
    bounded = with_bounds(dec, result, [Bound("params", high=200), Bound("macs", low=10_000)])
    assert bounded.within == (1,)
    assert curves(bounded).parts[0].within == Fraction(1, 6)


def test_binned_cdf_is_known_at_the_bin_edges(six: Path) -> None:
    # 2 bins over 8,960..19,200 (10,241 values): 8,960..14,079 holds four, 14,080..19,200 two
    result = distribution(Decomposition(load_space(six)), "macs", bins=2)
    (part,) = curves(result).parts
    assert not part.steps
    assert part.cdf == ((8_959, 0), (14_079, Fraction(2, 3)), (19_200, 1))
    assert [(b.low, b.high, b.share) for b in part.bars] == [
        (8_960, 14_079, Fraction(2, 3)),
        (14_080, 19_200, Fraction(1, 3)),
    ]


def _part(values: list[tuple[int, int]]) -> Distribution:
    count = sum(c for _, c in values)
    mean = Fraction(sum(v * c for v, c in values), count)
    lo, hi = values[0][0], values[-1][0]
    return Distribution({}, "macs", count, mean, lo, hi, (), tuple(values), (), "table")


def test_shares_stay_exact_past_a_floats_precision() -> None:
    # 10**20 architectures at one value and one at the next: the CDF at the first is
    # 10**20 / (10**20 + 1), which a float rounds to 1.0
    huge = 10**20
    part = _part([(100, huge), (101, 1)])
    drawn = curves(DistributionResult("s", "macs", (part,), within=(huge,)))
    (curve,) = drawn.parts
    assert curve.cdf[1] == (100, Fraction(huge, huge + 1))
    assert curve.cdf[1][1] != 1
    assert float(curve.cdf[1][1]) == 1.0  # what a float would have said
    assert curve.within == Fraction(huge, huge + 1)


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(st.integers(0, 5_000), st.integers(1, 10**22), min_size=1, max_size=60),
    st.integers(2, 80),
)
def test_curves_match_brute_force(values: dict[int, int], most: int) -> None:
    """The CDF at each of its points and every bar's share, recounted from the values; with
    more distinct values than ``MAX_STEPS`` the CDF is taken at range edges instead."""
    pairs = sorted(values.items())
    total = sum(values.values())
    saved = shares.MAX_STEPS
    shares.MAX_STEPS = most
    try:
        (curve,) = curves(DistributionResult("s", "macs", (_part(pairs),))).parts
    finally:
        shares.MAX_STEPS = saved
    assert curve.steps == (len(pairs) <= most)
    assert curve.cdf[0] == (pairs[0][0] - 1, 0)
    assert curve.cdf[-1] == (pairs[-1][0], 1)
    for x, share in curve.cdf:
        assert share == Fraction(sum(c for v, c in pairs if v <= x), total)
    xs = [x for x, _ in curve.cdf]
    assert xs == sorted(set(xs))
    for bar in curve.bars:
        assert bar.share == Fraction(sum(c for v, c in pairs if bar.low <= v <= bar.high), total)
    assert sum(b.share for b in curve.bars) == 1
    assert [b.low for b in curve.bars[1:]] == [b.high + 1 for b in curve.bars[:-1]]
