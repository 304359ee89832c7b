"""The columns of the table and Markdown reports: one declaration each, chosen by name.

A report lists a row per layer, or per block instance at a depth
(:func:`sepcalc.analysis.by_block`); each column turns a row into one cell. The row's name
is always the first column; the others are chosen by their names here (``analyze
--columns``) or default to :data:`DEFAULT`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from sepcalc.analysis import Analysis, BlockRow, Row
from sepcalc.report.numbers import grouped, shape, share, si, times


@dataclass(frozen=True)
class Rows:
    """The rows a report lists, with what their cells are computed against."""

    title: str
    name_header: str
    by_block: bool
    rows: tuple[Row, ...]
    totals: Mapping[str, int]
    """The network's totals of each count, for the shares."""
    standard: Mapping[str, Row] | None
    """The standard-conv equivalent's row of each name, with ``--compare-standard``."""
    layer_macs: Mapping[str, int]
    """The MACs of every layer, for the saving of a replaced layer."""

    @classmethod
    def of(cls, analysis: Analysis) -> Rows:
        std = analysis.standard
        if analysis.depth is None:
            title, header = "Layers", "layer"
            rows: tuple[Row, ...] = analysis.layers
            std_rows: tuple[Row, ...] = std.layers if std else ()
        else:
            title, header = f"By block (depth {analysis.depth})", "name"
            rows, std_rows = analysis.by_block, std.by_block if std else ()
        t = analysis.totals
        return cls(
            title=title,
            name_header=header,
            by_block=analysis.depth is not None,
            rows=rows,
            totals={
                "params": t.params,
                "macs": t.macs,
                "flops": t.flops,
                "activations": t.activations,
            },
            standard={r.name: r for r in std_rows} if std else None,
            layer_macs={r.name: r.counts.macs for r in analysis.layers},
        )


Cell = Callable[[Row, Rows], str]


@dataclass(frozen=True)
class Column:
    name: str
    """What ``--columns`` calls it."""
    header: str
    cell: Cell
    numeric: bool = True
    """Right-aligned."""
    style: str = ""
    """The terminal table's style for the column (rich)."""
    no_wrap: bool = False
    """The terminal table never folds its cells (names and shapes); numbers are kept whole
    by rich as long as they fit."""
    standard: bool = False
    """Needs the standard-conv equivalent (``--compare-standard``)."""
    whole: bool = False
    """Never split inside a word on a narrow terminal, as numbers (kind names, shapes)."""
    drop: int = 0
    """A default column left out on a narrow terminal, highest first (0: never)."""


def kind(row: Row) -> str:
    """A layer's kind; a block instance's block, marked as a block (``stage (block)``)."""
    return f"{row.block} (block)" if isinstance(row, BlockRow) else row.kind


def _count(field: str, fmt: Callable[[int], str]) -> Cell:
    return lambda row, _: fmt(getattr(row.counts, field))


def _role(role: str) -> Cell:
    return lambda row, _: grouped(row.counts.params_by_role[role])


def _share(field: str) -> Cell:
    return lambda row, rows: share(getattr(row.counts, field), rows.totals[field])


def _standard(row: Row, rows: Rows) -> tuple[str, str]:
    """The std-conv MACs and saving cells: a replaced layer against the layers it replaces (a
    depthwise layer fused with its pointwise layer against both; the pointwise layer then shows
    ``fused``), a block instance with a replaced layer against the same instance here; blank
    where nothing is replaced."""
    assert rows.standard is not None
    s = rows.standard[row.name]
    if isinstance(s, BlockRow):
        if not s.replaced:
            return "", ""
        return si(s.counts.macs), times(s.counts.macs, row.counts.macs)
    if not s.replaces:
        return ("fused" if s.note else ""), ""
    original = sum(rows.layer_macs[name] for name in s.replaces)
    return si(s.counts.macs), times(s.counts.macs, original)


COLUMNS: tuple[Column, ...] = (
    Column(
        "kind",
        "kind",
        lambda row, _: kind(row),
        numeric=False,
        style="cyan",
        no_wrap=True,
        whole=True,
    ),
    Column("layers", "layers", lambda row, _: str(row.layers)),
    Column("inputs", "inputs", lambda row, _: ", ".join(row.inputs), numeric=False),
    Column(
        "shape",
        "output",
        lambda row, _: shape(row.output_shape),
        numeric=False,
        style="dim",
        no_wrap=True,
        whole=True,
        drop=1,
    ),
    Column("params", "params", _count("params", grouped)),
    Column("params%", "% params", _share("params")),
    Column("weight", "weight", _role("weight")),
    Column("bias", "bias", _role("bias")),
    Column("norm", "norm", _role("norm")),
    Column("macs", "MACs", _count("macs", si)),
    Column("macs%", "% MACs", _share("macs"), drop=2),
    Column("flops", "FLOPs", _count("flops", si)),
    Column("flops%", "% FLOPs", _share("flops")),
    Column("activations", "activations", _count("activations", grouped)),
    Column("activations%", "% activations", _share("activations")),
    Column(
        "std_macs",
        "std-conv MACs",
        lambda row, rows: _standard(row, rows)[0],
        style="magenta",
        standard=True,
    ),
    Column(
        "saving",
        "saving",
        lambda row, rows: _standard(row, rows)[1],
        style="magenta",
        standard=True,
    ),
)
BY_NAME: dict[str, Column] = {c.name: c for c in COLUMNS}
NAMES: tuple[str, ...] = tuple(BY_NAME)
"""Every column's name, in the order the help lists them."""
STANDARD: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.standard)
"""The columns that need the standard-conv equivalent."""

DEFAULT: tuple[str, ...] = ("kind", "shape", "params", "macs", "macs%")
"""The columns of a per-layer report."""
DEFAULT_BY_BLOCK: tuple[str, ...] = ("kind", "layers", "shape", "params", "macs", "macs%")
"""The columns of a report by block: the number of layers each row sums, too."""


def chosen(
    names: Sequence[str] | None, rows: Rows, *, standard_by_default: bool
) -> tuple[Column, ...]:
    """The columns named (each a name of :data:`NAMES`), or the default ones: those of
    :data:`DEFAULT` (or :data:`DEFAULT_BY_BLOCK`), then the standard-conv ones when the
    analysis has them and ``standard_by_default``. A standard-conv column without the
    standard-conv equivalent is left out."""
    if names is None:
        names = DEFAULT_BY_BLOCK if rows.by_block else DEFAULT
        if standard_by_default:
            names = (*names, *STANDARD)
    return tuple(BY_NAME[n] for n in names if rows.standard is not None or not BY_NAME[n].standard)


def cells(row: Row, columns: Sequence[Column], rows: Rows) -> list[str]:
    return [c.cell(row, rows) for c in columns]
