"""`sepcalc search` end to end: exit codes, JSON fields, golden tables and CSV.

Numbers: the MobileNet ratio 1/C_out + 1/k**2 (eq. 5 of Howard et al. 2017) and MobileNetV1's
MACs at the paper's widths and resolutions (Tables 6 and 7).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sepcalc.cli import app
from tests.golden import assert_golden

ROOT = Path(__file__).resolve().parent.parent
V1 = "examples/mobilenet_v1.yaml"
GOLDEN = Path(__file__).parent / "golden" / "search"


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["search", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("channels", "--k", "3", "--max-ratio", "0.12"), 0),
        (("channels", "--k", "3", "--min-factor", "10"), 1),
        (("channels", "--k", "3"), 2),  # no target
        (("channels", "--k", "3", "--max-ratio", "twelve"), 2),
        (("channels", "--k", "0", "--max-ratio", "0.12"), 2),
        (("channels", "--metric", "params", "--count", "bias", "--max-ratio", "0.12"), 2),
        (("channels", "--count", "bais", "--max-ratio", "0.12"), 2),
        (("kernel", "--c-out", "128", "--min-savings", "88%"), 0),
        (("kernel", "--c-out", "8", "--min-factor", "10"), 1),
        (("width", V1, "--max-macs", "300M"), 0),
        (("width", V1, "--max-macs", "1M"), 1),
        (("width", V1), 2),  # no budget
        (("width", V1, "--max-macs", "lots"), 2),
        (("width", V1, "--max-macs", "300M", "--var", "alhpa"), 2),
        (("width", "missing.yaml", "--max-macs", "300M"), 2),
        (("resolution", V1, "--max-macs", "300M", "--step", "32"), 0),
        (("grid", V1, "--var", "alpha=0.25:1.0:0.25", "--max-macs", "300M"), 0),
        (("grid", V1, "--var", "alpha=0.25:1.0:0.25", "--max-macs", "1M"), 1),
        (("grid", V1, "--var", "alpha=1:0:0.25"), 2),
        (("grid", V1, "--var", "alpha=0.5", "--pareto", "macs"), 2),
    ],
    ids=[
        "channels-found", "channels-10x-infeasible", "channels-no-target", "channels-bad-target",
        "channels-bad-k", "channels-needs-c-in", "channels-bad-count", "kernel-found",
        "kernel-infeasible", "width-found", "width-infeasible", "width-no-budget",
        "width-bad-budget", "width-unknown-var", "width-missing-spec", "resolution-found",
        "grid-found", "grid-none-within", "grid-bad-range", "grid-bad-pareto",
    ],
)  # fmt: skip
def test_exit_codes(args: tuple[str, ...], code: int) -> None:
    exit_code, _, stderr = invoke(*args)
    assert exit_code == code
    if code == 2:
        assert stderr.strip()
        assert "Traceback" not in stderr


@pytest.mark.parametrize(
    ("args", "golden"),
    [
        (("channels", "--k", "3", "--max-ratio", "0.12"), "channels.k3.txt"),
        (("channels", "--k", "3", "--min-factor", "10"), "channels.k3.10x.txt"),
        (("kernel", "--c-out", "128", "--min-savings", "88%", "--odd"), "kernel.c128.txt"),
        (("width", V1, "--max-macs", "300M", "--max-params", "3M"), "width.v1.txt"),
        (("resolution", V1, "--max-macs", "300M", "--step", "32"), "resolution.v1.txt"),
        (("grid", V1, "--var", "alpha=0.5:1.0:0.25", "--var", "resolution=160,192",
          "--max-macs", "300M"), "grid.v1.txt"),
        (("width", V1, "--max-latency", "1ms", "--device", "raspberry-pi-4"),
         "width.v1.latency.txt"),
        (("width", V1, "--max-peak-memory", "1MiB", "--dtype", "int8"), "width.v1.peak.txt"),
        (("resolution", V1, "--max-peak-memory", "2MiB", "--max-flash", "17MiB", "--step", "32"),
         "resolution.v1.bytes.txt"),
        (("grid", V1, "--var", "alpha=0.25:1.0:0.25", "--var", "resolution=128,224",
          "--max-latency", "5ms", "--device", "raspberry-pi-4"), "grid.v1.latency.txt"),
    ],
    ids=["channels", "channels-infeasible", "kernel", "width", "resolution", "grid",
         "width-latency", "width-peak-memory", "resolution-bytes", "grid-latency"],
)  # fmt: skip
def test_output_golden(args: tuple[str, ...], golden: str) -> None:
    _, stdout, _ = invoke(*args)
    assert_golden(stdout, GOLDEN / golden)


def test_channels_json() -> None:
    code, out, _ = invoke("channels", "--k", "3", "--max-ratio", "0.12", "--format", "json")
    data = json.loads(out)
    assert code == 0
    assert data["feasible"] is True
    assert data["answer"] == 113  # 1/113 + 1/9 = 122/1017 <= 3/25
    assert data["achieved"]["ratio"] == "122/1017"
    assert data["achieved"]["factor"] == "1017/122"
    assert data["next_fails"] == 112  # 1/112 + 1/9 = 121/1008 > 3/25
    assert data["next_fails_achieved"]["ratio"] == "121/1008"
    assert data["reason"] is None
    assert data["ratio"] == "1/C_out + 1/9"
    assert data["target"] == {"text": "ratio <= 3/25", "max_ratio": "3/25"}


def test_seed_10x_question_json() -> None:
    code, out, _ = invoke("channels", "--k", "3", "--min-factor", "10", "-f", "json")
    data = json.loads(out)
    assert code == 1
    assert data["feasible"] is False
    assert data["answer"] is None
    assert data["achieved"] is None
    assert "above 1/9 for every C_out" in data["reason"]
    assert "k=4, with C_out >= 27" in data["reason"]


def test_width_json_has_exact_counts() -> None:
    code, out, _ = invoke("width", V1, "--max-macs", "300M", "--range", "0.25:1", "--step",
                          "0.25", "-f", "json")  # fmt: skip
    data = json.loads(out)
    assert code == 0
    assert data["answer"] == 0.5
    assert data["achieved"]["macs"] == 149_497_088  # Table 6: 0.50 MobileNet-224
    assert data["next_fails"] == 0.75
    assert data["next_fails_achieved"]["macs"] == 325_400_448  # Table 6: 0.75 MobileNet-224
    assert data["budgets"] == {"macs": 300_000_000}
    assert data["method"] == "grid"


def test_budgets_take_si_suffixes_exactly() -> None:
    # 290,675,200 (resolution 160) fits 290.6752M exactly and not 290.6751M.
    args = ("resolution", V1, "--step", "32", "-f", "json")
    assert json.loads(invoke(*args, "--max-macs", "290.6752M")[1])["answer"] == 160
    assert json.loads(invoke(*args, "--max-macs", "290.6751M")[1])["answer"] == 128


def test_grid_csv_and_json() -> None:
    args = ("grid", V1, "--var", "alpha=0.25:1.0:0.25", "--var", "resolution=128:224:32",
            "--max-macs", "300M")  # fmt: skip
    _, out, _ = invoke(*args, "-f", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 16
    by = {(r["alpha"], r["resolution"]): r for r in rows}
    assert by[("0.75", "224")]["macs"] == "325400448"  # Table 6
    assert by[("0.75", "224")]["within"] == "0"
    assert by[("1", "160")]["macs"] == "290675200"  # Table 7
    assert by[("1", "160")]["within"] == "1"
    data = json.loads(invoke(*args, "-f", "json")[1])
    assert data["feasible"] is True
    assert data["method"] == "replay"
    assert data["builds"] == 4  # one graph per alpha, replayed at every resolution
    exact = json.loads(invoke(*args, "-f", "json", "--exact")[1])
    assert (exact["method"], exact["builds"]) == ("exact", 16)
    assert exact["points"] == data["points"]
    assert sum(p["within"] for p in data["points"]) == 13
    assert [p["pareto"] for p in data["front"]] == [True] * len(data["front"])


WHEN = """\
name: interaction
vars: {alpha: 1.0, resolution: 224}
input: {channels: 3, size: resolution}
layers:
  - {kind: conv, out: "int(alpha * 32)", kernel: 3, stride: 2}
  - {kind: conv, out: "int(alpha * 32)", kernel: 3, when: "alpha >= 1 and resolution == 160"}
  - {kind: global_avg_pool}
  - {kind: flatten}
  - {kind: linear, out: 10}
