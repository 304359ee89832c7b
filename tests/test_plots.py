"""`--plot` on `analyze` (bars, or the roofline with --device), `search grid` and `space
distribution|pareto|sample` (the plot extra): each file is made, parses, and carries the labels
a reader needs; the option is checked before any work is done, and a command without it never
imports matplotlib."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sepcalc.cli import app

pytest.importorskip("matplotlib")

SVG = "{http://www.w3.org/2000/svg}"


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def texts(path: Path) -> set[str]:
    """Every text of an SVG (matplotlib writes text as text with svg.fonttype none)."""
    root = ET.parse(path).getroot()
    return {"".join(t.itertext()).strip() for t in root.iter(f"{SVG}text")}


def test_analyze_plot_bars_every_layer(tmp_path: Path) -> None:
    out = tmp_path / "layers.svg"
    code, stdout, err = invoke("analyze", "zoo:mobilenet_v1", "--summary", "--plot", str(out))
    assert code == 0, err
    assert "Totals" in stdout  # the report is printed as usual
    assert f"plot written to {out}" in err
    labels = texts(out)
    # MobileNetV1 (Howard et al. 2017, Table 1): 568,740,352 MACs, 4,231,976 parameters
    assert "MobileNetV1 at input 3x224x224: 4,231,976 parameters, 568,740,352 MACs" in labels
    assert {"conv1", "dws1.dw", "dws13.pw", "fc"} <= labels  # every layer is a bar
    assert {"MACs (M)", "parameters (M)", "kind", "depthwise", "pointwise"} <= labels


def test_analyze_plot_png(tmp_path: Path) -> None:
    out = tmp_path / "layers.png"
    code, _, err = invoke("analyze", "zoo:shufflenet_v2_x1_0", "-f", "json", "--plot", str(out))
    assert code == 0, err
    data = out.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width == 11 * 150  # 11 inches at 150 dpi
    assert height > width  # a row per layer: ShuffleNetV2 has over a hundred


def test_grid_plot_marks_budget_and_front(tmp_path: Path) -> None:
    out = tmp_path / "grid.svg"
    code, _, err = invoke(
        "search", "grid", "zoo:mobilenet_v1", "--var", "alpha=0.25:1.0:0.25",
        "--var", "resolution=128,224", "--max-macs", "300M", "--plot", str(out),
    )  # fmt: skip
    assert code == 0, err
    labels = texts(out)
    # alpha 1.0 at 224 (569M) and alpha 0.75 at 224 (325M) are over 300M: 6 of 8 within
    assert "MobileNetV1: 6 of 8 points within budget (macs <= 300,000,000)" in labels
    assert {"Pareto front", "within budget", "over budget", "budget", "on the front"} <= labels
    assert {"MACs (M), lower is better", "parameters (M), higher is better"} <= labels
    assert {"alpha", "resolution", "The grid: alpha x resolution"} <= labels


@pytest.mark.parametrize(
    "args",
    [
        ("analyze", "zoo:mobilenet_v1"),
        ("search", "grid", "zoo:mobilenet_v1", "--var", "alpha=0.5,1.0"),
    ],
    ids=["analyze", "grid"],
)
def test_an_unknown_file_type_is_refused_first(args: tuple[str, ...], tmp_path: Path) -> None:
    out = tmp_path / "plot.jpg"
    code, stdout, err = invoke(*args, "--plot", str(out))
    assert (code, stdout) == (2, "")
    assert f"--plot {out}: the file type is its suffix: .svg, .png, .pdf" in err
    assert not out.exists()


def test_missing_matplotlib_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "matplotlib" else real(name)
    )
    code, stdout, err = invoke("analyze", "zoo:mobilenet_v1", "--plot", str(tmp_path / "x.svg"))
    assert (code, stdout) == (2, "")
    assert "--plot needs matplotlib, the plot extra: pip install 'sepcalc[plot]'" in err


# --- analyze --device: the roofline --------------------------------------------------------------


def test_analyze_device_plot_is_the_roofline(tmp_path: Path) -> None:
    out = tmp_path / "roofline.svg"
    code, stdout, err = invoke(
        "analyze", "zoo:mobilenet_v2", "--device", "jetson-orin-nano", "--summary",
        "--plot", str(out),
    )  # fmt: skip
    assert code == 0, err
    assert "estimated latency" in stdout
    labels = texts(out)
    assert {"arithmetic intensity (FLOPs per byte moved)", "attainable performance (FLOP/s)",
            "layer kind", "roofline"} <= labels  # fmt: skip
    # Orin Nano fp32: 1.28 TFLOP/s over 68 GB/s, ridge 1.28e12 / 68e9 = 18.8 FLOP/B
    assert {"ridge point: 18.8 FLOP/B", "fp32 peak 1.28 TFLOP/s (dense)",
            "bandwidth 68 GB/s"} <= labels  # fmt: skip
    # a point per layer with arithmetic (66 layers; flatten and dropout do none), by kind
    assert {"depthwise", "pointwise", "conv", "add", "linear", "global_avg_pool"} <= labels
    assert "2 layers without FLOPs or bytes (views) not drawn" in labels
    assert (
        "MobileNetV2 on jetson-orin-nano: fp32, batch 1, roofline latency 1.084 ms "
        "(64 layers drawn)" in labels
    )
    assert "parameters (M)" not in labels  # the roofline replaces the bars


def test_analyze_int8_roofline_counts_operations_and_draws_the_efficiency(tmp_path: Path) -> None:
    out = tmp_path / "roofline.svg"
    code, _, err = invoke(
        "analyze", "zoo:mobilenet_v1", "--device", "cortex-m7-f746", "--dtype", "int8",
        "--efficiency", "0.5", "--plot", str(out),
    )  # fmt: skip
    assert code == 0, err
    labels = texts(out)
    # STM32F746 int8: 864 MOP/s over 1.728 GB/s: ridge 0.5 OP/B
    assert {"attainable performance (OP/s)", "ridge point: 0.5 OP/B",
            "int8 peak 864 MOP/s (dense)", "roofline x efficiency 0.5"} <= labels  # fmt: skip


def test_analyze_dtype_without_a_device_keeps_the_bars(tmp_path: Path) -> None:
    out = tmp_path / "layers.svg"
    code, _, err = invoke("analyze", "zoo:mobilenet_v1", "--dtype", "int8", "--plot", str(out))
    assert code == 0, err
    assert {"MACs (M)", "parameters (M)"} <= texts(out)


# --- space distribution, pareto, sample ----------------------------------------------------------

# Input 3x8x8; stem 3x3 'same' 3 -> 4 without bias: 3*3*3*4 * 64 = 6,912 MACs, 108 params;
# 1x1 4 -> o1: 256*o1 MACs, 4*o1 params; 1x1 o1 -> o2: 64*o1*o2 MACs, o1*o2 params.
#   (o1, o2)  (4, 4)  (4, 8)  (8, 4)  (8, 8)  (16, 4)  (16, 8)
#   MACs       8,960   9,984  11,008  13,056   15,104   19,200
#   params       140     156     172     204      236      300
SIX = """
name: six
vars: {res: 8}
input: {channels: 3, size: res}
layers:
  - {kind: conv, name: stem, out: 4, kernel: 3, bias: false}
  - {kind: pointwise, name: a, out: {choice: [4, 8, 16]}, bias: false}
  - {kind: pointwise, name: b, out: {choice: [4, 8]}, bias: false}
