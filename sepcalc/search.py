"""Inverse design: the smallest C_out or k for a target reduction, the largest net within a budget.

Layer level: the cost ratio separable / standard of one layer, built from the same formulas that
count every network (:func:`~sepcalc.formulas.conv.conv_cost`, ``depthwise_cost``,
``pointwise_cost``), solved in closed form with sympy for the smallest output channels or kernel
that meets a target, then confirmed with the exact integer formula. Targets are exact rationals
and inclusive: a boundary met exactly counts as met.

Network level: the largest value of a spec var (on a grid, or to a precision by bisection) for
which every budget holds, and the cost of every combination of a grid of vars. The spec is
loaded once; each point rebuilds the graph from the loaded spec. A grid whose vars split into
ones that change only channels (a width multiplier) and ones that change only spatial sizes (a
resolution) is evaluated from the graphs along each axis, because every layer's cost is a
product of a channel term and a spatial term; a sample of points is rebuilt to confirm it, and
any mismatch falls back to building every point.

sympy is imported only inside the layer-level functions.
"""

from __future__ import annotations

import functools
import itertools
import math
import operator
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from sepcalc.conventions import DEFAULT, Convention
from sepcalc.cost import Cost, Num
from sepcalc.errors import SepcalcError, SpecError
from sepcalc.expr import Number, reduce
from sepcalc.formulas.activation import activation_cost
from sepcalc.formulas.conv import conv_cost, depthwise_cost, pointwise_cost
from sepcalc.formulas.norm import batchnorm_cost
from sepcalc.graph import Graph, build_graph
from sepcalc.spec.loader import LoadedSpec

if TYPE_CHECKING:
    import sympy

# --------------------------------------------------------------------------------------------
# Targets

LAYER_METRICS = ("macs", "params", "flops")
COUNTABLE = ("bias", "norm", "act")
"""What ``--count`` can add to both layers, as the ``separable`` kind and ``sepcalc formula
--count`` have it: a bias on the standard conv and on the pointwise stage (the depthwise stage
has none), a BatchNorm and an activation after every stage."""


def parse_fraction(text: str, what: str = "value") -> Fraction:
    """An exact rational from ``'0.12'`` (3/25), ``'3/25'``, ``'1e-1'`` or ``'88%'`` (22/25).

    Parsed from the text itself, never through a float.
    """
    raw = text.strip()
    percent = raw.endswith("%")
    if percent:
        raw = raw[:-1].strip()
    try:
        value = Fraction(raw)
    except (ValueError, ZeroDivisionError):
        raise SepcalcError(
            f"{what}: '{text}' is not a number; use a decimal (0.12), a fraction (3/25) "
            "or a percentage (12%)"
        ) from None
    return value / 100 if percent else value


@dataclass(frozen=True)
class Target:
    """A target reduction, always held as the largest acceptable ratio separable / standard."""

    max_ratio: Fraction
    text: str
    """How the user asked for it, e.g. 'factor >= 10'."""

    def met(self, ratio: Fraction) -> bool:
        return ratio <= self.max_ratio


def make_target(
    max_ratio: str | None = None, min_factor: str | None = None, min_savings: str | None = None
) -> Target:
    """Exactly one of ratio <= R, factor (1/ratio) >= F, savings (1 - ratio) >= P."""
    given = [t for t in (max_ratio, min_factor, min_savings) if t is not None]
    if len(given) != 1:
        raise SepcalcError(
            "give exactly one target: --max-ratio R (e.g. 0.12), --min-factor F (e.g. 10) "
            "or --min-savings P (e.g. 88% or 0.88)"
        )
    if max_ratio is not None:
        r = parse_fraction(max_ratio, "--max-ratio")
        if r <= 0:
            raise SepcalcError(f"--max-ratio must be positive, got {max_ratio}")
        return Target(r, f"ratio <= {_q(r)}")
    if min_factor is not None:
        f = parse_fraction(min_factor, "--min-factor")
        if f <= 0:
            raise SepcalcError(f"--min-factor must be positive, got {min_factor}")
        return Target(1 / f, f"factor >= {_q(f)}")
    assert min_savings is not None
    p = parse_fraction(min_savings, "--min-savings")
    if not 0 <= p < 1:
        raise SepcalcError(
            f"--min-savings must be at least 0 and below 100% (e.g. 88% or 0.88), got {min_savings}"
        )
    return Target(1 - p, f"savings >= {_percent(p)}")


def _q(x: Fraction) -> str:
    """An exact rational as text: '10', '3/25'."""
    return str(reduce(x))


def _percent(x: Fraction) -> str:
    return f"{_q(x * 100)}%" if (x * 100).denominator == 1 else f"{float(x * 100):.4g}%"


# --------------------------------------------------------------------------------------------
# Layer level


