"""`sepcalc analyze` end to end: every output format against golden files, and their content."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sepcalc.cli import app
from tests.golden import assert_golden

ROOT = Path(__file__).resolve().parent.parent
SPEC = "examples/mobilenet_v1.yaml"
GOLDEN = Path(__file__).parent / "golden"


def run(*args: str) -> str:
    result = CliRunner().invoke(app, ["analyze", SPEC, *args])
    assert result.exit_code == 0, result.stderr
    return result.stdout


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


@pytest.mark.parametrize(
    ("args", "golden"),
    [
        ((), "mobilenet_v1.table.txt"),
        (("--compare-standard",), "mobilenet_v1.compare.txt"),
        (
            ("--set", "alpha=0.5", "--set", "resolution=160", "--summary"),
            "mobilenet_v1.a05r160.txt",
        ),
        (("--format", "json", "--compare-standard"), "mobilenet_v1.json"),
        (("--format", "csv"), "mobilenet_v1.csv"),
        (("--format", "markdown", "--compare-standard"), "mobilenet_v1.md"),
    ],
    ids=["table", "compare", "set-summary", "json", "csv", "markdown"],
)
def test_output_golden(args: tuple[str, ...], golden: str) -> None:
    assert_golden(run(*args), GOLDEN / golden)


def test_json_schema_and_numbers() -> None:
    data = json.loads(run("--format", "json", "--compare-standard"))
    assert set(data) == {"schema_version", "name", "input", "vars", "convention", "totals",
                         "by_kind", "layers", "standard_equivalent"}  # fmt: skip
    assert data["schema_version"] == 1
    assert data["input"] == {"channels": 3, "size": [224, 224]}
    assert data["vars"] == {"alpha": 1, "resolution": 224}
    totals = data["totals"]
    assert totals["macs"] == 568_740_352  # MobileNet paper, Table 1/2 (569M)
    assert totals["params_by_role"] == {"weight": 4_209_088, "bias": 1000, "norm": 21_888}
    assert totals["params"] == sum(totals["params_by_role"].values())
    assert sum(layer["macs"] for layer in data["layers"]) == totals["macs"]
    assert sum(k["macs"] for k in data["by_kind"].values()) == totals["macs"]
    first = data["layers"][0]
    assert first == {
        "name": "conv1", "kind": "conv", "inputs": ["input"], "output_shape": [32, 112, 112],
        # 3x3x3x32 weights + BN 2x32; MACs 27*32*112*112; FLOPs 2*MACs + BN 2/elem + ReLU 1/elem
        "params": 864 + 64, "params_by_role": {"weight": 864, "bias": 0, "norm": 64},
        "macs": 10_838_016, "flops": 2 * 10_838_016 + 3 * 32 * 112 * 112,
        "activations": 32 * 112 * 112,
    }  # fmt: skip
    assert data["standard_equivalent"]["totals"]["macs"] == 4_867_293_184


def test_csv_rows_sum_to_totals() -> None:
    rows = list(csv.DictReader(io.StringIO(run("--format", "csv"))))
    assert len(rows) == 30
    assert sum(int(r["macs"]) for r in rows) == 568_740_352
    assert sum(int(r["weight"]) for r in rows) == 4_209_088


def test_table_states_what_flops_mean() -> None:
    out = " ".join(run().split())  # piped: the legend wraps at 80 columns
    assert "MACs = multiply-accumulates" in out
    assert "FLOPs (default) = all inference FLOPs: 2 per MAC" in out


def test_overrides_change_the_json_vars() -> None:
    data = json.loads(run("--format", "json", "--set", "alpha=0.75"))
    assert data["vars"]["alpha"] == 0.75
    assert data["totals"]["macs"] == 325_400_448  # Table 6: 325M


def test_python_dash_m_works() -> None:
    done = subprocess.run([sys.executable, "-m", "sepcalc", "--version"], cwd=ROOT,
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0
    assert done.stdout.startswith("sepcalc ")


def run_spec(text: str, tmp_path: Path, *args: str) -> str:
    spec = tmp_path / "spec.yaml"
    spec.write_text(text)
    result = CliRunner().invoke(app, ["analyze", str(spec), *args])
    assert result.exit_code == 0, result.output
    return result.stdout


ZERO_COST = "input: {channels: 3, size: 8}\nlayers: [{kind: relu}]\n"
"""No params and no MACs: every reduction is 0 / 0. The relu's FLOPs: 3*8*8 = 192."""


