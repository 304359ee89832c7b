"""What a search must meet: a layer's target reduction, a network's budgets.

Both are exact and inclusive: a target is held as the largest acceptable ratio
separable / standard (a Fraction parsed from the text, never through a float), a budget as the
largest acceptable total; a boundary met exactly counts as met.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import cast

from sepcalc.errors import SepcalcError
from sepcalc.expr import Number, scientific

# --- layer targets -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A target reduction, always held as the largest acceptable ratio separable / standard."""

    max_ratio: Fraction
    text: str
    """How the user asked for it, e.g. 'factor >= 10'."""

    def met(self, ratio: Fraction) -> bool:
        return ratio <= self.max_ratio


def ratio_target(r: Fraction) -> Target:
    """ratio <= r."""
    return Target(r, f"ratio <= {r}")


def factor_target(f: Fraction) -> Target:
    """At least f times cheaper: 1/ratio >= f."""
    return Target(1 / f, f"factor >= {f}")


def savings_target(p: Fraction) -> Target:
    """Saves at least the share p of the standard cost: 1 - ratio >= p."""
    return Target(1 - p, f"savings >= {percent(p)}")


def percent(x: Fraction) -> str:
    """A share as a percentage: '88%', or 4 significant digits when it is not a whole number."""
    hundred = x * 100
    return f"{hundred}%" if hundred.denominator == 1 else f"{scientific(hundred, 4)}%"


# --- network budgets ---------------------------------------------------------------------------

NET_METRICS = ("macs", "params", "flops", "activations")
DEVICE_LIMITS = ("latency", "peak_memory", "flash")
"""The device model's totals a search can bound (docs/device.md): seconds, bytes, bytes."""


@dataclass(frozen=True)
class Totals:
    """A network's exact totals at one point (FLOPs under the evaluator's convention)."""

    macs: int
    params: int
    flops: int
    activations: int
    device: Mapping[str, Number] = field(default_factory=dict)
    """The device model's totals (:data:`DEVICE_LIMITS`), when the search has device budgets."""

    def get(self, metric: str) -> int:
        if metric in DEVICE_LIMITS:
            # NB: latency is an exact Fraction of a second; it compares and sums like an int
            return cast(int, self.device[metric])
        value: int = getattr(self, metric)
        return value

    def as_dict(self) -> dict[str, int]:
        """The totals by metric; the device model's too when there are any (latency as a
        plain number of seconds)."""
        from sepcalc.expr import plain

        return {m: self.get(m) for m in NET_METRICS} | {m: plain(v) for m, v in self.device.items()}


@dataclass(frozen=True)
class Limit:
    metric: str
    limit: Number
    """Inclusive: a total equal to the limit is within budget."""

    def holds(self, totals: Totals) -> bool:
        return totals.get(self.metric) <= self.limit


def check_budgets(budgets: Sequence[Limit]) -> None:
    metrics = (*NET_METRICS, *DEVICE_LIMITS)
    if not budgets:
        raise SepcalcError(f"give at least one budget, on {', '.join(metrics)}")
    for b in budgets:
        if b.metric not in metrics:
            raise SepcalcError(
                f"unknown budget metric '{b.metric}'; choose from {', '.join(metrics)}"
            )


def shown(metric: str, value: Number) -> str:
    """A total in a message, as the reports print it: a count grouped, a latency as a time
    (``4.626 ms``), bytes with their binary size (``1,404,928 B (1.3 MiB)``)."""
    if metric in DEVICE_LIMITS:
        from sepcalc.device.units import duration, size

        return duration(Fraction(value)) if metric == "latency" else size(int(value))
    return f"{value:,}"


def _exact_seconds(value: Number) -> str:
    exact = Fraction(value)
    return f"{exact.numerator}/{exact.denominator} s"


def within(totals: Totals | None, budgets: Sequence[Limit]) -> bool:
    return totals is not None and all(b.holds(totals) for b in budgets)


def broken(totals: Totals, budgets: Sequence[Limit]) -> list[str]:
    """The budgets ``totals`` breaks, as 'macs 306,572,464 > 300,000,000' (two latencies that
    round alike exactly, in seconds)."""
    out = []
    for b in budgets:
        if b.holds(totals):
            continue
        value, limit = shown(b.metric, totals.get(b.metric)), shown(b.metric, b.limit)
        if value == limit:
            value, limit = _exact_seconds(totals.get(b.metric)), _exact_seconds(b.limit)
        out.append(f"{b.metric} {value} > {limit}")
    return out


def budget_status(totals: Totals | None, budgets: Sequence[Limit], error: str | None = None) -> str:
    """'within budget', 'over: macs, params', or why the point does not build."""
    if totals is None:
        return f"does not build: {error}"
    over = [b.metric for b in budgets if not b.holds(totals)]
    return "within budget" if not over else "over: " + ", ".join(over)
