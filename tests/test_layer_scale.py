"""layer_scale: a learned multiplier per channel (ConvNeXt's layer_scale, timm's LayerScale).

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
from sepcalc.symbolic import Count, layer_formula
from sepcalc.symbols import C_in, H, W
from tests.conftest import graph_of


def test_convnext_stage_1_layer_scale(tmp_path: Path) -> None:
    # CNBlock(96).layer_scale, shape (96, 1, 1), times the block's 96 x 56 x 56 output.
    spec = "input: {channels: 96, size: 56}\nlayers:\n  - {kind: layer_scale}\n"
    node = graph_of(spec, tmp_path).nodes[0]
    assert node.output_shape == (96, 56, 56)
    assert node.cost.params == node.cost.weight == 96
    assert node.cost.macs == 0
    assert DEFAULT.flops(node.cost) == 96 * 56 * 56 == 301_056  # one multiply per element
    # fvcore has no formula for aten::mul (it lists it as uncounted); FlopCounterMode neither.
    assert FVCORE.flops(node.cost) == TORCH.flops(node.cost) == 0


@given(channels=st.integers(1, 64), size=st.lists(st.integers(1, 9), min_size=1, max_size=3))
def test_c_params_and_one_multiply_per_element(
    tmp_path_factory: pytest.TempPathFactory, channels: int, size: list[int]
) -> None:
    spec = f"input: {{channels: {channels}, size: {size}}}\nlayers:\n  - {{kind: layer_scale}}\n"
    node = graph_of(spec, tmp_path_factory.mktemp("ls")).nodes[0]
    assert node.cost.params == channels
    assert node.cost.elem_ops == channels * math.prod(size)


def test_takes_no_attributes(tmp_path: Path) -> None:
    spec = "input: {channels: 4, size: 4}\nlayers:\n  - {kind: layer_scale, init: 0.000001}\n"
    with pytest.raises(SpecError) as info:
        graph_of(spec, tmp_path)
    (diagnostic,) = info.value.diagnostics
    assert (diagnostic.line, diagnostic.col) == (3, len("  - {kind: layer_scale, ") + 1)
    assert "init" in diagnostic.message


def test_closed_form() -> None:
    formula = layer_formula("layer_scale", Count(), DEFAULT)
    assert formula.exprs["params"] == C_in
    assert formula.exprs["flops"] == C_in * H * W


def test_torch_counterpart_has_torchvisions_shape() -> None:
    torch = pytest.importorskip("torch")
    from sepcalc.crosscheck.layers import LayerScale

    scale = LayerScale(96, 2)
    assert tuple(scale.gamma.shape) == (96, 1, 1)  # torchvision CNBlock.layer_scale
    x = torch.randn(1, 96, 5, 5)
    assert torch.allclose(scale(x), x * 1e-6)
