"""Whitelisted evaluator for the expressions allowed in spec files.

Spec text is parsed with :func:`ast.parse` and only an allow-list of node types is compiled into
closures; nothing from a spec ever reaches ``eval``, ``exec`` or ``sympify``. Numbers are exact:
YAML floats become :class:`fractions.Fraction` (``0.1`` is exactly ``1/10``), ``/`` is exact
division, and a result is an ``int`` whenever it is integral.
"""

from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Callable, Mapping
from fractions import Fraction
from functools import lru_cache
from typing import Any, TypeAlias, cast

from sepcalc.errors import did_you_mean

Number: TypeAlias = int | Fraction
Env: TypeAlias = Mapping[str, Any]
Compiled: TypeAlias = Callable[[Env], Any]


class ExprError(Exception):
    """An expression that cannot be parsed or evaluated; the caller adds the position."""


class UndefinedName(ExprError):
    """An expression names a variable its environment does not have."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


MAX_LENGTH = 2000
"""Longest expression text accepted (a spec is written by hand)."""
MAX_BITS = 4096
"""Largest magnitude of any intermediate value, in bits: no expression can exhaust memory."""


class CustomNumber:
    """Base of number types that carry more than an exact value (``symbolic.Relaxed``).

    The evaluator defers to a custom number's own operators (``/ // % **``, ``math.trunc``,
    ``math.floor``, ``math.ceil``, ``round``, comparisons) and to the two methods below, so a
    symbolic view can ride along the exact evaluation without a second evaluator.
    """

    def as_int(self) -> Any:
        """This value checked to be an integer (raise :class:`ExprError` if it is not)."""
        raise NotImplementedError

    def make_divisible(self, divisor: Number, min_value: Number | None) -> Any:
        raise NotImplementedError


def exact(value: Any) -> Number:
    """A YAML or CLI number as an exact int or Fraction (``0.1`` -> ``1/10``)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ExprError(f"{value} is not a finite number")
        return reduce(Fraction(repr(value)))
    if isinstance(value, Fraction):
        return reduce(value)
    if isinstance(value, str):
        return reduce(decimal(value))
    raise ExprError(f"{value!r} is not a number")


def decimal(text: str) -> Fraction:
    """``'0.1'``, ``'1e-3'``, ``'3/25'`` or ``'1_000'`` as an exact Fraction.

    The exponent is checked first: ``1e100000000`` would otherwise build a 100-million-digit
    integer before any other check could refuse it.
    """
    raw = text.strip().replace("_", "")
    exponent = re.search(r"[eE]([+-]?\d+)$", raw)
    if exponent and abs(int(exponent.group(1)[:6])) > MAX_EXPONENT:
        raise ExprError(f"'{text.strip()}' is out of range (exponent over {MAX_EXPONENT})")
    try:
        return Fraction(raw)
    except (ValueError, ZeroDivisionError):
        raise ExprError(f"'{text.strip()}' is not a number") from None


MAX_EXPONENT = 1000
"""Largest decimal exponent accepted in a number typed on the command line or in a file."""


def normalize(value: Any) -> Any:
    """Fractions with denominator 1 become ints; everything else is returned as is."""
    if isinstance(value, Fraction):
        return reduce(value)
    return value


def reduce(value: Fraction) -> Number:
    return value.numerator if value.denominator == 1 else value


