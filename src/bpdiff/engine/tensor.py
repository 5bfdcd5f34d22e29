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


def total(a: np.ndarray, axis: Any = None, keepdims: bool = False) -> np.ndarray:
    """Sum of all elements, or along `axis` (an integer, a tuple of them, None: all)."""
    return np.sum(a, axis=_axes(a, axis), keepdims=bool(keepdims))


def count(a: np.ndarray, axis: Any = None) -> int:
    """How many elements `total` adds up per result."""
    axes = _axes(a, axis)
    return a.size if axes is None else int(np.prod([a.shape[k] for k in axes]))


def kept(r: np.ndarray, a: np.ndarray, axis: Any = None, keepdims: bool = False) -> np.ndarray:
    """A reduction's result (or gradient) `r` with the axes it reduced of `a` put back
    with length 1, so that it broadcasts against `a`."""
    if keepdims:
        return r
    axes = _axes(a, axis)
    return np.reshape(r, [1 if axes is None or k in axes else n for k, n in enumerate(a.shape)])


def drop_reduced(r: np.ndarray, a: np.ndarray, axis: Any = None) -> np.ndarray:
    """A result kept with length-1 axes, those axes dropped (keepdims=False)."""
    axes = _axes(a, axis)
    return np.reshape(r, [n for k, n in enumerate(a.shape) if axes is not None and k not in axes])


def spread(g: np.ndarray, a: np.ndarray, axis: Any = None, keepdims: bool = False) -> np.ndarray:
    """A reduction's upstream gradient `g` copied back over `a`'s shape."""
    return np.broadcast_to(kept(g, a, axis, keepdims), a.shape)


def largest(a: np.ndarray, axis: Any = None, keepdims: bool = False) -> np.ndarray:
    """The largest element, or the largest along `axis`."""
    return np.max(_not_empty(a), axis=_axes(a, axis), keepdims=bool(keepdims))


def smallest(a: np.ndarray, axis: Any = None, keepdims: bool = False) -> np.ndarray:
    """The smallest element, or the smallest along `axis`."""
    return np.min(_not_empty(a), axis=_axes(a, axis), keepdims=bool(keepdims))


def finite_largest(z: np.ndarray, axis: Any = -1) -> np.ndarray:
    """max along `axis`, kept with length 1 (0 where it is not finite)."""
    if z.ndim == 0:
        raise ValueError("logsumexp takes a vector or matrix, not a scalar")
    top = np.max(_not_empty(z), axis=_axes(z, axis), keepdims=True)
    return np.where(np.isfinite(top), top, 0.0)


def arg_extreme(a: np.ndarray, largest: bool, axis: Any = None,
                keepdims: bool = False) -> np.ndarray:
    """The index of the largest (or smallest) element, flat, or along one axis."""
    axes = _axes(a, axis)
    if axes is not None and len(axes) != 1:
        raise ValueError("argmax and argmin take one axis, not a tuple")
    pick_ = np.argmax if largest else np.argmin
    found = pick_(_not_empty(a), axis=None if axes is None else axes[0], keepdims=bool(keepdims))
    return np.asarray(found, dtype=np.float64)


def _not_empty(a: np.ndarray) -> np.ndarray:
    if a.size == 0:
        raise ValueError("an empty array has no largest or smallest element")
    return a


def _axes(a: np.ndarray, axis: Any) -> tuple[int, ...] | None:
    """`axis` (None, an integer, a tuple of them, or a value standing for one) as a tuple
    of axes counted from 0; ValueError when one is not an axis of `a`."""
    if axis is None:
        return None
    items = axis if type(axis) is tuple else tuple(np.atleast_1d(np.asarray(axis)))
    axes = tuple(_axis(a, k) % max(a.ndim, 1) for k in items)
    if len(set(axes)) != len(axes):
        raise ValueError(f"axis {axis} names an axis twice")
    return axes


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
    """a[i] or a[i, j] with integer-valued indices, or integer arrays (taken together:
    s[arange(N), y] is s[0, y[0]], s[1, y[1]], ...)."""
    return a[_index_tuple(a, index)]


