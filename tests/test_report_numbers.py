"""Number formatting (sepcalc/report/numbers.py): exact from integers, at any size."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sepcalc.report.numbers import fixed, grouped, share, si, times


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (0, "0"),
        (999, "999"),
        (1000, "1.00K"),
        (1015, "1.02K"),  # a tie, rounded away from zero (a float 1.015 would print 1.01)
        (999_994, "999.99K"),
        (999_995, "1.00M"),  # rounds to 1000.00K, so the next suffix
        (568_740_352, "568.74M"),  # MobileNetV1's MACs
        (4_089_184_256, "4.09G"),
        (768 * 10**12, "768.00T"),
        (768 * 10**15, "768.00P"),  # was '768000.00T'
        (10**18, "1.00E"),
        (768 * 10**18, "768.00E"),
        (999_994 * 10**15, "999.99E"),
        (999_995 * 10**15, "1.00e+21"),  # rounds to 1000.00E: past E, scientific notation
        (10**21, "1.00e+21"),
        (576 * 10**42, "5.76e+44"),  # was '576000000000000000000000000.00E'
        (9_995 * 10**40, "1.00e+44"),  # 9.995e43: a tie, up, to the next power
        (-(10**21), "-1.00e+21"),
        (-1500, "-1.50K"),
    ],
    ids=lambda v: str(v),
)
def test_si(n: int, expected: str) -> None:
    assert si(n) == expected


def test_si_is_exact_for_a_401_digit_count() -> None:
    # 10**400 / 10**18 = 10**382: a float division would raise OverflowError.
    assert si(10**400) == "1.00e+400"
    assert si(10**400 + 5 * 10**397) == "1.01e+400"  # 1.005e400, a tie: up


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Fraction(1, 3), "0.33"),
        (Fraction(2, 3), "0.67"),
        (Fraction(1, 200), "0.01"),  # 0.005: a tie, away from zero
        (Fraction(-1, 200), "-0.01"),
        (Fraction(-1, 1000), "0.00"),  # no '-0.00'
        (7, "7.00"),
    ],
    ids=["third", "two-thirds", "tie", "negative-tie", "negative-zero", "int"],
)
def test_fixed(value: Fraction, expected: str) -> None:
    assert fixed(value) == expected


def test_fixed_grouped() -> None:
    # the exact mean of a space's MACs, 73571014/100, with its thousands separated
    assert fixed(Fraction(73571014, 100), group=True) == "735,710.14"
    assert fixed(Fraction(-1234567891, 1000), group=True) == "-1,234,567.89"  # ...891: down
    assert fixed(Fraction(999, 1000), group=True) == "1.00"


@given(st.integers(-(10**60), 10**60), st.integers(1, 10**30))
def test_fixed_is_the_nearest_hundredth(num: int, den: int) -> None:
    value = Fraction(num, den)
    shown = Fraction(fixed(value))
    assert abs(shown - value) <= Fraction(1, 200)


@pytest.mark.parametrize(
    ("got", "expected"),
    [
        (share(1, 3), "33.33%"),
        (share(0, 0), "-"),  # a zero-cost network: no share
        # 3x3 conv 32 -> 32 at 112x112 (9*32*32*112*112) over its depthwise (9*32*112*112)
        (times(115_605_504, 3_612_672), "32.00x"),
        (times(192, 0), "-"),  # a reduction of nothing is undefined
        (times(0, 0), "-"),
        (times(10**400, 1), "1" + "0" * 400 + ".00x"),
        (grouped(10**6), "1,000,000"),
    ],
    ids=["share", "share-of-zero", "times", "times-zero", "zero-over-zero", "huge", "grouped"],
)
def test_share_times_grouped(got: str, expected: str) -> None:
    assert got == expected
