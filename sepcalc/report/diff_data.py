"""``sepcalc diff --format json``: plain data (schema in docs/ci.md).

When the two sides count FLOPs under different conventions (``flops_comparable`` false), every
``flops`` entry is null: the counts are not comparable, so neither are their deltas.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sepcalc.diff import Change, Diff
from sepcalc.report.numbers import approximate
from sepcalc.snapshot import Snapshot

SCHEMA_VERSION = 1


def _change(c: Change) -> dict[str, Any]:
    rel = c.relative
    return {
        "old": c.old,
        "new": c.new,
        "delta": c.delta,
        "relative": None if rel is None else approximate(rel),
    }


def _side(s: Snapshot) -> dict[str, Any]:
    return {"source": s.source, "name": s.name, "convention": s.convention}


def _changes(d: Diff, changes: Mapping[str, Change]) -> dict[str, Any]:
    compared = d.compared()
    return {f: _change(c) if f in compared else None for f, c in changes.items()}


def diff_to_dict(d: Diff) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "old": _side(d.old),
        "new": _side(d.new),
        "flops_comparable": d.flops_comparable,
        "increased": list(d.increased()),
        "totals": _changes(d, d.totals),
        "layers": [
            {
                "name": row.name,
                "status": str(row.status),
                "old_kind": row.old_kind,
                "new_kind": row.new_kind,
                **_changes(d, row.changes),
            }
            for row in d.layers
        ],
    }