def scatter(g: np.ndarray, a: np.ndarray, *index: ArrayLike) -> np.ndarray:
    """Zeros shaped like `a`, with `g` added at a[index] (element's gradient)."""
    out = np.zeros_like(a)
    np.add.at(out, _index_tuple(a, index), g)
    return out


def _index_tuple(a: np.ndarray, index: tuple[ArrayLike, ...]) -> tuple[Any, ...]:
    if a.ndim < len(index):
        raise ValueError(f"{len(index)} indices for shape {shape_text(a.shape)}")
    return tuple(_position(a, k, axis) for axis, k in enumerate(index))


def _position(a: np.ndarray, k: ArrayLike, axis: int) -> Any:
    """An index along `axis`: an integer, or an array of them (checked in range)."""
    k = np.asarray(k)
    if k.ndim == 0:
        return _index(a, k, axis)
    n = a.shape[axis]
    if not np.all(np.isfinite(k)) or np.any(k != np.round(k)):
        raise ValueError(f"indices must be integers, not {_value_text(k)}")
    if k.size and (k.min() < -n or k.max() >= n):
        raise ValueError(f"index {int(k.max() if k.max() >= n else k.min())} is out of range"
                         f" for length {n}")
    return k.astype(np.intp)


def subscript(a: np.ndarray, pattern: tuple[str, ...], parts: tuple[Any, ...]) -> np.ndarray:
    """a[...] for a subscript `pattern` (one item per place: 'i' an index or array of
    them, ':' plus which of start, stop, step are given as '1'/'0' (':101'), '...') whose
    numbers are `parts`, in order."""
    return a[_subscript_key(a, pattern, parts)]


def subscript_grad(g: np.ndarray, a: np.ndarray, pattern: tuple[str, ...],
                   parts: tuple[Any, ...]) -> np.ndarray:
    """Zeros shaped like `a` with `g` added where subscript() took its elements."""
    out = np.zeros_like(a)
    np.add.at(out, _subscript_key(a, pattern, parts), g)
    return out


def _subscript_key(a: np.ndarray, pattern: tuple[str, ...], parts: tuple[Any, ...]) -> tuple:
    places = sum(item != "..." for item in pattern)
    if places > a.ndim:
        raise ValueError(f"{places} indices for shape {shape_text(a.shape)}")
    if pattern.count("...") > 1:
        raise ValueError("a subscript holds one ... at most")
    values = iter(parts)
    key: list[Any] = []
    axis = 0
    for item in pattern:
        if item == "...":
            key.append(Ellipsis)
            axis += a.ndim - places
        elif item == "i":
            key.append(_position(a, next(values), axis))
            axis += 1
        else:
            start, stop, step = (integer(next(values), "a slice's bound") if given == "1"
                                 else None for given in item[1:])
            if step == 0:
                raise ValueError("a slice's step cannot be 0")
            key.append(slice(start, stop, step))
            axis += 1
    return tuple(key)


def reshape_to(a: np.ndarray, shape: ArrayLike) -> np.ndarray:
    """`a` in `shape` (integers, one of them may be -1), with a message if it cannot be."""
    dims = tuple(integer(n, "a length") for n in np.atleast_1d(np.asarray(shape)).ravel())
    try:
        return np.reshape(a, dims)
    except ValueError:
        raise ValueError(f"cannot reshape {shape_text(a.shape)} ({a.size} elements) to"
                         f" {shape_text(dims)}") from None


def shape_of(a: np.ndarray) -> np.ndarray:
    """`a`'s shape as a vector of (float) integers."""
    return np.asarray(a.shape, dtype=np.float64)


def _along(a: np.ndarray, k: ArrayLike, axis: Any) -> tuple[np.ndarray, Any, int]:
    """(array, index array, axis) for take_along_axis, checked, as NumPy takes them."""
    k = np.asarray(k)
    if axis is None:
        a, axis = a.ravel(), 0
    else:
        axis = _axis(a, axis)
    if k.ndim != a.ndim:
        raise ValueError(f"take_along_axis needs indices with as many axes as the array:"
                         f" {shape_text(k.shape)} for {shape_text(a.shape)}")
    return a, _position(a, k, axis) % max(a.shape[axis], 1), axis


