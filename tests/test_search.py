"""sepcalc.search: layer-level closed-form search and network-level budget search.

Layer answers are checked against brute force over the integers with the MobileNet ratio written
out by hand, (k**2 + C_out) / (C_out * k**2) = 1/C_out + 1/k**2 (Howard et al. 2017, eq. 5);
network figures against the MobileNet paper's Tables 6 and 7 and the independent Table 1
derivation in tests/test_mobilenet_v1.py.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sepcalc.conventions import DEFAULT, FVCORE
from sepcalc.errors import SepcalcError
from sepcalc.search import (
    Axis,
    Evaluator,
    LayerModel,
    Limit,
    grid_search,
    make_target,
    pareto_front,
    parse_axis,
    parse_fraction,
    search_channels,
    search_kernel,
    search_var,
)
from sepcalc.spec import load_spec
from tests.test_mobilenet_v1 import table1

ROOT = Path(__file__).resolve().parent.parent
V1 = ROOT / "examples" / "mobilenet_v1.yaml"
V2 = ROOT / "examples" / "mobilenet_v2.yaml"
MACS = LayerModel()


def mobilenet_ratio(c_out: int, k: int) -> Fraction:
    """Eq. 5 of the MobileNet paper: (D_K^2 + N) / (N * D_K^2)."""
    return Fraction(k * k + c_out, c_out * k * k)


# --- targets ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("0.12", Fraction(3, 25)), ("3/25", Fraction(3, 25)), ("12%", Fraction(3, 25)),
     ("1e-1", Fraction(1, 10)), (" 0.3 ", Fraction(3, 10))],
    ids=["decimal", "fraction", "percent", "exponent", "spaces"],
)  # fmt: skip
def test_parse_fraction_is_exact(text: str, expected: Fraction) -> None:
    assert parse_fraction(text) == expected


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
    assert make_target(**kwargs).max_ratio == max_ratio


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"max_ratio": "0.1", "min_factor": "10"}, {"max_ratio": "0"}, {"min_factor": "-2"},
     {"min_savings": "100%"}, {"min_savings": "88"}, {"max_ratio": "abc"}],
    ids=["none", "two", "zero-ratio", "negative-factor", "all-savings", "savings-not-fraction",
         "not-a-number"],
)  # fmt: skip
def test_bad_targets_are_user_errors(kwargs: dict[str, str]) -> None:
    with pytest.raises(SepcalcError):
        make_target(**kwargs)


# --- layer level: closed form ------------------------------------------------------------------


@pytest.mark.parametrize("metric", ["macs", "params", "flops"])
def test_ratio_is_1_over_c_out_plus_1_over_k_squared(metric: str) -> None:
    import sympy

    from sepcalc import symbols as S

    ratio = LayerModel(metric).closed_form()
    assert sympy.simplify(ratio - (1 / S.C_out + 1 / S.k**2)) == 0
    # Independent of C_in and of the feature map: only C_out and k remain.
    assert ratio.free_symbols == {S.C_out, S.k}


@pytest.mark.parametrize("metric", ["params", "flops"])
def test_counting_bias_or_norm_makes_the_ratio_depend_on_c_in(metric: str) -> None:
    with pytest.raises(SepcalcError, match="depends on C_in; give it with --c-in"):
        LayerModel(metric, count=frozenset({"bias"})).closed_form()
    # MACs never count a bias or a norm.
    import sympy

    from sepcalc import symbols as S

    macs = LayerModel("macs", count=frozenset({"bias", "norm", "act"})).closed_form()
    assert sympy.simplify(macs - (1 / S.C_out + 1 / S.k**2)) == 0


@pytest.mark.parametrize(
    ("metric", "count"),
    [("macs", ()), ("params", ("bias",)), ("params", ("bias", "norm")),
     ("flops", ("bias", "norm", "act"))],
    ids=["macs", "params-bias", "params-bias-norm", "flops-all"],
)  # fmt: skip
def test_closed_form_agrees_with_sepcalc_formula(metric: str, count: tuple[str, ...]) -> None:
    """The same ratio as `sepcalc formula separable --vs conv --count ...` (symbolic.py)."""
    import sympy

    from sepcalc import symbolic
    from sepcalc import symbols as S

    model = LayerModel(metric, DEFAULT, frozenset(count))
    c = symbolic.parse_count(",".join(count))
    sep = symbolic.layer_formula("separable", c, DEFAULT)
    std = symbolic.layer_formula("conv", c, DEFAULT)
    theirs = symbolic.ratio(sep, std, metric).ratio
    sep_c, std_c = model.costs(S.C_in, S.C_out, S.k, S.H, S.W)
    ours = model.value(sep_c) / model.value(std_c)
    assert sympy.simplify(ours - theirs) == 0


# --- layer level: answers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("k", "target", "answer", "ratio"),
    [
        # 1/113 + 1/9 = 122/1017 <= 3/25 < 1/112 + 1/9 = 121/1008
        (3, {"max_ratio": "0.12"}, 113, Fraction(122, 1017)),
        # 1/72 + 1/9 = 1/8 exactly: a boundary met exactly counts as met
        (3, {"min_factor": "8"}, 72, Fraction(1, 8)),
        # 1/27 + 1/16 = 43/432 <= 1/10 < 1/26 + 1/16 = 21/208
        (4, {"min_factor": "10"}, 27, Fraction(43, 432)),
        # 1/C + 1/25 <= 1/10 iff C >= 50/3: 17
        (5, {"min_factor": "10"}, 17, Fraction(42, 425)),
        # k = 1: the ratio 1/C + 1 is above 1, but below 1.5 from C = 2
        (1, {"max_ratio": "1.5"}, 2, Fraction(3, 2)),
    ],
    ids=["k3-0.12", "k3-8x-boundary", "k4-10x", "k5-10x", "k1"],
)
def test_search_channels(k: int, target: dict[str, str], answer: int, ratio: Fraction) -> None:
    result = search_channels(MACS, k, make_target(**target))
    assert result.answer is not None
    assert (result.answer.value, result.answer.ratio) == (answer, ratio)
    assert result.answer.ratio == mobilenet_ratio(answer, k)
    if answer > 1:
        assert result.next_fails is not None
        assert result.next_fails.value == answer - 1
        assert result.next_fails.ratio > make_target(**target).max_ratio


@pytest.mark.parametrize(
    ("c_out", "target", "odd", "answer", "before"),
    [
        # 1/128 + 1/9 = 137/1152: savings 88.1% >= 88%; k = 2 saves only 74.2%
        (128, {"min_savings": "88%"}, False, 3, 2),
        (128, {"min_savings": "88%"}, True, 3, 1),
        # 1/64 + 1/k^2 <= 1/10 iff k^2 >= 320/27 = 11.85: k = 4, or 5 if odd
        (64, {"min_factor": "10"}, False, 4, 3),
        (64, {"min_factor": "10"}, True, 5, 3),
    ],
    ids=["c128-88pct", "c128-88pct-odd", "c64-10x", "c64-10x-odd"],
)
def test_search_kernel(
    c_out: int, target: dict[str, str], odd: bool, answer: int, before: int
) -> None:
    result = search_kernel(MACS, c_out, make_target(**target), odd=odd)
    assert result.answer is not None
    assert result.next_fails is not None
    assert (result.answer.value, result.next_fails.value) == (answer, before)
    assert result.answer.ratio == mobilenet_ratio(c_out, answer)


def test_seed_question_10x_with_3x3_is_infeasible_and_says_what_works() -> None:
    """The seed's "minimum number of output channels for more than a 10x efficiency gain".

    With k = 3 the ratio 1/C_out + 1/9 never reaches 1/9, so no C_out gives 9x, let alone 10x.
    A 4x4 kernel needs C_out >= 27 (43/432, 10.05x); the smallest odd kernel, 5x5, C_out >= 17.
    """
    result = search_channels(MACS, 3, make_target(min_factor="10"))
    assert not result.feasible
    assert result.answer is None
    assert result.reason is not None
    assert "above 1/9 for every C_out" in result.reason
    assert "k=4, with C_out >= 27" in result.reason
    odd = search_channels(MACS, 3, make_target(min_factor="10"), odd=True)
    assert odd.reason is not None
    assert "smallest odd kernel that can is k=5, with C_out >= 17" in odd.reason
    # "More than" 10x (strict) has the same answer: 43/432 < 1/10 strictly.
    assert Fraction(43, 432) < Fraction(1, 10)


def test_infeasible_within_bounds_names_the_bound() -> None:
    # k = 4 needs C_out >= 27; capped at 20, the smallest kernel with C_out <= 20 is 5 (17).
    result = search_channels(MACS, 4, make_target(min_factor="10"), max_c_out=20)
    assert result.reason is not None
    assert "needs C_out >= 27, above --max-c-out 20" in result.reason
    assert "k=5, with C_out >= 17" in result.reason
    # A C_out of 8 caps the factor below 8x whatever the kernel; C_out = 11 with k = 11 works.
    kernel = search_kernel(MACS, 8, make_target(min_factor="10"))
    assert kernel.reason is not None
    assert "above 1/8 for every kernel" in kernel.reason
    assert "smallest C_out that can is 11, with k >= 11" in kernel.reason
    capped = search_kernel(MACS, 64, make_target(min_factor="10"), max_k=3)
    assert capped.reason is not None
    assert "needs k >= 4, above --max-k 3" in capped.reason
    assert "no C_out reaches it with k <= 3 either" in capped.reason


@settings(max_examples=150, deadline=None)
@given(
    k=st.integers(1, 9),
    bound=st.integers(1, 300),
    num=st.integers(1, 150),
    den=st.integers(1, 100),
)
def test_channels_answer_is_the_brute_force_minimum(k: int, bound: int, num: int, den: int) -> None:
    target = make_target(max_ratio=f"{num}/{den}")
    result = search_channels(MACS, k, target, max_c_out=bound)
    meets = [c for c in range(1, bound + 1) if mobilenet_ratio(c, k) <= target.max_ratio]
    assert (result.answer.value if result.answer else None) == (meets[0] if meets else None)


@settings(max_examples=150, deadline=None)
@given(
    c_out=st.integers(1, 300),
    bound=st.integers(1, 15),
    odd=st.booleans(),
    num=st.integers(1, 150),
    den=st.integers(1, 100),
)
def test_kernel_answer_is_the_brute_force_minimum(
    c_out: int, bound: int, odd: bool, num: int, den: int
) -> None:
    target = make_target(max_ratio=f"{num}/{den}")
    result = search_kernel(MACS, c_out, target, max_k=bound, odd=odd)
    ks = range(1, bound + 1, 2 if odd else 1)
    meets = [k for k in ks if mobilenet_ratio(c_out, k) <= target.max_ratio]
    assert (result.answer.value if result.answer else None) == (meets[0] if meets else None)


@settings(max_examples=60, deadline=None)
@given(
    metric=st.sampled_from(["params", "flops"]),
    count=st.sets(st.sampled_from(["bias", "norm", "act"]), min_size=1),
    c_in=st.integers(1, 512),
    k=st.integers(1, 7),
    percent=st.integers(5, 120),
)
def test_counted_answers_match_the_integer_formula_by_brute_force(
    metric: str, count: set[str], c_in: int, k: int, percent: int
) -> None:
    model = LayerModel(metric, FVCORE if metric == "flops" else DEFAULT, frozenset(count), c_in)
    target = make_target(max_ratio=f"{percent}%")
    result = search_channels(model, k, target, max_c_out=200)
    meets = [c for c in range(1, 201) if model.ratio(c, k) <= target.max_ratio]
    assert (result.answer.value if result.answer else None) == (meets[0] if meets else None)


# --- network level -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def v1() -> Evaluator:
    return Evaluator(load_spec(V1))


@pytest.mark.parametrize(
    ("point", "macs"),
    [
        ({"alpha": Fraction(3, 4)}, 325_400_448),  # Table 6: 0.75 MobileNet-224, 325M
        ({"alpha": Fraction(1, 2)}, 149_497_088),  # Table 6: 0.50 MobileNet-224, 149M
        ({"resolution": 160}, 290_675_200),  # Table 7: 1.0 MobileNet-160, 290M
        ({"resolution": 192}, 418_121_728),  # Table 7: 1.0 MobileNet-192, 418M
    ],
    ids=["alpha0.75", "alpha0.5", "res160", "res192"],
)
def test_evaluator_reproduces_mobilenet_tables(v1: Evaluator, point: dict, macs: int) -> None:
    assert v1.totals(point).macs == macs == table1(**point)["macs"]


def test_width_within_300m(v1: Evaluator) -> None:
    result = search_var(v1, "alpha", [Limit("macs", 300_000_000)], Fraction(1, 100), 1,
                        step=Fraction(1, 100))  # fmt: skip
    assert result.answer is not None
    assert result.next_fails is not None
    assert result.answer.totals is not None
    assert result.next_fails.totals is not None
    assert (result.answer.value, result.next_fails.value) == (Fraction(18, 25), Fraction(73, 100))
    # Independent derivation (Table 1 by hand): 0.72 fits, 0.73 does not.
    assert result.answer.totals.macs == table1(Fraction(18, 25))["macs"] == 299_816_242
    assert result.next_fails.totals.macs == table1(Fraction(73, 100))["macs"] == 306_572_464
    assert result.notes == ()  # MACs grow with alpha on this grid


def test_resolution_within_300m_step_32(v1: Evaluator) -> None:
    result = search_var(v1, "resolution", [Limit("macs", 300_000_000)], 32, 224, step=32)
    assert result.answer is not None
    assert result.next_fails is not None
    assert (result.answer.value, result.next_fails.value) == (160, 192)  # Table 7


def test_bisection_agrees_with_the_grid_where_cost_is_monotone(v1: Evaluator) -> None:
    limits = [Limit("macs", 300_000_000), Limit("params", 2_000_000)]
    grid = search_var(v1, "alpha", limits, Fraction(1, 100), 1, step=Fraction(1, 100))
    fast = search_var(v1, "alpha", limits, Fraction(1, 100), 1, precision=Fraction(1, 100))
    assert grid.answer is not None
    assert fast.answer is not None
    assert grid.answer.value == fast.answer.value
    assert len(fast.evaluated) < len(grid.evaluated) / 3


NON_MONOTONE = """\
name: notch
vars: {w: 1}
input: {channels: 3, size: 8}
layers:
  - {kind: conv, out: "64 if w == 3 else 8 * w", kernel: 3}
