"""``sepcalc check --format json``: plain data with a stable schema.

The schema is docs/check-report.schema.json (documented in docs/ci.md). ``schema_version``
changes only when a field is removed or changes meaning; new fields may appear at any time.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from sepcalc.budget import CheckReport, Outcome, SpecResult, Status
from sepcalc.expr import approximate


def _number(n: int | Fraction) -> int | float | str:
    """A count as it is; a time (latency, seconds) as a float, its exact value under 'exact'
    (past a float's range, in scientific notation as a string)."""
    return n if isinstance(n, int) else approximate(n)


def _exact(o: Outcome) -> dict[str, Any]:
    if all(isinstance(n, int) for n in (o.value, o.limit)):
        return {}
    fractions = {k: Fraction(v) for k, v in (("value", o.value), ("limit", o.limit),
                                              ("headroom", o.headroom))}  # fmt: skip
    return {"exact": {k: f"{v.numerator}/{v.denominator}" for k, v in fractions.items()}}


SCHEMA_VERSION = 1


def _outcome(o: Outcome) -> dict[str, Any]:
    s = o.source
    return {
        "metric": str(o.metric),
        "type": "budget" if o.baseline is None else "baseline",
        "value": _number(o.value),
        "limit": _number(o.limit),
        "headroom": _number(o.headroom),
        **_exact(o),
        "passed": o.passed,
        "bound": o.text,
        "baseline": o.baseline,
        "source": {
            "origin": s.origin,
            "file": s.file or None,
            "line": s.line or None,
            "label": s.label,
        },
    }


def _result(r: SpecResult) -> dict[str, Any]:
    return {
        "spec": r.spec,
        "network": r.network or None,
        "status": str(r.status),
        "checks": [_outcome(o) for o in r.outcomes],
        "diagnostics": [
            {"file": d.file, "line": d.line or None, "col": d.col or None, "message": d.message}
            for d in r.diagnostics
        ],
    }


def check_report_to_dict(report: CheckReport) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "status": str(report.status),
        "convention": {"name": report.convention, "flops": report.convention_description},
        "summary": {
            "specs": len(report.results),
            "passed": report.count(Status.PASS),
            "failed": report.count(Status.FAIL),
            "invalid": report.count(Status.ERROR),
            "no_budget": report.count(Status.NO_BUDGET),
            "checks": report.checks,
            "failed_checks": report.failed_checks,
        },
        "specs": [_result(r) for r in report.results],
    }
