"""IEEE-754 scalar math for the primitive table: never raises, returns nan/inf instead.

Python's `math` raises on domain errors (log(0), sqrt(-1), 1/0, exp(1000));
bpdiff must report such values, not crash. Every function here takes and returns
floats and follows what NumPy/PyTorch would give. The module is a math namespace
(bpdiff.engine.namespace.MathNamespace). Imports only the standard library.
"""

from __future__ import annotations

import contextlib
import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable
    from contextlib import AbstractContextManager

ARRAYS = False  # values are floats

_INF = math.inf
_NAN = math.nan


def div(a: float, b: float) -> float:
    """a / b with IEEE semantics for division by zero."""
    try:
        return a / b
    except ZeroDivisionError:
        if a == 0 or a != a:
            return _NAN
        return math.copysign(_INF, a) * math.copysign(1.0, b)


def _is_odd_integer(x: float) -> bool:
    return math.isfinite(x) and x == int(x) and int(x) % 2 == 1


def pow(a: float, b: float) -> float:
    """a ** b as C's pow(): real results only, nan outside the real domain."""
    try:
        return math.pow(a, b)
    except OverflowError:
        return -_INF if a < 0 and _is_odd_integer(b) else _INF
    except ValueError:
        if a == 0 and b < 0:  # pole: sign follows a signed zero for odd exponents
            return math.copysign(_INF, a) if _is_odd_integer(b) else _INF
        return _NAN  # negative base with a non-integer exponent


def exp(x: float) -> float:
    """e ** x, inf on overflow."""
    try:
        return math.exp(x)
    except OverflowError:
        return _INF


def log(x: float) -> float:
    """Natural logarithm: -inf at 0, nan below."""
    if x > 0:
        return math.log(x)
    return -_INF if x == 0 else _NAN


def log1p(x: float) -> float:
    """log(1 + x), exact near 0: -inf at -1, nan below."""
    if x > -1:
        return math.log1p(x)
    return -_INF if x == -1 else _NAN


def expm1(x: float) -> float:
    """e ** x - 1, exact near 0; inf on overflow."""
    try:
        return math.expm1(x)
    except OverflowError:
        return _INF


def sqrt(x: float) -> float:
    """Square root, nan below zero; sqrt(-0.0) is +0.0 so that sqrt'(0) = +inf."""
    if x > 0:
        return math.sqrt(x)
    return 0.0 if x == 0 else _NAN


def _guarded(fn: Callable[[float], float]) -> Callable[[float], float]:
    def safe(x: float) -> float:
        try:
            return fn(x)
        except (ValueError, OverflowError):
            return _NAN
    safe.__name__ = fn.__name__
    safe.__doc__ = f"{fn.__name__}(x), nan outside its domain."
    return safe


sin = _guarded(math.sin)
cos = _guarded(math.cos)
tan = _guarded(math.tan)
tanh = math.tanh
atan = math.atan
asin = _guarded(math.asin)
acos = _guarded(math.acos)
fabs = abs


def sigmoid(x: float) -> float:
    """Logistic function 1 / (1 + e^-x), stable for large |x|."""
    if x >= 0:
        return 1.0 / (1.0 + exp(-x))
    z = exp(x)
    return z / (1.0 + z)


def sign(x: float) -> float:
    """-1, 0 or 1 (sign(0) = 0, the abs'(0) = 0 convention); nan stays nan."""
    if x > 0:
        return 1.0
    if x < 0:
        return -1.0
    return x * 0.0  # 0 for 0, nan for nan


def step(x: float) -> float:
    """1 where x > 0 else 0: relu's derivative with relu'(0) = 0."""
    return 1.0 if x > 0 else 0.0


def maximum(a: float, b: float) -> float:
    """max(a, b), propagating nan like torch.maximum."""
    if a != a or b != b:
        return _NAN
    return a if a >= b else b


def minimum(a: float, b: float) -> float:
    """min(a, b), propagating nan like torch.minimum."""
    if a != a or b != b:
        return _NAN
    return a if a <= b else b


def tie_share(a: float, b: float) -> float:
    """How much of max(a, b)'s gradient goes to a: 1, 0, or 1/2 at a tie."""
    if a > b:
        return 1.0
    if a < b:
        return 0.0
    return 0.5 if a == b else _NAN


def softplus(x: float) -> float:
    """log(1 + e^x), stable for large |x|."""
    if x > 0:
        return x + math.log1p(exp(-x))
    return math.log1p(exp(x))


def relu(x: float) -> float:
    """max(x, 0), propagating nan."""
    return 0.0 if x <= 0 else x


def where(condition: object, if_true: float, if_false: float) -> float:
    """`if_true` where `condition` holds, else `if_false` (numpy.where for floats)."""
    return if_true if condition else if_false


def quiet() -> AbstractContextManager[None]:
    """A context for the passes; floats need no silencing (these functions never raise)."""
    return contextlib.nullcontext()


def constant(payload: float) -> float:
    """A literal's value: the float the parser read."""
    return payload


def ones_like(x: float) -> float:
    """The seed of the backward pass: 1."""
    return 1.0


def anywhere(x: object) -> bool:
    """Whether the truth value x holds."""
    return bool(x)


def all_finite(values: list[float]) -> bool:
    """Whether every float in `values` is finite: one sum, which is finite exactly then
    or overflowed (the caller then looks number by number)."""
    return math.isfinite(sum(values))


def first_nonfinite(x: float) -> float | None:
    """x if it is nan or ±inf, else None."""
    return None if math.isfinite(x) else x
