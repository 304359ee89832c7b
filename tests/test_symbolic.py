"""Symbolic views: layer closed forms == exact counts, the MobileNet ratio and its claims, and the
continuous relaxation of a whole network (MobileNetV1 in alpha and resolution)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from fractions import Fraction
from functools import cache
from typing import Any

import pytest
import sympy
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sepcalc.conventions import DEFAULT, FVCORE, PAPER
from sepcalc.cost import Cost
from sepcalc.errors import SepcalcError, SpecError
from sepcalc.expr import ExprError, Number, evaluate, make_divisible
from sepcalc.formulas import REGISTRY
from sepcalc.graph import build_graph
from sepcalc.spec.loader import LoadedSpec, parse_yaml, validate
from sepcalc.symbolic import (
    METRICS,
    VIEWS,
    Count,
    Relaxed,
    formula_report,
    lambdify_exact,
    layer_cost,
    layer_formula,
    relaxed_graph,
    symbolic_network,
    tidy,
)
from sepcalc.symbols import LAYER_SYMBOLS, C_in, C_out, H, W, k, var_symbol
from tests.conftest import EXAMPLES
from tests.test_mobilenet_v1 import table1

COUNTS = [Count(bias=b, norm=n, act=a) for b in (False, True) for n in (False, True)
          for a in (False, True)]  # fmt: skip


def spec_of(data: Mapping[str, Any]) -> LoadedSpec:
    """A spec from a dict (JSON is YAML), without a file."""
    parsed, locator = parse_yaml(json.dumps(data), "<test>")
    return LoadedSpec(validate(parsed, locator), locator)


def mobilenet() -> LoadedSpec:
    from sepcalc.spec import load_spec

    return load_spec(EXAMPLES / "mobilenet_v1.yaml")


# --- the MobileNet ratio -------------------------------------------------------------------------


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("convention", [DEFAULT, PAPER, FVCORE], ids=lambda c: c.name)
def test_separable_vs_conv_ratio_is_one_over_c_out_plus_one_over_k_squared(
    metric: str, convention: Any
) -> None:
    # MobileNet eq. 5: (D_K^2 M D_F^2 + M N D_F^2) / (D_K^2 M N D_F^2) = 1/N + 1/D_K^2.
    report = formula_report("separable", "conv", convention=convention, metric_name=metric)
    assert report.ratio is not None
    assert sympy.simplify(report.ratio.ratio - (1 / C_out + 1 / k**2)) == 0
    assert report.ratio.ratio == 1 / C_out + 1 / k**2  # tidy() gives exactly this form
    assert sympy.simplify(report.ratio.reduction - C_out * k**2 / (C_out + k**2)) == 0
    assert sympy.simplify(report.ratio.savings - (1 - 1 / C_out - 1 / k**2)) == 0


def test_ratio_at_c_out_128_k_3() -> None:
    report = formula_report("separable", "conv", convention=DEFAULT, at={"C_out": 128, "k": 3})
    assert report.at_ratio is not None
    # 1/128 + 1/9 = (9 + 128) / 1152.
    assert report.at_ratio.ratio == sympy.Rational(137, 1152)
    assert report.at_ratio.reduction == sympy.Rational(1152, 137)
    assert round(float(report.at_ratio.reduction), 2) == 8.41
    assert report.at_ratio.savings == sympy.Rational(1015, 1152)


def test_mobilenet_8_to_9_times_less_computation_for_3x3() -> None:
    """Paper, sec. 3.1: 3x3 separable convs use "8 to 9 times less computation".

    reduction(C_out) = 9*C_out / (C_out + 9): it rises with C_out, stays below 9 for every C_out,
    and reaches 8 exactly at C_out = 72 (648/81). So the claim holds for C_out >= 72; MobileNet's
    first separable layer (C_out = 64) saves 576/73 = 7.89x.
    """
    reduction = formula_report("separable", "conv", convention=DEFAULT).ratio
    assert reduction is not None
    fn = lambdify_exact(reduction.reduction.subs(k, 3), [C_out])
    values = {c: fn(c) for c in range(1, 4097)}
    assert all(8 <= values[c] < 9 for c in range(72, 4097))
    assert all(values[c] < 8 for c in range(1, 72))
    assert values[72] == 8
    assert values[64] == Fraction(576, 73)
    assert values[1024] == Fraction(9216, 1033)  # 8.92x
    assert all(values[c] < values[c + 1] for c in range(1, 4096))


def test_count_bias_norm_corrects_params_and_flops_not_macs() -> None:
    """With a bias and BatchNorm after each stage (MobileNet Fig. 3; bias on the pointwise):

    separable params = C_in k^2 + C_in C_out + C_out (bias) + 2 C_in (BN after dw) + 2 C_out
    conv params      = C_in C_out k^2 + C_out (bias) + 2 C_out (BN).
    FLOPs (default): 2 per MAC, 1 per bias add, 2 per BN element: per output position
    separable 2 C_in k^2 + 2 C_in C_out + C_out + 2 C_in + 2 C_out; conv 2 C_in C_out k^2 + 3 C_out.
    """
    count = Count(bias=True, norm=True)

    def ratio(metric: str) -> sympy.Expr:
        r = formula_report(
            "separable", "conv", count=count, convention=DEFAULT, metric_name=metric
        ).ratio
        assert r is not None
        return r.ratio

    params = (C_in * k**2 + C_in * C_out + C_out + 2 * C_in + 2 * C_out) / (
        C_in * C_out * k**2 + 3 * C_out
    )
    flops = (2 * C_in * k**2 + 2 * C_in * C_out + 3 * C_out + 2 * C_in) / (
        2 * C_in * C_out * k**2 + 3 * C_out
    )
    assert sympy.simplify(ratio("params") - params) == 0
    assert sympy.simplify(ratio("flops") - flops) == 0
    assert ratio("macs") == 1 / C_out + 1 / k**2


# --- separable < standard ------------------------------------------------------------------------


def test_standard_minus_separable_macs_factorizes() -> None:
    """std - sep = C_in H W ((C_out - 1)(k^2 - 1) - 1): positive iff (C_out-1)(k^2-1) >= 2, i.e.
    (integers >= 1) iff k >= 2 and C_out >= 2, for every C_in, H, W."""
    sep = layer_formula("separable", Count(), DEFAULT).exprs["macs"]
    std = layer_formula("conv", Count(), DEFAULT).exprs["macs"]
    assert sympy.expand(std - sep - C_in * H * W * ((C_out - 1) * (k**2 - 1) - 1)) == 0


def test_standard_minus_separable_params_with_batchnorm_factorizes() -> None:
    """With BN counted, the separable layer has an extra BN (2*C_in) after its depthwise:
    std - sep = C_in ((C_out - 1)(k^2 - 1) - 3), so k = 2, C_out = 2 is a tie."""
    sep = layer_formula("separable", Count(norm=True), DEFAULT).exprs["params"]
    std = layer_formula("conv", Count(norm=True), DEFAULT).exprs["params"]
    assert sympy.expand(std - sep - C_in * ((C_out - 1) * (k**2 - 1) - 3)) == 0


@cache
def _compiled(kind: str, count: Count, metric: str) -> Callable[..., Number]:
    expr = layer_formula(kind, count, DEFAULT).exprs[metric]
    return lambdify_exact(expr, [C_in, C_out, k, H, W])


@given(
    c_in=st.integers(1, 2048),
    c_out=st.integers(1, 2048),
    kernel=st.integers(1, 11),
    h=st.integers(1, 300),
    w=st.integers(1, 300),
    count=st.sampled_from([Count(), Count(bias=True), Count(act=True), Count(True, True, True)]),
)
def test_separable_cheaper_exactly_when_k_and_c_out_at_least_2(
    c_in: int, c_out: int, kernel: int, h: int, w: int, count: Count
) -> None:
    """MACs: for any count (MACs never include bias/BN); params: without BN."""
    args = (c_in, c_out, kernel, h, w)
    cheaper = kernel >= 2 and c_out >= 2
    macs = _compiled("separable", count, "macs")(*args) < _compiled("conv", count, "macs")(*args)
    assert macs == cheaper
    if not count.norm:
        sep, std = _compiled("separable", count, "params"), _compiled("conv", count, "params")
        assert (sep(*args) < std(*args)) == cheaper


@given(c_in=st.integers(1, 2048), c_out=st.integers(1, 64), kernel=st.integers(1, 7))
def test_with_batchnorm_params_the_2x2_two_channel_case_ties(
    c_in: int, c_out: int, kernel: int
) -> None:
    """Params with BN counted: cheaper iff (C_out-1)(k^2-1) > 3, i.e. k >= 2 and C_out >= 2 except
    k = C_out = 2 (both 8 C_in + 4)."""
    count = Count(norm=True)
    args = (c_in, c_out, kernel, 1, 1)
    sep = _compiled("separable", count, "params")(*args)
    std = _compiled("conv", count, "params")(*args)
    assert (sep < std) == (kernel >= 2 and c_out >= 2 and (kernel, c_out) != (2, 2))
    if (kernel, c_out) == (2, 2):
        assert sep == std == 8 * c_in + 4  # 4 C_in + 2 C_in + 2 C_in + 4 = 8 C_in + 4


# --- every layer view == the exact count of a one-layer spec -------------------------------------


SYMBOL_RANGES = {"C_in": 64, "C_out": 64, "k": 7, "m": 3, "C_se": 16, "n_h": 4}
"""The largest value drawn for a symbol (12 for the others)."""


def _concrete(x: Any, subs: Mapping[sympy.Symbol, int]) -> Any:
    """An attribute or shape of a view with its symbols replaced, as a spec writes it."""
    if isinstance(x, tuple | list):
        return [_concrete(v, subs) for v in x]
    if isinstance(x, sympy.Expr):
        return int(x.subs(subs))
    return x


def _one_layer(kind: str, subs: Mapping[sympy.Symbol, int], count: Count) -> dict[str, Any]:
    """A spec whose last layer is the layer of ``kind``'s view, at the symbol values ``subs``."""
    attrs, inputs, _ = VIEWS[kind].build(count)
    declared = REGISTRY[kind].attr_names
    layer = {n: _concrete(v, subs) for n, v in attrs.items() if n in declared and v is not None}
    shapes = [_concrete(shape, subs) for shape in inputs]
    assert all(shape == shapes[0] for shape in shapes), "a view's inputs are one tensor"
    if len(shapes) > 1:
        layer["inputs"] = ["input"] * len(shapes)
    channels, *size = shapes[0]
    first = [] if size else [{"kind": "flatten"}]
    spec_input = {"channels": channels, "size": size or [1]}
    return {"input": spec_input, "layers": [*first, {"kind": kind, **layer}]}


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from(sorted(VIEWS)),
    count=st.sampled_from(COUNTS),
    values=st.fixed_dictionaries(
        {name: st.integers(1, SYMBOL_RANGES.get(name, 12)) for name in LAYER_SYMBOLS}
    ),
)
def test_layer_view_substituted_equals_exact_count(
    kind: str, count: Count, values: dict[str, int]
) -> None:
    count = count if VIEWS[kind].countable else Count()
    subs = {LAYER_SYMBOLS[n]: x for n, x in values.items()}
    try:
        graph = build_graph(spec_of(_one_layer(kind, subs, count)))
    except SpecError:
        assume(False)  # values the layer cannot take (e.g. heads that do not divide C_in)
    node = graph.nodes[-1]
    assert node.kind == kind
    assert list(node.output_shape) == _concrete(VIEWS[kind].build(count)[2], subs)
    symbolic = layer_cost(kind, count)
    for field in Cost._fields:
        expr = sympy.sympify(getattr(symbolic, field)).subs(subs)
        assert expr == getattr(node.cost, field), (kind, field)


