"""Totals in the search and space reports: every total a budget, a bound or an objective names is
a column of the table, in its unit (a latency as a time, bytes with their binary size), and exact
in JSON and CSV.

Numbers, by hand:

- MobileNetV1 (examples/mobilenet_v1.yaml, 'same' padding, channels int(alpha * C)): the peak
  activation memory (plain: a layer's input and output alive) is at the first pointwise layer,
  112 x 112, int(32 alpha) channels in and int(64 alpha) out: at alpha 0.87, 27 + 55 = 82
  channels, 82 x 12,544 = 1,028,608 elements; at 0.88, 28 + 56 = 84, 1,053,696 (int8: one byte
  each; 1 MiB = 1,048,576 B lies between). At alpha 1 and resolution r (fp32) it is
  (32 + 64) x (r/2)**2 x 4 = 96 r**2 B: 1,572,864 at 128, 2,457,600 at 160 (2 MiB between).
  Flash at fp32 is 4 B a parameter: 253,520 x 4 = 1,014,080 at alpha 0.16.
- The space ``two`` (a 3x3 conv 3 -> 4 channels at 8 x 8, no bias, then a pointwise conv to 4
  or 8 channels) on the Raspberry Pi 4 preset (48 GFLOP/s fp32, 12.8 GB/s, efficiency 1), each
  layer max(FLOPs / peak, bytes / bandwidth): the stem 2 x 4 x 64 x 27 = 13,824 FLOPs -> 288 ns
  (its 768 + 432 + 1,024 = 2,224 B take 173.75 ns); the head to 4 channels reads 1,024 B, 64 B of
  weights and writes 1,024 B: 2,112 B -> 165 ns (2,048 FLOPs, 42.7 ns); to 8 channels
  1,024 + 128 + 2,048 = 3,200 B -> 250 ns. Latencies 453 ns and 538 ns; flash (108 + 16) x 4 =
  496 B and (108 + 32) x 4 = 560 B; peak 2,048 B and 3,072 B (tests/test_space_device.py).
"""

from __future__ import annotations

import csv
import io
import json
from fractions import Fraction
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sepcalc.cli import app
from sepcalc.device.units import binary_size, duration, size
from sepcalc.report.totals import ordered, short, text
from tests.cli_commands import PI, SPACE, V1
from tests.golden import assert_golden

GOLDEN = Path(__file__).parent / "golden" / "space"
TWO = SPACE


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout


@pytest.fixture
def two(tmp_path: Path) -> str:
    path = tmp_path / "two.yaml"
    path.write_text(TWO)
    return str(path)


# --- the formatting ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (Fraction(2957381, 3_000_000_000), "985.794 us"),  # 985.7937 us
        (Fraction(1, 1000), "1.000 ms"),
        (Fraction(453, 10**9), "453.000 ns"),
        (Fraction(25039019, 10**9), "25.039 ms"),
        (Fraction(3, 2), "1.500 s"),
        (Fraction(0), "0"),
    ],
)
def test_duration(seconds: Fraction, expected: str) -> None:
    assert duration(seconds) == expected


@pytest.mark.parametrize(
    ("n", "expected", "binary"),
    [
        (496, "496 B", "496 B"),
        (2_048, "2,048 B (2.0 KiB)", "2.0 KiB"),
        (1_028_608, "1,028,608 B (1004.5 KiB)", "1004.5 KiB"),  # 1,028,608 / 1,024 = 1,004.5
        (1_404_928, "1,404,928 B (1.3 MiB)", "1.3 MiB"),  # 1.3398 MiB
        (2**30, "1,073,741,824 B (1.0 GiB)", "1.0 GiB"),
    ],
)
def test_size(n: int, expected: str, binary: str) -> None:
    assert size(n) == expected
    assert binary_size(n) == binary


def test_a_total_in_its_unit() -> None:
    assert text("macs", 568_740_352) == "568,740,352"
    assert text("latency", Fraction(14097, 2_000_000)) == "7.049 ms"  # 7.0485 rounds away
    assert text("peak_memory", 802_816) == "802,816 B (784.0 KiB)"
    assert short("macs", Fraction(7_936)) == "7.94K"
    assert short("flash", Fraction(3_410_792)) == "3.3 MiB"
    assert ordered(["peak_memory", "macs", "latency", "macs"]) == ("macs", "latency", "peak_memory")


