"""Closed forms for people (sympy's unicode pretty printer, or LaTeX) and as JSON.

JSON expressions are sympy's ``str`` form, which ``sympy.sympify`` parses back (pass
``locals={name: Symbol(name)}`` for the names listed under ``symbols``); exact values are
rationals as strings (``"137/1152"``) plus a float ``decimal``.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import sympy
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from sepcalc.conventions import DEFAULT, Convention
from sepcalc.report.fitting import Preformatted
from sepcalc.report.numbers import approximate, fixed, grouped, scientific, var
from sepcalc.symbolic import (
    RELAXATION,
    SYMBOL_MEANINGS,
    VIEWS,
    FormulaReport,
    Ratio,
    SymbolicCounts,
    SymbolicNetwork,
    as_fraction,
    layer_cost,
    metric,
)
from sepcalc.symbols import LAYER_SYMBOLS

SCHEMA_VERSION = 1
LABELS = {"params": "params", "macs": "MACs", "flops": "FLOPs"}
MACS_NOTE = "MACs = multiply-accumulates of convs and linear layers, no bias (papers' mult-adds)."


def flops_note(convention: Convention) -> str:
    return f"FLOPs ({convention.name} convention) = {convention.description}."


def pretty(expr: sympy.Expr, label: str | None = None, *, latex: bool = False) -> str:
    """``label = expr`` in unicode art (multi-line, aligned on the baseline) or in LaTeX."""
    if latex:
        body = sympy.latex(expr)
        return f"\\mathrm{{{label}}} = {body}" if label else body
    shown = sympy.Eq(sympy.Symbol(label), expr, evaluate=False) if label else expr
    return str(sympy.pretty(shown, use_unicode=True, wrap_line=False))


def exact_text(value: Fraction) -> str:
    """137/1152 -> '137/1152 ≈ 0.1189'; an integer -> '1,234'."""
    if value.denominator == 1:
        return grouped(value.numerator)
    return f"{value} ≈ {scientific(value, 4)}"


def exact_json(expr: sympy.Expr) -> dict[str, Any]:
    """{"expr": ...} and, when no symbol is left, {"exact": "137/1152", "decimal": 0.1189...}."""
    value = as_fraction(expr)
    if value is None:
        return {"expr": str(expr)}
    return {"exact": str(value), "decimal": approximate(value)}


def _symbols_legend(names: tuple[str, ...] | list[str]) -> str:
    parts = []
    for name in names:
        art = str(sympy.pretty(LAYER_SYMBOLS[name], use_unicode=True))
        shown = name if art == name else f"{name} ({art})"
        parts.append(f"{shown}: {SYMBOL_MEANINGS[name]}")
    return "symbols (positive integers): " + "; ".join(parts)


def _count_note(report: FormulaReport) -> str:
    names = report.count.names()
    if not names:
        return (
            "counted: the layers' weights and MACs only (add bias, BatchNorm, activations with "
            "--count bias,norm,act)."
        )
    return (
        f"counted: weights + {', '.join(names)} on every conv/linear stage. MACs never include "
        "bias adds or normalization: --count changes params and FLOPs only."
    )


def _ratio_lines(r: Ratio, a: str, b: str, latex: bool) -> list[str]:
    label = LABELS[r.metric]
    return [
        f"{label} ratio {a} / {b}:",
        pretty(r.ratio, "ratio", latex=latex),
        f"reduction {b} / {a} (1/ratio):",
        pretty(r.reduction, "reduction", latex=latex),
        "savings (1 - ratio):",
        pretty(r.savings, "savings", latex=latex),
    ]


def render_formula(report: FormulaReport, *, latex: bool = False) -> RenderableType:
    parts: list[RenderableType] = []
    for i, f in enumerate(report.formulas):
        parts += [
            Text.assemble((f.kind, "bold cyan"), f"  {f.summary}"),
            Text(f.sizes, style="dim"),
            Text(),
        ]
        for name, expr in f.exprs.items():
            parts += [Preformatted(pretty(expr, LABELS[name], latex=latex)), Text()]
        if report.at_formulas:
            at = report.at_formulas[i]
            values = ", ".join(f"{n}={v}" for n, v in report.at.items())
            parts.append(Text(f"at {values}:", style="bold"))
            for name, expr in at.items():
                value = as_fraction(expr)
                shown = exact_text(value) if value is not None else None
                parts.append(
                    Text(f"{LABELS[name]} = {shown}")
                    if shown is not None
                    else Preformatted(pretty(expr, LABELS[name], latex=latex))
                )
            parts.append(Text())
    if report.ratio is not None:
        a, b = (f.kind for f in report.formulas)
        parts += [Preformatted(line) for line in _ratio_lines(report.ratio, a, b, latex)]
        parts.append(Text())
        if report.at_ratio is not None:
            parts += [_at_ratio(report), Text()]
    parts += [
        Text(_symbols_legend(report.symbols), style="dim"),
        Text(_count_note(report), style="dim"),
        Text(f"{MACS_NOTE} {flops_note(report.convention)}", style="dim"),
    ]
    return Group(*parts)


def _at_ratio(report: FormulaReport) -> Text:
    assert report.at_ratio is not None
    values = ", ".join(f"{n}={v}" for n, v in report.at.items())
    at = report.at_ratio
    r, red, sav = (as_fraction(e) for e in (at.ratio, at.reduction, at.savings))
    if r is None or red is None or sav is None:
        return Text(
            f"at {values}: ratio = {report.at_ratio.ratio} (name every symbol for a number)",
            style="bold",
        )
    return Text(
        f"at {values}: ratio = {exact_text(r)}, i.e. {fixed(red)}x fewer "
        f"{LABELS[report.at_ratio.metric]} (reduction {red}), savings {fixed(100 * sav)}%",
        style="bold",
    )


def formula_to_dict(report: FormulaReport, *, latex: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "kinds": [f.kind for f in report.formulas],
        "count": report.count.names(),
        "convention": {"name": report.convention.name, "flops": report.convention.description},
        "symbols": {n: SYMBOL_MEANINGS[n] for n in report.symbols},
        "formulas": {
            f.kind: {
                "summary": f.summary,
                "sizes": f.sizes,
                **{n: str(e) for n, e in f.exprs.items()},
                **({"latex": {n: sympy.latex(e) for n, e in f.exprs.items()}} if latex else {}),
            }
            for f in report.formulas
        },
    }
    if report.ratio is not None:
        r = report.ratio
        data["ratio"] = {
            "metric": r.metric,
            "of": [f.kind for f in report.formulas],
            "ratio": str(r.ratio),
            "reduction": str(r.reduction),
            "savings": str(r.savings),
            **(
                {
                    "latex": {
                        n: sympy.latex(getattr(r, n)) for n in ("ratio", "reduction", "savings")
                    }
                }
                if latex
                else {}
            ),
        }
    if report.at:
        at: dict[str, Any] = {
            "values": dict(report.at),
            "formulas": {
                f.kind: {n: exact_json(e) for n, e in values.items()}
                for f, values in zip(report.formulas, report.at_formulas, strict=True)
            },
        }
        if report.at_ratio is not None:
            at.update(
                {
                    n: exact_json(getattr(report.at_ratio, n))
                    for n in ("ratio", "reduction", "savings")
                }
            )
        data["at"] = at
    return data


LIST_TEXT_WIDTH = 30
"""The narrowest the `what` column of `formula --list` is wrapped to before the list is printed
as one block a kind instead of a table."""


class _KindList:
    """`formula --list`: a table where the formulas fit whole beside a readable `what` column,
    otherwise one block a kind (the kind and what it is, then one formula a line)."""

    def __init__(self, rows: dict[str, dict[str, str]]) -> None:
        self.rows = rows

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        whole = [max(len("kind"), *map(len, self.rows))] + [
            max(len(label), *(len(row[key]) for row in self.rows.values()))
            for key, label in LABELS.items()
        ]
        if sum(whole) + LIST_TEXT_WIDTH + 2 * len(whole) <= options.max_width:
            yield self._table()
            return
        for i, (kind, row) in enumerate(self.rows.items()):
            grid = Table.grid(padding=(0, 2, 0, 0))
            grid.add_column(no_wrap=True)
            grid.add_column(overflow="fold")
            for key, label in LABELS.items():
                grid.add_row(label, row[key])
            yield Text("" if i == 0 else "\n") + Text(kind, style="bold cyan")
            yield Padding(Group(Text(row["summary"]), grid), (0, 0, 0, 2), expand=False)

    def _table(self) -> Table:
        table = Table(header_style="bold", box=None, pad_edge=False)
        for name in ("kind", "what", *LABELS.values()):
            table.add_column(name, no_wrap=name != "what", overflow="fold")
        for kind, row in self.rows.items():
            table.add_row(kind, row["summary"], *(row[k] for k in LABELS))
        return table


def render_list() -> RenderableType:
    return Group(
        _KindList(_list_rows()),
        Text(),
        Text(f"{MACS_NOTE} {flops_note(DEFAULT)} Sizes: `sepcalc formula KIND`.", style="dim"),
    )


def _list_rows() -> dict[str, dict[str, str]]:
    rows = {}
    for kind, v in VIEWS.items():
        cost = layer_cost(kind)
        rows[kind] = {
            "summary": v.summary,
            "sizes": v.sizes,
            **{n: str(metric(cost, n, DEFAULT)) for n in LABELS},
        }
    return rows


def list_to_dict() -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "convention": {"name": DEFAULT.name, "flops": DEFAULT.description},
        "kinds": _list_rows(),
    }


# --- a network ---------------------------------------------------------------------------------


def _point(net: SymbolicNetwork) -> str:
    return ", ".join(f"{n}={var(v)}" for n, v in net.point.items())


def _display(expr: sympy.Expr, net: SymbolicNetwork) -> sympy.Expr:
    """Collected by the last named var first: MobileNet's resolution**2 * (...) + ... form."""
    syms = [s for n in reversed(net.symbols) for s in expr.free_symbols if s.name == n]
    return sympy.collect(expr, syms) if syms else expr


