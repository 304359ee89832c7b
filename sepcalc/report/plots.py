"""Plots (the ``plot`` extra, matplotlib): per-layer cost bars and a grid search's budget
region and Pareto front. Rendering only; matplotlib is imported here and only when a plot is
asked for, through its object interface (no pyplot state, no display needed).

The counts are exact; a plot draws them as floats in a unit chosen from the largest value
(K, M, G), which its axis label names.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sepcalc.analysis import Analysis
from sepcalc.report.graph import colour
from sepcalc.report.numbers import grouped, shape
from sepcalc.search import NET_METRICS, GridResult

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

_UNITS = ((10**9, "G"), (10**6, "M"), (10**3, "K"))
_METRIC_NAMES = {"macs": "MACs", "params": "parameters", "flops": "FLOPs",
                 "activations": "activations"}  # fmt: skip
WITHIN, OVER, FRONT, BUDGET = "#59a14f", "#bab0ac", "#e15759", "#4e79a7"


def unit(values: Sequence[float]) -> tuple[float, str]:
    """The divisor and SI suffix that put the largest of ``values`` in [1, 1000)."""
    top = max((abs(v) for v in values), default=0)
    return next(((d, s) for d, s in _UNITS if top >= d), (1, ""))


def _label(metric: str, suffix: str) -> str:
    name = _METRIC_NAMES.get(metric, metric)
    return f"{name} ({suffix})" if suffix else name


def _figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


# --- analyze --plot ------------------------------------------------------------------------------


def layer_bars(analysis: Analysis) -> Figure:
    """A bar per layer of its MACs and its parameters, side by side, coloured by kind; the
    layers top to bottom in network order."""
    from matplotlib.patches import Patch

    rows = analysis.layers
    names = [r.name for r in rows]
    positions = range(len(rows))
    colours = [colour(r.kind) for r in rows]
    fig = _figure(11, max(3.5, 0.17 * len(rows) + 1.6))
    macs_ax, params_ax = fig.subplots(1, 2, sharey=True)
    for ax, metric in ((macs_ax, "macs"), (params_ax, "params")):
        values = [float(getattr(r.counts, metric)) for r in rows]
        divisor, suffix = unit(values)
        ax.barh(positions, [v / divisor for v in values], color=colours, edgecolor="#555555",
                linewidth=0.4, height=0.8)  # fmt: skip
        ax.set_xlabel(_label(metric, suffix))
        total = getattr(analysis.totals, metric)
        ax.set_title(f"{_METRIC_NAMES[metric]} per layer (total {grouped(total)})", fontsize=10)
        ax.grid(axis="x", color="#dddddd", linewidth=0.6)
        ax.set_axisbelow(True)
    macs_ax.set_yticks(list(positions), names, fontsize=7)
    macs_ax.set_ylim(len(rows) - 0.5, -0.5)  # the first layer at the top
    macs_ax.tick_params(axis="y", length=0)
    kinds = sorted({r.kind for r in rows})
    fig.legend(
        handles=[Patch(facecolor=colour(k), edgecolor="#555555", label=k) for k in kinds],
        title="kind",
        loc="outside lower center",
        ncols=min(len(kinds), 8),
        fontsize=8,
        title_fontsize=8,
    )
    fig.suptitle(
        f"{analysis.name} at input {shape(analysis.input_shape)}: "
        f"{grouped(analysis.totals.params)} parameters, {grouped(analysis.totals.macs)} MACs",
        fontsize=11,
    )
    return fig


# --- search grid --plot ------------------------------------------------------------------------


def _key_value(result: GridResult, i: int, key: str) -> float:
    bare = key.removeprefix("min:").removeprefix("max:")
    totals = result.totals[i]
    if bare in NET_METRICS and totals is not None:
        return float(totals.get(bare))
    return float(result.points[i][bare])


def _objective(ax: Axes, result: GridResult) -> None:
    """The points in the plane of the Pareto keys: within budget, over it, the front, and the
    budget lines on these axes."""
    keys = [k.removeprefix("min:").removeprefix("max:") for k in result.pareto]
    built = [i for i, t in enumerate(result.totals) if t is not None]
    xs = {i: _key_value(result, i, result.pareto[0]) for i in built}
    ys = {i: _key_value(result, i, result.pareto[1]) for i in built}
    x_div, x_suffix = unit(list(xs.values()))
    y_div, y_suffix = unit(list(ys.values()))
    for within, colour_, label in ((False, OVER, "over budget"), (True, WITHIN, "within budget")):
        chosen = [i for i in built if result.within[i] == within]
        if chosen:
            ax.scatter([xs[i] / x_div for i in chosen], [ys[i] / y_div for i in chosen],
                       s=18, color=colour_, label=label, zorder=2)  # fmt: skip
    front = sorted(result.front, key=lambda i: xs[i])
    if front:
        ax.plot([xs[i] / x_div for i in front], [ys[i] / y_div for i in front], marker="o",
                markersize=6, color=FRONT, markerfacecolor="none", linewidth=1.2,
                drawstyle="steps-post", label="Pareto front", zorder=3)  # fmt: skip
    for limit in result.budgets:
        if limit.metric == keys[0]:
            ax.axvline(float(limit.limit) / x_div, color=BUDGET, linestyle="--", linewidth=1)
        if limit.metric == keys[1]:
            ax.axhline(float(limit.limit) / y_div, color=BUDGET, linestyle="--", linewidth=1)
    if any(b.metric in keys for b in result.budgets):
        ax.plot([], [], color=BUDGET, linestyle="--", linewidth=1, label="budget")
    ax.set_xlabel(f"{_label(keys[0], x_suffix)}, {_goal(result.pareto[0])}")
    ax.set_ylabel(f"{_label(keys[1], y_suffix)}, {_goal(result.pareto[1])}")
    ax.set_title("Pareto front", fontsize=10)
    ax.grid(color="#eeeeee", linewidth=0.6)
    _legend_below(ax)


def _goal(key: str) -> str:
    return "lower is better" if key.startswith("min:") else "higher is better"


def _var_space(ax: Axes, result: GridResult) -> None:
    """The grid in the plane of its first two vars (or of its var and MACs): which points are
    within budget, and which are on the front."""
    a = result.axes[0].name
    b = result.axes[1].name if len(result.axes) > 1 else None
    built = [i for i, t in enumerate(result.totals) if t is not None]
    xs = {i: float(result.points[i][a]) for i in built}
    if b is not None:
        ys = {i: float(result.points[i][b]) for i in built}
        y_div, y_label = 1.0, b
    else:
        metric = result.budgets[0].metric if result.budgets else "macs"
        ys = {i: float(result.totals[i].get(metric)) for i in built}  # type: ignore[union-attr]
        y_div, suffix = unit(list(ys.values()))
        y_label = _label(metric, suffix)
        for limit in result.budgets:
            if limit.metric == metric:
                ax.axhline(float(limit.limit) / y_div, color=BUDGET, linestyle="--",
                           linewidth=1, label=f"{metric} budget")  # fmt: skip
    for within, colour_, label in ((False, OVER, "over budget"), (True, WITHIN, "within budget")):
        chosen = [i for i in built if result.within[i] == within]
        if chosen:
            ax.scatter([xs[i] for i in chosen], [ys[i] / y_div for i in chosen], s=42,
                       marker="s", color=colour_, label=label, zorder=2)  # fmt: skip
    front = [i for i in result.front if i in xs]
    if front:
        ax.scatter([xs[i] for i in front], [ys[i] / y_div for i in front], s=90,
                   facecolors="none", edgecolors=FRONT, linewidths=1.4, label="on the front",
                   zorder=3)  # fmt: skip
    failed = len(result.totals) - len(built)
    ax.set_xlabel(a)
    ax.set_ylabel(y_label)
    extra = f"; {failed} points do not build" if failed else ""
    names = ", ".join(x.name for x in result.axes[2:])
    more = f" (over every {names})" if names else ""
    what = f"{a} x {b}" if b is not None else f"{y_label} by {a}"
    ax.set_title(f"The grid: {what}{more}{extra}", fontsize=10)
    ax.grid(color="#eeeeee", linewidth=0.6)
    _legend_below(ax)


def _legend_below(ax: Axes) -> None:
    """The legend under the axes, where it hides no point."""
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncols=4,
              frameon=False)  # fmt: skip


def grid_plot(result: GridResult, network: str) -> Figure:
    """Two panels: the grid's points over its vars, marked within/over budget and on the front;
    and the points in the plane of the Pareto keys, with the front and the budget lines."""
    fig = _figure(12, 5)
    left, right = fig.subplots(1, 2)
    _var_space(left, result)
    _objective(right, result)
    within = sum(result.within)
    budgets = ", ".join(f"{b.metric} <= {grouped(int(b.limit))}" for b in result.budgets)
    fig.suptitle(
        f"{network}: {within} of {len(result.points)} points within budget"
        + (f" ({budgets})" if budgets else ""),
        fontsize=11,
    )
    return fig