"""


def test_non_monotone_cost_is_reported_and_budget_never_violated(tmp_path: Path) -> None:
    # MACs = 3 * 9 * 64 * out: out = 8, 16, 64, 32, 40 for w = 1..5.
    spec = tmp_path / "notch.yaml"
    spec.write_text(NON_MONOTONE)
    ev = Evaluator(load_spec(spec))
    limit = [Limit("macs", 27 * 64 * 40)]  # out <= 40 fits: every w but 3
    grid = search_var(ev, "w", limit, 1, 5, step=1)
    assert grid.answer is not None
    assert grid.answer.value == 5
    assert any("not monotone" in n for n in grid.notes)
    assert any("smaller value(s) break a budget" in n and ": 3" in n for n in grid.notes)
    limit = [Limit("macs", 27 * 64 * 35)]  # now w = 5 (40) fails too: answer 4, w = 3 a hole
    grid = search_var(ev, "w", limit, 1, 5, step=1)
    assert grid.answer is not None
    assert grid.answer.value == 4
    for e in grid.evaluated:
        if e.value == grid.answer.value:
            assert e.totals is not None
            assert e.totals.macs <= 27 * 64 * 35


def test_infeasible_var_search_says_why(v1: Evaluator) -> None:
    result = search_var(v1, "alpha", [Limit("macs", 1_000_000)], Fraction(1, 100), 1,
                        step=Fraction(1, 100))  # fmt: skip
    assert not result.feasible
    assert result.reason is not None
    # int(alpha * 32) is 0 below alpha = 1/32: 0.04 is the first buildable value.
    assert "smallest buildable value alpha=0.04" in result.reason


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
    "text", ["alpha", "alpha=", "=1", "alpha=1:2", "alpha=x:1:0.1", "alpha=1:0:0.1", "a=0:1:0"]
)
def test_parse_axis_errors(text: str) -> None:
    with pytest.raises(SepcalcError):
        parse_axis(text)


@pytest.mark.parametrize(
    ("spec", "axes"),
    [
        (V1, ("alpha=0.25:1.0:0.05", "resolution=96:224:32")),
        (V2, ("alpha=0.35:1.4:0.15", "resolution=96:224:16")),
        (ROOT / "examples" / "efficientnet_b0.yaml",
         ("width=0.5:1.5:0.25", "depth=1.0:1.4:0.2", "resolution=128:256:64")),
    ],
    ids=["v1", "v2-make-divisible", "effnet-depth-outer"],
)  # fmt: skip
def test_factorized_grid_equals_building_every_point(spec: Path, axes: tuple[str, str]) -> None:
    ev = Evaluator(load_spec(spec))
    parsed = [parse_axis(a) for a in axes]
    fast = grid_search(ev, parsed, [Limit("macs", 300_000_000)])
    full = grid_search(ev, parsed, [Limit("macs", 300_000_000)], exact=True)
    assert fast.method == "factorized"
    assert full.method == "exact"
    assert fast.totals == full.totals
    assert fast.front == full.front
    assert fast.builds < full.builds


INTERACTING = """\
name: interacting
vars: {alpha: 1.0, resolution: 32}
input: {channels: 3, size: resolution}
layers:
  - {kind: conv, out: "64 if alpha < 0.9 and resolution > 40 else 16", kernel: 3}
  - {kind: pointwise, out: 32}
