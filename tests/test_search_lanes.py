"""sepcalc.search.lanes: a call with lanes computes, in each lane, what a call with that lane's
values computes, or refuses; it never returns a wrong value.

Checked by brute force against plain ints: random arithmetic and tests on random lanes, and the
shape rule and cost formula of every declared example of every kind at several input sizes at
once, against the graphs built at each size.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sepcalc.formulas import REGISTRY
from sepcalc.formulas.base import Example
from sepcalc.graph import example_graph
from sepcalc.search.lanes import Lanes, Refused, Varies, pack, unpack
from tests.kinds import EXAMPLE_IDS, EXAMPLES

# --- the arithmetic, lane by lane ---------------------------------------------------------------

ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "//": operator.floordiv,
    "%": operator.mod,
}
TESTS: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}

Program = list[tuple[str, str, int | str, int | str]]
"""Steps ``(op, test, left, right)``; an operand is a constant or a register (``r0`` is x,
``r1`` is y, ``r2``... the steps' results). ``op`` is arithmetic, or ``?``: ``left if
test(left, right) else right``."""


def run(program: Program, x: Any, y: Any) -> list[Any]:
    """Every step's result."""
    regs = [x, y]
    for op, test, left, right in program:
        a, b = (regs[int(r[1:])] if isinstance(r, str) else r for r in (left, right))
        regs.append((a if TESTS[test](a, b) else b) if op == "?" else ARITHMETIC[op](a, b))
    return regs[2:]


@st.composite
def programs(draw: st.DrawFn) -> Program:
    steps: Program = []
    for k in range(draw(st.integers(1, 6))):
        registers = st.sampled_from([f"r{j}" for j in range(k + 2)])
        operand = st.one_of(registers, st.integers(-5, 5))
        op = draw(st.sampled_from([*ARITHMETIC, "?"]))
        steps.append((op, draw(st.sampled_from(list(TESTS))), draw(operand), draw(operand)))
    return steps


Answer = tuple[str, Any]
"""("value", every step's result), or ("error", None): a division by 0."""


def alone(program: Program, x: int, y: int) -> Answer:
    try:
        return ("value", run(program, x, y))
    except ZeroDivisionError:
        return ("error", None)


def together(program: Program, xs: list[int], ys: list[int]) -> list[Answer]:
    """As the replay counts: all lanes at once, split where a test splits them, each lane alone
    where they are refused."""
    try:
        values = run(program, pack(xs), pack(ys))
    except Varies as exc:
        truth = exc.truth
    except Refused:  # // 0 or % 0 in some lane
        return [alone(program, x, y) for x, y in zip(xs, ys, strict=True)]
    except ZeroDivisionError:  # of plain ints, the same in every lane
        return [("error", None)] * len(xs)
    else:
        each = zip(*(unpack(v, len(xs)) for v in values), strict=True)
        return [("value", list(steps)) for steps in each]
    assert 0 < sum(truth) < len(xs)
    found: list[Answer] = [("", None)] * len(xs)
    for side in (True, False):
        lanes = [j for j, t in enumerate(truth) if t is side]
        answers = together(program, [xs[j] for j in lanes], [ys[j] for j in lanes])
        for j, answer in zip(lanes, answers, strict=True):
            found[j] = answer
    return found


@settings(max_examples=300)
@given(
    program=programs(),
    lanes=st.lists(st.tuples(st.integers(-20, 20), st.integers(-20, 20)), min_size=1, max_size=6),
)
def test_lanes_give_each_lane_its_own_answer(
    program: Program, lanes: list[tuple[int, int]]
) -> None:
    xs, ys = [x for x, _ in lanes], [y for _, y in lanes]
    assert together(program, xs, ys) == [alone(program, x, y) for x, y in lanes]


def test_a_test_the_lanes_agree_on_is_a_plain_answer() -> None:
    sizes = pack([7, 8, 9])
    assert isinstance(sizes, Lanes)
    assert (sizes > 1) is True
    assert (sizes == 10) is False
    assert bool(sizes) is True
    assert max(1, sizes) is sizes  # 1 < 7, 8 and 9 in every lane
    with pytest.raises(Varies) as split:
        _ = sizes % 2 == 0
    assert split.value.truth == (False, True, False)


@pytest.mark.parametrize(
    "refused",
    [
        lambda v: v / 2,  # exact_div sends what is not an int to /, its symbolic path
        lambda v: int(v),
        lambda v: float(v),
        lambda v: round(v),
        lambda v: {v},
        lambda v: range(v),
    ],
    ids=["true-division", "int", "float", "round", "hash", "index"],
)
def test_what_would_not_go_lane_by_lane_is_a_type_error(refused: Callable[[Any], Any]) -> None:
    with pytest.raises(TypeError):
        refused(pack([7, 8, 9]))


def test_an_arithmetic_error_in_one_lane_is_refused() -> None:
    with pytest.raises(Refused):
        _ = 12 // pack([3, 0, 4])


def test_one_value_packs_to_itself_and_fractions_go_lane_by_lane() -> None:
    assert pack([5, 5, 5]) == 5
    assert not isinstance(pack([5, 5, 5]), Lanes)
    halves = pack([1, 2, 3]) * Fraction(1, 2)
    assert list(unpack(halves, 3)) == [Fraction(1, 2), 1, Fraction(3, 2)]
    assert list(unpack(4, 3)) == [4, 4, 4]


# --- every kind's shape rule and cost formula -----------------------------------------------------

SCALES = (1, 3, 5, 7)
"""Each example at its own input size times these: sizes that every stride and patch of the
example divides, of the same parity, so that no rule tells them apart by a test (the replay
splits the lanes where one does)."""
REFUSED = {"attention", "upsample"}
"""Kinds whose formulas do what lanes do not, for some examples: attention divides its token
count with exact_div (a /), a fractional upsample scale goes through float(). The replay counts
each size of those alone."""


def _scaled(example: Example, scale: int) -> Example:
    """The example at ``scale`` times its size (its features, for a flat one: a flatten then
    gives a size to the layer after it)."""
    if not example.size:
        return dataclasses.replace(example, channels=example.channels * scale)
    return dataclasses.replace(example, size=tuple(n * scale for n in example.size))


@pytest.mark.parametrize(("kind", "index", "example"), EXAMPLES, ids=EXAMPLE_IDS)
def test_every_kind_computes_many_sizes_at_once(kind: str, index: int, example: Example) -> None:
    nodes = [example_graph(_scaled(example, k)).nodes[-1] for k in SCALES]
    lanes = len(nodes)
    inputs = tuple(
        tuple(pack(sizes) for sizes in zip(*(n.input_shapes[k] for n in nodes), strict=True))
        for k in range(len(nodes[0].input_shapes))
    )
    declared = REGISTRY[kind]
    try:
        out = declared.infer(nodes[0].attrs, inputs)
        parts = declared.cost(nodes[0].attrs, inputs, out)
    except (TypeError, Refused):
        assert kind in REFUSED
        return
    assert [tuple(s) for s in zip(*(unpack(d, lanes) for d in out), strict=True)] == [
        n.output_shape for n in nodes
    ]
    for j, node in enumerate(nodes):
        each = [(bucket, [unpack(v, lanes)[j] for v in cost]) for bucket, cost in parts]
        assert each == [(bucket, list(cost)) for bucket, cost in node.parts]
