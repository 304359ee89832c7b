"""sepcalc.search: layer-level closed-form search and network-level budget search.

Layer answers are checked against brute force over the integers with the MobileNet ratio written
out by hand, (k**2 + C_out) / (C_out * k**2) = 1/C_out + 1/k**2 (Howard et al. 2017, eq. 5);
network figures against the MobileNet paper's Tables 6 and 7 and the independent Table 1
derivation in tests/test_mobilenet_v1.py.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sepcalc.cli.options import parse_axis, parse_count_option
from sepcalc.conventions import DEFAULT, FVCORE
from sepcalc.errors import NeedsCIn, SepcalcError
from sepcalc.search import (
    Axis,
    Evaluator,
    Fix,
    GridResult,
    LayerModel,
    Limit,
    Target,
    check_budgets,
    factor_target,
    grid_search,
    pareto_front,
    ratio_target,
    savings_target,
    search_channels,
    search_kernel,
    search_var,
)
from sepcalc.search.replay import names_in, plan
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
    with pytest.raises(NeedsCIn, match="depends on C_in; give C_in"):
        LayerModel(metric, count=parse_count_option("bias")).closed_form()
    # MACs never count a bias or a norm.
    import sympy

    from sepcalc import symbols as S

    macs = LayerModel("macs", count=parse_count_option("bias,norm,act")).closed_form()
    assert sympy.simplify(macs - (1 / S.C_out + 1 / S.k**2)) == 0


# --- layer level: answers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("k", "target", "answer", "ratio"),
    [
        # 1/113 + 1/9 = 122/1017 <= 3/25 < 1/112 + 1/9 = 121/1008
        (3, ratio_target(Fraction(3, 25)), 113, Fraction(122, 1017)),
        # 1/72 + 1/9 = 1/8 exactly: a boundary met exactly counts as met
        (3, factor_target(Fraction(8)), 72, Fraction(1, 8)),
        # 1/27 + 1/16 = 43/432 <= 1/10 < 1/26 + 1/16 = 21/208
        (4, factor_target(Fraction(10)), 27, Fraction(43, 432)),
        # 1/C + 1/25 <= 1/10 iff C >= 50/3: 17
        (5, factor_target(Fraction(10)), 17, Fraction(42, 425)),
        # k = 1: the ratio 1/C + 1 is above 1, but below 1.5 from C = 2
        (1, ratio_target(Fraction(3, 2)), 2, Fraction(3, 2)),
    ],
    ids=["k3-0.12", "k3-8x-boundary", "k4-10x", "k5-10x", "k1"],
)
def test_search_channels(k: int, target: Target, answer: int, ratio: Fraction) -> None:
    result = search_channels(MACS, k, target)
    assert result.answer is not None
    assert (result.answer.value, result.answer.ratio) == (answer, ratio)
    assert result.answer.ratio == mobilenet_ratio(answer, k)
    if answer > 1:
        assert result.next_fails is not None
        assert result.next_fails.value == answer - 1
        assert result.next_fails.ratio > target.max_ratio


@pytest.mark.parametrize(
    ("c_out", "target", "odd", "answer", "before"),
    [
        # 1/128 + 1/9 = 137/1152: savings 88.1% >= 88%; k = 2 saves only 74.2%
        (128, savings_target(Fraction(22, 25)), False, 3, 2),
        (128, savings_target(Fraction(22, 25)), True, 3, 1),
        # 1/64 + 1/k^2 <= 1/10 iff k^2 >= 320/27 = 11.85: k = 4, or 5 if odd
        (64, factor_target(Fraction(10)), False, 4, 3),
        (64, factor_target(Fraction(10)), True, 5, 3),
    ],
    ids=["c128-88pct", "c128-88pct-odd", "c64-10x", "c64-10x-odd"],
)
def test_search_kernel(c_out: int, target: Target, odd: bool, answer: int, before: int) -> None:
    result = search_kernel(MACS, c_out, target, odd=odd)
    assert result.answer is not None
    assert result.next_fails is not None
    assert (result.answer.value, result.next_fails.value) == (answer, before)
    assert result.answer.ratio == mobilenet_ratio(c_out, answer)


def test_seed_question_10x_with_3x3_is_infeasible_and_says_what_works() -> None:
    """The seed's "minimum number of output channels for more than a 10x efficiency gain".

    With k = 3 the ratio 1/C_out + 1/9 never reaches 1/9, so no C_out gives 9x, let alone 10x.
    A 4x4 kernel needs C_out >= 27 (43/432, 10.05x); the smallest odd kernel, 5x5, C_out >= 17.
    """
    result = search_channels(MACS, 3, factor_target(Fraction(10)))
    assert not result.feasible
    assert result.answer is None
    assert result.reason is not None
    assert "above 1/9 for every C_out" in result.reason
    assert "k=4, with C_out >= 27" in result.reason
    odd = search_channels(MACS, 3, factor_target(Fraction(10)), odd=True)
    assert odd.reason is not None
    assert "smallest odd kernel that can is k=5, with C_out >= 17" in odd.reason
    # "More than" 10x (strict) has the same answer: the inclusive answer at k = 4 already
    # beats 10x strictly (43/432 < 1/10), and the C_out below it does not reach 10x at all.
    k4 = search_channels(MACS, 4, factor_target(Fraction(10)))
    assert k4.answer is not None
    assert k4.next_fails is not None
    assert (k4.answer.value, k4.answer.ratio) == (27, Fraction(43, 432))
    assert k4.answer.factor > 10 > k4.next_fails.factor


def test_infeasible_within_bounds_names_the_bound() -> None:
    # k = 4 needs C_out >= 27; capped at 20, the smallest kernel with C_out <= 20 is 5 (17).
    result = search_channels(MACS, 4, factor_target(Fraction(10)), max_c_out=20)
    assert result.reason is not None
    assert "needs C_out >= 27, above the bound 20" in result.reason
    assert "k=5, with C_out >= 17" in result.reason
    # A C_out of 8 caps the factor below 8x whatever the kernel; C_out = 11 with k = 11 works.
    kernel = search_kernel(MACS, 8, factor_target(Fraction(10)))
    assert kernel.reason is not None
    assert "above 1/8 for every kernel" in kernel.reason
    assert "smallest C_out that can is 11, with k >= 11" in kernel.reason
    capped = search_kernel(MACS, 64, factor_target(Fraction(10)), max_k=3)
    assert capped.reason is not None
    assert "needs k >= 4, above the bound 3" in capped.reason
    assert "no C_out reaches it with k <= 3 either" in capped.reason


@settings(max_examples=150, deadline=None)
@given(
    k=st.integers(1, 9),
    bound=st.integers(1, 300),
    num=st.integers(1, 150),
    den=st.integers(1, 100),
)
def test_channels_answer_is_the_brute_force_minimum(k: int, bound: int, num: int, den: int) -> None:
    target = ratio_target(Fraction(num, den))
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
    target = ratio_target(Fraction(num, den))
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
    counted = parse_count_option(",".join(sorted(count)))
    model = LayerModel(metric, FVCORE if metric == "flops" else DEFAULT, counted, c_in)
    target = ratio_target(Fraction(percent, 100))
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
    assert any("not monotone" in n.text for n in grid.notes)
    assert any("smaller value(s) break a budget" in n.text and ": 3" in n.text for n in grid.notes)
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
    assert "smallest buildable value alpha=0.04" in result.reason.text
    assert result.reason.fix is Fix.LOWER_RANGE


GALLOP = """\
name: gallop
vars: {alpha: 1.0}
input: {channels: 3, size: 8}
layers:
  - {kind: conv, name: c, out: "int(alpha * 100) - 4", kernel: 1}
