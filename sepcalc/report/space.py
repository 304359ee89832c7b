"""``sepcalc space``: counts, distributions, fronts, the best architecture and samples of a
search space, as tables, CSV or plain data. Rendering only: every number comes from
:mod:`sepcalc.search.spaces`."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from fractions import Fraction
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from sepcalc.conventions import Convention
from sepcalc.report.data import SCHEMA_VERSION
from sepcalc.report.fitting import add_column, metric_drop
from sepcalc.report.numbers import approximate, fixed
from sepcalc.report.totals import BYTES, exact, grouped, ordered, short, text
from sepcalc.search.decompose import METRICS
from sepcalc.search.exact import Bound
from sepcalc.search.space import Value, show_value
from sepcalc.search.spaces import (
    BestResult,
    CountResult,
    Distribution,
    DistributionResult,
    FrontResult,
    SampleResult,
)


def _share(part: int, whole: int) -> str:
    if not whole:
        return "-"
    return f"{fixed(Fraction(100 * part, whole), 4)}%"


def _values(values: Sequence[Value]) -> str:
    if len(values) > 8:
        first, second, last = (show_value(v) for v in (values[0], values[1], values[-1]))
        return f"{first}, {second}, ..., {last} ({len(values)} values)"
    return ", ".join(show_value(v) for v in values)


def assignment_text(a: Mapping[str, Value]) -> str:
    return "  ".join(f"{k}={show_value(v)}" for k, v in a.items())


def _plain_value(v: Value) -> Any:
    if isinstance(v, Fraction):
        return str(v) if v.denominator != 1 else v.numerator
    if isinstance(v, tuple | list):
        return [_plain_value(x) for x in v]
    return v


def plain_assignment(a: Mapping[str, Value]) -> dict[str, Any]:
    return {k: _plain_value(v) for k, v in a.items()}


def _exact(v: int | Fraction | None) -> Any:
    """A count as it is; a latency (seconds, a Fraction) exact as "num/den" beside a float."""
    if isinstance(v, Fraction):
        return {"exact": f"{v.numerator}/{v.denominator}", "value": approximate(v)}
    return v


def _bounds(bounds: Sequence[Bound]) -> dict[str, dict[str, Any]]:
    return {
        b.metric: (
            {"low": _exact(b.seconds[0]), "high": _exact(b.seconds[1])}
            if b.seconds is not None
            else {"low": b.low, "high": b.high}
        )
        for b in bounds
    }


Totals = Mapping[str, int | Fraction]


def _metrics(rows: Sequence[Totals], named: Iterable[str]) -> tuple[str, ...]:
    """The totals the rows carry (the counts, and the device totals when asked for), and
    every total a bound or key names, also when there are no rows."""
    return ordered([*METRICS, *(m for row in rows for m in row), *named])


def _named(bounds: Sequence[Bound], keys: Iterable[tuple[str, int]] = ()) -> list[str]:
    """The totals the bounds and the front's keys (or the objective) name."""
    return [*(b.metric for b in bounds), *(k[0] for k in keys)]


total_text = text
"""A total in a table or comment, in its unit (``--out`` comments use it too)."""


def _cells(t: Totals, metrics: Sequence[str]) -> list[str]:
    return [text(m, t[m]) if m in t else "-" for m in metrics]


def _exact_cells(t: Totals, metrics: Sequence[str]) -> list[Any]:
    return [exact(t[m]) if m in t else "" for m in metrics]


def _json_totals(t: Totals) -> dict[str, Any]:
    return {m: _exact(v) for m, v in t.items()}


def _bounds_text(bounds: Sequence[Bound]) -> str:
    return ", ".join(b.text() for b in bounds)


# --- count ------------------------------------------------------------------------------------


def count_to_dict(r: CountResult, convention: Convention) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "space": r.space,
        "choices": [{"name": n, "per": p, "values": _plain_value(v)} for n, p, v in r.choices],
        "steps": [
            {"entries": list(s.entries), "kind": s.kind, "choices": list(s.choices)}
            for s in r.steps
        ],
        "assignments": r.assignments,
        "buildable": r.buildable,
        "bounds": _bounds(r.bounds),
        "within": r.within,
        "method": r.method,
        "failures": [{"assignment": a, "error": e} for a, e in r.failures],
        "by_var": [
            {"vars": plain_assignment(v), "buildable": b, "within": w} for v, b, w in r.by_var
        ],
        "ofa_sampler_share": None if r.choice_share is None else _mean(r.choice_share),
        "flops_convention": convention.name,
    }


