"""One call of a layer's shape rule and cost formula for many input sizes at once.

A :class:`Lanes` holds one value per *lane* (one input size each) and applies each operation a
formula does to it (``+ - * // % **``, ``abs``, comparisons) to every lane's value: so in each
lane, a formula called with lanes computes what a call with that lane's values computes, as long
as it takes the same path in every lane. It does: every test it can make of a lane value (a
comparison, a truth test) is answered only when all lanes agree; where they disagree,
:class:`Varies` says how each lane answered, and the caller counts the two sides apart. What
would not go lane by lane is absent, so Python raises a ``TypeError``: ``/`` (a formula divides
with ``/`` only on its symbolic path: :func:`~sepcalc.formulas.base.exact_div` checks an int
division), ``int()``, ``float()``, ``round()``, an index, a hash (a set of lane values would not
ask the lanes). An arithmetic error in some lane raises :class:`Refused`. The caller then counts
each lane alone, with plain ints.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from itertools import repeat
from typing import Any


class Varies(Exception):
    """A test answered differently in some lanes; ``truth`` is each lane's answer."""

    def __init__(self, truth: tuple[bool, ...]) -> None:
        super().__init__("the lanes disagree")
        self.truth = truth


class Refused(Exception):
    """An operation that lanes do not do lane by lane."""


class Lanes:
    """One value per lane (an int, or a Fraction), under lane-by-lane arithmetic."""

    __slots__ = ("values",)

    def __init__(self, values: tuple[Any, ...]) -> None:
        self.values = values

    def _ints(self) -> bool:
        """Whether every lane holds an int (then x * 0 is 0 in every lane)."""
        return all(type(v) is int for v in self.values)

    def __repr__(self) -> str:
        return f"Lanes{self.values}"

    def _map(self, op: Callable[[Any, Any], Any], other: Any, reflected: bool = False) -> Lanes:
        if isinstance(other, Lanes):
            if len(other.values) != len(self.values):
                raise Refused("lanes of different lengths")
            others: Any = other.values
        else:
            others = repeat(other)
        try:
            if reflected:
                return Lanes(tuple(map(op, others, self.values)))
            return Lanes(tuple(map(op, self.values, others)))
        except ArithmeticError as exc:  # e.g. // 0 in some lane: counted lane by lane
            raise Refused(str(exc)) from None

    @staticmethod
    def _agreed(answers: Lanes) -> bool:
        """The answer of every lane to a test, when they agree."""
        truth = tuple(map(bool, answers.values))
        if all(truth):
            return True
        if not any(truth):
            return False
        raise Varies(truth)

    # NB: x + 0, x - 0 and x * 1 are x in every lane (each lane holds an int or a Fraction),
    # and x * 0 is 0 where each holds an int: a cost is mostly zeros, a bias adds 0 x its
    # elements, and a formula's products start from 1.

    def __add__(self, o: Any) -> Lanes:
        return self if type(o) is int and o == 0 else self._map(operator.add, o)

    def __radd__(self, o: Any) -> Lanes:
        return self if type(o) is int and o == 0 else self._map(operator.add, o, reflected=True)

    def __sub__(self, o: Any) -> Lanes:
        return self if type(o) is int and o == 0 else self._map(operator.sub, o)

    def __rsub__(self, o: Any) -> Lanes:
        return self._map(operator.sub, o, reflected=True)

    def __mul__(self, o: Any) -> Any:
        if type(o) is int and o in (0, 1) and (o or self._ints()):
            return self if o else 0
        return self._map(operator.mul, o)

    def __rmul__(self, o: Any) -> Any:
        if type(o) is int and o in (0, 1) and (o or self._ints()):
            return self if o else 0
        return self._map(operator.mul, o, reflected=True)

    def __floordiv__(self, o: Any) -> Lanes:
        return self._map(operator.floordiv, o)

    def __rfloordiv__(self, o: Any) -> Lanes:
        return self._map(operator.floordiv, o, reflected=True)

    def __mod__(self, o: Any) -> Lanes:
        return self._map(operator.mod, o)

    def __rmod__(self, o: Any) -> Lanes:
        return self._map(operator.mod, o, reflected=True)

    def __pow__(self, o: Any) -> Lanes:
        return self._map(operator.pow, o)

    def __rpow__(self, o: Any) -> Lanes:
        return self._map(operator.pow, o, reflected=True)

    def __neg__(self) -> Lanes:
        return Lanes(tuple(map(operator.neg, self.values)))

    def __pos__(self) -> Lanes:
        return self

    def __abs__(self) -> Lanes:
        return Lanes(tuple(map(abs, self.values)))

    def __eq__(self, o: object) -> bool:
        return self._agreed(self._map(operator.eq, o))

    def __ne__(self, o: object) -> bool:
        return self._agreed(self._map(operator.ne, o))

    def __lt__(self, o: Any) -> bool:
        return self._agreed(self._map(operator.lt, o))

    def __le__(self, o: Any) -> bool:
        return self._agreed(self._map(operator.le, o))

    def __gt__(self, o: Any) -> bool:
        return self._agreed(self._map(operator.gt, o))

    def __ge__(self, o: Any) -> bool:
        return self._agreed(self._map(operator.ge, o))

    def __bool__(self) -> bool:
        return self._agreed(self)

    __hash__ = None  # type: ignore[assignment]


def pack(values: Sequence[Any]) -> Any:
    """The one value of every lane, or :class:`Lanes` when they differ."""
    first = values[0]
    return first if values.count(first) == len(values) else Lanes(tuple(values))


def unpack(value: Any, lanes: int) -> Sequence[Any]:
    """Each lane's value of what a formula returned (a lane value or a plain one)."""
    return value.values if isinstance(value, Lanes) else (value,) * lanes
