"""Tables at every width: no number (nor kind name) split across lines, nothing cut, the
narrow-terminal layout leaving out only droppable columns; prose wrapped at 80 columns when
piped; and long tables printed by FastTable exactly as rich prints them."""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from sepcalc.analysis import analyze
from sepcalc.cli import app
from sepcalc.cli.tables import FastTable, fit_tables
from sepcalc.formulas import REGISTRY
from sepcalc.graph import build_graph
from sepcalc.report.numbers import grouped
from sepcalc.report.table import render_table
from sepcalc.spec import load_spec
from tests.conftest import EXAMPLES

SPECS = sorted(EXAMPLES.glob("*.yaml"))
SPACE = str(EXAMPLES / "spaces" / "ofa_mobilenet_v3.yaml")
V1 = str(EXAMPLES / "mobilenet_v1.yaml")
V2 = str(EXAMPLES / "mobilenet_v2.yaml")

RUNS: dict[str, tuple[str, ...]] = {
    "check": ("check", *map(str, SPECS), "--budgets", str(EXAMPLES / "ci" / "budgets.yaml")),
    "grid": ("search", "grid", V1, "--var", "alpha=0.25:1.0:0.25", "--var",
             "resolution=96:224:64", "--max-macs", "300M"),
    "width": ("search", "width", V1, "--max-macs", "300M"),
    "count": ("space", "count", SPACE, "--max-macs", "300M", "--ofa"),
    "distribution": ("space", "distribution", SPACE, "--metric", "macs", "--bins", "8",
                     "--max-macs", "300M"),
    "pareto": ("space", "pareto", SPACE, "--max-macs", "150M"),
    "sample": ("space", "sample", SPACE, "-n", "4", "--max-macs", "300M"),
    "best": ("space", "best", SPACE, "--maximize", "params", "--max-macs", "300M"),
    "zoo": ("zoo",),
    "diff": ("diff", V2, str(EXAMPLES / "mobilenet_v3_large.yaml")),
}  # fmt: skip
"""Commands whose table output is checked at every width, with their JSON."""
RUNS |= {f"analyze {p.stem} device": ("analyze", str(p), "--device", "raspberry-pi-4")
         for p in SPECS}  # fmt: skip
RUNS |= {f"analyze {p.stem} depth 1": ("analyze", str(p), "--depth", "1", "--compare-standard")
         for p in SPECS}  # fmt: skip

NUMBER = re.compile(r"[+-]?\d[\d,.]*(?:[KMGTP]i?B?|[KMGTP]|%|x| us| ms| s)?")
"""A number as the tables print it: grouped (``28,589,128``), SI (``10.84M``), a share, a
factor, a time."""


def run(args: tuple[str, ...], columns: int | None, *, code: int | None = None) -> str:
    env = {"COLUMNS": str(columns)} if columns else {}
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code in (0, 1), result.output
    return result.stdout


def tokens(out: str) -> set[str]:
    """The words of ``out`` (its numbers among them), without the punctuation around them and
    the width a caption names."""
    return {w.strip("()[]:;=*") for w in re.sub(r"fit \d+ columns", "", out).split()}


def ints(data: Any) -> Iterator[int]:
    """Every integer in a JSON document (counts, bins), and every integer written as a string
    (a count too large for a float)."""
    if isinstance(data, bool):
        return
    if isinstance(data, int):
        yield data
    elif isinstance(data, str) and re.fullmatch(r"-?\d+", data):
        yield int(data)
    elif isinstance(data, dict):
        for value in data.values():
            yield from ints(value)
    elif isinstance(data, list):
        for value in data:
            yield from ints(value)


def left_out(out: str) -> bool:
    return "(left out to fit" in out


@pytest.mark.parametrize("name", list(RUNS))
def test_no_number_is_split_at_60_columns(name: str) -> None:
    args = RUNS[name]
    wide, narrow = run(args, 200), run(args, 60)
    assert "…" not in narrow
    assert max(len(line) for line in narrow.splitlines()) <= 60
    # Every word of the narrow output is one the wide output prints whole: a number split over
    # two lines leaves pieces (``28,589,12`` and ``8``) that the wide output does not print.
    pieces = {w for w in tokens(narrow) - tokens(wide) if NUMBER.fullmatch(w)}
    assert not pieces, f"numbers split at 60 columns: {sorted(pieces)[:10]}"
    # The JSON's counts that the wide table shows, grouped, the narrow one shows whole too
    # (all of them where no column was left out, else every one but those of such columns).
    data = json.loads(run((*args, "--format", "json"), None))
    shown = {grouped(n) for n in ints(data) if abs(n) >= 1000} & tokens(wide)
    assert shown, "the table shows none of the JSON's counts: the test would check nothing"
    missing = shown - tokens(narrow)
    if not left_out(narrow):
        assert not missing
    else:
        assert len(missing) < len(shown)


