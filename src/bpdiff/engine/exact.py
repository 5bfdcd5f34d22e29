"""Exact rational arithmetic for `--exact`: a second math namespace for the primitive
table, so `1/x^2` at x = 2 gives ∂ = -1/4, not -0.25000000000000006.

Values are `Q`, a Fraction whose + - × and the namespace's div and integer pow stay
exact; the other functions (exp, log, sin, ...) return `Approx`, a float that stays a
float through all later arithmetic, so every number knows whether it is exact. Plain
floats met in arithmetic are the rules' own literals (1.0, -1.0, 0.5): they are taken
at their exact binary value, which for those literals is the number written.

A result of more than LIMIT_BITS bits in its numerator or denominator (`9^9^9`) is not
computed: the operation falls back to floats (an `Oversized` value) and is counted, so
nothing can hang or exhaust memory. bpdiff.api.differentiate(..., exact=True) runs the
pipeline with this namespace (NAMESPACE) and keeps the fractions in an Exact.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import re
import sys
from fractions import Fraction
from typing import TYPE_CHECKING, NamedTuple

from bpdiff.engine import scalar
from bpdiff.numbers import to_number

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import TypeVar

    _Number = TypeVar("_Number", float, Fraction)  # fabs: |x| of the kind x is

LIMIT_BITS = 10_000
_oversized: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar(
    "bpdiff_exact_oversized", default=None)


class Approx(float):
    """A float that is an approximation: arithmetic with it gives Approx again."""

    __slots__ = ()

    def __add__(self, other: float | Fraction) -> Approx:
        return Approx(float(self) + to_float(other))

    def __radd__(self, other: float | Fraction) -> Approx:
        return Approx(to_float(other) + float(self))

    def __sub__(self, other: float | Fraction) -> Approx:
        return Approx(float(self) - to_float(other))

    def __rsub__(self, other: float | Fraction) -> Approx:
        return Approx(to_float(other) - float(self))

    def __mul__(self, other: float | Fraction) -> Approx:
        return Approx(float(self) * to_float(other))

    def __rmul__(self, other: float | Fraction) -> Approx:
        return Approx(to_float(other) * float(self))

    def __truediv__(self, other: float | Fraction) -> Approx:
        return Approx(scalar.div(float(self), to_float(other)))

    def __rtruediv__(self, other: float | Fraction) -> Approx:
        return Approx(scalar.div(to_float(other), float(self)))

    def __neg__(self) -> Approx:
        return Approx(-float(self))

    def __pos__(self) -> Approx:
        return self

    def __abs__(self) -> Approx:
        return Approx(abs(float(self)))


class Oversized(Approx):
    """The float stand-in for an exact result over LIMIT_BITS bits."""

    __slots__ = ()


def to_float(x: float | Fraction) -> float:
    """`x` as a plain float; a fraction beyond float range becomes ±inf, not an error."""
    try:
        return float(x)
    except OverflowError:
        return math.inf if x > 0 else -math.inf


def fraction(x: object) -> Fraction | None:
    """`x` as a Fraction, or None when it is an approximation (or nan/inf)."""
    if isinstance(x, Approx):
        return None
    if isinstance(x, Fraction):
        return x
    if isinstance(x, int):
        return Fraction(x)
    if isinstance(x, float) and math.isfinite(x):
        return Fraction(x)
    return None


def _too_big(numerator: int, denominator: int) -> bool:
    return max(abs(numerator).bit_length(), denominator.bit_length()) > LIMIT_BITS


def _give_up(value: float) -> Oversized:
    hits = _oversized.get()
    if hits is not None:
        hits.append(1)
    return Oversized(value)


def _q(fraction: Fraction) -> Q | Oversized:
    """A Fraction as a Q, or an Oversized float when it is over the size limit."""
    if _too_big(fraction.numerator, fraction.denominator):
        return _give_up(to_float(fraction))
    return Fraction.__new__(Q, fraction)


def _binary(exact_op: Callable[[Fraction, Fraction], Fraction],
            float_op: Callable[[float, float], float],
            ) -> tuple[Callable[[Q, float | Fraction], Q | Approx],
                       Callable[[Q, float | Fraction], Q | Approx]]:
    def forward(self: Q, other: float | Fraction) -> Q | Approx:
        b = fraction(other)
        if b is None:
            return Approx(float_op(to_float(self), to_float(other)))
        return _q(exact_op(self, b))

    def reverse(self: Q, other: float | Fraction) -> Q | Approx:
        b = fraction(other)
        if b is None:
            return Approx(float_op(to_float(other), to_float(self)))
        return _q(exact_op(b, self))
    return forward, reverse


class Q(Fraction):
    """An exact rational value: arithmetic with Q, int or a literal float stays exact."""

    __slots__ = ()

    # Fraction's own methods, called directly: no dispatch back to Q, no recursion.
    # They may give an Approx where Fraction's give a Fraction: hence the type ignores.
    __add__, __radd__ = _binary(Fraction.__add__, float.__add__)  # type: ignore[assignment]
    __sub__, __rsub__ = _binary(Fraction.__sub__, float.__sub__)  # type: ignore[assignment]
    __mul__, __rmul__ = _binary(Fraction.__mul__, float.__mul__)  # type: ignore[assignment]

    def __truediv__(self, other: float | Fraction) -> Q | Approx:  # type: ignore[override]
        return div(self, other)

    def __rtruediv__(self, other: float | Fraction) -> Q | Approx:  # type: ignore[override]
        return div(other, self)

    def __neg__(self) -> Q:
        return Fraction.__new__(Q, Fraction.__neg__(self))

    def __pos__(self) -> Q:
        return self

    def __abs__(self) -> Q:
        return Fraction.__new__(Q, Fraction.__abs__(self))

    def __repr__(self) -> str:
        return f"Q({self})"


def exact(value: float | Fraction) -> Q | Approx:
    """`value` as a Q when it is exact, else as Approx."""
    e = fraction(value)
    return Approx(to_float(value)) if e is None else _q(e)


# ---- the namespace: a MathNamespace (bpdiff.engine.namespace), exact where it can be ----

ARRAYS = False  # values are numbers: Q or Approx
quiet = scalar.quiet
ones_like = scalar.ones_like
anywhere = scalar.anywhere


def div(a: float | Fraction, b: float | Fraction) -> Q | Approx:
    """a / b, exact for exact operands; division by zero as in bpdiff.engine.scalar."""
    ea, eb = fraction(a), fraction(b)
    if ea is None or eb is None or eb == 0:
        return Approx(scalar.div(to_float(a), to_float(b)))
    return _q(Fraction.__truediv__(ea, eb))


def pow(a: float | Fraction, b: float | Fraction) -> Q | Approx:
    """a ** b, exact for an exact base and an integer exponent (a square root too,
    for an exponent n/2 of a perfect square); else as bpdiff.engine.scalar.pow."""
    ea, eb = fraction(a), fraction(b)
    if ea is not None and eb is not None and not (ea == 0 and eb < 0):
        if eb.denominator == 1:
            n = eb.numerator
            if n == 0:
                return Fraction.__new__(Q, 1)
            if abs(n) * math.log2(max(abs(ea.numerator), ea.denominator)) > LIMIT_BITS:
                return _give_up(scalar.pow(to_float(a), to_float(b)))
            return _q(Fraction.__pow__(ea, n))
        if eb.denominator == 2 and ea > 0:
            root = _exact_sqrt(ea)
            if root is not None:
                return pow(root, Fraction(eb.numerator))
    return Approx(scalar.pow(to_float(a), to_float(b)))


def _exact_sqrt(x: Fraction) -> Fraction | None:
    """The square root of a Fraction when it is rational, else None."""
    if x < 0:
        return None
    n, d = math.isqrt(x.numerator), math.isqrt(x.denominator)
    if n * n == x.numerator and d * d == x.denominator:
        return Fraction(n, d)
    return None


def sqrt(x: float | Fraction) -> Q | Approx:
    """Square root: exact for a perfect square, else as bpdiff.engine.scalar.sqrt."""
    e = fraction(x)
    root = None if e is None else _exact_sqrt(e)
    return Approx(scalar.sqrt(to_float(x))) if root is None else _q(root)


def _transcendental(fn: Callable[[float], float],
                    exact_points: dict[float | Fraction, int | Fraction],
                    ) -> Callable[[float | Fraction], Q | Approx]:
    """A float function of bpdiff.engine.scalar, exact at the points listed (e.g. exp(0) = 1)."""
    def apply(x: float | Fraction) -> Q | Approx:
        e = fraction(x)
        if e is not None and e in exact_points:
            return _q(Fraction(exact_points[e]))
        return Approx(fn(to_float(x)))
    apply.__name__ = fn.__name__
    apply.__doc__ = f"{fn.__name__}(x) as a float (Approx), exact only at {sorted(exact_points)}."
    return apply


exp = _transcendental(scalar.exp, {0: 1})
log = _transcendental(scalar.log, {1: 0})
log1p = _transcendental(scalar.log1p, {0: 0})
expm1 = _transcendental(scalar.expm1, {0: 0})
sin = _transcendental(scalar.sin, {0: 0})
cos = _transcendental(scalar.cos, {0: 1})
tan = _transcendental(scalar.tan, {0: 0})
tanh = _transcendental(scalar.tanh, {0: 0})
atan = _transcendental(scalar.atan, {0: 0})
asin = _transcendental(scalar.asin, {0: 0})
acos = _transcendental(scalar.acos, {1: 0})
sigmoid = _transcendental(scalar.sigmoid, {0: Fraction(1, 2)})
softplus = _transcendental(scalar.softplus, {})


def fabs(x: _Number) -> _Number:
    """|x|, exact for exact x."""
    return abs(x)


# These only compare and pick, so bpdiff.engine.scalar's versions are exact already.
sign = scalar.sign
step = scalar.step
maximum = scalar.maximum
minimum = scalar.minimum
tie_share = scalar.tie_share
relu = scalar.relu
where = scalar.where


def first_nonfinite(x: float | Fraction) -> float | None:
    """x as a float if it is nan or ±inf (a Q never is), else None."""
    return None if fraction(x) is not None else scalar.first_nonfinite(float(x))


def all_finite(values: list[float | Fraction]) -> bool:
    """Whether every number in `values` is finite."""
    return all(first_nonfinite(x) is None for x in values)


# ---- numbers from text -----------------------------------------------------------------

_DECIMAL = re.compile(r"\s*[+-]?(\d*)\.?(\d*)(?:[eE]([+-]?\d+))?\s*\Z")


def parse_number(text: object) -> Fraction | None:
    """A number's text (decimal, `1e-3` or a fraction `-1/4`) as an exact Fraction;
    None when it is no number, or too large to hold exactly (over LIMIT_BITS)."""
    text = str(text).strip()
    if text.count("/") == 1:
        top, bottom = (_decimal(part) for part in text.split("/"))
        if top is None or bottom is None or bottom == 0:
            return None
        return top / bottom
    return _decimal(text)


def _decimal(text: str) -> Fraction | None:
    match = _DECIMAL.match(text)
    if match is None or not (match.group(1) or match.group(2)):
        return None
    digits = len(match.group(1)) + len(match.group(2))
    exponent = int(match.group(3) or 0) if len(match.group(3) or "") < 8 else 10**8
    if (digits + abs(exponent)) * 3.33 > LIMIT_BITS:
        return None
    return Fraction(text.strip())


def constant(value: float) -> Q | Approx:
    """A float the parser read from a program as the number written there: its
    shortest decimal (0.1 -> 1/10), as a Q; nan and inf stay floats (Approx)."""
    if isinstance(value, float) and math.isfinite(value):
        return _q(Fraction(repr(value)))
    return exact(value)


def input_value(name: str, given: object) -> Q | Approx:
    """An input's value as given (number or text) as a Q, else Approx."""
    if isinstance(given, bool):
        return Approx(math.nan)
    if isinstance(given, int):
        return exact(given)
    if isinstance(given, float):
        return constant(given)
    number = parse_number(given)
    if number is None:
        return Approx(to_number(name, given))
    return _q(number)


# ---- the pipeline --------------------------------------------------------------------


class Exact(NamedTuple):
    """The fractions of an exact run, by node id. A value or gradient that could not be
    kept exact is None there (its float is in the Result); `oversized` counts the
    operations that fell back to floats for size."""

    values: list[Fraction | None]
    grads: list[Fraction | None]
    inputs: dict[str, Fraction | None]  # name -> Fraction or None
    oversized: int
    limit: int = LIMIT_BITS


@contextlib.contextmanager
def counting_oversized() -> Iterator[list[int]]:
    """A list that collects, while the block runs, each operation that fell back to
    floats for size (each run counts its own: the list lives in a context variable)."""
    hits: list[int] = []
    token = _oversized.set(hits)
    try:
        yield hits
    finally:
        _oversized.reset(token)


NAMESPACE = sys.modules[__name__]  # this module is the namespace passed to the rules as `m`
