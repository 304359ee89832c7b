"""Spec features of issue 10: names carried by block parameters (`act: a`), `when:` with 0/1,
and input lists whose length depends on a variable (`inputs: {each: ...}`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sepcalc.errors import SpecError
from tests.conftest import graph_of

# --- a block parameter carrying a name ----------------------------------------------------------

NAMED = """
input: {channels: 8, size: 8}
blocks:
  unit:
    params: {out: null, act: relu, pad: same}
    layers:
      - {kind: conv, out: out, kernel: 3, padding: pad, act: act}
  pair:          # passes its word on to a nested block, whole
    params: {first: relu6, second: null}
    layers:
      - {block: unit, out: 8, act: first}
      - {block: unit, out: 8, act: "second if in_channels == 8 else first"}
layers:
  - {block: unit, out: 8}
  - {block: unit, out: 8, act: hardswish, pad: valid}
  - {block: pair, second: gelu}
"""


def test_a_block_parameter_carries_a_name(tmp_path: Path) -> None:
    g = graph_of(NAMED, tmp_path)
    acts = {n.name: (n.attrs["act"], n.output_shape) for n in g.nodes}
    assert acts == {
        "unit1.conv1": ("relu", (8, 8, 8)),  # the default, a name
        "unit2.conv1": ("hardswish", (8, 6, 6)),  # padding valid: 8 - 3 + 1
        "pair1.unit1.conv1": ("relu6", (8, 6, 6)),
        "pair1.unit2.conv1": ("gelu", (8, 6, 6)),
    }
    # hardswish counts its FLOPs where relu counts its own: the name reached the formula.
    assert g.nodes[1].cost != g.nodes[0].cost


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ("{block: unit, out: 8, act: hardswsh}", "did you mean 'hardswish'?"),
        ("{block: unit, out: 8, pad: smae}", "'smae' is not one of 'same' or 'valid'"),
        ("{block: unit, out: relu}", "layers.0.out: undefined variable 'relu'"),
        ("{block: unit, out: 8, act: 2}", "'act' is 2, not one of 'relu'"),
    ],
    ids=["typo", "per-dim choice", "word as a number", "number as a name"],
)
def test_a_wrong_name_is_an_error_at_the_call(tmp_path: Path, call: str, message: str) -> None:
    spec = NAMED.replace("  - {block: unit, out: 8}\n", f"  - {call}\n")
    with pytest.raises(SpecError) as info:
        graph_of(spec, tmp_path)
    assert message in str(info.value)
    line = next(i for i, text in enumerate(spec.splitlines(), 1) if call in text)
    at = "spec.yaml:" + str(line if "is 2" not in message else 7)  # a number: at the key
    assert at in str(info.value)


# --- when: 0/1 -----------------------------------------------------------------------------------

WHEN = """
vars: {se: 1, skip: 0}
input: {channels: 8, size: 8}
layers:
  - {kind: conv, out: 8, kernel: 3, name: a}
  - {kind: squeeze_excite, squeeze: 2, when: se}
  - {kind: add, inputs: [input, a], when: skip}
  - {kind: relu, when: "1 if se + skip == 1 else 0"}
  - {kind: relu6, when: 0}
  - {kind: sigmoid, when: true}