@dataclass(frozen=True)
class LayerModel:
    """One k x k layer from C_in to C_out channels, as a separable pair and as a standard conv."""

    metric: str = "macs"
    convention: Convention = DEFAULT
    count: frozenset[str] = frozenset()
    c_in: int | None = None

    def __post_init__(self) -> None:
        if self.metric not in LAYER_METRICS:
            raise SepcalcError(
                f"unknown metric '{self.metric}'; choose one of: {', '.join(LAYER_METRICS)}"
            )
        unknown = sorted(self.count - set(COUNTABLE))
        if unknown:
            raise SepcalcError(
                f"--count {unknown[0]}: choose from {', '.join(COUNTABLE)} (comma-separated)"
            )
        if self.c_in is not None and self.c_in < 1:
            raise SepcalcError(f"--c-in must be positive, got {self.c_in}")

    def costs(self, c_in: Num, c_out: Num, k: Num, h: Num = 1, w: Num = 1) -> tuple[Cost, Cost]:
        """(separable, standard): depthwise k x k + pointwise 1x1 vs one k x k conv.

        Both produce the same C_out x H x W output from the same input (see COUNTABLE for what
        ``count`` adds).
        """
        bias, size, kernel = "bias" in self.count, (h, w), (k, k)
        sep = depthwise_cost(c_in, kernel, size) + pointwise_cost(c_in, c_out, size, bias=bias)
        std = conv_cost(c_in, c_out, kernel, size, bias=bias)
        mid, out = (c_in, h, w), (c_out, h, w)
        if "norm" in self.count:
            sep = sep + batchnorm_cost(mid) + batchnorm_cost(out)
            std = std + batchnorm_cost(out)
        if "act" in self.count:
            sep = sep + activation_cost(mid) + activation_cost(out)
            std = std + activation_cost(out)
        return sep, std

    def value(self, cost: Cost) -> Num:
        if self.metric == "macs":
            return cost.macs
        if self.metric == "params":
            return cost.params
        return self.convention.flops(cost)

    def ratio(self, c_out: int, k: int) -> Fraction:
        """The exact ratio from the integer formulas (H = W = 1: the ratio does not depend on
        them, see :meth:`closed_form`)."""
        sep, std = self.costs(self._c_in(c_out), c_out, k)
        return Fraction(self.value(sep), self.value(std))

    def _c_in(self, c_out: int) -> int:
        # When C_in is not given the ratio does not depend on it (checked in closed_form).
        return self.c_in if self.c_in is not None else c_out

    def closed_form(self) -> sympy.Expr:
        """The ratio in symbols C_out and k (C_in substituted when given), simplified.

        Raises a user error when it depends on C_in and no ``c_in`` was given.
        """
        return _closed_form(self)

    def _derive(self) -> sympy.Expr:
        import sympy

        from sepcalc import symbols as S

        sep, std = self.costs(S.C_in, S.C_out, S.k, S.H, S.W)
        ratio = sympy.cancel(self.value(sep) / self.value(std))
        if ratio.free_symbols & {S.H, S.W}:  # pragma: no cover (the formulas cancel H*W)
            raise AssertionError(f"ratio depends on the feature map size: {ratio}")
        if S.C_in in ratio.free_symbols:
            if self.c_in is None:
                raise SepcalcError(
                    f"counting {', '.join(sorted(self.count))} in {self.metric}, the ratio "
                    f"{_show(ratio)} depends on C_in; give it with --c-in N"
                )
            ratio = sympy.cancel(ratio.subs(S.C_in, self.c_in))
        return ratio

    def describe(self) -> str:
        """What the ratio compares, e.g. 'separable / standard MACs (no bias, norm or act)'."""
        what = {"macs": "MACs", "params": "parameters", "flops": "FLOPs"}[self.metric]
        counted = (
            "counting " + ", ".join(sorted(self.count))
            if self.count
            else "no bias, norm or activation"
        )
        if self.metric == "macs" and self.count:
            counted += ", which add no MACs"
        if self.metric == "flops":
            counted += f"; {self.convention.name} convention: {self.convention.description}"
        return f"separable / standard {what} ({counted})"


@functools.lru_cache(maxsize=64)
def _closed_form(model: LayerModel) -> sympy.Expr:
    return model._derive()


def _show(expr: sympy.Expr) -> str:
    """A ratio as people write it: '1/C_out + 1/k**2' rather than sympy's 'k**(-2) + 1/C_out'."""
    import sympy

    def term(t: sympy.Expr) -> str:
        num, den = sympy.fraction(t)
        num_s, den_s = str(sympy.sstr(num)), str(sympy.sstr(den))
        if den == 1:
            return num_s
        if isinstance(num, sympy.Add):
            num_s = f"({num_s})"
        if isinstance(den, sympy.Add | sympy.Mul):
            den_s = f"({den_s})"
        return f"{num_s}/{den_s}"

    unknown = next((n for n in ("C_out", "k") if _has(expr, n)), None)
    parts = sympy.Add.make_args(sympy.apart(expr, _symbol(unknown)) if unknown else expr)
    ordered = sorted(parts, key=lambda t: (t.is_number, sympy.default_sort_key(t)))
    text = " + ".join(term(t) for t in ordered)
    return str(text.replace("+ -", "- "))


def _symbol(name: str) -> sympy.Symbol:
    from sepcalc import symbols as S

    return S.LAYER_SYMBOLS[name]


def _has(expr: sympy.Expr, name: str) -> bool:
    return _symbol(name) in expr.free_symbols


@dataclass(frozen=True)
class Achieved:
    """A candidate value and the exact ratio it achieves."""

    value: int
    ratio: Fraction

    @property
    def factor(self) -> Fraction:
        return 1 / self.ratio

    @property
    def savings(self) -> Fraction:
        return 1 - self.ratio


@dataclass(frozen=True)
class LayerResult:
    unknown: str
    """'C_out' or 'k'."""
    fixed: Mapping[str, int]
    target: Target
    model: LayerModel
    closed_form: str
    """The ratio as a function of the unknown (the other values substituted)."""
    general_form: str
    """The ratio in all its symbols."""
    answer: Achieved | None
    next_fails: Achieved | None
    """The next smaller candidate (C_out - 1, or the previous allowed kernel); None when the
    answer is the smallest candidate there is."""
    reason: str | None = None
    bounds: Mapping[str, int | None] = field(default_factory=dict)

    @property
    def feasible(self) -> bool:
        return self.answer is not None