def test_every_view_is_a_declared_kind() -> None:
    assert set(VIEWS) <= set(REGISTRY)
    assert {"conv", "depthwise", "pointwise", "separable", "linear", "batchnorm"} <= set(VIEWS)


def test_tidy_keeps_a_fraction_over_a_sum() -> None:
    expr = (C_in + 1) / (C_out + 3) + 0
    assert tidy(expr) == (C_in + 1) / (C_out + 3)
    assert tidy(1 / C_out + 1 / k**2) == 1 / C_out + 1 / k**2


# --- Relaxed numbers through the expression evaluator -------------------------------------------

A = var_symbol("alpha")
R = var_symbol("resolution")


@pytest.mark.parametrize(
    ("text", "value", "expr"),
    [
        ("int(alpha * 32)", 9, 32 * A),  # int(9.6) = 9; relaxed: 32 alpha
        ("round(alpha * 32)", 10, 32 * A),
        ("floor(alpha * 32)", 9, 32 * A),
        ("ceil(alpha * 32)", 10, 32 * A),
        # make_divisible(9.6, 8): 8 is below 90% of 9.6, so 16.
        ("make_divisible(alpha * 32, 8)", 16, 32 * A),
        ("alpha * 32 // 4", 2, 8 * A),  # floor(2.4); relaxed: exact division
        ("alpha * 32 / 4", Fraction(12, 5), 8 * A),
        ("alpha * 32 % 4", Fraction(8, 5), 0),  # x - 4*floor(x/4) with floor the identity
        ("(alpha * 10) ** 2", 9, 100 * A**2),
        ("max(alpha * 32, 10)", 10, 10),  # the branch taken at the point
        ("min(alpha * 32, 10)", Fraction(48, 5), 32 * A),
    ],
)
def test_relaxed_through_expressions(text: str, value: Number, expr: sympy.Expr) -> None:
    result = evaluate(text, {"alpha": Relaxed(Fraction(3, 10), A)})
    if isinstance(result, Relaxed):
        assert (result.value, result.expr) == (value, expr)
    else:
        assert (result, sympy.Integer(result)) == (value, expr)


