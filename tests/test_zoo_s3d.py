"""S3D (examples/s3d.yaml) against torchvision's published figures and an independent derivation.

torchvision ``S3D_Weights.KINETICS400_V1`` (models/video/s3d.py): ``num_params`` 8,320,048 and
``_ops`` 17.979 (GFLOPS, i.e. conv multiply-accumulates without bias, for a 3 x 16 x 224 x 224
clip). The derivation below walks torchvision's layers with its own size rule and does not use
sepcalc.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from sepcalc.analysis import analyze
from sepcalc.conventions import DEFAULT, FVCORE, TORCH
from sepcalc.graph import Graph

Size = tuple[int, int, int]
"""T x H x W."""


def torch_out(size: Size, kernel: Size, stride: Size, padding: Size) -> Size:
    """torch's Conv3d / MaxPool3d / AvgPool3d output: floor((n + 2p - k) / s) + 1 per dim."""
    dims = zip(size, kernel, stride, padding, strict=True)
    t, h, w = ((n + 2 * p - k) // s + 1 for n, k, s, p in dims)
    return t, h, w


@dataclass
class S3DTally:
    """Params, MACs and BatchNorm'd elements of torchvision's S3D, layer by layer."""

    params: int = 0
    macs: int = 0
    bn_elements: int = 0
    """Elements of every BatchNorm3d's input (fvcore counts 2 FLOPs each in eval mode)."""

    def conv(self, c_in: int, c_out: int, size: Size, kernel: Size = (1, 1, 1),
             stride: Size = (1, 1, 1), padding: Size = (0, 0, 0),
             bn: bool = True) -> Size:  # fmt: skip
        """Conv3d (bias-free) + BatchNorm3d + ReLU, i.e. Conv3dNormActivation; or a biased conv."""
        out = torch_out(size, kernel, stride, padding)
        weight = c_out * c_in * kernel[0] * kernel[1] * kernel[2]
        positions = out[0] * out[1] * out[2]
        self.params += weight + (2 * c_out if bn else c_out)  # BN gamma and beta, or the bias
        self.macs += weight * positions
        self.bn_elements += c_out * positions * bn
        return out

    def temporal_separable(self, c_in: int, c_out: int, size: Size, k: int, s: int, p: int) -> Size:
        """TemporalSeparableConv: (1, k, k) at stride (1, s, s), then (k, 1, 1) at (s, 1, 1)."""
        size = self.conv(c_in, c_out, size, (1, k, k), (1, s, s), (0, p, p))
        return self.conv(c_out, c_out, size, (k, 1, 1), (s, 1, 1), (p, 0, 0))

    def inception(self, c_in: int, size: Size, b0: int, b1_mid: int, b1: int, b2_mid: int,
                  b2: int, b3: int) -> int:  # fmt: skip
        """SepInceptionBlock3D at stride 1 (every branch keeps the size); its output channels."""
        self.conv(c_in, b0, size)  # branch0
        self.conv(c_in, b1_mid, size)  # branch1
        self.temporal_separable(b1_mid, b1, size, 3, 1, 1)
        self.conv(c_in, b2_mid, size)  # branch2
        self.temporal_separable(b2_mid, b2, size, 3, 1, 1)
        self.conv(c_in, b3, size)  # branch3, after a 3x3x3 stride-1 max pool (padding 1)
        return b0 + b1 + b2 + b3


def s3d(frames: int = 16, resolution: int = 224, classes: int = 400) -> tuple[S3DTally, Size]:
    """torchvision models/video/s3d.py ``S3D.__init__``; the tally and the classifier's size."""
    t = S3DTally()
    size: Size = (frames, resolution, resolution)
    size = t.temporal_separable(3, 64, size, 7, 2, 3)
    size = torch_out(size, (1, 3, 3), (1, 2, 2), (0, 1, 1))  # MaxPool3d
    size = t.conv(64, 64, size)
    size = t.temporal_separable(64, 192, size, 3, 1, 1)
    size = torch_out(size, (1, 3, 3), (1, 2, 2), (0, 1, 1))
    c = t.inception(192, size, 64, 96, 128, 16, 32, 32)
    c = t.inception(c, size, 128, 128, 192, 32, 96, 64)
    size = torch_out(size, (3, 3, 3), (2, 2, 2), (1, 1, 1))
    c = t.inception(c, size, 192, 96, 208, 16, 48, 64)
    c = t.inception(c, size, 160, 112, 224, 24, 64, 64)
    c = t.inception(c, size, 128, 128, 256, 24, 64, 64)
    c = t.inception(c, size, 112, 144, 288, 32, 64, 64)
    c = t.inception(c, size, 256, 160, 320, 32, 128, 128)
    size = torch_out(size, (2, 2, 2), (2, 2, 2), (0, 0, 0))
    c = t.inception(c, size, 256, 160, 320, 32, 128, 128)
    c = t.inception(c, size, 384, 192, 384, 48, 128, 128)
    assert c == 1024
    size = torch_out(size, (2, 7, 7), (1, 1, 1), (0, 0, 0))  # AvgPool3d((2, 7, 7), stride=1)
    size = t.conv(1024, classes, size, bn=False)  # Dropout, then Conv3d 1x1x1 with bias
    return t, size  # then torch.mean(x, dim=(2, 3, 4)): no parameters, no MACs


PARAMS = 8_320_048  # torchvision S3D_Weights.KINETICS400_V1: num_params
GMACS = "17.979"  # ... _ops (GFLOPS), 3 x 16 x 224 x 224
MACS = 17_978_771_456  # s3d() below, and sepcalc


def test_published_figures(example: Callable[..., Graph]) -> None:
    derived, classifier = s3d()
    total = example("s3d").total()
    assert total.params == PARAMS == derived.params
    assert total.macs == MACS == derived.macs
    assert f"{total.macs / 1e9:.3f}" == GMACS
    assert classifier == (1, 1, 1)


def test_shapes_through_the_network(example: Callable[..., Graph]) -> None:
    shapes = {n.name: n.output_shape for n in example("s3d").nodes}
    # conv1's temporal conv: 7 frames of kernel, stride 2, padding 3: (16 + 6 - 7) // 2 + 1 = 8.
    assert shapes["conv1.spatial"] == (64, 16, 112, 112)
    assert shapes["conv1.temporal"] == (64, 8, 112, 112)
    assert shapes["pool2"] == (192, 8, 28, 28)
    assert shapes["mixed_3c.concat1"] == (128 + 192 + 96 + 64, 8, 28, 28)
    assert shapes["pool3"] == (480, 4, 14, 14)  # (8 + 2 - 3) // 2 + 1 = 4
    assert shapes["pool4"] == (832, 2, 7, 7)
    assert shapes["mixed_5c.concat1"] == (384 + 384 + 128 + 128, 2, 7, 7)
    assert shapes["avgpool"] == (1024, 1, 1, 1)
    assert shapes["classifier"] == (400, 1, 1, 1)
    assert example("s3d").output_shape == (400,)


def test_tool_presets_from_the_derivation(example: Callable[..., Graph]) -> None:
    g = example("s3d")
    derived, _ = s3d()
    # 77 convs with BatchNorm (5 in the stem, 8 in each of 9 inception blocks): 44,134,496
    # normalised elements.
    assert derived.bn_elements == 44_134_496
    # fvcore: 1 per MAC, 2 per BatchNorm element; max and average pooling, the classifier's
    # bias and the final mean (aten::mean) count 0.
    assert analyze(g, FVCORE).totals.flops == MACS + 2 * 44_134_496 == 18_067_040_448
    # FlopCounterMode: 2 per MAC of the convs, nothing else.
    assert analyze(g, TORCH).totals.flops == 2 * MACS == 35_957_542_912


def test_the_final_mean_is_counted_by_default_only(example: Callable[..., Graph]) -> None:
    mean = next(n for n in example("s3d").nodes if n.name == "mean")
    # torch.mean over (T, H, W) of the classifier's 400 x 1 x 1 x 1 output: 400 adds.
    assert mean.cost.mean_ops == 400
    assert (DEFAULT.flops(mean.cost), FVCORE.flops(mean.cost), TORCH.flops(mean.cost)) == (
        400,
        0,
        0,
    )


@pytest.mark.parametrize(
    ("frames", "resolution"),
    [(14, 224), (32, 224), (16, 256), (64, 288)],
    ids=["min-frames", "32-frames", "256px", "64x288"],
)
def test_other_clip_sizes_match_the_derivation(
    example: Callable[..., Graph], frames: int, resolution: int
) -> None:
    # torchvision's metadata: min_temporal_size 14, min_size 224; longer or larger clips leave a
    # T x H x W > 1 classifier output that the final mean averages.
    g = example("s3d", frames=frames, resolution=resolution)
    derived, (t, h, w) = s3d(frames, resolution)
    assert (g.total().params, g.total().macs) == (PARAMS, derived.macs)
    assert analyze(g, FVCORE).totals.flops == derived.macs + 2 * derived.bn_elements
    classifier = next(n for n in g.nodes if n.name == "classifier")
    assert classifier.output_shape == (400, t, h, w)
    assert next(n for n in g.nodes if n.name == "mean").cost.mean_ops == 400 * t * h * w


def test_minimum_and_longer_clips_by_hand(example: Callable[..., Graph]) -> None:
    # 14 frames: conv1 (14 + 6 - 7) // 2 + 1 = 7; pool3 (7 + 2 - 3) // 2 + 1 = 4; pool4 2; the
    # average pool's 2 frames leave 1. 32 frames: 16, 8, 4, then 4 - 2 + 1 = 3 classifier frames.
    for frames, classifier in [(14, (400, 1, 1, 1)), (32, (400, 3, 1, 1))]:
        nodes = {n.name: n for n in example("s3d", frames=frames).nodes}
        assert nodes["classifier"].output_shape == classifier
