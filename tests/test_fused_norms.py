"""``norm: layernorm`` and ``norm: groupnorm`` (with ``norm_groups``) fused after a layer."""

from __future__ import annotations

from pathlib import Path

import pytest

from sepcalc.conventions import DEFAULT, FVCORE, TORCH
from sepcalc.errors import SpecError
from tests.conftest import graph_of


def test_convnext_stem_as_one_layer(tmp_path: Path) -> None:
    # ConvNeXt-T's stem: Conv2d(3, 96, 4, stride 4, bias) then LayerNorm2d(96), on 224 x 224.
    spec = (
        "input: {channels: 3, size: 224}\n"
        "layers:\n"
        "  - {kind: conv, out: 96, kernel: 4, stride: 4, padding: 0, bias: true, "
        "norm: layernorm}\n"
    )
    node = graph_of(spec, tmp_path).nodes[0]
    assert node.output_shape == (96, 56, 56)
    # weight 96 * 3 * 16 = 4,608; bias 96; LayerNorm gamma, beta 2 * 96 = 192
    assert (node.cost.weight, node.cost.bias, node.cost.norm) == (4_608, 96, 192)
    assert node.cost.macs == 4_608 * 56 * 56 == 14_450_688
    # fvcore: 1 per MAC + 5 per normalized element (96 * 56 * 56 = 301,056)
    assert FVCORE.flops(node.cost) == 14_450_688 + 5 * 301_056 == 15_955_968
    assert TORCH.flops(node.cost) == 2 * 14_450_688
    # default: 2 per MAC, 1 per bias add, 7 per normalized element
    assert DEFAULT.flops(node.cost) == 2 * 14_450_688 + 301_056 + 7 * 301_056
    assert dict(node.parts).keys() == {"conv", "layernorm"}
    assert node.cost.activations == 301_056  # the norm runs in place


def test_groupnorm_in_both_stages_of_a_separable(tmp_path: Path) -> None:
    spec = (
        "input: {channels: 16, size: 8}\n"
        "layers:\n"
        "  - {kind: separable, out: 32, mid_norm: groupnorm, mid_norm_groups: 4, "
        "norm: groupnorm, norm_groups: 8, act: relu}\n"
    )
    node = graph_of(spec, tmp_path).nodes[0]
    # depthwise 16 * 9 + pointwise 16 * 32 weights; GroupNorm 2 * 16 after the depthwise stage
    # and 2 * 32 after the pointwise stage
    assert (node.cost.weight, node.cost.norm) == (144 + 512, 32 + 64)
    # normalized elements: 16 * 64 + 32 * 64 = 3,072; fvcore: 5 each
    assert FVCORE.flops(node.cost) == node.cost.macs + 5 * 3_072
    assert [b for b, _ in node.parts] == [
        "depthwise",
        "groupnorm",
        "pointwise",
        "groupnorm",
        "activation",
    ]


@pytest.mark.parametrize(
    ("layer", "key", "message"),
    [
        ("{kind: conv, out: 8, kernel: 3, norm: groupnorm}", "norm: groupnorm",
         "norm: groupnorm needs norm_groups, its number of groups"),
        ("{kind: linear, out: 8, norm: layernorm, norm_groups: 2}", "norm_groups: 2",
         "norm_groups applies only to norm: groupnorm (norm is layernorm)"),
        ("{kind: pointwise, out: 6, norm_groups: 2}", "norm_groups: 2",
         "norm_groups applies only to norm: groupnorm (norm is not set)"),
        ("{kind: pointwise, out: 6, norm: groupnorm, norm_groups: 4}", "norm_groups: 4",
         "norm_groups=4 must divide the 6 channels"),
        ("{kind: separable, out: 8, mid_norm: groupnorm, mid_norm_groups: 3}",
         "mid_norm_groups: 3", "mid_norm_groups=3 must divide the 4 channels"),
    ],
    ids=["missing", "with-layernorm", "without-norm", "not-dividing", "mid"],
)  # fmt: skip
def test_bad_norm_groups_point_at_the_key(
    tmp_path: Path, layer: str, key: str, message: str
) -> None:
    spec = f"input: {{channels: 4, size: 8}}\nlayers:\n  - {layer}\n"
    with pytest.raises(SpecError) as info:
        graph_of(spec, tmp_path)
    (diagnostic,) = info.value.diagnostics
    column = len("  - ") + layer.index(key) + len(key.split(": ")[0]) + len(": ") + 1
    assert (diagnostic.line, diagnostic.col) == (3, column)
    assert message in diagnostic.message
