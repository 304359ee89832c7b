"""``sepcalc diff --format json``: plain data (schema in docs/ci.md)."""

from __future__ import annotations

from typing import Any

from sepcalc.diff import Change, Diff
from sepcalc.snapshot import Snapshot

SCHEMA_VERSION = 1


def _change(c: Change) -> dict[str, Any]:
    rel = c.relative
    return {
        "old": c.old,
        "new": c.new,
        "delta": c.delta,
        "relative": None if rel is None else float(rel),
    }


def _side(s: Snapshot) -> dict[str, Any]:
    return {"source": s.source, "name": s.name, "convention": s.convention}


def diff_to_dict(d: Diff) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "old": _side(d.old),
        "new": _side(d.new),
        "flops_comparable": d.flops_comparable,
        "increased": list(d.increased()),
        "totals": {f: _change(c) for f, c in d.totals.items()},
        "layers": [
            {
                "name": row.name,
                "status": str(row.status),
                "old_kind": row.old_kind,
                "new_kind": row.new_kind,
                **{f: _change(c) for f, c in row.changes.items()},
            }
            for row in d.layers
        ],
    }
