"""Analysis results as plain data (the JSON schema, documented in docs/output.md)."""

from __future__ import annotations

from typing import Any

from sepcalc.analysis import Analysis, LayerRow
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


def _body(analysis: Analysis) -> dict[str, Any]:
    return {
        "totals": analysis.totals.as_dict(),
        "by_kind": {kind: c.as_dict() for kind, c in sorted(analysis.by_kind.items())},
        "layers": [_layer(row) for row in analysis.layers],
    }


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
