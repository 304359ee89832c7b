"""``sepcalc check --format markdown``: a table ready for a PR comment or a job summary."""

from __future__ import annotations

from sepcalc.budget import CheckReport, Status
from sepcalc.report.check_common import amount, bound, headroom, origin, summary

_MARK = {Status.PASS: "✅", Status.FAIL: "❌", Status.ERROR: "⚠️", Status.NO_BUDGET: "⚪"}


def _cell(text: str) -> str:
    """One table cell: a '|' escaped, line breaks (which would end the row) as spaces."""
    return " ".join(text.replace("|", "\\|").splitlines())


def render_check_markdown(report: CheckReport) -> str:
    lines = [
        f"### {_MARK[report.status]} sepcalc check: {summary(report)}",
        "",
        "| | spec | metric | value | budget | headroom | from |",
        "|---|---|---|---:|---:|---:|---|",
    ]
    for r in report.results:
        spec = f"`{_cell(r.spec)}`"
        if r.status is Status.ERROR:
            lines.append(f"| {_MARK[r.status]} | {spec} | invalid spec | | | | |")
        elif r.status is Status.NO_BUDGET:
            lines.append(f"| {_MARK[r.status]} | {spec} | no budget | | | | |")
        for o in r.outcomes:
            mark = _MARK[Status.PASS if o.passed else Status.FAIL]
            lines.append(
                f"| {mark} | {spec} | {o.metric} | {amount(o, o.value)} | {_cell(bound(o))} "
                f"| {headroom(o)} | {_cell(origin(o.source))} |"
            )
    invalid = [r for r in report.results if r.diagnostics]
    if invalid:
        lines += ["", "Invalid specs:", "", "```"]
        lines += [str(d) for r in invalid for d in r.diagnostics]
        lines.append("```")
    if any(o.metric.field == "flops" for r in report.results for o in r.outcomes):
        lines += ["", f"FLOPs ({report.convention}): {report.convention_description}."]
    return "\n".join(lines) + "\n"
