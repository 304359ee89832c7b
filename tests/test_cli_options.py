"""The command line's text parsed exactly, and every message naming the option at fault."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest

from sepcalc.cli.options import (
    check_layer_bounds,
    parse_at,
    parse_axes,
    parse_axis,
    parse_fraction,
    parse_set,
    parse_symbolic,
    parse_target,
    worded,
)
from sepcalc.errors import (
    ConventionMismatch,
    InputError,
    NeedsCIn,
    NoRatioError,
    NotAReport,
    SepcalcError,
    SymbolicRepeatError,
    TooManyValues,
)


def test_set_values_are_exact() -> None:
    assert parse_set(["alpha=0.35", "resolution=160", "v1_5=False"]) == {
        "alpha": Fraction(7, 20),
        "resolution": 160,
        "v1_5": False,
    }


@pytest.mark.parametrize(
    ("pairs", "message"),
    [(["alpha=0.5", "alpha=0.75"], "--set alpha: given twice"),
     (["alpha"], "--set 'alpha': expected NAME=VALUE"),
     (["alpha=x+"], "--set alpha: ")],
    ids=["twice", "no-value", "bad-number"],
)  # fmt: skip
def test_bad_set_names_the_option(pairs: list[str], message: str) -> None:
    with pytest.raises(SepcalcError, match=message):
        parse_set(pairs)


def test_at_values() -> None:
    assert parse_at(["C_out=128,k=3", "H=7"]) == {"C_out": 128, "k": 3, "H": 7}


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "--symbolic: name at least one var"),
     ("alpha,,alpha", "--symbolic alpha: named twice")],
    ids=["none", "twice"],
)  # fmt: skip
def test_bad_symbolic_vars(text: str, message: str) -> None:
    with pytest.raises(SepcalcError, match=message):
        parse_symbolic(text)


@pytest.mark.parametrize(
    ("bounds", "message"),
    [({"k": 5, "max_k": 3, "max_c_out": None}, "--k 5 is over --max-k 3"),
     ({"k": 4, "max_k": None, "max_c_out": None, "odd": True},
      "--k 4 is even, but --odd asks for odd kernels"),
     ({"c_out": 64, "max_k": None, "max_c_out": 32}, "--c-out 64 is over --max-c-out 32")],
    ids=["k-over-max", "even-k-with-odd", "c-out-over-max"],
)  # fmt: skip
def test_contradictory_layer_bounds(bounds: dict[str, Any], message: str) -> None:
    with pytest.raises(SepcalcError, match=message):
        check_layer_bounds(**bounds)


def test_a_grid_var_twice_is_refused() -> None:
    with pytest.raises(SepcalcError, match="each --var may be given once"):
        parse_axes(["alpha=0.5", "alpha=1"])


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (InputError("overrides", "beta", "the spec has no var 'beta'"),
         "--set beta: the spec has no var 'beta'"),
        (InputError("names", "", "name at least one var"), "--symbolic: name at least one var"),
        (InputError("at", "m", "the formulas of conv do not use m"),
         "--at m: the formulas of conv do not use m"),
        (NoRatioError("relu", "macs", ["flops"]),
         "relu has no macs: there is no ratio with --metric macs; try --metric flops"),
        (SymbolicRepeatError(["depth"]),
         "depends on depth; the number of layers cannot be a closed form: leave depth out of "
         "--symbolic and give it with --set"),
        (ConventionMismatch("a.json", "fvcore", "default", ["flops"]),
         "a.json counts FLOPs with the 'fvcore' convention, this run with 'default': pass "
         "--convention fvcore to compare flops"),
        (NeedsCIn(["bias"], "params", "1/C_out"),
         "counting bias in params, the ratio 1/C_out depends on C_in; give it with --c-in N"),
        (TooManyValues(200_001, "0", "2000"),
         "200,001 values from 0 to 2000: use a larger step, or --precision to bisect"),
        (NotAReport("a.json", "a.json:1:2", "Expecting value", json=True),
         "a.json:1:2: invalid JSON: Expecting value; expected the output of `sepcalc analyze "
         "SPEC --format json`"),
        (NotAReport("a.json", "a.json", "no totals", json=False),
         "a.json: not a sepcalc analyze report: no totals; create one with `sepcalc analyze "
         "SPEC --format json > a.json`"),
    ],
    ids=["set", "symbolic", "at", "no-ratio", "repeat", "convention", "c-in", "too-many",
         "invalid-json", "not-a-report"],
)  # fmt: skip
def test_core_errors_are_worded_with_the_option(error: SepcalcError, message: str) -> None:
    assert message in str(worded(error))
    assert "--" not in str(error)  # the core's own wording names no option


def test_errors_the_core_words_fully_are_kept() -> None:
    error = SepcalcError("cannot read spec.yaml")
    assert worded(error) is error


@pytest.mark.parametrize(
    ("text", "expected"),
    [("0.12", Fraction(3, 25)), ("3/25", Fraction(3, 25)), ("12%", Fraction(3, 25)),
     ("1e-1", Fraction(1, 10)), (" 0.3 ", Fraction(3, 10))],
    ids=["decimal", "fraction", "percent", "exponent", "spaces"],
)  # fmt: skip
def test_parse_fraction_is_exact(text: str, expected: Fraction) -> None:
    assert parse_fraction(text, "--max-ratio") == expected


@pytest.mark.parametrize(
    ("kwargs", "max_ratio"),
    [
        ({"max_ratio": "0.12"}, Fraction(3, 25)),
        ({"min_factor": "10"}, Fraction(1, 10)),
        ({"min_factor": "8.5"}, Fraction(2, 17)),
        ({"min_savings": "88%"}, Fraction(3, 25)),  # 1 - 22/25
        ({"min_savings": "0.88"}, Fraction(3, 25)),
    ],
    ids=["ratio", "factor", "factor-decimal", "savings-percent", "savings-fraction"],
)
def test_targets_become_an_exact_max_ratio(kwargs: dict[str, str], max_ratio: Fraction) -> None:
    assert parse_target(**kwargs).max_ratio == max_ratio


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({}, "give exactly one target"),
     ({"max_ratio": "0.1", "min_factor": "10"}, "give exactly one target"),
     ({"max_ratio": "0"}, "--max-ratio must be positive, got 0"),
     ({"min_factor": "-2"}, "--min-factor must be positive, got -2"),
     ({"min_savings": "100%"}, "--min-savings must be at least 0 and below 100%"),
     ({"min_savings": "88"}, "below 100% .* got 88$"),
     ({"max_ratio": "abc"}, "--max-ratio: 'abc' is not a number")],
    ids=["none", "two", "zero-ratio", "negative-factor", "all-savings", "savings-not-fraction",
         "not-a-number"],
)  # fmt: skip
def test_bad_targets_are_user_errors(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(SepcalcError, match=message):
        parse_target(**kwargs)


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("alpha=0.25:1.0:0.25", (Fraction(1, 4), Fraction(1, 2), Fraction(3, 4), 1)),
        ("resolution=128,160", (128, 160)),
        ("alpha=0.5", (Fraction(1, 2),)),
        ("alpha=0.1:0.3:0.1", (Fraction(1, 10), Fraction(1, 5), Fraction(3, 10))),
    ],
    ids=["range", "list", "single", "decimal-range-inclusive"],
)
def test_parse_axis(text: str, values: tuple) -> None:
    assert parse_axis(text).values == values


@pytest.mark.parametrize(
    ("text", "message"),
    [("alpha", "expected NAME=LOW:HIGH:STEP"), ("alpha=", "expected NAME=LOW:HIGH:STEP"),
     ("=1", "expected NAME=LOW:HIGH:STEP"), ("alpha=1:2", "expected LOW:HIGH:STEP, got '1:2'"),
     ("alpha=x:1:0.1", "--var alpha: 'x' is not a number"),
     ("alpha=1:0:0.1", "--var alpha: empty range 1:0"),
     ("a=0:1:0", "--var a: step must be positive, got 0"),
     ("a=0:1000000:1", "--var a: 1,000,001 values from 0 to 1000000 in steps of 1: at most")],
    ids=["no-equals", "no-values", "no-name", "two-parts", "not-a-number", "empty-range",
         "zero-step", "too-many"],
)  # fmt: skip
def test_parse_axis_errors(text: str, message: str) -> None:
    with pytest.raises(SepcalcError, match=message):
        parse_axis(text)
