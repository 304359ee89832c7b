"""Device budgets on the search-space commands: latency on a device, flash and peak memory.

Latency (a sum of per-layer roofline times) and flash (parameter bytes) add up over the stages
like MACs; peak memory is the largest of the stages' peaks, each walked with the tensor that
crosses its cut. Every answer is checked against brute force: every assignment of small random
spaces written out as an ordinary spec, built and costed as ``analyze --device`` costs it
(``DeviceRequest.analyze``).
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from sepcalc.cli import app
from sepcalc.device import DeviceRequest, Precision, get_device
from sepcalc.device.devices import parse_device
from sepcalc.errors import SpecError
from sepcalc.search.decompose import Decomposition, TooLarge
from sepcalc.search.exact import Bound
from sepcalc.search.space import Space, load_space
from sepcalc.search.spaces import best, count_space, pareto, sample, within
from tests.test_space import SETTINGS, _space, every_assignment, small

FEW = settings(SETTINGS, max_examples=8)
"""Each example builds and costs every assignment of its space (up to 150) on a device."""

ROOT = Path(__file__).resolve().parent.parent
OFA = ROOT / "examples" / "spaces" / "ofa_mobilenet_v3.yaml"

# A device whose peak, bandwidth and efficiency are awkward fractions, so that latencies are
# exact fractions with large denominators (nothing rounds to a float anywhere).
ODD = parse_device(
    """
name: odd
peak:
  fp32: {dense: 3.7G, source: test}
  int8: {dense: 11.3G, source: test}
bandwidth: {value: 1.9G, source: test}
efficiency: {value: 0.7, source: test}
""",
    "odd.yaml",
)


@st.composite
def device_spaces(draw: st.DrawFn) -> str:
    """A small space of inverted residual blocks (expand 1x1, depthwise, project 1x1, a residual
    add at stride 1): the depthwise layers run in place under in-place-depthwise and the
    residuals keep a tensor alive inside a stage; depth, width, kernel and stride may be
    choices; sometimes a dropout (a view) as a stage of its own, sometimes an entry that takes
    an earlier layer by name (no cut: a group)."""
    res = draw(st.sampled_from(["8", "{choice: [6, 9]}"]))
    lines = [
        "name: t",
        f"vars: {{res: {res}}}",
        "input: {channels: 2, size: res}",
        "blocks:",
        "  ir:",
        "    params: {out: null, e: 2, k: 3, s: 1}",
        "    layers:",
        "      - {kind: pointwise, name: x, out: in_channels * e, bias: false, act: relu}",
        "      - {kind: depthwise, name: d, kernel: k, stride: s, bias: true}",
        "      - {kind: pointwise, name: p, out: out, bias: false}",
        "      - {kind: add, inputs: [input, p], when: 's == 1 and in_channels == out'}",
        "layers:",
        "  - {kind: conv, name: stem, out: 2, kernel: 3, stride: "
        + draw(st.sampled_from(["1", "{choice: [1, 2]}"]))
        + "}",
    ]
    for n in range(draw(st.integers(1, 2))):
        keys = [f"name: st{n}"]
        keys.append(draw(st.sampled_from(["repeat: 1", "repeat: {choice: [0, 1, 2]}"])))
        keys.append(draw(st.sampled_from(["out: 2", "out: {choice: [2, 3], per: stage}"])))
        keys.append(draw(st.sampled_from(["e: 2", "e: {choice: [1, 3]}"])))
        keys.append(draw(st.sampled_from(["k: 3", "k: {choice: [1, 3]}"])))
        keys.append(draw(st.sampled_from(["s: 1", "s: {choice: [1, 2], per: stage}"])))
        lines.append("  - {block: ir, " + ", ".join(keys) + "}")
        if draw(st.booleans()):
            lines.append("  - {kind: dropout, p: 0.1}")
    if draw(st.booleans()):
        lines.append("  - {kind: pointwise, out: {choice: [1, 2]}, inputs: stem}")
    lines += ["  - {kind: global_avg_pool}", "  - {kind: flatten}", "  - {kind: linear, out: 3}"]
    return "\n".join(lines) + "\n"


requests = st.builds(
    DeviceRequest,
    precision=st.sampled_from([Precision(), Precision("int8", "int8"), Precision("int8", "fp32")]),
    batch=st.sampled_from([1, 3]),
    convention=st.sampled_from(["plain", "in-place-depthwise"]),
    device=st.sampled_from([ODD, get_device("raspberry-pi-4")]),
    efficiency=st.sampled_from([None, Fraction(1, 3)]),
)

DEVICE_TOTALS = ("macs", "params", "latency", "flash", "peak_memory")


def brute(space: Space, request: DeviceRequest) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Every assignment that builds and its totals, from its ordinary spec, as ``analyze
    --device`` costs it."""
    out = []
    for a in every_assignment(space):
        try:
            graph = space.graph(a)
        except SpecError:
            continue
        total = graph.total()
        metrics = request.analyze(graph).metrics()
        out.append((a, {"macs": total.macs, "params": total.params, **metrics}))
    return out


