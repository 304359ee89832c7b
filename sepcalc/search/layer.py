"""The smallest C_out or kernel at which a depthwise separable layer meets a target reduction.

The ratio separable / standard comes from the registered ``separable`` and ``conv`` adapters,
set up as ``sepcalc formula`` sets them up (:func:`sepcalc.symbolic.view`): the same code that
counts every network, called with sympy symbols for the closed form and with ints to confirm an
answer. The target ``ratio - t <= 0`` is solved exactly from the real roots of the closed form's
numerator and denominator; the answer and the next smaller candidate are then checked with the
integer formula.

sympy (and :mod:`sepcalc.symbolic`) are imported inside the functions: importing this module,
as every ``sepcalc search`` command does, costs nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from sepcalc.conventions import DEFAULT, Convention
from sepcalc.cost import Cost, Num
from sepcalc.errors import EXIT_FAILED, EXIT_OK, NeedsCIn, SepcalcError
from sepcalc.expr import scientific
from sepcalc.formulas import REGISTRY
from sepcalc.search.targets import Target

if TYPE_CHECKING:
    import sympy

    from sepcalc.symbolic import Count

LAYER_METRICS = ("macs", "params", "flops")


def _nothing_counted() -> Count:
    from sepcalc.symbolic import Count

    return Count()


@dataclass(frozen=True)
class LayerModel:
    """One k x k layer from C_in to C_out channels, as a separable pair and as a standard conv."""

    metric: str = "macs"
    convention: Convention = DEFAULT
    count: Count = field(default_factory=_nothing_counted)
    """What besides weights and MACs both layers count, as ``sepcalc formula`` counts it."""
    c_in: int | None = None

    def __post_init__(self) -> None:
        if self.metric not in LAYER_METRICS:
            raise SepcalcError(
                f"unknown metric '{self.metric}'; choose one of: {', '.join(LAYER_METRICS)}"
            )
        if self.c_in is not None and self.c_in < 1:
            raise SepcalcError(f"C_in must be positive, got {self.c_in}")

    def costs(self, c_in: Num, c_out: Num, k: Num, h: Num = 1, w: Num = 1) -> tuple[Cost, Cost]:
        """(separable, standard) with the same C_out x H x W output from the same input."""
        from sepcalc import symbols as S

        values = {S.C_in: c_in, S.C_out: c_out, S.k: k, S.H: h, S.W: w}
        return _cost("separable", self.count, values), _cost("conv", self.count, values)

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
        if ratio.free_symbols & {S.H, S.W}:
            raise AssertionError(f"the ratio depends on the feature map size: {ratio}")
        if S.C_in in ratio.free_symbols:
            if self.c_in is None:
                raise NeedsCIn(self.count.names(), self.metric, _show(ratio))
            ratio = sympy.cancel(ratio.subs(S.C_in, self.c_in))
        return ratio

    def describe(self) -> str:
        """What the ratio compares, e.g. 'separable / standard MACs (no bias, norm or act)'."""
        what = {"macs": "MACs", "params": "parameters", "flops": "FLOPs"}[self.metric]
        counted = self.count.names()
        text = "counting " + ", ".join(counted) if counted else "no bias, norm or activation"
        if self.metric == "macs" and counted:
            text += ", which add no MACs"
        if self.metric == "flops":
            text += f"; {self.convention.name} convention: {self.convention.description}"
        return f"separable / standard {what} ({text})"


def _cost(kind: str, count: Count, values: Mapping[Any, Num]) -> Cost:
    """One layer of ``kind`` from its registered adapter, with the layer symbols of its
    ``sepcalc formula`` view (attrs and shapes) replaced by ``values``."""
    from sepcalc.symbolic import view

    attrs, inputs, out = (_at(x, values) for x in view(kind).build(count))
    return sum((c for _, c in REGISTRY[kind].cost(attrs, inputs, out)), Cost())


def _at(x: Any, values: Mapping[Any, Num]) -> Any:
    """``x`` (an attr, a shape, a list of shapes) with each symbol replaced by its value."""
    if isinstance(x, dict):
        return {key: _at(v, values) for key, v in x.items()}
    if isinstance(x, list | tuple):
        return type(x)(_at(v, values) for v in x)
    if x in values:
        return values[x]
    if getattr(x, "free_symbols", None):  # an expression of symbols, e.g. m * C_in
        value = x.subs(values)
        return int(value) if value.is_Integer else value
    return x


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

    @property
    def feasible(self) -> bool:
        return self.answer is not None

    @property
    def exit_code(self) -> int:
        """0 found, 1 infeasible."""
        return EXIT_OK if self.feasible else EXIT_FAILED


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


def _max_ratio(target: Target) -> sympy.Rational:
    import sympy

    return sympy.Rational(target.max_ratio.numerator, target.max_ratio.denominator)


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
    ratio = model.closed_form().subs({_symbol(name): v for name, v in fixed.items()})
    return _smallest_solution(
        ratio - _max_ratio(target), _symbol(unknown), low, high, odd, strict=False
    )


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
    return _smallest_solution(limit - _max_ratio(target), _symbol(vary), low, high, odd, True)


def _confirm(
    model: LayerModel,
    target: Target,
    unknown: str,
    fixed: Mapping[str, int],
    answer: int,
    step: int,
) -> tuple[Achieved, Achieved | None]:
    """Check the closed-form answer with the integer formula: it meets the target and the next
    smaller candidate (``step`` below, when there is one) does not."""

    def at(v: int) -> Achieved:
        c_out = v if unknown == "C_out" else fixed["C_out"]
        k = v if unknown == "k" else fixed["k"]
        return Achieved(v, model.ratio(c_out, k))

    found = at(answer)
    before = at(answer - step) if answer - step >= 1 else None
    if not target.met(found.ratio) or (before is not None and target.met(before.ratio)):
        raise AssertionError(
            f"closed form gave {unknown}={answer} but the integer formula says otherwise"
        )
    return found, before


@dataclass(frozen=True)
class _Unknown:
    """One of the two layer values, as the searches and their messages name it."""

    symbol: str
    """'C_out' or 'k'."""
    noun: str
    """'C_out' or 'kernel', as in 'for every kernel'."""
    named: str
    """How a value of it reads in prose: '11' (C_out) or 'k=5'."""


C_OUT = _Unknown("C_out", "C_out", "{}")
K = _Unknown("k", "kernel", "k={}")


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
    if max_k is not None and k > max_k:
        raise SepcalcError(f"k={k} is over the largest kernel allowed, {max_k}")
    if odd and k % 2 == 0:
        raise SepcalcError(f"k={k} is even, but only odd kernels are allowed")
    return _search(model, target, C_OUT, K, k, {"C_out": max_c_out, "k": max_k}, odd)


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
    if max_c_out is not None and c_out > max_c_out:
        raise SepcalcError(f"C_out={c_out} is over the largest C_out allowed, {max_c_out}")
    return _search(model, target, K, C_OUT, c_out, {"C_out": max_c_out, "k": max_k}, odd)


def _search(
    model: LayerModel,
    target: Target,
    unknown: _Unknown,
    other: _Unknown,
    value: int,
    bounds: Mapping[str, int | None],
    odd: bool,
) -> LayerResult:
    """The smallest ``unknown`` within its bound at ``other`` = ``value`` (kernels odd with
    ``odd``), or why there is none and what would work."""
    given = ((other.symbol, value), ("the largest C_out", bounds["C_out"]))
    for name, v in (*given, ("the largest k", bounds["k"])):
        if v is not None and v < 1:
            raise SepcalcError(f"{name} must be positive, got {v}")
    fixed = {other.symbol: value}
    ratio = model.closed_form()
    specific, general = _show(ratio.subs(_symbol(other.symbol), value)), _show(ratio)
    only_odd = odd and unknown is K
    answer = _solve(model, target, unknown.symbol, fixed, 1, bounds[unknown.symbol], only_odd)
    if answer is None:
        reason = _infeasible(model, target, unknown, other, value, specific, bounds, odd)
        return LayerResult(
            unknown.symbol, fixed, target, model, specific, general, None, None, reason
        )
    step = 2 if only_odd else 1
    found, before = _confirm(model, target, unknown.symbol, fixed, answer, step)
    return LayerResult(unknown.symbol, fixed, target, model, specific, general, found, before)


def _infeasible(
    model: LayerModel,
    target: Target,
    unknown: _Unknown,
    other: _Unknown,
    value: int,
    specific: str,
    bounds: Mapping[str, int | None],
    odd: bool,
) -> str:
    """Why no allowed ``unknown`` meets the target at ``other`` = ``value``, and what would."""
    import sympy

    def oddness(u: _Unknown) -> bool:
        return odd and u is K

    u, o = unknown, other
    ratio = model.closed_form().subs(_symbol(o.symbol), value)
    limit = sympy.limit(ratio, _symbol(u.symbol), sympy.oo)
    lim = Fraction(int(sympy.numer(limit)), int(sympy.denom(limit)))
    if lim >= target.max_ratio:
        why = (
            f"with {o.symbol}={value} the ratio {specific} is above {lim} for every {u.noun} "
            f"(a factor below {_num(1 / lim)}x), so no {u.symbol} reaches {target.text}"
        )
    else:
        need = _solve(model, target, u.symbol, {o.symbol: value}, 1, None, oddness(u))
        high = bounds[u.symbol]
        why = f"with {o.symbol}={value} it needs {u.symbol} >= {need}, above the bound {high}"
    # What would work: the smallest larger value of the other one (odd for a kernel with --odd,
    # within its bound) at which some allowed value of the unknown meets the target, and the
    # unknown it needs there. The ratio falls as either grows, so with a bound on the unknown
    # that is a search for the other at the unknown's largest allowed value.
    first = value + 1 + (1 if oddness(o) and (value + 1) % 2 == 0 else 0)
    top = bounds[u.symbol]
    if top is not None and oddness(u) and top % 2 == 0:
        top -= 1
    o_high = bounds[o.symbol]
    if top is not None:
        o2 = _solve(model, target, o.symbol, {u.symbol: top}, first, o_high, oddness(o))
    else:
        o2 = _limit_solve(model, target, o.symbol, u.symbol, first, o_high, oddness(o))
    kind = f"{'odd ' if oddness(o) else ''}{o.noun}"
    if o2 is None:
        up_to = f" up to the bound {o_high}" if o_high is not None else ""
        with_u = f" with {u.symbol} <= {top}" if top is not None else ""
        return f"{why}; no {kind}{up_to} reaches it{with_u} either"
    u2 = _solve(model, target, u.symbol, {o.symbol: o2}, 1, bounds[u.symbol], oddness(u))
    assert u2 is not None
    values = {o.symbol: o2, u.symbol: u2}
    r2 = model.ratio(values["C_out"], values["k"])
    return (
        f"{why}. The smallest {kind} that can is {o.named.format(o2)}, with {u.symbol} >= {u2} "
        f"(ratio {r2}, {_num(1 / r2)}x)"
    )


def _num(x: Fraction) -> str:
    """A rational as a short decimal for prose: 9, 8.41, 0.1111."""
    return scientific(x, 4)