def test_relaxed_comparisons_and_errors_follow_the_witness() -> None:
    x = Relaxed(Fraction(3, 10), A)
    assert evaluate("alpha < 1", {"alpha": x}) is True
    assert evaluate("1 if alpha * 10 == 3 else 2", {"alpha": x}) == 1
    with pytest.raises(ExprError, match="division by zero"):
        evaluate("1 / (alpha - 0.3)", {"alpha": x})
    assert make_divisible(x * 32, 8) == 16


def test_repeat_depending_on_a_symbolic_var_is_refused() -> None:
    spec = spec_of({
        "vars": {"depth": 2},
        "input": {"channels": 3, "size": 8},
        "layers": [{"kind": "conv", "out": 8, "kernel": 3, "repeat": "depth"}],
    })  # fmt: skip
    with pytest.raises(SepcalcError, match="depends on depth"):
        relaxed_graph(spec, ["depth"])
    with pytest.raises(SepcalcError, match="no var 'dpth'; did you mean 'depth'"):
        relaxed_graph(spec, ["dpth"])


def test_relaxed_make_divisible_network() -> None:
    """A MobileNetV2-style width: make_divisible(32 * alpha, 8) relaxes to 32 alpha."""
    spec = spec_of({
        "vars": {"alpha": 1.0},
        "input": {"channels": 3, "size": 32},
        "layers": [{"kind": "conv", "out": "make_divisible(32 * alpha, 8)", "kernel": 3}],
    })  # fmt: skip
    alpha = var_symbol("alpha")
    net = symbolic_network(spec, ["alpha"], DEFAULT, {"alpha": Fraction(3, 10)})
    # weights 3 * 9 * 32 alpha; MACs weights * 32 * 32 (stride 1, 'same').
    assert net.totals.exprs["params"] == 864 * alpha
    assert net.totals.exprs["macs"] == 884_736 * alpha
    # At alpha = 0.3 the exact width is make_divisible(9.6, 8) = 16: 3 * 9 * 16 weights.
    assert net.totals.exact["params"] == 432
    assert net.rounded_layers == ["conv1"]
    assert not net.totals.agrees(net.point)