def _cut(values: list[Any], k: int) -> Any:
    """A bound that splits the values: one of them (so the boundary case is hit)."""
    ordered = sorted(set(values))
    return ordered[k % len(ordered)]


def _usable(request: DeviceRequest) -> bool:
    assert request.device is not None
    try:
        request.device.peak_of(request.precision.compute)
    except Exception:  # the Raspberry Pi 4 has no int8 peak
        return False
    return True


@FEW
@given(device_spaces(), requests, st.integers(0, 10**6), st.integers(0, 10**6))
def test_device_bounds_match_brute_force(
    text: str, request: DeviceRequest, k1: int, k2: int
) -> None:
    space = small(text)
    if not _usable(request):
        request = DeviceRequest(Precision(), request.batch, request.convention, ODD)
    every = brute(space, request)
    if not every:
        return
    dec = Decomposition(space, device=request)
    latency = _cut([t["latency"] for _, t in every], k1)
    flash = _cut([t["flash"] for _, t in every], k2)
    peak = _cut([t["peak_memory"] for _, t in every], k1 + k2)
    for bounds, holds in [
        ([Bound("latency", seconds=(None, latency))], lambda t: t["latency"] <= latency),
        ([Bound("flash", high=flash)], lambda t: t["flash"] <= flash),
        ([Bound("peak_memory", high=peak)], lambda t: t["peak_memory"] <= peak),
        (
            [Bound("latency", seconds=(None, latency)), Bound("peak_memory", high=peak)],
            lambda t: t["latency"] <= latency and t["peak_memory"] <= peak,
        ),
    ]:
        expected = [(a, t) for a, t in every if holds(t)]
        assert count_space(dec, bounds).within == len(expected)
        # the front on (min latency, max params) within the bounds: its values exactly
        front = pareto(dec, [("latency", -1), ("params", 1)], bounds)
        got = {(p.totals["latency"], p.totals["params"]) for p in front.points}
        assert got == _front({(t["latency"], t["params"]) for _, t in expected})
        # every point's totals are its architecture's, as analyze --device gives them
        for p in front.points:
            (t,) = [t for a, t in every if a == p.assignment]
            assert {m: p.totals[m] for m in DEVICE_TOTALS} == {m: t[m] for m in DEVICE_TOTALS}
        # samples drawn within the bounds are within them, with their own totals
        drawn = sample(dec, 5, k1, bounds)
        assert len(drawn.samples) == (5 if expected else 0)
        for s in drawn.samples:
            (t,) = [t for a, t in every if a == s.assignment]
            assert holds(t)
            assert {m: s.totals[m] for m in DEVICE_TOTALS} == {m: t[m] for m in DEVICE_TOTALS}


def _front(points: set[tuple[Any, Any]]) -> set[tuple[Any, Any]]:
    """(min first, max second): the points no other is at least as good as on both and better on
    one."""
    return {
        (x, y)
        for x, y in points
        if not any(a <= x and b >= y and (a, b) != (x, y) for a, b in points)
    }


@FEW
@given(device_spaces(), requests)
def test_smallest_peak_and_latency_match_brute_force(text: str, request: DeviceRequest) -> None:
    space = small(text)
    if not _usable(request):
        request = DeviceRequest(Precision(), request.batch, request.convention, ODD)
    every = brute(space, request)
    if not every:
        return
    dec = Decomposition(space, device=request)
    for metric in ("peak_memory", "latency", "flash"):
        found = best(dec, (metric, -1))
        assert found.best is not None
        assert found.best.totals[metric] == min(t[metric] for _, t in every)
    # peak memory on the front with MACs (a maximum with a sum): the exact front
    front = pareto(dec, [("peak_memory", -1), ("macs", 1)])
    got = {(p.totals["peak_memory"], p.totals["macs"]) for p in front.points}
    assert got == _front({(t["peak_memory"], t["macs"]) for _, t in every})