def take_along(a: np.ndarray, k: ArrayLike, axis: Any) -> np.ndarray:
    """NumPy's take_along_axis(a, k, axis)."""
    a, picked, along = _along(a, k, axis)
    return np.take_along_axis(a, picked, along)


def put_along(g: np.ndarray, a: np.ndarray, k: ArrayLike, axis: Any) -> np.ndarray:
    """Zeros shaped like `a` with `g` added where take_along took its elements."""
    flat, picked, along = _along(a, k, axis)
    out = np.zeros_like(flat)
    grid: list[Any] = list(np.indices(picked.shape, sparse=True))
    grid[along] = picked
    np.add.at(out, tuple(grid), g)
    return np.reshape(out, a.shape)


def concat(parts: tuple[np.ndarray, ...], axis: Any) -> np.ndarray:
    """The arrays `parts` joined along `axis`."""
    if any(part.ndim == 0 for part in parts):
        raise ValueError("concat joins arrays, not scalars (stack makes a vector of them)")
    try:
        return np.concatenate(parts, axis=_axis(parts[0], axis))
    except ValueError:
        raise ValueError("concat needs arrays of one shape but along the axis, not "
                         + ", ".join(shape_text(p.shape) for p in parts)) from None


def concat_part(g: np.ndarray, parts: tuple[np.ndarray, ...], axis: Any,
                part: int) -> np.ndarray:
    """The piece of concat's gradient `g` that belongs to `parts[part]`."""
    axis = _axis(parts[0], axis)
    start = sum(p.shape[axis] for p in parts[:part])
    return np.take(g, range(start, start + parts[part].shape[axis]), axis=axis)


def stack(parts: tuple[np.ndarray, ...], axis: Any) -> np.ndarray:
    """The arrays `parts`, of one shape, stacked along a new axis."""
    if len({p.shape for p in parts}) > 1:
        raise ValueError("stack needs arrays of one shape, not "
                         + ", ".join(shape_text(p.shape) for p in parts))
    k = integer(axis, "axis")
    if not -parts[0].ndim - 1 <= k <= parts[0].ndim:
        raise ValueError(f"axis {k} is out of range for stacking {shape_text(parts[0].shape)}")
    return np.stack(parts, axis=k)


def stack_part(g: np.ndarray, parts: tuple[np.ndarray, ...], axis: Any,
               part: int) -> np.ndarray:
    """The slice of stack's gradient `g` that belongs to `parts[part]`."""
    return np.take(g, part, axis=integer(axis, "axis"))


def filled(shape: ArrayLike, value: float) -> np.ndarray:
    """An array of `shape` (an integer or a vector of them) filled with `value`."""
    dims = tuple(integer(n, "a length") for n in np.atleast_1d(np.asarray(shape)).ravel())
    if any(n < 0 for n in dims):
        raise ValueError(f"a length cannot be negative: {shape_text(dims)}")
    return np.full(dims, value)


def identity(n: ArrayLike) -> np.ndarray:
    """The n × n identity matrix."""
    return np.eye(_length(n))


def count_up(n: ArrayLike) -> np.ndarray:
    """0, 1, ..., n - 1 as floats."""
    return np.arange(_length(n), dtype=np.float64)


def _length(n: ArrayLike) -> int:
    k = integer(n, "a length")
    if k < 0:
        raise ValueError(f"a length cannot be negative: {k}")
    return k


def one_hot_rows(k: ArrayLike, classes: ArrayLike) -> np.ndarray:
    """For integer classes `k` (a vector, or one), rows of `classes` zeros with 1 at k."""
    c = _length(classes)
    k = np.asarray(k)
    hot = np.zeros(k.shape + (c,))
    ks = np.asarray([_position(hot, k_i, hot.ndim - 1) for k_i in k.ravel()], dtype=np.intp)
    hot.reshape(-1, c)[np.arange(k.size), ks] = 1.0
    return hot


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
