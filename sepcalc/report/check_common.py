"""Wording shared by the ``sepcalc check`` renderers: one sentence per outcome, one summary."""

from __future__ import annotations

from fractions import Fraction

from sepcalc.budget import CheckReport, Outcome, Source, SpecResult, Status
from sepcalc.report.numbers import fixed, signed_percent
from sepcalc.report.numbers import grouped as _grouped


def percent(part: int | Fraction, whole: int | Fraction) -> str:
    """``part`` as a signed percentage of ``whole`` with 2 decimals ('' when whole is 0)."""
    return signed_percent(Fraction(part, whole)) if whole else ""


def amount(o: Outcome, n: int | Fraction) -> str:
    """A value of the outcome's metric: a count grouped (``568,740,352``), bytes with their
    unit (``1,404,928 B``), a latency as a time (``4.626 ms``; exact in the core)."""
    if o.metric.field == "latency":
        from sepcalc.report.device import duration

        return ("-" if n < 0 else "") + duration(abs(Fraction(n)))
    text = _grouped(int(n))
    return f"{text} B" if o.metric.field in ("peak_memory", "flash") else text


def grouped(n: int) -> str:
    return _grouped(n)


def bound(o: Outcome) -> str:
    """The bound as a person wrote it: ``600M``, or ``568,740,352 +2%`` for a baseline."""
    if o.baseline is None:
        return o.text
    allowance = o.text.partition("=")[2].strip()
    return f"{_grouped(o.baseline)} +{allowance}"


def headroom(o: Outcome) -> str:
    """``31,259,648 (5.21%)``: how far below the limit, as a share of the limit."""
    share = f"{fixed(Fraction(100) * o.headroom / o.limit)}%" if o.limit else ""
    return amount(o, o.headroom) + (f" ({share})" if share else "")


def origin(source: Source) -> str:
    """Where a bound was written: ``spec.yaml:12``, ``budgets.yaml:3``, ``--max-macs 600M``."""
    if source.origin in ("cli", "baseline"):
        return source.label
    return f"{source.file}:{source.line}" if source.line else source.file


def check_name(o: Outcome) -> str:
    """``macs <= 600M`` or ``macs <= baseline +2%``: one line naming the check."""
    if o.baseline is None:
        return f"{o.metric} <= {o.text}"
    return f"{o.metric} <= baseline +{o.text.partition('=')[2].strip()}"


def message(result: SpecResult, o: Outcome) -> str:
    """One sentence on a check that failed (or, for a passing one, how it passed)."""
    who = f"{result.network}: " if result.network else ""
    value = f"{o.metric} {amount(o, o.value)}"
    if o.baseline is None:
        if o.passed:
            return f"{who}{value} is within the budget {o.text} ({headroom(o)} to spare)"
        over = -o.headroom
        return (
            f"{who}{value} exceeds the budget {o.text} ({amount(o, o.limit)}) by {amount(o, over)} "
            f"({percent(over, o.limit).lstrip('+')})"
        )
    growth = o.value - o.baseline
    change = percent(growth, o.baseline) or f"{growth:+,}"
    base = f"the baseline {grouped(o.baseline)} ({o.source.file})"
    if o.passed:
        return f"{who}{value} changed {change} from {base}, within {o.text}"
    return (
        f"{who}{value} grew {change} over {base}, more than {o.text} allows "
        f"(at most {amount(o, o.limit)})"
    )


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def summary(report: CheckReport) -> str:
    """``1 of 4 checks failed in 2 specs``, ``1 spec invalid; 0 checks run``, plus how many
    specs were invalid or had no budget."""
    specs = len(report.results)
    invalid = report.count(Status.ERROR)
    unbudgeted = report.count(Status.NO_BUDGET)
    checks, failed = report.checks, report.failed_checks
    if failed:
        ran = f"{failed} of {checks} checks failed"
    elif checks:
        ran = "1 check passed" if checks == 1 else f"all {checks} checks passed"
    else:
        ran = "0 checks run"
    if invalid == specs:
        text = f"{plural(invalid, 'spec')} invalid; 0 checks run"
    elif invalid:
        others = specs - invalid
        where = "the other spec" if others == 1 else f"the other {others} specs"
        text = f"{invalid} of {specs} specs invalid; {ran} in {where}"
    else:
        text = f"{ran} in {plural(specs, 'spec')}"
    return text + (f" ({unbudgeted} without a budget)" if unbudgeted else "")
