"""NumPy math for the primitive table: the same names as bpdiff.engine.scalar, on arrays.

In tensor mode (some value is an array) the primitive table's rules run with this
namespace as `m`: elementwise rules written for floats work unchanged on arrays with
NumPy broadcasting, and the tensor-only rules (matmul, sum, softmax, ...) use the
array helpers below: the module is an ArrayNamespace (bpdiff.engine.namespace).
Helpers only move and reduce data; which combination is a derivative is stated in
the primitive table. Numbers are float64; nan and inf come
out as NumPy gives them (callers run under `quiet()`).

Shape problems raise ValueError with a message fit for users; bpdiff.api adds the node.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from typing import Any

    from numpy.typing import ArrayLike

ARRAYS = True  # values are arrays: the passes run the tensor-only rules and unbroadcast

asarray = np.asarray
reshape = np.reshape
exp = np.exp
log = np.log
log1p = np.log1p
expm1 = np.expm1
sin = np.sin
cos = np.cos
tan = np.tan
tanh = np.tanh
atan = np.arctan
asin = np.arcsin
acos = np.arccos
fabs = np.abs
sign = np.sign
maximum = np.maximum
minimum = np.minimum
div = np.divide
pow = np.power
where = np.where


def quiet() -> np.errstate:
    """A context in which overflow, division by zero and invalid operations give
    inf/nan silently (bpdiff reports them itself)."""
    return np.errstate(all="ignore")


def constant(payload: float | tuple[Any, ...]) -> np.ndarray:
    """A literal's value as an array: a float, or nested tuples of floats."""
    return np.asarray(payload, dtype=np.float64)


def sqrt(x: np.ndarray) -> np.ndarray:
    """Square root; sqrt(-0.0) is +0.0 so that sqrt'(0) = +inf, as in bpdiff.engine.scalar."""
    return np.sqrt(x) + 0.0


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function, stable for large |x|."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def step(x: np.ndarray) -> np.ndarray:
    """1 where x > 0 else 0."""
    return np.where(x > 0, 1.0, 0.0)


def relu(x: np.ndarray) -> np.ndarray:
    """max(x, 0), propagating nan."""
    return np.where(x <= 0, 0.0, x)


