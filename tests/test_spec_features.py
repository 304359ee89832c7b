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
