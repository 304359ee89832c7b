"""``sepcalc crosscheck --against``: a spec beside the user's module, as tables or plain data."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from sepcalc.crosscheck.against import AgainstCheck, AgainstResult, Row
from sepcalc.crosscheck.compare import TOOL_NAMES
from sepcalc.report.data import SCHEMA_VERSION
from sepcalc.report.numbers import grouped, shape


def _row_to_dict(row: Row) -> dict[str, Any]:
    return {
        "layers": list(row.layers),
        "modules": list(row.modules),
        "agrees": row.agrees,
        "params": row.params,
        "module_params": row.tool_params,
        "flops": row.flops,
        "module_flops": row.tool_flops,
    }


def against_to_dict(result: AgainstResult) -> dict[str, Any]:
    """The ``--format json`` output of a check against the user's module."""
    return {
        "schema_version": SCHEMA_VERSION,
        "name": result.name,
        "against": result.target,
        "agrees": result.agrees,
        "tools": [
            {
                "tool": c.tool,
                "counter": TOOL_NAMES.get(c.tool, c.tool),
                "convention": {"name": c.convention.name, "flops": c.convention.description},
                "agrees": c.agrees,
                "totals": {
                    "flops": c.flops,
                    "module_flops": c.tool_flops,
                    "params": c.params,
                    "module_params": c.tool_params,
                    "output_shape": list(c.shape),
                    "module_output_shape": list(c.tool_shape),
                },
                "stopped_at": c.stopped,
                "rows": [_row_to_dict(r) for r in c.rows],
                "uncounted_ops": dict(c.uncounted),
            }
            for c in result.checks
        ],
    }


def _span(names: Sequence[str]) -> str:
    shown = [n or "(model)" for n in names]
    if len(shown) <= 2:
        return ", ".join(shown)
    return f"{shown[0]} .. {shown[-1]} ({len(shown)})"


def _rows_table(check: AgainstCheck, rows: Sequence[Row]) -> Table:
    table = Table(header_style="bold", box=None, pad_edge=False)
    for name in ("spec layers", "modules", "params sepcalc", "params module", "FLOPs sepcalc",
                 "FLOPs module"):  # fmt: skip
        table.add_column(name, justify="right" if name[0] in "pF" else "left")
    for row in rows:
        bad = "" if row.agrees else "red"
        table.add_row(
            Text(_span(row.layers), style=bad),
            _span(row.modules),
            grouped(row.params),
            Text(grouped(row.tool_params), style="red" if row.params != row.tool_params else ""),
            grouped(row.flops),
            Text(grouped(row.tool_flops), style="red" if row.flops != row.tool_flops else ""),
        )
    return table


def render_against_check(check: AgainstCheck, target: str, all_rows: bool) -> RenderableType:
    verdict = Text("agree", style="green") if check.agrees else Text("DIFFER", style="bold red")
    head = Text.assemble((TOOL_NAMES[check.tool], "bold"), f": the spec vs {target}: ", verdict)
    convention = Text(
        f"FLOPs under convention {check.convention.name}: {check.convention.description}",
        style="dim",
    )
    totals = Table(header_style="bold", box=None, pad_edge=False)
    for name in ("", "sepcalc", "module"):
        totals.add_column(name, justify="right" if name else "left")
    totals.add_row("FLOPs", grouped(check.flops), grouped(check.tool_flops))
    totals.add_row("params", grouped(check.params), grouped(check.tool_params))
    totals.add_row("output", shape(check.shape), shape(check.tool_shape))
    parts: list[RenderableType] = [head, convention, totals]
    if check.stopped is not None:
        parts.append(
            Text(
                f"Layer by layer, the spec and the module part at '{check.stopped}'; the layers "
                "after it are not compared.",
                style="red",
            )
        )
    rows = check.rows if all_rows else check.differing
    if rows:
        label = "Rows" if all_rows else "Rows that differ"
        parts += [Text(label, style="bold"), _rows_table(check, rows)]
    if check.uncounted:
        ops = ", ".join(f"{op} x{n}" for op, n in sorted(check.uncounted.items()))
        parts.append(Text(f"uncounted by {check.tool}: {ops}", style="dim"))
    return Group(*parts, Text(""))


def render_against(result: AgainstResult, all_rows: bool) -> RenderableType:
    """Every tool's check of the spec against the module."""
    return Group(*(render_against_check(c, result.target, all_rows) for c in result.checks))
