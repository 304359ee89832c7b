"""``sepcalc check`` for a terminal (rich): metric, value, budget, headroom, result per spec."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from sepcalc.budget import CheckReport, SpecResult, Status
from sepcalc.report.check_common import amount, bound, headroom, origin, summary
from sepcalc.report.fitting import add_column

_STATUS = {
    Status.PASS: ("PASS", "bold green"),
    Status.FAIL: ("FAIL", "bold red"),
    Status.ERROR: ("INVALID", "bold red"),
    Status.NO_BUDGET: ("NO BUDGET", "yellow"),
}


def _spec(result: SpecResult) -> RenderableType:
    label, style = _STATUS[result.status]
    head = Text.assemble(
        (label, style), "  ", (result.spec, "bold"), (f"  {result.network}", "dim")
    )
    if result.status is Status.ERROR:
        n = len(result.diagnostics)
        return Text.assemble(head, f"\n  {n} error{'s' if n != 1 else ''}; see stderr")
    if result.status is Status.NO_BUDGET:
        return Text.assemble(
            head, "\n  no budget applies (spec budget:, --budgets file or --max-* options)"
        )
    table = Table(header_style="bold", box=None, pad_edge=False, padding=(0, 2, 0, 0))
    add_column(table, "  metric", no_wrap=True, whole=True)
    for name in ("value", "budget", "headroom"):
        table.add_column(name, justify="right", no_wrap=True)
    add_column(table, "result", no_wrap=True, drop=1)  # the headroom's sign says it too
    add_column(table, "from", style="dim", no_wrap=True, whole=True, drop=2)  # file:line
    for o in result.outcomes:
        table.add_row(
            f"  {o.metric}",
            amount(o, o.value),
            bound(o),
            headroom(o),
            Text("pass", "green") if o.passed else Text("FAIL", "bold red"),
            origin(o.source),
        )
    return Group(head, table)


def render_check_text(report: CheckReport) -> RenderableType:
    parts: list[RenderableType] = []
    for result in report.results:
        parts += [_spec(result), Text()]
    style = {Status.PASS: "green", Status.FAIL: "red", Status.ERROR: "red"}[report.status]
    parts.append(Text(summary(report), style=style))
    if any(o.metric.field == "flops" for r in report.results for o in r.outcomes):
        parts.append(
            Text(f"FLOPs ({report.convention}) = {report.convention_description}.", style="dim")
        )
    return Group(*parts)
