"""``sepcalc diff`` for a terminal (rich): totals with absolute and relative change, then layers."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from sepcalc.diff import Diff, LayerStatus
from sepcalc.report.diff_common import (
    LABELS,
    count,
    flops_note,
    kind,
    layer_summary,
    relative,
    side,
    signed,
)
from sepcalc.report.fitting import add_column

_STYLE = {
    LayerStatus.ADDED: "green",
    LayerStatus.REMOVED: "red",
    LayerStatus.CHANGED: "yellow",
    LayerStatus.SAME: "dim",
}


def _delta_style(delta: int) -> str:
    return "red" if delta > 0 else "green" if delta < 0 else "dim"


def _table(title: str) -> Table:
    return Table(title=title, title_justify="left", header_style="bold", box=None, pad_edge=False)


def render_diff_text(d: Diff, *, all_layers: bool = False) -> RenderableType:
    head = Text.assemble(("old ", "dim"), side(d, "old"), ("\nnew ", "dim"), side(d, "new"))
    totals = _table("Totals")
    for name in ("", "old", "new", "change", "%"):
        totals.add_column(name, justify="left" if not name else "right", no_wrap=True)
    for field in d.compared():
        c = d.totals[field]
        style = _delta_style(c.delta)
        totals.add_row(
            LABELS[field],
            count(c.old),
            count(c.new),
            Text(signed(c.delta), style),
            Text(relative(c), style),
        )
    layers = _table(f"Layers ({layer_summary(d)})")
    drops = {"%": 5, "params old": 4, "params new": 3, "MACs old": 2, "MACs new": 1}
    for name in ("layer", "kind", "", "params old", "params new", "change"):
        justify = "right" if "params" in name or name == "change" else "left"
        add_column(layers, name, justify=justify, whole=name != "layer", drop=drops.get(name, 0))
    for name in ("MACs old", "MACs new", "change", "%"):
        add_column(layers, name, justify="right", drop=drops.get(name, 0))
    rows = [r for r in d.layers if all_layers or r.status is not LayerStatus.SAME]
    for row in rows:
        p, m = row.changes["params"], row.changes["macs"]
        layers.add_row(
            row.name,
            kind(row),
            Text(str(row.status) if row.status is not LayerStatus.SAME else "", _STYLE[row.status]),
            count(p.old),
            count(p.new),
            Text(signed(p.delta), _delta_style(p.delta)),
            count(m.old),
            count(m.new),
            Text(signed(m.delta), _delta_style(m.delta)),
            Text(relative(m), _delta_style(m.delta)),
        )
    parts: list[RenderableType] = [head, Text(), totals, Text()]
    if rows:
        parts.append(layers)
    else:
        parts.append(Text(f"Layers: {layer_summary(d)}; every layer costs the same."))
    hidden = d.count(LayerStatus.SAME)
    if rows and hidden and not all_layers:
        layer_s = "layer" if hidden == 1 else "layers"
        parts.append(
            Text(f"{hidden} unchanged {layer_s} not shown (--all shows them).", style="dim")
        )
    parts += [Text(), Text(flops_note(d), style="dim")]
    return Group(*parts)