def render_count(r: CountResult, convention: Convention) -> RenderableType:
    parts: list[RenderableType] = [Text(f"{r.space}: {len(r.choices)} choices", style="bold")]
    table = Table(box=None, show_header=True, header_style="bold")
    for col in ("choice", "per", "values"):
        table.add_column(col)
    for name, per, values in r.choices:
        table.add_row(name, per, _values(values))
    parts.append(table)
    stages = sum(1 for s in r.steps if s.kind == "stage")
    groups = [", ".join(s.entries) for s in r.steps if s.kind == "group"]
    how = f"{stages} independent stage(s)"
    if groups:
        how += f"; enumerated together (not separable): {'; '.join(groups)}"
    parts.append(Text(f"decomposed into {how}"))
    lines = Table(box=None, show_header=False)
    lines.add_column("what")
    lines.add_column("count", justify="right")
    lines.add_column("share", justify="right")
    lines.add_row("architectures", f"{r.assignments:,}", "")
    if r.buildable != r.assignments:
        lines.add_row("that build", f"{r.buildable:,}", _share(r.buildable, r.assignments))
    if r.within is not None:
        lines.add_row(
            f"within {_bounds_text(r.bounds)}", f"{r.within:,}", _share(r.within, r.buildable)
        )
    parts.append(lines)
    if r.choice_share is not None:
        parts.append(
            Text(
                f"OFA's sampler (every choice uniform) draws one within {_bounds_text(r.bounds)} "
                f"with probability {fixed(r.choice_share * 100, 4)}% (exactly {r.choice_share})"
            )
        )
    if r.by_var:
        by_var = Table(box=None, show_header=True, header_style="bold")
        by_var.add_column("vars")
        by_var.add_column("architectures", justify="right")
        if r.within is not None:
            by_var.add_column("within", justify="right")
            by_var.add_column("share", justify="right")
        for var_values, b, w in r.by_var:
            row = [assignment_text(var_values), f"{b:,}"]
            if r.within is not None:
                row += [f"{w:,}", _share(w or 0, b)]
            by_var.add_row(*row)
        parts.append(by_var)
    for assignment, error in r.failures:
        parts.append(Text(f"does not build: {assignment}: {error}", style="yellow"))
    if r.method != "table" and r.within is not None:
        parts.append(Text(f"counted exactly with {r.method} (the joint table was too large)"))
    if any(b.metric == "flops" for b in r.bounds):
        parts.append(Text(f"FLOPs: {convention.name} convention ({convention.description})."))
    return Group(*parts)


# --- distribution -----------------------------------------------------------------------------


def _mean(m: Fraction) -> dict[str, Any]:
    return {"exact": str(m), "decimal": fixed(m, 3)}


def distribution_to_dict(r: DistributionResult) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "space": r.space,
        "metric": r.metric,
        "parts": [
            {
                "vars": plain_assignment(d.label),
                "count": d.count,
                "mean": _mean(d.mean),
                "min": d.minimum,
                "max": d.maximum,
                "quantiles": {str(q): v for q, v in d.quantiles},
                "bins": [
                    {"low": b.low, "high": b.high, "count": b.count, "cumulative": b.cumulative}
                    for b in d.bins
                ],
                "values": [[v, c] for v, c in d.values] if d.values is not None else None,
                "method": d.method,
                "within": None if r.within is None else r.within[n],
            }
            for n, d in enumerate(r.parts)
        ],
        "bounds": _bounds(r.bounds),
        "notes": list(r.notes),
    }


def distribution_to_csv(r: DistributionResult) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    names = list(r.parts[0].label) if r.parts else []
    binned = any(d.values is None for d in r.parts)
    if binned:
        writer.writerow([*names, "low", "high", "count", "cumulative", "share", "cdf"])
    else:
        writer.writerow([*names, r.metric, "count", "cumulative", "cdf"])
    for d in r.parts:
        label = [show_value(v) for v in d.label.values()]
        if d.values is None:
            for b in d.bins:
                writer.writerow(
                    [
                        *label,
                        b.low,
                        b.high,
                        b.count,
                        b.cumulative,
                        fixed(Fraction(b.count, d.count), 6),
                        fixed(Fraction(b.cumulative, d.count), 6),
                    ]
                )
        else:
            cum = 0
            for v, c in d.values:
                cum += c
                writer.writerow([*label, v, c, cum, fixed(Fraction(cum, d.count), 6)])
    return buf.getvalue()


