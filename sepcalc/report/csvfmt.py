"""CSV: one row a layer, the columns of the JSON layer objects; or, by block, one row a row of
the analysis cut at its depth, the columns of the JSON ``by_block`` rows.

A layer with several inputs lists them in one ``inputs`` cell joined by :data:`INPUTS_SEPARATOR`,
which no layer name can contain.
"""

from __future__ import annotations

import csv
import io

from sepcalc.analysis import Analysis, Row
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


BY_BLOCK_COLUMNS = ("name", "kind", "block", "level", "layers", *COLUMNS[2:])
"""By block: a block instance's kind is ``block`` and ``block`` names the block it calls
(empty for a layer); ``level`` is how deep in blocks the row is (1: top level); ``layers`` is
how many layers the row sums."""


def render_csv(analysis: Analysis) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    by_block = analysis.depth is not None
    std_analysis = analysis.standard
    std: dict[str, Row] | None = None
    if std_analysis is not None:
        std_rows = std_analysis.by_block if by_block else std_analysis.layers
        std = {r.name: r for r in std_rows}
    header = BY_BLOCK_COLUMNS if by_block else COLUMNS
    writer.writerow(header + (("std_params", "std_macs") if std else ()))
    rows: tuple[Row, ...] = analysis.by_block if by_block else analysis.layers
    for row in rows:
        c = row.counts
        where = [row.block, row.level, row.layers] if by_block else []
        cells = [
            row.name,
            row.kind,
            *where,
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
