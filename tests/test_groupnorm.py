"""groupnorm: parameters and operation counts derived by hand, fvcore's formula restated.

Every other check (spec model, buckets, torch counterpart, fvcore and FlopCounterMode on its
examples, symbolic view == exact count, docs tables) covers it from its declaration.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sepcalc.conventions import DEFAULT, FVCORE, TORCH
from sepcalc.errors import SpecError
from sepcalc.graph import Node
from sepcalc.symbolic import Count, layer_formula
from sepcalc.symbols import C_in, H, W
from tests.conftest import graph_of


def _groupnorm(tmp_path: Path, channels: int, size: list[int], attrs: str) -> Node:
    spec = (
        f"input: {{channels: {channels}, size: {size}}}\n"
        f"layers:\n  - {{kind: groupnorm, {attrs}}}\n"
    )
    return graph_of(spec, tmp_path).nodes[-1]


def test_resnet_gn_norm(tmp_path: Path) -> None:
    # GroupNorm(32, 256) on 256 x 56 x 56 (Wu & He's ResNet-50-GN, a conv2_x bottleneck's last
    # norm): 802,816 elements.
    cost = _groupnorm(tmp_path, 256, [56, 56], "groups: 32").cost
    assert cost.params == cost.norm == 512  # gamma and beta per channel, not per group
    assert cost.macs == 0
    assert DEFAULT.flops(cost) == 7 * 802_816 == 5_619_712
    assert FVCORE.flops(cost) == 5 * 802_816 == 4_014_080  # fvcore: group_norm like layer_norm
    assert TORCH.flops(cost) == 0


@given(
    groups=st.integers(1, 8),
    per_group=st.integers(1, 8),
    size=st.lists(st.integers(1, 9), min_size=1, max_size=3),
    affine=st.booleans(),
)
def test_counts_do_not_depend_on_the_groups(
    tmp_path_factory: pytest.TempPathFactory,
    groups: int,
    per_group: int,
    size: list[int],
    affine: bool,
) -> None:
    channels = groups * per_group
    attrs = f"groups: {groups}, affine: {str(affine).lower()}"
    node = _groupnorm(tmp_path_factory.mktemp("gn"), channels, size, attrs)
    n = channels * math.prod(size)
    assert node.output_shape == (channels, *size)
    assert node.cost.params == 2 * channels * affine
    assert FVCORE.flops(node.cost) == n * (5 if affine else 4)
    assert DEFAULT.flops(node.cost) == n * (7 if affine else 5)


def test_groups_must_divide_the_channels(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as info:
        _groupnorm(tmp_path, 24, [4, 4], "groups: 5")
    (diagnostic,) = info.value.diagnostics
    assert (diagnostic.line, diagnostic.col) == (3, len("  - {kind: groupnorm, groups: ") + 1)
    assert "groups=5 must divide the 24 channels" in diagnostic.message


def test_closed_form() -> None:
    formula = layer_formula("groupnorm", Count(), DEFAULT)
    assert formula.exprs["params"] == 2 * C_in
    assert formula.exprs["flops"] == 7 * C_in * H * W