def _part(
    d: Distribution, metric: str, top: int, within: tuple[Sequence[Bound], int] | None = None
) -> RenderableType:
    title = f"{metric} over {d.count:,} architectures"
    if d.label:
        title += f" ({assignment_text(d.label)})"
    head = Text(title, style="bold")
    stats = Table(box=None, show_header=False)
    stats.add_column("stat")
    stats.add_column("value", justify="right")
    stats.add_column("si", justify="right")
    unit = " B" if metric in BYTES else ""
    stats.add_row("min", grouped(metric, d.minimum), short(metric, d.minimum))
    stats.add_row("mean", fixed(d.mean, 2, group=True) + unit, short(metric, d.mean))
    for q, v in d.quantiles:
        stats.add_row(f"{fixed(q * 100, 0)}%", grouped(metric, v), short(metric, v))
    stats.add_row("max", grouped(metric, d.maximum), short(metric, d.maximum))
    parts: list[RenderableType] = [head, stats]
    if within is not None:
        bounds, count = within
        parts.append(Text(f"within {_bounds_text(bounds)}: {count:,} ({_share(count, d.count)})"))
    if d.bins:
        bins = Table(box=None, show_header=True, header_style="bold")
        drops = {"cumulative": 1, "": 2}  # the bars first
        for col in ("from", "to", "architectures", "share", "cumulative", ""):
            justify = "right" if col else "left"
            add_column(bins, col, justify=justify, drop=drops.get(col, 0), label=col or "bars")
        most = max(b.count for b in d.bins) or 1
        for b in d.bins:
            bar = "#" * round(30 * b.count / most)
            bins.add_row(
                short(metric, b.low),
                short(metric, b.high),
                f"{b.count:,}",
                _share(b.count, d.count),
                _share(b.cumulative, d.count),
                bar,
            )
        parts.append(bins)
    elif d.values is not None:
        parts.append(
            Text(
                f"{len(d.values):,} distinct values (every one with --format csv or json; "
                "or ask for bins)"
            )
        )
    return Group(*parts)


def render_distribution(r: DistributionResult, top: int = 20) -> RenderableType:
    within = r.within or (None,) * len(r.parts)
    parts: list[RenderableType] = [
        _part(d, r.metric, top, None if w is None else (r.bounds, w))
        for d, w in zip(r.parts, within, strict=True)
    ]
    parts += [Text(n, style="yellow") for n in r.notes]
    return Group(*parts)


# --- front, best, samples ---------------------------------------------------------------------


def _key_name(key: tuple[str, int]) -> str:
    return ("max:" if key[1] > 0 else "min:") + key[0]


def front_to_dict(r: FrontResult, convention: Convention) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "space": r.space,
        "keys": [_key_name(k) for k in r.keys],
        "bounds": _bounds(r.bounds),
        "points": [
            {"totals": _json_totals(p.totals), "choices": plain_assignment(p.assignment)}
            for p in r.points
        ],
        "flops_convention": convention.name,
    }


def _totals_columns(table: Table, metrics: Sequence[str], named: Iterable[str]) -> None:
    for m in metrics:
        add_column(table, m, justify="right", drop=metric_drop(m, named))


def render_front(r: FrontResult, convention: Convention) -> RenderableType:
    keys = ", ".join(_key_name(k) for k in r.keys)
    title = f"Pareto front of {r.space} on {keys}: {len(r.points):,} points"
    if r.bounds:
        title += f", within {_bounds_text(r.bounds)}"
    table = Table(box=None, show_header=True, header_style="bold")
    named = _named(r.bounds, r.keys)
    metrics = _metrics([p.totals for p in r.points], named)
    _totals_columns(table, metrics, named)
    table.add_column("choices")
    for p in r.points:
        table.add_row(*_cells(p.totals, metrics), assignment_text(p.assignment))
    parts: list[RenderableType] = [Text(title, style="bold"), table]
    if not r.points:
        parts.append(Text("no architecture is within the bounds", style="red"))
    return Group(*parts)