"""


@pytest.fixture
def gallop(tmp_path: Path) -> Evaluator:
    spec = tmp_path / "gallop.yaml"
    spec.write_text(GALLOP)
    return Evaluator(load_spec(spec))


def test_bisection_finds_a_passing_run_between_unbuildable_and_over_budget(
    gallop: Evaluator,
) -> None:
    # out = int(100 alpha) - 4 builds from alpha = 0.05 (out = 1); MACs = 3 * out * 8 * 8 =
    # 192 * out: 192, 384, 576 at 0.05, 0.06, 0.07 fit 600, 768 at 0.08 does not. (Galloping
    # up over indices 0, 1, 3, 7 jumped from unbuildable 0.04 to over-budget 0.08.)
    limit = [Limit("macs", 600)]
    found = search_var(gallop, "alpha", limit, Fraction(1, 100), 1, precision=Fraction(1, 100))
    grid = search_var(gallop, "alpha", limit, Fraction(1, 100), 1, step=Fraction(1, 100))
    assert found.answer is not None
    assert found.next_fails is not None
    assert found.answer.totals is not None
    assert (found.answer.value, found.answer.totals.macs) == (Fraction(7, 100), 576)
    assert found.next_fails.value == Fraction(8, 100)
    assert grid.answer is not None
    assert grid.answer.value == found.answer.value


def test_bisection_names_the_smallest_buildable_value(gallop: Evaluator) -> None:
    # 0.05 is the smallest value that builds (out = 1): 192 MACs, over a budget of 100.
    limit = [Limit("macs", 100)]
    result = search_var(gallop, "alpha", limit, Fraction(1, 100), 1, precision=Fraction(1, 100))
    assert result.reason is not None
    assert "smallest buildable value alpha=0.05 breaks the budget (macs 192 > 100)" in (
        result.reason.text
    )
    assert len(result.evaluated) < 20  # two bisections over 100 values


def test_bisection_over_a_huge_range_builds_no_list(v1: Evaluator) -> None:
    # 10**9 multiples of 1/10**9: a list would not fit, the bisection needs about 60 builds.
    limit = [Limit("macs", 300_000_000)]
    tiny = Fraction(1, 10**9)
    result = search_var(v1, "alpha", limit, tiny, 1, precision=tiny)
    assert result.answer is not None
    assert result.answer.totals is not None
    assert result.answer.totals.macs <= 300_000_000
    assert len(result.evaluated) < 80


# --- grids: the replay equals building every point ----------------------------------------------

EXAMPLE_GRIDS = {
    "mobilenet_v1": ("alpha=0.25:1.0:0.25", "resolution=96:224:64"),
    "mobilenet_v2": ("alpha=0.35:1.4:0.35", "resolution=96:224:64"),
    "mobilenet_v3_large": ("resolution=96:224:64",),
    "mobilenet_v3_small": ("resolution=96,97,224",),
    "efficientnet_b0": ("width=0.5:1.5:0.5", "depth=1.0:1.4:0.4", "resolution=128:256:128"),
    "resnet50": ("resolution=64:224:80", "v1_5=0,1"),
    "shufflenet_v2_x1_0": ("resolution=96:224:64",),
    "vgg16": ("resolution=32,100,224",),
    "xception": ("resolution=71,150,299",),
}
"""A small grid over every var of every example (vgg16 at 32: its adaptive pool to 7 x 7 then
upsamples a 1 x 1 map; mobilenet_v3_small at 97: odd sizes round in every strided layer)."""

SQUEEZE_EXCITE = """\
name: se
vars: {alpha: 1.0, resolution: 32}
input: {channels: 3, size: resolution}
layers:
  - {kind: conv, out: "make_divisible(16 * alpha, 8)", kernel: 3, stride: 2, act: relu}
  - {kind: squeeze_excite, squeeze: "max(1, int(4 * alpha))"}
  - {kind: pointwise, out: "int(24 * alpha)"}
