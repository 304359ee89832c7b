"""MobileViT-S (examples/mobilevit_s.yaml) against timm's mobilevit_s and the paper.

The reference arithmetic below walks timm's models/mobilevit.py (ByobNet 'bottle' blocks with
bottle_in, MobileVitBlock, vision_transformer.Block) without sepcalc.
"""

from __future__ import annotations

from collections.abc import Callable

from sepcalc.conventions import FVCORE
from sepcalc.graph import Graph
from tests.zoo_reference import Tally


def _mobilevit_s() -> Tally:
    t = Tally()

    def layernorm(c: int) -> None:
        t.params += 2 * c

    def linear(c_in: int, c_out: int, positions: int) -> None:
        t.params += c_in * c_out + c_out
        t.macs += c_in * c_out * positions

    def inverted_residual(c_in: int, c_out: int, stride: int, size: int) -> int:
        mid = 4 * c_in
        t.conv(c_in, mid, 1, size)
        t.bn(mid)
        size //= stride
        t.conv(mid, mid, 3, size, groups=mid)
        t.bn(mid)
        t.conv(mid, c_out, 1, size)
        t.bn(c_out)
        return size

    def mobilevit(c: int, dim: int, depth: int, size: int) -> None:
        t.conv(c, c, 3, size)
        t.bn(c)
        t.conv(c, dim, 1, size)
        tokens = size * size
        for _ in range(depth):
            layernorm(dim)
            linear(dim, 3 * dim, tokens)  # qkv
            t.macs += 2 * tokens * (tokens // 4) * dim  # 4 sequences of tokens/4 patches
            linear(dim, dim, tokens)  # proj
            layernorm(dim)
            linear(dim, 2 * dim, tokens)
            linear(2 * dim, dim, tokens)
        layernorm(dim)
        t.conv(dim, c, 1, size)
        t.bn(c)
        t.conv(2 * c, c, 3, size)
        t.bn(c)

    t.conv(3, 16, 3, 128)
    t.bn(16)
    size = inverted_residual(16, 32, 1, 128)
    size = inverted_residual(32, 64, 2, size)
    size = inverted_residual(64, 64, 1, size)
    size = inverted_residual(64, 64, 1, size)
    for c_in, c, dim, depth in ((64, 96, 144, 2), (96, 128, 192, 4), (128, 160, 240, 3)):
        size = inverted_residual(c_in, c, 2, size)
        mobilevit(c, dim, depth, size)
    t.conv(160, 640, 1, size)
    t.bn(640)
    t.linear(640, 1000)
    return t


def test_mobilevit_s(example: Callable[..., Graph]) -> None:
    graph = example("mobilevit_s")
    total = graph.total()
    reference = _mobilevit_s()
    # timm mobilevit_s: 5,578,632 parameters (its results tables: 5.58 M); the paper's Table 1
    # (arXiv 2110.02178): 5.6 M.
    assert total.params == reference.params == 5_578_632
    assert f"{total.params / 1e6:.1f}" == "5.6"
    assert total.macs == reference.macs == 2_000_831_488
    # timm's results tables give 2.03 GMACs at 256: fvcore's count, which adds BatchNorm (2 per
    # element), LayerNorm (5 per element) and the adaptive pool to the MACs.
    assert f"{FVCORE.flops(total) / 1e9:.2f}" == "2.03"
    assert graph.nodes[-1].output_shape == (1000,)
