"""The device options of `analyze` and `check`: --device, --dtype, --batch, --memory,
--efficiency; --max-latency, --max-peak-memory, --max-flash. Bad input: a plain message, exit 2."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from sepcalc.cli import app

ROOT = Path(__file__).resolve().parent.parent
MNV2 = str(ROOT / "examples" / "mobilenet_v2.yaml")


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def test_analyze_json_has_the_mcunetv2_peak_and_exact_latency() -> None:
    result = run("analyze", MNV2, "-f", "json", "--dtype", "int8", "--memory",
                 "in-place-depthwise", "--device", "cortex-m7-f746")  # fmt: skip
    assert result.exit_code == 0, result.output
    device = json.loads(result.stdout)["device"]
    assert (device["peak_memory"], device["peak_layer"]) == (1_404_928, "stage2.bottleneck1.expand")
    assert device["flash"] == 3_504_872
    first = device["layers"][0]
    assert (first["read"], first["written"], first["live"]) == (150_528, 401_408, 551_936)
    # the total is the exact sum of the layers' exact times
    total = sum(Fraction(row["time"]["exact"]) for row in device["layers"])
    assert Fraction(device["latency"]["exact"]) == total
    assert device["by_kind"]["depthwise"]["layers"] == 17


def test_analyze_table_shows_share_of_macs_next_to_share_of_time() -> None:
    result = run("analyze", MNV2, "--summary", "--device", "a100", "--dtype", "fp16")
    assert result.exit_code == 0, result.output
    assert "By layer kind: share of MACs and of estimated time" in result.stdout
    section = result.stdout.split("By layer kind")[1]
    row = next(line for line in section.splitlines() if line.startswith("depthwise "))
    # depthwise: 17 layers, 20.72M MACs = 6.89 % of the MACs, all memory-bound
    assert "6.89%" in row
    assert row.rstrip().endswith("17/17")


def test_weights_and_activations_types_are_separate() -> None:
    result = run("analyze", MNV2, "-f", "json", "--dtype", "int8", "--weights-dtype", "fp16")
    device = json.loads(result.stdout)["device"]
    assert device["precision"] == {"weights": "fp16", "activations": "int8"}
    assert device["flash"] == 2 * 3_504_872


def test_batch_scales_the_peak() -> None:
    one = json.loads(run("analyze", MNV2, "-f", "json", "--dtype", "int8").stdout)["device"]
    four = json.loads(run("analyze", MNV2, "-f", "json", "--dtype", "int8", "--batch", "4").stdout)
    assert four["device"]["peak_memory"] == 4 * one["peak_memory"]


def test_markdown_has_the_device_section() -> None:
    result = run("analyze", MNV2, "-f", "markdown", "--device", "h100")
    assert result.exit_code == 0, result.output
    assert "## Device on NVIDIA H100 SXM5 80GB: fp32, batch 1" in result.stdout
    assert "| depthwise | 17 |" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--dtype", "int4"), "--dtype int4: unknown data type; did you mean 'int8'?"),
        (("--device", "h10"), "unknown device 'h10'; did you mean 'h100'?"),
        (("--device", "raspberry-pi-4", "--dtype", "int8"),
         "device 'raspberry-pi-4' gives no peak for int8 (it has fp32)"),
        (("--memory", "in-place"), "--memory in-place: unknown convention; did you mean"),
        (("--efficiency", "0.5"), "--efficiency scales a device's roofline: give --device too"),
        (("--device", "a100", "--efficiency", "150%"), "--efficiency must be above 0 and at"),
        (("--batch", "0"), "Invalid value for '--batch'"),
        (("-f", "csv", "--dtype", "int8"), "not csv"),
        (("--symbolic", "alpha", "--device", "a100"), "need concrete vars"),
    ],
    ids=["dtype", "device", "no-peak", "memory", "efficiency-alone", "efficiency-range", "batch",
         "csv", "symbolic"],
)  # fmt: skip
def test_bad_device_options_exit_2_without_a_traceback(args: tuple[str, ...], message: str) -> None:
    result = run("analyze", MNV2, *args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_a_device_file_error_is_located(tmp_path: Path) -> None:
    bad = tmp_path / "board.yaml"
    bad.write_text("name: board\npeak:\n  fp32: {dense: 1G, source: x}\nbandwidth: {value: 1G}\n")
    result = run("analyze", MNV2, "--device", str(bad))
    assert result.exit_code == 2
    assert f"{bad}:4:12: bandwidth: every number needs a source (source: TEXT)" in result.output


def test_a_users_device_file_works_like_a_preset(tmp_path: Path) -> None:
    board = tmp_path / "board.yaml"
    board.write_text(
        "name: board\npeak:\n  fp32: {dense: 1G, source: a datasheet}\n"
        "bandwidth: {value: 1G, source: a datasheet}\n"
    )
    result = run("analyze", MNV2, "-f", "json", "--device", str(board))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["device"]["device"]["name"] == "board"


# --- check -------------------------------------------------------------------------------------


def test_check_mcu_budgets_fail_with_exit_1() -> None:
    # MobileNetV2 1.0 does not fit MCUNet's board: 1,404,928 B > 320 KiB, 3,504,872 B > 1 MiB
    device = ("--device", "cortex-m7-f746", "--dtype", "int8", "--memory", "in-place-depthwise")
    result = run("check", MNV2, *device, "--max-peak-memory", "320KiB", "--max-flash", "1MiB")
    assert result.exit_code == 1
    assert "1,404,928 B" in result.stdout
    github = run("check", MNV2, *device, "--max-peak-memory", "320KiB", "-f", "github")
    assert "peak_memory 1,404,928 B exceeds the budget 320KiB (327,680 B)" in github.stdout
    assert "2 of 2 checks failed" in result.stdout


def test_check_latency_is_exact_at_its_boundary() -> None:
    data = json.loads(
        run("analyze", MNV2, "-f", "json", "--device", "a100", "--dtype", "fp16").stdout
    )
    exact = Fraction(data["device"]["latency"]["exact"])
    # the bound as an exact decimal: the latency is a fraction whose denominator divides
    # a power of 10 only by chance, so use a value just above and just below
    above = f"{float(exact) * 1.000001:.12f}"
    below = f"{float(exact) * 0.999999:.12f}"
    ok = run("check", MNV2, "--device", "a100", "--dtype", "fp16", "--max-latency", above)
    over = run("check", MNV2, "--device", "a100", "--dtype", "fp16", "--max-latency", below)
    assert (ok.exit_code, over.exit_code) == (0, 1)


def test_check_peak_boundary_is_inclusive() -> None:
    args = ("check", MNV2, "--dtype", "int8", "--memory", "in-place-depthwise")
    assert run(*args, "--max-peak-memory", "1372KiB").exit_code == 0
    assert run(*args, "--max-peak-memory", "1404927").exit_code == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--max-latency", "5ms"), "--max-latency 5ms: a latency needs a device to run on"),
        (("--max-peak-memory", "lots"), "--max-peak-memory lots: 'lots' is not a quantity"),
        (("--device", "a100", "--max-latency", "5 minutes"), "is not a time"),
    ],
    ids=["latency-without-device", "bad-bytes", "bad-time"],
)
def test_check_bad_device_budgets(args: tuple[str, ...], message: str) -> None:
    result = run("check", MNV2, *args)
    assert result.exit_code == 2
    assert message in result.output


def test_a_latency_budget_in_a_spec_without_a_device_is_that_specs_error(tmp_path: Path) -> None:
    spec = tmp_path / "net.yaml"
    spec.write_text(
        "name: n\ninput: {channels: 3, size: 8}\nbudget: {latency: 1ms, peak_memory: 1KiB}\n"
        "layers:\n  - {kind: conv, out: 4, kernel: 3}\n"
    )
    result = run("check", str(spec))
    assert result.exit_code == 2
    assert "net.yaml:3:10: budget.latency: a latency budget (1ms) needs a device to run on" in (
        result.output
    )


# --- search ------------------------------------------------------------------------------------


def test_search_width_within_peak_memory_and_flash() -> None:
    # MobileNetV2 at 224, int8, in-place depthwise: the widest alpha whose peak fits 1,372 KiB
    # is 1.0 itself (the peak is exactly 1,404,928 B there; the bound is inclusive). One byte
    # less and alpha 0.75 fails too: make_divisible(16 * 0.75, 8) = 16 channels still expand
    # to 96 at 112 x 112, the same peak layer; alpha 0.5 (8 -> 48 channels) fits.
    args = ("search", "width", MNV2, "--dtype", "int8", "--memory", "in-place-depthwise",
            "--range", "0.5:1.0", "--step", "0.25", "-f", "json")  # fmt: skip
    fits = json.loads(run(*args, "--max-peak-memory", "1372KiB").stdout)
    assert fits["answer"] == 1
    assert fits["achieved"]["peak_memory"] == 1_404_928
    tight = json.loads(run(*args, "--max-peak-memory", "1404927").stdout)
    assert tight["answer"] == 0.5
    assert tight["achieved"]["peak_memory"] < 1_404_928
    assert tight["next_fails_achieved"]["peak_memory"] == 1_404_928


def test_search_grid_marks_device_budgets() -> None:
    device = ("--dtype", "int8", "--memory", "in-place-depthwise")
    result = run("search", "grid", MNV2, "--var", "resolution=96,224", *device,
                 "--max-peak-memory", "320KiB", "-f", "json")  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["budgets"] == {"peak_memory": 327_680}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--max-latency", "5ms"), "--max-latency: a latency needs a device to run on"),
        (("--max-macs", "300M", "--dtype", "int8"), "apply to the device budgets"),
        (("--max-flash", "one"), "--max-flash one: 'one' is not a quantity"),
    ],
    ids=["latency-without-device", "device-options-without-device-budget", "bad-bytes"],
)
def test_search_bad_device_budgets(args: tuple[str, ...], message: str) -> None:
    result = run("search", "width", MNV2, *args)
    assert result.exit_code == 2
    assert message in result.output
