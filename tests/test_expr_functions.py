"""log, log2, exp, sqrt in spec expressions: exact where the result is rational, decided exactly
where it is not (RegNet's width rule), clear domain errors, and symbolic views through them."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st

from sepcalc.expr import ExprError, Real, as_int, compile_expr, evaluate, log_ratio
from sepcalc.symbolic import Relaxed
from sepcalc.symbols import var_symbol
from tests.conftest import graph_of


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sqrt(9/4)", Fraction(3, 2)),
        ("sqrt(2.25)", Fraction(3, 2)),
        ("sqrt(0)", 0),
        ("log2(8)", 3),
        ("log2(1/8)", -3),
        ("log2(0.5)", -1),
        ("exp(0)", 1),
        ("log(1)", 0),
        ("log(8) / log(4)", Fraction(3, 2)),  # 8**2 == 4**3
        ("log(8, 4)", Fraction(3, 2)),
        ("log(1/9, 3)", -2),
        ("log(4/9) / log(27/8)", Fraction(-2, 3)),  # (2/3)**2 and (2/3)**-3
        ("log(exp(5))", 5),
        ("exp(3 * log(7))", 343),
        ("exp(log(7) * -1)", Fraction(1, 7)),
    ],
    ids=lambda v: str(v),
)
def test_exact_where_the_result_is_rational(text: str, expected: object) -> None:
    result = evaluate(text, {})
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # e = 2.71828182845904523536028747..., ln 10 = 2.30258509299404568401799145468436...
        ("floor(exp(1) * 10**20)", 271828182845904523536),
        ("floor(log(10) * 10**30)", 2302585092994045684017991454684),
        ("ceil(log(10) * 10**30)", 2302585092994045684017991454685),
        ("floor(sqrt(2) * 10**40)", math.isqrt(2 * 10**80)),
        ("int(-sqrt(2) * 10)", -14),  # int truncates towards 0
        ("round(log(2) / log(3), 5)", Fraction(63093, 100000)),  # log_3(2) = 0.6309297...
        # Exact ties, decided exactly (Python's round: half to even): 1.5 -> 2, 2.5 -> 2.
        ("round(log(8) / log(4))", 2),
        ("round(log(32) / log(4))", 2),
        ("make_divisible(sqrt(2) * 100, 8)", 144),  # 141.42 + 4 -> 145 // 8 * 8 = 144
        ("sqrt(2) < 1.4143 and sqrt(2) > 1.4142", True),
        ("1 if exp(1) == 2.718281828 else 0", 0),
        ("log2(10) > 3", True),
    ],
    ids=lambda v: str(v),
)
def test_inexact_values_are_decided_exactly(text: str, expected: object) -> None:
    assert evaluate(text, {}) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("log(0)", "log(0): the argument must be positive"),
        ("log(-2)", "log(-2): the argument must be positive"),
        ("log2(0)", "log2(0): the argument must be positive"),
        ("log(8, 1)", "base 1 has no logarithms"),
        ("log(8, 0)", "log(0): the argument must be positive"),
        ("sqrt(-1)", "sqrt(-1): the argument must not be negative"),
        ("sqrt(1 - sqrt(2))", "must not be negative"),
        ("log(1 - exp(1))", "must be positive"),
        ("exp(3000)", "exp(3000): the argument must be between -2000 and 2000"),
        ("2 ** sqrt(2)", "exponent must be exact: write x ** y as exp(y * log(x))"),
        ("sqrt(2) ** 0.5", "not an integer"),
        ("exp(1500) * exp(1500)", "too large"),
        ("sqrt(2)", "the result, 1.41421, is not exact"),
        ("log()", "log() takes 1 to 2 argument(s), got 0"),
        # Exactly on a boundary: no bounds can tell sqrt(2)**2 from a number beside 2.
        ("floor(sqrt(2) * sqrt(2))", "cannot decide floor()"),
        ("1 if sqrt(2) * sqrt(2) == 2 else 0", "cannot decide whether"),
    ],
    ids=lambda v: str(v),
)
def test_refuses_with_a_clear_error(text: str, message: str) -> None:
    with pytest.raises(ExprError) as info:
        evaluate(text, {})
    assert message in str(info.value)


def test_an_inexact_value_is_no_integer() -> None:
    real = compile_expr("sqrt(2)")({})  # the value inside an expression, before evaluate's check
    assert isinstance(real, Real)
    with pytest.raises(ExprError, match=r"got 1.41421, which is not exact .* round\(\)"):
        as_int(real)


@given(n=st.integers(0, 10**60))
def test_floor_of_sqrt_is_isqrt(n: int) -> None:
    assert evaluate("floor(sqrt(n))", {"n": n}) == math.isqrt(n)
    assert evaluate("ceil(sqrt(n))", {"n": n}) == math.isqrt(n) + (math.isqrt(n) ** 2 != n)


@given(c=st.fractions(Fraction(1, 50), 50), m=st.integers(-12, 12), n=st.integers(1, 12))
def test_log_ratio_of_powers_of_one_base_is_exact(c: Fraction, m: int, n: int) -> None:
    if c == 1:
        return
    assert log_ratio(c**m, c**n) == Fraction(m, n)


@pytest.mark.parametrize(("a", "b"), [(2, 3), (10, 2), (Fraction(3, 2), 2), (6, 4), (12, 18)])
def test_log_ratio_of_independent_numbers_is_irrational(a: int, b: int) -> None:
    assert log_ratio(Fraction(a), Fraction(b)) is None


# RegNet's width rule (Radosavovic et al. 2020, eqs. 2-4), as torchvision's
# BlockParams.from_init_params computes it: u_j = w_0 + j * w_a, s_j = round(log(u_j / w_0) /
# log(w_m)), w_j = round(w_0 * w_m ** s_j / 8) * 8. The configurations are torchvision's
# regnet_*() constructors (depth, w_0, w_a, w_m); the expected stage widths (and blocks per
# stage) are torchvision's, computed by its float32 code with torch 2.13 (the torch-marked test
# below re-derives them block by block). They are the widths before torchvision adjusts them to
# the group width.
REGNET_WIDTH = "8 * round(w_0 * w_m ** round(log((w_0 + i * w_a) / w_0) / log(w_m)) / 8)"
REGNET = {
    "regnet_y_400mf": ((16, 48, "27.89", "2.09"), [(48, 1), (104, 3), (208, 6), (440, 6)]),
    "regnet_y_800mf": ((14, 56, "38.84", "2.4"), [(56, 1), (136, 3), (320, 8), (776, 2)]),
    "regnet_y_1_6gf": ((27, 48, "20.71", "2.65"), [(48, 2), (128, 6), (336, 17), (896, 2)]),
    "regnet_y_3_2gf": ((21, 80, "42.63", "2.66"), [(80, 2), (216, 5), (568, 13), (1504, 1)]),
    "regnet_y_8gf": ((17, 192, "76.82", "2.19"), [(192, 2), (424, 4), (920, 10), (2016, 1)]),
    "regnet_y_16gf": ((18, 200, "106.23", "2.48"), [(200, 2), (496, 4), (1232, 11), (3048, 1)]),
    "regnet_y_32gf": ((20, 232, "115.89", "2.53"), [(232, 2), (584, 5), (1488, 12), (3760, 1)]),
    "regnet_y_128gf": ((27, 456, "160.83", "2.52"), [(456, 2), (1152, 7), (2896, 17), (7296, 1)]),
    "regnet_x_400mf": ((22, 24, "24.48", "2.54"), [(24, 1), (64, 2), (152, 7), (392, 12)]),
    "regnet_x_800mf": ((16, 56, "35.73", "2.28"), [(56, 1), (128, 3), (288, 7), (664, 5)]),
    "regnet_x_1_6gf": ((18, 80, "34.01", "2.25"), [(80, 2), (176, 4), (408, 10), (912, 2)]),
    "regnet_x_3_2gf": ((25, 88, "26.31", "2.25"), [(88, 2), (200, 6), (448, 15), (1000, 2)]),
    "regnet_x_8gf": ((23, 80, "49.56", "2.88"), [(80, 2), (232, 5), (664, 15), (1912, 1)]),
    "regnet_x_16gf": ((22, 216, "55.59", "2.1"), [(216, 2), (456, 6), (952, 13), (2000, 1)]),
    "regnet_x_32gf": ((23, 320, "69.86", "2.0"), [(320, 2), (640, 7), (1280, 13), (2560, 1)]),
}


def _regnet_widths(depth: int, w_0: int, w_a: str, w_m: str) -> list[int]:
    env = {"w_0": w_0, "w_a": Fraction(w_a), "w_m": Fraction(w_m)}
    return [evaluate(REGNET_WIDTH, {**env, "i": j}) for j in range(depth)]


@pytest.mark.parametrize(("config", "stages"), REGNET.values(), ids=list(REGNET))
def test_regnet_widths_match_torchvision(
    config: tuple[int, int, str, str], stages: list[tuple[int, int]]
) -> None:
    widths = _regnet_widths(*config)
    assert widths == [w for w, n in stages for _ in range(n)]


def test_regnet_x_400mf_stage_widths_after_the_group_adjustment() -> None:
    # torchvision's _adjust_widths_groups_compatibilty with bottleneck 1 and group width 16:
    # make_divisible(w, min(16, w)). RegNetX-400MF's published widths are 32, 64, 160, 400.
    stages = sorted(set(_regnet_widths(*REGNET["regnet_x_400mf"][0])))
    adjusted = [evaluate("make_divisible(w, min(16, w))", {"w": w}) for w in stages]
    assert adjusted == [32, 64, 160, 400]


@pytest.mark.torch
@pytest.mark.parametrize("name", list(REGNET))
def test_regnet_widths_match_torchvision_float32_arithmetic(name: str) -> None:
    torch = pytest.importorskip("torch")
    depth, w_0, w_a, w_m = REGNET[name][0]
    # torchvision's BlockParams.from_init_params, verbatim in its arithmetic (float32 tensors).
    widths_cont = torch.arange(depth) * float(w_a) + w_0
    capacity = torch.round(torch.log(widths_cont / w_0) / math.log(float(w_m)))
    expected = (torch.round(torch.divide(w_0 * torch.pow(float(w_m), capacity), 8)) * 8).int()
    assert _regnet_widths(depth, w_0, w_a, w_m) == expected.tolist()


# --- through the symbolic views (Relaxed numbers) ------------------------------------------------

A = var_symbol("alpha")


@pytest.mark.parametrize(
    ("text", "value", "expr"),
    [
        ("round(sqrt(alpha) * 64)", 55, 64 * sympy.sqrt(A)),  # sqrt(3/4) * 64 = 55.43
        ("round(log2(alpha * 8))", 3, sympy.log(8 * A) / sympy.log(2)),  # log2(6) = 2.58
        ("round(exp(alpha) * 10)", 21, 10 * sympy.exp(A)),  # e**0.75 = 2.117
        ("round(log(2) * alpha * 100)", 52, 100 * A * sympy.log(2)),  # 51.98
        ("sqrt(alpha * 4 / 3)", 1, sympy.sqrt(4 * A / 3)),  # exact at the point
        # A fractional base to a relaxed power (Python's Fraction would turn the base into a
        # float): 1.5 ** round(3) = 27/8.
        ("1.5 ** round(alpha * 4)", Fraction(27, 8), sympy.Rational(3, 2) ** (4 * A)),
        # RegNet's rule relaxed: w_m ** (log(u) / log(w_m)) is u, so the width is 48 * 10 alpha.
        ("8 * round(48 * 2.09 ** round(log(alpha * 10) / log(2.09)) / 8)", 440, 480 * A),
    ],
    ids=lambda v: str(v),
)
def test_relaxed_vars_through_the_functions(text: str, value: Fraction, expr: sympy.Expr) -> None:
    result = evaluate(text, {"alpha": Relaxed(Fraction(3, 4), A)})
    assert isinstance(result, Relaxed)
    assert result.value == value
    assert sympy.simplify(result.expr - expr) == 0


def test_relaxed_domain_errors_follow_the_witness() -> None:
    with pytest.raises(ExprError, match="must not be negative"):
        evaluate("sqrt(alpha - 1)", {"alpha": Relaxed(Fraction(3, 4), A)})


# --- in a spec -----------------------------------------------------------------------------------


def test_a_param_named_exp_and_the_function_exp_do_not_mix_up(tmp_path: Path) -> None:
    # MobileNetV3's specs call their expansion `exp`; the function exp() came later.
    g = graph_of(
        """
