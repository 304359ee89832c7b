"""MobileNetV4-Conv-S (examples/mobilenet_v4_conv_small.yaml) against its published figures and
an independent derivation from timm's architecture strings.

Published (Qin et al. 2024, arXiv 2404.10518; timm's results/benchmark-*.csv for
``mobilenetv4_conv_small`` at 224: ``param_count`` 3.77 (M), ``infer_gmacs`` 0.19): 3.8M
parameters and 0.2G MACs in the paper, 3.77M and 0.19 GMACs in timm.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

import pytest

from sepcalc.conventions import FVCORE
from sepcalc.graph import Graph
from tests.zoo_reference import Tally, down, make_divisible

# timm models/mobilenetv3.py, _gen_mobilenet_v4('mobilenetv4_conv_small'): the arch_def, verbatim.
ARCH_DEF = [
    ["cn_r1_k3_s2_e1_c32", "cn_r1_k1_s1_e1_c32"],
    ["cn_r1_k3_s2_e1_c96", "cn_r1_k1_s1_e1_c64"],
    ["uir_r1_a5_k5_s2_e3_c96", "uir_r4_a0_k3_s1_e2_c96", "uir_r1_a3_k0_s1_e4_c96"],
    [
        "uir_r1_a3_k3_s2_e6_c128",
        "uir_r1_a5_k5_s1_e4_c128",
        "uir_r1_a0_k5_s1_e4_c128",
        "uir_r1_a0_k5_s1_e3_c128",
        "uir_r2_a0_k3_s1_e4_c128",
    ],
    ["cn_r1_k1_s1_c960"],
]


def _options(block: str) -> tuple[str, dict[str, str]]:
    kind, *parts = block.split("_")
    return kind, {p[0]: p[1:] for p in parts}


def mobilenet_v4_conv_small(resolution: int = 224) -> Tally:
    """timm's MobileNetV3 class with the arch_def above, walked as its builder does.

    Stem: 3x3/2 conv 3 -> 32, BN. 'cn': k x k conv + BN (+ ReLU). 'uir' (UniversalInvertedResidual):
    with a = start kernel (0: none), k = middle kernel (0: none), e = expansion ratio,
    mid = make_divisible(in * e); dw_start a x a depthwise on `in` channels, stride s only if
    there is no middle conv, + BN; pw_exp 1x1 in -> mid + BN; dw_mid k x k depthwise, stride s,
    + BN; pw_proj 1x1 mid -> out + BN. A block repeated r times has its stride on the first
    repeat only. Head: global pool, conv_head 1x1 960 -> 1280 without bias + BN on a 1x1 map,
    classifier Linear 1280 -> 1000 with bias.
    """
    t = Tally()
    size, c = down(resolution, 2), 32
    t.conv(3, c, 3, size)
    t.bn(c)
    for stage in ARCH_DEF:
        for block in stage:
            kind, o = _options(block)
            for r in range(int(o["r"])):
                stride, out = int(o["s"]) if r == 0 else 1, int(o["c"])
                if kind == "cn":
                    size = down(size, stride)
                    t.conv(c, out, int(o["k"]), size)
                    t.bn(out)
                else:
                    start, mid_k = int(o["a"]), int(o["k"])
                    mid = make_divisible(c * Fraction(o["e"]))  # timm's, divisor 8
                    if start:
                        if not mid_k:
                            size = down(size, stride)
                        t.conv(c, c, start, size, groups=c)
                        t.bn(c)
                    t.conv(c, mid, 1, size)
                    t.bn(mid)
                    if mid_k:
                        size = down(size, stride)
                        t.conv(mid, mid, mid_k, size, groups=mid)
                        t.bn(mid)
                    t.conv(mid, out, 1, size)
                    t.bn(out)
                c = out
    t.conv(c, 1280, 1, 1)
    t.bn(1280)
    t.linear(1280, 1000)
    return t


def test_published_figures(example: Callable[..., Graph]) -> None:
    total = example("mobilenet_v4_conv_small").total()
    assert total.params == 3_774_024  # timm param_count 3.77 (M); the paper's 3.8M
    assert round(total.params / 1e6, 2) == 3.77
    assert total.macs == 186_005_568  # timm infer_gmacs 0.19; the paper's 0.2G
    assert round(total.macs / 1e9, 2) == 0.19
    assert round(total.macs / 1e9, 1) == 0.2


def test_independent_derivation_from_timm(example: Callable[..., Graph]) -> None:
    ref = mobilenet_v4_conv_small()
    total = example("mobilenet_v4_conv_small").total()
    assert (total.params, total.macs) == (ref.params, ref.macs)


@pytest.mark.parametrize(
    ("resolution", "gmacs"), [(224, 0.19), (256, 0.25), (320, 0.39)], ids=["224", "256", "320"]
)
def test_timm_benchmark_gmacs(example: Callable[..., Graph], resolution: int, gmacs: float) -> None:
    # timm's benchmark.py takes infer_gmacs from fvcore's FlopCountAnalysis (profile_fvcore),
    # which also counts eval BatchNorm (2 per element) and the adaptive pool: sepcalc's fvcore
    # convention, checked exactly against fvcore by `sepcalc crosscheck`. 189,981,440 at 224.
    total = example("mobilenet_v4_conv_small", resolution=resolution).total()
    ref = mobilenet_v4_conv_small(resolution)
    assert (total.params, total.macs) == (ref.params, ref.macs)
    assert total.params == 3_774_024  # the same at every resolution
    assert round(FVCORE.flops(total) / 1e9, 2) == gmacs


def test_fvcore_count_at_224(example: Callable[..., Graph]) -> None:
    # fvcore's FlopCountAnalysis on the module sepcalc exports gives 189,981,440 (sepcalc
    # crosscheck --tool fvcore, run when this spec was written): 186,005,568 MACs, 2 per element
    # for the 1,964,416 outputs of the BatchNorms (3,928,832), and 1 per element for the
    # 960 x 7 x 7 = 47,040 inputs of the adaptive average pool.
    total = example("mobilenet_v4_conv_small").total()
    assert FVCORE.flops(total) == 186_005_568 + 2 * 1_964_416 + 960 * 7 * 7 == 189_981_440


def test_the_uib_variants(example: Callable[..., Graph]) -> None:
    # The paper's Fig. 3 instances, by the layers each block builds (and residual adds where
    # the shapes allow: stride 1 and 96 -> 96 or 128 -> 128).
    g = example("mobilenet_v4_conv_small")
    layers: dict[str, list[str]] = {}
    for node in g.nodes:
        block, _, layer = node.name.partition(".uib1.")
        if layer:
            layers.setdefault(block, []).append(layer)
    assert layers["extra_dw1"] == ["dw_start", "pw_exp", "dw_mid", "pw_proj"]  # 64 -> 96, /2
    assert layers["ir1"] == ["pw_exp", "dw_mid", "pw_proj", "residual"]
    assert layers["convnext1"] == ["dw_start", "pw_exp", "pw_proj", "residual"]
    assert layers["extra_dw3"] == ["dw_start", "pw_exp", "dw_mid", "pw_proj", "residual"]
    sizes = {n.name: n.output_shape for n in g.nodes}
    assert sizes["extra_dw1.uib1.dw_start"] == (64, 28, 28)  # the stride goes to dw_mid
    assert sizes["extra_dw1.uib1.dw_mid"] == (192, 14, 14)
    assert sizes["convnext1.uib1.dw_start"] == (96, 14, 14)
