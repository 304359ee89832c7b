"""`sepcalc crosscheck SPEC --against MODULE:NAME`: a spec against the user's own module.

The alignment of spec layers with modules is pure and tested without torch; the command is
tested with tests/user_models/tiny.py (needs the torch extra).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sepcalc.cli import app
from sepcalc.crosscheck.against import Segment, Unit, align, module_segments

runner = CliRunner()
ROOT = Path(__file__).resolve().parent.parent

SPEC = """\
name: TinyNet
vars: {classes: 10, width: 8}
input: {channels: 3, size: 32}
layers:
  - {kind: conv, name: stem, out: width, kernel: 3, stride: 2, padding: 1, norm: batchnorm,
     act: relu}
  - {kind: depthwise, name: dw, norm: batchnorm, act: relu}
  - {kind: add, name: res, inputs: [stem, dw]}
  - {kind: pointwise, name: pw, out: 2 * width, norm: batchnorm, act: relu}
  - {kind: squeeze_excite, name: se, squeeze: 8, gate: hardsigmoid}
  - {kind: global_avg_pool, name: pool}
  - {kind: flatten}
  - {kind: linear, name: fc, out: classes}
"""
# params: stem 8*27 + 2*8 = 232; dw 8*9 + 16 = 88; pw 16*8 + 32 = 160;
# se 16*8 + 8 + 8*16 + 16 = 280; fc 16*10 + 10 = 170; in all 930.
# torch FLOPs (2 per MAC of conv and linear): stem 2*216*16*16 = 110,592; dw 2*72*256 = 36,864;
# pw 2*128*256 = 65,536; se 2*(128 + 128) = 512; fc 2*160 = 320; in all 213,824.


def unit(name: str, params: int = 0, flops: int = 0) -> Unit:
    return Unit(name, params, flops)


def test_parameter_free_modules_go_with_the_neighbour_whose_path_they_share() -> None:
    units = [
        unit("block.1.0", 72, 100),  # depthwise conv
        unit("block.1.1", 16, 10),  # its BatchNorm
        unit("block.1.2"),  # its ReLU: shares 'block.1' with what is before
        unit("block.1"),  # the Sequential, done
        unit("block.2.avgpool", 0, 7),  # starts the squeeze-excite: goes with fc1 after it
        unit("block.2.fc1", 9, 3),
        unit("block.2.fc2", 9, 3),
        unit("block.2", 0, 0),
    ]
    assert module_segments(units) == [
        Segment(("block.1.0",), 72, 100),
        Segment(("block.1.1", "block.1.2", "block.1"), 16, 10),
        Segment(("block.2.avgpool", "block.2.fc1"), 9, 10),
        Segment(("block.2.fc2", "block.2"), 9, 3),
    ]


def test_rows_merge_until_parameters_agree() -> None:
    spec = [Segment(("conv",), 88, 110), Segment(("se",), 18, 13)]
    module = [Segment(("c",), 72, 100), Segment(("bn",), 16, 10), Segment(("fc1",), 9, 10),
              Segment(("fc2",), 9, 3)]  # fmt: skip
    rows, stopped = align(spec, module)
    assert stopped is None
    assert [(r.layers, r.modules, r.params, r.flops) for r in rows] == [
        (("conv",), ("c", "bn"), 88, 110),
        (("se",), ("fc1", "fc2"), 18, 13),
    ]


@pytest.mark.parametrize(
    ("module", "stop", "row"),
    [
        ([Segment(("c",), 88, 111), Segment(("fc",), 5, 5)], "conv", (88, 88, 110, 111)),
        ([Segment(("c",), 88, 110), Segment(("fc",), 6, 5)], "fc", (5, 6, 5, 5)),
        ([Segment(("c",), 88, 110)], "fc", (5, 0, 5, 0)),
    ],
    ids=["flops", "params", "missing-module"],
)
def test_the_first_row_that_differs_is_where_the_comparison_stops(
    module: list[Segment], stop: str, row: tuple[int, int, int, int]
) -> None:
    spec = [Segment(("conv",), 88, 110), Segment(("fc",), 5, 5)]
    rows, stopped = align(spec, module)
    assert stopped == stop
    last = rows[-1]
    assert (last.params, last.tool_params, last.flops, last.tool_flops) == row
    assert all(r.agrees for r in rows[:-1])


torch_only = pytest.mark.torch


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(SPEC)
    return path


def run(*args: str) -> tuple[int, str, str]:
    done = runner.invoke(app, ["crosscheck", *args])
    return done.exit_code, done.stdout, done.stderr


@torch_only
@pytest.mark.parametrize(
    "target",
    ["tests.user_models.tiny:build_model", "tests.user_models.tiny:TinyNet",
     str(ROOT / "tests/user_models/tiny.py") + ":TinyNet"],
    ids=["factory", "class", "file-path"],
)  # fmt: skip
def test_the_spec_matches_the_module(spec: Path, target: str) -> None:
    pytest.importorskip("fvcore")
    code, out, err = run(str(spec), "--against", target, "--format", "json")
    assert code == 0, err
    result = json.loads(out)
    assert result["agrees"] is True
    by_tool = {t["tool"]: t for t in result["tools"]}
    torch_totals = by_tool["torch"]["totals"]
    assert torch_totals["params"] == torch_totals["module_params"] == 930
    assert torch_totals["flops"] == torch_totals["module_flops"] == 213_824
    assert torch_totals["module_output_shape"] == [10]
    rows = by_tool["torch"]["rows"]
    assert [(r["layers"][0], r["params"]) for r in rows] == [
        ("stem", 232), ("dw", 88), ("pw", 160), ("se", 280), ("fc", 170),
    ]  # fmt: skip
    assert rows[3]["modules"][:2] == ["se.avgpool", "se.fc1"]  # the pool goes with the SE
    assert by_tool["fvcore"]["agrees"] is True


@torch_only
def test_a_changed_model_fails_at_the_layer_that_changed(spec: Path) -> None:
    code, out, _ = run(
        str(spec), "--against", "tests.user_models.tiny:build_model", "--kwargs",
        '{"classes": 12}', "--tool", "torch", "--format", "json",
    )  # fmt: skip
    assert code == 1
    check = json.loads(out)["tools"][0]
    assert check["stopped_at"] == "fc"
    assert check["totals"]["module_params"] == 930 + 16 * 2 + 2  # two more classes
    assert [r["agrees"] for r in check["rows"]] == [True, True, True, True, False]


@torch_only
def test_a_stride_the_spec_misses_is_found_by_its_flops(spec: Path) -> None:
    code, out, _ = run(
        str(spec), "--against", "tests.user_models.tiny:TinyNet", "--kwargs",
        '{"dw_stride": 2}', "--tool", "torch",
    )  # fmt: skip
    assert code == 1
    assert "part at 'dw'" in out
    # the same parameters, a quarter of the positions: 36,864 / 4 = 9,216 FLOPs
    assert "36,864" in out
    assert "9,216" in out


@torch_only
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--against", "tests.user_models.tiny"], "expected MODULE:NAME"),
        (["--against", "tests.user_models.nope:f"], "no module named 'tests.user_models.nope'"),
        (["--against", "tests.user_models.tiny:missing"], "has no 'missing' (it has"),
        (["--against", "tests.user_models.tiny:not_a_model"], "returned a int, not a torch.nn"),
        (["--against", "tests.user_models.tiny:broken"], "RuntimeError: weights file not found"),
        (["--against", "tests.user_models.tiny:TinyNet", "--kwargs", "{"], "--kwargs: not JSON"),
        (["--against", "tests.user_models.tiny:TinyNet", "--kwargs", "[1]"],
         "--kwargs: a JSON object is needed, not list"),
        (["--against", "tests.user_models.tiny:TinyNet", "--kwargs", '{"depth": 3}'],
         "unexpected keyword argument 'depth'"),
        (["--kwargs", "{}"], "--kwargs: give --against too"),
        (["--against", "no/such/file.py:f"], "no file no/such/file.py"),
    ],
    ids=["no-name", "no-module", "no-attr", "not-module", "raises", "bad-json", "not-object",
         "bad-kwarg", "kwargs-alone", "no-file"],
)  # fmt: skip
def test_bad_targets_are_errors(spec: Path, args: list[str], message: str) -> None:
    code, _, err = run(str(spec), *args, "--tool", "torch")
    assert code == 2
    assert message in err
    assert "Traceback" not in err