def make_divisible(v: Number, divisor: Number, min_value: Number | None = None) -> int:
    """Round ``v`` to the nearest multiple of ``divisor``, never going down by more than 10%.

    The rule of TF-slim and torchvision's ``_make_divisible`` (MobileNetV2/V3, EfficientNet),
    computed exactly.
    """
    if isinstance(v, CustomNumber):
        return v.make_divisible(divisor, min_value)  # type: ignore[no-any-return]
    if divisor <= 0:
        raise ExprError("make_divisible: divisor must be positive")
    low = divisor if min_value is None else min_value
    new_v = max(low, int(v + Fraction(divisor) / 2) // divisor * divisor)
    if new_v < Fraction(9, 10) * v:
        new_v += divisor
    return int(new_v)


def _custom(a: Any, b: Any) -> bool:
    return isinstance(a, CustomNumber) or isinstance(b, CustomNumber)


def _div(a: Number, b: Number) -> Number:
    if b == 0:
        raise ExprError("division by zero")
    if _custom(a, b):
        return cast(Number, operator.truediv(a, b))
    return reduce(Fraction(a) / Fraction(b))


def _floordiv(a: Number, b: Number) -> int:
    if b == 0:
        raise ExprError("division by zero")
    if _custom(a, b):
        return cast(int, operator.floordiv(a, b))
    return int(a // b)


def _mod(a: Number, b: Number) -> Number:
    if b == 0:
        raise ExprError("modulo by zero")
    if _custom(a, b):
        return cast(Number, operator.mod(a, b))
    return reduce(Fraction(a % b))


MAX_POWER_BITS = 1024
"""Bound on the size of a power, so that a tower like ((2**64)**64)**64 cannot exhaust memory."""


def _pow(a: Number, b: Number) -> Number:
    if isinstance(b, Fraction):
        raise ExprError(f"power {b} is not an integer: the result would not be exact")
    if abs(b) > 64:
        raise ExprError(f"exponent {b} is too large")
    if a == 0 and b < 0:
        raise ExprError("division by zero")
    if _custom(a, b):
        return cast(Number, operator.pow(a, b))
    base = Fraction(a)
    if max(base.numerator.bit_length(), base.denominator.bit_length()) * abs(b) > MAX_POWER_BITS:
        raise ExprError(f"{a} ** {b} is too large (over {MAX_POWER_BITS} bits)")
    return reduce(base**b)


def _bounded(value: Any) -> Any:
    """The value, unless it is too large to be a size or a count of anything."""
    if isinstance(value, int | Fraction) and not isinstance(value, bool):
        exact_value = Fraction(value)
        if max(exact_value.numerator.bit_length(), exact_value.denominator.bit_length()) > MAX_BITS:
            raise ExprError(f"a value in this expression is too large (over {MAX_BITS} bits)")
    return value


def _round(x: Number, ndigits: int | None = None) -> Number:
    if ndigits is not None and not -64 <= ndigits <= 64:
        raise ExprError(f"round(): {ndigits} digits is out of range (-64 to 64)")
    if isinstance(x, CustomNumber):
        return cast(Number, round(cast(Any, x), ndigits))
    return round(x) if ndigits is None else reduce(round(Fraction(x), ndigits))


def _int(x: Number) -> int:
    return math.trunc(x) if isinstance(x, CustomNumber) else int(x)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "int": _int,
    "round": _round,
    "min": min,
    "max": max,
    "ceil": math.ceil,
    "floor": math.floor,
    "make_divisible": make_divisible,
}

ARITY: dict[str, tuple[int, int]] = {
    "int": (1, 1),
    "round": (1, 2),
    "min": (2, 99),
    "max": (2, 99),
    "ceil": (1, 1),
    "floor": (1, 1),
    "make_divisible": (2, 3),
}
"""How many arguments each function takes (min, max), checked when an expression is parsed."""

_BINOPS: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: _div,
    ast.FloorDiv: _floordiv,
    ast.Mod: _mod,
    ast.Pow: _pow,
}
_CMPOPS: dict[type[ast.cmpop], Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}
_REFUSED_OPS = {
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitAnd: "&",
    ast.BitXor: "^",
    ast.MatMult: "@",
}
ALLOWED = "numbers, variables, + - * / // % **, comparisons, and/or/not, 'a if c else b', and " + (
    ", ".join(f"{name}()" for name in FUNCTIONS)
)


