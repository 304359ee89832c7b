"""``sepcalc check --format github``: GitHub Actions workflow commands.

Each exceeded bound becomes ``::error file=F,line=L::message`` at the line where the bound was
written: the spec's ``budget:`` key or the budgets file's key; a bound from a command-line option
or a baseline points at the spec without a line. Each problem of an invalid spec is an error at
its position, and a spec without a budget a warning. The last line is a plain summary.
"""

from __future__ import annotations

from sepcalc.budget import CheckReport, Status
from sepcalc.report.check_common import message, summary


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(level: str, text: str, file: str, line: int = 0, col: int = 0) -> str:
    props = [f"file={escape_property(file)}"]
    if line:
        props.append(f"line={line}")
        if col:
            props.append(f"col={col}")
    return f"::{level} {','.join(props)}::{escape_data(text)}"


def render_github(report: CheckReport) -> str:
    lines = []
    for r in report.results:
        for d in r.diagnostics:
            lines.append(command("error", d.message, d.file, d.line, d.col))
        if r.status is Status.NO_BUDGET:
            lines.append(command("warning", "no budget applies to this spec", r.spec))
        for o in r.outcomes:
            if o.passed:
                continue
            if o.source.origin in ("spec", "file") and o.source.file:
                lines.append(command("error", message(r, o), o.source.file, o.source.line))
            else:
                lines.append(command("error", f"{message(r, o)} [{o.source.label}]", r.spec))
    lines.append(f"sepcalc check: {summary(report)}")
    return "\n".join(lines) + "\n"