@pytest.mark.parametrize("name", ["check", "grid", "zoo", "analyze mobilenet_v2 device"])
def test_at_80_columns_numbers_and_kinds_stay_whole(name: str) -> None:
    out = run(RUNS[name], 80)
    wide = run(RUNS[name], 200)
    assert max(len(line) for line in out.splitlines()) <= 80
    assert not {w for w in tokens(out) - tokens(wide) if NUMBER.fullmatch(w)}
    kinds_wide = tokens(wide) & set(REGISTRY)
    assert tokens(out) & set(REGISTRY) == kinds_wide  # every kind name printed whole


def test_the_device_table_leaves_out_its_droppable_columns_in_order() -> None:
    args = RUNS["analyze mobilenet_v2 device"]
    assert "(left out to fit 80 columns: MAC elems, FLOP/B)" in run(args, 80)
    assert "MAC elems" in run(args, 120)  # wide enough for every column
    narrow = run(args, 60)
    assert "left out to fit 60 columns: MAC elems, FLOP/B, weights, read" in " ".join(
        narrow.split()
    )
    # What is kept, whole: conv1 writes 32*112*112*4 = 1,605,632 bytes (1.61M) and holds
    # 3*224*224*4 + 1,605,632 = 2,207,744 (2.21M) while it runs.
    bytes_table = narrow.split("Bytes per layer")[1]
    row = next(line for line in bytes_table.splitlines() if line.startswith("conv1 "))
    assert row.split() == ["conv1", "conv", "1.61M", "2.21M", "476.672", "compute"]


def test_piped_prose_wraps_at_80_and_tables_keep_their_width() -> None:
    out = run(RUNS["grid"], None)
    wide = [line for line in out.splitlines() if len(line) > 80]
    # The table (its title, header and 12 rows), every column at its natural width: 90.
    assert len(wide) == 14
    assert {len(line) for line in wide} == {90}
    assert wide[1].split() == [
        "alpha",
        "resolution",
        "MACs",
        "params",
        "flops",
        "activations",
        "budget",
        "front",
    ]
    # The notes (the FLOPs convention's is 160 characters long) wrap at 80.
    assert "FLOPs: default convention (all inference FLOPs: 2 per MAC, plus bias adds," in out


def test_piped_output_does_not_depend_on_the_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    args = ("analyze", V2, "--device", "raspberry-pi-4")
    before = run(args, None)
    monkeypatch.setattr(os, "get_terminal_size", lambda *_: os.terminal_size((50, 20)))
    assert run(args, None) == before


def _ansi(renderable: object, width: int, *, color: bool) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, force_terminal=color, highlight=False,
                      color_system="truecolor" if color else None)  # fmt: skip
    console.print(renderable)
    return buffer.getvalue()


@pytest.mark.parametrize("path", SPECS, ids=[p.stem for p in SPECS])
@pytest.mark.parametrize("color", [False, True], ids=["plain", "color"])
def test_fast_table_prints_what_rich_prints(path: Path, color: bool) -> None:
    analysis = analyze(build_graph(load_spec(path)), compare_standard=True)

    def table() -> Any:
        (_, _, rows, *_) = render_table(analysis).renderables  # type: ignore[attr-defined]
        rows.rows[0].style = "bold"
        rows.rows[1].style = "magenta on blue"
        rows.caption = "a caption"
        fit_tables(rows, Console(file=io.StringIO()), 200)
        return rows

    fast = FastTable(table())
    console = Console(file=io.StringIO(), width=200)
    assert fast._rows(console, console.options) is not None  # printed by FastTable itself
    assert _ansi(fast, 200, color=color) == _ansi(table(), 200, color=color)


def test_fast_table_leaves_a_folded_table_to_rich() -> None:
    analysis = analyze(build_graph(load_spec(EXAMPLES / "mobilenet_v2.yaml")))
    (_, _, rows, *_) = render_table(analysis).renderables  # type: ignore[attr-defined]
    fit_tables(rows, Console(file=io.StringIO()), 60)  # the names fold
    console = Console(file=io.StringIO(), width=60)
    assert FastTable(rows)._rows(console, console.options) is None
