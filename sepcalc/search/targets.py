"""What a search must meet: a layer's target reduction, a network's budgets.

Both are exact and inclusive: a target is held as the largest acceptable ratio
separable / standard (a Fraction parsed from the text, never through a float), a budget as the
largest acceptable total; a boundary met exactly counts as met.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from sepcalc.errors import SepcalcError
from sepcalc.expr import ExprError, Number, decimal

# --- layer targets -----------------------------------------------------------------------------


def parse_fraction(text: str, what: str = "value") -> Fraction:
    """An exact rational from ``'0.12'`` (3/25), ``'3/25'``, ``'1e-1'`` or ``'88%'`` (22/25).

    Parsed from the text itself, never through a float.
    """
    raw = text.strip()
    percent = raw.endswith("%")
    if percent:
        raw = raw[:-1].strip()
    try:
        value = decimal(raw)
    except ExprError:
        raise SepcalcError(
            f"{what}: '{text}' is not a number; use a decimal (0.12), a fraction (3/25) "
            "or a percentage (12%)"
        ) from None
    if value and not Fraction(1, 10**30) <= abs(value) <= 10**30:
        raise SepcalcError(f"{what}: '{text}' is out of range (1e-30 to 1e30)")
    return value / 100 if percent else value


@dataclass(frozen=True)
class Target:
    """A target reduction, always held as the largest acceptable ratio separable / standard."""

    max_ratio: Fraction
    text: str
    """How the user asked for it, e.g. 'factor >= 10'."""

    def met(self, ratio: Fraction) -> bool:
        return ratio <= self.max_ratio


def make_target(
    max_ratio: str | None = None, min_factor: str | None = None, min_savings: str | None = None
) -> Target:
    """Exactly one of ratio <= R, factor (1/ratio) >= F, savings (1 - ratio) >= P."""
    given = [t for t in (max_ratio, min_factor, min_savings) if t is not None]
    if len(given) != 1:
        raise SepcalcError(
            "give exactly one target: --max-ratio R (e.g. 0.12), --min-factor F (e.g. 10) "
            "or --min-savings P (e.g. 88% or 0.88)"
        )
    if max_ratio is not None:
        r = parse_fraction(max_ratio, "--max-ratio")
        if r <= 0:
            raise SepcalcError(f"--max-ratio must be positive, got {max_ratio}")
        return Target(r, f"ratio <= {r}")
    if min_factor is not None:
        f = parse_fraction(min_factor, "--min-factor")
        if f <= 0:
            raise SepcalcError(f"--min-factor must be positive, got {min_factor}")
        return Target(1 / f, f"factor >= {f}")
    assert min_savings is not None
    p = parse_fraction(min_savings, "--min-savings")
    if not 0 <= p < 1:
        raise SepcalcError(
            f"--min-savings must be at least 0 and below 100% (e.g. 88% or 0.88), got {min_savings}"
        )
    return Target(1 - p, f"savings >= {percent(p)}")


def percent(x: Fraction) -> str:
    """A share as a percentage: '88%', or 4 significant digits when it is not a whole number."""
    hundred = x * 100
    return f"{hundred}%" if hundred.denominator == 1 else f"{float(hundred):.4g}%"


# --- network budgets ---------------------------------------------------------------------------

NET_METRICS = ("macs", "params", "flops", "activations")


@dataclass(frozen=True)
class Totals:
    """A network's exact totals at one point (FLOPs under the evaluator's convention)."""

    macs: int
    params: int
    flops: int
    activations: int

    def get(self, metric: str) -> int:
        value: int = getattr(self, metric)
        return value

    def as_dict(self) -> dict[str, int]:
        return {m: self.get(m) for m in NET_METRICS}


@dataclass(frozen=True)
class Limit:
    metric: str
    limit: Number
    """Inclusive: a total equal to the limit is within budget."""

    def holds(self, totals: Totals) -> bool:
        return totals.get(self.metric) <= self.limit


def check_budgets(budgets: Sequence[Limit]) -> None:
    if not budgets:
        raise SepcalcError(
            "give at least one budget: --max-macs, --max-params, --max-flops or "
            "--max-activations (SI suffixes allowed: 300M, 4.2M, 1.5G)"
        )
    for b in budgets:
        if b.metric not in NET_METRICS:
            raise SepcalcError(
                f"unknown budget metric '{b.metric}'; choose from {', '.join(NET_METRICS)}"
            )


def within(totals: Totals | None, budgets: Sequence[Limit]) -> bool:
    return totals is not None and all(b.holds(totals) for b in budgets)


def broken(totals: Totals, budgets: Sequence[Limit]) -> list[str]:
    """The budgets ``totals`` breaks, as 'macs 306,572,464 > 300,000,000'."""
    return [
        f"{b.metric} {totals.get(b.metric):,} > {b.limit:,}" for b in budgets if not b.holds(totals)
    ]
