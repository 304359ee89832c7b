"""``sepcalc diff --format markdown``: totals and changed layers as PR-comment tables."""

from __future__ import annotations

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


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(" ".join(c.replace("|", "\\|").splitlines()) for c in cells) + " |"


def render_diff_markdown(d: Diff, *, all_layers: bool = False) -> str:
    lines = [
        " ".join(f"### sepcalc diff: {side(d, 'old')} → {side(d, 'new')}".splitlines()),
        "",
        "| | old | new | change | % |",
        "|---|---:|---:|---:|---:|",
    ]
    for field in d.compared():
        c = d.totals[field]
        label = LABELS[field].strip()
        label = f"↳ {label}" if field.startswith("params.") else f"**{label}**"
        lines.append(_row([label, count(c.old), count(c.new), signed(c.delta), relative(c)]))
    rows = [r for r in d.layers if all_layers or r.status is not LayerStatus.SAME]
    lines += ["", f"Layers: {layer_summary(d)}.", ""]
    if rows:
        lines += [
            "| layer | kind | | params old | params new | change | MACs old | MACs new "
            "| change | % |",
            "|---|---|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for row in rows:
            p, m = row.changes["params"], row.changes["macs"]
            status = "" if row.status is LayerStatus.SAME else str(row.status)
            lines.append(
                _row(
                    [
                        f"`{row.name}`",
                        kind(row),
                        status,
                        count(p.old),
                        count(p.new),
                        signed(p.delta),
                        count(m.old),
                        count(m.new),
                        signed(m.delta),
                        relative(m),
                    ]
                )
            )
        lines.append("")
    lines.append(flops_note(d))
    return "\n".join(lines) + "\n"