"""


@pytest.fixture
def six(tmp_path: Path) -> str:
    path = tmp_path / "six.yaml"
    path.write_text(SIX)
    return str(path)


def test_space_distribution_plot(six: str, tmp_path: Path) -> None:
    out = tmp_path / "dist.svg"
    code, stdout, err = invoke("space", "distribution", six, "--max-macs", "12K",
                               "--plot", str(out))  # fmt: skip
    assert code == 0, err
    # 8,960, 9,984 and 11,008 are within 12,000: 3 of 6
    assert "within macs <= 12,000: 3 (50.0000%)" in stdout
    labels = texts(out)
    assert "six: MACs over 6 architectures; 50.00% within macs <= 12,000" in labels
    assert {"MACs (K)", "share of the architectures (%)", "share with MACs <= x (%)",
            "macs <= 12,000", "cumulative share (CDF), at every value"} <= labels  # fmt: skip


def test_space_distribution_plot_one_cdf_per_var_value(six: str, tmp_path: Path) -> None:
    out = tmp_path / "dist.png"
    code, _, err = invoke("space", "distribution", six, "--choice", "res=8,16", "--by-var",
                          "--max-macs", "12K", "--plot", str(out))  # fmt: skip
    assert code == 0, err
    assert out.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    svg = tmp_path / "dist.svg"
    code, _, err = invoke("space", "distribution", six, "--choice", "res=8,16", "--by-var",
                          "--bins", "4", "--max-macs", "12K", "--plot", str(svg))  # fmt: skip
    assert code == 0, err
    labels = texts(svg)
    # res 16 quadruples every MAC count (16**2 / 8**2): 35,840 and up, none within 12,000
    assert {"res=8: 50.00% within", "res=16: 0.00% within", "sub-space"} <= labels
    assert "six: MACs over 12 architectures, 2 sub-spaces by res" in labels
    assert "density (% per 1K MACs)" in labels
    assert "cumulative share (CDF), exact at the marked points (bin edges)" in labels


def test_space_distribution_json_within_and_exit_1(six: str) -> None:
    code, stdout, err = invoke("space", "distribution", six, "--max-params", "150", "-f", "json")
    assert code == 0, err
    data = json.loads(stdout)
    assert data["bounds"] == {"params": {"low": None, "high": 150}}
    assert [p["within"] for p in data["parts"]] == [1]  # params 140 only
    code, _, _ = invoke("space", "distribution", six, "--max-macs", "8K")
    assert code == 1  # the smallest is 8,960


def test_space_pareto_plot(six: str, tmp_path: Path) -> None:
    out = tmp_path / "front.svg"
    code, _, err = invoke("space", "pareto", six, "--max-macs", "12K", "--plot", str(out))
    assert code == 0, err
    labels = texts(out)
    # more MACs always bring more parameters here, so each within 12,000 is on the front
    assert "Pareto front of six: 3 points, within macs <= 12,000" in labels
    assert {"MACs (K), lower is better", "parameters, higher is better", "Pareto front",
            "macs <= 12,000"} <= labels  # fmt: skip


def test_space_pareto_plot_of_three_keys_says_so(six: str, tmp_path: Path) -> None:
    out = tmp_path / "front.svg"
    code, _, err = invoke("space", "pareto", six, "--keys", "min:macs,max:params,min:activations",
                          "--plot", str(out))  # fmt: skip
    assert code == 0, err
    labels = texts(out)
    assert (
        "a front on min:macs, max:params, min:activations: drawn on the first two keys, "
        "coloured by the third (so not a staircase here)"
    ) in labels
    assert "activations (K), lower is better" in labels  # 768 to 1,792


def test_space_sample_plot(six: str, tmp_path: Path) -> None:
    out = tmp_path / "samples.svg"
    code, _, err = invoke("space", "sample", six, "-n", "5", "--params", "150:250",
                          "--seed", "1", "--plot", str(out))  # fmt: skip
    assert code == 0, err
    labels = texts(out)
    assert "5 samples of six (seed 1)" in labels
    assert {"MACs (K)", "parameters", "150 <= params <= 250", "sample"} <= labels
    assert "uniform among the architectures; within 150 <= params <= 250" in labels


def test_a_plot_of_nothing_within_still_draws_the_bounds(six: str, tmp_path: Path) -> None:
    out = tmp_path / "front.svg"
    code, _, _ = invoke("space", "pareto", six, "--max-macs", "8K", "--plot", str(out))
    assert code == 1
    assert {"no architecture is within the bounds", "macs <= 8,000"} <= texts(out)


@pytest.mark.parametrize(
    "args",
    [
        ("space", "distribution"),
        ("space", "pareto"),
        ("space", "sample"),
    ],
    ids=["distribution", "pareto", "sample"],
)
def test_space_plot_file_type_is_refused_first(
    args: tuple[str, ...], six: str, tmp_path: Path
) -> None:
    out = tmp_path / "plot.gif"
    code, stdout, err = invoke(*args, six, "--plot", str(out))
    assert (code, stdout) == (2, "")
    assert f"--plot {out}: the file type is its suffix: .svg, .png, .pdf" in err


# --- without --plot, matplotlib is never imported -------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("analyze", "zoo:mobilenet_v2", "--device", "jetson-orin-nano"),
        ("space", "distribution", "SIX", "--max-macs", "12K"),
        ("space", "pareto", "SIX"),
        ("space", "sample", "SIX", "-n", "3"),
    ],
    ids=["analyze-device", "distribution", "pareto", "sample"],
)
def test_plain_commands_do_not_import_matplotlib(args: tuple[str, ...], six: str) -> None:
    argv = ["sepcalc", *(six if a == "SIX" else a for a in args)]
    code = (
        "import sys\n"
        "from sepcalc.cli import main\n"
        f"sys.argv = {argv!r}\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "print('MODULES:' + ','.join(sorted(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    modules = set(done.stdout.rpartition("MODULES:")[2].strip().split(","))
    assert "sepcalc.graph" in modules  # the command ran
    assert not {m for m in modules if m.split(".")[0] == "matplotlib"}
    assert "sepcalc.report.plots" not in modules
