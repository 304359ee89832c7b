"""A convention's FLOPs are its weights times the operation counts, for every preset."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sepcalc.conventions import PRESETS, WEIGHTS, Convention
from sepcalc.cost import OPERATIONS, Cost


def test_every_operation_count_has_a_weight_and_a_description() -> None:
    assert set(WEIGHTS) == set(OPERATIONS)
    assert set(WEIGHTS) == set(Cost._fields) - {"weight", "bias", "norm", "activations"}


@pytest.mark.parametrize("convention", PRESETS.values(), ids=list(PRESETS))
@given(
    counts=st.lists(st.integers(0, 10**6), min_size=len(Cost._fields), max_size=len(Cost._fields))
)
def test_flops_are_the_weighted_operation_counts(convention: Convention, counts: list[int]) -> None:
    cost = Cost(*counts)
    expected = sum(convention.weight(op) * getattr(cost, op) for op in OPERATIONS)
    assert convention.flops(cost) == expected
