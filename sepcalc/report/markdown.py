"""A Markdown report: totals, breakdown by kind, and the per-layer table."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sepcalc.analysis import Analysis
from sepcalc.report.columns import Rows, cells, chosen
from sepcalc.report.numbers import grouped, shape, share, times, var

_SPECIAL = re.compile(r"[\\`*|<>\[\]]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
"""Characters that would end a table cell or start markup: backslash, backtick, *, |, <, >,
brackets, and an underscore that is not inside a word (GFM does not emphasize those)."""


def text(value: object) -> str:
    """Text from the spec (names, vars) as literal Markdown on one line: special characters
    backslash-escaped (so ``|`` cannot split a table cell), line breaks as ``<br>``."""
    escaped = _SPECIAL.sub(lambda m: "\\" + m.group(), str(value))
    return "<br>".join(escaped.splitlines()) if escaped else escaped


def _table(header: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    align = ["---:" if i in right else "---" for i in range(len(header))]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return lines


def render_markdown(analysis: Analysis, *, columns: Sequence[str] | None = None) -> str:
    """Totals, the breakdown by kind, then the rows (per layer, or by block at the analysis's
    depth) with ``columns`` (names of :data:`sepcalc.report.columns.NAMES`; default: the kind,
    output shape, params, MACs and share of MACs, and the number of layers by block)."""
    t = analysis.totals
    vars_ = ", ".join(f"{text(k)}={var(v)}" for k, v in analysis.vars.items())
    lines = [
        f"# {text(analysis.name)}",
        "",
        f"Input {shape(analysis.input_shape)}" + (f"; vars: {vars_}" if vars_ else "") + ".",
        f"MACs are multiply-accumulates; FLOPs ({analysis.convention.name}): "
        f"{analysis.convention.description}.",
        "",
    ]
    header = ["", "params", "MACs", "FLOPs", "activations"]
    totals = [
        ["**total**", grouped(t.params), grouped(t.macs), grouped(t.flops), grouped(t.activations)]
    ]
    if analysis.standard is not None:
        s = analysis.standard.totals
        totals.append(
            [
                "standard-conv equivalent",
                grouped(s.params),
                grouped(s.macs),
                grouped(s.flops),
                grouped(s.activations),
            ]
        )
        totals.append(
            [
                "reduction",
                times(s.params, t.params),
                times(s.macs, t.macs),
                times(s.flops, t.flops),
                "",
            ]
        )
    lines += [*_table(header, totals, {1, 2, 3, 4}), "", "## By kind", ""]
    kinds = sorted(analysis.by_kind.items(), key=lambda kv: -kv[1].macs)
    lines += _table(
        ["kind", "params", "% params", "MACs", "% MACs"],
        [
            [
                k,
                grouped(c.params),
                share(c.params, t.params),
                grouped(c.macs),
                share(c.macs, t.macs),
            ]
            for k, c in kinds
            if c.params or c.macs
        ],
        {1, 2, 3, 4},
    )
    rows = Rows.of(analysis)
    chosen_columns = chosen(columns, rows, standard_by_default=False)
    lines += ["", f"## {rows.title}", ""]
    lines += _table(
        [rows.name_header, *(c.header for c in chosen_columns)],
        [[text(r.name), *map(text, cells(r, chosen_columns, rows))] for r in rows.rows],
        {i + 1 for i, c in enumerate(chosen_columns) if c.numeric},
    )
    return "\n".join(lines) + "\n"