"""
GALLOP = """\
name: gallop
vars: {alpha: 1.0}
input: {channels: 3, size: 8}
layers:
  - {kind: conv, out: "int(alpha * 100) - 4", kernel: 1}
"""


def test_grid_counts_a_layer_kept_at_one_point(tmp_path: Path) -> None:
    spec = tmp_path / "when.yaml"
    spec.write_text(WHEN)
    code, out, _ = invoke("grid", str(spec), "--var", "alpha=0.25:1.0:0.05", "--var",
                          "resolution=96:224:32", "--max-macs", "10M", "-f", "csv")  # fmt: skip
    assert code == 0
    row = next(r for r in csv.DictReader(io.StringIO(out)) if (r["alpha"], r["resolution"]) ==
               ("1", "160"))  # fmt: skip
    # stem 864 * 80 * 80 + extra 9,216 * 80 * 80 + linear 320 = 64,512,320: over 10M
    assert (row["macs"], row["within"]) == ("64512320", "0")


def test_width_bisection_finds_the_run_between_unbuildable_and_over_budget(
    tmp_path: Path,
) -> None:
    spec = tmp_path / "gallop.yaml"
    spec.write_text(GALLOP)
    code, out, _ = invoke("width", str(spec), "--range", "0.01:1.0", "--precision", "0.01",
                          "--max-macs", "600", "-f", "json")  # fmt: skip
    data = json.loads(out)
    assert code == 0
    # MACs = 3 * (int(100 alpha) - 4) * 8 * 8: 576 at 0.07, 768 at 0.08
    assert (data["answer"], data["achieved"]["macs"], data["next_fails"]) == (0.07, 576, 0.08)


def test_layer_search_does_not_need_a_spec_and_network_search_does_not_import_sympy() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from typer.testing import CliRunner; from sepcalc.cli import app, register; "
        "register(['search']); "
        "r = CliRunner().invoke(app, ['search', 'width', 'examples/mobilenet_v1.yaml', "
        "'--max-macs', '300M']); assert r.exit_code == 0, r.output; "
        "assert 'sympy' not in sys.modules, 'sympy imported'"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