"""


@pytest.mark.parametrize(
    ("overrides", "kinds"),
    [
        ({}, ["conv", "squeeze_excite", "relu", "sigmoid"]),
        ({"se": 0, "skip": 1}, ["conv", "add", "relu", "sigmoid"]),
        ({"se": 1, "skip": 1}, ["conv", "squeeze_excite", "add", "sigmoid"]),
        ({"se": True}, ["conv", "squeeze_excite", "relu", "sigmoid"]),  # booleans still work
    ],
    ids=["defaults", "skip", "both", "boolean"],
)
def test_when_takes_0_and_1(tmp_path: Path, overrides: dict[str, int], kinds: list[str]) -> None:
    assert [n.kind for n in graph_of(WHEN, tmp_path, overrides).nodes] == kinds


@pytest.mark.parametrize(
    ("when", "message"),
    [
        ("2", "expected true or false, or 0 or 1, got 2"),
        ('"se / 2"', "expected true or false, or 0 or 1, got 0.5"),
        ('"-1"', "expected true or false, or 0 or 1, got -1"),
    ],
)
def test_when_refuses_other_numbers_at_the_key(tmp_path: Path, when: str, message: str) -> None:
    spec = WHEN.replace("when: 0}", f"when: {when}}}")
    with pytest.raises(SpecError) as info:
        graph_of(spec, tmp_path)
    assert f"spec.yaml:9:25: layers.4.when: {message}" in str(info.value)


# --- inputs: {each: name} ------------------------------------------------------------------------

# MixNet's mixed depthwise conv (Tan & Le 2019; timm's MixedConv2d): the channels split into n
# groups (timm's _split_channels: c // n each, the first takes the remainder), group i convolved
# with a (3 + 2i) x (3 + 2i) depthwise kernel, the groups concatenated. n varies by block.
MIXNET = """
vars: {c: 32, n: 3}
input: {channels: c, size: 8}
blocks:
  group:
    params: [start, stop, k]
    layers:
      - {kind: slice, start: start, stop: stop, inputs: input}
      - {kind: depthwise, kernel: k}
  mixconv:
    params: [n]
    layers:
      - block: group
        name: g
        repeat: n
        inputs: input
        start: "0 if i == 0 else i * (in_channels // n) + in_channels % n"
        stop: "(i + 1) * (in_channels // n) + in_channels % n"
        k: "3 + 2 * i"
      - {kind: concat, inputs: {each: g}}
layers:
  - {block: mixconv, n: n}
  - {kind: add, inputs: [input, mixconv1]}
"""


@pytest.mark.parametrize(
    ("c", "n", "splits", "params"),
    [
        (32, 3, [12, 10, 10], 12 * 9 + 10 * 25 + 10 * 49),  # 848
        (30, 3, [10, 10, 10], 10 * 9 + 10 * 25 + 10 * 49),  # 830
        (32, 2, [16, 16], 16 * 9 + 16 * 25),  # 544
        (32, 4, [8, 8, 8, 8], 8 * (9 + 25 + 49 + 81)),  # 1312
        (32, 1, [32], 32 * 9),  # one group: the concat passes it through
    ],
    ids=["32/3", "30/3", "32/2", "32/4", "32/1"],
)
def test_concat_over_every_repeat(
    tmp_path: Path, c: int, n: int, splits: list[int], params: int
) -> None:
    g = graph_of(MIXNET, tmp_path, {"c": c, "n": n})
    concat = next(node for node in g.nodes if node.kind == "concat")
    assert concat.inputs == tuple(f"mixconv1.g.{i}.depthwise1" for i in range(n)) or n == 1
    assert [s[0] for s in concat.input_shapes] == splits
    assert concat.output_shape == (c, 8, 8)
    assert g.total().params == params
    assert g.total().macs == params * 8 * 8  # depthwise, stride 1: k*k MACs per output element


def test_each_takes_a_plain_layer_and_mixes_with_names(tmp_path: Path) -> None:
    g = graph_of(
        """
input: {channels: 4, size: 2}
layers:
  - {kind: conv, out: 4, kernel: 1, name: b, repeat: 3, inputs: input, when: "i != 1"}
  - {kind: conv, out: 4, kernel: 1, name: one, inputs: input}
  - {kind: add, inputs: [input, {each: b}, {each: one}]}
""",
        tmp_path,
    )
    assert g.nodes[-1].inputs == ("input", "b.0", "b.2", "one")
    assert g.nodes[-1].cost.elem_ops == 3 * 4 * 2 * 2  # a 4-way add: 3 adds per element