def _agreement(net: SymbolicNetwork) -> str:
    point, exact = _point(net), net.totals.exact
    numbers = ", ".join(f"{LABELS[n]} {grouped(v)}" for n, v in exact.items())
    rounded = net.rounded_layers
    if not rounded:
        return (
            f"At {point} no rounding occurs: the closed forms equal the exact counts ({numbers})."
        )
    shown = ", ".join(rounded[:6]) + (f" and {len(rounded) - 6} more" if len(rounded) > 6 else "")
    verdict = "equal" if net.totals.agrees(net.point) else "differ from"
    return (
        f"At {point} rounding occurs in {len(rounded)} layer(s) ({shown}); the closed forms "
        f"of the totals {verdict} the exact counts ({numbers})."
    )


def render_network(
    net: SymbolicNetwork, *, per_layer: bool = False, latex: bool = False
) -> RenderableType:
    parts: list[RenderableType] = [
        Text.assemble((net.name, "bold"), f"  closed forms in {', '.join(net.symbols)}"),
        Text(
            f"{RELAXATION}; the structure (repeat counts, when, min/max branches) is the one "
            f"at {_point(net)}.",
            style="dim",
        ),
        Text(),
    ]
    for name, expr in net.totals.exprs.items():
        parts += [Preformatted(pretty(_display(expr, net), LABELS[name], latex=latex)), Text()]
    parts += [Text(_agreement(net), style="bold"), Text()]
    if per_layer:
        table = Table(
            title="Layers", title_justify="left", header_style="bold", box=None, pad_edge=False
        )
        for col in ("layer", "kind", "params", "MACs", "FLOPs"):
            table.add_column(col, no_wrap=True, style="cyan" if col == "kind" else None)
        for layer in net.layers:
            exprs = layer.counts.exprs
            cells = [
                sympy.latex(exprs[n]) if latex else str(_display(exprs[n], net)) for n in LABELS
            ]
            mark = "" if layer.counts.agrees(net.point) else " *"
            table.add_row(layer.name + mark, layer.kind, *cells)
        parts += [table, Text()]
        if net.rounded_layers:
            parts += [
                Text(f"* rounding at {_point(net)}: closed form != exact count", style="dim"),
                Text(),
            ]
    parts.append(Text(f"{MACS_NOTE} {flops_note(net.convention)}", style="dim"))
    return Group(*parts)


def _counts_json(counts: SymbolicCounts, latex: bool) -> dict[str, Any]:
    data: dict[str, Any] = {n: str(e) for n, e in counts.exprs.items()}
    if latex:
        data["latex"] = {n: sympy.latex(e) for n, e in counts.exprs.items()}
    return data


def network_to_dict(
    net: SymbolicNetwork, *, per_layer: bool = False, latex: bool = False
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "name": net.name,
        "relaxation": RELAXATION,
        "symbols": list(net.symbols),
        "point": {n: _number(v) for n, v in net.point.items()},
        "convention": {"name": net.convention.name, "flops": net.convention.description},
        "totals": _counts_json(net.totals, latex),
        "exact_at_point": dict(net.totals.exact),
        "agrees_at_point": net.totals.agrees(net.point),
        "rounded_layers": net.rounded_layers,
    }
    if per_layer:
        data["layers"] = [
            {"name": layer.name, "kind": layer.kind, **_counts_json(layer.counts, latex)}
            for layer in net.layers
        ]
    return data


def _number(value: Any) -> Any:
    """An exact var value for JSON: an int, or a rational as a string ("3/4")."""
    if isinstance(value, Fraction):
        return value.numerator if value.denominator == 1 else str(value)
    return value
