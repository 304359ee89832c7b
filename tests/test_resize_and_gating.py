"""mul, add with broadcasting, and upsample by a scale, to a size or like a layer.

Costs are derived by hand beside each expectation; output sizes are checked against torch's own
(nn.Upsample, broadcasting) and every random layer against fvcore and FlopCounterMode. The
generic tests (spec model, buckets, torch counterpart and both tools on the declared examples,
symbolic view == exact count, docs tables) cover the kinds from their declarations.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sepcalc.conventions import DEFAULT, FVCORE
from sepcalc.errors import SpecError
from sepcalc.formulas.merge import broadcast
from sepcalc.formulas.reshape import scaled_size
from sepcalc.graph import Graph, build_graph
from sepcalc.spec import LoadedSpec, parse_yaml, validate
from tests.conftest import graph_of

Spec = dict[str, Any]


def build(spec: Spec) -> Graph:
    data, locator = parse_yaml(yaml.safe_dump(spec), "case.yaml")
    return build_graph(LoadedSpec(validate(data, locator), locator))


def network(channels: int, size: list[int], *layers: Spec) -> Spec:
    return {"name": "case", "input": {"channels": channels, "size": size}, "layers": list(layers)}


# --- mul and add: broadcasting ------------------------------------------------------------------

GATE = """
name: gate
input: {channels: 16, size: [8, 6]}
layers:
  - {kind: global_avg_pool, name: pool}
  - {kind: sigmoid, name: g}
  - {kind: mul, name: gated, inputs: [input, g]}
  - {kind: add, name: shifted, inputs: [g, gated]}
