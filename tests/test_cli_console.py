"""Tables the CLI prints never cut a cell: at 80 columns (and narrower) they fold instead."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rich.console import Console
from rich.table import Table
from typer.testing import CliRunner

from sepcalc.cli import app, fit_tables
from sepcalc.graph import build_graph
from sepcalc.report.numbers import grouped, si
from sepcalc.spec import load_spec
from tests.conftest import EXAMPLES

SPECS = sorted(EXAMPLES.glob("*.yaml"))


def run80(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "80"})
    assert result.exit_code == code, result.output
    return result.stdout


def assert_fits(out: str, width: int = 80) -> None:
    assert "…" not in out
    assert max(len(line) for line in out.splitlines()) <= width


@pytest.mark.parametrize("path", SPECS, ids=[p.stem for p in SPECS])
def test_analyze_at_80_columns_cuts_no_number(path: Path) -> None:
    out = run80("analyze", str(path), "--compare-standard")
    assert_fits(out)
    graph = build_graph(load_spec(path))
    total = graph.total()
    for n in (total.params, total.macs, total.activations):
        assert f" {grouped(n)} " in out or f" {grouped(n)}\n" in out  # whole, on one line
    # Every layer's MACs, whole, on its row (numbers are kept whole while the names fold).
    rows = re.findall(r"^\S+\s+\S+\s+\S+\s+[\d,]+\s+(\S+)", out.split("Totals")[0], re.M)
    assert {si(n.cost.macs) for n in graph.nodes} <= set(rows)


def test_formula_list_at_80_columns_shows_whole_kind_names() -> None:
    out = run80("formula", "--list")
    assert_fits(out)
    lines = [line.rstrip() for line in out.splitlines()]
    for kind in ("squeeze_excite", "global_avg_pool", "adaptive_avg_pool", "depthwise"):
        assert kind in lines  # a kind's block starts with its name, whole, on its own line
    assert "  FLOPs   4*C_in*C_se + 2*C_in*H*W + 2*C_in + 2*C_se" in lines


def render(table: Table, width: int) -> str:
    console = Console(width=width, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    fit_tables(table, console, width)
    console.print(table)
    return console.export_text()


def test_fit_keeps_numbers_whole_and_folds_names() -> None:
    table = Table(box=None, pad_edge=False)
    table.add_column("layer")
    table.add_column("MACs", justify="right", no_wrap=True)  # no_wrap would cut silently
    table.add_row("stage4.mbconv1.squeeze_excite", "1,152,659,944")
    assert render(table, 24).splitlines() == [
        "layer               MACs",
        "stage4.mbc 1,152,659,944",
        "onv1.squee              ",
        "ze_excite               ",
    ]


def test_fit_folds_every_column_when_numbers_alone_do_not_fit() -> None:
    table = Table(box=None, pad_edge=False)
    for name in ("a", "b"):
        table.add_column(name, justify="right", no_wrap=True)
    table.add_row("12,345,678,901", "98,765,432,100")
    # Two 14-character numbers in 20 columns: folded, every digit printed, no "…".
    assert render(table, 20).splitlines() == [
        "        a          b",
        "12,345,67 98,765,432",
        "    8,901       ,100",
    ]


def test_fit_leaves_a_table_that_fits_untouched() -> None:
    table = Table(box=None, pad_edge=False)
    table.add_column("layer")
    table.add_column("MACs", justify="right")
    table.add_row("conv1", "10,838,016")
    assert render(table, 80).splitlines()[1].rstrip() == "conv1  10,838,016"


def _fitting_tables() -> dict[str, Table]:
    """Tables that fit 80 columns, as the reports make them (and a few they could)."""
    layers = Table(title="Layers", title_justify="left", header_style="bold", box=None)
    layers.add_column("layer", no_wrap=True)
    layers.add_column("kind", style="cyan", no_wrap=True)
    layers.add_column("MACs", justify="right")
    layers.add_column("% MACs", justify="right")
    layers.add_row("conv1", "conv", "10.84M", "1.91%")
    layers.add_row("dws13.pw", "pointwise", "102.76M", "18.07%", style="bold")
    layers.add_row("fc", "linear", "1.02M", "")
    boxed = Table(show_edge=True)
    boxed.add_column("name")
    boxed.add_column("note", justify="center")
    boxed.add_row("a two-word cell", "two\nlines")
    boxed.add_row("", "x")
    nested = Table(box=None)
    nested.add_column("outer")
    inner = Table(box=None)
    inner.add_column("inner", justify="right")
    inner.add_row("1,234")
    nested.add_row(inner)
    headless = Table(box=None, show_header=False)
    headless.add_column("a very long header that is not shown")
    headless.add_row("short")
    return {"layers": layers, "boxed": boxed, "nested": nested, "headless": headless}


@pytest.mark.parametrize("name", list(_fitting_tables()))
def test_fit_prints_a_table_that_fits_as_rich_does(name: str) -> None:
    plain = Console(width=80, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    plain.print(_fitting_tables()[name])
    assert render(_fitting_tables()[name], 80) == plain.export_text()


def test_fit_fixes_a_table_that_fits_at_its_widest_cells() -> None:
    # Measured once: rich renders the fixed columns without measuring every cell again.
    table = _fitting_tables()["layers"]
    render(table, 80)
    assert [c.width for c in table.columns] == [len("dws13.pw"), len("pointwise"), 7, 6]
    assert all(c.no_wrap for c in table.columns)


def test_fit_leaves_a_nested_table_free_to_fold() -> None:
    outer = Table(box=None, pad_edge=False)
    outer.add_column("name")
    outer.add_column("detail")
    inner = Table(box=None, pad_edge=False)
    inner.add_column("what")
    inner.add_row("a long note that must fold")
    outer.add_row("stage4.mbconv1.squeeze_excite", inner)
    out = render(outer, 40)
    assert "…" not in out
    assert "".join(out.split()).endswith("alongnotethatmustfold")
