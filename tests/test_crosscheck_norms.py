"""Norms and layer scale against fvcore and torch's FlopCounterMode, on random layers.

As ``test_crosscheck_kinds``: 0-D (a flattened vector) to 3-D inputs, each drawn layer built as a
torch module; sepcalc's FLOPs under the matching preset, its parameters and its output shapes
must equal what each tool counts, layer by layer.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("torch")
pytest.importorskip("fvcore")

from tests.test_crosscheck_kinds import (
    MAX_SIZE,
    Draw,
    Spec,
    _agrees_with_both_tools,
    graph_of,
    network,
)

pytestmark = pytest.mark.torch


def _input(draw: Draw) -> tuple[list[int], list[Spec]]:
    """A 0-D (flattened) to 3-D input size, and the flatten layer a 0-D input needs."""
    dims = draw(st.integers(0, 3))
    size = [draw(st.integers(1, MAX_SIZE[max(dims, 1)])) for _ in range(max(dims, 1))]
    return size, [{"kind": "flatten"}] if dims == 0 else []


@st.composite
def layernorm(draw: Draw) -> Spec:
    channels = draw(st.integers(1, 8))
    size, first = _input(draw)
    layer = {"kind": "layernorm", "affine": draw(st.booleans())}
    return network(channels, size, *first, layer)


@st.composite
def groupnorm(draw: Draw) -> Spec:
    groups = draw(st.integers(1, 4))
    channels = groups * draw(st.integers(1, 3))
    size, first = _input(draw)
    if channels == groups and math.prod(size) == 1:  # NB: torch refuses one value per group
        channels *= 2
    layer = {"kind": "groupnorm", "groups": groups, "affine": draw(st.booleans())}
    return network(channels, size, *first, layer)


def _norm(draw: Draw, channels: int, positions: int, prefix: str = "") -> Spec:
    """A fused layernorm or groupnorm (its group count divides ``channels``).

    NB: torch refuses a group of one value (``group_norm`` needs more than one value per
    group, even in eval mode); sepcalc counts it, so the draw avoids it.
    """
    norm = draw(st.sampled_from(["layernorm", "groupnorm"]))
    divisors = [d for d in range(1, channels + 1) if channels % d == 0 and channels * positions > d]
    if norm == "layernorm" or not divisors:
        return {f"{prefix}norm": "layernorm"}
    return {f"{prefix}norm": norm, f"{prefix}norm_groups": draw(st.sampled_from(divisors))}


@st.composite
def fused(draw: Draw) -> Spec:
    """A conv-family or linear layer with a fused layernorm or groupnorm (and an activation)."""
    channels, out = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    size, first = _input(draw)
    kinds = ["linear"] if first else ["conv", "depthwise", "pointwise", "separable", "linear"]
    kind = draw(st.sampled_from(kinds))
    layer: Spec = {"kind": kind, "act": draw(st.sampled_from([None, "relu", "gelu"]))}
    if kind != "depthwise":
        layer["out"] = out
    if kind in ("conv", "depthwise", "separable"):
        layer["kernel"] = draw(st.integers(1, 3))
    positions = 1 if first else math.prod(size)  # conv layers keep the size ('same')
    if kind == "separable":
        layer |= _norm(draw, channels, positions, "mid_")
    layer |= _norm(draw, channels if kind == "depthwise" else out, positions)
    return network(channels, size, *first, layer)


@st.composite
def layer_scale(draw: Draw) -> Spec:
    size, first = _input(draw)
    return network(draw(st.integers(1, 8)), size, *first, {"kind": "layer_scale"})


CASES: dict[str, Any] = {
    "layernorm": layernorm,
    "groupnorm": groupnorm,
    "fused": fused,
    "layer_scale": layer_scale,
}


@pytest.mark.parametrize("case", sorted(CASES), ids=sorted(CASES))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_norm_matches_fvcore_and_torch(case: str, data: st.DataObject) -> None:
    spec = data.draw(CASES[case](), label="spec")
    _agrees_with_both_tools(graph_of(spec), spec["layers"])