def tie_share(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """How much of max(a, b)'s gradient goes to a: 1, 0, or 1/2 at a tie."""
    return np.where(a > b, 1.0, np.where(a < b, 0.0, np.where(a == b, 0.5, np.nan)))


def softplus(x: np.ndarray) -> np.ndarray:
    """log(1 + e^x), stable for large |x|."""
    return np.logaddexp(0.0, x)


def unbroadcast(grad: Any, shape: tuple[int, ...]) -> np.ndarray:
    """Sum `grad` over the axes broadcasting added or stretched, back to `shape`."""
    grad = np.asarray(grad)
    if grad.shape == shape:
        return grad
    grad = np.broadcast_to(grad, np.broadcast_shapes(grad.shape, shape))
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad


def shape_text(shape: tuple[int, ...]) -> str:
    """(3, 2) -> '(3,2)'; () -> '()' (a scalar)."""
    return "(" + ",".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b for vectors and matrices, with a message naming both shapes."""
    if a.ndim == 0 or b.ndim == 0 or a.ndim > 2 or b.ndim > 2:
        raise ValueError(f"{shape_text(a.shape)} @ {shape_text(b.shape)}: @ takes vectors"
                         " and matrices (use * for a scalar factor)")
    if a.shape[-1] != b.shape[0]:
        raise ValueError(f"{shape_text(a.shape)} @ {shape_text(b.shape)}: inner dimensions"
                         f" {a.shape[-1]} and {b.shape[0]} differ")
    return np.matmul(a, b)


def as_matrix_rows(a: np.ndarray) -> np.ndarray:
    """A vector as a one-row matrix, a matrix as itself (the left operand of @)."""
    return a.reshape(-1, a.shape[-1])


def as_matrix_columns(b: np.ndarray) -> np.ndarray:
    """A vector as a one-column matrix, a matrix as itself (the right operand of @)."""
    return b.reshape(b.shape[0], -1)


def transpose(a: np.ndarray) -> np.ndarray:
    """Matrix transpose; a vector or scalar is its own transpose."""
    return np.transpose(a)


def integer(k: ArrayLike, what: str = "an index") -> int:
    """The integer a (float) value stands for; ValueError if it is not one."""
    k = np.asarray(k)
    if k.ndim != 0 or not np.isfinite(k) or k != np.round(k):
        raise ValueError(f"{what} must be an integer, not {_value_text(k)}")
    return int(k)


def integers(k: ArrayLike, length: int) -> np.ndarray:
    """An array of `length` class indices as ints."""
    k = np.asarray(k)
    if k.shape != (length,) or not np.all(np.isfinite(k)) or np.any(k != np.round(k)):
        raise ValueError(f"the class indices must be {length} integers, one per row,"
                         f" not {_value_text(k)}")
    return k.astype(np.intp)


def _value_text(x: ArrayLike) -> str:
    return np.array2string(np.asarray(x), precision=6, separator=", ")


def total(a: np.ndarray, axis: ArrayLike | None = None) -> np.ndarray:
    """Sum of all elements, or along integer-valued `axis` (a value, maybe float)."""
    return np.sum(a, axis=None if axis is None else _axis(a, axis))


def count(a: np.ndarray, axis: ArrayLike | None = None) -> int:
    """How many elements `total` adds up per result."""
    return a.size if axis is None else a.shape[_axis(a, axis)]


def spread(g: np.ndarray, a: np.ndarray, axis: ArrayLike | None = None) -> np.ndarray:
    """A reduction's upstream gradient `g` copied back over `a`'s shape."""
    if axis is not None:
        g = np.expand_dims(g, _axis(a, axis))
    return np.broadcast_to(g, a.shape)


def _axis(a: np.ndarray, axis: ArrayLike) -> int:
    k = integer(axis, "axis")
    if not -a.ndim <= k < max(a.ndim, 1) or a.ndim == 0:
        raise ValueError(f"axis {k} is out of range for shape {shape_text(a.shape)}")
    return k


def same_shape(a: np.ndarray, b: np.ndarray, name: str) -> None:
    """ValueError unless `a` and `b` have the same shape."""
    if a.shape != b.shape:
        raise ValueError(f"{name} takes two arrays of the same shape, not"
                         f" {shape_text(a.shape)} and {shape_text(b.shape)}")


def last_axis_max(z: np.ndarray) -> np.ndarray:
    """max over the last axis, kept as an axis of length 1 (0 where it is not finite)."""
    if z.ndim == 0:
        raise ValueError("softmax, logsumexp and cross_entropy take a vector or matrix,"
                         " not a scalar")
    top = np.max(z, axis=-1, keepdims=True)
    return np.where(np.isfinite(top), top, 0.0)


def last_axis_sum(z: np.ndarray) -> np.ndarray:
    """Sum over the last axis, kept as an axis of length 1."""
    return np.sum(z, axis=-1, keepdims=True)


def keep_last(g: np.ndarray) -> np.ndarray:
    """A last-axis reduction's result or gradient, with that axis put back (length 1)."""
    return np.expand_dims(g, -1)


def pick(z: np.ndarray, k: ArrayLike) -> np.ndarray:
    """z[k] for a vector and an integer k; row i's entry k[i] for a matrix."""
    if z.ndim == 1:
        return z[_index(z, k, 0)]
    if z.ndim == 2:
        return z[np.arange(z.shape[0]), _indices(z, k)]
    raise ValueError(f"cross_entropy takes a vector or a matrix of scores, not shape"
                     f" {shape_text(z.shape)}")


def one_hot(z: np.ndarray, k: ArrayLike) -> np.ndarray:
    """Zeros shaped like z with 1 where `pick` reads."""
    hot = np.zeros_like(z)
    if z.ndim == 1:
        hot[_index(z, k, 0)] = 1.0
    else:
        hot[np.arange(z.shape[0]), _indices(z, k)] = 1.0
    return hot


def _indices(z: np.ndarray, k: ArrayLike) -> np.ndarray:
    k = integers(k, z.shape[0])
    if np.any((k < 0) | (k >= z.shape[1])):
        raise ValueError(f"class index out of range for {z.shape[1]} classes")
    return k


def _index(a: np.ndarray, k: ArrayLike, axis: int) -> int:
    k = integer(k)
    n = a.shape[axis]
    if not -n <= k < n:
        raise ValueError(f"index {k} is out of range for length {n}")
    return k


def element(a: np.ndarray, *index: ArrayLike) -> np.ndarray:
    """a[i] or a[i, j] with integer-valued indices."""
    if a.ndim < len(index):
        raise ValueError(f"{len(index)} indices for shape {shape_text(a.shape)}")
    return a[tuple(_index(a, k, axis) for axis, k in enumerate(index))]


def scatter(g: np.ndarray, a: np.ndarray, *index: ArrayLike) -> np.ndarray:
    """Zeros shaped like `a`, with `g` at a[index] (element's gradient)."""
    out = np.zeros_like(a)
    out[tuple(_index(a, k, axis) for axis, k in enumerate(index))] = g
    return out


def batch_size(z: np.ndarray) -> int:
    """Rows of a matrix of scores (1 for a vector): cross_entropy averages over them."""
    return z.shape[0] if z.ndim == 2 else 1


def ones_like(x: np.ndarray) -> np.ndarray:
    """The seed of the backward pass: ones shaped like the output."""
    return np.ones_like(x)


def settle(g: np.ndarray) -> np.ndarray:
    """A finished gradient as a plain, writable float64 array (not a broadcast view)."""
    return np.array(g, dtype=np.float64)


def anywhere(x: ArrayLike) -> bool:
    """Whether the truth value x holds in some element."""
    return bool(np.any(x))


def all_finite(values: list[np.ndarray]) -> bool:
    """Whether every element of every array in `values` is finite."""
    return all(np.isfinite(x).all() for x in values)


def first_nonfinite(x: np.ndarray) -> float | None:
    """The first nan or inf element of `x` as a float, None if all are finite."""
    bad = ~np.isfinite(x)
    return float(np.asarray(x)[bad].flat[0]) if bad.any() else None
