"""The terminal report (rich): per-layer table, totals, and the breakdown by kind."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from sepcalc.analysis import Analysis
from sepcalc.report.numbers import grouped, shape, share, si, times, var


def _layers(analysis: Analysis) -> Table:
    total = analysis.totals.macs
    std = {r.name: r for r in analysis.standard.layers} if analysis.standard else None
    table = Table(
        title="Layers", title_justify="left", header_style="bold", box=None, pad_edge=False
    )
    table.add_column("layer", no_wrap=True)
    table.add_column("kind", style="cyan", no_wrap=True)
    table.add_column("output", style="dim", no_wrap=True)
    table.add_column("params", justify="right")
    table.add_column("MACs", justify="right")
    table.add_column("% MACs", justify="right")
    if std:
        table.add_column("std-conv MACs", justify="right", style="magenta")
        table.add_column("saving", justify="right", style="magenta")
        macs = {r.name: r.counts.macs for r in analysis.layers}
    for row in analysis.layers:
        cells = [
            row.name,
            row.kind,
            shape(row.output_shape),
            grouped(row.counts.params),
            si(row.counts.macs),
            share(row.counts.macs, total),
        ]
        if std:
            s = std[row.name]
            original = sum(macs[name] for name in s.replaces)
            if s.replaces:
                cells += [si(s.counts.macs), times(s.counts.macs, original)]
            else:
                cells += ["fused" if s.note else "", ""]
        table.add_row(*cells)
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
        table.add_column(name, justify="left" if name == "kind" else "right")
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


def render_table(analysis: Analysis, *, layers: bool = True) -> RenderableType:
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
        parts += [_layers(analysis), Text()]
    parts += [_totals(analysis), Text(), _kinds(analysis), Text(), legend]
    return Group(*parts)
