"""The cross-check's torch-free parts: comparison, presets on hand-derived layers, the CLI
without the extra. Runs without torch installed."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sepcalc.analysis import analyze
from sepcalc.cli import app
from sepcalc.conventions import DEFAULT, FVCORE, TORCH
from sepcalc.crosscheck.compare import ToolCount, compare, cross_check
from sepcalc.formulas.conv import conv_out_size
from sepcalc.report.crosscheck import tool_check_to_dict
from tests.conftest import EXAMPLES, graph_of

SPEC = """
name: tiny
input: {channels: 3, size: [8, 8]}
layers:
  - {kind: conv, name: c, out: 4, kernel: 3, norm: batchnorm, act: relu}
  - {kind: upsample, name: up, scale: 2, mode: nearest}
  - {kind: global_avg_pool, name: pool}
"""
# conv: MACs = 4 * 3 * 9 * 8 * 8 = 6,912; BN on 4x8x8 = 256 elements, 2 ops each = 512;
# nearest upsample to 4x16x16 = 1,024 copies; global pool reads 1,024 elements.
# params: conv 4*3*9 = 108 weights, BN 2*4 = 8.


def test_presets_on_a_hand_derived_network(tmp_path: Path) -> None:
    graph = graph_of(SPEC, tmp_path)
    # fvcore: 1 per MAC, BN 2 per element, 1 per nearest copy, 1 per pooled input element.
    assert analyze(graph, FVCORE).totals.flops == 6_912 + 512 + 1_024 + 1_024
    # torch's FlopCounterMode: 2 per MAC and nothing else.
    assert analyze(graph, TORCH).totals.flops == 2 * 6_912
    assert analyze(graph, TORCH).totals.params == 108 + 8


def tool_count(**layer_flops: int) -> ToolCount:
    return ToolCount(
        tool="fvcore",
        flops=sum(layer_flops.values()),
        layer_flops=layer_flops,
        params=116,
        layer_params={"c": 116},
        shapes={"c": (4, 8, 8), "up": (4, 16, 16), "pool": (4, 1, 1)},
    )


def test_compare_agrees_layer_by_layer(tmp_path: Path) -> None:
    analysis = analyze(graph_of(SPEC, tmp_path), FVCORE)
    check = compare(analysis, tool_count(c=7_424, up=1_024, pool=1_024))
    assert check.agrees
    assert check.differing == ()
    assert check.unattributed == 0
    data = tool_check_to_dict(check)
    assert data["agrees"] is True
    assert data["totals"]["tool_flops"] == 9_472 == data["totals"]["flops"]


def test_compare_shows_the_layer_that_differs(tmp_path: Path) -> None:
    analysis = analyze(graph_of(SPEC, tmp_path), FVCORE)
    # A tool that does not count the nearest copies: off by exactly the upsample's 1,024.
    check = compare(analysis, tool_count(c=7_424, up=0, pool=1_024))
    assert not check.agrees
    assert [(layer.name, layer.differences()) for layer in check.differing] == [("up", ["flops"])]
    assert check.flops - check.tool_flops == 1_024


def test_compare_checks_params_and_shapes(tmp_path: Path) -> None:
    analysis = analyze(graph_of(SPEC, tmp_path), FVCORE)
    count = tool_count(c=7_424, up=1_024, pool=1_024)
    wrong = ToolCount(
        "fvcore",
        count.flops,
        count.layer_flops,
        params=117,
        layer_params={"c": 117},
        shapes={**count.shapes, "pool": (4, 2, 2)},
    )
    check = compare(analysis, wrong)
    assert {layer.name: layer.differences() for layer in check.differing} == {
        "c": ["params"],
        "pool": ["shape"],
    }


def test_tool_flops_outside_every_layer_are_reported(tmp_path: Path) -> None:
    analysis = analyze(graph_of(SPEC, tmp_path), FVCORE)
    count = tool_count(c=7_424, up=1_024, pool=1_024)
    extra = ToolCount("fvcore", count.flops + 5, count.layer_flops, 116, {"c": 116})
    check = compare(analysis, extra)
    assert check.unattributed == 5
    assert not check.agrees


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "padding", "expected"),
    [
        # torch: out = ceil((1 + 2 - 2) / 2) + 1 = 2, but window 2 would start at index 2, in
        # the right padding (>= n + p = 2), so torch drops it: 1.
        (1, 2, 2, 1, 1),
        # ceil((7 + 0 - 3) / 2) + 1 = 3; the last window starts at 4 < 7: kept.
        (7, 3, 2, 0, 3),
        # ceil((6 + 2 - 3) / 2) + 1 = 4; the last window starts at 6 < 6 + 1: kept.
        (6, 3, 2, 1, 4),
        # ceil((5 + 2 - 2) / 3) + 1 = 3; the last window starts at 6 >= 5 + 1: dropped.
        (5, 2, 3, 1, 2),
    ],
    ids=["drop-in-padding", "keep", "keep-partial", "drop-stride3"],
)
def test_ceil_mode_follows_torch(
    size: int, kernel: int, stride: int, padding: int, expected: int
) -> None:
    out = conv_out_size([size], [kernel], [stride], [padding], [1], ceil_mode=True)
    assert out == (expected,)


def test_cli_without_the_extra_exits_2_with_the_install_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Simulate an environment without torch: importing it fails, as does every module of
    # ours that imports it.
    monkeypatch.setitem(sys.modules, "torch", None)
    for name in list(sys.modules):
        if name.startswith("sepcalc.crosscheck.") and name != "sepcalc.crosscheck.compare":
            monkeypatch.delitem(sys.modules, name)
    spec = str(EXAMPLES / "mobilenet_v1.yaml")
    for args in (["crosscheck", spec], ["export", "torch", spec]):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 2, result.output
        assert "torch is not installed" in result.stderr
        assert "pip install 'sepcalc[torch]'" in result.stderr
        assert result.stdout == ""


def test_cli_rejects_an_unknown_convention() -> None:
    result = CliRunner().invoke(
        app, ["crosscheck", str(EXAMPLES / "mobilenet_v1.yaml"), "--convention", "fvcor"]
    )
    assert result.exit_code == 2
    assert "did you mean 'fvcore'" in result.stderr


def test_json_schema_keys(tmp_path: Path) -> None:
    analysis = analyze(graph_of(SPEC, tmp_path), DEFAULT)
    data = tool_check_to_dict(compare(analysis, tool_count(c=1, up=2, pool=3)))
    assert json.loads(json.dumps(data)) == data
    assert list(data) == ["tool", "counter", "convention", "agrees", "totals", "layers"]
    assert [layer["name"] for layer in data["layers"]] == ["c", "up", "pool"]


def test_the_cross_check_exits_1_when_a_tool_differs(tmp_path: Path) -> None:
    graph = graph_of(SPEC, tmp_path)
    agreeing = tool_count(c=7_424, up=1_024, pool=1_024)
    differing = tool_count(c=7_424, up=0, pool=1_024)  # the nearest copies not counted
    assert cross_check(graph, [agreeing]).exit_code == 0
    result = cross_check(graph, [agreeing, differing])
    assert (result.agrees, result.exit_code) == (False, 1)
    assert [c.convention.name for c in result.checks] == ["fvcore", "fvcore"]
    assert cross_check(graph, [agreeing], TORCH).checks[0].convention is TORCH
