"""The largest value of one spec var (a width multiplier, a resolution) within every budget.

With a step, every grid value is evaluated, so the answer never depends on the shape of the cost
curve. With a precision, two bisections: first for the smallest value at which the spec builds
(a channel count that rounds to 0 does not), then for the largest buildable value within budget.
Both assume monotonicity, and the evaluated values are checked for it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from sepcalc.errors import EXIT_FAILED, EXIT_OK, SepcalcError, SpecError, TooManyValues
from sepcalc.expr import Number, show
from sepcalc.search.evaluator import MAX_POINTS, Evaluator, grid_count, grid_value
from sepcalc.search.targets import Limit, Totals, broken, check_budgets, shown, within


class Fix(StrEnum):
    """What the user can change that a note calls for; a front end words it with its options."""

    EVERY_VALUE = "every_value"
    """Evaluate every value of the grid instead of bisecting."""
    WIDER_RANGE = "wider_range"
    """Search further up."""
    LOWER_RANGE = "lower_range"
    """Search further down, or raise the budget."""


@dataclass(frozen=True)
class Note:
    """A remark on a search's answer (or why there is none), and what to change about it."""

    text: str
    fix: Fix | None = None


@dataclass(frozen=True)
class Grid:
    """The values a var search looks at: low..high in steps, or bisection to a precision."""

    low: Number
    high: Number
    step: Number | None = None
    precision: Number | None = None


def default_grid(
    evaluator: Evaluator,
    var: str,
    low: Number | None = None,
    high: Number | None = None,
    step: Number | None = None,
    precision: Number | None = None,
) -> Grid:
    """The grid with what was not given filled in: the var's default step (when there is no
    precision either), and the range from one step (or precision) up to the spec's value."""
    default = evaluator.default(var)
    if step is None and precision is None:
        step = evaluator.default_step(var)
    unit = step if step is not None else precision
    assert unit is not None
    return Grid(unit if low is None else low, default if high is None else high, step, precision)


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
    reason: Note | None
    notes: tuple[Note, ...]
    evaluated: tuple[Evaluated, ...]

    @property
    def feasible(self) -> bool:
        return self.answer is not None

    @property
    def exit_code(self) -> int:
        """0 found, 1 infeasible."""
        return EXIT_OK if self.feasible else EXIT_FAILED


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
    bisection over multiples of it: a few evaluations, and an answer that assumes the spec
    builds from some value up and that cost grows with the var (the evaluated points are
    checked for it).
    """
    check_budgets(budgets)
    evaluator.default(var)
    if (step is None) == (precision is None):
        raise SepcalcError("give either a step (evaluate every grid value) or a precision")
    unit = step if step is not None else precision
    assert unit is not None
    count = grid_count(low, high, unit)
    if step is not None and count > MAX_POINTS:
        raise TooManyValues(count, show(low), show(high))
    cache: dict[int, Evaluated] = {}

    def at(i: int) -> Evaluated:
        if i not in cache:
            value = grid_value(low, unit, i)
            try:
                cache[i] = Evaluated(value, evaluator.totals({var: value}))
            except SpecError as exc:
                cache[i] = Evaluated(value, None, exc.diagnostics[0].message)
            if progress is not None:
                progress(len(cache), count if step is not None else 0)
        return cache[i]

    def ok(i: int) -> bool:
        return within(at(i).totals, budgets)

    notes: list[Note] = []
    if step is not None:
        method = "grid"
        good = [i for i in range(count) if ok(i)]
        best = good[-1] if good else None
    else:
        method = "bisection"
        best = _bisect(count, lambda i: at(i).totals is not None, ok)
        notes.append(
            Note(
                "bisection assumes that the spec builds from some value up and that every "
                f"budgeted total grows with the var; {len(cache)} of {count:,} values were "
                "evaluated"
            )
        )
    evaluated = tuple(cache[i] for i in sorted(cache))
    notes += _monotonicity_notes(var, evaluated, budgets, method)
    if best is None:
        reason = _var_infeasible(var, evaluated, budgets)
        return VarResult(var, tuple(budgets), method, None, None, reason, tuple(notes), evaluated)
    if method == "grid":
        holes = [e.value for e in evaluated[:best] if e.totals and not within(e.totals, budgets)]
        if holes:
            notes.append(
                Note(
                    f"{len(holes)} smaller value(s) break a budget although "
                    f"{show(cache[best].value)} holds (cost is not monotone in {var}): "
                    f"{', '.join(show(v) for v in holes[:8])}" + (" ..." if len(holes) > 8 else "")
                )
            )
    nxt = at(best + 1) if best + 1 < count else None
    if nxt is None:
        notes.append(
            Note(
                f"the whole range up to {show(cache[best].value)} is within budget", Fix.WIDER_RANGE
            )
        )
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


def _bisect(n: int, builds: Callable[[int], bool], ok: Callable[[int], bool]) -> int | None:
    """The largest index that passes, in O(log n) probes, or None.

    Assumes the indices that build are a suffix (low values may not build: a channel count
    rounds to 0) and that, among those, the passing ones are a prefix (cost grows). The first
    bisection finds the smallest index that builds, the second the last one that passes.
    """
    if ok(n - 1):
        return n - 1
    if not builds(n - 1):
        return None
    first = 0
    if not builds(0):
        lo, hi = 0, n - 1  # not builds(lo), builds(hi)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (lo, mid) if builds(mid) else (mid, hi)
        first = hi
    if not ok(first):
        return None
    lo, hi = first, n - 1  # ok(lo) and not ok(hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if ok(mid) else (lo, mid)
    return lo


def _monotonicity_notes(
    var: str, evaluated: Sequence[Evaluated], budgets: Sequence[Limit], method: str
) -> list[Note]:
    notes = []
    built = [(e.value, e.totals) for e in evaluated if e.totals is not None]
    for metric in dict.fromkeys(b.metric for b in budgets):
        for (va, a), (vb, b) in itertools.pairwise(built):
            if b.get(metric) < a.get(metric):
                text = (
                    f"{metric} is not monotone in {var}: {shown(metric, a.get(metric))} at "
                    f"{show(va)} but {shown(metric, b.get(metric))} at {show(vb)}"
                )
                if method == "bisection":
                    text += "; the bisection answer relies on monotonicity that does not hold"
                notes.append(Note(text, Fix.EVERY_VALUE if method == "bisection" else None))
                break
    return notes


def _var_infeasible(var: str, evaluated: Sequence[Evaluated], budgets: Sequence[Limit]) -> Note:
    built = [e for e in evaluated if e.totals is not None]
    if not built:
        e = evaluated[0]
        return Note(f"the spec cannot be built at {var}={show(e.value)}: {e.error}")
    e = built[0]
    assert e.totals is not None
    return Note(
        f"even the smallest buildable value {var}={show(e.value)} breaks the budget "
        f"({'; '.join(broken(e.totals, budgets))})",
        Fix.LOWER_RANGE,
    )
