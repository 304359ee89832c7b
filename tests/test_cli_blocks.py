"""`sepcalc analyze --depth` and `--columns` end to end: goldens of every format, their numbers,
and a clear error (exit 2) for every option that cannot be honoured."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sepcalc.cli import app
from sepcalc.report.columns import NAMES
from tests.golden import assert_golden

ROOT = Path(__file__).resolve().parent.parent
V1 = "examples/mobilenet_v1.yaml"
V2 = "examples/mobilenet_v2.yaml"
GOLDEN = Path(__file__).parent / "golden" / "blocks"
MD_COLUMNS = "macs,std_macs,saving,inputs"


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def run(spec: str, *args: str, env: dict[str, str] | None = None) -> str:
    result = CliRunner().invoke(app, ["analyze", spec, *args], env=env)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize(
    ("spec", "args", "golden"),
    [
        (V2, ("--depth", "1"), "mobilenet_v2.depth1.txt"),
        (V2, ("--depth", "2", "--compare-standard"), "mobilenet_v2.depth2.compare.txt"),
        (V1, ("--depth", "1", "--format", "json"), "mobilenet_v1.depth1.json"),
        (V2, ("--depth", "2", "--format", "csv", "--compare-standard"), "mobilenet_v2.depth2.csv"),
        (V2, ("--depth", "1", "--format", "markdown"), "mobilenet_v2.depth1.md"),
        (
            V1,
            ("--columns", "shape,params,weight,norm,flops,flops%,activations"),
            "mobilenet_v1.columns.txt",
        ),
        (
            V1,
            ("--depth", "1", "-f", "markdown", "--compare-standard", "--columns", MD_COLUMNS),
            "mobilenet_v1.depth1.columns.md",
        ),
    ],
    ids=["table", "compare", "json", "csv", "markdown", "columns", "markdown-columns"],
)
def test_output_golden(spec: str, args: tuple[str, ...], golden: str) -> None:
    assert_golden(run(spec, *args), GOLDEN / golden)


def test_json_by_block_rows_sum_to_the_totals_and_keep_the_layers() -> None:
    data = json.loads(run(V2, "--depth", "1", "-f", "json", "--compare-standard"))
    assert data["schema_version"] == 1  # additive: a diff or check still reads the report
    body = data["by_block"]
    assert body["depth"] == 1
    rows = body["rows"]
    for key in ("params", "macs", "flops", "activations"):
        assert sum(r[key] for r in rows) == data["totals"][key]
    assert data["totals"]["macs"] == 300_774_272  # torchvision mobilenet_v2: 300.77M (_ops 0.301)
    # conv1; stages of 2, 7, 11, 15, 11, 11 and 3 layers; conv_last, pool, flatten, dropout, fc
    assert sum(r["layers"] for r in rows) == len(data["layers"]) == 1 + 60 + 5
    stage7 = rows[7]
    # Table 2, last row: t=6, c=320, n=1 on 160x7x7: expand 160->960, dw 960, project 960->320,
    # every conv with BN: (153600 + 1920) + (8640 + 1920) + (307200 + 640) params.
    assert stage7 == {
        "name": "stage7", "kind": "block", "block": "stage", "level": 1, "layers": 3,
        "inputs": ["stage6.bottleneck3.residual"], "output_shape": [320, 7, 7],
        "params": 473_920, "params_by_role": {"weight": 469_440, "bias": 0, "norm": 4480},
        "macs": (153_600 + 8640 + 307_200) * 49,
        "flops": stage7["flops"], "activations": (960 + 960 + 320) * 49,
    }  # fmt: skip
    # FLOPs (default): 2 per MAC; BN 2 per element of each conv; ReLU6 after expand and dw.
    assert stage7["flops"] == 2 * stage7["macs"] + 2 * (960 + 960 + 320) * 49 + 2 * 960 * 49
    std = data["standard_equivalent"]["by_block"]
    assert std["depth"] == 1
    assert sum(r["macs"] for r in std["rows"]) == data["standard_equivalent"]["totals"]["macs"]


def test_csv_by_block_matches_the_json() -> None:
    rows = list(csv.DictReader(io.StringIO(run(V1, "--depth", "1", "-f", "csv"))))
    data = json.loads(run(V1, "--depth", "1", "-f", "json"))["by_block"]["rows"]
    assert [r["name"] for r in rows] == [r["name"] for r in data]
    assert [(r["kind"], r["block"], r["level"], r["layers"]) for r in rows[:2]] == [
        ("conv", "", "1", "1"),
        ("block", "dws", "1", "2"),
    ]
    assert [int(r["macs"]) for r in rows] == [r["macs"] for r in data]
    assert sum(int(r["macs"]) for r in rows) == 568_740_352  # MobileNet Table 1: 569M


def test_default_columns_are_todays() -> None:
    assert run(V1, "--columns", "kind,shape,params,macs,macs%") == run(V1)
    compare = ("--compare-standard", "--columns", "kind,shape,params,macs,macs%,std_macs,saving")
    assert run(V1, *compare) == run(V1, "--compare-standard")
    assert run(V1, "-f", "markdown", "--columns", "kind,shape,params,macs,macs%") == run(
        V1, "-f", "markdown"
    )


def test_every_column_renders() -> None:
    out = run(V1, "--depth", "1", "--compare-standard", "--columns", ",".join(NAMES))
    header = next(line for line in out.splitlines() if line.startswith("name "))
    assert header.split() == [
        "name", "kind", "layers", "inputs", "output", "params", "%", "params", "weight",
        "bias", "norm", "MACs", "%", "MACs", "FLOPs", "%", "FLOPs", "activations", "%",
        "activations", "std-conv", "MACs", "saving",
    ]  # fmt: skip
    dws1 = next(line for line in out.splitlines() if line.startswith("dws1 "))
    # 9*32 + 32*64 weights, BN on 32 and 64 channels; the saving is 576/73 (eq. 5) = 7.89x.
    assert dws1.split()[:12] == [
        "dws1", "dws", "(block)", "2", "conv1", "64x112x112", "2,528", "0.06%", "2,336", "0",
        "192", "29.30M",
    ]  # fmt: skip
    assert dws1.split()[-2:] == ["231.21M", "7.89x"]


def test_the_by_block_table_fits_80_columns() -> None:
    out = run(V2, "--depth", "2", "--compare-standard", env={"COLUMNS": "80"})
    assert "…" not in out
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "54,942,720" not in out  # by block the MACs are short (54.94M), not grouped
    assert "25.74M" in out  # stage2.bottleneck2: (24*144 + 144*9 + 144*24) * 56*56, whole


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--columns", "parms"), "--columns parms: unknown column; did you mean 'params'?; "
         "columns: kind, layers, inputs, shape, params, params%, weight, bias, norm, macs, "
         "macs%, flops, flops%, activations, activations%, std_macs, saving"),
        (("--columns", "layer,macs"), "--columns layer: the name of each row is always the "
         "first column"),
        (("--columns", "macs,kind,macs"), "--columns macs: named twice; name each column once"),
        (("--columns", " , "), "--columns: name at least one column, e.g. --columns params,macs"),
        (("--columns", "macs,saving,std_macs"), "--columns saving, std_macs: needs "
         "--compare-standard"),
        (("--columns", "macs", "-f", "json"), "--columns chooses the columns of the table and "
         "markdown formats; --format json always has every column"),
        (("--columns", "macs", "-f", "csv"), "--format csv always has every column"),
        (("--columns", "macs", "--summary"), "--summary shows no rows, so it cannot be "
         "combined with --columns"),
        (("--depth", "1", "--summary"), "--summary shows no rows, so it cannot be combined "
         "with --depth"),
        (("--depth", "1", "--symbolic", "alpha"), "--symbolic cannot be combined with --depth"),
        (("--columns", "macs", "--symbolic", "alpha"), "--symbolic cannot be combined with "
         "--columns"),
        (("--depth", "0"), "Invalid value for '--depth'"),
        (("--depth", "two"), "Invalid value for '--depth'"),
    ],
    ids=["unknown", "name", "twice", "empty", "standard", "json", "csv", "summary",
         "depth-summary", "depth-symbolic", "columns-symbolic", "depth-0", "depth-text"],
)  # fmt: skip
def test_options_that_cannot_be_honoured_exit_2(args: tuple[str, ...], message: str) -> None:
    result = CliRunner().invoke(app, ["analyze", V1, *args])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert message in " ".join(result.stderr.replace("│", " ").split())


def test_a_report_by_block_is_still_a_baseline_for_diff(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    report.write_text(run(V1, "--depth", "2", "-f", "json"))
    result = CliRunner().invoke(app, ["diff", str(report), V1, "--set", "alpha=0.75", "-f", "json"])
    assert result.exit_code == 0, result.output
    totals = json.loads(result.stdout)["totals"]
    # MobileNet Table 6: 569M MACs at alpha 1, 325M at alpha 0.75.
    assert (totals["macs"]["old"], totals["macs"]["new"]) == (568_740_352, 325_400_448)


def test_the_help_lists_every_column() -> None:
    # The help is written out (the columns module is not imported at startup): kept in step here.
    result = CliRunner().invoke(app, ["analyze", "--help"], env={"COLUMNS": "400"})
    help_text = " ".join(result.stdout.replace("│", " ").split())
    listed = help_text.split("--columns", 1)[1].split("--help", 1)[0]
    assert all(re.search(rf"(?<![\w%]){re.escape(n)}(?![\w%])", listed) for n in NAMES)
