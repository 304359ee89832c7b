"""Counts past a float's range stay exact in every format; past sepcalc's own bound, a located
error. Never "internal error"."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from sepcalc.cli import app
from sepcalc.cost import MAX_COUNT_BITS
from sepcalc.expr import ExprError, as_int, evaluate, scientific, show
from sepcalc.report.numbers import fixed

ROOT = Path(__file__).resolve().parent.parent
MOBILENET = str(ROOT / "examples" / "mobilenet_v1.yaml")

# MobileNetV1 at width alpha (every channel count c * alpha, exactly, for an integral alpha):
# the 13 pointwise convs grow with alpha**2 and the rest with alpha. Pointwise at alpha = 1:
# 5 first-of-stage convs of 25,690,112 and 8 of 51,380,224 = 539,492,352; linear terms: the
# stem 27*32*112**2 = 10,838,016, the depthwise convs 17,385,984, the classifier 1,024,000.
ALPHA = 10**600
MACS = 539_492_352 * ALPHA**2 + (10_838_016 + 17_385_984 + 1_024_000) * ALPHA
LIMIT = 10**9
OVER = MACS - LIMIT


def _check(fmt: str) -> str:
    result = CliRunner().invoke(
        app,
        ["check", MOBILENET, "--set", "alpha=1e600", "--max-macs", "1G", "-f", fmt],
        env={"COLUMNS": "20000"},  # no cell folded: a folded cell interleaves with the next
    )
    assert result.exit_code == 1, result.output
    assert "internal error" not in result.output
    return result.stdout


def _squashed(text: str) -> str:
    """Without spaces and line breaks: a table folds a 1,200-digit cell over many lines."""
    return "".join(text.split())


@pytest.mark.parametrize("fmt", ["text", "junit", "github", "markdown"])
def test_every_check_format_is_exact_past_a_float(fmt: str) -> None:
    # The overrun as a share of the limit, 2 decimals, from integers: a float division
    # overflowed ("internal error: OverflowError") in each of these formats.
    share = fixed(Fraction(100 * OVER, LIMIT))
    out = _squashed(_check(fmt)).replace("%25", "%")  # github escapes '%'
    assert f"{MACS:,}" in out
    assert f"{share}%" in out


def test_the_github_message_says_it_whole() -> None:
    share = fixed(Fraction(100 * OVER, LIMIT))
    message = f"exceeds the budget 1G ({LIMIT:,}) by {OVER:,} ({share}%25)"  # '%' escaped
    assert message in _check("github")


def test_the_check_json_holds_the_exact_count() -> None:
    (spec,) = json.loads(_check("json"))["specs"]
    (outcome,) = spec["checks"]
    assert (outcome["value"], outcome["limit"]) == (MACS, LIMIT)


def test_a_layer_over_the_count_bound_is_an_error_at_its_line(tmp_path: Path) -> None:
    # 3 channels in, 10**1200 out, 10**700 x 10**700 positions, 1x1: 3 * 10**2600 MACs,
    # over 2**8192 (about 10**2466), though each size is under 4,096 bits (about 10**1233).
    big, side = "1" + "0" * 1200, "1" + "0" * 700
    spec = tmp_path / "huge.yaml"
    spec.write_text(
        f"input: {{channels: 3, size: [{side}, {side}]}}\n"
        f"layers:\n  - {{kind: conv, out: {big}, kernel: 1}}\n"
    )
    result = CliRunner().invoke(app, ["analyze", str(spec)])
    assert result.exit_code == 2
    assert result.stderr == (
        f"{spec}:3:12: layer 'conv1' (conv): a count or size is over 2**{MAX_COUNT_BITS} "
        "(about 10**2466), the most sepcalc counts for one layer\n1 error in spec\n"
    )


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "markdown"])
def test_a_count_of_2000_digits_is_printed_whole_in_every_format(tmp_path: Path, fmt: str) -> None:
    # 3 -> 10**600 channels, 1x1, at 10**700 x 10**700: 3 * 10**2000 MACs.
    spec = tmp_path / "big.yaml"
    side, out = "1" + "0" * 700, "1" + "0" * 600
    spec.write_text(
        f"input: {{channels: 3, size: [{side}, {side}]}}\n"
        f"layers:\n  - {{kind: conv, out: {out}, kernel: 1}}\n"
    )
    result = CliRunner().invoke(app, ["analyze", str(spec), "-f", fmt], env={"COLUMNS": "20000"})
    assert result.exit_code == 0, result.output
    text = _squashed(result.stdout)
    assert f"{3 * 10**2000:,}" in text or str(3 * 10**2000) in text


def test_the_short_column_switches_to_scientific_notation(tmp_path: Path) -> None:
    spec = tmp_path / "big.yaml"
    spec.write_text(
        "input: {channels: 3, size: [1000, 1000]}\n"
        "layers:\n  - {kind: conv, out: '192 * 10**36', kernel: 1}\n"
    )
    # 3 * 192e36 * 1e6 = 5.76e44 MACs: was 576000000000000000000000000.00E
    result = CliRunner().invoke(app, ["analyze", str(spec)])
    assert result.exit_code == 0, result.output
    assert "5.76e+44" in result.stdout
    assert "000.00E" not in result.stdout


def test_formula_at_values_whose_count_is_too_large_is_an_option_error() -> None:
    result = CliRunner().invoke(
        app, ["formula", "conv", "--at", "C_in=1e1000,C_out=1e1000,H=1e1000,W=1e1000,k=1e1000"]
    )
    assert result.exit_code == 2
    assert result.stderr.startswith(
        f"error: --at: at these values a count is over 2**{MAX_COUNT_BITS}"
    )


def test_formula_at_values_past_a_float_are_exact(tmp_path: Path) -> None:
    # conv / pointwise at k = 10**300: a ratio of k**2 = 10**600 (reduction 10**-600).
    result = CliRunner().invoke(
        app, ["formula", "conv", "--vs", "pointwise", "--at", "k=1e300", "-f", "json"]
    )
    assert result.exit_code == 0, result.output
    assert '"decimal": "1e+600"' in result.stdout


def test_an_expression_constant_over_4096_bits_is_refused() -> None:
    with pytest.raises(ExprError, match="too large"):
        evaluate("1" + "0" * 1300 + " // 10**1290", {})


@given(st.floats(allow_nan=False, allow_infinity=False), st.integers(1, 17))
def test_scientific_is_format_g_without_a_float(value: float, digits: int) -> None:
    # A float's exact value, formatted exactly: Python's own 'g' rounds it correctly too.
    expected = format(value, f".{digits}g") if value else "0"  # no '-0'
    assert scientific(Fraction(value), digits) == expected


@given(st.integers(-400, 400), st.integers(1, 10**6))
def test_scientific_past_a_float_reads_back_within_its_digits(exponent: int, m: int) -> None:
    value = Fraction(m) * Fraction(10) ** exponent
    text = scientific(value, 6)
    assert abs(Fraction(text) - value) <= abs(value) * Fraction(1, 10**5)


def test_show_and_messages_never_overflow_a_float() -> None:
    assert show(Fraction(10**400, 3)) == f"{10**400}/3"
    with pytest.raises(ExprError, match=r"expected an integer, got 3.33333e\+399"):
        as_int(Fraction(10**400, 3))


# --- the device model past a float ------------------------------------------------------------

# One 1x1 conv, 3 -> C = 10**360 channels at 8x8, fp32 (4 bytes) on an A100. Bytes moved: the
# input 3*8*8*4 = 768, the weights 3*C*4 = 12C, the output C*8*8*4 = 256C; FLOPs 2*3*C*64 =
# 384C. Computing 384C at 19.5T FLOP/s is quicker than moving (268C + 768) B at 2,039 GB/s, so
# the layer is memory-bound and its time (the network's latency) is about 1.314e+350 s:
HUGE_C = 10**360
HUGE_LATENCY = Fraction(268 * HUGE_C + 768, 2039 * 10**9)
HUGE_OUT = " * ".join(["10**60"] * 6)  # 10**360: an exponent over 300 is refused


def _huge(tmp_path: Path, kernel: str = "1") -> str:
    spec = tmp_path / "huge.yaml"
    spec.write_text(
        "name: huge\ninput: {channels: 3, size: 8}\n"
        f"layers:\n  - {{kind: conv, out: '{HUGE_OUT}', kernel: {kernel}}}\n"
    )
    return str(spec)


def _exact(value: Fraction) -> dict[str, str]:
    return {"exact": f"{value.numerator}/{value.denominator}", "value": scientific(value, 17)}


@pytest.mark.parametrize("fmt", ["json", "markdown", "table"])
def test_the_device_report_past_a_float(tmp_path: Path, fmt: str) -> None:
    # Was "internal error: OverflowError: integer division result too large for a float".
    result = CliRunner().invoke(app, ["analyze", _huge(tmp_path), "--device", "a100", "-f", fmt])
    assert result.exit_code == 0, result.output
    if fmt != "json":
        return
    device = json.loads(result.stdout)["device"]
    assert device["latency"] == _exact(HUGE_LATENCY)
    assert device["latency"]["value"] == "1.31436978911231e+350"
    (layer,) = device["layers"]
    assert layer["time"] == _exact(HUGE_LATENCY)
    assert layer["intensity"] == 384 / 268  # FLOPs per byte: 384C / (268C + 768), as a float
    assert device["by_kind"]["conv"]["time"] == _exact(HUGE_LATENCY)


@pytest.mark.parametrize("fmt", ["text", "json", "markdown", "github", "junit"])
def test_a_latency_budget_past_a_float(tmp_path: Path, fmt: str) -> None:
    result = CliRunner().invoke(
        app, ["check", _huge(tmp_path), "--device", "a100", "--max-latency", "5ms", "-f", fmt]
    )
    assert result.exit_code == 1, result.output
    assert "internal error" not in result.output
    if fmt == "json":
        report = json.loads(result.stdout)
        schema = ROOT / "docs" / "schemas" / "check-report.schema.json"
        jsonschema.validate(report, json.loads(schema.read_text()))
        (spec,) = report["specs"]
        (outcome,) = spec["checks"]
        headroom = Fraction(5, 1000) - HUGE_LATENCY
        assert (outcome["value"], outcome["limit"]) == ("1.31436978911231e+350", 0.005)
        assert outcome["headroom"] == scientific(headroom, 17)
        assert outcome["exact"] == {
            "value": f"{HUGE_LATENCY.numerator}/{HUGE_LATENCY.denominator}",
            "limit": "1/200",
            "headroom": f"{headroom.numerator}/{headroom.denominator}",
        }


def test_a_space_latency_past_a_float(tmp_path: Path) -> None:
    space = _huge(tmp_path, "{choice: [1, 3]}")
    best = ["space", "best", space, "--device", "a100", "--minimize", "latency"]
    result = CliRunner().invoke(app, [*best, "-f", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["totals"]["latency"] == _exact(HUGE_LATENCY)  # kernel 1
    result = CliRunner().invoke(app, [*best, "--max-latency", "1ms"], env={"COLUMNS": "20000"})
    assert result.exit_code == 1, result.output
    assert "the smallest latency in the space is 1.314e+350 s (" in result.stdout


@pytest.mark.parametrize(
    ("command", "kernel"),
    [
        (["analyze"], "1"),
        (["space", "sample"], "{choice: [1, 3]}"),
        (["space", "pareto", "--device", "a100"], "{choice: [1, 3]}"),
    ],
    ids=["bars", "samples", "front"],
)
def test_a_plot_past_a_float_is_an_error(tmp_path: Path, command: list[str], kernel: str) -> None:
    pytest.importorskip("matplotlib")
    words = command[: 2 if command[0] == "space" else 1]
    args = [*words, _huge(tmp_path, kernel), *command[len(words) :]]
    result = CliRunner().invoke(app, [*args, "--plot", str(tmp_path / "plot.png")])
    assert result.exit_code == 2, result.output
    assert "past a float's range (about 1.8e+308): a plot cannot draw it" in result.stderr
    assert "internal error" not in result.stderr


def test_the_roofline_plot_draws_ratios_that_a_float_holds(tmp_path: Path) -> None:
    # A roofline point is FLOPs per byte (384C / (268C + 768), about 1.43) against FLOPs per
    # second (at most the peak): both are in a float's range however large the counts.
    pytest.importorskip("matplotlib")
    plot = tmp_path / "roofline.png"
    args = ["analyze", _huge(tmp_path), "--device", "a100", "--plot", str(plot)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert plot.stat().st_size > 0
