"""layernorm: parameters and operation counts derived by hand, fvcore's formula restated.

Every other check (spec model, buckets, torch counterpart, fvcore and FlopCounterMode on its
examples, symbolic view == exact count, docs tables) covers it from its declaration.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sepcalc.conventions import DEFAULT, FVCORE, PAPER, TORCH
from sepcalc.graph import Node
from sepcalc.symbolic import Count, layer_formula
from sepcalc.symbols import C_in, H, W
from tests.conftest import graph_of


def _layernorm(tmp_path: Path, channels: int, size: list[int], extra: str = "") -> Node:
    flat = "  - {kind: flatten}\n" if not size else ""
    spec = (
        f"input: {{channels: {channels}, size: {size or [1]}}}\n"
        f"layers:\n{flat}  - {{kind: layernorm{extra}}}\n"
    )
    return graph_of(spec, tmp_path).nodes[-1]


def test_convnext_stem_norm(tmp_path: Path) -> None:
    # ConvNeXt-T's stem LayerNorm2d(96) on 96 x 56 x 56 = 301,056 elements.
    node = _layernorm(tmp_path, 96, [56, 56])
    cost = node.cost
    assert node.output_shape == (96, 56, 56)
    assert cost.params == cost.norm == 192  # gamma and beta, 96 each
    assert cost.macs == 0
    # default: 5 per element (mean 1, variance 3, normalize 1) + 2 (scale, shift) = 7 * 301,056
    assert DEFAULT.flops(cost) == 2_107_392
    # fvcore 0.1.5 norm_flop_counter: 5 per input element with an affine weight
    assert FVCORE.flops(cost) == 1_505_280
    assert TORCH.flops(cost) == PAPER.flops(cost) == 0
    assert cost.activations == 301_056


def test_without_affine_and_on_a_flat_vector(tmp_path: Path) -> None:
    plain = _layernorm(tmp_path, 768, [7, 7], ", affine: false").cost
    assert plain.params == 0
    assert DEFAULT.flops(plain) == 5 * 768 * 49 == 188_160
    assert FVCORE.flops(plain) == 4 * 768 * 49 == 150_528  # fvcore: 4 without affine
    # nn.LayerNorm(768) on a flat vector, as a transformer's pre-head norm: 2 * 768 parameters.
    flat = _layernorm(tmp_path, 768, []).cost
    assert flat.params == 1_536
    assert FVCORE.flops(flat) == 3_840


@given(
    channels=st.integers(1, 64),
    size=st.lists(st.integers(1, 9), min_size=0, max_size=3),
    affine=st.booleans(),
)
def test_counts_follow_the_formula(
    tmp_path_factory: pytest.TempPathFactory, channels: int, size: list[int], affine: bool
) -> None:
    extra = "" if affine else ", affine: false"
    node = _layernorm(tmp_path_factory.mktemp("ln"), channels, size, extra)
    cost = node.cost
    n = channels * math.prod(size)
    assert node.output_shape == (channels, *size)
    assert cost.params == 2 * channels * affine
    assert FVCORE.flops(cost) == n * (5 if affine else 4)  # fvcore's norm_flop_counter
    assert DEFAULT.flops(cost) == n * (7 if affine else 5)
    assert TORCH.flops(cost) == 0


def test_closed_form() -> None:
    formula = layer_formula("layernorm", Count(), DEFAULT)
    assert formula.exprs["params"] == 2 * C_in
    assert formula.exprs["macs"] == 0
    assert formula.exprs["flops"] == 7 * C_in * H * W


def test_normalizes_over_the_channels_at_each_position() -> None:
    """The torch counterpart normalizes each position's channel vector, as LayerNorm2d does."""
    torch = pytest.importorskip("torch")
    from sepcalc.crosscheck.layers import ChannelLayerNorm

    x = torch.randn(2, 6, 3, 4, 5)
    out = ChannelLayerNorm(6, elementwise_affine=False)(x)
    assert out.shape == x.shape
    assert torch.allclose(out.mean(dim=1), torch.zeros(2, 3, 4, 5), atol=1e-5)
    assert torch.allclose(out.var(dim=1, unbiased=False), torch.ones(2, 3, 4, 5), atol=1e-3)
    reference = torch.nn.functional.layer_norm(x.movedim(1, -1), (6,)).movedim(-1, 1)
    assert torch.allclose(out, reference)
