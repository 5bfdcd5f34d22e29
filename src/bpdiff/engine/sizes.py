"""Array sizes known before computing: the shape an operation's result will have, from
its operands' shapes, so that the forward pass can refuse an operation that would make
an array too big to hold (x * x.T with 100,000 elements: 10^10 of them) before NumPy
tries to allocate it. Plain arithmetic on shape tuples; imports nothing of bpdiff's.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

DEFAULT_MAX_ELEMENTS = 100_000_000  # one float64 array of 800 MB

# results no larger than their first operand (reductions, reshapes, same-shape maps)
_AT_MOST_FIRST = frozenset({"sum", "mean", "amax", "amin", "var", "std", "argmax", "argmin",
                            "norm", "norm2", "softmax", "logsumexp", "log_softmax",
                            "cross_entropy", "reshape", "flatten", "shape"})
# results whose size the operands' values give (a length, a shape, the classes)
_FROM_VALUES = frozenset({"ones", "zeros", "eye", "arange", "one_hot"})


def result_shape(op_name: str, shapes: Sequence[tuple[int, ...]],
                 values: Sequence[Any] = ()) -> tuple[int, ...]:
    """The shape op `op_name` gives operands of `shapes`, or an upper bound of the same
    size (a reduction: its operand's); shapes that do not fit give the bound their
    largest dimensions would (the operation itself reports the mismatch). Ops that make
    arrays of a given size (ones, arange, ...) read it from the operands' `values`."""
    shapes = [tuple(shape) for shape in shapes]
    if op_name in _FROM_VALUES:
        return _made_shape(op_name, shapes, values)
    if not shapes:
        return ()
    if op_name in ("index", "index2", "getitem", "take_along_axis"):
        # integer arrays pick as many elements as they hold, each maybe a whole slice
        picked = [shape for shape in shapes[1:] if shape]
        return broadcast_shape(picked) + shapes[0] if picked else shapes[0]
    if op_name in ("concat", "stack"):
        return (sum(elements(shape) for shape in shapes),)
    if op_name == "matmul" and len(shapes) == 2:
        a, b = shapes
        return tuple(a[:-1]) + tuple(b[1:]) if a and b else broadcast_shape(shapes)
    if op_name == "transpose":
        return shapes[0][::-1]
    if op_name == "dot":
        return broadcast_shape(shapes)  # a * b, summed
    if op_name in _AT_MOST_FIRST:
        return shapes[0]
    return broadcast_shape(shapes)  # elementwise


def _made_shape(op_name: str, shapes: list[tuple[int, ...]],
                values: Sequence[Any]) -> tuple[int, ...]:
    """The shape ones/zeros/eye/arange/one_hot make (lengths below 0 count as 0; the op
    itself refuses what is not a length)."""
    def lengths(value: Any) -> tuple[int, ...]:
        flat = getattr(value, "flat", [value])
        return tuple(max(0, int(n)) if n == n and abs(n) < 2**62 else 0 for n in flat)
    if not values:
        return ()
    if op_name == "eye":
        n = lengths(values[0])[:1] or (0,)
        return n + n
    if op_name == "one_hot":
        return shapes[0] + (lengths(values[1])[:1] or (0,))
    return lengths(values[0])


def broadcast_shape(shapes: Sequence[tuple[int, ...]]) -> tuple[int, ...]:
    """NumPy's broadcast of `shapes` (right-aligned, each dimension the largest)."""
    rank = max(len(shape) for shape in shapes)
    padded = [(1,) * (rank - len(shape)) + shape for shape in shapes]
    return tuple(max(dims) for dims in zip(*padded))


def elements(shape: tuple[int, ...]) -> int:
    """How many numbers an array of `shape` holds (1 for a scalar)."""
    return math.prod(shape)


def result_elements(op_name: str, shapes: Sequence[tuple[int, ...]],
                    values: Sequence[Any] = ()) -> int:
    """How many numbers op `op_name`'s result on operands of `shapes` holds (at most)."""
    return elements(result_shape(op_name, shapes, values))


def oversized(op_name: str, shapes: Sequence[tuple[int, ...]], limit: int,
              values: Sequence[Any] = ()) -> str | None:
    """A message when op `op_name` on operands of `shapes` (and `values`, for the ops
    that make arrays of a given size) would make more than `limit` numbers (naming the
    shape it would make), else None."""
    count = result_elements(op_name, shapes, values)
    if count <= limit:
        return None
    shape = result_shape(op_name, shapes, values)
    return (f"the result would be an array of shape {_shape_text(shape)}, {count:,} numbers,"
            f" over the limit of {limit:,} (--max-elements)")


def _shape_text(shape: tuple[int, ...]) -> str:
    return "(" + ",".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def total_elements(values: Iterable[Any]) -> int:
    """The numbers in a list of node values (floats count 1, arrays their size)."""
    return sum(getattr(value, "size", 1) for value in values)


def broadcast_axes(shape: tuple[int, ...], result: tuple[int, ...]) -> tuple[int, ...]:
    """The axes of `result` along which an operand of `shape` was broadcast to make it
    (added in front, or stretched from length 1): those its gradient is summed over."""
    extra = len(result) - len(shape)
    return tuple(range(extra)) + tuple(extra + k for k, n in enumerate(shape)
                                       if n == 1 and result[extra + k] != 1)
