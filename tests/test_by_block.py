"""The report by block (``analyze --depth``): the network cut at a depth, in sepcalc.analysis.

Hand-derived rows of the zoo (the derivation beside each number), the rules of a cut (repeats,
named calls, a block's inputs and output), and the invariant with hypothesis: over random nested
specs, the rows of every depth partition the layers in spec order and sum exactly to the totals.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sepcalc.analysis import ROLES, Analysis, BlockRow, LayerRow, Row, analyze, by_block
from sepcalc.conventions import get_convention
from sepcalc.graph import Graph, build_graph
from sepcalc.spec.loader import LoadedSpec, parse_yaml, validate
from tests.conftest import graph_of


def graph_from(spec: dict[str, Any]) -> Graph:
    data, locator = parse_yaml(json.dumps(spec), "<spec>")
    return build_graph(LoadedSpec(validate(data, locator), locator))


def names(rows: tuple[Row, ...]) -> list[str]:
    return [r.name for r in rows]


# --- the zoo, by hand ----------------------------------------------------------------------------


def test_mobilenet_v2_depth_1_is_a_row_per_stage(example: Callable[..., Graph]) -> None:
    a = analyze(example("mobilenet_v2"), depth=1)
    assert names(a.by_block) == [
        "conv1", *(f"stage{i}" for i in range(1, 8)), "conv_last", "pool", "flatten1",
        "dropout1", "fc",
    ]  # fmt: skip
    stage2 = a.by_block[2]
    assert isinstance(stage2, BlockRow)
    assert (stage2.block, stage2.level, stage2.kind) == ("stage", 1, "block")
    # Table 2 row "t=6, c=24, n=2, s=2" on 16x112x112, every conv with BN (2 params/channel):
    #   bottleneck1: expand 16->96 (1536 + 192), dw 3x3 96 (864 + 192), project 96->24 (2304 + 48)
    #   bottleneck2: expand 24->144 (3456 + 288), dw 144 (1296 + 288), project 144->24 (3456 + 48),
    #                and the residual add (stride 1, 24 == 24): 7 layers.
    assert stage2.layers == 7
    assert stage2.counts.params == 1728 + 1056 + 2352 + 3744 + 1584 + 3504 == 13_968
    assert stage2.counts.params_by_role["norm"] == 192 + 192 + 48 + 288 + 288 + 48
    #   MACs: 16*96*112*112 + 96*9*56*56 + 96*24*56*56 + (24*144 + 144*9 + 144*24) * 56*56
    first = 16 * 96 * 112 * 112 + (96 * 9 + 96 * 24) * 56 * 56
    assert stage2.counts.macs == first + (24 * 144 + 144 * 9 + 144 * 24) * 56 * 56 == 54_942_720
    assert stage2.inputs == ("stage1.bottleneck1.project",)
    assert stage2.output_shape == (24, 56, 56)
    # Its 24x56x56 output is written by 6 layers (BN and ReLU6 in place) and the add:
    assert stage2.counts.activations == 96 * 112 * 112 + (96 + 24 + 144 + 144 + 24 + 24) * 56 * 56


def test_mobilenet_v2_depth_2_is_a_row_per_bottleneck(example: Callable[..., Graph]) -> None:
    a = analyze(example("mobilenet_v2"), depth=2)
    blocks = [r for r in a.by_block if isinstance(r, BlockRow)]
    # Table 2's n column: 1 + 2 + 3 + 4 + 3 + 3 + 1 = 17 bottlenecks.
    assert len(blocks) == 17
    assert {r.block for r in blocks} == {"bottleneck"}
    assert names(a.by_block)[:4] == [
        "conv1", "stage1.bottleneck1", "stage2.bottleneck1", "stage2.bottleneck2"
    ]  # fmt: skip
    # t = 1: no expansion, so the first bottleneck is dw + project only; a strided one has no
    # residual (3 layers), a repeated one has it (4 layers).
    assert [r.layers for r in blocks[:4]] == [2, 3, 4, 3]
    assert all(r.level == 2 for r in blocks)
    assert [r.level for r in a.by_block if isinstance(r, LayerRow)] == [1] * 6


def test_resnet50_depth_1_matches_torchvision_stages(example: Callable[..., Graph]) -> None:
    a = analyze(example("resnet50"), depth=1)
    rows = {r.name: r for r in a.by_block}
    assert list(rows) == [
        "conv1", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool", "flatten1", "fc"
    ]  # fmt: skip
    # torchinfo's summary of torchvision's resnet50 (Sequential layer1 ... layer4), and conv1 +
    # bn1 = 9,408 + 128; layer1 by hand: the first bottleneck 64*64 + 9*64*64 + 64*256 and a
    # 64*256 downsample, BN on 64 + 64 + 256 + 256 channels (75,008); two more of
    # 256*64 + 9*64*64 + 64*256 and BN on 64 + 64 + 256 channels (70,400 each).
    assert rows["conv1"].counts.params == 9408 + 128
    assert rows["layer1"].counts.params == 75_008 + 2 * 70_400 == 215_808
    assert rows["layer2"].counts.params == 1_219_584
    assert rows["layer3"].counts.params == 7_098_368
    assert rows["layer4"].counts.params == 14_964_736
    assert rows["fc"].counts.params == 2048 * 1000 + 1000
    # All at 56x56: (4096 + 36864 + 16384 + 16384) + 2 * (16384 + 36864 + 16384) MACs a pixel
    assert rows["layer1"].counts.macs == (73_728 + 2 * 69_632) * 56 * 56 == 667_942_912
    # A bottleneck is conv1-3, the add and the relu; the first of a stage has a downsample too.
    assert [rows[f"layer{i}"].layers for i in range(1, 5)] == [n * 5 + 1 for n in (3, 4, 6, 3)]
    assert rows["layer4"].output_shape == (2048, 7, 7)


def test_mobilenet_v1_each_repeat_is_its_own_row(example: Callable[..., Graph]) -> None:
    # Table 1: conv1, 13 depthwise separable blocks (the "5x" row is `repeat: 5`), pool, fc.
    a = analyze(example("mobilenet_v1"), compare_standard=True, depth=1)
    assert names(a.by_block) == [
        "conv1", *(f"dws{i}" for i in range(1, 14)), "pool", "flatten1", "fc"
    ]  # fmt: skip
    dws1 = a.by_block[1]
    # 3x3 depthwise on 32x112x112 + 1x1 from 32 to 64: (9 + 64) * 32 * 112 * 112 MACs
    assert dws1.counts.macs == (9 + 64) * 32 * 112 * 112 == 29_302_784
    # Its standard-conv equivalent (Table 4, "Conv MobileNet"): one 3x3 conv from 32 to 64,
    # 9 * 32 * 64 * 112 * 112 MACs; the ratio is the paper's eq. 5, 1/N + 1/D_K^2 = 1/64 + 1/9.
    assert a.standard is not None
    std = {r.name: r for r in a.standard.by_block}
    std1 = std["dws1"]
    assert isinstance(std1, BlockRow)
    assert std1.counts.macs == 9 * 32 * 64 * 112 * 112
    assert Fraction(dws1.counts.macs, std1.counts.macs) == Fraction(1, 64) + Fraction(1, 9)
    assert std1.replaced == 2  # the depthwise layer replaced, its pointwise layer fused
    assert isinstance(std["conv1"], LayerRow)
    assert sum(r.counts.macs for r in a.standard.by_block) == 4_867_293_184  # Table 4: 4866M


# --- the rules of a cut ------------------------------------------------------------------------

NESTED = """
input: {channels: 4, size: 8}
blocks:
  unit:
    params: [c]
    layers:
      - {kind: pointwise, name: pw, out: c}
      - {kind: relu}
  res:
    layers:
      - {block: unit, c: in_channels, repeat: 2}
      - {kind: add, inputs: [input, unit2], name: sum}
