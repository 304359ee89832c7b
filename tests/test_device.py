"""Device cost: bytes moved (each kind's declared traffic), peak activation memory, flash and
roofline latency; the published anchors reproduced exactly."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sepcalc.device import Precision, get_device, memory, parse_device, preset_names, roofline
from sepcalc.device.units import QuantityError, amount, byte_count, seconds
from sepcalc.errors import SepcalcError, SpecError
from sepcalc.formulas import REGISTRY
from sepcalc.graph import Graph, build_graph, example_graph
from sepcalc.spec import load_spec
from sepcalc.spec.loader import LoadedSpec, parse_yaml, validate

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
INT8 = Precision("int8", "int8")


def _graph(yaml_text: str) -> Graph:
    data, locator = parse_yaml(yaml_text, "<test>")
    return build_graph(LoadedSpec(validate(data, locator), locator))


def _zoo(name: str) -> Graph:
    return build_graph(load_spec(EXAMPLES / f"{name}.yaml"))


# --- ShuffleNetV2 (arXiv 1807.11164) memory access cost ------------------------------------------


@pytest.mark.parametrize(
    ("groups", "expected"),
    [
        # Eq. 1, a 1x1 conv c1 = c2 = 128 at h = w = 56: hw(c1 + c2) + c1*c2
        #   = 3136 * 256 + 16384 = 802,816 + 16,384 = 819,200
        (1, 819_200),
        # Eq. 2, grouped: hw(c1 + c2) + c1*c2/g = 802,816 + 16,384 / 4 = 806,912
        (4, 806_912),
        # g = 8: 802,816 + 2,048 = 804,864
        (8, 804_864),
    ],
    ids=["eq1", "eq2-g4", "eq2-g8"],
)
def test_shufflenet_v2_memory_access_cost(groups: int, expected: int) -> None:
    graph = _graph(
        "name: mac\ninput: {channels: 128, size: 56}\n"
        f"layers:\n  - {{kind: pointwise, out: 128, groups: {groups}}}\n"
    )
    (layer,) = memory(graph, Precision()).layers
    assert layer.accesses == expected
    # bytes: the same elements at fp32, 4 bytes each
    assert layer.moved == 4 * expected


# --- MCUNetV2 (arXiv 2110.15352): MobileNetV2 1.0 at 224, int8 ------------------------------------


def test_first_conv_holds_its_input_and_output() -> None:
    # 3 x 224 x 224 = 150,528 B in; 32 x 112 x 112 = 401,408 B out (int8, one byte each)
    first = memory(_zoo("mobilenet_v2"), INT8).layers[0]
    assert (first.name, first.read, first.written) == ("conv1", 150_528, 401_408)
    assert first.live == 150_528 + 401_408
    # its weights: 32 x 3 x 3 x 3 = 864 plus BatchNorm's 2 x 32 = 928 parameters
    assert first.weights == 928


def test_mcunetv2_peak_in_place_depthwise() -> None:
    # The first expansion 1x1 of the second block: 16 x 112 x 112 = 200,704 B in,
    # 96 x 112 x 112 = 1,204,224 B out: 1,404,928 B = 1,372 KiB (MCUNetV2, Fig. 2).
    m = memory(_zoo("mobilenet_v2"), INT8, convention="in-place-depthwise")
    assert (m.peak, m.peak_layer) == (1_404_928, "stage2.bottleneck1.expand")
    assert m.peak == 1372 * 1024


def test_plain_peak_is_the_first_stride_2_depthwise() -> None:
    # 96 x 112 x 112 = 1,204,224 B in, 96 x 56 x 56 = 301,056 B out
    m = memory(_zoo("mobilenet_v2"), INT8)
    assert (m.peak, m.peak_layer) == (1_204_224 + 301_056, "stage2.bottleneck1.dw")


def test_in_place_depthwise_needs_one_channel_and_keeps_the_shortcut() -> None:
    layers = {
        m.name: m
        for m in memory(_zoo("mobilenet_v2"), INT8, convention="in-place-depthwise").layers
    }
    # the first depthwise: 32 x 112 x 112 = 401,408 B in place, plus one 112 x 112 channel
    assert layers["stage1.bottleneck1.dw"].live == 401_408 + 12_544
    assert layers["stage1.bottleneck1.dw"].in_place
    # a residual block: its input (24 x 56 x 56 = 75,264 B) stays for the add while the
    # depthwise overwrites 144 x 56 x 56 = 451,584 B with one 56 x 56 channel spare
    assert layers["stage2.bottleneck2.dw"].live == 75_264 + 451_584 + 3_136


def test_flash_is_every_parameter_at_the_weights_type() -> None:
    graph = _zoo("mobilenet_v2")
    params = graph.total().params  # 3,504,872 (torchvision)
    assert memory(graph, INT8).flash == params == 3_504_872
    assert memory(graph, Precision("fp16", "int8")).flash == 2 * params


def test_a_view_allocates_nothing_and_a_like_reference_is_not_read() -> None:
    graph = _graph(
        "name: v\ninput: {channels: 4, size: 8}\nlayers:\n"
        "  - {kind: slice, start: 0, stop: 2, name: half}\n"
        "  - {kind: upsample, like: input, inputs: half}\n"
    )
    sliced, up = memory(graph, Precision()).layers
    assert (sliced.read, sliced.written, sliced.live) == (0, 0, 4 * 4 * 64)
    # the upsample reads the 2 x 8 x 8 view (of the input's buffer) and writes 2 x 8 x 8
    assert (up.read, up.written) == (4 * 128, 4 * 128)
    assert up.live == 4 * (256 + 128)


@pytest.mark.parametrize("kind", sorted(REGISTRY))
def test_every_kind_declares_traffic_that_adds_up(kind: str) -> None:
    for example in REGISTRY[kind].examples:
        graph = example_graph(example)
        node = graph.nodes[-1]
        t = REGISTRY[kind].traffic(node.attrs, node.input_shapes, node.output_shape, node.cost)
        assert min(t.read, t.weights, t.written, t.workspace) >= 0
        assert t.weights == node.cost.params
        if t.view:
            assert t.read == t.written == 0
        else:
            assert t.written == node.cost.activations >= t.workspace


@settings(max_examples=20, deadline=None)
@given(batch=st.integers(1, 64), name=st.sampled_from(["mobilenet_v2", "shufflenet_v2_x1_0"]))
def test_batch_scales_tensors_not_weights(batch: int, name: str) -> None:
    graph = _zoo(name)
    one, many = memory(graph, Precision()), memory(graph, Precision(), batch)
    assert many.peak == batch * one.peak
    assert many.flash == one.flash
    for a, b in zip(one.layers, many.layers, strict=True):
        assert (b.read, b.written, b.weights) == (batch * a.read, batch * a.written, a.weights)


# --- roofline --------------------------------------------------------------------------------


def test_roofline_time_of_one_layer_by_hand() -> None:
    # a 1x1 conv 128 -> 128 at 56 x 56, fp32, on the A100 (19.5 TFLOP/s, 2,039 GB/s):
    # FLOPs = 2 x 128 x 128 x 3136 = 102,760,448 -> 102,760,448 / 19.5e12 s
    # bytes = 4 x 819,200 = 3,276,800 -> 3,276,800 / 2.039e12 s: 5.27 us of arithmetic
    # against 1.61 us of transfer, so compute-bound (31.36 FLOP/B over the ridge of 9.56)
    graph = _graph("name: t\ninput: {channels: 128, size: 56}\nlayers:\n"
                   "  - {kind: pointwise, out: 128}\n")  # fmt: skip
    (layer,) = roofline(graph, get_device("a100"), Precision()).layers
    assert layer.compute == Fraction(102_760_448, 19_500_000_000_000)
    assert layer.transfer == Fraction(3_276_800, 2_039_000_000_000)
    assert (layer.time, layer.bound) == (layer.compute, "compute")
    assert layer.intensity == Fraction(102_760_448, 3_276_800)  # 31.36 FLOP/B
    half = roofline(graph, get_device("a100"), Precision(), efficiency=Fraction(1, 2))
    assert half.layers[0].time == 2 * layer.time
    # its point on the roofline chart: compute-bound, so on the ceiling (times the efficiency)
    assert layer.performance == 19_500_000_000_000
    assert half.layers[0].performance == 9_750_000_000_000


@pytest.mark.parametrize("efficiency", [Fraction(1), Fraction(3, 10)], ids=["ideal", "0.3"])
def test_each_layer_sits_on_the_roofline(efficiency: Fraction) -> None:
    """A layer's chart point, FLOPs / time, is min(peak, bandwidth x intensity) x efficiency:
    on the slope when memory-bound (every depthwise layer of MobileNetV2 on the Orin), on the
    ceiling when compute-bound."""
    device = get_device("jetson-orin-nano")
    r = roofline(_zoo("mobilenet_v2"), device, Precision(), efficiency=efficiency)
    peak, bandwidth = device.peak_of("fp32"), device.bandwidth.value
    drawn = [t for t in r.layers if t.time and t.flops]
    assert len(drawn) == 64  # 66 layers; flatten and dropout do no arithmetic
    for t in drawn:
        assert t.intensity is not None
        assert t.performance == min(peak, bandwidth * t.intensity) * efficiency
        if t.kind == "depthwise":
            assert t.performance == bandwidth * t.intensity * efficiency
    assert [(t.kind, t.performance) for t in r.layers if not t.time] == [
        ("flatten", None),
        ("dropout", None),
    ]


GPUS = ("a100", "h100", "h200", "jetson-orin-nano")
ZOO = sorted(p.stem for p in EXAMPLES.glob("*.yaml"))


@pytest.mark.parametrize("device", [*GPUS, "raspberry-pi-4"])
def test_3x3_depthwise_is_memory_bound(device: str) -> None:
    """Every 3x3 depthwise layer of the zoo, at every type the device has."""
    dev = get_device(device)
    for name in ZOO:
        graph = _zoo(name)
        for dtype in dev.peak:
            r = roofline(graph, dev, Precision(dtype, dtype))
            for node, layer in zip(graph.nodes, r.layers, strict=True):
                if node.kind == "depthwise" and set(node.attrs["kernel"]) == {3}:
                    assert layer.bound == "memory", (name, dtype, node.name)


@pytest.mark.parametrize("device", GPUS)
def test_every_depthwise_is_memory_bound_below_fp32(device: str) -> None:
    """Every depthwise layer of the zoo (5x5, 7x7 too) on every GPU at fp16, bf16 and int8."""
    dev = get_device(device)
    for name in ZOO:
        graph = _zoo(name)
        for dtype in set(dev.peak) - {"fp32"}:
            r = roofline(graph, dev, Precision(dtype, dtype))
            for node, layer in zip(graph.nodes, r.layers, strict=True):
                if node.kind == "depthwise":
                    assert layer.bound == "memory", (name, dtype, node.name)


def test_a_7x7_fp32_depthwise_is_compute_bound_on_the_a100_ideal_roofline() -> None:
    # The honest exception (docs/device.md): ConvNeXt's 7x7 depthwise at fp32 does
    # 2 x 49 FLOPs + a bias per element over ~8 bytes, 13.1 FLOP/B, above the A100's fp32
    # ridge of 19.5T / 2,039G = 9.56 FLOP/B.
    graph = _zoo("convnext_tiny")
    r = roofline(graph, get_device("a100"), Precision())
    first = next(t for n, t in zip(graph.nodes, r.layers, strict=True) if n.kind == "depthwise")
    assert first.intensity is not None
    assert 13 < first.intensity < 14
    assert first.bound == "compute"


def test_depthwise_share_of_time_exceeds_its_share_of_macs() -> None:
    r = roofline(_zoo("mobilenet_v2"), get_device("a100"), Precision())
    dw = r.by_kind()["depthwise"]
    # 3.1 % of the MACs
    assert Fraction(dw.macs, r.macs) < Fraction(7, 100)
    assert dw.time / r.time > Fraction(1, 5)
    assert dw.memory_bound == dw.layers == 17


def test_a_missing_data_type_names_the_ones_the_device_has() -> None:
    with pytest.raises(SepcalcError, match=r"no peak for int8 \(it has fp32\)"):
        roofline(_zoo("mobilenet_v2"), get_device("raspberry-pi-4"), INT8)


# --- device files ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", preset_names())
def test_every_preset_loads_and_sources_every_number(name: str) -> None:
    device = get_device(name)
    assert device.name == name
    assert device.bandwidth.source.strip()
    for peak in device.peak.values():
        assert peak.source.strip()
        assert peak.sparse is None or peak.sparse > peak.dense
    for extra in (device.sram, device.flash):
        assert extra is None or extra.source.strip()


def test_the_required_presets_exist() -> None:
    assert set(preset_names()) >= {
        "cortex-m7-f746", "raspberry-pi-4", "mobile-cortex-x1", "coral-edge-tpu",
        "jetson-orin-nano", "a100", "h100", "h200",
    }  # fmt: skip
    mcu = get_device("cortex-m7-f746")
    assert mcu.sram is not None
    assert mcu.flash is not None
    assert (mcu.sram.value, mcu.flash.value) == (320 * 1024, 1024 * 1024)


def test_device_file_errors_are_located() -> None:
    text = (
        "name: bad\n"
        "peak:\n"
        "  fp32: {dense: 10G}\n"
        "  fp64: {dense: 1G, source: x}\n"
        "bandwidth: {value: fast, source: y}\n"
        "colour: red\n"
    )
    with pytest.raises(SpecError) as info:
        parse_device(text, "dev.yaml")
    assert [str(d) for d in info.value.diagnostics] == [
        "dev.yaml:3:9: peak.fp32: every number needs a source (source: TEXT)",
        "dev.yaml:4:3: peak: unknown data type 'fp64'; did you mean 'fp16'?; types: fp32, "
        "fp16, bf16, int8",
        "dev.yaml:5:20: bandwidth.value: 'fast' is not a quantity; write a number with an "
        "optional K, M, G, T prefix (decimal) or Ki, Mi, Gi (binary), then 'B', e.g. 320KiB "
        "or 19.5T",
        "dev.yaml:6:1: unknown key 'colour'; keys: name, title, peak, bandwidth, sram, flash, "
        "efficiency, notes",
    ]


def test_unknown_device_suggests_a_preset() -> None:
    with pytest.raises(SepcalcError, match="did you mean 'h100'"):
        get_device("h10")


# --- quantities -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("320KiB", 327_680), ("1MiB", 1_048_576), ("1MB", 1_000_000), ("512", 512),
     ("1.5K", 1_500), ("8MB", 8_000_000)],
)  # fmt: skip
def test_byte_counts(text: str, expected: int) -> None:
    assert byte_count(text) == expected


def test_amounts_and_times_are_exact() -> None:
    assert amount("19.5T") == 19_500_000_000_000
    assert amount("1.728G") == 1_728_000_000
    assert seconds("5ms") == Fraction(1, 200)
    assert seconds("250us") == Fraction(1, 4000)
    assert seconds("0.1") == Fraction(1, 10)
    with pytest.raises(QuantityError):
        byte_count("0.5")
    with pytest.raises(QuantityError):
        seconds("5 minutes")
