"""conv_transpose: shapes as torch computes them, costs derived by hand and a published total.

Every other check (spec model, buckets, torch counterpart, fvcore and FlopCounterMode on its
examples, symbolic view == exact count, docs tables) covers it from its declaration.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sepcalc.conventions import DEFAULT
from sepcalc.errors import SpecError
from sepcalc.symbolic import Count, layer_formula
from sepcalc.symbols import C_in, C_out, H, W, k
from tests.conftest import graph_of

DCGAN = """
name: dcgan_generator
input: {channels: 100, size: [1, 1]}
layers:
  - {kind: conv_transpose, out: 512, kernel: 4, stride: 1, padding: 0, norm: batchnorm, act: relu}
  - {kind: conv_transpose, out: 256, kernel: 4, stride: 2, padding: 1, norm: batchnorm, act: relu}
  - {kind: conv_transpose, out: 128, kernel: 4, stride: 2, padding: 1, norm: batchnorm, act: relu}
  - {kind: conv_transpose, out: 64, kernel: 4, stride: 2, padding: 1, norm: batchnorm, act: relu}
  - {kind: conv_transpose, out: 3, kernel: 4, stride: 2, padding: 1, act: tanh}
"""
"""The generator of the PyTorch DCGAN tutorial (nz = 100, ngf = 64, nc = 3; Radford et al.,
arXiv 1511.06434), every conv bias-free."""


def test_dcgan_generator_params_macs_and_shapes(tmp_path: Path) -> None:
    graph = graph_of(DCGAN, tmp_path)
    assert [n.output_shape for n in graph.nodes] == [
        (512, 4, 4),
        (256, 8, 8),
        (128, 16, 16),
        (64, 32, 32),
        (3, 64, 64),
    ]
    total = graph.total()
    # weights C_in * C_out * 16: 819,200 + 2,097,152 + 524,288 + 131,072 + 3,072 = 3,574,784;
    # BatchNorm 2 * (512 + 256 + 128 + 64) = 1,920. 3,576,704 is the total torchsummary reports
    # for the tutorial's generator.
    assert total.params == 3_576_704
    # MACs = weights * input positions: 819,200 * 1 + (2,097,152 * 16 + 524,288 * 64
    # + 131,072 * 256) + 3,072 * 1,024 = 819,200 + 3 * 33,554,432 + 3,145,728.
    assert total.macs == 104_628_224


def _torch_size(n: int, k: int, s: int, p: int, d: int, op: int) -> int:
    """torch.nn.ConvTranspose2d's documented H_out."""
    return (n - 1) * s - 2 * p + d * (k - 1) + op + 1


@given(
    n=st.integers(1, 9),
    k_=st.integers(1, 5),
    s=st.integers(1, 3),
    p=st.integers(0, 2),
    d=st.integers(1, 2),
    op=st.integers(0, 2),
    groups=st.sampled_from([1, 2]),
    bias=st.booleans(),
)
def test_shape_and_cost_follow_torch(
    tmp_path_factory: pytest.TempPathFactory,
    n: int,
    k_: int,
    s: int,
    p: int,
    d: int,
    op: int,
    groups: int,
    bias: bool,
) -> None:
    layer = (
        f"{{kind: conv_transpose, out: 6, kernel: [{k_}, 1], stride: [{s}, 1], "
        f"padding: [{p}, 0], dilation: [{d}, 1], output_padding: [{op}, 0], groups: {groups}, "
        f"bias: {str(bias).lower()}}}"
    )
    spec = f"input: {{channels: 4, size: [{n}, 3]}}\nlayers:\n  - {layer}\n"
    out = _torch_size(n, k_, s, p, d, op)
    if op >= max(s, d) or out < 1:
        with pytest.raises(SpecError):
            graph_of(spec, tmp_path_factory.mktemp("t"))
        return
    node = graph_of(spec, tmp_path_factory.mktemp("t")).nodes[0]
    assert node.output_shape == (6, out, 3)
    weight = 4 * (6 // groups) * k_
    assert node.cost.weight == weight
    assert node.cost.bias == 6 * bias
    assert node.cost.macs == weight * n * 3  # per INPUT position


def test_output_padding_zero_is_accepted_and_too_large_points_at_it(tmp_path: Path) -> None:
    head = "input: {channels: 2, size: 4}\nlayers:\n"
    ok = head + "  - {kind: conv_transpose, out: 2, kernel: 3, output_padding: 0}\n"
    assert graph_of(ok, tmp_path).nodes[0].output_shape == (2, 6, 6)
    bad = ok.replace("output_padding: 0", "stride: 2, output_padding: 2")
    with pytest.raises(SpecError) as info:
        graph_of(bad, tmp_path)
    (diagnostic,) = info.value.diagnostics
    column = bad.splitlines()[2].index("output_padding: 2") + len("output_padding: ") + 1
    assert (diagnostic.line, diagnostic.col) == (3, column)
    assert "output_padding [2, 2] must be smaller than the stride" in diagnostic.message


def test_closed_form() -> None:
    formula = layer_formula("conv_transpose", Count(), DEFAULT)
    assert formula.exprs["params"] == C_in * C_out * k**2
    assert formula.exprs["macs"] == C_in * C_out * k**2 * H * W
