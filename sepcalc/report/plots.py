"""Plots (the ``plot`` extra, matplotlib): per-layer cost bars, a network's roofline on a
device, a grid search's budget region and Pareto front, and a search space's distribution,
Pareto front and samples. Rendering only; matplotlib is imported here and only when a plot is
asked for, through its object interface (no pyplot state, no display needed).

The counts are exact; a plot draws them as floats in a unit chosen from the largest value
(K, M, G; bytes in KiB, MiB, GiB; times in s, ms, us), which its axis label names. Shares come
exact from the core (:mod:`sepcalc.search.shares`) and become floats here, to be drawn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from sepcalc.analysis import Analysis
from sepcalc.device import DeviceAnalysis
from sepcalc.errors import SepcalcError
from sepcalc.report.device import duration as _time
from sepcalc.report.graph import colour
from sepcalc.report.numbers import fixed, grouped, scientific, shape
from sepcalc.search import NET_METRICS, GridResult
from sepcalc.search.exact import Bound
from sepcalc.search.shares import Curves
from sepcalc.search.space import Value, show_value
from sepcalc.search.spaces import FrontResult, SampleResult

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

_UNITS = ((10**9, "G"), (10**6, "M"), (10**3, "K"))
_METRIC_NAMES = {"macs": "MACs", "params": "parameters", "flops": "FLOPs",
                 "activations": "activations"}  # fmt: skip
WITHIN, OVER, FRONT, BUDGET = "#59a14f", "#bab0ac", "#e15759", "#333333"


def _drawable(value: int | Fraction) -> float:
    """A count, size or time as a float to draw: past a float's range (about 1.8e+308) a
    plot cannot draw it, and says so (the text formats hold it exactly)."""
    try:
        return float(value)
    except OverflowError:
        raise SepcalcError(
            f"a value of {scientific(value)} is past a float's range (about 1.8e+308): a plot "
            "cannot draw it; the report's text formats give it exactly"
        ) from None


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
        values = [_drawable(getattr(r.counts, metric)) for r in rows]
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
        return _drawable(totals.get(bare))
    return _drawable(result.points[i][bare])


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
            ax.axvline(_drawable(limit.limit) / x_div, color=BUDGET, linestyle="--", linewidth=1)
        if limit.metric == keys[1]:
            ax.axhline(_drawable(limit.limit) / y_div, color=BUDGET, linestyle="--", linewidth=1)
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
    xs = {i: _drawable(result.points[i][a]) for i in built}
    if b is not None:
        ys = {i: _drawable(result.points[i][b]) for i in built}
        y_div, y_label = 1.0, b
    else:
        metric = result.budgets[0].metric if result.budgets else "macs"
        ys = {i: _drawable(result.totals[i].get(metric)) for i in built}  # type: ignore[union-attr]
        y_div, suffix = unit(list(ys.values()))
        y_label = _label(metric, suffix)
        for limit in result.budgets:
            if limit.metric == metric:
                ax.axhline(_drawable(limit.limit) / y_div, color=BUDGET, linestyle="--",
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


# --- units of the space's metrics ---------------------------------------------------------------

_METRIC_NAMES |= {"latency": "latency", "flash": "flash", "peak_memory": "peak memory"}
_BYTES = ((1024**3, "GiB"), (1024**2, "MiB"), (1024, "KiB"))
_SECONDS = ((1.0, "s"), (1e-3, "ms"), (1e-6, "us"))
BYTE_METRICS = ("flash", "peak_memory")


def scale(metric: str, values: Sequence[float]) -> tuple[float, str]:
    """The divisor of a metric's values and its axis label: counts in K, M, G; bytes in KiB,
    MiB, GiB; a latency (seconds) in s, ms, us."""
    top = max((abs(v) for v in values), default=0)
    name = _METRIC_NAMES.get(metric, metric)
    divisor: float
    if metric in BYTE_METRICS:
        divisor, suffix = next(((d, s) for d, s in _BYTES if top >= d), (1, "B"))
    elif metric == "latency":
        divisor, suffix = next(((d, s) for d, s in _SECONDS if top >= d), _SECONDS[-1])
    else:
        divisor, suffix = unit(values)
        return divisor, _label(metric, suffix)
    return divisor, f"{name} ({suffix})"


def _percent(share: Fraction) -> str:
    """An exact share as a percentage for a label: 2 decimals, a tiny non-zero share in 2
    significant digits (never shown as 0.00%)."""
    if share and share * 100 < Fraction(1, 100):
        return f"{float(share * 100):.2g}%"
    return f"{fixed(share * 100, 2)}%"


def _bound_values(bound: Bound) -> list[float]:
    """Where a bound's lines go: its low and high ends (a latency's in seconds)."""
    ends = bound.seconds if bound.seconds is not None else (bound.low, bound.high)
    return [_drawable(v) for v in ends if v is not None]


def _bound_lines(ax: Axes, bounds: Sequence[Bound], metric: str, divisor: float,
                 vertical: bool = True, legend: bool = True) -> bool:  # fmt: skip
    """Dashed lines at the bounds on ``metric`` (a band: both ends), each named in the legend
    as it was given (a label beside the line would cross the data); whether there was one."""
    drawn = False
    for b in bounds:
        if b.metric != metric:
            continue
        for value in _bound_values(b):
            line = ax.axvline if vertical else ax.axhline
            line(value / divisor, color=BUDGET, linestyle="--", linewidth=1.2, zorder=4)
        if legend:
            ax.plot([], [], color=BUDGET, linestyle="--", linewidth=1.2, label=b.text())
        drawn = True
    return drawn


def _palette(n: int) -> list[Any]:
    """``n`` distinguishable colours: Tableau 10, or a sequential map for more (sub-spaces are
    ordered, e.g. by resolution)."""
    from matplotlib import colormaps

    if n <= 10:
        return [colormaps["tab10"](k) for k in range(n)]
    cmap = colormaps["viridis"]
    return [cmap(k / (n - 1) * 0.9) for k in range(n)]


# --- space distribution --plot -----------------------------------------------------------------


def _part_name(label: Mapping[str, Value]) -> str:
    return ", ".join(f"{k}={show_value(v)}" for k, v in label.items()) or "all"


def distribution_plot(c: Curves) -> Figure:
    """Two panels sharing the metric's axis: the histogram (one outline per sub-space when
    there are several, as densities: their bins differ), and the CDF, the share of the
    architectures at or below x (one per sub-space, labelled with its share within the
    bounds), with the bounds on the metric as lines."""
    fig = _figure(10, 7.5)
    hist_ax, cdf_ax = fig.subplots(2, 1, sharex=True, height_ratios=(2, 3))
    divisor, x_label = scale(c.metric, [x for part in c.parts for x, _ in part.cdf])
    name = _METRIC_NAMES.get(c.metric, c.metric)
    many = len(c.parts) > 1
    for part, colour_ in zip(c.parts, _palette(len(c.parts)), strict=True):
        label = _part_name(part.label)
        if part.within is not None:
            label += f": {_percent(part.within)} within"
        ends = [b.low for b in part.bars] + [part.bars[-1].high + 1]
        edges = [_drawable(e) / divisor for e in ends]
        if many:
            heights = [float(b.density) * divisor * 100 for b in part.bars]
            hist_ax.stairs(heights, edges, color=colour_, linewidth=1.3)
        else:
            heights = [float(b.share) * 100 for b in part.bars]
            hist_ax.stairs(heights, edges, fill=True, color=colour_, alpha=0.75)
        xs = [_drawable(x) / divisor for x, _ in part.cdf]
        ys = [float(share) * 100 for _, share in part.cdf]
        if part.steps:
            cdf_ax.step(xs, ys, where="post", color=colour_, linewidth=1.5, label=label)
        else:
            cdf_ax.plot(xs, ys, color=colour_, linewidth=1.5, marker="o",
                        markersize=3 if len(c.parts) <= 6 else 1.5, label=label)  # fmt: skip
    _bound_lines(hist_ax, c.bounds, c.metric, divisor, legend=False)
    bounded = _bound_lines(cdf_ax, c.bounds, c.metric, divisor)
    unit_text = x_label.rpartition("(")[2].rstrip(")") if "(" in x_label else ""
    hist_ax.set_ylabel(
        f"density (% per 1{unit_text} {name})" if many else "share of the architectures (%)"
    )
    hist_ax.set_title("histogram" + (" (density: the sub-spaces' bins differ)" if many else ""),
                      fontsize=10)  # fmt: skip
    exact = (
        "at every value"
        if all(p.steps for p in c.parts)
        else "exact at the marked points (bin edges)"
    )
    cdf_ax.set_title(f"cumulative share (CDF), {exact}", fontsize=10)
    cdf_ax.set_ylabel(f"share with {name} <= x (%)")
    cdf_ax.set_ylim(-2, 102)
    cdf_ax.set_xlabel(x_label)
    for ax in (hist_ax, cdf_ax):
        ax.grid(color="#eeeeee", linewidth=0.6)
        ax.set_axisbelow(True)
    if many:
        # beside the CDFs (the layout makes room), below the titles
        cdf_ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, frameon=False,
                      title="sub-space", title_fontsize=8, alignment="left",
                      ncols=1 if len(c.parts) <= 16 else 2)  # fmt: skip
    elif bounded:
        # a CDF rises to 100% on the right: its lower right corner is empty
        handles, labels = cdf_ax.get_legend_handles_labels()
        cdf_ax.legend(handles[1:], labels[1:], loc="lower right", fontsize=8)
    total = sum(p.count for p in c.parts)
    title = f"{c.space}: {name} over {grouped(total)} architectures"
    if many:
        names = ", ".join(dict.fromkeys(k for p in c.parts for k in p.label))
        title += f", {len(c.parts)} sub-spaces by {names}"
    elif c.parts[0].within is not None:
        title += f"; {_percent(c.parts[0].within)} within {_bounds_text(c.bounds)}"
    fig.suptitle(title, fontsize=11)
    return fig


def _bounds_text(bounds: Sequence[Bound]) -> str:
    return ", ".join(b.text() for b in bounds)


def _dot(points: int) -> float:
    """A marker's size for a line of this many points: smaller as they crowd."""
    return 4.0 if points <= 100 else 2.5 if points <= 500 else 1.5