# --- hand-checked: one space, its two architectures -----------------------------------------

TWO = """
name: two
input: {channels: 3, size: 8}
layers:
  - {kind: conv, name: stem, out: 4, kernel: 3, bias: false}
  - {kind: pointwise, name: head, out: {choice: [4, 8]}, bias: false}
"""


def test_two_architectures_by_hand() -> None:
    # fp32 on ODD (3.7 GFLOP/s fp32, 1.9 GB/s, efficiency 0.7), one sample, plain.
    # The stem (3x3, 'same' padding) maps 3x8x8 to 4x8x8.
    space = _space(TWO)
    request = DeviceRequest(Precision(), 1, "plain", ODD)
    dec = Decomposition(space, device=request)
    every = brute(space, request)
    (small_, large) = sorted((t for _, t in every), key=lambda t: t["params"])
    # flash: stem 3*3*3*4 = 108 weights; head 4*4 = 16 or 4*8 = 32; fp32: 4 bytes each
    assert small_["flash"] == (108 + 16) * 4 == 496
    assert large["flash"] == (108 + 32) * 4 == 560
    # peak (plain): the stem's step holds its input 3*8*8 = 192 and its output 4*8*8 = 256
    # elements (448); the head's holds the stem's output 256 and its own, 4*64 = 256 or
    # 8*64 = 512 (512 or 768 elements): peaks 512 * 4 = 2,048 B and 768 * 4 = 3,072 B
    assert (small_["peak_memory"], large["peak_memory"]) == (2_048, 3_072)
    result = count_space(dec, [Bound("peak_memory", high=3_071)])
    assert result.within == 1
    result = count_space(dec, [Bound("flash", high=559)])
    assert result.within == 1
    # latency: both within their own latency, only the small one within the small latency
    result = count_space(dec, [Bound("latency", seconds=(None, small_["latency"]))])
    assert result.within == 1
    result = count_space(dec, [Bound("latency", seconds=(None, large["latency"]))])
    assert result.within == 2


def test_a_view_of_a_larger_tensor_at_a_cut_is_refused() -> None:
    # a slice ends a stage: the sliced tensor's whole buffer stays alive into the next stage,
    # so the stages' peaks would not be the network's; said, not approximated
    text = """
name: s
input: {channels: 4, size: 8}
layers:
  - {kind: pointwise, out: {choice: [4, 8]}}
  - {kind: slice, start: 0, stop: 2}
  - {kind: pointwise, out: 3}
"""
    dec = Decomposition(_space(text), device=DeviceRequest())
    with pytest.raises(TooLarge, match="view of a larger tensor"):
        count_space(dec, [Bound("peak_memory", high=10**6)])


def test_within_uses_the_larger_peak() -> None:
    # the vector's peak is the largest of the parts' (not their sum) once combined
    from sepcalc.search.decompose import VEC, combine

    a = tuple(1 if m != "peak_memory" else 5 for m in VEC)
    b = tuple(2 if m != "peak_memory" else 7 for m in VEC)
    c = combine(a, b)
    assert c[VEC.index("peak_memory")] == 7
    assert c[VEC.index("macs")] == 3
    assert within(c, [Bound("peak_memory", high=7)])
    assert not within(c, [Bound("peak_memory", high=6)])


# --- the command line ---------------------------------------------------------------------


runner = CliRunner()


def run(*args: object) -> Any:
    return runner.invoke(app, [str(a) for a in args])