# --- every named total is a column ------------------------------------------------------------


def _header(output: str) -> list[str]:
    """The column names of the first table in ``output`` (the line that names the MACs)."""
    line = next(line for line in output.splitlines() if {"MACs", "macs"} & set(line.split()))
    return line.split()


SEARCH_CASES = {
    "width-latency": (("search", "width", V1, "--max-latency", "1ms", *PI), ["latency"]),
    "width-peak": (("search", "width", V1, "--max-peak-memory", "1MiB", "--dtype", "int8"),
                   ["peak_memory"]),
    "resolution-flash": (("search", "resolution", V1, "--max-flash", "17MiB", "--step", "32"),
                         ["flash"]),
    "grid-latency": (("search", "grid", V1, "--var", "alpha=0.25,1", "--max-latency", "5ms", *PI),
                     ["latency"]),
    "grid-peak-none-within": (("search", "grid", V1, "--var", "alpha=0.25,1",
                               "--max-peak-memory", "1KiB"), ["peak_memory"]),
}  # fmt: skip
SPACE_CASES = {
    "pareto-latency-key": (("pareto", "--keys", "min:latency,max:params", *PI), ["latency"]),
    "pareto-none-within": (("pareto", "--max-flash", "100"), ["flash"]),
    "best-peak-objective": (("best", "--minimize", "peak_memory"), ["peak_memory"]),
    "best-latency-bound": (("best", "--maximize", "params", "--max-latency", "500ns", *PI),
                           ["latency"]),
    "sample-flash": (("sample", "--max-flash", "500", "-n", "2"), ["flash"]),
    "sample-none-within": (("sample", "--max-latency", "1ns", *PI), ["latency"]),
}  # fmt: skip


@pytest.mark.parametrize(("args", "named"), SEARCH_CASES.values(), ids=SEARCH_CASES.keys())
def test_search_tables_show_every_budgeted_total(args: tuple[str, ...], named: list[str]) -> None:
    _, out = run(*args)
    header = _header(out)
    for metric in named:
        assert metric in header, out


@pytest.mark.parametrize(("args", "named"), SPACE_CASES.values(), ids=SPACE_CASES.keys())
def test_space_tables_show_every_bounded_total(
    two: str, args: tuple[str, ...], named: list[str]
) -> None:
    command, *rest = args
    _, out = run("space", command, two, *rest)
    header = _header(out)
    for metric in named:
        assert metric in header, out


# --- the numbers: table, JSON and CSV agree, and with analyze ---------------------------------


def test_width_within_a_latency_shows_it_as_analyze_counts_it() -> None:
    args = ("search", "width", V1, "--max-latency", "1ms", *PI)
    code, out = run(*args, "-f", "json")
    assert code == 0
    data = json.loads(out)
    assert (data["answer"], data["next_fails"]) == (0.16, 0.17)
    latency = Fraction(data["achieved"]["latency"]["exact"])
    assert latency == Fraction(2957381, 3_000_000_000) <= Fraction(1, 1000)
    assert Fraction(data["next_fails_achieved"]["latency"]["exact"]) > Fraction(1, 1000)
    assert data["budgets"] == {"latency": {"exact": "1/1000", "value": 0.001}}
    assert data["achieved"]["flash"] == 253_520 * 4 == 1_014_080
    # as analyze --device gives it, exact and as a float
    _, analyzed = run("analyze", V1, "--set", "alpha=0.16", *PI, "-f", "json")
    assert data["achieved"]["latency"] == json.loads(analyzed)["device"]["latency"]
    _, table = run(*args)
    assert "with latency <= 1.000 ms" in table
    answer = next(line for line in table.splitlines() if line.startswith("answer"))
    assert "985.794 us" in answer
    assert "1,014,080 B (990.3 KiB)" in answer


