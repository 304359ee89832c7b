"""`--plot` on `analyze` and `search grid` (the plot extra): each file is made, parses, and
carries the labels a reader needs; the option is checked before any work is done."""

from __future__ import annotations

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