"""
FLATTEN_LINEAR = """\
name: no-adaptive-pool
vars: {alpha: 1.0, resolution: 32}
input: {channels: 3, size: resolution}
layers:
  - {kind: conv, out: "int(16 * alpha)", kernel: 3, stride: 2, act: relu}
  - {kind: maxpool, kernel: 2}
  - {kind: flatten}
  - {kind: linear, out: 10}
"""
IN_CHANNELS_AFTER_FLATTEN = """\
name: head-sized-by-input
vars: {alpha: 1.0, resolution: 16}
input: {channels: 3, size: resolution}
blocks:
  head:
    layers:
      - {kind: linear, out: "in_channels // 4"}
layers:
  - {kind: conv, out: "int(8 * alpha)", kernel: 3, stride: 2}
  - {kind: flatten}
  - {block: head}
  - {kind: linear, out: 10}
"""
BLOCK_WHEN_AFTER_FLATTEN = """\
name: head-kept-by-input-size
vars: {alpha: 1.0, resolution: 8}
input: {channels: 3, size: resolution}
blocks:
  wide_head:
    layers:
      - {kind: linear, out: 64, when: "in_channels > 200"}
layers:
  - {kind: conv, out: "int(8 * alpha)", kernel: 3, stride: 2}
  - {kind: flatten}
  - {block: wide_head}
  - {kind: linear, out: 10}
