"""Number wording shared by the ``sepcalc diff`` renderers."""

from __future__ import annotations

from sepcalc.diff import Change, Diff, LayerDiff, LayerStatus
from sepcalc.report.numbers import grouped, signed_percent

LABELS = {
    "params": "params",
    "params.weight": "  weight",
    "params.bias": "  bias",
    "params.norm": "  norm",
    "macs": "MACs",
    "flops": "FLOPs",
    "activations": "activations",
}


def count(n: int | None) -> str:
    return "" if n is None else grouped(n)


def signed(n: int) -> str:
    return f"{n:+,}" if n else "0"


def relative(change: Change) -> str:
    """``-38.77%``; ``new`` for a count that was 0; empty when nothing changed."""
    rel = change.relative
    if not change.delta:
        return ""
    if rel is not None:
        return signed_percent(rel)
    return "new"


def kind(row: LayerDiff) -> str:
    if row.old_kind and row.new_kind and row.old_kind != row.new_kind:
        return f"{row.old_kind} -> {row.new_kind}"
    return row.new_kind or row.old_kind or ""


def side(d: Diff, which: str) -> str:
    snap = d.old if which == "old" else d.new
    return f"{snap.name} ({snap.source})" if snap.source else snap.name


def layer_summary(d: Diff) -> str:
    words = {LayerStatus.SAME: "unchanged"}
    parts = [f"{d.count(s)} {words.get(s, str(s))}" for s in LayerStatus if d.count(s)]
    return ", ".join(parts) or "no layers"


def flops_note(d: Diff) -> str:
    """Why FLOPs are not compared, or what they mean."""
    if not d.flops_comparable:
        return (
            f"FLOPs not compared: the old side counts them with the '{d.old.convention}' "
            f"convention, the new side with '{d.new.convention}'."
        )
    meaning = f": {d.new.flops_meaning}" if d.new.flops_meaning else ""
    return f"MACs are multiply-accumulates; FLOPs ({d.new.convention}){meaning}."