def test_zero_cost_network_table_shows_undefined_reductions(tmp_path: Path) -> None:
    out = run_spec(ZERO_COST, tmp_path, "--compare-standard")
    lines = [line.rstrip() for line in out.splitlines()]
    assert "relu1  relu  3x8x8        0     0       -" in lines  # % MACs of 0 MACs: undefined
    start = lines.index("Totals")
    assert lines[start : start + 6] == [
        "Totals",
        "                          params  MACs  FLOPs  activations",
        "this network                   0     0    192          192",
        "                               0     0    192          192",
        "standard-conv equivalent       0     0    192          192",
        "reduction                      -     -  1.00x",
    ]


def test_zero_cost_network_markdown_shows_undefined_reductions(tmp_path: Path) -> None:
    lines = run_spec(ZERO_COST, tmp_path, "--compare-standard", "-f", "markdown").splitlines()
    assert "| reduction | - | - | 1.00x |  |" in lines
    assert "| relu1 | relu | 3x8x8 | 0 | 0 | - |" in lines


def test_csv_joins_inputs_with_a_semicolon(tmp_path: Path) -> None:
    text = (
        "input: {channels: 4, size: 2}\n"
        "layers:\n"
        "  - {kind: pointwise, out: 4, name: a}\n"
        "  - {kind: relu, name: b, inputs: input}\n"
        "  - {kind: add, inputs: [a, b], name: sum}\n"
    )
    rows = list(csv.DictReader(io.StringIO(run_spec(text, tmp_path, "-f", "csv"))))
    assert [r["inputs"] for r in rows] == ["input", "input", "a;b"]


def test_squeeze_excite_activations_count_its_intermediate_tensors(tmp_path: Path) -> None:
    text = "input: {channels: 10, size: 3}\nlayers: [{kind: squeeze_excite, squeeze: 2}]\n"
    (row,) = csv.DictReader(io.StringIO(run_spec(text, tmp_path, "-f", "csv")))
    # docs/counting.md: output 10*3*3 = 90, pooled vector 10, FC1 2, hidden act 2, FC2 10.
    assert int(row["activations"]) == 90 + 10 + 2 + 2 + 10


def test_markdown_escapes_names_that_would_break_a_table(tmp_path: Path) -> None:
    from sepcalc.analysis import analyze
    from sepcalc.conventions import get_convention
    from sepcalc.report.markdown import render_markdown
    from tests.conftest import graph_of

    g = graph_of("input: {channels: 3, size: 2}\nlayers: [{kind: relu}]\n", tmp_path)
    # Set on the built graph, so the test holds whatever names the spec accepts.
    node = dataclasses.replace(g.nodes[0], name="a|b\\|c\nd*e_")
    hostile = dataclasses.replace(g, name="net | x\ny", nodes=(node,))
    lines = render_markdown(analyze(hostile, get_convention("default"))).splitlines()
    assert lines[0] == "# net \\| x<br>y"
    assert "| a\\|b\\\\\\|c<br>d\\*e\\_ | relu | 3x2x2 | 0 | 0 | - |" in lines
    # Every table row has as many unescaped cell separators as its header.
    for line in lines:
        if line.startswith("|"):
            assert len(re.findall(r"(?<!\\)(?:\\\\)*\|", line)) in (6, 7)


def test_warns_about_an_unused_layer(tmp_path: Path) -> None:
    spec = tmp_path / "dead.yaml"
    spec.write_text(
        "input: {channels: 3, size: 8}\nlayers:\n"
        "  - {kind: conv, name: a, out: 4, kernel: 3}\n"
        "  - {kind: conv, name: dead, out: 4, kernel: 3}\n"
        "  - {kind: relu, inputs: a}\n"
    )
    result = CliRunner().invoke(app, ["analyze", str(spec), "-f", "json"])
    assert result.exit_code == 0
    assert result.stderr == (
        "warning: the output of layer 'dead' is never used (its cost is still counted)\n"
    )
    # a: 3x3x3 -> 4 at 8x8; dead: 3x3x4 -> 4 on a's output: still counted.
    assert json.loads(result.stdout)["totals"]["macs"] == 27 * 4 * 64 + 36 * 4 * 64