# --- MobileNetV1 as a polynomial in alpha and resolution -----------------------------------------


@cache
def mobilenet_polynomials() -> dict[str, Callable[..., Number]]:
    net = symbolic_network(mobilenet(), ["alpha", "resolution"], DEFAULT)
    return {n: lambdify_exact(e, [A, R]) for n, e in net.totals.exprs.items()}


def test_mobilenet_v1_closed_forms() -> None:
    net = symbolic_network(mobilenet(), ["alpha", "resolution"], DEFAULT)
    # MACs: pointwise sum(C_in C_out (r/stride)^2) alpha^2 = 539,492,352 / 224^2 = 10752 alpha^2
    # r^2; conv1 27*32*(r/2)^2 + depthwise 9*sum(C (r/stride)^2) = 28,224,000 / 224^2 = 562.5
    # alpha r^2 (Table 2's Conv 3x3 and Conv DW rows); FC 1024 alpha * 1000.
    assert net.totals.exprs["macs"] == (
        10752 * A**2 * R**2 + sympy.Rational(1125, 2) * A * R**2 + 1_024_000 * A
    )
    # Params: pointwise weights 3,139,584 alpha^2 (Table 2: 74.59% of 4,209,088); linear in alpha:
    # FC 1,024,000 + depthwise 44,640 + conv1 864 + BN gamma/beta 21,888; the FC bias 1000.
    assert net.totals.exprs["params"] == 3_139_584 * A**2 + 1_091_392 * A + 1000
    assert net.symbols == ("alpha", "resolution")
    assert net.point == {"alpha": 1, "resolution": 224}
    assert net.rounded_layers == []