def front_to_csv(r: FrontResult) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    names = list(r.points[0].assignment) if r.points else []
    metrics = _metrics([p.totals for p in r.points], _named(r.bounds, r.keys))
    writer.writerow([*metrics, *names])
    for p in r.points:
        writer.writerow(
            [*_exact_cells(p.totals, metrics), *(show_value(v) for v in p.assignment.values())]
        )
    return buf.getvalue()


def best_to_dict(r: BestResult, convention: Convention) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "space": r.space,
        "objective": _key_name(r.objective),
        "bounds": _bounds(r.bounds),
        "feasible": r.best is not None,
        "totals": _json_totals(r.best.totals) if r.best else None,
        "choices": plain_assignment(r.best.assignment) if r.best else None,
        "reason": r.reason,
        "flops_convention": convention.name,
    }


def render_best(r: BestResult, convention: Convention) -> RenderableType:
    what = ("largest " if r.objective[1] > 0 else "smallest ") + r.objective[0]
    title = f"The {what} of {r.space}" + (f" within {_bounds_text(r.bounds)}" if r.bounds else "")
    if r.best is None:
        return Group(Text(title, style="bold"), Text(f"infeasible: {r.reason}", style="red"))
    table = Table(box=None, show_header=True, header_style="bold")
    named = _named(r.bounds, [r.objective])
    metrics = _metrics([r.best.totals], named)
    _totals_columns(table, metrics, named)
    table.add_row(*_cells(r.best.totals, metrics))
    return Group(Text(title, style="bold"), table, Text(assignment_text(r.best.assignment)))


def samples_to_dict(r: SampleResult, convention: Convention) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "space": r.space,
        "sampler": r.sampler,
        "seed": r.seed,
        "bounds": _bounds(r.bounds),
        "method": r.method,
        "draws": r.draws,
        "samples": [
            {"totals": _json_totals(s.totals), "choices": plain_assignment(s.assignment)}
            for s in r.samples
        ],
        "notes": list(r.notes),
        "flops_convention": convention.name,
    }


def samples_to_csv(r: SampleResult) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    names = list(r.samples[0].assignment) if r.samples else []
    metrics = _metrics([s.totals for s in r.samples], _named(r.bounds))
    writer.writerow(["sample", *metrics, *names])
    for n, s in enumerate(r.samples, 1):
        writer.writerow(
            [
                n,
                *_exact_cells(s.totals, metrics),
                *(show_value(v) for v in s.assignment.values()),
            ]
        )
    return buf.getvalue()


def render_samples(r: SampleResult, convention: Convention, shown: int = 50) -> RenderableType:
    how = (
        "uniform among the architectures"
        if r.sampler == "uniform"
        else ("every choice uniform (OFA's sampler)")
    )
    title = f"{len(r.samples):,} samples of {r.space}, {how}"
    if r.bounds:
        title += f", within {_bounds_text(r.bounds)}"
    title += f" (seed {r.seed}; {r.draws:,} drawn)"
    table = Table(box=None, show_header=True, header_style="bold")
    table.add_column("#", justify="right")
    metrics = _metrics([s.totals for s in r.samples], _named(r.bounds))
    _totals_columns(table, metrics, _named(r.bounds))
    table.add_column("choices")
    for n, s in enumerate(r.samples[:shown], 1):
        table.add_row(str(n), *_cells(s.totals, metrics), assignment_text(s.assignment))
    parts: list[RenderableType] = [Text(title, style="bold"), table]
    if len(r.samples) > shown:
        parts.append(Text(f"... {len(r.samples) - shown:,} more (all with --format csv or json)"))
    if r.samples:
        mean = {
            m: sum((Fraction(s.totals[m]) for s in r.samples), Fraction(0)) / len(r.samples)
            for m in metrics
        }
        parts.append(
            Text("mean of the samples: " + ", ".join(f"{m} {short(m, v)}" for m, v in mean.items()))
        )
    parts += [Text(n, style="yellow") for n in r.notes]
    if not r.samples:
        parts.append(Text("no architecture drawn was within the bounds", style="red"))
    return Group(*parts)
