"""The math namespace interface: every member the primitive table's rules and the passes
over the graph call as `m.<name>`, with what it means.

A namespace is any object with these members (a module such as bpdiff.engine.scalar, or
a SimpleNamespace built by a function). `MathNamespace` is what every namespace
provides: scalar (floats), exact (fractions), dual's (dual numbers), tensor (NumPy
arrays) and crosscheck's torch and jax ones. `ArrayNamespace` adds what the tensor-only
operations (matmul, sum, softmax, ...) and the array passes need; only bpdiff.engine.tensor
provides it, and its ARRAYS is True. tests/test_namespace.py checks every namespace
against these classes. Imports only the standard library.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from contextlib import AbstractContextManager


class MathNamespace(Protocol):
    """The functions a math namespace provides; each takes and returns its own kind of
    number (a float, a Fraction, a Dual, an array, ...), nan and inf instead of errors."""

    ARRAYS: bool
    """True when values are NumPy arrays: the passes then run the tensor-only rules,
    undo broadcasting and settle gradients as arrays (ArrayNamespace)."""

    # ---- the forward rules of the operations on numbers (elementwise on arrays) ----
    def div(self, a: Any, b: Any) -> Any:
        """a / b; division by zero gives ±inf or nan, as IEEE does."""

    def pow(self, a: Any, b: Any) -> Any:
        """a ** b as C's pow(): nan outside the real domain, inf at a pole."""

    def exp(self, x: Any) -> Any:
        """e ** x, inf on overflow."""

    def log(self, x: Any) -> Any:
        """Natural logarithm: -inf at 0, nan below."""

    def log1p(self, x: Any) -> Any:
        """log(1 + x), exact near 0: -inf at -1, nan below."""

    def expm1(self, x: Any) -> Any:
        """e ** x - 1, exact near 0; inf on overflow."""

    def sqrt(self, x: Any) -> Any:
        """Square root, nan below 0; sqrt(-0.0) is +0.0 (so sqrt'(0) = +inf)."""

    def sin(self, x: Any) -> Any:
        """Sine (radians)."""

    def cos(self, x: Any) -> Any:
        """Cosine (radians)."""

    def tan(self, x: Any) -> Any:
        """Tangent (radians)."""

    def tanh(self, x: Any) -> Any:
        """Hyperbolic tangent."""

    def atan(self, x: Any) -> Any:
        """Inverse tangent, in (-pi/2, pi/2)."""

    def asin(self, x: Any) -> Any:
        """Inverse sine, in [-pi/2, pi/2]; nan outside [-1, 1]."""

    def acos(self, x: Any) -> Any:
        """Inverse cosine, in [0, pi]; nan outside [-1, 1]."""

    def fabs(self, x: Any) -> Any:
        """|x|."""

    def sigmoid(self, x: Any) -> Any:
        """1 / (1 + e^-x), stable for large |x|."""

    def relu(self, x: Any) -> Any:
        """max(x, 0), nan staying nan."""

    def softplus(self, x: Any) -> Any:
        """log(1 + e^x), stable for large |x|."""

    def sign(self, x: Any) -> Any:
        """-1, 0 or 1 (sign(0) = 0); nan staying nan."""

    def step(self, x: Any) -> Any:
        """1 where x > 0, else 0."""

    def maximum(self, a: Any, b: Any) -> Any:
        """The larger of a and b; nan if either is nan."""

    def minimum(self, a: Any, b: Any) -> Any:
        """The smaller of a and b; nan if either is nan."""

    # ---- the local-derivative rules ----
    def tie_share(self, a: Any, b: Any) -> Any:
        """How much of max(a, b)'s gradient goes to a: 1, 0, or 1/2 at a tie."""

    def where(self, condition: Any, if_true: Any, if_false: Any) -> Any:
        """if_true where condition holds, else if_false (numpy.where)."""

    # ---- the passes over the graph ----
    def quiet(self) -> AbstractContextManager[Any]:
        """A context in which nan and inf arise silently (bpdiff reports them itself)."""

    def constant(self, payload: Any) -> Any:
        """A literal's value (the graph's payload of a constant node) as a number here."""

    def ones_like(self, x: Any) -> Any:
        """The seed of the backward pass for an output of value x: 1, or ones."""

    def anywhere(self, x: Any) -> bool:
        """Whether the truth value x (a bool, or an array of them) holds anywhere."""

    def all_finite(self, values: list[Any]) -> bool:
        """Whether every number in the list `values` is finite (a quick first look)."""

    def first_nonfinite(self, x: Any) -> float | None:
        """The first nan or inf number in x, as a float; None if all are finite."""


