"""The zoo listing (``sepcalc zoo``): a table or plain data, rendering only."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.table import Table

from sepcalc.analysis import Analysis
from sepcalc.report.data import SCHEMA_VERSION
from sepcalc.report.fitting import add_column
from sepcalc.report.numbers import grouped, shape, si
from sepcalc.zoo import PREFIX


def zoo_to_dict(entries: Sequence[tuple[str, Analysis]]) -> dict[str, Any]:
    """Each bundled spec: its argument (``zoo:NAME``), network name, input and totals."""
    return {
        "schema_version": SCHEMA_VERSION,
        "specs": [
            {
                "spec": f"{PREFIX}{name}",
                "name": a.name,
                "input": {"channels": a.input_shape[0], "size": list(a.input_shape[1:])},
                "params": a.totals.params,
                "macs": a.totals.macs,
            }
            for name, a in entries
        ],
    }


def render_zoo(entries: Sequence[tuple[str, Analysis]]) -> Table:
    table = Table(
        title="Bundled specs (sepcalc analyze zoo:NAME; sepcalc zoo NAME prints one)",
        title_justify="left",
        header_style="bold",
        box=None,
        pad_edge=False,
    )
    table.add_column("spec", no_wrap=True)
    add_column(table, "network", drop=3)
    add_column(table, "input", whole=True)
    for header, drop, name in (("params", 0, ""), ("", 2, "params (SI)"), ("MACs", 0, ""),
                               ("", 1, "MACs (SI)")):  # fmt: skip
        add_column(table, header, justify="right", drop=drop, label=name)
    for name, a in entries:
        t = a.totals
        table.add_row(
            f"{PREFIX}{name}",
            a.name,
            shape(a.input_shape),
            grouped(t.params),
            si(t.params),
            grouped(t.macs),
            si(t.macs),
        )
    return table
