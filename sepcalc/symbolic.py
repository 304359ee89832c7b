"""Symbolic views: closed forms of one layer kind, and of a whole network under relaxation.

There is no second copy of a formula here. A layer view calls the registered cost adapter of its
kind (``formulas.REGISTRY[kind].cost``, the same code that counts a concrete layer) with the
symbols of :mod:`sepcalc.symbols`. A network view builds the ordinary graph with each chosen var
set to a :class:`Relaxed` number: an exact value (the "witness", which decides every ``if`` of
the graph builder and the formulas exactly as a concrete build does) carried together with a
sympy expression in which rounding is the identity (the continuous relaxation of MobileNet's
equations 6 and 7).

Imported only on symbolic paths: a plain ``analyze`` never imports sympy.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, cast

import sympy
from sympy.printing.pycode import PythonCodePrinter

from sepcalc import symbols
from sepcalc.conventions import Convention
from sepcalc.cost import MAX_COUNT_BITS, Cost, too_large
from sepcalc.errors import (
    InputError,
    NoClosedForm,
    NoRatioError,
    SepcalcError,
    SymbolicRepeatError,
    did_you_mean,
)
from sepcalc.expr import (
    FUNCTIONS,
    CustomNumber,
    Number,
    Real,
    as_int,
    make_divisible,
    normalize,
    reduce,
    saturated_float,
)
from sepcalc.formulas import REGISTRY, Shape
from sepcalc.formulas.view import Count as Count
from sepcalc.formulas.view import View
from sepcalc.graph import Graph, build_graph
from sepcalc.spec.loader import LoadedSpec
from sepcalc.symbol_names import SYMBOL_MEANINGS as SYMBOL_MEANINGS
from sepcalc.symbols import LAYER_SYMBOLS, var_symbol

METRICS = ("params", "macs", "flops")


RELAXATION = (
    "continuous relaxation (MobileNet eqs. 6-7): int(), round(), floor(), ceil() and "
    "make_divisible() are the identity, // is exact division and % is 0"
)


# --- one layer kind --------------------------------------------------------------------------


@dataclass(frozen=True)
class LayerView:
    """How one declared kind is costed in symbols (its declaration's :class:`View`)."""

    kind: str
    declared: View

    @property
    def summary(self) -> str:
        return self.declared.summary

    @property
    def sizes(self) -> str:
        return self.declared.sizes

    @property
    def countable(self) -> bool:
        """Whether a :class:`Count` (bias, norm, act) applies."""
        return self.declared.countable

    def build(self, count: Count) -> tuple[dict[str, Any], list[Shape], Shape]:
        """The attributes, input shapes and output shape of the layer, in symbols."""
        return self.declared.build(symbols, count)


VIEWS: dict[str, LayerView] = {
    name: LayerView(name, kind.view) for name, kind in REGISTRY.items() if kind.view is not None
}
"""Every layer kind with a closed form. Kinds without one (flatten, dropout, concat, ...) move
or copy tensors but have no parameters and no arithmetic."""


def view(kind: str) -> LayerView:
    if kind not in VIEWS:
        raise NoClosedForm(kind, kind in REGISTRY, did_you_mean(kind, VIEWS))
    return VIEWS[kind]


def layer_cost(kind: str, count: Count = Count()) -> Cost:
    """The symbolic cost of one layer of ``kind``, from its registered adapter."""
    attrs, inputs, out = view(kind).build(count)
    parts = REGISTRY[kind].cost(attrs, inputs, out)
    return sum((cost for _, cost in parts), Cost())


def metric(cost: Cost, name: str, convention: Convention) -> sympy.Expr:
    """params, macs or flops (under ``convention``) of a symbolic cost, as a sympy expression."""
    value = {"params": cost.params, "macs": cost.macs}.get(name)
    if value is None:
        value = convention.flops(cost)
    return sympy.expand(sympy.sympify(value))


@dataclass(frozen=True)
class LayerFormula:
    kind: str
    summary: str
    sizes: str
    exprs: Mapping[str, sympy.Expr]
    """params, macs and flops."""


def layer_formula(kind: str, count: Count, convention: Convention) -> LayerFormula:
    v = view(kind)
    cost = layer_cost(kind, count)
    return LayerFormula(
        kind, v.summary, v.sizes, {name: metric(cost, name, convention) for name in METRICS}
    )


def tidy(expr: sympy.Expr) -> sympy.Expr:
    """A rational function in its most readable exact form.

    Over a monomial denominator it is a sum of simple terms (``1/C_out + 1/k**2``); otherwise one
    fraction with factored numerator and denominator.
    """
    r = sympy.cancel(sympy.together(expr))
    num, den = sympy.fraction(r)
    if not den.free_symbols or sympy.Poly(den, *sorted(den.free_symbols, key=str)).is_monomial:
        return sympy.expand(r)
    return sympy.factor(num) / sympy.factor(den)


@dataclass(frozen=True)
class Ratio:
    """cost_a / cost_b of one metric, with the reduction factor and the savings."""

    metric: str
    ratio: sympy.Expr
    reduction: sympy.Expr
    """1 / ratio: how many times cheaper a is."""
    savings: sympy.Expr
    """1 - ratio: the fraction of b's cost that a saves."""


def ratio(a: LayerFormula, b: LayerFormula, metric_name: str) -> Ratio:
    r = tidy(a.exprs[metric_name] / b.exprs[metric_name])
    return Ratio(metric_name, r, tidy(1 / r), tidy(1 - r))


def substitute(expr: sympy.Expr, values: Mapping[str, Number]) -> sympy.Expr:
    """``expr`` with layer symbols (C_out, k, ...) replaced by exact values."""
    return expr.subs({LAYER_SYMBOLS[n]: _sympy_number(v) for n, v in values.items()})


def substitute_vars(expr: sympy.Expr, values: Mapping[str, Number]) -> sympy.Expr:
    """``expr`` with spec vars (as :func:`~sepcalc.symbols.var_symbol`) replaced by values."""
    return expr.subs({var_symbol(n): _sympy_number(v) for n, v in values.items()})


def _sympy_number(value: Number) -> sympy.Rational:
    return sympy.Rational(Fraction(value))


def as_fraction(expr: sympy.Expr) -> Fraction | None:
    """An expression without symbols as an exact Fraction; None if symbols remain."""
    if expr.free_symbols or not expr.is_Rational:
        return None
    return Fraction(int(expr.p), int(expr.q))


def symbols_of(exprs: Iterable[sympy.Expr]) -> list[str]:
    """The names of the symbols used, in the order of :data:`SYMBOL_MEANINGS`, then by name."""
    used = {s.name for e in exprs for s in e.free_symbols}
    order = list(SYMBOL_MEANINGS)
    return sorted(used, key=lambda n: (order.index(n) if n in order else len(order), n))


# --- a network under the continuous relaxation -----------------------------------------------


class Relaxed(CustomNumber):
    """An exact value (the witness) with a symbolic expression in which rounding is identity.

    Arithmetic acts on both. Comparisons, truth values and ``range()`` see the witness only, so
    the graph built from relaxed vars has exactly the structure, shapes checks and errors of the
    concrete graph at the witness point. ``x // y`` is ``x / y`` in the expression, ``x % y`` is 0
    (``x - y*floor(x/y)`` with floor the identity), and ``int``/``round``/``floor``/``ceil``/
    ``make_divisible`` leave the expression unchanged.
    """

    __slots__ = ("expr", "value")

    def __init__(self, value: Number, expr: sympy.Expr) -> None:
        self.value: Number = normalize(value)
        self.expr: sympy.Expr = expr

    def __repr__(self) -> str:
        return f"Relaxed({self.value}, {self.expr})"

    @staticmethod
    def _split(x: Any) -> tuple[Number, sympy.Expr]:
        if isinstance(x, Relaxed):
            return x.value, x.expr
        if isinstance(x, int | Fraction):  # bool is an int
            value = normalize(Fraction(x))
            return value, sympy.Rational(value)
        if isinstance(x, Real):  # an inexact constant such as log(2): its exact expression
            return cast(Number, x), form_expr(x.form)
        raise TypeError(f"cannot combine a symbolic var with {x!r}")

    def _op(
        self,
        other: Any,
        exact_op: Callable[[Any, Any], Any],
        symbolic_op: Callable[[Any, Any], Any],
        swap: bool = False,
    ) -> Relaxed:
        (a, ea), (b, eb) = self._split(self), self._split(other)
        if swap:
            (a, ea), (b, eb) = (b, eb), (a, ea)
        return Relaxed(exact_op(a, b), symbolic_op(ea, eb))

    def __add__(self, o: Any) -> Relaxed:
        return self._op(o, lambda a, b: a + b, lambda a, b: a + b)

    def __radd__(self, o: Any) -> Relaxed:
        return self._op(o, lambda a, b: a + b, lambda a, b: a + b, swap=True)

    def __sub__(self, o: Any) -> Relaxed:
        return self._op(o, lambda a, b: a - b, lambda a, b: a - b)

    def __rsub__(self, o: Any) -> Relaxed:
        return self._op(o, lambda a, b: a - b, lambda a, b: a - b, swap=True)

    def __mul__(self, o: Any) -> Relaxed:
        return self._op(o, lambda a, b: a * b, lambda a, b: a * b)

    def __rmul__(self, o: Any) -> Relaxed:
        return self._op(o, lambda a, b: a * b, lambda a, b: a * b, swap=True)

    def __truediv__(self, o: Any) -> Relaxed:
        return self._op(o, _exact_div, lambda a, b: a / b)

    def __rtruediv__(self, o: Any) -> Relaxed:
        return self._op(o, _exact_div, lambda a, b: a / b, swap=True)

    def __floordiv__(self, o: Any) -> Relaxed:
        return self._op(o, lambda a, b: a // b, lambda a, b: a / b)

    def __rfloordiv__(self, o: Any) -> Relaxed:
        return self._op(o, lambda a, b: a // b, lambda a, b: a / b, swap=True)

    def __mod__(self, o: Any) -> Relaxed:
        return self._op(o, lambda a, b: a % b, lambda a, b: sympy.Integer(0))

    def __rmod__(self, o: Any) -> Relaxed:
        return self._op(o, lambda a, b: a % b, lambda a, b: sympy.Integer(0), swap=True)

    def __pow__(self, o: Any) -> Relaxed:
        return self._op(o, _exact_pow, lambda a, b: a**b)

    def __rpow__(self, o: Any) -> Relaxed:
        return self._op(o, _exact_pow, lambda a, b: a**b, swap=True)

    def __neg__(self) -> Relaxed:
        return Relaxed(-self.value, -self.expr)

    def __pos__(self) -> Relaxed:
        return self

    def __abs__(self) -> Relaxed:
        return Relaxed(cast(Number, abs(self.value)), sympy.Abs(self.expr))

    def apply(self, name: str) -> Relaxed:
        """log, log2, exp, sqrt: of the witness (exact, or a Real), and of the expression."""
        return Relaxed(FUNCTIONS[name](self.value), _SYMPY_FUNCTIONS[name](self.expr))

    # Rounding: exact on the witness, the identity on the expression.
    def __trunc__(self) -> Relaxed:
        return Relaxed(math.trunc(self.value), self.expr)

    def __floor__(self) -> Relaxed:
        return Relaxed(math.floor(self.value), self.expr)

    def __ceil__(self) -> Relaxed:
        return Relaxed(math.ceil(self.value), self.expr)

    def __round__(self, ndigits: int | None = None) -> Relaxed:
        value = round(self.value) if ndigits is None else round(Fraction(self.value), ndigits)
        return Relaxed(value, self.expr)

    def make_divisible(self, divisor: Number, min_value: Number | None) -> Relaxed:
        return Relaxed(
            make_divisible(self.value, _witness(divisor), _witness(min_value)), self.expr
        )

    def as_int(self) -> Relaxed:
        return Relaxed(as_int(self.value), self.expr)

    # Decisions: the witness only.
    def __eq__(self, o: object) -> bool:
        return bool(self.value == _witness(o))

    def __ne__(self, o: object) -> bool:
        return bool(self.value != _witness(o))

    def __lt__(self, o: Any) -> bool:
        return bool(self.value < _witness(o))

    def __le__(self, o: Any) -> bool:
        return bool(self.value <= _witness(o))

    def __gt__(self, o: Any) -> bool:
        return bool(self.value > _witness(o))

    def __ge__(self, o: Any) -> bool:
        return bool(self.value >= _witness(o))

    def __bool__(self) -> bool:
        return self.value != 0

    def __hash__(self) -> int:
        return hash(self.value)

    def __float__(self) -> float:
        return saturated_float(self.value)

    def __index__(self) -> int:
        if self.expr.free_symbols:
            raise SymbolicRepeatError(sorted(s.name for s in self.expr.free_symbols))
        return int(self.value)

    __int__ = __index__


def _exact_div(a: Number, b: Number) -> Number:
    if isinstance(a, Real) or isinstance(b, Real):
        return cast(Number, a / b)
    return reduce(Fraction(a) / Fraction(b))


def _exact_pow(a: Number, b: Number) -> Number:
    if isinstance(a, Real) or isinstance(b, Real):
        return cast(Number, a**b)
    return reduce(Fraction(a) ** cast(int, b))


_SYMPY_FUNCTIONS: dict[str, Callable[[sympy.Expr], sympy.Expr]] = {
    "log": sympy.log,
    "log2": lambda e: sympy.log(e, 2),
    "exp": sympy.exp,
    "sqrt": sympy.sqrt,
}
_FORM_OPERATORS: dict[str, Callable[[Any, Any], sympy.Expr]] = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
}


def form_expr(form: Any) -> sympy.Expr:
    """The exact sympy expression of a :class:`~sepcalc.expr.Real`'s ``form``."""
    if not isinstance(form, tuple):
        return sympy.Rational(Fraction(form))
    op, *args = form
    parts = [form_expr(a) for a in args]
    if op in _FORM_OPERATORS:
        return _FORM_OPERATORS[op](*parts)
    return _SYMPY_FUNCTIONS[op](*parts)


def _witness(x: Any) -> Any:
    return x.value if isinstance(x, Relaxed) else x


def relaxed_expr(x: Any) -> sympy.Expr:
    """The relaxed expression of a cost field (a plain number is its own expression)."""
    return x.expr if isinstance(x, Relaxed) else sympy.Rational(Fraction(x))


def witness(x: Any) -> Number:
    return cast(Number, x.value if isinstance(x, Relaxed) else x)


@dataclass(frozen=True)
class SymbolicCounts:
    exprs: Mapping[str, sympy.Expr]
    """params, macs, flops as closed forms (expanded polynomials or rational functions)."""
    exact: Mapping[str, int]
    """The exact integer counts at the point."""

    def agrees(self, point: Mapping[str, Number]) -> bool:
        """Whether the closed forms equal the exact counts at the point (no rounding there)."""
        return all(substitute_vars(e, point) == self.exact[n] for n, e in self.exprs.items())


@dataclass(frozen=True)
class SymbolicLayer:
    name: str
    kind: str
    counts: SymbolicCounts


@dataclass(frozen=True)
class SymbolicNetwork:
    name: str
    symbols: tuple[str, ...]
    point: Mapping[str, Number]
    """Where the structure (repeats, when, min/max branches) was decided, and checked."""
    convention: Convention
    totals: SymbolicCounts
    layers: tuple[SymbolicLayer, ...]

    @property
    def rounded_layers(self) -> list[str]:
        """The layers whose closed forms differ from their exact counts at the point."""
        return [layer.name for layer in self.layers if not layer.counts.agrees(self.point)]


def _counts(cost: Cost, convention: Convention) -> SymbolicCounts:
    fields_ = {"params": cost.params, "macs": cost.macs, "flops": convention.flops(cost)}
    return SymbolicCounts(
        {n: sympy.expand(relaxed_expr(v)) for n, v in fields_.items()},
        {n: int(witness(v)) for n, v in fields_.items()},
    )


def relaxed_graph(
    loaded: LoadedSpec, names: Sequence[str], overrides: Mapping[str, Number] | None = None
) -> tuple[Graph, dict[str, Number]]:
    """The graph with the vars ``names`` relaxed, and the point (var values) it was built at."""
    overrides = dict(overrides or {})
    spec_vars = loaded.spec.vars
    if not names:
        raise InputError("names", "", "name at least one var")
    for name in names:
        if name not in spec_vars:
            raise InputError(
                "names",
                name,
                f"the spec has no var '{name}'{did_you_mean(name, spec_vars)}"
                f" (its vars: {', '.join(spec_vars) or 'none'})",
            )
    concrete = build_graph(loaded, overrides)  # every spec error, reported as usual
    point = {name: concrete.vars[name] for name in names}
    for name, value in point.items():
        if isinstance(value, bool):
            raise InputError("names", name, "a true/false var has no closed form")
    relaxed = {n: Relaxed(v, var_symbol(n)) for n, v in point.items()}
    try:
        # A Relaxed stands in for an exact number wherever the builder takes one.
        graph = build_graph(loaded, {**overrides, **cast(dict[str, Number], relaxed)})
    except (TypeError, ValueError) as exc:
        raise SepcalcError(f"cannot build a symbolic view of this spec: {exc}") from None
    return graph, point


def symbolic_network(
    loaded: LoadedSpec,
    names: Sequence[str],
    convention: Convention,
    overrides: Mapping[str, Number] | None = None,
) -> SymbolicNetwork:
    """Network totals and per-layer counts as closed forms in the vars ``names``."""
    graph, point = relaxed_graph(loaded, names, overrides)
    layers = tuple(SymbolicLayer(n.name, n.kind, _counts(n.cost, convention)) for n in graph.nodes)
    return SymbolicNetwork(
        graph.name,
        tuple(names),
        point,
        convention,
        _counts(graph.total(), convention),
        layers,
    )


class _ExactPrinter(PythonCodePrinter):  # type: ignore[misc]
    """Python code in which every rational constant is a Fraction, so results stay exact."""

    def _print_Rational(self, expr: sympy.Rational) -> str:
        return f"Fraction({expr.p}, {expr.q})"

    def _print_Half(self, expr: sympy.Rational) -> str:
        return self._print_Rational(expr)


def lambdify_exact(expr: sympy.Expr, args: Sequence[sympy.Symbol]) -> Callable[..., Number]:
    """Compile ``expr`` once into a Python function of ``args`` that is exact on ints and
    Fractions (evaluate it many times instead of calling ``subs``)."""
    fn = sympy.lambdify(args, expr, modules=[{"Fraction": Fraction}, "math"], printer=_ExactPrinter)

    def call(*values: Number) -> Number:
        return reduce(Fraction(fn(*(Fraction(v) for v in values))))

    return call


# --- the `formula` command's result ----------------------------------------------------------


@dataclass(frozen=True)
class FormulaReport:
    """One or two layer kinds in closed form, their ratio, and their values at a point."""

    formulas: tuple[LayerFormula, ...]
    count: Count
    convention: Convention
    ratio: Ratio | None
    """formulas[0] / formulas[1] when two kinds are compared."""
    at: Mapping[str, int]
    at_formulas: tuple[Mapping[str, sympy.Expr], ...]
    """Each formula's params, macs, flops with ``at`` substituted (exact rationals if no
    symbol remains)."""
    at_ratio: Ratio | None
    symbols: tuple[str, ...]
    """The names of the symbols used by the formulas."""


def formula_report(
    kind: str,
    vs: str | None = None,
    *,
    count: Count = Count(),
    convention: Convention,
    metric_name: str = "macs",
    at: Mapping[str, int] | None = None,
) -> FormulaReport:
    at = dict(at or {})
    if metric_name not in METRICS:
        raise InputError("metric_name", metric_name, f"choose one of {', '.join(METRICS)}")
    formulas = tuple(layer_formula(k_, count, convention) for k_ in (kind, vs) if k_ is not None)
    used = symbols_of(e for f in formulas for e in f.exprs.values())
    for name in at:
        if name not in used:
            kinds = " and ".join(f.kind for f in formulas)
            raise InputError(
                "at",
                name,
                f"the formulas of {kinds} do not use {name} (they use: {', '.join(used)})",
            )
    r = None
    if len(formulas) == 2:
        if formulas[1].exprs[metric_name] == 0:
            other = formulas[1]
            nonzero = [n for n in METRICS if other.exprs[n] != 0]
            if not nonzero:
                raise SepcalcError(
                    f"{other.kind} has no {', '.join(METRICS[:-1])} or {METRICS[-1]} under the "
                    f"{convention.name} convention: there is no ratio"
                )
            raise NoRatioError(other.kind, metric_name, nonzero)
        r = ratio(formulas[0], formulas[1], metric_name)
    at_r = None
    if r is not None and at:
        at_r = Ratio(
            metric_name,
            *(substitute(e, at) for e in (r.ratio, r.reduction, r.savings)),
        )
    at_formulas = (
        tuple({n: substitute(e, at) for n, e in f.exprs.items()} for f in formulas) if at else ()
    )
    values = [v for f in at_formulas for v in f.values()]
    if at_r is not None:
        values += [at_r.ratio, at_r.reduction, at_r.savings]
    if any(_too_large(v) for v in values):
        raise InputError(
            "at",
            "",
            f"at these values a count is over 2**{MAX_COUNT_BITS} (about "
            f"10**{MAX_COUNT_BITS * 30103 // 100000}), the most sepcalc counts for one layer",
        )
    return FormulaReport(formulas, count, convention, r, at, at_formulas, at_r, tuple(used))


def _too_large(expr: sympy.Expr) -> bool:
    """Whether an exact rational's numerator or denominator is over MAX_COUNT_BITS bits."""
    value = as_fraction(expr)
    return value is not None and too_large((value.numerator, value.denominator))