class ArrayNamespace(MathNamespace, Protocol):
    """What tensor mode adds: array helpers for the tensor-only rules and the passes.
    Helpers only move and reduce data; which combination is a derivative is stated
    in the primitive table. Shape problems raise ValueError with a message for users."""

    # ---- the passes over the graph ----
    def asarray(self, x: Any) -> Any:
        """A rule's result as an array (NumPy gives 0-d results as scalars)."""

    def unbroadcast(self, grad: Any, shape: tuple[int, ...]) -> Any:
        """grad summed over the axes broadcasting added or stretched, back to `shape`."""

    def settle(self, grad: Any) -> Any:
        """A finished gradient as a plain, writable float64 array."""

    # ---- the tensor-only rules ----
    def reshape(self, x: Any, shape: tuple[int, ...]) -> Any:
        """x with the same elements in `shape`."""

    def matmul(self, a: Any, b: Any) -> Any:
        """a @ b for vectors and matrices."""

    def transpose(self, a: Any) -> Any:
        """Matrix transpose; a vector or scalar is its own transpose."""

    def as_matrix_rows(self, a: Any) -> Any:
        """A vector as a one-row matrix, a matrix as itself (the left operand of @)."""

    def as_matrix_columns(self, b: Any) -> Any:
        """A vector as a one-column matrix, a matrix as itself (the right operand of @)."""

    def total(self, a: Any, axis: Any = None, keepdims: bool = False) -> Any:
        """Sum of all elements, or along `axis` (an integer, a tuple of them)."""

    def count(self, a: Any, axis: Any = None) -> int:
        """How many elements `total` adds up per result."""

    def spread(self, g: Any, a: Any, axis: Any = None, keepdims: bool = False) -> Any:
        """A reduction's upstream gradient g copied back over a's shape."""

    def kept(self, r: Any, a: Any, axis: Any = None, keepdims: bool = False) -> Any:
        """A reduction's result r with the axes it reduced of a put back (length 1)."""

    def drop_reduced(self, r: Any, a: Any, axis: Any = None) -> Any:
        """A result kept with length-1 axes, those axes dropped."""

    def largest(self, a: Any, axis: Any = None, keepdims: bool = False) -> Any:
        """The largest element, or the largest along `axis`."""

    def smallest(self, a: Any, axis: Any = None, keepdims: bool = False) -> Any:
        """The smallest element, or the smallest along `axis`."""

    def finite_largest(self, z: Any, axis: Any = -1) -> Any:
        """max along `axis`, kept with length 1 (0 where it is not finite)."""

    def arg_extreme(self, a: Any, largest: bool, axis: Any = None,
                    keepdims: bool = False) -> Any:
        """The index of the largest (or smallest) element, flat or along one axis."""

    def subscript(self, a: Any, pattern: tuple[str, ...], parts: tuple[Any, ...]) -> Any:
        """a[...] for a subscript pattern (slices, ..., indices) with numbers `parts`."""

    def subscript_grad(self, g: Any, a: Any, pattern: tuple[str, ...],
                       parts: tuple[Any, ...]) -> Any:
        """Zeros shaped like a with g added where subscript() took its elements."""

    def reshape_to(self, a: Any, shape: Any) -> Any:
        """a in `shape` (a value holding integers, -1 for what is left)."""

    def shape_of(self, a: Any) -> Any:
        """a's shape as a vector of integers."""

    def take_along(self, a: Any, k: Any, axis: Any) -> Any:
        """NumPy's take_along_axis."""

    def put_along(self, g: Any, a: Any, k: Any, axis: Any) -> Any:
        """Zeros shaped like a with g added where take_along took its elements."""

    def concat(self, parts: tuple[Any, ...], axis: Any) -> Any:
        """Arrays joined along an axis."""

    def concat_part(self, g: Any, parts: tuple[Any, ...], axis: Any, part: int) -> Any:
        """The piece of concat's gradient g that belongs to parts[part]."""

    def stack(self, parts: tuple[Any, ...], axis: Any) -> Any:
        """Arrays of one shape stacked along a new axis."""

    def stack_part(self, g: Any, parts: tuple[Any, ...], axis: Any, part: int) -> Any:
        """The slice of stack's gradient g that belongs to parts[part]."""

    def filled(self, shape: Any, value: float) -> Any:
        """An array of `shape` filled with `value`."""

    def identity(self, n: Any) -> Any:
        """The n × n identity matrix."""

    def count_up(self, n: Any) -> Any:
        """0, 1, ..., n - 1."""

    def one_hot_rows(self, k: Any, classes: Any) -> Any:
        """Rows of `classes` zeros with 1 at the integer classes k."""

    def same_shape(self, a: Any, b: Any, name: str) -> None:
        """ValueError unless a and b have the same shape (`name` is the op's)."""

    def last_axis_max(self, z: Any) -> Any:
        """max over the last axis, kept as an axis of length 1 (0 where not finite)."""

    def last_axis_sum(self, z: Any) -> Any:
        """Sum over the last axis, kept as an axis of length 1."""

    def pick(self, z: Any, k: Any) -> Any:
        """z[k] for a vector; row i's entry k[i] for a matrix of rows."""

    def one_hot(self, z: Any, k: Any) -> Any:
        """Zeros shaped like z with 1 where `pick` reads."""

    def batch_size(self, z: Any) -> int:
        """Rows of a matrix of scores (1 for a vector)."""

    def element(self, a: Any, *index: Any) -> Any:
        """a[i] or a[i, j] with integer-valued indices."""

    def scatter(self, g: Any, a: Any, *index: Any) -> Any:
        """Zeros shaped like a with g at a[index] (element's gradient)."""


def missing_members(namespace: Any, interface: type = MathNamespace) -> list[str]:
    """The members of `interface` that `namespace` lacks or provides with the wrong
    kind (a function where a callable is due, a bool for ARRAYS), sorted."""
    missing = []
    for name in members(interface):
        if not hasattr(namespace, name):
            missing.append(name)
        elif name == "ARRAYS":
            if not isinstance(namespace.ARRAYS, bool):
                missing.append(name)
        elif not callable(getattr(namespace, name)):
            missing.append(name)
    return sorted(missing)


def members(interface: type = MathNamespace) -> list[str]:
    """The names `interface` declares (ARRAYS and its functions), sorted."""
    names: set[str] = set()
    for klass in interface.__mro__:
        if klass in (MathNamespace, ArrayNamespace):
            names.update(name for name in vars(klass) if not name.startswith("_"))
            names.update(klass.__annotations__)
    return sorted(names)
