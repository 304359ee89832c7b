"""Every combination of a grid of spec vars: exact totals, within-budget marks, the Pareto front.

Each point is counted exactly: by building its graph, or (the default, when some grid var only
changes the input size) by replaying one graph per combination of the other vars at every size
(:mod:`sepcalc.search.replay`).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from operator import attrgetter

from sepcalc.errors import EXIT_FAILED, EXIT_OK, SepcalcError, SpecError
from sepcalc.expr import Number
from sepcalc.search.evaluator import MAX_POINTS, Evaluator
from sepcalc.search.replay import Replay, plan
from sepcalc.search.targets import NET_METRICS, Limit, Totals, shown, within


@dataclass(frozen=True)
class Axis:
    name: str
    values: tuple[Number, ...]


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
    """'replay' (a graph per combination of the vars that change more than the input size,
    replayed at every size) or 'exact' (every point built)."""
    builds: int
    notes: tuple[str, ...] = ()

    @property
    def reason(self) -> str | None:
        """Why no combination is within budget (None when one is, or when there are none)."""
        if any(self.within):
            return None
        built = [t for t in self.totals if t is not None]
        if not built:
            return "no combination builds"
        parts = []
        for b in self.budgets:
            least = min(t.get(b.metric) for t in built)
            parts.append(
                f"the smallest {b.metric} is {shown(b.metric, least)} (budget "
                f"{shown(b.metric, b.limit)})"
            )
        return "no combination is within budget: " + "; ".join(parts)

    @property
    def exit_code(self) -> int:
        """1 when budgets are given and no combination meets them, else 0."""
        return EXIT_FAILED if self.budgets and not any(self.within) else EXIT_OK


PARETO_DEFAULT = ("min:macs", "max:params")
"""The fewest MACs for the parameters (capacity) they buy."""


def _score(key: str) -> Callable[[Mapping[str, Number], Totals], Number]:
    """A point's value on a front key (larger is better: a min: key is negated)."""
    bare = key.removeprefix("min:").removeprefix("max:")
    lowest = key.startswith("min:")
    if bare in NET_METRICS:
        metric = attrgetter(bare)
        if lowest:
            return lambda point, totals: -metric(totals)
        return lambda point, totals: metric(totals)
    if lowest:
        return lambda point, totals: -point[bare]
    return lambda point, totals: point[bare]


def pareto_front(
    points: Sequence[Mapping[str, Number]],
    totals: Sequence[Totals | None],
    eligible: Sequence[bool],
    keys: tuple[str, str],
) -> list[int]:
    """Indices not dominated on the two keys (larger is better unless prefixed min:), among the
    eligible points; ties on both keys keep the first point."""
    x, y = _score(keys[0]), _score(keys[1])
    scored = [
        (-x(p, t), -y(p, t), i)
        for i, (p, t, ok) in enumerate(zip(points, totals, eligible, strict=True))
        if ok and t is not None
    ]
    scored.sort()
    front, best_y = [], None
    for _, minus_y, i in scored:
        if best_y is None or -minus_y > best_y:
            front.append(i)
            best_y = -minus_y
    return front


def grid_search(
    evaluator: Evaluator,
    axes: Sequence[Axis],
    budgets: Sequence[Limit] = (),
    pareto: tuple[str, str] = PARETO_DEFAULT,
    exact: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> GridResult:
    """Every combination of the axes' values, its exact totals, within-budget marks, the front.

    ``exact`` builds every point instead of replaying graphs (the same numbers, slower).
    """
    names = [a.name for a in axes]
    if len(set(names)) != len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise SepcalcError(f"each grid var may be given once: {', '.join(twice)} is repeated")
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
    split = plan(evaluator.loaded.spec, names, evaluator.fixed)
    if evaluator.device is not None:
        notes.append("every point was built: the device model walks each point's graph")
        method = "exact"
        totals, errors = _build_every_point(evaluator, points, progress)
    elif exact or not split.sizes:
        if not exact and len(axes) > 1:
            notes.append(
                "every point was built: each grid var reaches more of the spec than input.size"
            )
        method = "exact"
        totals, errors = _build_every_point(evaluator, points, progress)
    else:
        method = "replay"
        replay = Replay(evaluator, split)
        totals, errors = replay.grid(points, progress)
        if replay.rebuilt:
            notes.append(
                f"{replay.rebuilt:,} point(s) were built one by one: a layer's output channels "
                "(a block's in_channels) change with the input size there"
            )
    ok = [within(t, budgets) for t in totals]
    front = pareto_front(points, totals, ok, pareto)
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


def _build_every_point(
    evaluator: Evaluator,
    points: Sequence[Mapping[str, Number]],
    progress: Callable[[int, int], None] | None,
) -> tuple[list[Totals | None], list[str | None]]:
    totals: list[Totals | None] = []
    errors: list[str | None] = []
    for n, point in enumerate(points, 1):
        try:
            totals.append(evaluator.totals(point))
            errors.append(None)
        except SpecError as exc:
            totals.append(None)
            errors.append(exc.diagnostics[0].message)
        if progress is not None:
            progress(n, len(points))
    return totals, errors