input: {channels: 8, size: 4}
blocks:
  ir:
    params: [exp]
    layers:
      - {kind: pointwise, out: "exp * round(exp(1))"}
layers:
  - {block: ir, exp: 16}
""",
        tmp_path,
    )
    assert g.nodes[0].output_shape == (48, 4, 4)  # 16 * round(2.718...) = 16 * 3


def test_regnet_widths_in_a_spec(tmp_path: Path) -> None:
    # RegNetY-400MF's 16 block widths as a repeated layer: stage widths 48, 104, 208, 440.
    g = graph_of(
        f"""
vars: {{w_0: 48, w_a: 27.89, w_m: 2.09}}
input: {{channels: 3, size: 1}}
layers:
  - {{kind: pointwise, out: "{REGNET_WIDTH}", repeat: 16}}
""",
        tmp_path,
    )
    assert [n.output_shape[0] for n in g.nodes] == [48] + [104] * 3 + [208] * 6 + [440] * 6


def test_log_ratio_gives_up_early_on_a_base_near_1() -> None:
    # log(x) / log(1 + 1/x) is about x * ln(x): Euclid's first quotient alone would take 2**3840
    # divisions; the heights bound it to a few.
    x = Fraction(2**3840)
    assert log_ratio(x, 1 + 1 / x) is None
    # ... while the value is still decided exactly: log(2**200) / log(1 + 2**-200) = 2.2275e62.
    assert evaluate("round(log(x) / log(1 + 1/x) / 10**60)", {"x": 2**200}) == 223
