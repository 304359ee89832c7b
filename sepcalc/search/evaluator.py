"""The costs of one loaded spec at any var values: what the network-level searches evaluate."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from fractions import Fraction
from typing import TYPE_CHECKING

from sepcalc.conventions import DEFAULT, Convention
from sepcalc.cost import Cost
from sepcalc.errors import SepcalcError, TooManyValues, cut, did_you_mean
from sepcalc.expr import Number, reduce, show
from sepcalc.graph import Graph, build_graph
from sepcalc.search.targets import Totals
from sepcalc.spec.loader import LoadedSpec

if TYPE_CHECKING:
    from sepcalc.device import DeviceRequest

MAX_POINTS = 100_000
"""The most values (or grid combinations) one search evaluates."""


def totals_of(cost: Cost, convention: Convention) -> Totals:
    return Totals(cost.macs, cost.params, convention.flops(cost), cost.activations)


class Evaluator:
    """Costs of one loaded spec at any var values (the YAML is parsed once, by the caller)."""

    def __init__(
        self,
        loaded: LoadedSpec,
        convention: Convention = DEFAULT,
        fixed: Mapping[str, Number | bool] | None = None,
        device: DeviceRequest | None = None,
    ) -> None:
        self.loaded = loaded
        self.convention = convention
        self.device = device
        """With device budgets: the device model each point's totals include."""
        self.fixed = dict(fixed or {})
        self.builds = 0
        """How many graphs were built (the base graph not counted)."""
        self.base = build_graph(loaded, self.fixed)
        """The graph at the spec's own values (with ``fixed`` applied); errors surface here."""

    def default(self, name: str) -> Number:
        if name not in self.base.vars:
            known = ", ".join(self.base.vars) or "none"
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

    def graph(self, point: Mapping[str, Number], costs: bool = True) -> Graph:
        """The graph at ``point``; raises SpecError when the spec cannot be built there.

        ``costs=False``: without its costs (see :func:`~sepcalc.graph.build_graph`).
        """
        self.builds += 1
        return build_graph(self.loaded, {**self.fixed, **point}, costs=costs)

    def totals(self, point: Mapping[str, Number]) -> Totals:
        """Exact totals at ``point``; raises SpecError when the spec cannot be built there."""
        graph = self.graph(point)
        totals = totals_of(graph.total(), self.convention)
        if self.device is not None:
            totals = replace(totals, device=self.device.analyze(graph).metrics())
        return totals


def grid_count(low: Number, high: Number, step: Number) -> int:
    """How many values low, low + step, ... up to high (inclusive) there are."""
    if step <= 0:
        raise SepcalcError(f"step must be positive, got {show(step)}")
    if high < low:
        raise SepcalcError(f"empty range {show(low)}:{show(high)}")
    return int((Fraction(high) - Fraction(low)) / Fraction(step)) + 1


def grid_value(low: Number, step: Number, i: int) -> Number:
    """The i-th value of the grid from ``low`` in steps of ``step``, exactly."""
    return reduce(Fraction(low) + i * Fraction(step))


def grid_values(low: Number, high: Number, step: Number) -> list[Number]:
    """low, low + step, ... up to high inclusive, exactly (at most MAX_POINTS of them)."""
    count = grid_count(low, high, step)
    if count > MAX_POINTS:
        many = TooManyValues(count, "", "").many
        raise SepcalcError(
            f"{many} values from {cut(show(low))} to {cut(show(high))} in steps of "
            f"{cut(show(step))}: at most {MAX_POINTS:,} (use a larger step)"
        )
    return [grid_value(low, step, i) for i in range(count)]
