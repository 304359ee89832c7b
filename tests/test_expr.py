"""The whitelisted expression evaluator: exact arithmetic, the allowed functions, refusals."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from sepcalc.expr import ExprError, as_int, evaluate, exact, make_divisible

ENV = {"alpha": Fraction(3, 4), "c": 32, "r": 224}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("int(alpha * c)", 24),
        ("c // 3", 10),
        ("c / 3", Fraction(32, 3)),
        ("2 ** 5 - 1", 31),
        ("-c + +c", 0),
        ("c % 5", 2),
        ("min(c, 16) + max(1, 2)", 18),
        ("round(10.5)", 10),  # Python's round: half to even
        ("round(11.5)", 12),
        ("ceil(r / 32)", 7),
        ("floor(7.9)", 7),
        ("2 if c == 32 else 1", 2),
        ("c > 16 and not r < 100", True),
        ("1 < 2 < 3", True),
        ("0.1 + 0.2 == 0.3", True),  # exact decimals, not binary floats
        ("make_divisible(32 * alpha, 8)", 24),
    ],
    ids=lambda v: str(v),
)
def test_evaluates_exactly(text: str, expected: object) -> None:
    assert evaluate(text, ENV) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1 / 0", "division by zero"),
        ("c // 0", "division by zero"),
        ("sin(c)", "unknown function 'sin'"),
        ("flor(c)", "did you mean 'floor'?"),
        ("alpah * 2", "undefined variable 'alpah'; did you mean 'alpha'?"),
        ("__import__('os')", "unknown function '__import__'"),
        ("c.__class__", "is not allowed"),
        ("[c]", "is not allowed"),
        ("'text'", "is not allowed"),
        ("lambda: 1", "is not allowed"),
        ("c ** 0.5", "not an integer"),
        ("c ** 1000", "too large"),
        ("((((2**64)**64)**64)**64)**64", "too large"),
        ("c +", "cannot parse"),
        ("min()", "min()"),
        ("c << 1", "operator '<<' is not allowed"),
    ],
    ids=lambda v: str(v),
)
def test_refuses(text: str, message: str) -> None:
    with pytest.raises(ExprError, match=None) as info:
        evaluate(text, ENV)
    assert message in str(info.value)


def test_yaml_floats_are_exact_decimals() -> None:
    assert exact(0.1) == Fraction(1, 10)
    assert exact(1.0) == 1
    assert isinstance(exact(1.0), int)


def test_as_int_explains_how_to_round() -> None:
    with pytest.raises(ExprError, match=r"got 10.6667 \(wrap it in int\(\)"):
        as_int(Fraction(32, 3))


# torchvision's _make_divisible, with floats, as published: the reference for the exact version.
def _torchvision_make_divisible(v: float, divisor: int, min_value: int | None = None) -> int:
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


@given(
    c=st.integers(1, 2048),
    width=st.sampled_from(["0.25", "0.35", "0.5", "0.75", "1.0", "1.3", "1.4"]),
    divisor=st.sampled_from([1, 4, 8, 16]),
)
def test_make_divisible_matches_torchvision(c: int, width: str, divisor: int) -> None:
    exact_v = Fraction(width) * c
    # At an exact tie (v + divisor/2 an integer) binary floats may land on either side.
    assume((exact_v + Fraction(divisor, 2)).denominator != 1)
    assert make_divisible(exact_v, divisor) == _torchvision_make_divisible(
        float(width) * c, divisor
    )


def test_make_divisible_ties_round_up_exactly_where_floats_may_not() -> None:
    # 0.35 * 1390 is exactly 486.5, so v + 1/2 = 487; in binary floating point 0.35 * 1390 is
    # 486.49999999999994 and torchvision's float arithmetic gets 486. sepcalc is exact.
    assert make_divisible(Fraction("0.35") * 1390, 1) == 487
    assert _torchvision_make_divisible(0.35 * 1390, 1) == 486


@pytest.mark.parametrize(
    ("v", "divisor", "expected"),
    # MobileNetV2 at width 0.35: 32*0.35 = 11.2 -> 16 (8 would lose over 10%); 1280 -> 1280.
    [(Fraction(112, 10), 8, 16), (Fraction(1280), 8, 1280), (Fraction(96 * 35, 100), 8, 32)],
    ids=["11.2", "1280", "33.6"],
)
def test_make_divisible_known_values(v: Fraction, divisor: int, expected: int) -> None:
    assert make_divisible(v, divisor) == expected


def test_huge_exponents_are_refused_before_they_are_computed() -> None:
    # Fraction("1e100000000") would build a 100-million-digit integer first (minutes).
    with pytest.raises(ExprError, match=r"out of range \(exponent over 1000\)"):
        exact("1e100000000")
    assert exact("1e3") == 1000
