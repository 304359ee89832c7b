"""``sepcalc search grid``: every combination's totals and the Pareto front, as a table, CSV or
plain data."""

from __future__ import annotations

import csv
import io
from operator import attrgetter
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from sepcalc.conventions import Convention
from sepcalc.report.data import SCHEMA_VERSION
from sepcalc.report.fitting import add_column, metric_drop
from sepcalc.report.numbers import plain
from sepcalc.report.numbers import var as show
from sepcalc.report.search_var import (
    budgets_data,
    flops_note,
    limits_text,
    metrics_of,
    totals_data,
)
from sepcalc.report.totals import exact, text
from sepcalc.search import NET_METRICS, GridResult, budget_status

TABLE_ROWS = 200
"""A grid table lists every point up to this many; beyond, the Pareto front only."""


def _point(r: GridResult, i: int, front: set[int], metrics: tuple[str, ...]) -> dict[str, Any]:
    totals = r.totals[i]
    return {
        **{name: plain(v) for name, v in r.points[i].items()},
        **(totals_data(totals) if totals else dict.fromkeys(metrics)),
        "within": r.within[i],
        "pareto": i in front,
        "error": r.errors[i],
    }


def grid_to_dict(r: GridResult, convention: Convention) -> dict[str, Any]:
    front = set(r.front)
    metrics = metrics_of(r.totals, r.budgets)
    return {
        "schema_version": SCHEMA_VERSION,
        "feasible": any(r.within),
        "vars": [a.name for a in r.axes],
        "budgets": budgets_data(r.budgets),
        "pareto": list(r.pareto),
        "front": [_point(r, i, front, metrics) for i in r.front],
        "points": [_point(r, i, front, metrics) for i in range(len(r.points))],
        "reason": r.reason,
        "method": r.method,
        "builds": r.builds,
        "notes": list(r.notes),
        "flops_convention": convention.name,
    }


def grid_to_csv(r: GridResult) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    names = [a.name for a in r.axes]
    metrics = metrics_of(r.totals, r.budgets)
    writer.writerow([*names, *metrics, "within", "pareto", "error"])
    front = set(r.front)
    shown = {a.name: {v: show(v) for v in a.values} for a in r.axes}  # each value written once
    counts = (
        attrgetter(*metrics)
        if metrics == NET_METRICS
        else lambda t: [exact(t.get(m)) for m in metrics]
    )
    for i, point in enumerate(r.points):
        totals = r.totals[i]
        writer.writerow(
            [
                *(shown[n][point[n]] for n in names),
                *(counts(totals) if totals else [""] * len(metrics)),
                int(r.within[i]),
                int(i in front),
                r.errors[i] or "",
            ]
        )
    return buf.getvalue()


def render_grid(r: GridResult, convention: Convention) -> RenderableType:
    names = [a.name for a in r.axes]
    front = set(r.front)
    every = len(r.points) <= TABLE_ROWS
    rows = range(len(r.points)) if every else r.front
    title = (
        f"{len(r.points):,} combination{'s' if len(r.points) != 1 else ''}"
        if every
        else f"Pareto front of {len(r.points):,} combinations (--format csv lists every one)"
    )
    table = Table(title=title, title_justify="left", box=None, header_style="bold")
    for name in names:
        table.add_column(name, justify="right")
    metrics = metrics_of(r.totals, r.budgets)
    named = [*(b.metric for b in r.budgets), *(k.split(":")[-1] for k in r.pareto)]
    for metric in metrics:
        header = "MACs" if metric == "macs" else metric
        add_column(table, header, justify="right", drop=metric_drop(metric, named))
    table.add_column("budget")
    table.add_column("front", justify="center")
    for i in rows:
        totals = r.totals[i]
        counts = [text(m, totals.get(m)) if totals else "-" for m in metrics]
        status = budget_status(totals, r.budgets, r.errors[i]) if r.budgets else ""
        table.add_row(
            *(show(r.points[i][n]) for n in names),
            *counts,
            "ok" if r.within[i] and r.budgets else status,
            "*" if i in front else "",
            style=None if r.within[i] else "dim",
        )
    parts: list[RenderableType] = [table]
    if r.budgets:
        limits = limits_text(r.budgets)
        parts.append(Text(f"{sum(r.within):,} of {len(r.points):,} within {limits}"))
        if r.reason:
            parts.append(Text(f"infeasible: {r.reason}"))
    first, second = (k if ":" in k else f"max:{k}" for k in r.pareto)
    in_budget = "in-budget " if r.budgets else ""
    parts.append(
        Text(
            f"front (*): {in_budget}combinations that no other beats on both {first} and {second}",
            style="dim",
        )
    )
    parts += [Text(f"note: {note}") for note in r.notes]
    parts.append(Text(flops_note(convention), style="dim"))
    return Group(*parts)
