"""``sepcalc search channels`` and ``search kernel``: the smallest C_out or kernel, as a table or
plain data."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from sepcalc.report.data import SCHEMA_VERSION
from sepcalc.report.numbers import approximate, scientific
from sepcalc.search import Achieved, LayerResult


def _dec(x: Fraction, digits: int = 6) -> str:
    return scientific(x, digits)


def _achieved_dict(a: Achieved) -> dict[str, Any]:
    return {
        "ratio": str(a.ratio),
        "ratio_decimal": approximate(a.ratio),
        "factor": str(a.factor),
        "factor_decimal": approximate(a.factor),
        "savings": str(a.savings),
        "savings_percent": approximate(a.savings * 100),
    }


def layer_to_dict(r: LayerResult) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "feasible": r.feasible,
        "search": r.unknown,
        "fixed": dict(r.fixed),
        "target": {"text": r.target.text, "max_ratio": str(r.target.max_ratio)},
        "metric": r.model.metric,
        "convention": r.model.convention.name if r.model.metric == "flops" else None,
        "count": r.model.count.names(),
        "c_in": r.model.c_in,
        "ratio": r.closed_form,
        "ratio_general": r.general_form,
        "answer": r.answer.value if r.answer else None,
        "achieved": _achieved_dict(r.answer) if r.answer else None,
        "next_fails": r.next_fails.value if r.next_fails else None,
        "next_fails_achieved": _achieved_dict(r.next_fails) if r.next_fails else None,
        "reason": r.reason,
    }


def _summary(a: Achieved) -> str:
    return (
        f"ratio {a.ratio} = {_dec(a.ratio)}, factor {_dec(a.factor, 5)}x, "
        f"savings {_dec(a.savings * 100, 6)}%"
    )


def render_layer(r: LayerResult) -> RenderableType:
    fixed = ", ".join(f"{k}={v}" for k, v in r.fixed.items())
    head = Text(
        f"Smallest {r.unknown} with {r.target.text} at {fixed}; ratio = {r.model.describe()}"
    )
    table = Table(box=None, show_header=False, pad_edge=False)
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    table.add_row("ratio", f"{r.closed_form}   (in general {r.general_form})")
    if r.answer is not None:
        table.add_row("answer", f"{r.unknown} = {r.answer.value}")
        table.add_row("achieved", _summary(r.answer))
        if r.next_fails is not None:
            table.add_row(
                "next smaller",
                f"{r.unknown} = {r.next_fails.value} fails: {_summary(r.next_fails)}",
            )
        else:
            table.add_row("next smaller", "none: this is the smallest there is")
        return Group(head, table)
    return Group(head, table, Text(f"infeasible: {r.reason}"))
