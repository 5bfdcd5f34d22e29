"""Dual numbers: forward-mode differentiation of bpdiff's own rules, for second derivatives.

A `Dual` is a value with a tangent (its derivative along one direction of the inputs).
`+ - *` follow the sum and product rules; comparisons look at the value only, so the
rules' tests (`b == 0`, `at_kink`) see the point itself. `namespace()` gives a math
namespace `m` with every function of bpdiff.engine.scalar: each one that is a primitive
(m.sin is `sin`, m.fabs `abs`, m.maximum `max`, ...) takes its tangent from that
primitive's own local derivatives in the table, so this module knows no derivative;
m.tie_share, a step function, has derivative 0 and stays a plain float.

Run autodiff.forward and autodiff.backward with this namespace and Dual inputs and the
tangents of the gradients are the Hessian times the direction (forward-over-reverse).
Inputs off the direction stay plain floats, and so does everything computed only
from them: no 0 * inf from tangents that are known to be zero.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from bpdiff.engine import scalar
from bpdiff.engine.kinks import local_derivative
from bpdiff.engine.ops import BY_NAME

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TypeVar

    from bpdiff.engine.namespace import MathNamespace
    from bpdiff.engine.ops import Primitive

    _T = TypeVar("_T")


class Dual:
    """value + tangent·ε with ε² = 0."""

    __slots__ = ("value", "tangent")

    def __init__(self, value: float, tangent: float) -> None:
        self.value = value
        self.tangent = tangent

    def __add__(self, other: Dual | float) -> Dual:
        if isinstance(other, Dual):
            return Dual(self.value + other.value, self.tangent + other.tangent)
        return Dual(self.value + other, self.tangent)

    __radd__ = __add__

    def __sub__(self, other: Dual | float) -> Dual:
        if isinstance(other, Dual):
            return Dual(self.value - other.value, self.tangent - other.tangent)
        return Dual(self.value - other, self.tangent)

    def __rsub__(self, other: float) -> Dual:
        return Dual(other - self.value, -self.tangent)

    def __mul__(self, other: Dual | float) -> Dual:
        if isinstance(other, Dual):
            return Dual(self.value * other.value,
                        self.value * other.tangent + self.tangent * other.value)
        return Dual(self.value * other, self.tangent * other)

    __rmul__ = __mul__

    def __neg__(self) -> Dual:
        return Dual(-self.value, -self.tangent)

    def __pos__(self) -> Dual:
        return self

    def __eq__(self, other: object) -> bool:
        return self.value == value(other)

    def __ne__(self, other: object) -> bool:
        return self.value != value(other)

    def __lt__(self, other: Dual | float) -> bool:
        return self.value < value(other)

    def __le__(self, other: Dual | float) -> bool:
        return self.value <= value(other)

    def __gt__(self, other: Dual | float) -> bool:
        return self.value > value(other)

    def __ge__(self, other: Dual | float) -> bool:
        return self.value >= value(other)

    __hash__ = None  # type: ignore[assignment]  # unhashable, as == compares values

    def __repr__(self) -> str:
        return f"Dual({self.value!r}, {self.tangent!r})"


def value(x: Dual | _T) -> float | _T:
    """The value of a Dual, or `x` itself."""
    return x.value if isinstance(x, Dual) else x


def tangent(x: Dual | float) -> float:
    """The tangent of a Dual; 0 for a plain number (constant along the direction)."""
    return x.tangent if isinstance(x, Dual) else 0.0


LIFTED = {"div": "div", "pow": "pow", "exp": "exp", "log": "log", "sqrt": "sqrt",
          "log1p": "log1p", "expm1": "expm1", "atan": "arctan", "asin": "arcsin",
          "acos": "arccos",
          "sin": "sin", "cos": "cos", "tan": "tan", "tanh": "tanh", "fabs": "abs",
          "sigmoid": "sigmoid", "sign": "sign", "step": "step", "maximum": "max",
          "minimum": "min", "softplus": "softplus", "relu": "relu"}
"""bpdiff.engine.scalar function -> the primitive whose rules differentiate it."""

CONSTANT = ("tie_share", "first_nonfinite")
"""bpdiff.engine.scalar functions applied to the values: tie_share (a step, derivative 0)
and a test."""

SELECTORS = ("where",)
"""bpdiff.engine.scalar functions that pick one of their operands, tangent and all."""

PASSES = ("quiet", "constant", "ones_like", "anywhere")
"""bpdiff.engine.scalar members the passes use, as they are (they never do arithmetic)."""


def namespace(kink: dict[str, tuple[float, ...]] | None = None) -> MathNamespace:
    """A math namespace (bpdiff.engine.namespace.MathNamespace) over Duals and plain
    floats; `kink` (op name -> local derivatives, as for autodiff.backward) sets the
    convention at kinks."""
    functions = {name: _lift(BY_NAME[op], (kink or {}).get(op))
                 for name, op in LIFTED.items()}
    functions.update({name: _plain(getattr(scalar, name)) for name in CONSTANT})
    functions.update({name: getattr(scalar, name) for name in SELECTORS + PASSES})
    return SimpleNamespace(ARRAYS=False, all_finite=_all_finite, **functions)


def _all_finite(values: list[Dual | float]) -> bool:
    return scalar.all_finite([value(x) for x in values])


def _plain(fn: Callable[..., Any]) -> Callable[..., Any]:
    return lambda *args: fn(*[value(a) for a in args])


def _lift(op: Primitive, at_kink_locals: tuple[float, ...] | None) -> Callable[..., Any]:
    forward = op.forward

    def apply(*args: Any) -> Any:
        if not any(isinstance(a, Dual) for a in args):
            return forward(scalar, *args)
        values = [value(a) for a in args]
        out = forward(scalar, *values)
        # (an op given kink locals has an at_kink rule, which mypy cannot see)
        kinked = None if at_kink_locals is None else op.at_kink(*values)  # type: ignore[misc]
        locals_ = [local_derivative(scalar, op, position, values, out, kinked, at_kink_locals)
                   for position in range(op.arity)]
        total = 0.0
        for a, local in zip(args, locals_):
            if isinstance(a, Dual):
                total += local * a.tangent
        return Dual(out, total)

    apply.__name__ = op.name
    return apply
