"""``sepcalc search width`` and ``search resolution``: the largest value of a var within the
budgets, as a table or plain data."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from sepcalc.conventions import Convention
from sepcalc.report.data import SCHEMA_VERSION
from sepcalc.report.fitting import add_column, metric_drop
from sepcalc.report.numbers import plain
from sepcalc.report.numbers import var as show
from sepcalc.report.totals import data, ordered, text
from sepcalc.search import NET_METRICS, Evaluated, Fix, Grid, Note, Totals, VarResult, budget_status
from sepcalc.search.targets import Limit

FIXES = {
    Fix.EVERY_VALUE: ": use --step to evaluate every value",
    Fix.WIDER_RANGE: "; widen --range",
    Fix.LOWER_RANGE: "; lower --range or raise the budget",
}
"""What to change, in the options of the command line."""


def say(note: Note) -> str:
    """A note with what to change about it."""
    return note.text + (FIXES[note.fix] if note.fix else "")


def flops_note(convention: Convention) -> str:
    return f"FLOPs: {convention.name} convention ({convention.description})."


def limits_text(budgets: Sequence[Limit]) -> str:
    """The budgets in words, each in its unit: 'macs <= 300,000,000 and latency <= 5.000 ms'."""
    return " and ".join(f"{b.metric} <= {text(b.metric, b.limit)}" for b in budgets)


def metrics_of(totals: Iterable[Totals | None], budgets: Sequence[Limit]) -> tuple[str, ...]:
    """The totals a table shows: the counts, the device model's (latency, flash, peak memory)
    when the search has device budgets, and every total a budget names (also when no point
    builds)."""
    device = (m for t in totals if t is not None for m in t.device)
    return ordered([*NET_METRICS, *device, *(b.metric for b in budgets)])


def totals_data(t: Totals) -> dict[str, Any]:
    """The totals in JSON: the counts, then the device model's (a latency as analyze gives it)."""
    return {m: data(m, t.get(m)) for m in (*NET_METRICS, *t.device)}


def budgets_data(budgets: Sequence[Limit]) -> dict[str, Any]:
    return {b.metric: data(b.metric, b.limit) if b.metric == "latency" else plain(b.limit)
            for b in budgets}  # fmt: skip


def var_to_dict(r: VarResult, convention: Convention, grid: Grid) -> dict[str, Any]:
    def at(e: Evaluated | None) -> dict[str, Any] | None:
        return totals_data(e.totals) if e is not None and e.totals is not None else None

    return {
        "schema_version": SCHEMA_VERSION,
        "feasible": r.feasible,
        "var": r.var,
        "answer": plain(r.answer.value) if r.answer else None,
        "achieved": at(r.answer),
        "next_fails": plain(r.next_fails.value) if r.next_fails else None,
        "next_fails_achieved": at(r.next_fails),
        "next_fails_error": r.next_fails.error if r.next_fails else None,
        "reason": say(r.reason) if r.reason else None,
        "budgets": budgets_data(r.budgets),
        "range": {
            "low": plain(grid.low),
            "high": plain(grid.high),
            "step": None if grid.step is None else plain(grid.step),
            "precision": None if grid.precision is None else plain(grid.precision),
        },
        "method": r.method,
        "evaluated": len(r.evaluated),
        "notes": [say(n) for n in r.notes],
        "flops_convention": convention.name,
    }


def render_var(r: VarResult, convention: Convention, grid: Grid) -> RenderableType:
    how = (
        f"step {show(grid.step)}"
        if grid.step is not None
        else f"bisection to {show(grid.precision)}"
    )
    limits = limits_text(r.budgets)
    parts: list[RenderableType] = [
        Text(f"Largest {r.var} in {show(grid.low)}..{show(grid.high)} ({how}) with {limits}")
    ]
    if r.answer is not None:
        table = Table(box=None, header_style="bold", pad_edge=False)
        table.add_column("", justify="left", no_wrap=True)
        table.add_column(r.var, justify="right", no_wrap=True)
        shown_rows = (("answer", r.answer), ("next", r.next_fails))
        rows = [(label, e) for label, e in shown_rows if e is not None]
        metrics = metrics_of((e.totals for _, e in rows), r.budgets)
        named = [b.metric for b in r.budgets]
        for metric in metrics:
            header = "MACs" if metric == "macs" else metric
            add_column(table, header, justify="right", drop=metric_drop(metric, named))
        table.add_column("")
        for label, e in rows:
            counts = [text(m, e.totals.get(m)) if e.totals else "-" for m in metrics]
            status = budget_status(e.totals, r.budgets, e.error)
            table.add_row(label, show(e.value), *counts, status)
        parts.append(table)
    else:
        parts.append(Text(f"infeasible: {say(r.reason) if r.reason else ''}"))
    parts += [Text(f"note: {say(n)}") for n in r.notes]
    parts.append(Text(flops_note(convention), style="dim"))
    return Group(*parts)