"""


def test_gate_multiplies_every_element_once(tmp_path: Path) -> None:
    graph = graph_of(GATE, tmp_path)
    gated, shifted = graph.nodes[-2], graph.nodes[-1]
    assert gated.output_shape == shifted.output_shape == (16, 8, 6)
    # x * sigmoid(pool(x)): one multiply per output element, 16 * 8 * 6 = 768; no parameters.
    assert gated.cost.elem_ops == 768
    assert gated.cost.activations == 768
    assert gated.cost.params == gated.cost.macs == 0
    # The C x 1 x 1 tensor first: the same broadcast, the same 768 adds.
    assert shifted.cost.elem_ops == 768
    # Counted as the default convention's element-wise ops (1 FLOP each), 0 under fvcore's
    # preset: fvcore lists aten::mul and aten::add as unsupported and counts them 0.
    assert DEFAULT.flops(gated.cost) == 768
    assert FVCORE.flops(gated.cost) == 0
    assert {b for b, _ in gated.parts} == {"mul"}


@pytest.mark.parametrize(
    ("shapes", "out", "ops"),
    [
        # Equal shapes: (n - 1) per output element, 2 * 4*5*5 = 200.
        ([(4, 5, 5)] * 3, (4, 5, 5), 200),
        # Two gates first: their product is 4 x 1 x 1 (4 ops), then 4 x 5 x 5 (100 ops).
        ([(4, 1, 1), (4, 1, 1), (4, 5, 5)], (4, 5, 5), 4 + 100),
        # A spatial map (1 x 5 x 5) times a channel gate (4 x 1 x 1): the outer product, 100.
        ([(1, 5, 5), (4, 1, 1)], (4, 5, 5), 100),
        # A row (3 x 1 x 7) and a column (3 x 2 x 1), then a full map: 42 + 42.
        ([(3, 1, 7), (3, 2, 1), (3, 2, 7)], (3, 2, 7), 42 + 42),
    ],
    ids=["equal", "gates-first", "outer", "row-column"],
)
def test_broadcast_folds_left_to_right(
    shapes: list[tuple[int, ...]], out: tuple[int, ...], ops: int
) -> None:
    inputs = [f"b{j}" for j in range(len(shapes))]
    branches = [
        {"kind": "adaptive_avg_pool", "name": name, "size": list(shape[1:]), "inputs": "input"}
        for name, shape in zip(inputs, shapes, strict=True)
    ]
    channels = max(s[0] for s in shapes)
    slices = []
    for j, shape in enumerate(shapes):  # a 1-channel tensor is a slice of the pooled one
        if shape[0] != channels:
            slices.append({"kind": "slice", "name": f"s{j}", "stop": shape[0], "inputs": inputs[j]})
            inputs[j] = f"s{j}"
    for kind in ("mul", "add"):
        spec = network(channels, [10, 14], *branches, *slices, {"kind": kind, "inputs": inputs})
        node = build(spec).nodes[-1]
        assert node.output_shape == out
        assert node.cost.elem_ops == ops


def test_broadcast_refuses_shapes_that_do_not_broadcast() -> None:
    with pytest.raises(Exception, match="sizes must be equal or 1"):
        broadcast([(4, 5, 5), (4, 5, 3)])
    with pytest.raises(Exception, match="different dimensions"):
        broadcast([(4, 5, 5), (4,)], "multiply")


@pytest.mark.torch
@settings(deadline=None)
@given(
    shape=st.lists(st.integers(1, 4), min_size=1, max_size=4),
    masks=st.lists(st.lists(st.booleans(), min_size=4, max_size=4), min_size=2, max_size=4),
)
def test_broadcast_is_torchs_when_every_size_is_equal_or_one(
    shape: list[int], masks: list[list[bool]]
) -> None:
    torch = pytest.importorskip("torch")
    shapes = [tuple(1 if m else n for n, m in zip(shape, mask, strict=False)) for mask in masks]
    assert broadcast(shapes) == tuple(torch.broadcast_shapes(*shapes))


# --- upsample: output sizes -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "scale", "size"),
    [
        (7, 2, 14),
        (7, Fraction(3, 2), 10),  # floor(10.5)
        (9, Fraction(1, 2), 4),  # floor(4.5): a downscale
        (30, Fraction(1, 3), 10),  # float(1/3) * 30 is exactly 10.0 in double precision
        # torch computes 100 * 0.29 in double precision: 28.999999999999996, so 28 (not 29).
        (100, Fraction(29, 100), 28),
        (100, Fraction(7, 10), 70),  # 70.00000000000001
    ],
    ids=["integer", "one-and-a-half", "half", "third", "torch-double", "over"],
)
def test_scaled_size_is_torchs(n: int, scale: Fraction | int, size: int) -> None:
    assert scaled_size(n, scale) == size


@pytest.mark.torch
@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(10, 150),  # n * 0.1 >= 1: torch refuses an empty output
    hundredths=st.integers(10, 400),
    mode=st.sampled_from(["nearest", "bilinear"]),
)
def test_scaled_size_matches_nn_upsample(n: int, hundredths: int, mode: str) -> None:
    torch = pytest.importorskip("torch")
    scale = Fraction(hundredths, 100)  # as YAML's 0.29 reaches sepcalc: exactly 29/100
    kwargs = {} if mode == "nearest" else {"align_corners": False}
    up = torch.nn.Upsample(scale_factor=(float(scale), 1.0), mode=mode, **kwargs)
    out = up(torch.empty(1, 1, n, 3, device="meta"))
    assert out.shape[2] == scaled_size(n, scale)


RESIZE = """
name: resize
input: {channels: 4, size: [12, 10]}
blocks:
  down_up:
    layers:
      - {kind: conv, name: down, out: 4, kernel: 3, stride: 2}
      - {kind: upsample, name: up, like: input, mode: bilinear}
layers:
  - {kind: conv, name: low, out: 8, kernel: 3, stride: 2}
  - {kind: conv, name: high, out: 8, kernel: 3, stride: 2}
  - {kind: upsample, name: to_low, like: low, mode: bilinear}
  - {kind: upsample, name: sized, size: [5, 7], inputs: high}
  - {kind: upsample, name: scaled, scale: [1.5, 0.5], inputs: high}
  - {kind: upsample, name: default, inputs: high}
  - {block: down_up, name: block, inputs: input}