"""
"""The block builds no layer at resolution 8 (8 x 4 x 4 = 128 features) and one from 16 on
(8 x 8 x 8 = 512): the built graph at 8 has no trace of the block to compare with."""
WHEN = """\
name: interaction
vars: {alpha: 1.0, resolution: 224}
input: {channels: 3, size: resolution}
layers:
  - {kind: conv, name: stem, out: "int(alpha * 32)", kernel: 3, stride: 2}
  - {kind: conv, name: extra, out: "int(alpha * 32)", kernel: 3,
     when: "alpha >= 1 and resolution == 160"}
  - {kind: global_avg_pool}
  - {kind: flatten}
  - {kind: linear, out: 10}
"""
"""A layer kept only when alpha >= 1 and resolution == 160: no product of a channel term and a
size term (the old factorized grid counted 5,529,920 MACs at (1, 160) instead of 64,512,320)."""
SPECS = {
    "squeeze-excite": (SQUEEZE_EXCITE, ("alpha=0.5:1.5:0.25", "resolution=16:64:8")),
    "flatten-linear": (FLATTEN_LINEAR, ("alpha=0.5:1.5:0.25", "resolution=14,2,20,40,64")),
    "in-channels-after-flatten": (IN_CHANNELS_AFTER_FLATTEN, ("alpha=0.5,1", "resolution=8:32:8")),
    "block-when-after-flatten": (BLOCK_WHEN_AFTER_FLATTEN, ("alpha=0.5,1", "resolution=8:32:8")),
    "when": (WHEN, ("alpha=0.25:1.0:0.25", "resolution=96:224:32")),
}


def _both(ev: Evaluator, axes: Sequence[str]) -> tuple[GridResult, GridResult]:
    parsed = [parse_axis(a) for a in axes]
    budget = [Limit("macs", 10_000_000)]
    return grid_search(ev, parsed, budget), grid_search(ev, parsed, budget, exact=True)


def _assert_same(fast: GridResult, full: GridResult) -> None:
    assert full.method == "exact"
    assert full.builds == len(full.points)
    assert fast.points == full.points
    assert fast.totals == full.totals
    assert fast.errors == full.errors
    assert fast.within == full.within
    assert fast.front == full.front


@pytest.mark.parametrize("name", list(EXAMPLE_GRIDS))
def test_replay_equals_building_every_point_on_every_example(name: str) -> None:
    ev = Evaluator(load_spec(ROOT / "examples" / f"{name}.yaml"))
    fast, full = _both(ev, EXAMPLE_GRIDS[name])
    _assert_same(fast, full)
    assert any(t is not None for t in full.totals)
    if name == "resnet50":  # v1_5 moves a stride: a layer's attrs, one graph per value
        assert fast.builds == 2
    if name in ("mobilenet_v1", "mobilenet_v2"):  # one graph per alpha
        assert fast.builds == 4
    assert fast.method == "replay"


@pytest.mark.parametrize("name", list(SPECS))
def test_replay_equals_building_every_point_on_hard_specs(name: str, tmp_path: Path) -> None:
    text, axes = SPECS[name]
    spec = tmp_path / "spec.yaml"
    spec.write_text(text)
    fast, full = _both(Evaluator(load_spec(spec)), axes)
    _assert_same(fast, full)
    assert any(t is not None for t in full.totals)
    if name == "when":
        assert fast.method == "exact"  # both vars reach the layer's `when`
        i = fast.points.index({"alpha": 1, "resolution": 160})
        # conv 3->32, 3x3, stride 2: 864 * 80 * 80 = 5,529,600; the extra conv 32->32 at
        # 80 x 80: 9,216 * 6,400 = 58,982,400; the linear 32->10: 320. Total 64,512,320.
        assert fast.totals[i] == full.totals[i]
        assert fast.totals[i] is not None
        assert fast.totals[i].macs == 5_529_600 + 58_982_400 + 320
        assert not fast.within[i]
    elif name in ("in-channels-after-flatten", "block-when-after-flatten"):
        # The head's width is the flattened size: at every resolution but the first the replay
        # is refused (a layer's output channels changed) and the point is built. Likewise a
        # block kept by `when: in_channels > 200`, which the graph built at 8 does not have.
        assert fast.method == "replay"
        assert fast.builds == full.builds == 8
        assert fast.notes == (
            "6 point(s) were built one by one: a layer's output channels (a block's "
            "in_channels) change with the input size there",
        )
    else:
        assert fast.method == "replay"
        assert fast.notes == ()
        # One graph per alpha; for flatten-linear also a build at resolution 2, where the replay
        # meets a layer that cannot take its input (the stride-2 conv gives 1 x 1, too small for
        # the 2 x 2 max pool), for the build's own diagnostic.
        failed = 1 if name == "flatten-linear" else 0
        assert fast.builds == len(fast.axes[0].values) * (1 + failed)
        assert sum(e is not None for e in full.errors) == len(fast.axes[0].values) * failed


def test_replay_equals_building_every_point_off_the_grid(tmp_path: Path) -> None:
    """Random widths and resolutions of MobileNetV2 (make_divisible rounding, residual adds that
    depend on in_channels) and of the squeeze-excite spec: the replay's totals are the build's."""
    spec = tmp_path / "se.yaml"
    spec.write_text(SQUEEZE_EXCITE)
    evaluators = [Evaluator(load_spec(V2)), Evaluator(load_spec(spec))]

    @settings(max_examples=15, deadline=None)
    @given(
        which=st.integers(0, 1),
        alphas=st.lists(st.integers(10, 150), min_size=1, max_size=3, unique=True),
        sizes=st.lists(st.integers(20, 260), min_size=1, max_size=3, unique=True),
    )
    def check(which: int, alphas: list[int], sizes: list[int]) -> None:
        ev = evaluators[which]
        axes = [Axis("alpha", tuple(Fraction(a, 100) for a in alphas)),
                Axis("resolution", tuple(sizes))]  # fmt: skip
        fast = grid_search(ev, axes)
        full = grid_search(ev, axes, exact=True)
        _assert_same(fast, full)

    check()


PLAN_LAYERS = """\
  - {kind: conv, out: "int(8 * alpha)", kernel: 3}
  - {kind: avgpool, kernel: "side if side > 0 else 1"}