# --- space pareto --plot -----------------------------------------------------------------------


def _key_label(key: tuple[str, int], label: str) -> str:
    return f"{label}, {'lower' if key[1] < 0 else 'higher'} is better"


def front_plot(r: FrontResult) -> Figure:
    """The front in the plane of its first two keys: a staircase through its points (each
    step the best second key for the first key up to there), and the bounds on these
    metrics. With more keys the points are coloured by the third, and the title says the
    plane is a projection."""
    fig = _figure(9, 6)
    ax = fig.subplots()
    (mx, sx), my = r.keys[0], r.keys[1][0]
    points = sorted(r.points, key=lambda p: p.totals[mx])
    xs = [_drawable(p.totals[mx]) for p in points]
    ys = [_drawable(p.totals[my]) for p in points]
    x_div, x_label = scale(mx, xs + [v for b in r.bounds if b.metric == mx
                                     for v in _bound_values(b)])  # fmt: skip
    y_div, y_label = scale(my, ys + [v for b in r.bounds if b.metric == my
                                     for v in _bound_values(b)])  # fmt: skip
    xs = [x / x_div for x in xs]
    ys = [y / y_div for y in ys]
    title = f"Pareto front of {r.space}: {grouped(len(points))} points"
    if len(r.keys) == 2:
        ax.plot(xs, ys, color=FRONT, linewidth=1.2, drawstyle="steps-post" if sx < 0
                else "steps-pre", marker="o", markersize=_dot(len(xs)),
                label="Pareto front")  # fmt: skip
    else:
        mz = r.keys[2][0]
        zs = [_drawable(p.totals[mz]) for p in points]
        z_div, z_label = scale(mz, zs)
        dots = ax.scatter(xs, ys, c=[z / z_div for z in zs], s=_dot(len(xs)) ** 2, cmap="viridis",
                          label="Pareto front")  # fmt: skip
        fig.colorbar(dots, ax=ax, label=_key_label(r.keys[2], z_label))
        shown = ", ".join(("min:" if s < 0 else "max:") + m for m, s in r.keys)
        more = f" and {len(r.keys) - 3} more not drawn" if len(r.keys) > 3 else ""
        ax.set_title(f"a front on {shown}: drawn on the first two keys, coloured by the "
                     f"third{more} (so not a staircase here)", fontsize=9)  # fmt: skip
    _bound_lines(ax, r.bounds, mx, x_div)
    _bound_lines(ax, r.bounds, my, y_div, vertical=False)
    if not points:
        ax.text(0.5, 0.5, "no architecture is within the bounds", transform=ax.transAxes,
                ha="center", va="center", color=FRONT)  # fmt: skip
    ax.set_xlabel(_key_label(r.keys[0], x_label))
    ax.set_ylabel(_key_label(r.keys[1], y_label))
    ax.grid(color="#eeeeee", linewidth=0.6)
    ax.set_axisbelow(True)
    _legend_below(ax)
    if r.bounds:
        title += f", within {_bounds_text(r.bounds)}"
    fig.suptitle(title, fontsize=11)
    return fig


