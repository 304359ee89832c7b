"""The normalization kinds against fvcore and torch's FlopCounterMode, on random layers.

As ``test_crosscheck_kinds``: 0-D (a flattened vector) to 3-D inputs, each drawn layer built as a
torch module; sepcalc's FLOPs under the matching preset, its parameters and its output shapes
must equal what each tool counts, layer by layer.
"""

from __future__ import annotations

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


CASES: dict[str, Any] = {"layernorm": layernorm}


@pytest.mark.parametrize("case", sorted(CASES), ids=sorted(CASES))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_norm_matches_fvcore_and_torch(case: str, data: st.DataObject) -> None:
    spec = data.draw(CASES[case](), label="spec")
    _agrees_with_both_tools(graph_of(spec), spec["layers"])