layers:
  - {kind: conv, name: stem, out: 4, kernel: 3, padding: 1}
  - {block: res, name: r, repeat: 2}
  - {block: res}
  - {kind: relu, repeat: 2}
  - {kind: relu, name: last, repeat: 2}
"""


def test_repeats_named_calls_inputs_and_outputs(tmp_path: Path) -> None:
    g = graph_of(NESTED, tmp_path)
    one = analyze(g, depth=1).by_block
    # A named call repeated: r.0, r.1; an unnamed call: res1; an unnamed layer repeated:
    # relu1, relu2 (auto names); a named layer repeated: last.0, last.1. Each its own row.
    assert names(one) == ["stem", "r.0", "r.1", "res1", "relu1", "relu2", "last.0", "last.1"]
    r0 = one[1]
    assert isinstance(r0, BlockRow)
    assert (r0.block, r0.layers) == ("res", 5)  # 2 units of pw + relu, then the add
    # The add takes the block's input (stem) besides its own layers: stem is its one input.
    assert r0.inputs == ("stem",)
    assert r0.output_shape == (4, 8, 8)
    assert one[2].inputs == ("r.0.sum",)
    # pw: 4*4 weights and 4*4*64 MACs, twice per res; relu and add have no params
    assert r0.counts.params == 2 * 16
    assert r0.counts.macs == 2 * 16 * 64
    two = analyze(g, depth=2).by_block
    assert names(two) == [
        "stem", "r.0.unit1", "r.0.unit2", "r.0.sum", "r.1.unit1", "r.1.unit2", "r.1.sum",
        "res1.unit1", "res1.unit2", "res1.sum", "relu1", "relu2", "last.0", "last.1",
    ]  # fmt: skip
    unit = two[1]
    assert isinstance(unit, BlockRow)
    assert (unit.block, unit.level, unit.layers, unit.inputs) == ("unit", 2, 2, ("stem",))
    assert [r.level for r in two if isinstance(r, LayerRow)] == [1, 2, 2, 2, 1, 1, 1, 1]


def test_past_the_deepest_block_the_rows_are_the_layers(tmp_path: Path) -> None:
    a = analyze(graph_of(NESTED, tmp_path), depth=3)
    assert a.by_block == a.layers
    assert [r.level for r in a.layers][:4] == [1, 3, 3, 3]  # stem, r.0.unit1.{pw, relu1}, ...


def test_a_block_name_with_a_dot_or_digits_is_grouped_by_the_graph_not_the_names(
    tmp_path: Path,
) -> None:
    # Auto-named instances of block "a.b" are a.b1, a.b2; of block "7": 71. Splitting layer
    # names at dots would get these wrong; the graph records each layer's instances.
    text = """