# --- space sample --plot -----------------------------------------------------------------------


def samples_plot(r: SampleResult) -> Figure:
    """The samples as points in the plane of MACs and parameters, with the bounds on these."""
    fig = _figure(9, 6)
    ax = fig.subplots()
    xs = [_drawable(s.totals["macs"]) for s in r.samples]
    ys = [_drawable(s.totals["params"]) for s in r.samples]
    x_div, x_label = scale("macs", xs + [v for b in r.bounds if b.metric == "macs"
                                        for v in _bound_values(b)])  # fmt: skip
    y_div, y_label = scale("params", ys + [v for b in r.bounds if b.metric == "params"
                                          for v in _bound_values(b)])  # fmt: skip
    how = "uniform among the architectures" if r.sampler == "uniform" else "OFA's sampler"
    ax.scatter([x / x_div for x in xs], [y / y_div for y in ys], s=12, alpha=0.6,
               color=WITHIN, edgecolors="none", label="sample")  # fmt: skip
    _bound_lines(ax, r.bounds, "macs", x_div)
    _bound_lines(ax, r.bounds, "params", y_div, vertical=False)
    if not r.samples:
        ax.text(0.5, 0.5, "no architecture drawn was within the bounds", transform=ax.transAxes,
                ha="center", va="center", color=FRONT)  # fmt: skip
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    ax.grid(color="#eeeeee", linewidth=0.6)
    ax.set_axisbelow(True)
    _legend_below(ax)
    fig.suptitle(f"{grouped(len(r.samples))} samples of {r.space} (seed {r.seed})", fontsize=11)
    drawn = f"{grouped(r.draws)} drawn" if r.draws != len(r.samples) else ""
    within = f"within {_bounds_text(r.bounds)}" if r.bounds else ""
    ax.set_title("; ".join(filter(None, (how, within, drawn))), fontsize=9)
    return fig


