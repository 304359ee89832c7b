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
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from types import NoneType
from typing import Any, TypeAlias, cast

from sepcalc.errors import brief, did_you_mean

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


@dataclass(frozen=True)
class Word:
    """A name given to a block as an argument (``act: hardswish``), not a number.

    A block call's argument that is a bare name and no var or parameter is a word: it is passed
    on whole (``act: a`` in the block's layers, or to a nested block) and checked where a key
    takes it against that key's choices. It is never computed with: in arithmetic, as a number
    or as a condition it is an error at ``origin``, where it was written, worded as the undefined
    variable it then is (a misspelt var looks the same).
    """

    text: str
    origin: tuple[str | int, ...] = ()
    """The spec path of the argument that gave it."""
    hint: str = ""
    """A '; did you mean ...?' for the vars and parameters in scope where it was written."""

    def __str__(self) -> str:
        return self.text

    @property
    def undefined(self) -> str:
        return f"undefined variable '{self.text}'{self.hint}"


class WordInExpression(ExprError):
    """A name holding a :class:`Word` used inside an expression rather than as a whole value."""

    def __init__(self, word: Word) -> None:
        super().__init__(word.undefined)
        self.word = word


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

    def apply(self, name: str) -> Any:
        """``log``, ``log2``, ``exp`` or ``sqrt`` of this value."""
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
    raise ExprError(f"{brief(value)} is not a number")


def decimal(text: str) -> Fraction:
    """``'0.1'``, ``'1e-3'``, ``'3/25'`` or ``'1_000'`` as an exact Fraction.

    The exponent is checked first: ``1e100000000`` would otherwise build a 100-million-digit
    integer before any other check could refuse it.
    """
    raw = text.strip().replace("_", "")
    shown = raw if len(raw) <= 40 else f"{raw[:12]}... ({len(raw):,} characters)"
    exponent = re.search(r"[eE]([+-]?\d+)$", raw)
    if exponent and abs(int(exponent.group(1)[:6])) > MAX_EXPONENT:
        raise ExprError(f"'{shown}' is out of range (exponent over {MAX_EXPONENT})")
    digits = sum(c.isdigit() for c in raw[: exponent.start() if exponent else None])
    if digits > MAX_DIGITS:
        raise ExprError(
            f"'{shown}' has {digits:,} digits: a number is at most {MAX_BITS:,} bits (about "
            f"{MAX_DIGITS:,} digits)"
        )
    try:
        return Fraction(raw)
    except (ValueError, ZeroDivisionError):
        raise ExprError(f"'{shown}' is not a number") from None


MAX_DIGITS = 1234
"""Digits of 2**MAX_BITS: a longer number is refused before Python converts it (past 4,300
digits Python refuses, in its own words)."""
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
    return _make_divisible(v, divisor, min_value)


