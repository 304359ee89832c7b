"""How a table's columns give way on a narrow terminal (read by the CLI when it fits a table).

A column is *whole* when no word of its cells may be split across lines: numbers, sizes,
times, shapes, kind names. Such a column may wrap only between words (``121,410,872
(80.94%)`` onto two lines), never inside one. A column that may be *dropped* is left out, in
the order of its ``drop`` (highest first), when the table cannot fit the terminal otherwise;
the table then says which in its caption. Columns made by plain ``Table.add_column`` are whole
when right-justified (the reports right-justify numbers) and never dropped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import Any

from rich.table import Column, Table
from rich.text import Text


@dataclass
class FitColumn(Column):
    """A rich column that says how it gives way (see the module)."""

    whole: bool = False
    """Wrapped only between words, never inside one."""
    drop: int = 0
    """0: always shown; otherwise left out on a narrow terminal, highest first."""
    label: str = ""
    """What the table's caption calls the column when it is left out (default: its header)."""


def add_column(
    table: Table,
    header: str = "",
    *,
    whole: bool | None = None,
    drop: int = 0,
    label: str = "",
    **kwargs: Any,
) -> None:
    """``table.add_column(header, **kwargs)``, as a :class:`FitColumn`; ``whole`` defaults to
    whether the column is right-justified."""
    table.add_column(header, **kwargs)
    plain = table.columns[-1]
    values = {f.name: getattr(plain, f.name) for f in fields(plain)}
    if whole is None:
        whole = plain.justify == "right"
    table.columns[-1] = FitColumn(**values, whole=whole, drop=drop, label=label)


METRIC_DROP = {"flops": 2, "activations": 1}
"""The totals a table of many totals leaves out first on a narrow terminal (FLOPs, about twice
the MACs, then activations), unless a budget, bound or key names them."""


def metric_drop(metric: str, named: Iterable[str] = ()) -> int:
    """The ``drop`` of a column of the total ``metric``: never when ``named``."""
    return 0 if metric in set(named) else METRIC_DROP.get(metric, 0)


class Preformatted(Text):
    """Text laid out by hand over several lines (a formula drawn by sympy's pretty printer):
    never wrapped as prose, which would tear the drawing apart."""


def label(column: Column) -> str:
    """What a caption calls ``column``."""
    named = column.label if isinstance(column, FitColumn) else ""
    return named or str(column.header)


def is_whole(column: Column) -> bool:
    """Whether no word of ``column``'s cells may be split (see the module)."""
    return column.whole if isinstance(column, FitColumn) else column.justify == "right"


def drop_order(column: Column) -> int:
    """When ``column`` is left out on a narrow terminal: 0 never, else highest first."""
    return column.drop if isinstance(column, FitColumn) else 0
