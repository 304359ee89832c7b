"""examples/lraspp_mobilenet_v3_large.yaml against torchvision's published figures and an
independent layer-by-layer derivation (below; no sepcalc).

torchvision ``LRASPP_MobileNet_V3_Large_Weights.COCO_WITH_VOC_LABELS_V1``: num_params 3,221,538,
_ops 2.086 (GFLOPS, i.e. conv MACs), 21 classes, 520 x 520 (its transforms' resize_size).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sepcalc.conventions import FVCORE
from sepcalc.graph import Graph
from sepcalc.search import Evaluator
from sepcalc.spec import load_spec
from tests.conftest import EXAMPLES
from tests.test_search import _assert_same, _both
from tests.zoo_reference import V3_LARGE, Tally, down, make_divisible

SPEC = "lraspp_mobilenet_v3_large"


@dataclass
class Reference(Tally):
    """A tally that also adds what fvcore counts besides MACs: eval BatchNorm 2 per element,
    adaptive average pooling 1 per input element, bilinear upsampling 4 per output element."""

    fvcore_extra: int = 0

    def conv_bn(self, c_in: int, c_out: int, k: int, size: int, groups: int = 1) -> None:
        self.conv(c_in, c_out, k, size, groups)
        self.bn(c_out)
        self.fvcore_extra += 2 * c_out * size * size

    def se_at(self, c: int, size: int) -> None:
        self.se(c, make_divisible(c // 4))
        self.fvcore_extra += c * size * size  # the squeeze: AdaptiveAvgPool2d(1)

    def bilinear(self, c: int, size: int) -> None:
        self.fvcore_extra += 4 * c * size * size


def lraspp_mobilenet_v3_large(resolution: int = 520, classes: int = 21) -> Reference:
    """torchvision models/segmentation/lraspp.py on mobilenet_v3_large(dilated=True).features.

    Every conv pads (k - 1) // 2 * dilation, so a stride-s conv gives ceil(size / s). The last
    three rows (C4) are dilated: the first loses its stride. "low" is features[4]'s output (the
    row of index 3: 40 channels, output stride 8), "high" features[16]'s (the 1x1 conv to 960).
    """
    t = Reference()
    size = down(resolution, 2)
    t.conv_bn(3, 16, 3, size)
    low_size = 0
    for row, (c_in, k, expanded, out, use_se, s) in enumerate(V3_LARGE):
        if expanded != c_in:
            t.conv_bn(c_in, expanded, 1, size)
        size = down(size, 1 if row >= len(V3_LARGE) - 3 else s)
        t.conv_bn(expanded, expanded, k, size, groups=expanded)
        if use_se:
            t.se_at(expanded, size)
        t.conv_bn(expanded, out, 1, size)
        if row == 3:
            low_size = size
    t.conv_bn(160, 960, 1, size)
    # LRASPPHead(low_channels=40, high_channels=960, classes, inter_channels=128)
    t.conv_bn(960, 128, 1, size)  # cbr: conv, BN, ReLU
    t.fvcore_extra += 960 * size * size  # scale: AdaptiveAvgPool2d(1) on high
    t.conv(960, 128, 1, 1)  # scale: 1x1 conv, no bias, Sigmoid
    t.bilinear(128, low_size)  # F.interpolate(x, size=low.shape[-2:])
    t.conv(40, classes, 1, low_size, bias=True)  # low_classifier
    t.conv(128, classes, 1, low_size, bias=True)  # high_classifier
    t.bilinear(classes, resolution)  # LRASPP.forward: back to the input size
    return t


def test_published_figures(example: Callable[..., Graph]) -> None:
    total = example(SPEC).total()
    derived = lraspp_mobilenet_v3_large()
    # num_params: the backbone's features (mobilenet_v3_large's 5,483,032 minus its classifier,
    # 960*1280 + 1280 + 1280*1000 + 1000 = 2,511,080: 2,971,952) plus the head: cbr
    # 960*128 + 2*128 = 123,136, scale 960*128 = 122,880, classifiers 40*21 + 21 = 861 and
    # 128*21 + 21 = 2,709. 2,971,952 + 249,586 = 3,221,538.
    assert total.params == derived.params == 3_221_538
    assert total.macs == derived.macs == 2_086_219_688
    assert f"{total.macs / 1e9:.3f}" == "2.086"  # torchvision's _ops


def test_fvcore_total_by_hand(example: Callable[..., Graph]) -> None:
    """fvcore's total (which `sepcalc crosscheck` matches exactly) derived independently."""
    derived = lraspp_mobilenet_v3_large()
    flops = FVCORE.flops(example(SPEC).total())
    assert flops == derived.macs + derived.fvcore_extra == 2_175_378_272


def test_head_shapes_and_costs(example: Callable[..., Graph]) -> None:
    nodes = {n.name: n for n in example(SPEC).nodes}
    low, high = nodes["low.project"], nodes["high"]
    # 520 -> 260 (conv1) -> 130 -> 65 (features[4], output stride 8) -> 33; the dilated C4
    # keeps 33 (output stride 16 rounded up: ceil(65 / 2)).
    assert low.output_shape == (40, 65, 65)
    assert high.output_shape == (960, 33, 33)
    assert nodes["scale"].output_shape == (128, 1, 1)
    gated = nodes["gated"]
    assert gated.output_shape == (128, 33, 33)
    assert gated.cost.elem_ops == 128 * 33 * 33  # one multiply per element: 139,392
    up = nodes["up"]
    assert up.inputs == ("gated", "low.project")  # like: low
    assert up.output_shape == (128, 65, 65)
    assert up.cost.upsample_ops == 4 * 128 * 65 * 65  # bilinear: 2,163,200
    # cbr: 960*128 weights at 33 x 33 = 122,880 * 1,089 = 133,816,320 MACs; the classifiers
    # 840 and 2,688 weights at 65 x 65 = 4,225: 3,549,000 and 11,356,800.
    assert nodes["cbr"].cost.macs == 133_816_320
    assert nodes["low_classifier"].cost.macs == 3_549_000
    assert nodes["high_classifier"].cost.macs == 11_356_800
    assert nodes["out"].output_shape == (21, 520, 520)


def test_dilated_stage_keeps_the_size(example: Callable[..., Graph]) -> None:
    nodes = example(SPEC).nodes
    dilated = [n for n in nodes if n.kind == "depthwise" and n.attrs["dilation"] == (2, 2)]
    # The last three bnecks (C4): 5x5 depthwise, dilation 2, padding 4, stride 1 (removed).
    assert len(dilated) == 3
    assert {n.attrs["stride"] for n in dilated} == {(1, 1)}
    assert {n.attrs["padding"] for n in dilated} == {(4, 4)}
    assert {n.output_shape[1:] for n in dilated} == {(33, 33)}


def test_other_resolutions_and_the_replay(example: Callable[..., Graph]) -> None:
    """Odd sizes round as torchvision's convs do, and the grid replay (which reads like's
    shape from its input) equals building every point."""
    for resolution in (224, 97, 513):
        total = example(SPEC, resolution=resolution).total()
        derived = lraspp_mobilenet_v3_large(resolution)
        assert (total.params, total.macs) == (derived.params, derived.macs)
        assert FVCORE.flops(total) == derived.macs + derived.fvcore_extra
    fast, full = _both(Evaluator(load_spec(EXAMPLES / f"{SPEC}.yaml")), ["resolution=96:520:53"])
    _assert_same(fast, full)
    assert fast.method == "replay"