def _smallest_solution(
    expr: sympy.Expr, x: sympy.Symbol, low: int, high: int | None, odd: bool, strict: bool
) -> int | None:
    """The smallest (odd) integer x in [low, high] with expr <= 0 (< 0 when strict), or None.

    ``expr`` is a rational function of x. Its sign changes only at the real roots of its
    numerator and denominator (found exactly by sympy), so the answer is ``low`` or the first
    allowed integer at or above one of those roots: each candidate is tested exactly.
    """
    import sympy

    num, den = sympy.fraction(sympy.together(expr))
    edges = set()
    for part in (num, den):
        if x in part.free_symbols:
            edges |= {r for r in sympy.roots(sympy.Poly(part, x)) if r.is_real}
    candidates = {low} | {int(sympy.ceiling(r)) + d for r in edges for d in (0, 1)}
    for c in sorted(v for v in candidates if v >= low and (high is None or v <= high)):
        if odd and c % 2 == 0:
            continue
        value = expr.subs(x, c)
        if value < 0 or (value == 0 and not strict):
            return c
    return None


def _solve(
    model: LayerModel,
    target: Target,
    unknown: str,
    fixed: Mapping[str, int],
    low: int,
    high: int | None,
    odd: bool,
) -> int | None:
    """Closed form: the smallest integer in [low, high] with ratio - t <= 0, via sympy."""
    import sympy

    ratio = model.closed_form().subs({_symbol(name): v for name, v in fixed.items()})
    t = sympy.Rational(target.max_ratio.numerator, target.max_ratio.denominator)
    return _smallest_solution(ratio - t, _symbol(unknown), low, high, odd, strict=False)


def _limit_solve(
    model: LayerModel,
    target: Target,
    vary: str,
    to_infinity: str,
    low: int,
    high: int | None,
    odd: bool,
) -> int | None:
    """The smallest (odd) ``vary`` in [low, high] for which the ratio's limit as
    ``to_infinity`` grows is below the target, i.e. for which some value of it can work."""
    import sympy

    limit = sympy.limit(model.closed_form(), _symbol(to_infinity), sympy.oo)
    t = sympy.Rational(target.max_ratio.numerator, target.max_ratio.denominator)
    return _smallest_solution(limit - t, _symbol(vary), low, high, odd, strict=True)


def _confirm(
    model: LayerModel,
    target: Target,
    unknown: str,
    fixed: Mapping[str, int],
    answer: int,
    low: int,
    step: int,
) -> tuple[Achieved, Achieved | None]:
    """Check the closed-form answer with the integer formula: it meets the target and the next
    smaller candidate does not."""

    def at(v: int) -> Achieved:
        c_out = v if unknown == "C_out" else fixed["C_out"]
        k = v if unknown == "k" else fixed["k"]
        return Achieved(v, model.ratio(c_out, k))

    found = at(answer)
    before = at(answer - step) if answer - step >= low else None
    if not target.met(found.ratio) or (before is not None and target.met(before.ratio)):
        raise AssertionError(  # pragma: no cover (the closed form and the integers disagree)
            f"closed form gave {unknown}={answer} but the integer formula says otherwise"
        )
    return found, before


def _forms(model: LayerModel, unknown: str, fixed: Mapping[str, int]) -> tuple[str, str]:
    ratio = model.closed_form()
    values = {_symbol(name): v for name, v in fixed.items()}
    return _show(ratio.subs(values)), _show(ratio)


def search_channels(
    model: LayerModel,
    k: int,
    target: Target,
    max_c_out: int | None = None,
    max_k: int | None = None,
    odd: bool = False,
) -> LayerResult:
    """The smallest C_out for which the separable layer meets the target at kernel ``k``.

    ``max_k`` and ``odd`` only shape the suggestion when no C_out can do it.
    """
    _check_positive(k=k, max_c_out=max_c_out, max_k=max_k)
    fixed = {"k": k}
    specific, general = _forms(model, "C_out", fixed)
    bounds = {"max_c_out": max_c_out}
    answer = _solve(model, target, "C_out", fixed, 1, max_c_out, odd=False)
    if answer is not None:
        found, before = _confirm(model, target, "C_out", fixed, answer, 1, 1)
        return LayerResult(
            "C_out", fixed, target, model, specific, general, found, before, bounds=bounds
        )
    reason = _channels_infeasible(model, k, target, specific, max_c_out, max_k, odd)
    return LayerResult("C_out", fixed, target, model, specific, general, None, None, reason, bounds)