input: {channels: 2, size: 4}
blocks:
  a.b: {layers: [{kind: relu}, {kind: relu}]}
  "7": {layers: [{block: a.b}]}
layers:
  - {block: a.b}
  - {block: "7"}
"""
    g = graph_of(text, tmp_path)
    assert [n.name for n in g.nodes] == [
        "a.b1.relu1", "a.b1.relu2", "71.a.b1.relu1", "71.a.b1.relu2"
    ]  # fmt: skip
    one = analyze(g, depth=1).by_block
    assert [(r.name, r.block, r.layers) for r in one if isinstance(r, BlockRow)] == [
        ("a.b1", "a.b", 2),
        ("71", "7", 2),
    ]
    two = analyze(g, depth=2).by_block
    assert names(two) == ["a.b1.relu1", "a.b1.relu2", "71.a.b1"]


def test_a_block_that_expands_to_nothing_has_no_row(tmp_path: Path) -> None:
    text = """
input: {channels: 2, size: 4}
blocks:
  maybe: {params: [keep], layers: [{kind: relu, when: keep}]}
layers:
  - {block: maybe, keep: false}
  - {block: maybe, keep: true}
"""
    assert names(analyze(graph_of(text, tmp_path), depth=1).by_block) == ["maybe2"]


def test_depth_must_be_positive(tmp_path: Path) -> None:
    g = graph_of(NESTED, tmp_path)
    with pytest.raises(ValueError, match="depth must be at least 1, got 0"):
        by_block(g, 0, analyze(g).layers, get_convention("default"))


def test_without_a_depth_there_are_no_block_rows(tmp_path: Path) -> None:
    a = analyze(graph_of(NESTED, tmp_path))
    assert (a.depth, a.by_block) == (None, ())


# --- the invariant -------------------------------------------------------------------------------

LAYERS = [
    {"kind": "relu"},
    {"kind": "pointwise", "out": 3, "norm": "batchnorm", "act": "relu"},
    {"kind": "conv", "out": 2, "kernel": 3, "padding": 1, "bias": True},
    {"kind": "depthwise", "kernel": 3, "padding": 1},
    {"kind": "separable", "out": 2, "kernel": 3, "padding": 1},
]
BLOCK_NAMES = ["b0", "b.1", "2", "b3"]
"""Block j may call the blocks before it; two names are ones a name parser would misread."""


@st.composite
def entries(draw: st.DrawFn, callable_blocks: list[str], scope: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for index in range(draw(st.integers(1, 3))):
        if callable_blocks and draw(st.booleans()):
            entry: dict[str, Any] = {"block": draw(st.sampled_from(callable_blocks))}
        else:
            entry = dict(draw(st.sampled_from(LAYERS)))
        if draw(st.booleans()):
            entry["name"] = f"{scope}n{index}"
        repeat = draw(st.integers(0, 3))
        if repeat != 1:
            entry["repeat"] = repeat
        if draw(st.integers(0, 4)) == 0:
            entry["when"] = "i != 1"
        out.append(entry)
    return out


@st.composite
def nested_specs(draw: st.DrawFn) -> dict[str, Any]:
    count = draw(st.integers(0, len(BLOCK_NAMES)))
    blocks = {
        BLOCK_NAMES[j]: {"layers": draw(entries(BLOCK_NAMES[:j], "in"))} for j in range(count)
    }
    return {
        "input": {"channels": 2, "size": 6},
        "blocks": blocks,
        "layers": draw(entries(BLOCK_NAMES[:count], "top")),
    }


def totals(rows: tuple[Row, ...]) -> dict[str, int]:
    summed = {
        "params": sum(r.counts.params for r in rows),
        "macs": sum(r.counts.macs for r in rows),
        "flops": sum(r.counts.flops for r in rows),
        "activations": sum(r.counts.activations for r in rows),
    }
    for role in ROLES:
        summed[role] = sum(r.counts.params_by_role[role] for r in rows)
    return summed


def network_totals(a: Analysis) -> dict[str, int]:
    t = a.totals
    return {
        "params": t.params,
        "macs": t.macs,
        "flops": t.flops,
        "activations": t.activations,
        **t.params_by_role,
    }


@settings(max_examples=60, deadline=None)
@given(nested_specs(), st.sampled_from(["default", "fvcore"]))
def test_the_rows_of_every_depth_partition_the_layers_and_sum_to_the_totals(
    spec: dict[str, Any], convention: str
) -> None:
    graph = graph_from(spec)
    deepest = max((len(n.within) for n in graph.nodes), default=0)
    for depth in range(1, deepest + 2):
        a = analyze(graph, get_convention(convention), compare_standard=True, depth=depth)
        for result in (a, a.standard):
            assert result is not None
            assert totals(result.by_block) == network_totals(result)
            # In spec order, every layer in exactly one row: the row of its instance `depth`
            # levels down, or its own row when it is in fewer blocks.
            covered: list[str] = []
            for row in result.by_block:
                if isinstance(row, BlockRow):
                    assert row.level == depth
                    members = [
                        n for n in graph.nodes if len(n.within) >= depth
                        and n.within[depth - 1].name == row.name
                    ]  # fmt: skip
                    assert row.layers == len(members) >= 1
                    assert all(n.name.startswith(row.name + ".") for n in members)
                    assert row.block == members[0].within[depth - 1].block
                    # The standard-conv version may fuse a block's last depthwise with the
                    # pointwise after it: its shape is that layer's in this analysis.
                    shapes = {r.name: tuple(r.output_shape) for r in result.layers}
                    assert tuple(row.output_shape) == shapes[members[-1].name]
                    covered += [n.name for n in members]
                else:
                    assert row.level <= depth
                    covered.append(row.name)
            assert covered == [n.name for n in graph.nodes]
    if graph.nodes:
        past = analyze(graph, depth=deepest + 1)
        assert past.by_block == past.layers
