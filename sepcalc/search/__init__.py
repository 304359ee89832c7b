"""Inverse design: the smallest C_out or k for a target reduction, the largest net within a budget.

- :mod:`~sepcalc.search.targets`: targets (exact rationals) and budgets (inclusive).
- :mod:`~sepcalc.search.layer`: the smallest C_out or kernel at which a depthwise separable layer
  meets a target, solved in closed form (sympy, imported on that path only) and confirmed with
  the integer formula.
- :mod:`~sepcalc.search.evaluator`: the totals of one loaded spec at any var values.
- :mod:`~sepcalc.search.var`: the largest value of one var within every budget.
- :mod:`~sepcalc.search.grid` and :mod:`~sepcalc.search.replay`: every combination of a grid of
  vars, counted exactly, with the Pareto front.

Everything here takes parsed values; the text the command line gives is parsed in
:mod:`sepcalc.cli.options`.
"""

from __future__ import annotations

from sepcalc.search.evaluator import MAX_POINTS, Evaluator, grid_values, totals_of
from sepcalc.search.grid import PARETO_DEFAULT, Axis, GridResult, grid_search, pareto_front
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
    budget_status,
    check_budgets,
    factor_target,
    percent,
    ratio_target,
    savings_target,
    within,
)
from sepcalc.search.var import (
    Evaluated,
    Fix,
    Grid,
    Note,
    VarResult,
    default_grid,
    search_var,
)

__all__ = [
    "LAYER_METRICS",
    "MAX_POINTS",
    "NET_METRICS",
    "PARETO_DEFAULT",
    "Achieved",
    "Axis",
    "Evaluated",
    "Evaluator",
    "Fix",
    "Grid",
    "GridResult",
    "LayerModel",
    "LayerResult",
    "Limit",
    "Note",
    "Target",
    "Totals",
    "VarResult",
    "budget_status",
    "check_budgets",
    "default_grid",
    "factor_target",
    "grid_search",
    "grid_values",
    "pareto_front",
    "percent",
    "ratio_target",
    "savings_target",
    "search_channels",
    "search_kernel",
    "search_var",
    "totals_of",
    "within",
]