def _channels_infeasible(
    model: LayerModel,
    k: int,
    target: Target,
    specific: str,
    max_c_out: int | None,
    max_k: int | None,
    odd: bool,
) -> str:
    import sympy

    ratio = model.closed_form().subs(_symbol("k"), k)
    limit = sympy.limit(ratio, _symbol("C_out"), sympy.oo)
    lim = Fraction(int(sympy.numer(limit)), int(sympy.denom(limit)))
    if lim >= target.max_ratio:
        why = (
            f"with k={k} the ratio {specific} is above {_q(lim)} for every C_out (a factor "
            f"below {_num(1 / lim)}x), so no C_out reaches {target.text}"
        )
    else:
        need = _solve(model, target, "C_out", {"k": k}, 1, None, odd=False)
        why = f"with k={k} it needs C_out >= {need}, above --max-c-out {max_c_out}"
    # What would work: the smallest larger kernel (odd if asked, within --max-k) for which some
    # C_out (within --max-c-out) meets the target, and the C_out it needs there. The ratio falls
    # as k grows, so with --max-c-out that is a kernel search at C_out = max_c_out.
    first = k + 1 + (1 if odd and (k + 1) % 2 == 0 else 0)
    if max_c_out is not None:
        k2 = _solve(model, target, "k", {"C_out": max_c_out}, first, max_k, odd)
    else:
        k2 = _limit_solve(model, target, "k", "C_out", first, max_k, odd)
    if k2 is None:
        within = f" up to --max-k {max_k}" if max_k is not None else ""
        return f"{why}; no {'odd ' if odd else ''}kernel{within} reaches it either"
    c2 = _solve(model, target, "C_out", {"k": k2}, 1, max_c_out, odd=False)
    assert c2 is not None
    r2 = model.ratio(c2, k2)
    return (
        f"{why}. The smallest {'odd ' if odd else ''}kernel that can is k={k2}, with "
        f"C_out >= {c2} (ratio {_q(r2)}, {_num(1 / r2)}x)"
    )


def search_kernel(
    model: LayerModel,
    c_out: int,
    target: Target,
    max_k: int | None = None,
    odd: bool = False,
    max_c_out: int | None = None,
) -> LayerResult:
    """The smallest kernel size (odd with ``odd``) at which the separable layer with ``c_out``
    output channels meets the target. ``max_c_out`` only shapes the suggestion."""
    _check_positive(c_out=c_out, max_k=max_k, max_c_out=max_c_out)
    fixed = {"C_out": c_out}
    specific, general = _forms(model, "k", fixed)
    bounds = {"max_k": max_k}
    low = 1
    answer = _solve(model, target, "k", fixed, low, max_k, odd)
    if answer is not None:
        found, before = _confirm(model, target, "k", fixed, answer, low, 2 if odd else 1)
        return LayerResult(
            "k", fixed, target, model, specific, general, found, before, bounds=bounds
        )
    reason = _kernel_infeasible(model, c_out, target, specific, max_k, odd, max_c_out)
    return LayerResult("k", fixed, target, model, specific, general, None, None, reason, bounds)


def _kernel_infeasible(
    model: LayerModel,
    c_out: int,
    target: Target,
    specific: str,
    max_k: int | None,
    odd: bool,
    max_c_out: int | None,
) -> str:
    import sympy

    ratio = model.closed_form().subs(_symbol("C_out"), c_out)
    limit = sympy.limit(ratio, _symbol("k"), sympy.oo)
    lim = Fraction(int(sympy.numer(limit)), int(sympy.denom(limit)))
    if lim >= target.max_ratio:
        why = (
            f"with C_out={c_out} the ratio {specific} is above {_q(lim)} for every kernel (a "
            f"factor below {_num(1 / lim)}x), so no k reaches {target.text}"
        )
    else:
        need = _solve(model, target, "k", {"C_out": c_out}, 1, None, odd)
        why = f"with C_out={c_out} it needs k >= {need}, above --max-k {max_k}"
    # What would work: the smallest larger C_out for which some allowed kernel meets the target.
    top_k = None if max_k is None else (max_k - 1 if odd and max_k % 2 == 0 else max_k)
    if top_k is not None:
        c2 = _solve(model, target, "C_out", {"k": top_k}, c_out + 1, max_c_out, odd=False)
    else:
        c2 = _limit_solve(model, target, "C_out", "k", c_out + 1, max_c_out, odd=False)
    if c2 is None:
        with_k = f" with k <= {top_k}" if top_k is not None else ""
        up_to = f" up to --max-c-out {max_c_out}" if max_c_out is not None else ""
        return f"{why}; no C_out{up_to} reaches it{with_k} either"
    k2 = _solve(model, target, "k", {"C_out": c2}, 1, max_k, odd)
    assert k2 is not None
    r2 = model.ratio(c2, k2)
    return (
        f"{why}. The smallest C_out that can is {c2}, with k >= {k2} "
        f"(ratio {_q(r2)}, {_num(1 / r2)}x)"
    )


def _check_positive(**values: int | None) -> None:
    for name, v in values.items():
        if v is not None and v < 1:
            raise SepcalcError(f"--{name.replace('_', '-')} must be positive, got {v}")


def _num(x: Fraction) -> str:
    """A rational as a short decimal for prose: 9, 8.41, 0.1111."""
    return f"{float(x):.4g}"


# --------------------------------------------------------------------------------------------
# Network level

NET_METRICS = ("macs", "params", "flops", "activations")


@dataclass(frozen=True)
class Totals:
    macs: int
    params: int
    flops: int
    activations: int

    def get(self, metric: str) -> int:
        value: int = getattr(self, metric)
        return value

    def as_dict(self) -> dict[str, int]:
        return {m: self.get(m) for m in NET_METRICS}


@dataclass(frozen=True)
class Limit:
    metric: str
    limit: Number
    """Inclusive: a total equal to the limit is within budget."""

    def holds(self, totals: Totals) -> bool:
        return totals.get(self.metric) <= self.limit


def check_budgets(budgets: Sequence[Limit]) -> None:
    if not budgets:
        raise SepcalcError(
            "give at least one budget: --max-macs, --max-params, --max-flops or "
            "--max-activations (SI suffixes allowed: 300M, 4.2M, 1.5G)"
        )
    for b in budgets:
        if b.metric not in NET_METRICS:  # pragma: no cover (the CLI builds these)
            raise SepcalcError(f"unknown budget metric '{b.metric}'")


def within(totals: Totals | None, budgets: Sequence[Limit]) -> bool:
    return totals is not None and all(b.holds(totals) for b in budgets)