"""


@pytest.mark.parametrize(
    ("extra", "grid", "fixed", "sizes"),
    [
        ("0", ("alpha", "resolution"), (), ("resolution",)),
        # side is derived from resolution and a layer uses it: resolution reaches the layer...
        ("'resolution // 32'", ("alpha", "resolution"), (), ()),
        # ... unless side is fixed (--set side=7): then its default is never evaluated
        ("'resolution // 32'", ("alpha", "resolution"), ("side",), ("resolution",)),
        # an unused var reaches nothing: any value gives the same layers
        ("0", ("unused",), (), ("unused",)),
    ],
    ids=["width-resolution", "derived-var-used", "derived-var-fixed", "unused"],
)
def test_plan_splits_vars_by_what_they_reach(
    extra: str, grid: tuple[str, ...], fixed: tuple[str, ...], sizes: tuple[str, ...],
    tmp_path: Path,
) -> None:  # fmt: skip
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        f"name: t\nvars: {{alpha: 1.0, resolution: 224, side: {extra}, unused: 3}}\n"
        f"input: {{channels: 3, size: resolution}}\nlayers:\n{PLAN_LAYERS}"
    )
    split = plan(load_spec(spec).spec, grid, fixed)
    assert split.sizes == sizes
    assert split.channels == tuple(n for n in grid if n not in sizes)


@pytest.mark.parametrize(
    ("text", "names"),
    [("make_divisible(c * alpha, 8)", {"make_divisible", "c", "alpha"}),
     ("stride == 1 and in_channels == out", {"stride", "in_channels", "out"}),
     ("relu6", {"relu6"}), (" 3 ", set()), ("3x3", set())],
    ids=["call", "comparison", "bare-name", "constant", "not-an-expression"],
)  # fmt: skip
def test_names_in(text: str, names: set[str]) -> None:
    assert names_in(text) == names


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


def test_budgets_are_checked() -> None:
    with pytest.raises(SepcalcError, match="give at least one budget"):
        check_budgets([])
    with pytest.raises(SepcalcError, match="unknown budget metric 'mac'; choose from macs"):
        check_budgets([Limit("mac", 1)])


def test_grid_rejects_unknown_vars_and_huge_grids(v1: Evaluator) -> None:
    with pytest.raises(SepcalcError, match="did you mean 'alpha'"):
        grid_search(v1, [Axis("alpha2", (1,))])
    with pytest.raises(SepcalcError, match="combinations"):
        grid_search(v1, [Axis("alpha", tuple(range(1000))), Axis("resolution", tuple(range(1000)))])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"k": 5, "max_k": 3}, "k=5 is over the largest kernel allowed, 3"),
        ({"k": 4, "odd": True}, "k=4 is even, but only odd kernels are allowed"),
    ],
    ids=["k-over-max", "even-k-with-odd"],
)
def test_contradictory_layer_bounds_are_refused(args: dict[str, object], message: str) -> None:
    with pytest.raises(SepcalcError, match=re.escape(message)):
        search_channels(MACS, target=factor_target(Fraction(8)), **args)


def test_budget_messages_print_totals_as_the_reports_do() -> None:
    from sepcalc.search.targets import Limit, Totals, broken, shown

    # the peak of MobileNetV1 at alpha 0.88, int8 (tests/test_report_totals.py): 84 x 112 x 112
    assert shown("peak_memory", 1_053_696) == "1,053,696 B (1.0 MiB)"
    assert shown("latency", Fraction(183_618, 10**9)) == "183.618 us"
    assert shown("macs", 306_572_464) == "306,572,464"
    totals = Totals(1, 1, 1, 1, {"latency": Fraction(100_004, 10**10), "flash": 4_231_976})
    assert broken(totals, [Limit("flash", 3 * 2**20), Limit("latency", Fraction(1, 10**5))]) == [
        "flash 4,231,976 B (4.0 MiB) > 3,145,728 B (3.0 MiB)",
        # 10.0004 us and 10 us both round to 10.000 us: exactly, in seconds
        "latency 25001/2500000000 s > 1/100000 s",
    ]