def test_cli_ofa_flash_count_and_sample_reproduced_by_analyze(tmp_path: Path) -> None:
    result = run("space", "count", OFA, "--max-flash", "4MiB", "--dtype", "int8", "-f", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["bounds"] == {"flash": {"low": None, "high": 4 * 2**20}}
    within_ = data["within"]
    assert 0 < within_ < data["assignments"]
    # samples within a latency on a device, written as specs: analyze --device agrees exactly
    out = tmp_path / "samples"
    result = run("space", "sample", OFA, "-n", "2", "--seed", "3", "--max-latency", "18ms",
                 "--device", "raspberry-pi-4", "--max-peak-memory", "4MiB", "--out", out,
                 "-f", "json")  # fmt: skip
    assert result.exit_code == 0, result.output
    samples = json.loads(result.output)["samples"]
    assert len(samples) == 2
    assert json.loads(result.output)["bounds"]["latency"]["high"] == {
        "exact": "9/500",
        "value": 0.018,
    }
    for s, path in zip(samples, sorted(out.iterdir()), strict=True):
        analyzed = run("analyze", path, "--device", "raspberry-pi-4", "-f", "json")
        assert analyzed.exit_code == 0, analyzed.output
        device = json.loads(analyzed.output)["device"]
        assert s["totals"]["latency"] == device["latency"]
        assert Fraction(s["totals"]["latency"]["exact"]) <= Fraction(18, 1000)
        assert s["totals"]["peak_memory"] == device["peak_memory"]
        assert s["totals"]["peak_memory"] <= 4 * 2**20
        assert s["totals"]["flash"] == device["flash"]
        assert yaml.safe_load(path.read_text())["name"]


def test_cli_front_on_latency_table() -> None:
    result = run("space", "pareto", OFA, "--keys", "min:latency,max:params", "--device",
                 "raspberry-pi-4", "--max-latency", "9ms")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "latency <= 9ms" in result.output
    assert " ms " in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--max-latency", "2ms"], "--max-latency 2ms: a latency needs a device to run on"),
        (["--max-latency", "2 parsecs", "--device", "raspberry-pi-4"], "--max-latency 2 parsecs:"),
        (["--max-flash", "1.5"], "--max-flash 1.5: '1.5' is not a whole number of bytes"),
        (["--max-peak-memory", "lots"], "--max-peak-memory lots: 'lots' is not a quantity"),
        (["--dtype", "fp64", "--max-flash", "1M"], "--dtype fp64: unknown data type"),
        (["--device", "nope", "--max-latency", "1s"], "nope"),
    ],
    ids=["latency-without-device", "bad-time", "fractional-bytes", "bad-bytes", "dtype", "device"],
)
def test_cli_bad_device_bounds_exit_2(args: list[str], message: str) -> None:
    result = run("space", "count", OFA, *args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_cli_unanswerable_questions_say_why() -> None:
    result = run("space", "distribution", OFA, "--metric", "peak_memory")
    assert result.exit_code == 2
    assert "largest of the stages' peaks, not a sum" in result.output
    result = run("space", "pareto", OFA, "--keys", "min:latency,max:params")
    assert result.exit_code == 2
    assert "a latency needs a device to run on" in result.output


def test_ofa_peak_memory_front_is_set_by_the_first_expansion() -> None:
    # int8, in-place depthwise. The stem (3x3, stride 2, 16 channels) and the first block give
    # 16 x 112 x 112 = 200,704 B; stage 1's first block expands them by e in {3, 4, 6} at
    # 112 x 112 before its stride-2 depthwise: it holds 200,704 * (1 + e) B, the largest step
    # of every architecture (later tensors are smaller). So the front of (min peak memory,
    # max params) has one point per e, with MCUNetV2's MobileNetV2 peak at e = 6:
    # 200,704 * 7 = 1,404,928 B (arXiv 2110.15352).
    request = DeviceRequest(Precision("int8", "int8"), 1, "in-place-depthwise")
    dec = Decomposition(load_space(OFA), device=request)
    front = pareto(dec, [("peak_memory", -1), ("params", 1)])
    peaks = [p.totals["peak_memory"] for p in front.points]
    assert peaks == [200_704 * 4, 200_704 * 5, 200_704 * 7] == [802_816, 1_003_520, 1_404_928]
    assert [p.assignment["stage1.e"][0] for p in front.points] == [3, 4, 6]
    # the largest network (every choice at its largest) is the last point: 7,664,760
    # parameters, one byte each at int8
    assert front.points[-1].totals["params"] == front.points[-1].totals["flash"] == 7_664_760


def test_ofa_peak_bound_with_a_count_too_large_for_one_table() -> None:
    # With 1 MiB (int8, in-place depthwise), stage 1's first expansion must be 3 or 4 of
    # {3, 4, 6} (the previous test): exactly 2/3 of the space. With a MAC band beside it the
    # joint table is too large, and the three-table count keeps the peak bound as a filter
    # on each stage's options: still exact.
    request = DeviceRequest(Precision("int8", "int8"), 1, "in-place-depthwise")
    dec = Decomposition(load_space(OFA), device=request)
    result = count_space(dec, [Bound("macs", low=1), Bound("peak_memory", high=2**20)])
    assert result.method == "three tables"
    assert result.within == 14_505_770_328_381_657_234 == 21_758_655_492_572_485_851 * 2 // 3
