"""attention: costs derived by hand, the patch (MobileViT) factor, errors, and the torch module's
meaning (attention among the patches, separately for each position inside a patch).

Its spec model, buckets, fvcore and FlopCounterMode agreement on its examples, symbolic view and
docs rows are covered from its declaration.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sepcalc.conventions import DEFAULT, FVCORE, TORCH
from sepcalc.errors import SpecError
from sepcalc.graph import Node
from tests.conftest import graph_of


def _attention(tmp_path: Path, channels: int, size: int, layer: str) -> Node:
    spec = f"input: {{channels: {channels}, size: {size}}}\nlayers:\n  - {layer}\n"
    return graph_of(spec, tmp_path).nodes[0]


def test_vit_base_block_attention(tmp_path: Path) -> None:
    """ViT-B/16's attention on its 14 x 14 patch grid (no class token): C = 768, 12 heads."""
    node = _attention(tmp_path, 768, 14, "{kind: attention, heads: 12}")
    cost = node.cost
    # qkv 768 * 2304 + 2304 = 1,771,776; proj 768 * 768 + 768 = 590,592 (timm's Attention).
    assert cost.params == 2_362_368
    # qkv 3 * 768**2 * 196 = 346,816,512; Q K^T and scores x V 2 * 196 * 196 * 768 = 59,006,976;
    # proj 768**2 * 196 = 115,605,504.
    assert cost.macs == 346_816_512 + 59_006_976 + 115_605_504
    # 12 heads x 196 x 196 scores, each scaled once and softmax-normalised once.
    scores = 12 * 196 * 196
    assert cost.softmax_ops == scores
    assert cost.elem_ops == scores
    assert DEFAULT.flops(cost) == 2 * cost.macs + (2304 + 768) * 196 + 2 * scores
    assert TORCH.flops(cost) == 2 * cost.macs
    assert FVCORE.flops(cost) == cost.macs


def test_patch_divides_the_score_terms(tmp_path: Path) -> None:
    """MobileViT-S's first transformer: C = 144 on a 32 x 32 map, 2 x 2 patches, 4 heads."""
    whole = _attention(tmp_path, 144, 32, "{kind: attention, heads: 4}").cost
    patched = _attention(tmp_path, 144, 32, "{kind: attention, heads: 4, patch: 2}").cost
    projections = 4 * 144 * 144 * 1024
    # Without patches: one sequence of 1,024 tokens: 2 * 1024 * 1024 * 144.
    assert whole.macs - projections == 301_989_888
    # With 2 x 2 patches: 4 sequences of 256 patches: 2 * 4 * 256 * 256 * 144, a quarter.
    assert patched.macs - projections == 75_497_472
    assert patched.softmax_ops == 4 * 4 * 256 * 256
    assert patched.params == whole.params


@pytest.mark.parametrize(
    ("layer", "key", "message"),
    [
        ("{kind: attention, heads: 5}", "heads", "heads=5 must divide the 8 channels"),
        ("{kind: attention, heads: 2, patch: 3}", "patch", "patch [3, 3] must divide the input"),
    ],
    ids=["heads", "patch"],
)
def test_errors_point_at_the_key(tmp_path: Path, layer: str, key: str, message: str) -> None:
    with pytest.raises(SpecError) as info:
        _attention(tmp_path, 8, 4, layer)
    (diagnostic,) = info.value.diagnostics
    line = f"  - {layer}"
    assert (diagnostic.line, diagnostic.col) == (3, line.index(f"{key}: ") + len(key) + 3)
    assert message in diagnostic.message


@pytest.mark.torch
def test_module_attends_among_patches_for_each_position_in_a_patch() -> None:
    torch = pytest.importorskip("torch")
    from sepcalc.crosscheck.layers import SelfAttention

    torch.manual_seed(0)
    module = SelfAttention(8, 2, (2, 2)).eval()
    x = torch.randn(1, 8, 4, 6)
    out = module(x)
    whole = SelfAttention(8, 2, (1, 1)).eval()
    whole.load_state_dict(module.state_dict())
    for i in range(2):
        for j in range(2):
            # The patches' (i, j) pixels form one sequence: attention among them alone.
            grid = x[:, :, i::2, j::2]
            assert torch.allclose(out[:, :, i::2, j::2], whole(grid), atol=1e-5)