"""


def test_vars_that_interact_are_caught_and_every_point_is_built(tmp_path: Path) -> None:
    # Along each axis through (0.5, 32) nothing interacts; off the axes the channel count
    # depends on both vars, which the sample of rebuilt points catches.
    spec = tmp_path / "interacting.yaml"
    spec.write_text(INTERACTING)
    ev = Evaluator(load_spec(spec))
    axes = [parse_axis("alpha=0.5:1.0:0.1"), parse_axis("resolution=32:64:8")]
    fast = grid_search(ev, axes)
    full = grid_search(ev, axes, exact=True)
    assert fast.method == "exact"
    assert fast.totals == full.totals


def test_pareto_front_by_brute_force(v1: Evaluator) -> None:
    axes = [parse_axis("alpha=0.25:1.0:0.25"), parse_axis("resolution=128:224:32")]
    result = grid_search(v1, axes, [Limit("macs", 300_000_000)], ("min:macs", "max:params"))
    ok = [i for i, w in enumerate(result.within) if w]

    def dominated(i: int) -> bool:
        a = result.totals[i]
        assert a is not None
        for j in ok:
            b = result.totals[j]
            assert b is not None
            if (b.macs <= a.macs and b.params >= a.params) and (b.macs, b.params) != (
                a.macs,
                a.params,
            ):
                return True
        return False

    assert sorted(result.front) == [i for i in ok if not dominated(i)]
    # The fewest MACs for each width: every front point is at the lowest resolution, 128.
    assert {result.points[i]["resolution"] for i in result.front} == {128}
    assert len(result.front) == 4


def test_pareto_front_ties_keep_one_point() -> None:
    from sepcalc.search import Totals

    t = Totals(1, 1, 1, 1)
    points = [{"x": 1}, {"x": 2}]
    assert pareto_front(points, [t, t], [True, True], ("macs", "params")) == [0]


def test_grid_rejects_unknown_vars_and_huge_grids(v1: Evaluator) -> None:
    with pytest.raises(SepcalcError, match="did you mean 'alpha'"):
        grid_search(v1, [Axis("alpha2", (1,))])
    with pytest.raises(SepcalcError, match="combinations"):
        grid_search(v1, [Axis("alpha", tuple(range(1000))), Axis("resolution", tuple(range(1000)))])