def _make_divisible(v: Any, divisor: Number, min_value: Number | None) -> int:
    if divisor <= 0:
        raise ExprError("make_divisible: divisor must be positive")
    if type(v) in (int, Fraction) and type(divisor) is int and type(min_value) in (int, NoneType):
        # The same rule in ints: v = n/d (d > 0), int() truncates towards 0.
        n, d = v.numerator, v.denominator
        twice = 2 * n + divisor * d  # 2d (v + divisor/2)
        whole = twice // (2 * d) if twice >= 0 else -(-twice // (2 * d))
        new: int = max(divisor if min_value is None else min_value, whole // divisor * divisor)
        return new + divisor if 10 * d * new < 9 * n else new  # new < 0.9 v
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
    if isinstance(b, Real):
        raise ExprError("a power's exponent must be exact: write x ** y as exp(y * log(x))")
    if isinstance(b, Fraction):
        raise ExprError(f"power {b} is not an integer: the result would not be exact")
    if abs(b) > 64:
        raise ExprError(f"exponent {b} is too large")
    if a == 0 and b < 0:
        raise ExprError("division by zero")
    if isinstance(b, CustomNumber) and not isinstance(a, CustomNumber):
        # Not a ** b: Fraction.__pow__ turns its base into a float for an exponent it does not
        # know (Python's fractions module), so the exponent's own __rpow__ is called directly.
        rpow: Callable[[Any], Number] = getattr(b, "__rpow__")  # noqa: B009
        return rpow(a)
    if _custom(a, b):
        return cast(Number, operator.pow(a, b))
    base = Fraction(a)
    if max(base.numerator.bit_length(), base.denominator.bit_length()) * abs(b) > MAX_POWER_BITS:
        raise ExprError(f"{a} ** {b} is too large (over {MAX_POWER_BITS} bits)")
    return reduce(base**b)


def _bounded(value: Any) -> Any:
    """The value, unless it is too large to be a size or a count of anything."""
    if type(value) is int:  # the usual cases first, without building a Fraction
        if value.bit_length() > MAX_BITS:
            raise ExprError(f"a value in this expression is too large (over {MAX_BITS} bits)")
        return value
    if type(value) is Fraction:
        if max(value.numerator.bit_length(), value.denominator.bit_length()) > MAX_BITS:
            raise ExprError(f"a value in this expression is too large (over {MAX_BITS} bits)")
        return value
    if isinstance(value, int | Fraction) and not isinstance(value, bool):
        exact_value = Fraction(value)
        if max(exact_value.numerator.bit_length(), exact_value.denominator.bit_length()) > MAX_BITS:
            raise ExprError(f"a value in this expression is too large (over {MAX_BITS} bits)")
    if isinstance(value, Real):
        try:
            lo, hi = value.bounds(PRECISIONS[0])
        except _Undecided:
            return value
        if max(abs(lo), abs(hi)) > 2**MAX_BITS:
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


# --- log, log2, exp, sqrt: exact where the result is rational, else a Real --------------------

PRECISIONS = (64, 256, 1024, 4096)
"""Bits of precision tried in turn to decide a rounding or a comparison of an inexact value."""
MAX_EXP = 2000
"""Largest |x| for exp(x): e**2000 is about 2**2885, within MAX_BITS."""

Bounds: TypeAlias = tuple[Fraction, Fraction]


class _Undecided(Exception):
    """These bounds cannot answer (a divisor or a log's argument too close to 0): refine."""


class Real(CustomNumber):
    """A real number that may be irrational, known through rigorous rational bounds.

    ``log``, ``log2``, ``exp`` and ``sqrt`` give one when their result is not rational. It is never
    rounded silently: ``bounds(bits)`` returns an interval that surely holds the exact value, and a
    decision (a comparison, ``round``, ``floor``, ``ceil``, ``int``, ``make_divisible``) asks for
    narrower intervals (64, 256, 1024, 4096 bits) until every value in it decides the same way, so
    the decision is the exact one. Only a value within 2**-4096 of a rounding boundary is refused
    (an :class:`ExprError`): ``floor(sqrt(2) * sqrt(2))`` is exactly on a boundary, which no
    bounds can tell from a value beside it. Exact results are recognised where that is cheap:
    ``sqrt`` of a square, ``log2`` of a power of 2, ``log(1)``, ``exp(0)``, ``log(exp(q))``,
    ``exp(n * log(q))`` and a quotient of two logs (below).

    ``form`` records how the value was computed (``("log", 2)``, ``("mul", form, 3)``) for the
    symbolic views; ``log_of = (c, a)`` marks a value equal to ``c * log(a)`` with ``c`` and ``a``
    rational, so that ``log(a) / log(b)`` is exact whenever it is rational (``log(8) / log(4)`` is
    exactly 3/2).
    """

    __slots__ = ("_bounds", "_cache", "form", "log_of")

    def __init__(
        self,
        bounds: Callable[[int], Bounds],
        form: tuple[Any, ...],
        log_of: tuple[Fraction, Fraction] | None = None,
    ) -> None:
        self._bounds = bounds
        self._cache: dict[int, Bounds] = {}
        self.form = form
        self.log_of = log_of

    def bounds(self, bits: int) -> Bounds:
        """Rational bounds lo <= value <= hi, about ``bits`` bits apart in relative terms."""
        cached = self._cache.get(bits)
        if cached is None:
            cached = self._cache[bits] = self._bounds(bits)
        return cached

    def __float__(self) -> float:
        for bits in PRECISIONS:
            try:
                lo, hi = self.bounds(bits)
            except _Undecided:
                continue
            return saturated_float((lo + hi) / 2)
        return math.nan

    def __str__(self) -> str:
        for bits in PRECISIONS:
            try:
                lo, hi = self.bounds(bits)
            except _Undecided:
                continue
            return scientific((lo + hi) / 2, 6)
        return "nan"

    def __repr__(self) -> str:
        return f"Real({self})"

    # Arithmetic: a new Real whose bounds come from the operands' bounds.
    def __add__(self, o: Any) -> Any:
        return _arith("add", self, o) if _operand(o) else NotImplemented

    def __radd__(self, o: Any) -> Any:
        return _arith("add", o, self) if _operand(o) else NotImplemented

    def __sub__(self, o: Any) -> Any:
        return _arith("sub", self, o) if _operand(o) else NotImplemented

    def __rsub__(self, o: Any) -> Any:
        return _arith("sub", o, self) if _operand(o) else NotImplemented

    def __mul__(self, o: Any) -> Any:
        return _arith("mul", self, o) if _operand(o) else NotImplemented

    def __rmul__(self, o: Any) -> Any:
        return _arith("mul", o, self) if _operand(o) else NotImplemented

    def __truediv__(self, o: Any) -> Any:
        return _arith("div", self, o) if _operand(o) else NotImplemented

    def __rtruediv__(self, o: Any) -> Any:
        return _arith("div", o, self) if _operand(o) else NotImplemented

    def __floordiv__(self, o: Any) -> Any:
        return math.floor(self / o) if _operand(o) else NotImplemented

    def __rfloordiv__(self, o: Any) -> Any:
        return math.floor(o / self) if _operand(o) else NotImplemented

    def __mod__(self, o: Any) -> Any:
        return self - o * (self // o) if _operand(o) else NotImplemented

    def __rmod__(self, o: Any) -> Any:
        return o - self * (o // self) if _operand(o) else NotImplemented

    def __pow__(self, o: Any) -> Any:
        if isinstance(o, bool) or not isinstance(o, int):
            raise ExprError(f"power {o} of an inexact value: use exp(y * log(x))")
        if o < 0:
            return _arith("div", 1, self**-o)
        result: Any = 1
        for _ in range(o):
            result = result * self
        return result

    def __rpow__(self, o: Any) -> Any:
        raise ExprError("a power's exponent must be exact: write x ** y as exp(y * log(x))")

    def __neg__(self) -> Any:
        return _arith("mul", -1, self)

    def __pos__(self) -> Real:
        return self

    def __abs__(self) -> Any:
        return -self if self < 0 else self

    # Decisions: exact, from bounds narrow enough.
    def __trunc__(self) -> int:
        return int(_decide_rounding(self, math.trunc, "int()"))

    def __floor__(self) -> int:
        return int(_decide_rounding(self, math.floor, "floor()"))

    def __ceil__(self) -> int:
        return int(_decide_rounding(self, math.ceil, "ceil()"))

    def __round__(self, ndigits: int | None = None) -> Any:
        if ndigits is None:
            return _decide_rounding(self, round, "round()")
        return reduce(_decide_rounding(self, lambda x: round(x, ndigits), "round()"))

    __int__ = __trunc__

    def __eq__(self, o: object) -> bool:
        if not _operand(o):
            return NotImplemented
        return _equal(self, o)

    def __ne__(self, o: object) -> bool:
        if not _operand(o):
            return NotImplemented
        return not _equal(self, o)

    def __lt__(self, o: Any) -> bool:
        return _compare(self, o) < 0

    def __le__(self, o: Any) -> bool:
        return _compare(self, o) <= 0

    def __gt__(self, o: Any) -> bool:
        return _compare(self, o) > 0

    def __ge__(self, o: Any) -> bool:
        return _compare(self, o) >= 0

    def __bool__(self) -> bool:
        return not _equal(self, 0)

    __hash__ = None  # type: ignore[assignment]

    def make_divisible(self, divisor: Number, min_value: Number | None) -> int:
        return _make_divisible(self, divisor, min_value)

    def as_int(self) -> int:
        raise ExprError(
            f"expected an integer, got {self}, which is not exact (log, exp and sqrt of most "
            "numbers are irrational): wrap it in round(), int(), floor() or ceil()"
        )


def _operand(x: Any) -> bool:
    return isinstance(x, Real | int | Fraction)


def _interval(x: Any, bits: int) -> Bounds:
    if isinstance(x, Real):
        return x.bounds(bits)
    value = Fraction(x)
    return value, value


def _form(x: Any) -> Any:
    return x.form if isinstance(x, Real) else normalize(Fraction(x))


def _round_bits(x: Fraction, bits: int, direction: Callable[[Fraction], int]) -> Fraction:
    """``x`` rounded (down with floor, up with ceil) to about ``bits`` significant bits."""
    if x == 0:
        return x
    shift = bits + 8 - (x.numerator.bit_length() - x.denominator.bit_length())
    scale = Fraction(2) ** shift
    return Fraction(direction(x * scale)) / scale


def _outward(lo: Fraction, hi: Fraction, bits: int) -> Bounds:
    """Bounds rounded outwards, so that their size stays bounded through a long expression."""
    return _round_bits(lo, bits, math.floor), _round_bits(hi, bits, math.ceil)


def _arith(op: str, a: Any, b: Any) -> Any:
    if op == "div":
        quotient = _log_quotient(a, b)
        if quotient is not None:
            return quotient

    def bounds(bits: int) -> Bounds:
        (alo, ahi), (blo, bhi) = _interval(a, bits), _interval(b, bits)
        if op == "add":
            return _outward(alo + blo, ahi + bhi, bits)
        if op == "sub":
            return _outward(alo - bhi, ahi - blo, bits)
        if op == "div":
            if blo <= 0 <= bhi:
                raise _Undecided("a divisor too close to 0")
            candidates = (alo / blo, alo / bhi, ahi / blo, ahi / bhi)
        else:
            candidates = (alo * blo, alo * bhi, ahi * blo, ahi * bhi)
        return _outward(min(candidates), max(candidates), bits)

    return Real(bounds, (op, _form(a), _form(b)), _scaled_log(op, a, b))


def _scaled_log(op: str, a: Any, b: Any) -> tuple[Fraction, Fraction] | None:
    """``c * log(x)`` times or over a rational is still of that form."""
    if op == "mul" and isinstance(b, Real) and not isinstance(a, Real):
        a, b = b, a
    if op not in ("mul", "div") or not isinstance(a, Real) or isinstance(b, Real):
        return None
    if a.log_of is None or b == 0:
        return None
    c, x = a.log_of
    return (c * b if op == "mul" else c / Fraction(b)), x


def _log_quotient(a: Any, b: Any) -> Number | None:
    """``c1 * log(x1) / (c2 * log(x2))`` exactly, when it is rational."""
    if not (isinstance(a, Real) and isinstance(b, Real) and a.log_of and b.log_of):
        return None
    (c1, x1), (c2, x2) = a.log_of, b.log_of
    ratio = log_ratio(x1, x2)
    return None if ratio is None else reduce(c1 / c2 * ratio)


def _height(x: Fraction) -> int:
    return max(abs(x.numerator), x.denominator)


def log_ratio(a: Fraction, b: Fraction) -> Fraction | None:
    """``log(a) / log(b)`` for positive rationals (b != 1) when it is rational, else None.

    It is rational, p/q, exactly when ``a**q == b**p``, i.e. when a = c**m and b = c**n for a
    rational c: Euclid's algorithm on the exponents (a / b**k until 1) then ends, and no value it
    meets is higher than a or b (c**j for j <= max(m, n)), so a higher one proves there is no c.
    """
    sign = 1
    if a < 1:
        a, sign = 1 / a, -sign
    if b < 1:
        b, sign = 1 / b, -sign
    if a == 1:
        return Fraction(0)
    limit = max(_height(a), _height(b))
    most = limit.bit_length()  # a = c**m with height(c) >= 2: m, so every k, is at most this
    quotients: list[int] = []
    x, y = a, b  # log_y(x) = k + 1 / log_r(y) with r = x / y**k in [1, y)
    while True:
        k = 0
        while x >= y:
            x, k = x / y, k + 1
            if k > most or _height(x) > limit:
                return None
        quotients.append(k)
        if x == 1:
            break
        if _height(x) > limit:
            return None
        x, y = y, x
    value = Fraction(quotients[-1])
    for q in reversed(quotients[:-1]):
        value = q + 1 / value
    return sign * value


def _decide(x: Real, test: Callable[[Fraction, Fraction], Any], what: str) -> Any:
    for bits in PRECISIONS:
        try:
            lo, hi = x.bounds(bits)
        except _Undecided:
            continue
        result = test(lo, hi)
        if result is not None:
            return result
    raise ExprError(
        f"cannot decide {what}: the inexact value {x} is within 2**-{PRECISIONS[-1]} of the "
        "boundary, and a value exactly on it (as sqrt(2) * sqrt(2) is on 2) cannot be told from "
        "one beside it: write that part of the expression exactly"
    )


def _decide_rounding(x: Real, fn: Callable[[Fraction], Any], what: str) -> Any:
    """``fn`` (a monotone rounding) of ``x``: decided where both bounds round alike."""

    def test(lo: Fraction, hi: Fraction) -> Any:
        low, high = fn(lo), fn(hi)
        return low if low == high else None

    return _decide(x, test, what)


def _sign_of(lo: Fraction, hi: Fraction) -> int | None:
    return 1 if lo > 0 else -1 if hi < 0 else None


def _compare(a: Real, b: Any) -> int:
    return int(_decide(_arith("sub", a, b), _sign_of, f"whether {a} is above or below {b}"))


def _equal(a: Real, b: Any) -> bool:
    def test(lo: Fraction, hi: Fraction) -> bool | None:
        return False if lo > 0 or hi < 0 else None

    return bool(_decide(_arith("sub", a, b), test, f"whether {a} equals {b}"))


def _decimal_bound(method: str, x: Fraction, bits: int, *, down: bool) -> Fraction:
    """A rigorous lower (``down``) or upper bound of ln, exp or sqrt at the rational ``x``.

    Python's decimal module computes ln, exp and sqrt correctly rounded; the argument is
    rounded towards the side wanted, and the result widened by two units in the last place.
    """
    import decimal

    digits = bits * 3 // 10 + 12
    context = decimal.Context(
        prec=digits,
        rounding=decimal.ROUND_FLOOR if down else decimal.ROUND_CEILING,
        Emax=decimal.MAX_EMAX,
        Emin=decimal.MIN_EMIN,
    )
    argument = context.divide(decimal.Decimal(x.numerator), decimal.Decimal(x.denominator))
    if method == "ln" and argument <= 0:
        raise _Undecided("a logarithm's argument too close to 0")
    if method == "sqrt" and argument < 0:
        argument = decimal.Decimal(0)
    result: decimal.Decimal = getattr(context, method)(argument)
    if result.is_zero():
        return Fraction(0)
    ulp = Fraction(10) ** (result.adjusted() - digits + 1)
    return Fraction(result) - 2 * ulp if down else Fraction(result) + 2 * ulp


def _leaf(name: str, method: str, x: Any) -> Real:
    def bounds(bits: int) -> Bounds:
        lo, hi = _interval(x, bits)
        return _outward(
            _decimal_bound(method, lo, bits, down=True),
            _decimal_bound(method, hi, bits, down=False),
            bits,
        )

    log_of = (Fraction(1), Fraction(x)) if name == "log" and not isinstance(x, Real) else None
    return Real(bounds, (name, _form(x)), log_of)


def _positive(name: str, x: Any) -> None:
    if x <= 0:
        raise ExprError(f"{name}({x}): the argument must be positive")


def _log(x: Any, base: Any = None) -> Any:
    if base is not None:
        _positive("log", base)
        if base == 1:
            raise ExprError("log(x, 1): base 1 has no logarithms")
        return _div(_log(x), _log(base))
    if isinstance(x, CustomNumber) and not isinstance(x, Real):
        return x.apply("log")
    _positive("log", x)
    if isinstance(x, Real):
        if x.form[0] == "exp" and not isinstance(x.form[1], tuple):
            return x.form[1]  # log(exp(q)) = q
        return _leaf("log", "ln", x)
    return 0 if x == 1 else _leaf("log", "ln", x)


def _log2(x: Any) -> Any:
    if isinstance(x, CustomNumber) and not isinstance(x, Real):
        return x.apply("log2")
    _positive("log2", x)
    if not isinstance(x, Real):
        q = Fraction(x)
        for n, d, sign in ((q.numerator, q.denominator, 1), (q.denominator, q.numerator, -1)):
            if d == 1 and n & (n - 1) == 0:
                return sign * (n.bit_length() - 1)
    return _div(_log(x), _log(2))


def _exp(x: Any) -> Any:
    if isinstance(x, CustomNumber) and not isinstance(x, Real):
        return x.apply("exp")
    if abs(x) > MAX_EXP:
        raise ExprError(f"exp({x}): the argument must be between -{MAX_EXP} and {MAX_EXP}")
    if x == 0:
        return 1
    if isinstance(x, Real) and x.log_of is not None:
        c, a = x.log_of
        if c.denominator == 1 and abs(c) <= 64:
            return _pow(a, int(c))  # exp(c * log(a)) = a ** c
    return _leaf("exp", "exp", x)


def _sqrt(x: Any) -> Any:
    if isinstance(x, CustomNumber) and not isinstance(x, Real):
        return x.apply("sqrt")
    if x < 0:
        raise ExprError(f"sqrt({x}): the argument must not be negative")
    if not isinstance(x, Real):
        q = Fraction(x)
        n, d = math.isqrt(q.numerator), math.isqrt(q.denominator)
        if n * n == q.numerator and d * d == q.denominator:
            return reduce(Fraction(n, d))
    return _leaf("sqrt", "sqrt", x)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "int": _int,
    "round": _round,
    "min": min,
    "max": max,
    "ceil": math.ceil,
    "floor": math.floor,
    "make_divisible": make_divisible,
    "sqrt": _sqrt,
    "log": _log,
    "log2": _log2,
    "exp": _exp,
}

ARITY: dict[str, tuple[int, int]] = {
    "int": (1, 1),
    "round": (1, 2),
    "min": (2, 99),
    "max": (2, 99),
    "ceil": (1, 1),
    "floor": (1, 1),
    "make_divisible": (2, 3),
    "sqrt": (1, 1),
    "log": (1, 2),
    "log2": (1, 1),
    "exp": (1, 1),
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


def _compile(node: ast.AST, whole: bool = False) -> Compiled:
    """``whole``: the node is the whole value (or a branch of ``a if c else b`` that is), where
    a name holding a :class:`Word` may stand; anywhere else a word is an error."""
    if isinstance(node, ast.Constant) and not isinstance(node.value, str | bytes):
        if node.value is None or isinstance(node.value, complex):
            raise ExprError(f"{node.value!r} is not allowed in an expression")
        value = node.value if isinstance(node.value, bool) else _bounded(exact(node.value))
        return lambda env: value
    if isinstance(node, ast.Name):
        name = node.id

        def lookup(env: Env) -> Any:
            try:
                value = env[name]
            except KeyError:
                message = f"undefined variable '{name}'{did_you_mean(name, env)}"
                raise UndefinedName(name, message) from None
            if isinstance(value, Word) and not whole:
                raise WordInExpression(value)
            return value

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
        test = _compile(node.test)
        body, orelse = _compile(node.body, whole), _compile(node.orelse, whole)
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
        with warnings.catch_warnings():  # '1if x' parses with a SyntaxWarning on stderr
            warnings.simplefilter("ignore")
            tree = ast.parse(text.strip(), mode="eval")
        return _compile(tree.body, whole=True)
    except SyntaxError as exc:
        raise ExprError(f"cannot parse expression '{text}': {exc.msg}") from None
    except (RecursionError, MemoryError):
        raise ExprError("expression is nested too deeply") from None


def show(value: Any) -> str:
    """An exact value for people: 0.5 rather than 1/2, and 1/3 where no decimal is exact;
    true and false as a spec writes them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Fraction) and value.denominator != 1:
        as_float = as_float_if_exact(value)
        return str(value) if as_float is None else repr(as_float)
    return str(value)


def plain(value: Any) -> Any:
    """A number as JSON has it, never rounded: an int, a float that reads back exactly (0.75),
    or else the exact fraction as a string ("1/3")."""
    if isinstance(value, Fraction):
        if value.denominator == 1:
            return value.numerator
        as_float = as_float_if_exact(value)
        return str(value) if as_float is None else as_float
    return value


def saturated_float(value: int | Fraction) -> float:
    """The nearest float, or an infinity past a float's range (for display only: the float
    protocol of a custom number must not raise on 10**400)."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def as_float_if_exact(value: Fraction) -> float | None:
    """The float that writes ``value`` exactly (0.1 for 1/10: its shortest repr reads back as
    the value), or None: none does (1/3), or the value is out of a float's range."""
    try:
        as_float = float(value)
    except OverflowError:
        return None
    exact = math.isfinite(as_float) and Fraction(repr(as_float)) == value
    return as_float if exact else None


def approximate(value: Any) -> float | str:
    """A float near an exact value (a JSON ``decimal``), or, out of a float's range, its
    :func:`scientific` text: a float cannot hold 10**400."""
    try:
        return float(value)
    except OverflowError:
        return scientific(value, 17)


def fixed(value: Fraction | int, places: int = 2, *, group: bool = False) -> str:
    """An exact rational with ``places`` decimals, ties rounded away from zero: 1015/1000 ->
    '1.02' (with ``group``, thousands separated: '735,710.14'). Computed with integers, so it
    neither overflows nor rounds like a float."""
    scaled = abs(Fraction(value)) * 10**places
    units = int(scaled) + (1 if scaled - int(scaled) >= Fraction(1, 2) else 0)
    sign = "-" if value < 0 and units else ""
    whole, frac = divmod(units, 10**places)
    digits = f"{whole:,}" if group else str(whole)
    return f"{sign}{digits}.{frac:0{places}d}" if places else f"{sign}{digits}"


def scientific(value: int | Fraction, digits: int = 4) -> str:
    """``value`` to ``digits`` significant digits as ``format(x, 'g')`` writes a float, for any
    size: 1.235e+2000. Computed exactly: no float overflows or rounds on the way."""
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    x = abs(Fraction(value))
    bits = x.numerator.bit_length() - x.denominator.bit_length()
    exponent = bits * 30103 // 100000  # log10(2) ~ 0.30103: an estimate, corrected below
    while Fraction(10) ** exponent > x:
        exponent -= 1
    while Fraction(10) ** (exponent + 1) <= x:
        exponent += 1
    mantissa = round(x / Fraction(10) ** (exponent - digits + 1))  # half to even, as format
    if mantissa >= 10**digits:
        mantissa //= 10
        exponent += 1
    text = str(mantissa)
    if -4 <= exponent < digits:  # fixed notation, as 'g' chooses it
        places = digits - 1 - exponent
        whole = f"{text[:-places] or '0'}.{text[-places:].rjust(places, '0')}" if places else text
        return sign + (whole.rstrip("0").rstrip(".") if "." in whole else whole)
    fraction = text[1:].rstrip("0")
    return f"{sign}{text[0]}{'.' + fraction if fraction else ''}e{exponent:+03d}"


def evaluate(value: Any, env: Env) -> Any:
    """Evaluate a spec value: numbers pass through exactly, strings are expressions."""
    if isinstance(value, str):
        result = compile_expr(value)(env)
        if isinstance(result, Real):
            raise ExprError(
                f"the result, {result}, is not exact (log, exp and sqrt of most numbers are "
                "irrational): wrap it in round(), int(), floor() or ceil()"
            )
        return result
    if isinstance(value, bool):
        return value
    if type(value) is int and value.bit_length() <= MAX_BITS:
        return value
    number = exact(value)
    if max(Fraction(number).numerator.bit_length(), Fraction(number).denominator.bit_length()) > (
        MAX_BITS
    ):
        raise ExprError(f"{brief(value)} is too large: a number is at most {MAX_BITS:,} bits")
    return number


def as_int(value: Any) -> int:
    """An evaluated value as an int, or an error saying how to make it one."""
    if isinstance(value, bool):
        raise ExprError(f"expected an integer, got {show(value)}")
    if isinstance(value, CustomNumber):
        return value.as_int()  # type: ignore[no-any-return]
    if isinstance(value, Word):
        raise WordInExpression(value)
    value = normalize(value)
    if isinstance(value, int):
        return value
    raise ExprError(
        f"expected an integer, got {scientific(value, 6)} (wrap it in int(), round() or "
        "make_divisible())"
    )
