"""The terminal report (rich): per-layer table, totals, and the breakdown by kind."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from sepcalc.analysis import Analysis
from sepcalc.report.columns import Rows, cells, chosen
from sepcalc.report.fitting import add_column
from sepcalc.report.numbers import grouped, shape, share, si, times, var


def _rows(analysis: Analysis, columns: Sequence[str] | None) -> Table:
    """The per-layer table, or the table by block at the analysis's depth."""
    rows = Rows.of(analysis)
    chosen_columns = chosen(columns, rows, standard_by_default=True)
    table = Table(
        title=rows.title, title_justify="left", header_style="bold", box=None, pad_edge=False
    )
    table.add_column(rows.name_header, no_wrap=True)
    for column in chosen_columns:
        add_column(
            table,
            column.header,
            justify="right" if column.numeric else "left",
            style=column.style or None,
            no_wrap=column.no_wrap,
            whole=column.numeric or column.whole,
            drop=column.drop if columns is None else 0,  # none the user chose
        )
    for row in rows.rows:
        table.add_row(row.name, *cells(row, chosen_columns, rows))
    return table


def _totals(analysis: Analysis) -> Table:
    t = analysis.totals
    table = Table(
        title="Totals", title_justify="left", header_style="bold", box=None, pad_edge=False
    )
    for name in ("", "params", "MACs", "FLOPs", "activations"):
        table.add_column(name, justify="left" if not name else "right")
    table.add_row(
        "this network",
        grouped(t.params),
        grouped(t.macs),
        grouped(t.flops),
        grouped(t.activations),
        style="bold",
    )
    table.add_row("", si(t.params), si(t.macs), si(t.flops), si(t.activations), style="dim")
    if analysis.standard is not None:
        s = analysis.standard.totals
        table.add_row(
            "standard-conv equivalent",
            grouped(s.params),
            grouped(s.macs),
            grouped(s.flops),
            grouped(s.activations),
            style="magenta",
        )
        table.add_row(
            "reduction",
            times(s.params, t.params),
            times(s.macs, t.macs),
            times(s.flops, t.flops),
            "",
            style="magenta",
        )
    return table


def _kinds(analysis: Analysis) -> Table:
    t = analysis.totals
    table = Table(
        title="By kind", title_justify="left", header_style="bold", box=None, pad_edge=False
    )
    for name in ("kind", "params", "% params", "MACs", "% MACs"):
        add_column(table, name, justify="left" if name == "kind" else "right", whole=True)
    for kind, c in sorted(analysis.by_kind.items(), key=lambda kv: (-kv[1].macs, kv[0])):
        if c.params or c.macs:
            table.add_row(
                kind,
                grouped(c.params),
                share(c.params, t.params),
                grouped(c.macs),
                share(c.macs, t.macs),
            )
    return table


def render_table(
    analysis: Analysis, *, layers: bool = True, columns: Sequence[str] | None = None
) -> RenderableType:
    """The report: the rows (per layer, or by block at the analysis's depth) with ``columns``
    (names of :data:`sepcalc.report.columns.NAMES`; default: today's), the totals and the
    breakdown by kind. ``layers=False`` leaves the rows out."""
    vars_ = "  ".join(f"{k}={var(v)}" for k, v in analysis.vars.items())
    head = Text.assemble(
        (analysis.name, "bold"),
        f"  input {shape(analysis.input_shape)}",
        (f"  {vars_}" if vars_ else "", "dim"),
    )
    legend = Text(
        f"MACs = multiply-accumulates (papers' mult-adds). FLOPs ({analysis.convention.name}) = "
        f"{analysis.convention.description}.",
        style="dim",
    )
    parts: list[RenderableType] = [head, Text()]
    if layers:
        parts += [_rows(analysis, columns), Text()]
    parts += [_totals(analysis), Text(), _kinds(analysis), Text(), legend]
    return Group(*parts)