def totals_of(cost: Cost, convention: Convention) -> Totals:
    return Totals(cost.macs, cost.params, convention.flops(cost), cost.activations)


def _part_costs(graph: Graph) -> list[Cost]:
    """The cost of every part of every node, in graph order."""
    return [cost for node in graph.nodes for _, cost in node.parts]


class Evaluator:
    """Costs of one loaded spec at any var values (the YAML is parsed once, by the caller)."""

    def __init__(
        self,
        loaded: LoadedSpec,
        convention: Convention = DEFAULT,
        fixed: Mapping[str, Number] | None = None,
    ) -> None:
        self.loaded = loaded
        self.convention = convention
        self.fixed = dict(fixed or {})
        self.builds = 0
        self.base = build_graph(loaded, self.fixed)
        """The graph at the spec's own values (with ``fixed`` applied); errors surface here."""

    def default(self, name: str) -> Number:
        if name not in self.base.vars:
            known = ", ".join(self.base.vars) or "none"
            from sepcalc.errors import did_you_mean

            raise SepcalcError(
                f"the spec has no var '{name}'{did_you_mean(name, self.base.vars)} "
                f"(its vars: {known})"
            )
        value: Number = self.base.vars[name]
        return value

    def default_step(self, name: str) -> Number:
        """1 for a var written as an integer (``resolution: 224``), else 0.01 (``alpha: 1.0``)."""
        raw = self.loaded.spec.vars.get(name)
        written_int = isinstance(raw, int) and not isinstance(raw, bool)
        return 1 if written_int and isinstance(self.default(name), int) else Fraction(1, 100)

    def graph(self, point: Mapping[str, Number]) -> Graph:
        self.builds += 1
        return build_graph(self.loaded, {**self.fixed, **point})

    def totals(self, point: Mapping[str, Number]) -> Totals:
        """Exact totals at ``point``; raises SpecError when the spec cannot be built there."""
        return totals_of(self.graph(point).total(), self.convention)


# ----- one var


@dataclass(frozen=True)
class Evaluated:
    value: Number
    totals: Totals | None
    error: str | None = None
    """Why the spec cannot be built at this value (e.g. a channel count rounds to 0)."""


@dataclass(frozen=True)
class VarResult:
    var: str
    budgets: tuple[Limit, ...]
    method: str
    """'grid' (every value evaluated) or 'bisection' (relies on monotonicity)."""
    answer: Evaluated | None
    next_fails: Evaluated | None
    """The next value up from the answer (it breaks a budget or cannot be built); None when the
    answer is the top of the range."""
    reason: str | None
    notes: tuple[str, ...]
    evaluated: tuple[Evaluated, ...]

    @property
    def feasible(self) -> bool:
        return self.answer is not None


def grid_values(low: Number, high: Number, step: Number) -> list[Number]:
    """low, low + step, ... up to high inclusive, exactly."""
    if step <= 0:
        raise SepcalcError(f"step must be positive, got {step}")
    if high < low:
        raise SepcalcError(f"empty range {low}:{high}")
    n = int((Fraction(high) - Fraction(low)) / Fraction(step))
    return [reduce(Fraction(low) + i * Fraction(step)) for i in range(n + 1)]


MAX_POINTS = 100_000


