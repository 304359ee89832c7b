"""Graph building: vars, blocks, repeats, `when`, named inputs, shapes in 1-D/2-D/3-D."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sepcalc.analysis import analyze, by_kind
from sepcalc.cost import Cost
from sepcalc.errors import SepcalcError, SpecError
from tests.conftest import EXAMPLES, graph_of

INVERTED_RESIDUAL = """
name: ir
vars: {width: 1.0}
input: {channels: 16, size: 32}
blocks:
  ir:
    params: {out: null, stride: 1, expand: 6}
    layers:
      - {kind: pointwise, out: "in_channels * expand", norm: batchnorm, act: relu6}
      - {kind: depthwise, stride: stride, norm: batchnorm, act: relu6}
      - {kind: pointwise, name: project, out: out, norm: batchnorm}
      - {kind: add, inputs: [input, project], when: "stride == 1 and in_channels == out"}
layers:
  - {block: ir, out: 24, stride: "2 if i == 0 else 1", repeat: 2}
  - {block: ir, name: last, out: "make_divisible(32 * width, 8)", expand: 1}
"""


def test_blocks_repeat_and_residual_when(tmp_path: Path) -> None:
    g = graph_of(INVERTED_RESIDUAL, tmp_path)
    names = [n.name for n in g.nodes]
    assert names == [
        "ir1.pointwise1", "ir1.depthwise1", "ir1.project",  # stride 2: no residual
        "ir2.pointwise1", "ir2.depthwise1", "ir2.project", "ir2.add1",  # stride 1, 24 -> 24
        "last.pointwise1", "last.depthwise1", "last.project",  # 24 -> 32: no residual
    ]  # fmt: skip
    shapes = {n.name: n.output_shape for n in g.nodes}
    assert shapes["ir1.pointwise1"] == (96, 32, 32)  # 16 * 6
    assert shapes["ir1.depthwise1"] == (96, 16, 16)
    assert shapes["ir2.add1"] == (24, 16, 16)
    assert g.nodes[6].inputs == ("ir1.project", "ir2.project")
    assert shapes["last.pointwise1"] == (24, 16, 16)  # expand 1
    # expand 16 -> 96: 16*96 weights; depthwise 96*9; project 96*24; BN 2 per channel each.
    first = g.nodes[0].cost
    assert first.weight == 16 * 96
    assert first.norm == 2 * 96
    assert first.macs == 16 * 96 * 32 * 32


def test_width_var_override(tmp_path: Path) -> None:
    from fractions import Fraction

    g = graph_of(INVERTED_RESIDUAL, tmp_path, {"width": Fraction(1, 2)})
    assert g.nodes[-1].output_shape == (16, 16, 16)  # make_divisible(16, 8)


def test_total_is_sum_of_layers_and_of_kinds(tmp_path: Path) -> None:
    g = graph_of(INVERTED_RESIDUAL, tmp_path)
    total = sum((n.cost for n in g.nodes), Cost())
    assert g.total() == total
    assert sum(by_kind(g).values(), Cost()) == total


@pytest.mark.parametrize(
    ("size", "layers", "expected"),
    [
        ("[1000]", "[{kind: conv, out: 8, kernel: 5, stride: 2}]", (8, 500)),
        ("[8, 16, 16]", "[{kind: conv, out: 8, kernel: 3, stride: [1, 2, 2]}]", (8, 8, 8, 8)),
        ("[10, 20]", "[{kind: upsample, scale: 2, mode: bilinear}]", (4, 20, 40)),
        ("8", "[{kind: maxpool, kernel: 2}]", (4, 4, 4)),
        ("8", "[{kind: global_avg_pool}, {kind: flatten}, {kind: linear, out: 10}]", (10,)),
        ("8", "[{kind: separable, out: 16, stride: 2}]", (16, 4, 4)),
        ("8", "[{kind: depthwise, multiplier: 3}]", (12, 8, 8)),
        ("8", "[{kind: conv, name: a, out: 4, kernel: 1}, {kind: concat, inputs: [input, a]}]",
         (8, 8, 8)),
        ("8", "[{kind: channel_shuffle, groups: 2}]", (4, 8, 8)),
        ("8", "[{kind: squeeze_excite, squeeze: 2}]", (4, 8, 8)),
    ],
    ids=["1d", "3d", "upsample", "maxpool", "head", "separable", "multiplier", "concat",
         "shuffle", "se"],
)  # fmt: skip
def test_shapes(tmp_path: Path, size: str, layers: str, expected: tuple[int, ...]) -> None:
    g = graph_of(f"input: {{channels: 4, size: {size}}}\nlayers: {layers}\n", tmp_path)
    assert g.output_shape == expected


def test_repeat_zero_and_named_repeat(tmp_path: Path) -> None:
    g = graph_of(
        "input: {channels: 4, size: 8}\n"
        "layers:\n"
        "  - {kind: relu, repeat: 0}\n"
        "  - {kind: conv, name: c, out: 4, kernel: 3, repeat: 3}\n"
        "  - {kind: add, inputs: [input, c]}\n",
        tmp_path,
    )
    assert [n.name for n in g.nodes] == ["c.0", "c.1", "c.2", "add1"]
    assert g.nodes[-1].inputs == ("input", "c.2")


def test_vars_may_use_earlier_vars(tmp_path: Path) -> None:
    g = graph_of(
        "vars: {base: 16, wide: base * 2}\ninput: {channels: 3, size: 8}\n"
        "layers: [{kind: conv, out: wide, kernel: 3}]\n",
        tmp_path,
    )
    assert g.output_shape == (32, 8, 8)
    assert g.vars == {"base": 16, "wide": 32}


def test_unknown_override_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SepcalcError, match="no var 'widht'; did you mean 'width'"):
        graph_of(INVERTED_RESIDUAL, tmp_path, {"widht": 1})


def test_duplicate_names(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="duplicate layer name 'a'"):
        graph_of(
            "input: {channels: 4, size: 8}\nlayers:\n"
            "  - {kind: relu, name: a}\n  - {kind: relu, name: a}\n",
            tmp_path,
        )


def test_duplicate_yaml_keys(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"spec\.yaml:1:22: duplicate key 'channels'"):
        graph_of("input: {channels: 4, channels: 3, size: 8}\nlayers: [{kind: relu}]\n", tmp_path)


@settings(max_examples=30, deadline=None)
@given(
    depth=st.integers(1, 6),
    width=st.integers(1, 64),
    size=st.integers(4, 64),
    stride=st.sampled_from([1, 2]),
)
def test_chain_total_equals_sum_and_analysis_agrees(
    tmp_path_factory: pytest.TempPathFactory, depth: int, width: int, size: int, stride: int
) -> None:
    text = (
        f"input: {{channels: 3, size: {size}}}\nlayers:\n"
        f"  - {{kind: separable, out: {width}, stride: {stride}, repeat: {depth},"
        " norm: batchnorm, act: relu}\n"
    )
    g = graph_of(text, tmp_path_factory.mktemp("h"))
    a = analyze(g)
    assert a.totals.macs == sum(r.counts.macs for r in a.layers)
    assert a.totals.params == sum(r.counts.params for r in a.layers)
    assert a.by_kind["depthwise"].macs + a.by_kind["pointwise"].macs == a.totals.macs


def test_boolean_vars_and_block_defaults(tmp_path: Path) -> None:
    text = (
        "vars: {pre: true}\ninput: {channels: 4, size: 8}\n"
        "blocks:\n  b:\n    params: {act_first: false}\n    layers:\n"
        "      - {kind: relu, when: act_first}\n      - {kind: conv, out: 4, kernel: 3}\n"
        "layers:\n  - {block: b}\n  - {block: b, act_first: pre}\n"
    )
    assert [n.name for n in graph_of(text, tmp_path).nodes] == ["b1.conv1", "b2.relu1", "b2.conv1"]
    off = graph_of(text, tmp_path, {"pre": False})
    assert [n.name for n in off.nodes] == ["b1.conv1", "b2.conv1"]


def test_standard_equivalent_keeps_the_pointwise_bias(tmp_path: Path) -> None:
    # depthwise 3x3 on 8 channels then pointwise 8 -> 16 with bias: the standard conv it
    # replaces is 3x3, 8 -> 16, with the pointwise layer's 16 biases; same as `separable`.
    pair = graph_of(
        "input: {channels: 8, size: 4}\nlayers:\n  - {kind: depthwise, kernel: 3}\n"
        "  - {kind: pointwise, out: 16, bias: true}\n",
        tmp_path,
    )
    single = graph_of(
        "input: {channels: 8, size: 4}\nlayers:\n  - {kind: separable, out: 16, bias: true}\n",
        tmp_path,
    )
    for graph in (pair, single):
        std = analyze(graph, compare_standard=True).standard
        assert std is not None
        assert std.totals.params_by_role == {"weight": 9 * 8 * 16, "bias": 16, "norm": 0}
        assert std.totals.macs == 9 * 8 * 16 * 4 * 4


def test_consumers_of_a_failed_layer_are_skipped_silently(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as info:
        graph_of(
            "input: {channels: 3, size: 8}\nlayers:\n"
            "  - {kind: conv, name: a, out: 0, kernel: 3}\n"
            "  - {kind: relu, name: b}\n  - {kind: add, inputs: [a, b]}\n",
            tmp_path,
        )
    assert [d.message for d in info.value.diagnostics] == ["layers.0.out: must be positive, got 0"]


def test_deep_flow_nesting_is_refused_before_the_c_parser(tmp_path: Path) -> None:
    # libyaml recurses once per level: 100,000 '[' would overflow the C stack (a segfault).
    with pytest.raises(SpecError, match="nested more than 100 levels deep"):
        graph_of("[" * 100_000, tmp_path)


def test_deep_block_nesting_is_refused_too(tmp_path: Path) -> None:
    # "- - - ... x": one sequence per "- ", which libyaml also parses recursively.
    with pytest.raises(SpecError, match="nested more than 100 levels deep"):
        graph_of("input: {channels: 3, size: 8}\nlayers:\n" + "- " * 30_000 + "x\n", tmp_path)


def test_unused_outputs_are_listed(tmp_path: Path) -> None:
    g = graph_of(
        "input: {channels: 3, size: 8}\nlayers:\n"
        "  - {kind: conv, name: a, out: 4, kernel: 3}\n"
        "  - {kind: conv, name: dead, out: 4, kernel: 3}\n"
        "  - {kind: relu, inputs: a}\n",
        tmp_path,
    )
    assert g.unused() == ["dead"]


@pytest.mark.parametrize("spec", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.stem)
def test_examples_use_every_layer(spec: Path) -> None:
    from sepcalc.graph import build_graph
    from sepcalc.spec import load_spec

    assert build_graph(load_spec(spec)).unused() == []