def _compile(node: ast.AST) -> Compiled:
    if isinstance(node, ast.Constant) and not isinstance(node.value, str | bytes):
        if node.value is None or isinstance(node.value, complex):
            raise ExprError(f"{node.value!r} is not allowed in an expression")
        value = node.value if isinstance(node.value, bool) else exact(node.value)
        return lambda env: value
    if isinstance(node, ast.Name):
        name = node.id

        def lookup(env: Env) -> Any:
            try:
                return env[name]
            except KeyError:
                message = f"undefined variable '{name}'{did_you_mean(name, env)}"
                raise UndefinedName(name, message) from None

        return lookup
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        op, left, right = _BINOPS[type(node.op)], _compile(node.left), _compile(node.right)
        return lambda env: _bounded(op(left(env), right(env)))
    if isinstance(node, ast.UnaryOp):
        operand = _compile(node.operand)
        if isinstance(node.op, ast.USub):
            return lambda env: -operand(env)
        if isinstance(node.op, ast.UAdd):
            return operand
        if isinstance(node.op, ast.Not):
            return lambda env: not operand(env)
    if isinstance(node, ast.BoolOp):
        parts = [_compile(v) for v in node.values]
        if isinstance(node.op, ast.And):
            return lambda env: all(p(env) for p in parts)
        return lambda env: any(p(env) for p in parts)
    if isinstance(node, ast.Compare) and all(type(o) in _CMPOPS for o in node.ops):
        first = _compile(node.left)
        rest = [
            (_CMPOPS[type(o)], _compile(c)) for o, c in zip(node.ops, node.comparators, strict=True)
        ]

        def compare(env: Env) -> bool:
            left = first(env)
            for op, right_fn in rest:
                right = right_fn(env)
                if not op(left, right):
                    return False
                left = right
            return True

        return compare
    if isinstance(node, ast.IfExp):
        test, body, orelse = _compile(node.test), _compile(node.body), _compile(node.orelse)
        return lambda env: body(env) if test(env) else orelse(env)
    if isinstance(node, ast.Call):
        return _compile_call(node)
    if isinstance(node, ast.BinOp):
        symbol = _REFUSED_OPS.get(type(node.op), type(node.op).__name__)
        raise ExprError(f"operator '{symbol}' is not allowed; allowed: {ALLOWED}")
    raise ExprError(f"'{ast.unparse(node)}' is not allowed; allowed: {ALLOWED}")


def _compile_call(node: ast.Call) -> Compiled:
    if not isinstance(node.func, ast.Name) or node.keywords:
        raise ExprError(f"'{ast.unparse(node)}' is not allowed; allowed: {ALLOWED}")
    name = node.func.id
    if name not in FUNCTIONS:
        raise ExprError(f"unknown function '{name}'{did_you_mean(name, FUNCTIONS)}")
    fn = FUNCTIONS[name]
    low, high = ARITY[name]
    if not low <= len(node.args) <= high:
        wanted = str(low) if low == high else f"{low} or more" if high > 9 else f"{low} to {high}"
        raise ExprError(f"{name}() takes {wanted} argument(s), got {len(node.args)}")
    args = [_compile(a) for a in node.args]

    def call(env: Env) -> Any:
        values = [a(env) for a in args]
        try:
            return normalize(fn(*values))
        except TypeError as exc:
            raise ExprError(f"{name}(): {exc}") from None

    return call


@lru_cache(maxsize=4096)
def compile_expr(text: str) -> Compiled:
    """Compile spec text once into a function of an environment of variables."""
    if len(text) > MAX_LENGTH:
        raise ExprError(f"expression of {len(text)} characters is too long (at most {MAX_LENGTH})")
    try:
        tree = ast.parse(text.strip(), mode="eval")
        return _compile(tree.body)
    except SyntaxError as exc:
        raise ExprError(f"cannot parse expression '{text}': {exc.msg}") from None
    except (RecursionError, MemoryError):
        raise ExprError("expression is nested too deeply") from None


def show(value: Any) -> str:
    """An exact value for people: 0.5 rather than 1/2, and 1/3 where no decimal is exact."""
    if isinstance(value, Fraction) and value.denominator != 1:
        as_float = float(value)
        return repr(as_float) if Fraction(repr(as_float)) == value else str(value)
    return str(value)


def plain(value: Any) -> Any:
    """A number as JSON has it, never rounded: an int, a float that reads back exactly (0.75),
    or else the exact fraction as a string ("1/3")."""
    if isinstance(value, Fraction):
        if value.denominator == 1:
            return value.numerator
        as_float = float(value)
        return as_float if Fraction(repr(as_float)) == value else str(value)
    return value


def evaluate(value: Any, env: Env) -> Any:
    """Evaluate a spec value: numbers pass through exactly, strings are expressions."""
    if isinstance(value, str):
        return compile_expr(value)(env)
    if isinstance(value, bool):
        return value
    return _bounded(exact(value))


def as_int(value: Any) -> int:
    """An evaluated value as an int, or an error saying how to make it one."""
    if isinstance(value, bool):
        raise ExprError(f"expected an integer, got {value}")
    if isinstance(value, CustomNumber):
        return value.as_int()  # type: ignore[no-any-return]
    value = normalize(value)
    if isinstance(value, int):
        return value
    raise ExprError(
        f"expected an integer, got {float(value):g} (wrap it in int(), round() or make_divisible())"
    )