"""


def test_upsample_sizes(tmp_path: Path) -> None:
    graph = graph_of(RESIZE, tmp_path)
    by_name = {n.name: n for n in graph.nodes}
    assert by_name["high"].output_shape == (8, 3, 3)
    # like: low takes low's 6 x 5; the referenced layer joins the node's inputs, after x.
    assert by_name["to_low"].output_shape == (8, 6, 5)
    assert by_name["to_low"].inputs == ("high", "low")
    assert by_name["to_low"].attrs["like"] == "low"
    assert by_name["sized"].output_shape == (8, 5, 7)
    assert by_name["scaled"].output_shape == (8, 4, 1)  # floor(3 * 1.5), floor(3 * 0.5)
    assert by_name["default"].output_shape == (8, 6, 6)  # no scale, size or like: x2
    # Inside a block, `input` is the block's input: back to 12 x 10.
    assert by_name["block.up"].output_shape == (4, 12, 10)
    assert by_name["block.up"].inputs == ("block.down", "input")
    # Bilinear: 4 neighbours per output element, 8 * 6 * 5 = 240 outputs.
    assert by_name["to_low"].cost.upsample_ops == 4 * 240
    # low is taken by to_low alone, through like: it is used (a traced module keeps it).
    assert graph.unused() == ["to_low", "sized", "scaled", "default"]


def test_like_a_later_layer_or_itself_is_an_error(tmp_path: Path) -> None:
    spec = RESIZE.replace("like: low", "like: sized")
    with pytest.raises(SpecError) as err:
        graph_of(spec, tmp_path)
    # Pointed at the like key's value (line 12), naming where sized is (line 13).
    assert "spec.yaml:12:42: layer 'sized' is defined later (line 13)" in str(err.value)
    spec = RESIZE.replace("like: low", "like: to_low")
    with pytest.raises(SpecError, match="takes its own output"):
        graph_of(spec, tmp_path)


# --- every random layer against fvcore and FlopCounterMode ---------------------------------------

Draw = Any


@st.composite
def gating(draw: Draw) -> Spec:
    """mul or add of the input and a pooled copy of it that is 1 in some dimensions."""
    dims = draw(st.integers(1, 3))
    size = [draw(st.integers(1, 5)) for _ in range(dims)]
    pooled = [draw(st.sampled_from([1, n])) for n in size]
    pool = {"kind": "adaptive_avg_pool", "name": "p", "size": pooled, "inputs": "input"}
    act = {"kind": "sigmoid", "name": "g"}
    inputs = draw(st.permutations(["input", "g", *(["p"] * draw(st.integers(0, 1)))]))
    layer = {"kind": draw(st.sampled_from(["mul", "add"])), "inputs": list(inputs)}
    return network(draw(st.integers(1, 4)), size, pool, act, layer)


@st.composite
def resize(draw: Draw) -> Spec:
    """upsample by a fractional scale, to a size, or like an earlier (pooled) layer."""
    dims = draw(st.integers(1, 3))
    mode = draw(st.sampled_from(["nearest", {1: "linear", 2: "bilinear", 3: "trilinear"}[dims]]))
    size = [draw(st.integers(2, 6)) for _ in range(dims)]
    how = draw(st.sampled_from(["scale", "size", "like"]))
    layers: list[Spec] = []
    layer: Spec = {"kind": "upsample", "mode": mode}
    if how == "scale":
        layer["scale"] = [draw(st.sampled_from([0.5, 1, 1.5, 2, 2.25, 3])) for _ in range(dims)]
    elif how == "size":
        layer["size"] = [draw(st.integers(1, 7)) for _ in range(dims)]
    else:
        small = [draw(st.integers(1, n)) for n in size]
        layers.append({"kind": "adaptive_avg_pool", "name": "small", "size": small})
        layer |= {"like": "input", "inputs": "small"}
    return network(draw(st.integers(1, 3)), size, *layers, layer)


@pytest.mark.torch
@pytest.mark.parametrize("case", ["gating", "resize"])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_matches_fvcore_and_torch(case: str, data: st.DataObject) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("fvcore")
    from sepcalc.analysis import analyze
    from sepcalc.crosscheck.compare import TOOL_CONVENTIONS, compare
    from sepcalc.crosscheck.count import COUNTERS

    spec = data.draw({"gating": gating, "resize": resize}[case](), label="spec")
    graph = build(spec)
    for tool, count in COUNTERS.items():
        check = compare(analyze(graph, TOOL_CONVENTIONS[tool]), count(graph))
        assert check.agrees, f"{tool} differs on {spec['layers']}"
        assert check.unattributed == 0