@pytest.mark.parametrize("alpha", ["1", "0.75", "0.5", "0.25"])
@pytest.mark.parametrize("resolution", [224, 192, 160, 128])
def test_mobilenet_v1_polynomial_equals_integer_counts_on_the_paper_grid(
    alpha: str, resolution: int
) -> None:
    """Tables 6 and 7: no rounding anywhere on the grid (alpha * 32 is an integer and 32 divides
    every resolution), so the relaxation is exact at all 16 points."""
    a = Fraction(alpha)
    poly = mobilenet_polynomials()
    total = build_graph(mobilenet(), {"alpha": a, "resolution": resolution}).total()
    hand = table1(alpha=a, resolution=resolution)
    assert poly["macs"](a, resolution) == total.macs == hand["macs"]
    assert poly["params"](a, resolution) == total.params
    assert poly["flops"](a, resolution) == DEFAULT.flops(total)


@settings(max_examples=60, deadline=None)
@given(j=st.integers(1, 64), t=st.integers(1, 16))
def test_mobilenet_v1_polynomial_exact_wherever_no_rounding(j: int, t: int) -> None:
    """alpha = j/32 makes every int(alpha * c) exact (c is a multiple of 32); resolution = 32 t
    makes every 'same' stride-2 size exact."""
    a, r = Fraction(j, 32), 32 * t
    total = build_graph(mobilenet(), {"alpha": a, "resolution": r}).total()
    poly = mobilenet_polynomials()
    assert (poly["macs"](a, r), poly["params"](a, r)) == (total.macs, total.params)


@settings(max_examples=25, deadline=None)
@given(p=st.integers(4, 200), r=st.integers(33, 300))
def test_relaxed_witness_is_the_exact_count_everywhere(p: int, r: int) -> None:
    """Rounding or not, the exact side of the relaxed build is the concrete build."""
    a = Fraction(p, 100)
    point = {"alpha": a, "resolution": r}
    net = symbolic_network(mobilenet(), ["alpha", "resolution"], DEFAULT, point)
    total = build_graph(mobilenet(), {"alpha": a, "resolution": r}).total()
    assert net.totals.exact == {
        "params": total.params, "macs": total.macs, "flops": DEFAULT.flops(total)
    }  # fmt: skip


def test_mobilenet_v1_rounding_off_the_grid_is_reported() -> None:
    # resolution 225: ceil(225/2) = 113, but the relaxation says 112.5.
    net = symbolic_network(mobilenet(), ["alpha", "resolution"], DEFAULT, {"resolution": 225})
    assert "conv1" in net.rounded_layers
    assert not net.totals.agrees(net.point)
    assert net.totals.exact["macs"] == build_graph(mobilenet(), {"resolution": 225}).total().macs


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.stem)
def test_relaxed_build_of_every_example_keeps_the_exact_counts(path: Any) -> None:
    """Every layer kind of the zoo goes through Relaxed numbers, and the exact side of the
    relaxed build is the concrete count (vars that set a repeat count are left out)."""
    from sepcalc.spec import load_spec

    loaded = load_spec(path)
    names = []
    for name, value in loaded.spec.vars.items():
        if isinstance(value, bool):
            continue
        try:
            relaxed_graph(loaded, [*names, name])
        except SepcalcError as exc:
            if "repeat" not in str(exc):
                raise
            continue
        names.append(name)
    if not names:
        pytest.skip("no var to relax")
    net = symbolic_network(loaded, names, DEFAULT)
    total = build_graph(loaded).total()
    assert net.totals.exact == {
        "params": total.params, "macs": total.macs, "flops": DEFAULT.flops(total)
    }  # fmt: skip
    if not net.rounded_layers:  # no layer rounds: the totals cannot either
        assert net.totals.agrees(net.point)


def test_boolean_var_is_refused() -> None:
    spec = spec_of({
        "vars": {"wide": True},
        "input": {"channels": 3, "size": 8},
        "layers": [{"kind": "conv", "out": "16 if wide else 8", "kernel": 3}],
    })  # fmt: skip
    with pytest.raises(SepcalcError, match="true/false var"):
        relaxed_graph(spec, ["wide"])


@pytest.mark.parametrize(
    "name", ["vgg16", "resnet50", "shufflenet_v2_x1_0", "mobilenet_v2"], ids=str
)
def test_padded_and_even_kernels_relax_exactly_at_224(name: str) -> None:
    # 3x3/s2 with padding 1 (ResNet, ShuffleNet) and 2x2/s2 max pools (VGG): 224 halves exactly
    # at every stride, so the relaxed sizes n/2 are the sizes and no layer rounds.
    from sepcalc.spec import load_spec

    loaded = load_spec(EXAMPLES / f"{name}.yaml")
    net = symbolic_network(loaded, ["resolution"], DEFAULT)
    assert list(net.rounded_layers) == []
    assert net.totals.agrees(net.point)