# --- analyze --device --plot ---------------------------------------------------------------------

_OPS = ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "K"))


def _rate(value: float, what: str) -> str:
    """A rate with an SI prefix for a label: 1.28e12, 'FLOP/s' -> '1.28 TFLOP/s'."""
    divisor, prefix = next(((d, p) for d, p in _OPS if value >= d), (1.0, ""))
    return f"{value / divisor:.3g} {prefix}{what}"


def roofline_plot(analysis: DeviceAnalysis, network: str) -> Figure:
    """The device's roofline (the bandwidth's slope up to the ridge point, then the compute
    ceiling at the compute type) on log axes, and every layer at its arithmetic intensity and
    the performance its roofline time gives (its FLOPs / its time), coloured by kind; layers
    with no FLOPs or no bytes (views) cannot sit on log axes and are counted in a note."""
    from matplotlib.lines import Line2D

    r = analysis.roofline
    assert r is not None
    dtype = r.precision.compute
    ops = "FLOP" if dtype.startswith(("fp", "bf")) else "OP"
    peak = _drawable(r.device.peak_of(dtype))
    bandwidth = _drawable(r.device.bandwidth.value)
    ridge = _drawable(r.device.ridge(dtype))
    drawn = [t for t in r.layers if t.intensity is not None and t.performance]
    left = min([_drawable(t.intensity) for t in drawn if t.intensity] + [ridge]) / 4
    right = max([_drawable(t.intensity) for t in drawn if t.intensity] + [ridge]) * 4
    fig = _figure(10, 6.5)
    ax = fig.subplots()
    ax.set_xscale("log")
    ax.set_yscale("log")
    roof = ([left, ridge, right], [bandwidth * left, peak, peak])
    ax.plot(*roof, color="#333333", linewidth=2, zorder=2)
    efficiency = float(r.efficiency)
    if efficiency < 1:
        ax.plot(roof[0], [y * efficiency for y in roof[1]], color="#333333", linewidth=1,
                linestyle=":", zorder=2)  # fmt: skip
    ax.plot([ridge], [peak], marker="D", color="#333333", markersize=7, zorder=3)
    ax.annotate(f"ridge point: {ridge:.3g} {ops}/B", (ridge, peak), xytext=(8, -14),
                textcoords="offset points", fontsize=8)  # fmt: skip
    ax.annotate(f"{dtype} peak {_rate(peak, ops + '/s')} (dense)", (right, peak),
                xytext=(-4, 5), textcoords="offset points", ha="right", fontsize=8)  # fmt: skip
    on_slope = left**0.3 * ridge**0.7  # above the slope, left of the anchor: nothing is there
    ax.annotate(f"bandwidth {_rate(bandwidth, 'B/s')}", (on_slope, bandwidth * on_slope),
                xytext=(-10, 10), textcoords="offset points", ha="right", va="bottom",
                fontsize=8)  # fmt: skip
    kinds = sorted({t.kind for t in drawn})
    for kind in kinds:
        chosen = [t for t in drawn if t.kind == kind]
        ax.scatter([_drawable(t.intensity or 0) for t in chosen],
                   [_drawable(t.performance or 0) for t in chosen], s=30, color=colour(kind),
                   edgecolors="#333333", linewidths=0.5, label=kind, zorder=4)  # fmt: skip
    ax.set_xlim(left, right)
    lowest = min([_drawable(t.performance or 0) for t in drawn] + [bandwidth * left])
    ax.set_ylim(lowest / 3, peak * 3)
    ax.set_xlabel(f"arithmetic intensity ({ops}s per byte moved)")
    ax.set_ylabel(f"attainable performance ({ops}/s)")
    ax.grid(which="major", color="#e4e4e4", linewidth=0.6)
    ax.grid(which="minor", color="#f4f4f4", linewidth=0.4)
    ax.set_axisbelow(True)
    handles, labels = ax.get_legend_handles_labels()
    handles.append(Line2D([], [], color="#333333", linewidth=2))
    labels.append("roofline")
    if efficiency < 1:
        handles.append(Line2D([], [], color="#333333", linewidth=1, linestyle=":"))
        labels.append(f"roofline x efficiency {efficiency:g}")
    # Under the roof, right of the ridge and low, no layer can be: the legend goes there.
    ax.legend(handles, labels, title="layer kind", loc="lower right", fontsize=8,
              title_fontsize=8, bbox_to_anchor=(1, 0.05), framealpha=0.9)  # fmt: skip
    left_out = len(r.layers) - len(drawn)
    if left_out:
        what = "layer" if left_out == 1 else "layers"
        ax.text(0.99, 0.01, f"{left_out} {what} without FLOPs or bytes (views) not drawn",
                transform=ax.transAxes, ha="right", va="bottom", fontsize=7,
                color="#666666")  # fmt: skip
    m = analysis.memory
    ax.set_title(r.device.title, fontsize=9, color="#444444")
    fig.suptitle(
        f"{network} on {r.device.name}: {m.precision}, batch {m.batch}, roofline latency "
        f"{_time(r.time)} ({len(drawn)} layers drawn)",
        fontsize=11,
    )
    return fig
