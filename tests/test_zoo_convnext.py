"""examples/convnext_tiny.yaml against torchvision's published figures and a derivation by hand.

torchvision ``ConvNeXt_Tiny_Weights.IMAGENET1K_V1``: ``num_params`` 28,589,128 and ``_ops``
4.456 (conv + linear multiply-accumulates, which torchvision labels GFLOPS);
``ConvNeXt_Small_Weights.IMAGENET1K_V1``: 50,223,688 and 8.684 (torchvision
``models/convnext.py``). The reference arithmetic below walks torchvision's ``ConvNeXt`` module
by module and does not use sepcalc.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from sepcalc.conventions import FVCORE
from sepcalc.graph import Graph
from tests.zoo_reference import Tally


def convnext(depths: tuple[int, ...], dims: tuple[int, ...] = (96, 192, 384, 768)) -> Tally:
    """torchvision ``ConvNeXt`` at 224 x 224, ``num_classes`` 1000.

    LayerNorm: 2 * C params (as BatchNorm: ``Tally.bn``); a Linear applied at every position of
    an S x S map (after ``Permute``) costs what a 1x1 conv does; layer scale: C params.
    """
    t, size = Tally(), 224 // 4
    t.conv(3, dims[0], 4, size, bias=True)  # stem: Conv2d(3, 96, 4, stride 4, bias)
    t.bn(dims[0])  # ... LayerNorm2d
    for stage, (depth, dim) in enumerate(zip(depths, dims, strict=True)):
        if stage:  # downsampling: LayerNorm2d, then Conv2d(k=2, stride 2, bias)
            t.bn(dims[stage - 1])
            size //= 2
            t.conv(dims[stage - 1], dim, 2, size, bias=True)
        for _ in range(depth):  # CNBlock
            t.conv(dim, dim, 7, size, groups=dim, bias=True)  # 7x7 depthwise, padding 3
            t.bn(dim)  # LayerNorm
            t.conv(dim, 4 * dim, 1, size, bias=True)  # Linear(dim, 4 dim) at each position
            t.conv(4 * dim, dim, 1, size, bias=True)  # Linear(4 dim, dim)
            t.params += dim  # layer_scale, shape (dim, 1, 1)
    t.bn(dims[-1])  # classifier: LayerNorm2d, Flatten, Linear(768, 1000)
    t.linear(dims[-1], 1000)
    return t


@pytest.mark.parametrize(
    ("depth3", "params", "gmacs", "macs"),
    [
        # ConvNeXt_Tiny_Weights.IMAGENET1K_V1: num_params 28,589,128, _ops 4.456
        (9, 28_589_128, "4.456", 4_455_531_264),
        # ConvNeXt_Small_Weights.IMAGENET1K_V1: num_params 50,223,688, _ops 8.684
        (27, 50_223_688, "8.684", 8_683_712_256),
    ],
    ids=["tiny", "small"],
)
def test_published_figures(
    example: Callable[..., Graph], depth3: int, params: int, gmacs: str, macs: int
) -> None:
    total = example("convnext_tiny", depth3=depth3).total()
    derived = convnext((3, 3, depth3, 3))
    assert total.params == params == derived.params
    assert total.macs == macs == derived.macs
    assert f"{total.macs / 1e9:.3f}" == gmacs


def test_tiny_by_hand(example: Callable[..., Graph]) -> None:
    graph = example("convnext_tiny")
    total = graph.total()
    # A CNBlock of C channels on an S x S map: weights 49C (depthwise) + 8C^2 (the two linears),
    # biases C + 4C + C, LayerNorm 2C, layer scale C: 8C^2 + 58C params;
    # MACs (49C + 8C^2) * S^2.
    blocks = {96: (3, 56), 192: (3, 28), 384: (9, 14), 768: (3, 7)}
    block_params = sum(n * (8 * c * c + 58 * c) for c, (n, _) in blocks.items())
    block_macs = sum(n * (49 * c + 8 * c * c) * s * s for c, (n, s) in blocks.items())
    assert block_params == 237_888 + 918_144 + 10_817_280 + 14_289_408
    assert block_macs == 737_888_256 + 715_760_640 + 2_114_090_496 + 699_164_928
    # stem 3*96*16 + 96 + LN 192; downsampling LN 2C + conv 8C^2 + 2C (C = 96, 192, 384);
    # head LN 1,536 + fc 768,000 + 1,000.
    other_params = 4_896 + (74_112 + 295_680 + 1_181_184) + 770_536
    # stem 4,608 * 56^2; downsampling 8C^2 * (S/2)^2 = 57,802,752 each; fc 768,000.
    other_macs = 14_450_688 + 3 * 57_802_752 + 768_000
    assert total.params == block_params + other_params
    assert total.macs == block_macs + other_macs
    assert sum(n.kind == "layer_scale" for n in graph.nodes) == 18
    assert sum(n.kind == "add" for n in graph.nodes) == 18
    # Every LayerNorm's gamma and beta: stem 96, 18 blocks, 3 downsampling norms, the head.
    assert total.norm == 2 * (96 + (3 * 96 + 3 * 192 + 9 * 384 + 3 * 768) + (96 + 192 + 384) + 768)


def test_fvcore_total_by_hand(example: Callable[..., Graph]) -> None:
    # fvcore: 1 per MAC; layer_norm 5 per normalized element (norm_flop_counter, affine);
    # adaptive_avg_pool2d 1 per input element; GELU, adds and the layer-scale multiply 0.
    # Normalized elements: stem 301,056; blocks 3*301,056 + 3*150,528 + 9*75,264 + 3*37,632;
    # downsampling 301,056 + 150,528 + 75,264; head 768: 2,973,696. Pool: 768 * 7 * 7.
    blocks = 3 * 301_056 + 3 * 150_528 + 9 * 75_264 + 3 * 37_632
    assert blocks == 2_145_024
    normalized = 301_056 + blocks + (301_056 + 150_528 + 75_264) + 768
    assert normalized == 2_973_696
    flops = FVCORE.flops(example("convnext_tiny").total())
    assert flops == 4_455_531_264 + 5 * normalized + 37_632 == 4_470_437_376


@pytest.mark.torch
def test_tools_count_the_exported_module() -> None:
    pytest.importorskip("torch")
    pytest.importorskip("fvcore")
    from sepcalc.crosscheck.count import count_fvcore, count_torch
    from sepcalc.graph import build_graph
    from sepcalc.spec import load_spec
    from tests.conftest import EXAMPLES

    graph = build_graph(load_spec(EXAMPLES / "convnext_tiny.yaml"))
    fvcore = count_fvcore(graph)
    assert (fvcore.flops, fvcore.params) == (4_470_437_376, 28_589_128)
    assert count_torch(graph).flops == 2 * 4_455_531_264
