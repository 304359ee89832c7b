"""Per-layer CSV: one row a layer, the columns of the JSON layer objects.

A layer with several inputs lists them in one ``inputs`` cell joined by :data:`INPUTS_SEPARATOR`,
which no layer name can contain.
"""

from __future__ import annotations

import csv
import io

from sepcalc.analysis import Analysis
from sepcalc.report.numbers import shape

INPUTS_SEPARATOR = ";"

COLUMNS = (
    "name",
    "kind",
    "inputs",
    "output_shape",
    "params",
    "weight",
    "bias",
    "norm",
    "macs",
    "flops",
    "activations",
)


def render_csv(analysis: Analysis) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    std = {r.name: r for r in analysis.standard.layers} if analysis.standard else None
    writer.writerow(COLUMNS + (("std_params", "std_macs") if std else ()))
    for row in analysis.layers:
        c = row.counts
        cells = [
            row.name,
            row.kind,
            INPUTS_SEPARATOR.join(row.inputs),
            shape(row.output_shape),
            c.params,
            *c.params_by_role.values(),
            c.macs,
            c.flops,
            c.activations,
        ]
        if std:
            cells += [std[row.name].counts.params, std[row.name].counts.macs]
        writer.writerow(cells)
    return out.getvalue()
