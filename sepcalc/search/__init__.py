"""Inverse design: the smallest C_out or k for a target reduction, the largest net within a budget.

- :mod:`~sepcalc.search.targets`: targets (exact rationals) and budgets (inclusive).
- :mod:`~sepcalc.search.layer`: the smallest C_out or kernel at which a depthwise separable layer
  meets a target, solved in closed form (sympy, imported on that path only) and confirmed with
  the integer formula.
- :mod:`~sepcalc.search.evaluator`: the totals of one loaded spec at any var values.
- :mod:`~sepcalc.search.var`: the largest value of one var within every budget.
- :mod:`~sepcalc.search.grid` and :mod:`~sepcalc.search.replay`: every combination of a grid of
  vars, counted exactly, with the Pareto front.
"""

from __future__ import annotations

from sepcalc.search.evaluator import MAX_POINTS, Evaluator, grid_values, totals_of
from sepcalc.search.grid import (
    PARETO_DEFAULT,
    Axis,
    GridResult,
    grid_search,
    pareto_front,
    parse_axis,
    parse_pareto,
)
from sepcalc.search.layer import (
    LAYER_METRICS,
    Achieved,
    LayerModel,
    LayerResult,
    search_channels,
    search_kernel,
)
from sepcalc.search.targets import (
    NET_METRICS,
    Limit,
    Target,
    Totals,
    check_budgets,
    make_target,
    parse_fraction,
    percent,
    within,
)
from sepcalc.search.var import Evaluated, VarResult, search_var

__all__ = [
    "LAYER_METRICS",
    "MAX_POINTS",
    "NET_METRICS",
    "PARETO_DEFAULT",
    "Achieved",
    "Axis",
    "Evaluated",
    "Evaluator",
    "GridResult",
    "LayerModel",
    "LayerResult",
    "Limit",
    "Target",
    "Totals",
    "VarResult",
    "check_budgets",
    "grid_search",
    "grid_values",
    "make_target",
    "pareto_front",
    "parse_axis",
    "parse_fraction",
    "parse_pareto",
    "percent",
    "search_channels",
    "search_kernel",
    "search_var",
    "totals_of",
    "within",
]