def test_width_within_a_peak_memory_shows_it_in_bytes() -> None:
    args = ("search", "width", V1, "--max-peak-memory", "1MiB", "--dtype", "int8")
    code, out = run(*args, "-f", "json")
    assert code == 0
    data = json.loads(out)
    assert (data["answer"], data["next_fails"]) == (0.87, 0.88)
    assert data["achieved"]["peak_memory"] == 82 * 112 * 112 == 1_028_608
    assert data["next_fails_achieved"]["peak_memory"] == 84 * 112 * 112 == 1_053_696
    _, table = run(*args)
    assert "with peak_memory <= 1,048,576 B (1.0 MiB)" in table
    lines = table.splitlines()
    assert "1,028,608 B (1004.5 KiB)" in next(x for x in lines if x.startswith("answer"))
    assert "1,053,696 B (1.0 MiB)" in next(x for x in lines if x.startswith("next"))


def test_resolution_within_a_peak_memory() -> None:
    code, out = run("search", "resolution", V1, "--max-peak-memory", "2MiB", "--step", "32",
                    "-f", "json")  # fmt: skip
    assert code == 0
    data = json.loads(out)
    assert data["answer"] == 128
    assert data["achieved"]["peak_memory"] == 96 * 128**2 == 1_572_864
    assert data["next_fails_achieved"]["peak_memory"] == 96 * 160**2 == 2_457_600


def test_grid_csv_has_the_device_totals_exactly() -> None:
    args = ("search", "grid", V1, "--var", "alpha=0.25,1", "--var", "resolution=128",
            "--max-latency", "5ms", *PI)  # fmt: skip
    code, out = run(*args, "-f", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0])[2:9] == ["macs", "params", "flops", "activations", "latency", "flash",
                                  "peak_memory"]  # fmt: skip
    for row in rows:
        _, analyzed = run("analyze", V1, "--set", f"alpha={row['alpha']}", "--set",
                          "resolution=128", *PI, "-f", "json")  # fmt: skip
        device = json.loads(analyzed)["device"]
        assert row["latency"] == device["latency"]["exact"]
        assert int(row["flash"]) == device["flash"]
        assert int(row["peak_memory"]) == device["peak_memory"]
    # fp32 at 128: the first pointwise layer holds (int(32 a) + int(64 a)) x 64 x 64 x 4 B
    assert [int(r["peak_memory"]) for r in rows] == [(8 + 16) * 4096 * 4, 96 * 4096 * 4]
    _, out = run(*args, "-f", "json")
    points = json.loads(out)["points"]
    assert [p["latency"]["exact"] for p in points] == [r["latency"] for r in rows]
    assert [p["peak_memory"] for p in points] == [int(r["peak_memory"]) for r in rows]
    _, table = run(*args)
    assert "within latency <= 5.000 ms" in table
    assert "730.004 us" in table  # 175201/240000000 s, alpha 0.25 at 128


def test_space_totals_by_hand(two: str) -> None:
    code, out = run("space", "pareto", two, "--keys", "min:latency,max:params", *PI, "-f", "json")
    assert code == 0
    points = [p["totals"] for p in json.loads(out)["points"]]
    assert [p["latency"]["exact"] for p in points] == ["453/1000000000", "269/500000000"]
    assert [p["flash"] for p in points] == [496, 560]
    assert [p["peak_memory"] for p in points] == [2_048, 3_072]
    _, table = run("space", "pareto", two, "--keys", "min:latency,max:params", *PI)
    assert "453.000 ns" in table
    assert "538.000 ns" in table
    assert "3,072 B (3.0 KiB)" in table


SPACE_GOLDEN = {
    "pareto.latency.txt": ("pareto", "--keys", "min:latency,max:params", *PI),
    "best.peak.txt": ("best", "--minimize", "peak_memory"),
    "sample.flash.txt": ("sample", "--max-flash", "500", "-n", "2"),
    "sample.none-within.txt": ("sample", "--max-latency", "1ns", *PI),
    "distribution.flash.txt": ("distribution", "--metric", "flash", "--bins", "2"),
}


@pytest.mark.parametrize(("golden", "args"), SPACE_GOLDEN.items(), ids=SPACE_GOLDEN.keys())
def test_space_tables_golden(two: str, golden: str, args: tuple[str, ...]) -> None:
    command, *rest = args
    _, out = run("space", command, two, *rest)
    assert_golden(out, GOLDEN / f"two.{golden}")
