"""The model zoo (examples/*.yaml) against published figures and an independent derivation.

torchvision's "GFLOPS" (the ``_ops`` field of each model's weights metadata) are conv + linear
multiply-accumulates without bias, rounded to three decimals; its ``num_params`` is exact. The
exact MACs beside each entry are derived layer by layer in tests/zoo_reference.py, which does
not use sepcalc.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from functools import partial
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sepcalc.cli import app
from sepcalc.graph import Graph
from tests import zoo_reference as ref

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

# (spec, params, GMACs as published, exact MACs, independent derivation)
ZOO = [
    pytest.param(
        "mobilenet_v2",
        3_504_872,  # torchvision MobileNet_V2_Weights.IMAGENET1K_V1: num_params
        "0.301",  # ... _ops (GFLOPS)
        300_774_272,
        ref.mobilenet_v2,
        id="mobilenet_v2",
    ),
    pytest.param(
        "resnet50",
        25_557_032,  # torchvision ResNet50_Weights.IMAGENET1K_V1: num_params
        "4.089",  # ... _ops (GFLOPS)
        4_089_184_256,
        ref.resnet50,
        id="resnet50",
    ),
    pytest.param(
        "vgg16",
        138_357_544,  # torchvision VGG16_Weights.IMAGENET1K_V1: num_params
        "15.470",  # ... _ops (GFLOPS)
        15_470_264_320,
        ref.vgg16,
        id="vgg16",
    ),
    pytest.param(
        "mobilenet_v3_large",
        5_483_032,  # torchvision MobileNet_V3_Large_Weights.IMAGENET1K_V1: num_params
        "0.217",  # ... _ops (GFLOPS)
        216_589_760,
        partial(ref.mobilenet_v3, large=True),
        id="mobilenet_v3_large",
    ),
    pytest.param(
        "mobilenet_v3_small",
        2_542_856,  # torchvision MobileNet_V3_Small_Weights.IMAGENET1K_V1: num_params
        "0.057",  # ... _ops (GFLOPS)
        56_510_400,
        partial(ref.mobilenet_v3, large=False),
        id="mobilenet_v3_small",
    ),
    pytest.param(
        "efficientnet_b0",
        5_288_548,  # torchvision EfficientNet_B0_Weights.IMAGENET1K_V1: num_params
        "0.386",  # ... _ops (GFLOPS)
        385_814_752,
        partial(ref.efficientnet, Fraction(1), Fraction(1), 224),
        id="efficientnet_b0",
    ),
    pytest.param(
        "shufflenet_v2_x1_0",
        2_278_604,  # torchvision ShuffleNet_V2_X1_0_Weights.IMAGENET1K_V1: num_params
        "0.145",  # ... _ops (GFLOPS)
        144_907_992,
        ref.shufflenet_v2_x1_0,
        id="shufflenet_v2_x1_0",
    ),
    pytest.param(
        "xception",
        22_855_952,  # Xception paper (arXiv 1610.02357) Table 3; timm legacy_xception
        "8.4",  # EfficientNet paper (arXiv 1905.11946) Table 2: 8.4B FLOPs (= multiply-adds)
        8_357_403_496,
        ref.xception,
        id="xception",
    ),
]


@pytest.mark.parametrize(("spec", "params", "gmacs", "macs", "derive"), ZOO)
def test_published_figures(
    example: Callable[..., Graph], spec: str, params: int, gmacs: str, macs: int,
    derive: Callable[[], ref.Tally],
) -> None:  # fmt: skip
    total = example(spec).total()
    assert total.params == params == derive().params
    assert total.macs == macs == derive().macs
    # Compared at the published rounding: three decimals for torchvision, one for the papers.
    decimals = len(gmacs.partition(".")[2])
    assert f"{total.macs / 1e9:.{decimals}f}" == gmacs


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_example_analyzes(path: Path) -> None:
    result = CliRunner().invoke(app, ["analyze", str(path), "--summary"])
    assert result.exit_code == 0, result.stderr


# --- MobileNetV2: the paper, and the TF-slim table over alpha x resolution -----------------------


def test_mobilenet_v2_paper(example: Callable[..., Graph]) -> None:
    total = example("mobilenet_v2").total()
    # Paper (arXiv 1801.04381) Table 4: 300M multiply-adds, 3.4M parameters. The paper counts
    # neither BatchNorm nor (it seems) the last digit: weights + FC bias are 3,470,760 (3.47M).
    assert total.macs // 10**6 == 300
    assert total.weight + total.bias == 3_470_760
    assert total.norm == 34_112  # 2 * (32 + every BN'd channel of Table 2) = 3,504,872 - 3,470,760


# tensorflow/models research/slim/nets/mobilenet/README.md, "Mobilenet V2 Imagenet Checkpoints":
# (alpha, resolution, MACs (M), Parameters (M)). The README truncates MACs to whole millions
# (e.g. 0.75/192 is 153.94M, printed 153) and counts parameters without BatchNorm.
TF_SLIM = [
    ("1.4", 224, 582, "6.06"), ("1.3", 224, 509, "5.34"),
    ("1.0", 224, 300, "3.47"), ("1.0", 192, 221, "3.47"), ("1.0", 160, 154, "3.47"),
    ("1.0", 128, 99, "3.47"), ("1.0", 96, 56, "3.47"),
    ("0.75", 224, 209, "2.61"), ("0.75", 192, 153, "2.61"), ("0.75", 160, 107, "2.61"),
    ("0.75", 128, 69, "2.61"), ("0.75", 96, 39, "2.61"),
    ("0.5", 224, 97, "1.95"), ("0.5", 192, 71, "1.95"), ("0.5", 160, 50, "1.95"),
    ("0.5", 128, 32, "1.95"), ("0.5", 96, 18, "1.95"),
    ("0.35", 224, 59, "1.66"), ("0.35", 192, 43, "1.66"), ("0.35", 160, 30, "1.66"),
    ("0.35", 128, 20, "1.66"), ("0.35", 96, 11, "1.66"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("alpha", "resolution", "macs_m", "params_m"),
    TF_SLIM,
    ids=[f"a{a}-r{r}" for a, r, _, _ in TF_SLIM],
)
def test_mobilenet_v2_tf_slim_table(
    example: Callable[..., Graph], alpha: str, resolution: int, macs_m: int, params_m: str
) -> None:
    total = example("mobilenet_v2", alpha=Fraction(alpha), resolution=resolution).total()
    derived = ref.mobilenet_v2(Fraction(alpha), resolution)
    assert (total.macs, total.params) == (derived.macs, derived.params)
    assert total.macs // 10**6 == macs_m
    assert f"{(total.weight + total.bias) / 1e6:.2f}" == params_m


def test_mobilenet_v2_residuals(example: Callable[..., Graph]) -> None:
    graph = example("mobilenet_v2")
    # A residual add wherever stride is 1 and in == out: Table 2 rows n - 1 per row (the first
    # layer of a row changes channels or stride), i.e. 0+1+2+3+2+2+0 = 10 adds.
    adds = [n for n in graph.nodes if n.kind == "add"]
    assert len(adds) == 10
    # t = 1 (the first row) has no expansion conv: 7 rows, 17 bottlenecks, 16 expansions.
    assert sum(n.name.endswith(".expand") for n in graph.nodes) == 16
    assert sum(n.kind == "depthwise" for n in graph.nodes) == 17


# --- ResNet-50: the paper's stride placement ------------------------------------------------------


def test_resnet50_paper(example: Callable[..., Graph]) -> None:
    # Paper (arXiv 1512.03385) Table 1, 50-layer: 3.8 x 10^9 FLOPs (multiply-adds), with the
    # stride on the first 1x1 of a block (v1_5=0): 3.858G, printed truncated as 3.8.
    total = example("resnet50", v1_5=0).total()
    assert total.macs == 3_857_973_248 == ref.resnet50(v1_5=False).macs
    assert total.macs // 10**8 == 38
    # Moving the stride changes no weight: same 25,557,032 parameters.
    assert total.params == 25_557_032
    # v1.5 runs the first 1x1 of stages 3-5 (C_in -> width) at the input resolution:
    # 256*128*(56^2 - 28^2) + 512*256*(28^2 - 14^2) + 1024*512*(14^2 - 7^2) more MACs.
    assert example("resnet50").total().macs - total.macs == 231_211_008


# --- VGG-16 ---------------------------------------------------------------------------------------


def test_vgg16_paper_and_adaptive_pool(example: Callable[..., Graph]) -> None:
    # Paper (arXiv 1409.1556) Table 2: configuration D has 138M parameters.
    assert round(example("vgg16").total().params / 1e6) == 138
    # torchvision's AdaptiveAvgPool2d((7, 7)) keeps the classifier at 512*7*7 inputs whatever
    # the resolution: at 256x256 the convs see 8x8 at the end, the FCs are unchanged.
    big = example("vgg16", resolution=256)
    assert big.total().params == 138_357_544
    fc6 = next(n for n in big.nodes if n.name == "fc6")
    assert fc6.input_shapes == ((25_088,),)


# --- MobileNetV3 ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "bnecks", "se", "adds", "hardswish_dw"),
    [
        # Table 1: 15 bnecks; SE on 8 rows; a residual where s = 1 and in == out (10 rows);
        # hard-swish on the last 9 rows.
        ("mobilenet_v3_large", 15, 8, 10, 9),
        # Table 2: 11 bnecks; SE on all but rows 2-3 (9); residual on 6 rows; HS on the last 8.
        ("mobilenet_v3_small", 11, 9, 6, 8),
    ],
    ids=["large", "small"],
)
def test_mobilenet_v3_structure(
    example: Callable[..., Graph], spec: str, bnecks: int, se: int, adds: int, hardswish_dw: int
) -> None:
    nodes = example(spec).nodes
    dws = [n for n in nodes if n.kind == "depthwise"]
    assert len(dws) == bnecks
    assert sum(n.attrs["act"] == "hardswish" for n in dws) == hardswish_dw
    assert sum(n.kind == "squeeze_excite" for n in nodes) == se
    assert sum(n.kind == "add" for n in nodes) == adds
    # The first bneck has exp == in (16): no expansion conv.
    assert sum(n.name.endswith(".expand") for n in nodes) == bnecks - 1
    # SE hidden width, e.g. large row 4: make_divisible(72 // 4, 8) = 24 -> 2*72*24 + 24 + 72.
    first_se = next(n for n in nodes if n.kind == "squeeze_excite")
    expected = {
        "mobilenet_v3_large": 2 * 72 * 24 + 24 + 72,
        "mobilenet_v3_small": 2 * 16 * 8 + 8 + 16,
    }
    assert first_se.cost.params == expected[spec]


# --- EfficientNet: B0 in the paper, B1-B7 through the width / depth / resolution vars -------------


def test_efficientnet_b0_paper(example: Callable[..., Graph]) -> None:
    # Paper (arXiv 1905.11946) Table 2: EfficientNet-B0 5.3M parameters, 0.39B FLOPs (the
    # paper's FLOPs are multiply-adds).
    total = example("efficientnet_b0").total()
    assert round(total.params / 1e6, 1) == 5.3
    assert round(total.macs / 1e9, 2) == 0.39


# torchvision efficientnet.py: efficientnet_bN(width_mult, depth_mult), the crop size of the
# weights' transforms (the resolution its _ops are counted at), and the weights' num_params and
# _ops (IMAGENET1K_V1 for each).
EFFICIENTNETS = [
    ("b1", "1.0", "1.1", 240, 7_794_184, "0.687"),
    ("b2", "1.1", "1.2", 288, 9_109_994, "1.088"),
    ("b3", "1.2", "1.4", 300, 12_233_232, "1.827"),
    ("b4", "1.4", "1.8", 380, 19_341_616, "4.394"),
    ("b5", "1.6", "2.2", 456, 30_389_784, "10.266"),
    ("b6", "1.8", "2.6", 528, 43_040_704, "19.068"),
    ("b7", "2.0", "3.1", 600, 66_347_960, "37.746"),
]


@pytest.mark.parametrize(
    ("width", "depth", "resolution", "params", "gmacs"),
    [row[1:] for row in EFFICIENTNETS],
    ids=[row[0] for row in EFFICIENTNETS],
)
def test_efficientnet_b1_to_b7(
    example: Callable[..., Graph], width: str, depth: str, resolution: int, params: int,
    gmacs: str,
) -> None:  # fmt: skip
    w, d = Fraction(width), Fraction(depth)
    total = example("efficientnet_b0", width=w, depth=d, resolution=resolution).total()
    derived = ref.efficientnet(w, d, resolution)
    assert total.params == params == derived.params
    assert total.macs == derived.macs
    assert f"{total.macs / 1e9:.3f}" == gmacs


# --- ShuffleNetV2 ---------------------------------------------------------------------------------


def test_shufflenet_v2_structure(example: Callable[..., Graph]) -> None:
    graph = example("shufflenet_v2_x1_0")
    # Paper (arXiv 1807.11164) Table 5, 1x: 2.3M parameters. (Its 146M FLOPs is 1.1M above
    # torchvision's 0.145G = 144,907,992 MACs; we follow torchvision.)
    assert round(graph.total().params / 1e6, 1) == 2.3
    # 3 stride-2 units and 3 + 7 + 3 = 13 stride-1 units, each ending in a shuffle of 2 groups.
    assert sum(n.kind == "channel_shuffle" for n in graph.nodes) == 16
    # Each stride-1 unit splits its input into two halves: 26 free slices.
    slices = [n for n in graph.nodes if n.kind == "slice"]
    assert len(slices) == 26
    assert all(n.cost.params == n.cost.macs == 0 for n in slices)
    stage_out = {n.name.split(".")[0]: n.output_shape for n in graph.nodes if n.kind == "concat"}
    assert stage_out == {"stage2": (116, 28, 28), "stage3": (232, 14, 14), "stage4": (464, 7, 7)}


# --- Xception -------------------------------------------------------------------------------------


def test_xception_flows(example: Callable[..., Graph]) -> None:
    graph = example("xception")
    total = graph.total()
    # EfficientNet paper Table 2 prints Xception as 22.8M parameters (truncated) and 8.4B FLOPs:
    # its FLOPs are multiply-adds, 8,357,403,496 here (two FLOPs per MAC would be 16.7G).
    assert total.params // 10**5 == 228
    sizes = {n.name: n.output_shape for n in graph.nodes if n.name.endswith(".residual")}
    # Entry flow 147 -> 74 -> 37 -> 19, middle flow at 19x19, exit flow to 10x10 (Fig. 5).
    assert sizes["block1.residual"] == (128, 74, 74)
    assert sizes["block3.residual"] == (728, 19, 19)
    assert sizes["middle.7.residual"] == (728, 19, 19)
    assert sizes["block12.residual"] == (1024, 10, 10)
    assert len(sizes) == 12  # every block has a residual: 3 entry + 8 middle + 1 exit
    # 36 convolutional layers (the paper's count): 2 convs + 34 separable (2+2+2 + 8*3 + 2 + 2).
    assert sum(n.kind in ("conv", "separable") for n in graph.nodes) == 36