def search_var(
    evaluator: Evaluator,
    var: str,
    budgets: Sequence[Limit],
    low: Number,
    high: Number,
    step: Number | None = None,
    precision: Number | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> VarResult:
    """The largest value of ``var`` in [low, high] for which every budget holds.

    With ``step``, every grid value is evaluated, so the answer never depends on monotonicity
    (notes say where cost is not monotone, and which smaller values fail). With ``precision``,
    bisection over multiples of it: a few evaluations, and an answer that assumes cost grows
    with the var (the evaluated points are checked for it).
    """
    check_budgets(budgets)
    evaluator.default(var)
    if (step is None) == (precision is None):
        raise SepcalcError("give either --step (evaluate every grid value) or --precision")
    values = grid_values(low, high, step if step is not None else precision)  # type: ignore[arg-type]
    if len(values) > MAX_POINTS:
        raise SepcalcError(
            f"{len(values):,} values from {low} to {high}: use a larger step, or --precision "
            "to bisect"
        )
    cache: dict[int, Evaluated] = {}

    def at(i: int) -> Evaluated:
        if i not in cache:
            try:
                cache[i] = Evaluated(values[i], evaluator.totals({var: values[i]}))
            except SpecError as exc:
                first = exc.diagnostics[0]
                cache[i] = Evaluated(values[i], None, first.message)
            if progress is not None:
                progress(len(cache), len(values) if step is not None else 0)
        return cache[i]

    def ok(i: int) -> bool:
        return within(at(i).totals, budgets)

    notes: list[str] = []
    if step is not None:
        method = "grid"
        for i in range(len(values)):
            at(i)
        good = [i for i in range(len(values)) if ok(i)]
        best = good[-1] if good else None
    else:
        method = "bisection"
        best = _bisect(len(values), ok)
        notes.append(
            "bisection assumes every budgeted total grows with the var; "
            f"{len(cache)} of {len(values)} values were evaluated"
        )
    evaluated = tuple(cache[i] for i in sorted(cache))
    notes += _monotonicity_notes(var, evaluated, budgets, method)
    if best is None:
        return VarResult(
            var,
            tuple(budgets),
            method,
            None,
            None,
            _var_infeasible(var, evaluated, budgets),
            tuple(notes),
            evaluated,
        )
    if method == "grid":
        holes = [e.value for e in evaluated[:best] if not within(e.totals, budgets)]
        built = [v for v in holes if cache[values.index(v)].totals is not None]
        if built:
            notes.append(
                f"{len(built)} smaller value(s) break a budget although {_fmt(values[best])} "
                f"holds (cost is not monotone in {var}): {', '.join(_fmt(v) for v in built[:8])}"
                + (" ..." if len(built) > 8 else "")
            )
    nxt = at(best + 1) if best + 1 < len(values) else None
    if nxt is None:
        notes.append(f"the whole range up to {_fmt(values[-1])} is within budget; widen --range")
    return VarResult(
        var,
        tuple(budgets),
        method,
        cache[best],
        nxt,
        None,
        tuple(notes),
        tuple(cache[i] for i in sorted(cache)),
    )


def _bisect(n: int, ok: Callable[[int], bool]) -> int | None:
    """The largest index whose value passes, assuming passes are a prefix: O(log n) probes.

    Values at the bottom may not build at all (a channel count rounds to 0), so the first
    passing index is found by galloping up from 0 (0, 1, 3, 7, ...) before bisecting.
    """
    if ok(n - 1):
        return n - 1
    lo, gap = 0, 1
    while not ok(lo):
        lo += gap
        gap *= 2
        if lo >= n - 1:
            return None
    hi = n - 1  # ok(lo) and not ok(hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ok(mid):
            lo = mid
        else:
            hi = mid
    return lo


def _monotonicity_notes(
    var: str, evaluated: Sequence[Evaluated], budgets: Sequence[Limit], method: str
) -> list[str]:
    notes = []
    built = [e for e in evaluated if e.totals is not None]
    for metric in dict.fromkeys(b.metric for b in budgets):
        for a, b in itertools.pairwise(built):
            assert a.totals is not None
            assert b.totals is not None
            if b.totals.get(metric) < a.totals.get(metric):
                relies = (
                    "; the bisection answer relies on monotonicity that does not hold: "
                    "use --step to evaluate every value"
                    if method == "bisection"
                    else ""
                )
                notes.append(
                    f"{metric} is not monotone in {var}: {a.totals.get(metric):,} at "
                    f"{_fmt(a.value)} but {b.totals.get(metric):,} at {_fmt(b.value)}{relies}"
                )
                break
    return notes


def _var_infeasible(var: str, evaluated: Sequence[Evaluated], budgets: Sequence[Limit]) -> str:
    built = [e for e in evaluated if e.totals is not None]
    if not built:
        e = evaluated[0]
        return f"the spec cannot be built at {var}={_fmt(e.value)}: {e.error}"
    e = built[0]
    assert e.totals is not None
    broken = [
        f"{b.metric} {e.totals.get(b.metric):,} > {b.limit:,}"
        for b in budgets
        if not b.holds(e.totals)
    ]
    return (
        f"even the smallest buildable value {var}={_fmt(e.value)} breaks the budget "
        f"({'; '.join(broken)}); lower --range or raise the budget"
    )


def _fmt(value: Number) -> str:
    """An exact number for prose: 0.75, 224, 1/3."""
    if isinstance(value, Fraction):
        as_float = float(value)
        if Fraction(repr(as_float)) == value:
            return repr(as_float)
        return str(value)
    return str(value)


# ----- a grid of vars


@dataclass(frozen=True)
class Axis:
    name: str
    values: tuple[Number, ...]


def parse_axis(text: str) -> Axis:
    """``alpha=0.25:1.0:0.05`` (inclusive range), ``resolution=128,160,224`` or ``alpha=0.5``."""
    name, sep, spec = text.partition("=")
    name = name.strip()
    if not sep or not name or not spec.strip():
        raise SepcalcError(
            f"--var '{text}': expected NAME=LOW:HIGH:STEP or NAME=V1,V2,..., "
            "e.g. --var alpha=0.25:1.0:0.05"
        )
    from sepcalc.expr import ExprError, exact

    try:
        if ":" in spec:
            parts = spec.split(":")
            if len(parts) != 3:
                raise SepcalcError(f"--var {name}: expected LOW:HIGH:STEP, got '{spec}'")
            low, high, step = (exact(p) for p in parts)
            values = grid_values(low, high, step)
        else:
            values = [exact(v) for v in spec.split(",")]
    except ExprError as exc:
        raise SepcalcError(f"--var {name}: {exc}") from None
    return Axis(name, tuple(dict.fromkeys(values)))


@dataclass(frozen=True)
class GridResult:
    axes: tuple[Axis, ...]
    budgets: tuple[Limit, ...]
    points: tuple[Mapping[str, Number], ...]
    totals: tuple[Totals | None, ...]
    errors: tuple[str | None, ...]
    within: tuple[bool, ...]
    front: tuple[int, ...]
    """Indices of the Pareto front, best first by its first key."""
    pareto: tuple[str, str]
    method: str
    """'factorized' (axis builds, confirmed by a sample) or 'exact' (every point built)."""
    builds: int
    notes: tuple[str, ...] = ()


PARETO_DEFAULT = ("min:macs", "max:params")
"""The fewest MACs for the parameters (capacity) they buy."""


def parse_pareto(text: str | None, var_names: Sequence[str]) -> tuple[str, str]:
    """``'macs,params'``: each a metric or a grid var, optionally 'min:' or 'max:' (default max:
    the biggest configurations that still fit the budget)."""
    if text is None:
        return PARETO_DEFAULT
    keys = [k.strip() for k in text.split(",")]
    if len(keys) != 2:
        raise SepcalcError(f"--pareto '{text}': expected two keys, e.g. --pareto macs,params")
    allowed = [*NET_METRICS, *var_names]
    for key in keys:
        bare = key.removeprefix("min:").removeprefix("max:")
        if bare not in allowed:
            from sepcalc.errors import did_you_mean

            raise SepcalcError(
                f"--pareto: unknown key '{bare}'{did_you_mean(bare, allowed)}; choose from "
                f"{', '.join(allowed)} (prefix min: to prefer smaller)"
            )
    return keys[0], keys[1]


def _key(point: Mapping[str, Number], totals: Totals, key: str) -> Number:
    bare = key.removeprefix("min:").removeprefix("max:")
    value = totals.get(bare) if bare in NET_METRICS else point[bare]
    return -value if key.startswith("min:") else value


def pareto_front(
    points: Sequence[Mapping[str, Number]],
    totals: Sequence[Totals | None],
    eligible: Sequence[bool],
    keys: tuple[str, str],
) -> list[int]:
    """Indices not dominated on the two keys (larger is better unless prefixed min:), among the
    eligible points; ties on both keys keep the first point."""
    scored = [
        (_key(p, t, keys[0]), _key(p, t, keys[1]), i)
        for i, (p, t, ok) in enumerate(zip(points, totals, eligible, strict=True))
        if ok and t is not None
    ]
    scored.sort(key=lambda s: (-s[0], -s[1], s[2]))
    front, best_y = [], None
    for _, y, i in scored:
        if best_y is None or y > best_y:
            front.append(i)
            best_y = y
    return front


def grid_search(
    evaluator: Evaluator,
    axes: Sequence[Axis],
    budgets: Sequence[Limit] = (),
    pareto: tuple[str, str] = PARETO_DEFAULT,
    exact: bool = False,
    progress: Callable[[int, int], None] | None = None,
    sample: int = 24,
) -> GridResult:
    """Every combination of the axes' values, its totals, within-budget marks, and the front."""
    names = [a.name for a in axes]
    if len(set(names)) != len(names):
        raise SepcalcError("each --var may be given once")
    for name in names:
        evaluator.default(name)
    count = 1
    for a in axes:
        count *= len(a.values)
    if count > MAX_POINTS:
        raise SepcalcError(f"{count:,} combinations; at most {MAX_POINTS:,} (use larger steps)")
    points = [
        dict(zip(names, combo, strict=True))
        for combo in itertools.product(*(a.values for a in axes))
    ]
    start = evaluator.builds
    notes: list[str] = []
    built: dict[tuple[Number, ...], Totals] = {}
    fast = None if exact else _factorized(evaluator, axes, points, sample, built)
    if fast is not None:
        totals: list[Totals | None] = list(fast)
        errors: list[str | None] = [None] * len(points)
        method = "factorized"
    else:
        if not exact and len(axes) > 1:
            notes.append(
                "no var changes only channels while another changes only sizes (or a point "
                "does not build): every point was built"
            )
        totals, errors, method = [], [], "exact"
        for n, point in enumerate(points, 1):
            try:
                known = built.get(tuple(point[name] for name in names))
                totals.append(known if known is not None else evaluator.totals(point))
                errors.append(None)
            except SpecError as exc:
                totals.append(None)
                errors.append(exc.diagnostics[0].message)
            if progress is not None:
                progress(n, len(points))
    ok = [within(t, budgets) for t in totals]
    front = pareto_front(points, totals, ok, pareto)
    if method == "factorized":
        # The answer a user acts on is confirmed by building it.
        for i in front:
            known = built.get(tuple(points[i][name] for name in names))
            if (known or evaluator.totals(points[i])) != totals[
                i
            ]:  # pragma: no cover (see the sample)
                return grid_search(evaluator, axes, budgets, pareto, True, progress, sample)
    return GridResult(
        tuple(axes),
        tuple(budgets),
        tuple(points),
        tuple(totals),
        tuple(errors),
        tuple(ok),
        tuple(front),
        pareto,
        method,
        evaluator.builds - start,
        tuple(notes),
    )


def _signature(graph: Graph) -> tuple[tuple[Any, ...], tuple[Any, ...], tuple[Any, ...]]:
    """(structure, spatial sizes, channels) of a graph, to see what a var changes."""
    shapes = [graph.input_shape, *(n.output_shape for n in graph.nodes)]
    structure = tuple((n.name, n.kind, tuple(b for b, _ in n.parts)) for n in graph.nodes)
    spatial = tuple(s[1:] for s in shapes if len(s) > 1)
    channels = tuple(s[0] for s in shapes if len(s) > 1)
    return structure, spatial, channels


def _factorized(
    evaluator: Evaluator,
    axes: Sequence[Axis],
    points: Sequence[Mapping[str, Number]],
    sample: int,
    built: dict[tuple[Number, ...], Totals],
) -> list[Totals] | None:
    """Totals of every point from the graphs along groups of axes, or None if that is not
    sound here. Every graph built on the way has its exact totals put in ``built``.

    Group A changes channels (and attributes) but no spatial size; group B changes spatial sizes
    but no channel count. Every field of a layer part's cost (weight, MACs, each op count) is then
    a product of a channel term and a size term, so at (a, b) it is f(a, b0) * f(a0, b) / f(a0, b0):
    |A| + |B| builds instead of |A| * |B|. (Sums of fields are not products: a squeeze-excite's
    FLOPs add channel-only FC work to per-pixel scaling, so metrics are summed from fields.)
    Vars that change the layers themselves (a depth multiplier) or both channels and sizes form
    an outer loop, with the product trick inside each of their combinations. Refused (None) when
    there is no A or no B var, a point does not build, the layers differ inside a combination,
    or a sampled point rebuilt exactly disagrees.
    """
    if len(axes) < 2:
        return None
    names = [a.name for a in axes]
    graphs: dict[tuple[Number, ...], Graph] = {}

    def build(point: Mapping[str, Number]) -> Graph | None:
        key = tuple(point[n] for n in names)
        if key not in graphs:
            try:
                graphs[key] = evaluator.graph(point)
            except SpecError:
                return None
            built[key] = totals_of(graphs[key].total(), evaluator.convention)
        return graphs[key]

    base = {a.name: a.values[0] for a in axes}
    g0 = build(base)
    if g0 is None:
        return None
    sig0 = _signature(g0)
    outer_axes: list[Axis] = []
    channel_axes: list[Axis] = []
    size_axes: list[Axis] = []
    for axis in axes:
        structure = spatial = channels = False
        for value in axis.values[1:]:
            g = build({**base, axis.name: value})
            if g is None:
                return None
            sig = _signature(g)
            structure |= sig[0] != sig0[0]
            spatial |= sig[1] != sig0[1]
            channels |= sig[2] != sig0[2]
        if structure or (spatial and channels):
            outer_axes.append(axis)
        else:
            (size_axes if spatial else channel_axes).append(axis)
    if not channel_axes or not size_axes:
        return None
    a_combos = list(itertools.product(*(a.values for a in channel_axes)))
    b_combos = list(itertools.product(*(a.values for a in size_axes)))
    by_point: dict[tuple[Any, ...], Totals] = {}
    for outer in itertools.product(*(a.values for a in outer_axes)):
        fixed = dict(zip((a.name for a in outer_axes), outer, strict=True))
        a_base = {**fixed, **{a.name: a.values[0] for a in channel_axes}}
        b_base = {**fixed, **{a.name: a.values[0] for a in size_axes}}
        pivot_graph = build({**a_base, **b_base})
        if pivot_graph is None:
            return None
        pivot_sig = _signature(pivot_graph)
        rows: list[list[list[Cost]]] = [[], []]
        for side, (combos, group, other, same) in enumerate(
            ((a_combos, channel_axes, b_base, 1), (b_combos, size_axes, a_base, 2))
        ):
            for combo in combos:
                g = build({**other, **dict(zip((a.name for a in group), combo, strict=True))})
                if g is None:
                    return None
                sig = _signature(g)
                if sig[0] != pivot_sig[0] or sig[same] != pivot_sig[same]:
                    return None
                rows[side].append(_part_costs(g))
        combined = _combine(rows[0], rows[1], _part_costs(pivot_graph))
        if combined is None:
            return None
        for i, a in enumerate(a_combos):
            for j, b in enumerate(b_combos):
                by_point[(outer, a, b)] = totals_of(
                    combined[i * len(b_combos) + j], evaluator.convention
                )
    result = [
        by_point[
            (
                tuple(p[a.name] for a in outer_axes),
                tuple(p[a.name] for a in channel_axes),
                tuple(p[a.name] for a in size_axes),
            )
        ]
        for p in points
    ]
    # Every graph built on the way must agree, and so must a sample of points rebuilt exactly.
    index = {tuple(p[n] for n in names): i for i, p in enumerate(points)}
    if any(result[index[key]] != t for key, t in built.items()):
        return None
    rng = random.Random(0)
    for i in rng.sample(range(len(points)), min(sample, len(points))):
        key = tuple(points[i][n] for n in names)
        if key not in built and build(points[i]) is None:
            return None
        if built[key] != result[i]:
            return None
    return result


def _combine(
    u: Sequence[Sequence[Cost]], v: Sequence[Sequence[Cost]], pivot: Sequence[Cost]
) -> list[Cost] | None:
    """Sum over parts of u[a][n] * v[b][n] / pivot[n] for every (a, b), exactly, per field.

    Parts whose size profile v[.][n] / pivot[n] is the same (one stage of the network) are summed
    first, and the stages are put over a common denominator, so a point costs one dot product
    of a few ints per field, not one division per layer. None when a field is not a product (the
    sum leaves a remainder, or a zero pivot hides a value).
    """
    n_parts, n_a, n_b = len(pivot), len(u), len(v)
    per_field: list[list[int]] = []
    for m in range(len(Cost._fields)):
        groups: dict[tuple[int, tuple[int, ...]], list[int]] = {}
        for n in range(n_parts):
            p = pivot[n][m]
            col = [v[j][n][m] for j in range(n_b)]
            row = [u[i][n][m] for i in range(n_a)]
            if p == 0:
                if any(col) or any(row):
                    return None
                continue
            g = math.gcd(p, *col)
            acc = groups.setdefault((p // g, tuple(c // g for c in col)), [0] * n_a)
            for i in range(n_a):
                acc[i] += row[i]
        if not groups:
            per_field.append([0] * (n_a * n_b))
            continue
        den = math.lcm(*(d for d, _ in groups))
        keys = list(groups)
        # columns[j]: each stage's size factor at b_j over the common denominator
        columns = [[col[j] * (den // d) for d, col in keys] for j in range(n_b)]
        rows = [[groups[key][i] for key in keys] for i in range(n_a)]
        values = []
        for accs in rows:
            for column in columns:
                q, r = divmod(sum(map(operator.mul, accs, column)), den)
                if r:
                    return None
                values.append(q)
        per_field.append(values)
    return [Cost(*fields) for fields in zip(*per_field, strict=True)]
