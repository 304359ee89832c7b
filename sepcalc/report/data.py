"""Analysis results as plain data (the JSON schema, documented in docs/output.md)."""

from __future__ import annotations

from typing import Any

from sepcalc.analysis import Analysis, BlockRow, LayerRow, Row
from sepcalc.report.numbers import plain

SCHEMA_VERSION = 1


def _layer(row: LayerRow) -> dict[str, Any]:
    data = {
        "name": row.name,
        "kind": row.kind,
        "inputs": list(row.inputs),
        "output_shape": list(row.output_shape),
        **row.counts.as_dict(),
    }
    if row.note:
        data["note"] = row.note
    return data


def _row(row: Row) -> dict[str, Any]:
    """A row of ``by_block``: a layer (the keys of its ``layers`` object) or a block instance
    (kind ``block``, and the block it calls), both with their level and number of layers."""
    data = {
        "name": row.name,
        "kind": row.kind,
        **({"block": row.block} if isinstance(row, BlockRow) else {}),
        "level": row.level,
        "layers": row.layers,
        "inputs": list(row.inputs),
        "output_shape": list(row.output_shape),
        **row.counts.as_dict(),
    }
    if isinstance(row, LayerRow) and row.note:
        data["note"] = row.note
    return data


def _body(analysis: Analysis) -> dict[str, Any]:
    body = {
        "totals": analysis.totals.as_dict(),
        "by_kind": {kind: c.as_dict() for kind, c in sorted(analysis.by_kind.items())},
        "layers": [_layer(row) for row in analysis.layers],
    }
    if analysis.depth is not None:
        body["by_block"] = {
            "depth": analysis.depth,
            "rows": [_row(row) for row in analysis.by_block],
        }
    return body


def analysis_to_dict(analysis: Analysis) -> dict[str, Any]:
    data: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "name": analysis.name,
        "input": {
            "channels": analysis.input_shape[0],
            "size": list(analysis.input_shape[1:]),
        },
        "vars": {name: plain(value) for name, value in analysis.vars.items()},
        "convention": {
            "name": analysis.convention.name,
            "flops": analysis.convention.description,
        },
        **_body(analysis),
    }
    if analysis.standard is not None:
        data["standard_equivalent"] = _body(analysis.standard)
    return data
