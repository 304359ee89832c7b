"""Layer formulas against hand-derived numbers, and the invariants between them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sepcalc.conventions import DEFAULT
from sepcalc.cost import Cost
from sepcalc.formulas import REGISTRY
from sepcalc.formulas.base import ShapeError
from sepcalc.formulas.conv import conv_cost, conv_out_size, depthwise_cost, pointwise_cost
from sepcalc.formulas.dense import linear_cost
from sepcalc.formulas.excite import squeeze_excite_cost
from sepcalc.formulas.norm import batchnorm_cost


@pytest.mark.parametrize(
    ("args", "weight", "macs"),
    [
        # MobileNetV1 conv1: 3x3x3x32 weights, 27 MACs per output element of 32x112x112.
        ((3, 32, (3, 3), (112, 112)), 864, 864 * 112 * 112),
        # Grouped: each of 64 filters sees 32/4 = 8 channels: 64*8*9 weights.
        ((32, 64, (3, 3), (10, 10), 4), 4608, 4608 * 100),
        # 1-D: 32 filters of 16x5 over 100 positions.
        ((16, 32, (5,), (100,)), 2560, 256_000),
        # 3-D: 8 filters of 4x3x3x3 over 8x8x8.
        ((4, 8, (3, 3, 3), (8, 8, 8)), 864, 864 * 512),
        # Rectangular 1x7 kernel (Inception-style).
        ((128, 128, (1, 7), (17, 17)), 114_688, 114_688 * 289),
    ],
    ids=["mobilenet-conv1", "grouped", "1d", "3d", "1x7"],
)
def test_conv_cost(args: tuple, weight: int, macs: int) -> None:  # type: ignore[type-arg]
    cost = conv_cost(*args)
    assert (cost.weight, cost.macs, cost.bias) == (weight, macs, 0)


def test_bias_adds_one_param_per_filter_and_one_add_per_output() -> None:
    cost = conv_cost(3, 32, (3, 3), (112, 112), bias=True)
    assert cost.bias == 32
    assert cost.bias_ops == 32 * 112 * 112
    assert DEFAULT.flops(cost) == 2 * 864 * 112 * 112 + 32 * 112 * 112


def test_depthwise_is_one_filter_per_channel() -> None:
    # MobileNetV1 dws1.dw: 32 filters of 3x3 over 112x112 -> 9*32 weights, 9*32*112*112 MACs.
    cost = depthwise_cost(32, (3, 3), (112, 112))
    assert (cost.weight, cost.macs) == (288, 3_612_672)
    # Depth multiplier 2: twice the filters and the outputs.
    assert depthwise_cost(32, (3, 3), (112, 112), multiplier=2).macs == 2 * 3_612_672


def test_pointwise_is_a_matrix_per_position() -> None:
    # MobileNetV1 dws1.pw: 32 -> 64 at 112x112.
    cost = pointwise_cost(32, 64, (112, 112))
    assert (cost.weight, cost.macs) == (2048, 25_690_112)


def test_linear_and_batchnorm() -> None:
    fc = linear_cost(1024, 1000)
    assert (fc.weight, fc.bias, fc.macs) == (1_024_000, 1000, 1_024_000)
    bn = batchnorm_cost((32, 112, 112))
    assert bn.norm == 64  # gamma and beta; running stats are buffers
    assert bn.norm_ops == 2 * 32 * 112 * 112


def test_squeeze_excite() -> None:
    # MobileNetV3-Large first SE: C=72 at 28x28, squeeze make_divisible(72 // 4, 8) = 24.
    cost = squeeze_excite_cost((72, 28, 28), 24)
    assert cost.params == 72 * 24 + 24 + 24 * 72 + 72  # two 1x1 convs with bias
    assert cost.macs == 2 * 72 * 24
    assert cost.gpool_ops == 72 * 28 * 28
    assert cost.elem_ops == 72 * 28 * 28  # the channel-wise scale


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "padding", "dilation", "ceil", "expected"),
    [
        (224, 3, 2, "same", 1, False, 112),  # TF 'same': ceil(224 / 2)
        (7, 3, 2, "same", 1, False, 4),
        (224, 3, 2, (1,), 1, False, 112),  # torch: (224 + 2 - 3) // 2 + 1
        (32, 3, 1, (0,), 2, False, 28),  # dilation 2: effective kernel 5
        (32, 3, 1, "valid", 1, False, 30),
        (112, 3, 2, (0,), 1, False, 55),  # floor((112 - 3) / 2) + 1
        (112, 3, 2, (0,), 1, True, 56),  # ceil_mode (torch pooling)
        (299, 3, 2, "valid", 1, False, 149),  # Xception stem
    ],
    ids=["same-224", "same-7", "torch-pad1", "dilated", "valid", "floor", "ceil", "xception"],
)
def test_output_size(
    size: int, kernel: int, stride: int, padding: object, dilation: int, ceil: bool, expected: int
) -> None:
    out = conv_out_size((size,), (kernel,), (stride,), padding, (dilation,), ceil)  # type: ignore[arg-type]
    assert out == (expected,)


def test_every_kind_has_a_documented_formula() -> None:
    for name, kind in REGISTRY.items():
        assert kind.summary, f"layer kind '{name}' has no docstring"


def test_group_check() -> None:
    conv = REGISTRY["conv"]
    attrs = {"out": 32, "kernel": (3, 3), "stride": (1, 1), "padding": "same",
             "dilation": (1, 1), "groups": 5, "bias": False, "norm": None, "act": None}  # fmt: skip
    with pytest.raises(ShapeError, match="groups=5 must divide"):
        conv.infer(attrs, [(24, 8, 8)])


channels = st.integers(1, 512)
kernels = st.integers(1, 7)
sizes = st.integers(1, 64)


def test_separable_by_hand() -> None:
    # MobileNetV1's first block as one layer: 3x3 depthwise on 32 channels + BN + ReLU, then
    # 1x1 32 -> 64 + BN + ReLU, at 112x112.
    attrs = {"out": 64, "kernel": (3, 3), "stride": (1, 1), "padding": "same",
             "dilation": (1, 1), "multiplier": 1, "bias": False, "norm": "batchnorm",
             "act": "relu", "mid_norm": "batchnorm", "mid_act": "relu"}  # fmt: skip
    kind = REGISTRY["separable"]
    out = kind.infer(attrs, [(32, 112, 112)])
    parts = kind.cost(attrs, [(32, 112, 112)], out)
    total = sum((c for _, c in parts), Cost())
    hw = 112 * 112
    assert out == (64, 112, 112)
    assert (total.weight, total.norm) == (9 * 32 + 32 * 64, 2 * 32 + 2 * 64)
    assert total.macs == 9 * 32 * hw + 32 * 64 * hw
    assert DEFAULT.flops(total) == 2 * total.macs + 2 * (32 + 64) * hw + (32 + 64) * hw
    assert total.activations == 32 * hw + 64 * hw  # the depthwise output, then the output
    assert {b for b, _ in parts} == {"depthwise", "pointwise", "batchnorm", "activation"}


@pytest.mark.parametrize(
    ("kind", "attrs", "shape", "field", "expected"),
    [
        # 3x3 max pool, stride 2, on 8x16x16: 8x8x8 outputs, 9 comparisons each.
        ("maxpool", {"kernel": (3, 3), "stride": (2, 2), "padding": (1, 1), "dilation": (1, 1),
                     "ceil_mode": False}, (8, 16, 16), "pool_ops", 9 * 8 * 8 * 8),
        # Global average pool: one add per input element.
        ("global_avg_pool", {"method": "adaptive"}, (8, 16, 16), "gpool_ops", 8 * 16 * 16),
        # The same written as x.mean: the same adds, in a count of their own (fvcore skips it).
        ("global_avg_pool", {"method": "mean"}, (8, 16, 16), "mean_ops", 8 * 16 * 16),
        ("global_avg_pool", {"method": "mean"}, (8, 16, 16), "gpool_ops", 0),
        # Bilinear x2 on 4x10x20: 4x20x40 outputs, 4 neighbours each.
        ("upsample", {"scale": (2, 2), "mode": "bilinear"}, (4, 10, 20), "upsample_ops",
         4 * 4 * 20 * 40),
        # Nearest copies: no arithmetic under the default convention's upsample_ops.
        ("upsample", {"scale": (2, 2), "mode": "nearest"}, (4, 10, 20), "upsample_ops", 0),
        # Any activation: one evaluation per element.
        ("gelu", {}, (4, 10, 20), "act_ops", 800),
    ],
    ids=["maxpool", "global-pool", "mean", "mean-no-gpool", "bilinear", "nearest", "gelu"],
)  # fmt: skip
def test_op_counts_by_hand(
    kind: str,
    attrs: dict,
    shape: tuple,
    field: str,
    expected: int,  # type: ignore[type-arg]
) -> None:
    layer = REGISTRY[kind]
    out = layer.infer(attrs, [shape])
    total = sum((c for _, c in layer.cost(attrs, [shape], out)), Cost())
    assert getattr(total, field) == expected


def test_three_way_add_is_two_adds_per_element() -> None:
    layer = REGISTRY["add"]
    shape = (4, 5, 5)
    total = sum((c for _, c in layer.cost({}, [shape] * 3, shape)), Cost())
    assert total.elem_ops == 2 * 100


@given(c_in=channels, c_out=channels, k=kernels, h=sizes, w=sizes, bias=st.booleans())
def test_separable_is_depthwise_plus_pointwise(
    c_in: int, c_out: int, k: int, h: int, w: int, bias: bool
) -> None:
    attrs = {"out": c_out, "kernel": (k, k), "stride": (1, 1), "padding": "same",
             "dilation": (1, 1), "multiplier": 1, "bias": bias, "norm": None, "act": None,
             "mid_norm": None, "mid_act": None}  # fmt: skip
    kind = REGISTRY["separable"]
    out = kind.infer(attrs, [(c_in, h, w)])
    total = sum((c for _, c in kind.cost(attrs, [(c_in, h, w)], out)), Cost())
    assert total == depthwise_cost(c_in, (k, k), (h, w)) + pointwise_cost(
        c_in, c_out, (h, w), bias=bias
    )


@given(c_in=channels, c_out=channels, k=kernels, h=sizes, w=sizes)
def test_separable_cheaper_exactly_when_k_and_c_out_at_least_2(
    c_in: int, c_out: int, k: int, h: int, w: int
) -> None:
    # sep < std  <=>  k^2 + C_out < C_out k^2  <=>  (k^2 - 1)(C_out - 1) > 1.
    sep = depthwise_cost(c_in, (k, k), (h, w)) + pointwise_cost(c_in, c_out, (h, w))
    std = conv_cost(c_in, c_out, (k, k), (h, w))
    assert (sep.macs < std.macs) == (k >= 2 and c_out >= 2)
    assert (sep.weight < std.weight) == (k >= 2 and c_out >= 2)
    # The MobileNet ratio, exactly: sep / std = 1/C_out + 1/k^2.
    assert sep.macs * c_out * k * k == std.macs * (k * k + c_out)
