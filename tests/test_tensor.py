"""Tensor mode against independent oracles.

* Every tensor rule (ops.TENSOR_PRIMITIVES) and every scalar primitive applied
  elementwise to arrays: bpdiff's forward value against a NumPy/`math` reference, and
  its gradient against central finite differences ELEMENT BY ELEMENT, for
  L = sum(C * op(...)) with a random weight array C (so the upstream gradient is not
  all ones), on random shapes (hypothesis) and on named broadcasting cases. A new
  primitive without a case here fails `test_every_primitive_has_a_case`.
* The seeds' two-layer network, a softmax cross-entropy loss and linear regression,
  unrolled into one scalar variable per element (W_0_1, ...) and differentiated by
  bpdiff's scalar mode: the same gradients to 1e-10; SymPy on small cases.
* Shape and value errors, the table and JSON output, lazy NumPy, 100,000-deep nesting
  and non-finite values in tensor mode, through the CLI (conftest.run_main).
* The tensor examples (examples/tensor_*.bp) against their unrolled scalar versions.
"""

import json
import math
import operator
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import jsonschema
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import bpdiff
from bpdiff.engine import ops, tensor
from bpdiff.engine.autodiff import forward
from bpdiff.language.parse import parse
from conftest import run_main, substitute_op

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "src" / "bpdiff" / "schema" / "result.schema.json").read_text())
C_WEIGHTS = np.array([[1.5, -0.5, 2.0], [0.25, -1.0, 0.75]])

# Each element's gradient is checked against central differences with this step; the
# allowed error is RTOL relative to the gradient plus ATOL relative to the size of the
# sum L is made of (the rounding of f(x ± h) is about eps·|L|/h).
STEP = 1e-6
RTOL = 1e-6
ATOL = 1e-8

FD = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ---------------------------------------------------------------------------------------
# The checker: forward against a reference, every element against central differences


def assert_central_differences(graph, values, gradient, integers, scale, rtol, context=""):
    """Each float input's gradient (`gradient`: name -> array) equals, element by element,
    central differences of bpdiff's own forward pass over `graph` at `values`, within
    rtol·|estimate| + ATOL·scale; inputs in `integers` must get gradient 0."""
    def loss(point):
        return float(forward(graph, point, tensor)[graph.output])

    for name, value in values.items():
        grad = gradient[name]
        assert grad.shape == value.shape, (name, grad.shape, value.shape)
        if name in integers:
            assert np.all(grad == 0), f"∂L/∂{name} = {grad} for an integer argument"
            continue
        for index in np.ndindex(value.shape):
            h = STEP * max(1.0, abs(value[index]))
            plus, minus = value.copy(), value.copy()
            plus[index] += h
            minus[index] -= h
            estimate = (loss({**values, name: plus}) - loss({**values, name: minus})) / (2 * h)
            error = abs(estimate - grad[index])
            allowed = rtol * abs(estimate) + ATOL * scale
            assert error <= allowed, (
                f"{context}∂L/∂{name}{list(index)} = {grad[index]!r}, central"
                f" difference {estimate!r} (error {error:.3g} > {allowed:.3g})")


def finite_difference_check(program, values, integers=(), reference=None, expr=None):
    """Differentiate `program` (which defines L = sum(C * expr)) at `values` and check
    each float input's gradient element by element against central differences of
    bpdiff's own forward pass; integer-valued inputs (`integers`) must get gradient 0.
    With `reference`, the value of `expr` is checked against it first."""
    values = {name: np.asarray(value, dtype=np.float64) for name, value in values.items()}
    result = bpdiff.differentiate(program, values)
    assert result.tensor
    if reference is not None:
        node = result.graph.names["out"]
        np.testing.assert_allclose(result.values[node], reference, rtol=1e-12, atol=1e-12,
                                   err_msg=f"forward value of {expr}")
    graph = parse(program)

    weights = values["C"]
    scale = float(np.sum(np.abs(weights * result.values[result.graph.names["out"]]))) + 1.0
    assert_central_differences(graph, values, result.gradient, integers, scale, RTOL,
                               f"{program} at {values}:\n")
    return result


def check_expression(expr, values, data, integers=(), reference=None, prefix=""):
    """L = sum(C * (expr)) with C drawn to the shape of expr's value: no element zero, and
    no two equal (a ramp multiplies the draw), so the upstream gradient is never a
    multiple of ones."""
    shape = np.shape(reference) if reference is not None else np.shape(
        bpdiff.differentiate(prefix + expr, values).value)
    weights = data.draw(_arrays(shape, _away_from_zero(0.25, 2)), label="C")
    weights = weights * (1 + np.arange(weights.size).reshape(shape) / (weights.size + 3))
    program = f"{prefix}out = {expr}; L = sum(C * out)"
    return finite_difference_check(program, {**values, "C": weights}, integers, reference, expr)


# ---------------------------------------------------------------------------------------
# Scalar primitives, elementwise on arrays with broadcasting


def _uniform(low, high):
    return st.floats(low, high, allow_nan=False, allow_infinity=False)


def _away_from_zero(low, high):
    # |x| in [low, high]: no kink of abs/relu/step/sign within reach of the step
    return st.builds(lambda sign, x: sign * x, st.sampled_from([-1.0, 1.0]), _uniform(low, high))


def _grid(offset, width=0.3):
    # k + offset + u, u in [0, width]: values from _grid(0) and _grid(0.5) never tie
    return st.builds(lambda k, u: k + offset + u, st.integers(-2, 2), _uniform(0, width))


ANY = _uniform(-2, 2)
SCALAR_DOMAINS = {  # the elements each input is drawn from: away from poles and kinks
    "add": (ANY, ANY), "sub": (ANY, ANY), "mul": (ANY, ANY),
    "div": (ANY, _away_from_zero(0.5, 2)),
    "pow": (_uniform(0.5, 2), ANY),
    "neg": (ANY,), "id": (ANY,),
    "sin": (_uniform(-3, 3),), "cos": (_uniform(-3, 3),), "tan": (_uniform(-1.2, 1.2),),
    "exp": (_uniform(-3, 3),), "log": (_uniform(0.2, 3),), "sqrt": (_uniform(0.2, 3),),
    "abs": (_away_from_zero(0.1, 2),), "tanh": (_uniform(-3, 3),),
    "sigmoid": (_uniform(-5, 5),), "relu": (_away_from_zero(0.1, 2),),
    "softplus": (_uniform(-5, 5),),
    "max": (_grid(0.0), _grid(0.5)), "min": (_grid(0.0), _grid(0.5)),
    "step": (_away_from_zero(0.1, 2),), "sign": (_away_from_zero(0.1, 2),),
    "square": (ANY,), "cube": (ANY,), "reciprocal": (_away_from_zero(0.5, 2),),
    "log2": (_uniform(0.2, 3),), "log10": (_uniform(0.2, 3),), "log1p": (_uniform(-0.5, 3),),
    "expm1": (_uniform(-3, 3),), "sinh": (_uniform(-3, 3),), "cosh": (_uniform(-3, 3),),
    "arctan": (_uniform(-3, 3),), "arcsin": (_uniform(-0.9, 0.9),),
    "arccos": (_uniform(-0.9, 0.9),),
    **dict.fromkeys(["gt", "ge", "lt", "le", "eq", "ne"], (_grid(0.0), _grid(0.5))),
    "where": (_away_from_zero(0.1, 2), ANY, ANY),  # the program says where(a > 0, b, c)
    "clip": (_grid(0.0, 0.2), _grid(0.4, 0.2), _grid(0.7, 0.2)),  # no x at lo or hi
}


def _sigmoid(x):
    return 1 / (1 + math.exp(-x))


SCALAR_REFERENCE = {  # plain `math`, one element at a time
    "add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": operator.truediv,
    "pow": math.pow, "neg": operator.neg, "id": lambda x: x, "sin": math.sin,
    "cos": math.cos, "tan": math.tan, "exp": math.exp, "log": math.log, "sqrt": math.sqrt,
    "abs": abs, "tanh": math.tanh, "sigmoid": _sigmoid, "relu": lambda x: max(x, 0.0),
    "softplus": lambda x: math.log1p(math.exp(x)), "max": max, "min": min,
    "step": lambda x: 1.0 if x > 0 else 0.0, "sign": lambda x: math.copysign(1.0, x),
    "square": lambda x: x * x, "cube": lambda x: x ** 3, "reciprocal": lambda x: 1 / x,
    "log2": math.log2, "log10": math.log10, "log1p": math.log1p, "expm1": math.expm1,
    "sinh": math.sinh, "cosh": math.cosh, "arctan": math.atan, "arcsin": math.asin,
    "arccos": math.acos,
    "gt": lambda a, b: float(a > b), "ge": lambda a, b: float(a >= b),
    "lt": lambda a, b: float(a < b), "le": lambda a, b: float(a <= b),
    "eq": lambda a, b: float(a == b), "ne": lambda a, b: float(a != b),
    "where": lambda c, a, b: a if c > 0 else b,
    "clip": lambda x, lo, hi: min(max(x, lo), hi),
}
ARGS = ("a", "b", "c")


def scalar_program(p):
    """(statements before, expression) applying primitive `p` to the inputs a, b."""
    if p.name == "id":
        return "t = a; ", "t"
    if p.name == "where":
        return "", "where(a > 0, b, c)"
    if ops.FUNCTIONS.get(p.name) is p:
        return "", f"{p.name}({', '.join(ARGS[:p.arity])})"
    if p.arity == 2:
        return "", f"a {p.symbol} b"
    return "", f"{p.symbol}a"


def scalar_reference(p, args):
    return np.vectorize(SCALAR_REFERENCE[p.name], otypes=[np.float64])(*args)


def check_scalar_primitive(p, arrays, data):
    prefix, expr = scalar_program(p)
    values = dict(zip(ARGS, arrays))
    graph = parse(prefix + "out = " + expr)
    assert p in graph.ops, f"{prefix}{expr} does not apply {p.name}"
    check_expression(expr, values, data, reference=scalar_reference(p, arrays), prefix=prefix)


SCALAR_NAMES = [p.name for p in ops.SCALAR_PRIMITIVES]
TENSOR_NAMES = [p.name for p in ops.TENSOR_PRIMITIVES]

shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
BROADCAST_PAIRS = [((3, 1), (1, 4)), ((2, 3), (3,)), ((3,), (2, 3)), ((), (2, 3)),
                   ((2, 3), ()), ((4, 1), (4,)), ((2, 1, 3), (4, 1)), ((3,), (3,)),
                   ((2, 2), (2, 2)), ((), ()), ((1,), (3, 1))]
broadcast_pairs = st.one_of(
    st.sampled_from(BROADCAST_PAIRS),
    hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=4)
    .map(lambda s: s.input_shapes))


def _arrays(shape, elements):
    # every element drawn on its own (hnp.arrays' default fills most with one value)
    return hnp.arrays(np.float64, shape, elements=elements, fill=st.nothing())


@pytest.mark.parametrize("name", SCALAR_NAMES)
@FD
@given(data=st.data())
def test_scalar_primitive_elementwise_against_central_differences(name, data):
    p = ops.BY_NAME[name]
    domains = SCALAR_DOMAINS[name]
    shape_list = (data.draw(shapes, label="shape"),) if p.arity == 1 else \
        data.draw(broadcast_pairs, label="shapes") if p.arity == 2 else \
        data.draw(hnp.mutually_broadcastable_shapes(num_shapes=p.arity, max_dims=3, max_side=4)
                  .map(lambda s: s.input_shapes), label="shapes")
    arrays = [data.draw(_arrays(shape, domain), label=arg)
              for shape, domain, arg in zip(shape_list, domains, ARGS)]
    check_scalar_primitive(p, arrays, data)


@pytest.mark.parametrize("shapes_", BROADCAST_PAIRS, ids=str)
@pytest.mark.parametrize("name", [p.name for p in ops.SCALAR_PRIMITIVES if p.arity == 2])
@settings(FD, max_examples=6)
@given(data=st.data())
def test_binary_primitive_on_named_broadcasting_cases(name, shapes_, data):
    p = ops.BY_NAME[name]
    arrays = [data.draw(_arrays(shape, domain), label=arg)
              for shape, domain, arg in zip(shapes_, SCALAR_DOMAINS[name], ARGS)]
    check_scalar_primitive(p, arrays, data)


# ---------------------------------------------------------------------------------------
# Tensor-only rules: each case draws (expression, values, integer inputs, reference)


def _logsumexp_reference(z):
    return np.log(np.sum(np.exp(z), axis=-1))


def _softmax_reference(z):
    e = np.exp(z)
    return e / np.sum(e, axis=-1, keepdims=True)


def _integer_text(draw, name, value, values, integers):
    """An integer argument as a literal or, half the time, as an input named `name`."""
    if draw(st.booleans()):
        values[name] = np.float64(value)
        integers.add(name)
        return name
    return str(value)


@st.composite
def _matmul(draw):
    n, m, k = (draw(st.integers(1, 4)) for _ in range(3))
    kind = draw(st.sampled_from(["mat-mat", "mat-vec", "vec-mat", "vec-vec"]))
    a_shape = {"mat-mat": (m, n), "mat-vec": (m, n), "vec-mat": (n,), "vec-vec": (n,)}[kind]
    b_shape = {"mat-mat": (n, k), "mat-vec": (n,), "vec-mat": (n, k), "vec-vec": (n,)}[kind]
    a, b = draw(_arrays(a_shape, ANY)), draw(_arrays(b_shape, ANY))
    reference = np.tensordot(a, b, axes=([a.ndim - 1], [0]))
    return "a @ b", {"a": a, "b": b}, set(), reference


@st.composite
def _transpose(draw):
    a = draw(_arrays(draw(shapes), ANY))
    expr = draw(st.sampled_from(["a.T", "transpose(a)"]))
    return expr, {"a": a}, set(), a.transpose(tuple(reversed(range(a.ndim))))


def _axis_settings(draw, a, values, integers, tuples=True):
    """(keyword text, NumPy axis, keepdims) drawn for array `a`: no axis, one (maybe
    negative) or a tuple of them, as keywords, positionally or in a method call."""
    if a.ndim == 0 or draw(st.booleans()):
        axis = None
    elif tuples and a.ndim > 1 and draw(st.booleans()):
        axis = tuple(draw(st.lists(st.integers(0, a.ndim - 1), min_size=1, max_size=a.ndim,
                                   unique=True)))
    else:
        axis = draw(st.integers(-a.ndim, a.ndim - 1))
    keepdims = draw(st.booleans())
    text = "" if axis is None else f", axis={_setting_text(axis)}"
    return text + (", keepdims=True" if keepdims else ""), axis, keepdims


def _setting_text(axis):
    return f"({', '.join(map(str, axis))},)" if type(axis) is tuple else str(axis)


_NUMPY_REDUCTIONS = {"sum": np.sum, "mean": np.mean, "amax": np.max, "amin": np.min,
                     "var": np.var, "std": np.std, "argmax": np.argmax, "argmin": np.argmin}
_CALLED = {"amax": "max", "amin": "min"}


@st.composite
def _reduction(draw, name):
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, max_side=4))
    a = draw(_arrays(shape, _uniform(-2, 2)))  # no ties: see test_kinks_of_array_ops_as_pytorch
    values, integers = {"a": a}, set()
    settings, axis, keepdims = _axis_settings(draw, a, values, integers,
                                              tuples=not name.startswith("arg"))
    extra = {}
    if name in ("var", "std"):
        ddof = draw(st.sampled_from([0, 1]))
        if ddof and (a.size if axis is None else np.prod(np.take(a.shape, axis))) < 2:
            ddof = 0
        settings += f", ddof={ddof}" if ddof else ""
        extra["ddof"] = ddof
    if name in ("std", "amax", "amin", "argmax", "argmin"):  # no ties, no std = 0 (kinks)
        a = a + np.arange(a.size).reshape(a.shape) * 0.37
        values["a"] = a
    called = _CALLED.get(name, name)
    expr = draw(st.sampled_from([f"{called}(a{settings})", f"a.{called}({settings[2:]})",
                                 f"np.{called}(a{settings})"]))
    reference = _NUMPY_REDUCTIONS[name](a, axis=axis, keepdims=keepdims, **extra)
    return expr, values, integers, np.asarray(reference, dtype=np.float64)


@st.composite
def _logsumexp_axis(draw):
    z = draw(_arrays(draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4)),
                     _uniform(-3, 3)))
    settings, axis, keepdims = _axis_settings(draw, z, {}, set())
    if axis is None:  # logsumexp's default is the last axis
        axis, settings = -1, settings
    reference = np.log(np.sum(np.exp(z), axis=axis, keepdims=keepdims))
    return f"logsumexp(z{settings})", {"z": z}, set(), reference


@st.composite
def _getitem(draw):
    """A subscript with slices, ... and integers (a random NumPy key, written out)."""
    a = draw(_arrays(draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=5)), ANY))
    values, integers, texts, key = {"a": a}, set(), [], []
    ellipsis = draw(st.booleans())
    places = draw(st.integers(1, a.ndim))
    axes = range(a.ndim - places, a.ndim) if ellipsis else range(places)
    if ellipsis:
        texts.append("...")
        key.append(Ellipsis)
    for axis in axes:
        n = a.shape[axis]
        if draw(st.booleans()):
            k = draw(st.integers(-n, n - 1))
            texts.append(_integer_text(draw, f"i{axis}", k, values, integers))
            key.append(k)
        else:
            start = draw(st.none() | st.integers(-n, n))
            stop = draw(st.none() | st.integers(-n, n))
            step = draw(st.none() | st.sampled_from([-2, -1, 1, 2, 3]))
            text = ":".join("" if v is None else str(v) for v in (start, stop))
            texts.append(text + ("" if step is None else f":{step}"))
            key.append(slice(start, stop, step))
    if all(type(k) is int for k in key) and len(key) <= 2:  # that is index/index2
        texts.append(":")
        key.append(slice(None))
        if len(key) > a.ndim:
            texts, key = ["...", *texts[-2:]], [Ellipsis, *key[-2:]]
    assume(a[tuple(key)].size > 0)  # an empty result leaves nothing to check
    return f"a[{', '.join(texts)}]", values, integers, a[tuple(key)]


@st.composite
def _picking(draw, name):
    """s[arange(N), y] and take_along_axis(s, k, axis=1): one element per row."""
    rows, classes = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    s = draw(_arrays((rows, classes), ANY))
    y = np.array(draw(st.lists(st.integers(0, classes - 1), min_size=rows, max_size=rows)),
                 dtype=np.float64)
    if name == "getitem":
        return "s[..., arange(N), y]", {"s": s, "y": y, "N": np.float64(rows)}, {"y", "N"}, \
            s[np.arange(rows), y.astype(int)]
    k = y.reshape(rows, 1)
    return "take_along_axis(s, k, axis=1)", {"s": s, "k": k}, {"k"}, \
        np.take_along_axis(s, k.astype(int), axis=1)


@st.composite
def _reshape(draw):
    a = draw(_arrays(draw(hnp.array_shapes(min_dims=0, max_dims=3, max_side=4)), ANY))
    dims = [d for d in (2, 3, 4, 5) if a.size % d == 0] or [1]
    first = draw(st.sampled_from(dims))
    shape = (first, a.size // first)
    expr = draw(st.sampled_from([f"reshape(a, ({first}, -1))", f"a.reshape({first}, -1)",
                                 f"a.reshape(({first}, {shape[1]}))",
                                 f"a.reshape(a.shape[0] * 0 + {first}, -1)"
                                 if a.ndim else f"a.reshape({first}, -1)"]))
    return expr, {"a": a}, set(), a.reshape(shape)


@st.composite
def _flatten(draw):
    a = draw(_arrays(draw(shapes), ANY))
    return draw(st.sampled_from(["flatten(a)", "a.flatten()"])), {"a": a}, set(), a.ravel()


@st.composite
def _shape(draw):
    a = draw(_arrays(draw(shapes), ANY))
    return "a + a.shape[0] * 0 + sum(a.shape)" if a.ndim else "a + sum(a.shape)", \
        {"a": a}, set(), a + sum(a.shape)


@st.composite
def _joined(draw, name):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=3))
    count = draw(st.integers(1, 3))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    parts = []
    for k in range(count):
        part_shape = list(shape)
        if name == "concat":
            part_shape[axis] = draw(st.integers(1, 3))
        parts.append(draw(_arrays(tuple(part_shape), ANY)))
    values = {f"p{k}": part for k, part in enumerate(parts)}
    names = ", ".join(values) + ("," if count == 1 else "")
    called = draw(st.sampled_from(["concat", "concatenate", "np.concatenate"])) \
        if name == "concat" else "stack"
    bracket = draw(st.sampled_from(["({})", "[{}]"])) if count > 1 else "({})"
    join = np.concatenate if name == "concat" else np.stack
    return f"{called}({bracket.format(names)}, axis={axis})", values, set(), \
        join(parts, axis=axis)


@st.composite
def _constants(draw, name):
    a = draw(_arrays(draw(hnp.array_shapes(min_dims=1, max_dims=2, max_side=4)), ANY))
    n = a.shape[0]
    cases = {"ones": (f"a * ones({_setting_text(a.shape)})", a * np.ones(a.shape)),
             "zeros": ("a + zeros(a.shape)", a + np.zeros(a.shape)),
             "eye": (f"eye({n}) @ a", np.eye(n) @ a),
             "arange": (f"a * arange({a.shape[-1]})", a * np.arange(a.shape[-1]))}
    expr, reference = cases[name]
    return expr, {"a": a}, set(), reference


@st.composite
def _one_hot(draw):
    rows, classes = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    y = np.array(draw(st.lists(st.integers(0, classes - 1), min_size=rows, max_size=rows)),
                 dtype=np.float64)
    s = draw(_arrays((rows, classes), ANY))
    return f"s * one_hot(y, {classes})", {"s": s, "y": y}, {"y"}, \
        s * np.eye(classes)[y.astype(int)]


@st.composite
def _dot(draw):
    shape = draw(shapes)
    a, b = draw(_arrays(shape, ANY)), draw(_arrays(shape, ANY))
    return "dot(a, b)", {"a": a, "b": b}, set(), math.fsum((a * b).flat)


@st.composite
def _norms(draw, name):
    a = draw(_arrays(draw(shapes), _away_from_zero(0.1, 2)))  # norm: never all zero
    squares = math.fsum((a * a).flat)
    return f"{name}(a)", {"a": a}, set(), squares if name == "norm2" else math.sqrt(squares)


@st.composite
def _last_axis(draw, name):
    z = draw(_arrays(draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4)),
                     _uniform(-3, 3)))
    reference = {"softmax": _softmax_reference, "logsumexp": _logsumexp_reference,
                 "log_softmax": lambda z: np.log(_softmax_reference(z))}[name](z)
    return f"{name}(z)", {"z": z}, set(), reference


@st.composite
def _cross_entropy(draw):
    classes = draw(st.integers(1, 4))
    values, integers = {}, set()
    if draw(st.booleans()):  # one vector of scores and a class index
        z = draw(_arrays((classes,), _uniform(-3, 3)))
        k = draw(st.integers(-classes, classes - 1))
        text = _integer_text(draw, "k", k, values, integers)
        reference = _logsumexp_reference(z) - z[k]
    else:  # a batch: one row of scores per example, a vector of classes
        rows = draw(st.integers(1, 4))
        z = draw(_arrays((rows, classes), _uniform(-3, 3)))
        k = draw(st.lists(st.integers(0, classes - 1), min_size=rows, max_size=rows))
        if draw(st.booleans()):
            values["k"] = np.array(k, dtype=np.float64)
            integers.add("k")
            text = "k"
        else:
            text = "[" + ", ".join(map(str, k)) + "]"
        reference = np.mean(_logsumexp_reference(z) - z[np.arange(rows), k])
    values["z"] = z
    return f"cross_entropy(z, {text})", values, integers, reference


@st.composite
def _index(draw, count):
    a = draw(_arrays(draw(hnp.array_shapes(min_dims=count, max_dims=3, max_side=4)), ANY))
    values, integers, texts, position = {"a": a}, set(), [], []
    for axis, name in zip(range(count), ("i", "j")):
        k = draw(st.integers(-a.shape[axis], a.shape[axis] - 1))
        texts.append(_integer_text(draw, name, k, values, integers))
        position.append(k)
    return f"a[{', '.join(texts)}]", values, integers, a[tuple(position)]


TENSOR_CASES = {
    "matmul": _matmul(),
    "transpose": _transpose(),
    **{name: _reduction(name) for name in _NUMPY_REDUCTIONS},
    "dot": _dot(),
    "norm2": _norms("norm2"),
    "norm": _norms("norm"),
    "softmax": _last_axis("softmax"),
    "logsumexp": st.one_of(_last_axis("logsumexp"), _logsumexp_axis()),
    "log_softmax": _last_axis("log_softmax"),
    "cross_entropy": _cross_entropy(),
    "index": _index(1),
    "index2": _index(2),
    "getitem": st.one_of(_getitem(), _picking("getitem")),
    "take_along_axis": _picking("take_along_axis"),
    "reshape": _reshape(),
    "flatten": _flatten(),
    "shape": _shape(),
    "concat": _joined("concat"),
    "stack": _joined("stack"),
    **{name: _constants(name) for name in ("ones", "zeros", "eye", "arange")},
    "one_hot": _one_hot(),
}


def test_every_primitive_has_a_case():
    assert set(TENSOR_CASES) == set(TENSOR_NAMES), "a tensor op without a case here"
    assert set(SCALAR_DOMAINS) == set(SCALAR_NAMES) == set(SCALAR_REFERENCE), (
        "a scalar op without a domain or a reference here")


@pytest.mark.parametrize("name", TENSOR_NAMES)
@FD
@given(data=st.data())
def test_tensor_rule_against_central_differences(name, data):
    expr, values, integers, reference = data.draw(TENSOR_CASES[name], label="case")
    applied = {op.name for op in parse(f"out = {expr}").ops if not isinstance(op, str)}
    assert name in applied, f"{expr} does not apply {name}"
    check_expression(expr, values, data, integers, np.asarray(reference))


# The checker itself must catch wrong rules: a mutated primitive table fails it.

def _mutant(name, **changes):
    return ops.BY_NAME[name]._replace(**changes)


def _unbroadcast_first_slice(grad, shape):
    # a plausible bug: a stretched axis keeps its first slice instead of the sum
    grad = np.asarray(grad)
    extra = grad.ndim - len(shape)
    grad = grad.sum(axis=tuple(range(extra))) if extra > 0 else grad
    for axis, n in enumerate(shape):
        if n == 1 and grad.shape[axis] != 1:
            grad = grad.take([0], axis=axis)
    return np.broadcast_to(grad, shape)


SQUARE = np.array([[1.0, 2.0, -1.0], [0.5, -0.25, 3.0], [2.0, 0.0, 1.0]]) / 3
MUTANTS = {  # name: (op, expression, values, the mutated primitive or None, tensor patch)
    "matmul: g @ b instead of g @ bᵀ": (
        "matmul", "a @ b", {"a": np.arange(6.0).reshape(2, 3) / 7, "b": SQUARE},
        lambda p: _mutant("matmul", vjps=(lambda m, g, a, b, out: m.matmul(g, b),
                                           p.vjps[1])), None),
    "softmax: without subtracting sum(g * out)": (
        "softmax", "softmax(a)", {"a": np.array([0.5, -1.0, 2.0])},
        lambda p: _mutant("softmax", vjps=(lambda m, g, z, out: out * g,)), None),
    "sum along an axis: g copied along the wrong axis": (
        "sum", "sum(a, axis=1)", {"a": SQUARE},
        lambda p: _mutant("sum", vjps=(lambda m, g, a, out, **at: np.broadcast_to(g, a.shape),)),
        None),
    "amax: the gradient to every tied element in full": (
        "amax", "a.max(axis=0)", {"a": np.array([[1.0, 2.0], [1.0, 0.5]])},
        lambda p: _mutant("amax", vjps=(lambda m, g, a, out, axis=None, keepdims=False:
                                         m.spread(g, a, axis) * (a == m.kept(out, a, axis)),)),
        None),
    "var: dividing by n - 1 where ddof = 0": (
        "var", "var(a, axis=1)", {"a": SQUARE},
        lambda p: _mutant("var", vjps=(lambda m, g, a, out, axis=None, keepdims=False, ddof=0:
                                        p.vjps[0](m, g, a, out, axis, keepdims, ddof + 1),)),
        None),
    "getitem: g put at the first elements": (
        "getitem", "a[:, 1:]", {"a": SQUARE},
        lambda p: _mutant("getitem", vjps=(lambda m, g, a, *rest, part=0, pattern=():
                                            np.pad(g, ((0, 0), (0, 1))) if not part else 0.0,)),
        None),
    "tanh: 1 - out instead of 1 - out^2": (
        "tanh", "tanh(a)", {"a": np.array([[0.3, -0.7], [1.1, 0.2]])},
        lambda p: _mutant("tanh", local_grads=(lambda m, a, out: 1.0 - out,)), None),
    "unbroadcast: a stretched axis keeps one slice": (
        "mul", "a * b", {"a": np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]]),
                         "b": np.array([[0.5], [1.5]])},
        None, ("unbroadcast", _unbroadcast_first_slice)),
}


@pytest.mark.parametrize("mutation", MUTANTS)
def test_the_checker_catches_a_wrong_rule(mutation, monkeypatch):
    name, expr, values, make, patch = MUTANTS[mutation]
    out = bpdiff.differentiate(f"out = {expr}", values).value
    weights = np.linspace(-1.5, 2.0, np.size(out)).reshape(np.shape(out))
    program = f"out = {expr}; L = sum(C * out)"
    finite_difference_check(program, {**values, "C": weights})  # the real rule passes
    if make is not None:
        mutant = make(ops.BY_NAME[name])
        substitute_op(monkeypatch, mutant)
        assert name in {op.name for op in parse(program).ops if not isinstance(op, str)}
    else:
        monkeypatch.setattr(tensor, *patch)
    with pytest.raises(AssertionError, match="central"):
        finite_difference_check(program, {**values, "C": weights})


# ---------------------------------------------------------------------------------------
# Regressions found while writing these tests


def test_summarised_table_of_a_big_tensor_graph():
    # Over --max-nodes the table keeps the nodes with the largest |gradient|: with arrays
    # that ranking compared whole arrays and crashed with a traceback.
    program = "sum(" + "tanh(" * 250 + "x" + ")" * 251
    code, out, err = run_main(program, "--x", "[0.5, -0.5]")
    assert code == 0, err
    assert "nodes hidden" in out and "Traceback" not in err


@pytest.mark.parametrize("shift", [0.0, 1e8, 2.0**50, -(2.0**50), 2.0**56])
def test_softmax_family_is_shift_invariant_at_large_logits(shift):
    # softmax, log_softmax and cross_entropy do not change, and logsumexp moves by the
    # shift, when every score moves by the same amount: the stable forms must keep that
    # at any magnitude (subtracting a rounded logsumexp from z gave log_softmax = 0).
    base = np.array([[0.5, -1.0, 2.0], [0.0, 0.0, 0.0]])
    if abs(shift) > 2.0**52:  # only multiples of 16 are exact there
        base = np.array([[16.0, -16.0, 0.0], [0.0, 0.0, 0.0]])
    exps = np.exp(base)
    softmax = exps / exps.sum(axis=1, keepdims=True)
    log_softmax = base - np.log(exps.sum(axis=1, keepdims=True))
    k = np.array([2.0, 1.0])
    z = base + shift
    assert np.all(z - shift == base)  # the shifted scores are exact
    cases = {
        "sum(C * log_softmax(z))": (np.sum(C_WEIGHTS * log_softmax),
                                    C_WEIGHTS - softmax * C_WEIGHTS.sum(axis=1, keepdims=True)),
        "sum(C * softmax(z))": (np.sum(C_WEIGHTS * softmax), None),
        "dot(c, logsumexp(z))": (None, np.array([[0.5], [-2.0]]) * softmax),
        "cross_entropy(z, k)": (-(log_softmax[0, 2] + log_softmax[1, 1]) / 2,
                                (softmax - [[0, 0, 1], [0, 1, 0]]) / 2),
    }
    for program, (value, grad) in cases.items():
        values = {"z": z, "k": k, "C": C_WEIGHTS, "c": np.array([0.5, -2.0])}
        result = bpdiff.differentiate(program, {n: v for n, v in values.items()
                                                if n in program.replace("cross", "")})
        if value is not None:
            assert float(result.value) == pytest.approx(value, rel=1e-12, abs=1e-12), program
        if grad is not None:
            np.testing.assert_allclose(result.gradient["z"], grad, rtol=1e-9, atol=1e-12,
                                       err_msg=program)


# ---------------------------------------------------------------------------------------
# An independent implementation: the same losses unrolled into scalars, one variable per
# element, and differentiated by bpdiff's scalar mode (no NumPy, no tensor rule involved).


def element_name(name, index):
    """W, (0, 1) -> 'W_0_1'; x, (2,) -> 'x_2'; s, () -> 's'."""
    return "_".join([name, *map(str, index)])


def scalar_values(values):
    """Each array's elements as scalar inputs named by element_name."""
    return {element_name(name, index): float(array[index])
            for name, array in values.items() for index in np.ndindex(np.shape(array))}


def _affine(W, x, b, out, xs="x", bs="b", ws="W"):
    """Statements out_j = W_j_0*x_0 + ... + b_j, for a matrix W and a vector x."""
    rows, cols = np.shape(W)
    return [f"{out}_{j} = " + " + ".join(f"{ws}_{j}_{k}*{xs}_{k}" for k in range(cols))
            + f" + {bs}_{j}" for j in range(rows)]


def two_layer_scalar(values):
    """h = tanh(W x + b); y = V h + a; L = ½‖y − t‖², one scalar per element."""
    hidden, outputs = len(values["b"]), len(values["a"])
    lines = _affine(values["W"], values["x"], values["b"], "z")
    lines += [f"h_{j} = tanh(z_{j})" for j in range(hidden)]
    lines += _affine(values["V"], np.zeros(hidden), values["a"], "y", xs="h", bs="a", ws="V")
    lines.append("L = 0.5*(" + " + ".join(f"(y_{i} - t_{i})^2" for i in range(outputs)) + ")")
    return "\n".join(lines)


TWO_LAYER = "h = tanh(W @ x + b); y = V @ h + a; L = 0.5*norm2(y - t)"


def softmax_loss_scalar(values):
    """Z = X W + c (a batch of rows of scores); L = mean over rows of -log softmax(Z_r)[k_r]."""
    X, W, k = values["X"], values["W"], values["k"]
    rows, classes = len(X), W.shape[1]
    lines = []
    for r in range(rows):
        for c in range(classes):
            lines.append(f"Z_{r}_{c} = " + " + ".join(f"X_{r}_{d}*W_{d}_{c}"
                                                      for d in range(W.shape[0])) + f" + c_{c}")
        lines.append(f"lse_{r} = log(" + " + ".join(f"exp(Z_{r}_{c})" for c in range(classes))
                     + ")")
    lines.append("L = (" + " + ".join(f"lse_{r} - Z_{r}_{int(k[r])}" for r in range(rows))
                 + f")/{rows}")
    return "\n".join(lines)


SOFTMAX_LOSS = "Z = X @ W + c; L = cross_entropy(Z, k)"


def linreg_scalar(values):
    """L = mean((X w − y)²)."""
    lines = _affine(values["X"], values["w"], np.zeros(len(values["y"])), "p", xs="w",
                    ws="X", bs="y")
    lines = [line.replace(" + y_", " - y_") for line in lines]  # p_i = X_i·w - y_i
    n = len(values["y"])
    lines.append("L = (" + " + ".join(f"p_{i}^2" for i in range(n)) + f")/{n}")
    return "\n".join(lines)


LINREG = "L = mean((X @ w - y)^2)"


def assert_same_gradients(tensor_result, scalar_result, values, integers=(), rtol=1e-10):
    """Each input's gradient array against the scalar gradients of its elements: equal
    to `rtol` relative to the largest element of that gradient (a per-element relative
    test would fail on elements that cancel to near zero), or within 1e-14 where the whole
    gradient is (mathematically) zero and each side keeps a different rounding residue."""
    assert float(tensor_result.value) == pytest.approx(scalar_result.value, rel=rtol)
    for name, array in values.items():
        got = tensor_result.gradient[name]
        assert got.shape == np.shape(array)
        if name in integers:
            assert np.all(got == 0)
            continue
        want = np.array([scalar_result.gradient[element_name(name, index)]
                         for index in np.ndindex(got.shape)]).reshape(got.shape)
        scale = max(np.max(np.abs(want)), 1e-14 / rtol)
        assert np.all(np.abs(got - want) <= rtol * scale), (name, got, want)


def _matrix(rows, cols, elements=ANY):
    return _arrays((rows, cols), elements)


@st.composite
def two_layer_values(draw):
    d, h, o = (draw(st.integers(1, 4)) for _ in range(3))
    return {"W": draw(_matrix(h, d)), "x": draw(_arrays((d,), ANY)),
            "b": draw(_arrays((h,), ANY)), "V": draw(_matrix(o, h)),
            "a": draw(_arrays((o,), ANY)), "t": draw(_arrays((o,), ANY))}


@st.composite
def softmax_loss_values(draw):
    n, d, c = (draw(st.integers(1, 4)) for _ in range(3))
    k = draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n))
    return {"X": draw(_matrix(n, d)), "W": draw(_matrix(d, c)),
            "c": draw(_arrays((c,), ANY)), "k": np.array(k, dtype=np.float64)}


@st.composite
def linreg_values(draw):
    n, d = draw(st.integers(1, 5)), draw(st.integers(1, 4))
    return {"X": draw(_matrix(n, d)), "w": draw(_arrays((d,), ANY)),
            "y": draw(_arrays((n,), ANY))}


UNROLLED = {  # name: (tensor program, values, scalar program maker, integer inputs)
    "two-layer network": (TWO_LAYER, two_layer_values(), two_layer_scalar, ()),
    "softmax cross-entropy": (SOFTMAX_LOSS, softmax_loss_values(), softmax_loss_scalar, ("k",)),
    "linear regression": (LINREG, linreg_values(), linreg_scalar, ()),
}


@pytest.mark.parametrize("name", UNROLLED)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_tensor_program_equals_its_scalar_unrolling(name, data):
    program, strategy, unroll, integers = UNROLLED[name]
    values = data.draw(strategy)
    tensor_result = bpdiff.differentiate(program, values)
    scalars = {n: v for n, v in scalar_values(values).items() if n.split("_")[0] not in integers}
    scalar_result = bpdiff.differentiate(unroll(values), scalars)
    assert not scalar_result.tensor
    assert_same_gradients(tensor_result, scalar_result, values, integers)


def test_the_unrolling_is_what_it_claims():
    # The generated scalar text for a 2-input, 1-hidden, 1-output network, in full.
    values = {"W": np.ones((1, 2)), "x": np.ones(2), "b": np.ones(1), "V": np.ones((1, 1)),
              "a": np.ones(1), "t": np.ones(1)}
    assert two_layer_scalar(values) == ("z_0 = W_0_0*x_0 + W_0_1*x_1 + b_0\nh_0 = tanh(z_0)\n"
                                        "y_0 = V_0_0*h_0 + a_0\nL = 0.5*((y_0 - t_0)^2)")
    assert linreg_scalar({"X": np.ones((2, 1)), "w": np.ones(1), "y": np.ones(2)}) == (
        "p_0 = X_0_0*w_0 - y_0\np_1 = X_1_0*w_0 - y_1\nL = (p_0^2 + p_1^2)/2")


def _sympy_gradients(build, values, integers=()):
    """Value and gradients of the SymPy expression `build(symbols)` at `values`."""
    import sympy

    symbols = {name: np.array([sympy.Symbol(element_name(name, i))
                               for i in np.ndindex(np.shape(v))], dtype=object)
               .reshape(np.shape(v)) for name, v in values.items()}
    expression = build(sympy, symbols)
    at = {sympy.Symbol(n): sympy.Float(v, 30) for n, v in scalar_values(values).items()}
    grads = {name: np.array([float(sympy.diff(expression, s).evalf(30, subs=at))
                             for s in symbols[name].flat]).reshape(np.shape(values[name]))
             for name in values if name not in integers}
    return float(expression.evalf(30, subs=at)), grads


def _sympy_two_layer(sp, s):
    h = [sp.tanh(sum(w * x for w, x in zip(row, s["x"])) + b) for row, b in zip(s["W"], s["b"])]
    y = [sum(v * hj for v, hj in zip(row, h)) + a for row, a in zip(s["V"], s["a"])]
    return sp.Rational(1, 2) * sum((yi - ti) ** 2 for yi, ti in zip(y, s["t"]))


def _sympy_softmax_loss(k):
    def build(sp, s):
        rows = []
        for r, x in enumerate(s["X"]):
            scores = [sum(xd * s["W"][d][c] for d, xd in enumerate(x)) + s["c"][c]
                      for c in range(s["W"].shape[1])]
            rows.append(sp.log(sum(sp.exp(z) for z in scores)) - scores[int(k[r])])
        return sum(rows) / len(rows)
    return build


def _sympy_linreg(sp, s):
    residuals = [sum(xd * wd for xd, wd in zip(x, s["w"])) - y for x, y in zip(s["X"], s["y"])]
    return sum(r ** 2 for r in residuals) / len(residuals)


SYMPY_CASES = {
    "two-layer network": (TWO_LAYER, _sympy_two_layer, {
        "W": np.array([[0.5, -0.3], [0.2, 0.4]]), "x": np.array([1.0, -1.0]),
        "b": np.array([0.1, -0.1]), "V": np.array([[1.0, -0.5], [0.3, 0.7], [-1.0, 0.25]]),
        "a": np.array([0.0, 0.2, -0.4]), "t": np.array([1.0, 0.0, 0.5])}),
    "softmax cross-entropy": (SOFTMAX_LOSS, None, {
        "X": np.array([[1.0, 2.0], [-0.5, 0.25]]),
        "W": np.array([[0.1, -0.2, 0.3], [0.4, 0.0, -0.6]]), "c": np.array([0.5, -0.5, 0.0]),
        "k": np.array([2.0, 0.0])}),
    "linear regression": (LINREG, _sympy_linreg, {
        "X": np.array([[1.0, 2.0], [3.0, -1.0], [0.5, 0.5]]), "w": np.array([0.5, 0.25]),
        "y": np.array([1.0, 2.0, -1.0])}),
}


@pytest.mark.parametrize("name", SYMPY_CASES)
def test_tensor_program_against_sympy(name):
    program, build, values = SYMPY_CASES[name]
    integers = ("k",) if "k" in values else ()
    build = build or _sympy_softmax_loss(values["k"])
    value, grads = _sympy_gradients(build, values, integers)
    result = bpdiff.differentiate(program, values)
    assert float(result.value) == pytest.approx(value, rel=1e-12)
    for name_, want in grads.items():
        np.testing.assert_allclose(result.gradient[name_], want, rtol=1e-11, atol=1e-14)


# ---------------------------------------------------------------------------------------
# Errors: exit 2, a message naming the node and the shapes, nothing on stdout


def assert_refused(args, *fragments):
    code, out, err = run_main(*args)
    assert code == 2, (args, code, out, err)
    assert out == "", out
    assert err.startswith("bpdiff: error: ") and "Traceback" not in err, err
    for fragment in fragments:
        assert fragment in err, (fragment, err)
    return err


SHAPE_ERRORS = [  # (command line, what the message must show)
    (["W @ x", "--W", "[[1,2],[3,4],[5,6]]", "--x", "[1,2,3]"],
     ["W @ x: (3,2) @ (3,)", "inner dimensions 2 and 3 differ"]),
    (["h = tanh(W @ x + b); sum(h)", "--W", "[[1,2],[3,4]]", "--x", "[1,2]", "--b", "[1,2,3]"],
     [" + b: shapes (2,) and (3,) do not broadcast"]),
    (["sum(A * B)", "--A", "[[1,2,3],[4,5,6]]", "--B", "[[1,2],[3,4],[5,6]]"],
     ["A * B: shapes (2,3) and (3,2) do not broadcast", "for the matrix product write @"]),
    (["sum(A B)", "--A", "[[1,2,3],[4,5,6]]", "--B", "[[1,2],[3,4],[5,6]]"],
     ["(2,3) and (3,2)", "write @"]),
    (["sum(x @ x)", "--x", "[[[1]]]"], ["(1,1,1) @ (1,1,1)", "vectors and matrices"]),
    (["2 @ x", "--x", "[1,2]"], ["2 @ x: () @ (2,)", "use * for a scalar factor"]),
    (["dot(a, b)", "--a", "[1,2]", "--b", "[1,2,3]"], ["dot(a, b)", "(2,) and (3,)"]),
    (["softmax(x)", "--x", "3"], ["softmax(x)", "not a scalar"]),
    (["cross_entropy(z, k)", "--z", "[[[1,2]]]", "--k", "0"], ["cross_entropy(z, k)", "(1,1,2)"]),
    (["x[2]", "--x", "[1,2]"], ["x[2]", "index 2 is out of range for length 2"]),
    (["x[k]", "--x", "[1,2]", "--k", "-3"], ["x[k]", "index -3 is out of range"]),
    (["x[0.5]", "--x", "[1,2]"], ["x[0.5]", "must be an integer, not 0.5"]),
    (["x[k]", "--x", "[1,2]", "--k", "nan"], ["x[k]", "must be an integer, not nan"]),
    (["x[k]", "--x", "[1,2]", "--k", "[0,1.5]"], ["x[k]", "indices must be integers"]),
    (["x[k]", "--x", "[1,2]", "--k", "[0,2]"], ["x[k]", "index 2 is out of range"]),
    (["x[1:k]", "--x", "[1,2]", "--k", "0.5"], ["x[1:k]", "a slice's bound must be an integer"]),
    (["x[::0]", "--x", "[1,2]"], ["x[::0]", "a slice's step cannot be 0"]),
    (["x[0, 1, 2]", "--x", "[[1,2]]"], ["x[0, 1, 2]", "3 indices for shape (1,2)"]),
    (["x[..., 0, ...]", "--x", "[[1,2]]"], ["one ... at most"]),
    (["reshape(x, (4, -1))", "--x", "[1,2,3]"], ["cannot reshape (3,) (3 elements) to (4,-1)"]),
    (["sum(concat((x, y)))", "--x", "[1,2]", "--y", "[[3]]"], ["concat needs arrays of one"]),
    (["sum(stack((x, y)))", "--x", "[1,2]", "--y", "[3]"], ["stack needs arrays of one shape"]),
    (["sum(ones(k))", "--k", "-1"], ["a length cannot be negative"]),
    (["sum(argmax(x, axis=(0, 1)))", "--x", "[[1,2]]"], ["argmax and argmin take one axis"]),
    (["sum(one_hot(y, 2))", "--y", "[0, 2]"], ["index 2 is out of range for length 2"]),
    (["sum(take_along_axis(s, k, axis=1))", "--s", "[[1,2]]", "--k", "[0]"],
     ["take_along_axis needs indices with as many axes as the array: (1,) for (1,2)"]),
    (["x.max(axis=(0, 0))", "--x", "[[1,2]]"], ["names an axis twice"]),
    (["W[0, 0]", "--W", "[1,2]"], ["W[0, 0]", "2 indices for shape (2,)"]),
    (["W[0, 5]", "--W", "[[1,2]]"], ["W[0, 5]", "index 5 is out of range for length 2"]),
    (["sum(x, axis=0.5)", "--x", "[1,2]"], ["axis= takes an integer written out"]),
    (["mean(x, axis=k)", "--x", "[1,2]", "--k", "1"], ["axis= takes an integer written out"]),
    (["mean(x, axis=1)", "--x", "[1,2]"], ["mean(x, axis=1)", "axis 1 is out of range"
                                           " for shape (2,)"]),
    (["sum(x, axes=1)", "--x", "[1,2]"], ["sum() has no setting 'axes' (settings: axis,"
                                          " keepdims)"]),
    (["sin(x, axis=1)", "--x", "[1,2]"], ["sin() takes no keyword arguments"]),
    (["sum(x, 0, 1, 2)", "--x", "[1,2]"], ["sum() takes 1 input and the settings axis,"
                                           " keepdims"]),
    (["sum(x, axis=0)", "--x", "3"], ["axis 0 is out of range for shape ()"]),
    (["cross_entropy(z, k)", "--z", "[[1,2,3],[0,1,0]]", "--k", "[0,3]"],
     ["cross_entropy(z, k)", "class index out of range for 3 classes"]),
    (["cross_entropy(z, k)", "--z", "[[1,2,3],[0,1,0]]", "--k", "1"],
     ["the class indices must be 2 integers"]),
    (["cross_entropy(z, k)", "--z", "[1,2,3]", "--k", "1.5"], ["must be an integer, not 1.5"]),
]


@pytest.mark.parametrize("args, fragments", SHAPE_ERRORS, ids=lambda a: str(a)[:60])
def test_shape_and_index_errors(args, fragments):
    assert_refused(args, *fragments)


@pytest.mark.xfail(strict=True, reason="the message names an unnamed operand by its node id"
                   " ('#2 + b'), which nothing on screen explains: nothing else is printed")
def test_shape_error_writes_unnamed_operands_out():
    assert_refused(["h = tanh(W @ x + b); sum(h)", "--W", "[[1,2],[3,4]]", "--x", "[1,2]",
                    "--b", "[1,2,3]"], "W @ x + b: shapes (2,) and (3,)")


def test_elementwise_product_that_broadcasts_gets_no_matmul_hint():
    err = assert_refused(["sum(W * x)", "--W", "[[1,2],[3,4],[5,6]]", "--x", "[1,2,3]"],
                         "(3,2) and (3,)")
    assert "@" not in err  # W @ x would not work either


VALUE_ERRORS = [
    (["--x", "[[1,2],[3]]"], "rectangular"),
    (["--x", "[1,[2]]"], "rectangular"),
    (["--x", '["a"]'], "numbers only"),
    (["--x", '[1,"2"]'], "numbers only"),
    (["--x", "[true]"], "numbers only"),
    (["--x", "[null]"], "numbers only"),
    (["--x", "[]"], "empty array"),
    (["--x", "[[]]"], "empty array"),
    (["--x", "[1,2"], "not a valid JSON array"),
    (["--x", "[1e999]"], None),  # JSON's 1e999 is inf: accepted, reported as not finite
]


@pytest.mark.parametrize("args, fragment", VALUE_ERRORS, ids=str)
def test_bad_array_values(args, fragment):
    if fragment is None:
        code, out, err = run_main("sum(x)", *args)
        assert code == 0 and "inf" in err
    else:
        assert_refused(["sum(x)", *args], "'x'", fragment)


@pytest.mark.parametrize("content, fragment", [
    ('{"x": [[1, 2], [3]]}', "rectangular"), ('{"x": ["1"]}', "numbers only"),
    ('{"x": [false, 1]}', "numbers only"), ('{"x": []}', "empty array"),
    ('{"x": [{"a": 1}]}', "numbers only")])
def test_bad_array_values_in_a_vars_file(tmp_path, content, fragment):
    path = tmp_path / "v.json"
    path.write_text(content)
    assert_refused(["sum(x)", "--vars", str(path)], fragment)


def test_array_values_from_a_vars_file(tmp_path):
    path = tmp_path / "v.json"
    path.write_text('{"W": [[1, 2], [3, 4]], "x": [1, -1], "s": 2}')
    code, out, err = run_main("sum(s * (W @ x))", "--vars", str(path), "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["value"] == -4 and data["gradient"] == {"W": [[2, -2], [2, -2]],
                                                        "x": [8, 12], "s": -2}


@pytest.mark.parametrize("literal, fragment", [
    ("[[1, 2], [3]]", "same length and nesting"), ("[1, [2]]", "same length and nesting"),
    ("[]", "unexpected")])
def test_bad_array_literals(literal, fragment):
    assert_refused([f"x = {literal}; sum(x)", "--a", "1"] if "a]" in literal else
                   [f"x = {literal}; sum(x)"], fragment)


@pytest.mark.parametrize("literal, value", [("[1, a]", [1, 3]), ("[a, sin(0)]", [3, 0]),
                                            ("[[a, 1], [2, a]]", [[3, 1], [2, 3]])])
def test_array_literals_with_computed_entries_are_stacked(literal, value):
    result = bpdiff.differentiate(f"x = {literal}; L = sum(x * x)", {"a": 3.0})
    np.testing.assert_array_equal(result.values[result.graph.names["x"]], value)


@pytest.mark.parametrize("option", [["--exact"], ["--symbolic"]])
def test_scalar_only_options_refuse_tensor_programs(option):
    assert_refused(["sum(x * x)", "--x", "[1,2]", *option], option[0], "scalar programs")
    assert_refused(["x = [1, 2]; sum(x)", *option], option[0])


@pytest.mark.parametrize("program", ["sum(x)", "x.T", "transpose(x)", "norm2(x)"])
def test_scalar_only_options_refuse_tensor_ops_on_numbers(program):
    # tensor-only operations switch to tensor mode even on plain numbers
    assert_refused([program, "--x", "2", "--symbolic"], "--symbolic")


# ---------------------------------------------------------------------------------------
# Output: table with a shape column, summaries over 12 elements, JSON with shapes


def test_table_has_a_shape_column():
    code, out, err = run_main("h = tanh(W @ x + b); L = sum(h)", "--W", "[[1,2],[3,4]]",
                              "--x", "[1,-1]", "--b", "[0,1]")
    assert code == 0 and err == ""
    header, rule, *rows = out.splitlines()
    assert header.split() == ["id", "label", "op", "inputs", "shape", "value", "gradient"]
    by_label = {row.split()[1]: row for row in rows[:-1]}
    assert " (2,2) " in by_label["W"] and "[[1, 2], [3, 4]]" in by_label["W"]
    assert " (2,) " in by_label["h"] and " () " in by_label["L"]
    assert "[[0.419974, -0.419974], [1, -1]]" in by_label["W"]  # ∂L/∂W = (1 - h²) xᵀ
    assert rows[-1].startswith("L = -0.761594;")


def test_scalar_program_table_has_no_shape_column():
    code, out, _ = run_main("x*y", "--x", "2", "--y", "3")
    assert code == 0 and "shape" not in out.splitlines()[0]


@pytest.mark.parametrize("size, summarised", [(1, False), (12, False), (13, True), (40, True)])
def test_arrays_over_twelve_elements_are_summarised(size, summarised):
    x = json.dumps(list(range(1, size + 1)))
    code, out, _ = run_main("sum(x)", "--x", x)
    assert code == 0
    row = next(line for line in out.splitlines() if line.startswith(" 0  x") or
               line.startswith("0  x"))
    full_text = "[" + ", ".join(map(str, range(1, size + 1))) + "]"
    if summarised:
        assert f"({size},) min 1 max {size} mean {(size + 1) / 2:g}" in row
        assert full_text not in row
        code, out, _ = run_main("sum(x)", "--x", x, "--full")
        assert full_text in out and "min 1" not in out.splitlines()[3]
    else:
        assert full_text in row and "min" not in row


def test_matrices_over_twelve_elements_are_summarised():
    W = np.arange(20.0).reshape(4, 5)
    code, out, _ = run_main("sum(W)", "--W", json.dumps(W.tolist()))
    assert "(4,5) min 0 max 19 mean 9.5" in out
    code, out, _ = run_main("sum(W)", "--W", json.dumps(W.tolist()), "--full")
    assert "[15, 16, 17, 18, 19]]" in out


def _json_run(*args):
    code, out, err = run_main("--json", *args)
    assert code == 0, err
    data = json.loads(out)
    jsonschema.validate(data, SCHEMA)
    return data


def test_json_has_nested_lists_and_shapes_and_fits_the_schema():
    data = _json_run("h = tanh(W @ x + b); L = sum(h)", "--W", "[[1,2],[3,4]]",
                     "--x", "[1,-1]", "--b", "[0,1]")
    assert data["inputs"] == {"W": [[1, 2], [3, 4]], "x": [1, -1], "b": [0, 1]}
    assert np.allclose(data["gradient"]["W"], [[0.41997434161402614, -0.41997434161402614],
                                               [1, -1]], rtol=1e-15)
    shapes = {node["label"]: node["shape"] for node in data["nodes"]}
    assert shapes == {"L": [], "h": [2], "#2 + b": [2], "b": [2], "W @ x": [2], "x": [2],
                      "W": [2, 2]}
    for node in data["nodes"]:
        assert np.shape(node["value"]) == tuple(node["shape"])
        assert node["grad"] is None or np.shape(node["grad"]) == tuple(node["shape"])


@pytest.mark.parametrize("args", [
    ["sum(x)", "--x", "[[[1, 2]], [[3, 4]]]"],  # three dimensions
    ["x", "--x", "[[1, 2], [3, 4]]"],  # an array output
    ["sum(log(x))", "--x", "[1, -1, 0]"],  # nan and -inf as strings
    ["c = [1, 2]; sum(c * x)", "--x", "3"],  # a constant array: no gradient
    ["sum(x) + y", "--x", "[1]", "--y", "2", "--explain", "--locals"],
    ["cross_entropy(z, k)", "--z", "[[1, 2], [0, 1]]", "--k", "[1, 0]"],
    ["x", "--x", "[[1, 2], [3, 4]]", "--sum-output"],  # seeded with ones
    ["2 * x", "--x", "[1, 2]", "--grad-output", "[1, 0]", "--explain", "--locals"],
    ["y = W @ x", "--W", "[[1, 2], [3, 4]]", "--x", "[1, -1]", "--jacobian"],
    ["L = sum(W @ x + x)", "--W", "[[1, 2], [3, 4]]", "--x", "[1, -1]", "--explain"],
])
def test_json_of_tensor_runs_fits_the_schema(args):
    data = _json_run(*args)
    text = json.dumps(data)
    assert "NaN" not in text and "Infinity" not in text


def test_json_non_finite_elements_are_strings():
    data = _json_run("sum(log(x))", "--x", "[1, -1, 0]")
    log_node = next(n for n in data["nodes"] if n["op"] == "log")
    assert log_node["value"] == [0, "nan", "-inf"]
    assert data["gradient"]["x"] == [1, -1, "inf"]


# ---------------------------------------------------------------------------------------
# NumPy only when needed; deep nesting; non-finite values named by node

_IMPORTS = """
import sys
from bpdiff.cli import main
try:
    main({argv!r})
except SystemExit as done:
    assert done.code == 0, done.code
print('numpy' in sys.modules)
"""


@pytest.mark.parametrize("argv, numpy_loaded", [
    (["(a+b)*b^3", "--a", "7", "--b", "3", "--json"], False),
    (["(a+b)*b^3", "--a", "7", "--b", "3"], False),
    (["sum(x)", "--x", "[1, 2]", "--json"], True),
    (["x = [1, 2]; sum(x)"], True),
])
def test_numpy_is_imported_only_for_tensor_runs(argv, numpy_loaded):
    done = subprocess.run([sys.executable, "-c", _IMPORTS.format(argv=argv)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == str(numpy_loaded)


DEPTH = 100_000


def test_deep_nesting_of_functions_on_a_vector():
    x = np.array([0.5, -0.25, 1.0])
    result = bpdiff.differentiate("sum(" + "tanh(" * DEPTH + "x" + ")" * (DEPTH + 1), x=x)
    value, grad = x.copy(), np.ones_like(x)
    for _ in range(DEPTH):  # the chain rule by hand
        value = np.tanh(value)
        grad *= 1 - value * value
    assert len(result.graph) == DEPTH + 2
    np.testing.assert_allclose(result.value, value.sum(), rtol=1e-12)
    np.testing.assert_allclose(result.gradient["x"], grad, rtol=1e-9)


def test_deep_chain_of_transposes_and_products():
    W = np.array([[0.0, 1.0], [1.0, 0.0]])  # a permutation: W @ W = I
    program = "sum(C * " + "(W @ " * DEPTH + "x.T" + ".T" * 9 + ")" * DEPTH + ")"
    result = bpdiff.differentiate(program, W=W, x=np.array([1.0, 2.0]),
                                  C=np.array([3.0, -1.0]))
    assert float(result.value) == 3 * 1 - 1 * 2  # DEPTH is even: x itself
    np.testing.assert_array_equal(result.gradient["x"], [3.0, -1.0])


def test_deep_tensor_program_through_the_cli_table_and_json():
    program = "-" * DEPTH + "sum(x)"  # an even count of minus signs
    code, out, err = run_main("--x", "[1, 2]", "--", program)
    assert code == 0 and "nodes hidden" in out, err[:500]
    code, out, err = run_main("--json", "--x", "[1, 2]", "--", program)
    data = json.loads(out)  # (not validated: jsonschema takes a minute on 100,000 nodes)
    assert len(data["nodes"]) == DEPTH + 2 and data["gradient"]["x"] == [1, 1]


@pytest.mark.parametrize("args, node, number", [
    (["sum(log(x))", "--x", "[1, -1, 2]"], "node #1 (log(x)) has value nan", "nan"),
    (["y = exp(x); sum(y)", "--x", "[1, 1000]"], "(y) has value inf", "inf"),
    (["sum(x / y)", "--x", "[1, 2]", "--y", "[0, 1]"], "(x / y) has value inf", "inf"),
    (["sum(sqrt(x))", "--x", "[0, 1]"], "the gradient of node #0 (x) is inf", "inf"),
])
def test_non_finite_values_are_reported_with_the_node(args, node, number):
    code, out, err = run_main(*args)
    assert code == 0
    assert node in err, err
    data = _json_run(*args)
    assert any(node in warning for warning in data["warnings"])


# ---------------------------------------------------------------------------------------
# The tensor examples against the same examples unrolled into scalars

EXAMPLES = ROOT / "examples"


def _one_based(name, index):
    return name + "".join(str(i + 1) for i in index)  # W, (0, 1) -> W12


EXAMPLE_UNROLLINGS = {  # tensor example: (scalar example, element naming, integer inputs)
    "tensor_two_layer.bp": ("tanh_net_unrolled.bp", _one_based, ()),
    "tensor_linreg.bp": ("linreg_unrolled.bp", _one_based, ()),
    "tensor_softmax_loss.bp": ("loss_softmax_unrolled.bp", element_name, ("y_true",)),
}


def test_every_tensor_example_has_an_unrolling():
    assert {p.name for p in EXAMPLES.glob("tensor_*.bp")} == set(EXAMPLE_UNROLLINGS)


@pytest.mark.parametrize("file", EXAMPLE_UNROLLINGS)
def test_tensor_example_equals_the_unrolled_example(file):
    scalar_file, naming, integers = EXAMPLE_UNROLLINGS[file]
    result = bpdiff.differentiate((EXAMPLES / file).read_text())
    unrolled = bpdiff.differentiate((EXAMPLES / scalar_file).read_text())
    assert result.tensor and not unrolled.tensor
    assert float(result.value) == pytest.approx(unrolled.value, rel=1e-12)
    covered = set()
    for name, grad in result.gradient.items():
        if name in integers:
            assert grad == 0
            continue
        for index in np.ndindex(grad.shape):
            scalar_name = naming(name, index)
            covered.add(scalar_name)
            assert float(result.inputs[name][index]) == unrolled.inputs[scalar_name]
            assert grad[index] == pytest.approx(unrolled.gradient[scalar_name], rel=1e-10,
                                                abs=1e-15), (name, index)
    assert covered == set(unrolled.gradient)  # every scalar input has its element


@pytest.mark.parametrize("file, unroll, rename", [
    ("tensor_two_layer.bp", two_layer_scalar, {"ys": "t"}),
    ("tensor_linreg.bp", linreg_scalar, {})])
def test_tensor_example_equals_the_generated_unrolling(file, unroll, rename):
    result = bpdiff.differentiate((EXAMPLES / file).read_text())
    values = {rename.get(name, name): value for name, value in result.inputs.items()}
    scalar = bpdiff.differentiate(unroll(values), scalar_values(values))
    renamed = SimpleNamespace(value=result.value, gradient={
        rename.get(name, name): grad for name, grad in result.gradient.items()})
    assert_same_gradients(renamed, scalar, values)


@pytest.mark.parametrize("file", EXAMPLE_UNROLLINGS)
def test_tensor_example_runs_from_the_command_line(file):
    done = subprocess.run([sys.executable, "-m", "bpdiff", "-f", f"examples/{file}", "--json"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    data = json.loads(done.stdout)
    jsonschema.validate(data, SCHEMA)
    result = bpdiff.differentiate((EXAMPLES / file).read_text())
    for name, grad in result.gradient.items():
        np.testing.assert_array_equal(np.array(data["gradient"][name]), grad)


@pytest.mark.parametrize("program", ["t = sum([1, 2]); y = x*x", "t = [1, 2]; y = x*x",
                                     "t = W @ x; y = x*x", "t = x.T; u = x[0]; y = x*x"])
def test_unused_tensor_statements_leave_a_scalar_program_scalar(program):
    # Only the statements the output depends on are differentiated; a tensor operation
    # elsewhere used to switch the whole run to arrays (and refuse --gradcheck).
    result = bpdiff.differentiate(program, x=3.0)
    assert not result.tensor and result.value == 9.0 and result.gradient == {"x": 6.0}
    code, out, err = run_main(program, "--x", "3", "--gradcheck")
    assert code == 0, err
    if program.startswith("t = sum"):
        assert bpdiff.differentiate(program, output="t", x=3.0).tensor


# ---------------------------------------------------------------------------------------
# The array operations against PyTorch, at kinks too (ties of max/min, clip at its bounds,
# maximum at a tie, std of equal elements), where central differences cannot judge.

TORCH_CASES = [  # (bpdiff expression of a (and b), torch function of the same tensors)
    ("a.max(axis=1, keepdims=True)", lambda t, a, b: t.amax(a, dim=1, keepdim=True)),
    ("max(a)", lambda t, a, b: t.amax(a)),
    ("np.min(a, axis=0)", lambda t, a, b: t.amin(a, dim=0)),
    ("maximum(a, b)", lambda t, a, b: t.maximum(a, b)),
    ("minimum(0, a - b + 1)", lambda t, a, b: t.minimum(t.zeros(()), a - b + 1)),
    ("clip(a, -1, 1)", lambda t, a, b: t.clamp(a, -1, 1)),
    ("where(a >= b, a * b, a - b)", lambda t, a, b: t.where(a >= b, a * b, a - b)),
    ("var(a, axis=1, ddof=1)", lambda t, a, b: t.var(a, dim=1, unbiased=True)),
    ("std(a + b, axis=0)", lambda t, a, b: t.std(a + b, dim=0, unbiased=False)),
    ("logsumexp(a, axis=0, keepdims=True)", lambda t, a, b: t.logsumexp(a, 0, keepdim=True)),
    ("a[:, 1:] * b[..., ::-1][:, :2]", lambda t, a, b: a[:, 1:] * t.flip(b, [1])[:, :2]),
    ("a[arange(3), [2, 0, 2]]", lambda t, a, b: a[t.arange(3), t.tensor([2, 0, 2])]),
    ("take_along_axis(a, [[0], [2], [0]], axis=1)",
     lambda t, a, b: t.take_along_dim(a, t.tensor([[0], [2], [0]]), dim=1)),
    ("concat((a, b), axis=0) @ stack((a[0], b[1]), axis=1)",
     lambda t, a, b: t.cat((a, b), dim=0) @ t.stack((a[0], b[1]), dim=1)),
    ("a.reshape(9).reshape(1, -1) * flatten(b)", lambda t, a, b: a.reshape(1, -1) * b.flatten()),
]
TIED = np.array([[1.0, 2.0, 2.0], [-1.0, -1.0, -1.0], [0.5, 1.0, 0.5]])  # and clip's bounds


@pytest.mark.parametrize("expr, torch_fn", TORCH_CASES, ids=[c[0] for c in TORCH_CASES])
@pytest.mark.parametrize("at", ["ties", "random"])
def test_array_ops_against_pytorch(expr, torch_fn, at):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(18)
    a = TIED if at == "ties" else rng.normal(size=(3, 3))
    b = TIED.T.copy() if at == "ties" else rng.normal(size=(3, 3))
    values = {"a": a, "b": b} if "b" in expr else {"a": a}
    weights = rng.normal(size=np.shape(bpdiff.differentiate(f"out = {expr}", values).value))
    result = bpdiff.differentiate(f"out = {expr}; L = sum(C * out)", {**values, "C": weights})
    ta, tb = (torch.tensor(v, requires_grad=True) for v in (a, b))
    loss = (torch.tensor(weights) * torch_fn(torch, ta, tb)).sum()
    loss.backward()
    assert float(result.value) == pytest.approx(loss.item(), rel=1e-12, abs=1e-12)
    for name, tensor_ in (("a", ta), ("b", tb)):
        want = np.zeros_like(a) if tensor_.grad is None else tensor_.grad.numpy()
        np.testing.assert_allclose(result.gradient.get(name, np.zeros_like(a)), want,
                                   rtol=1e-12, atol=1e-12, err_msg=f"{expr}: ∂L/∂{name}")


def test_std_of_equal_elements_has_gradient_zero():
    # PyTorch gives nan there (0/0); bpdiff takes the subgradient 0, as norm does at 0
    result = bpdiff.differentiate("std(x)", {"x": np.array([2.0, 2.0, 2.0])})
    assert result.value == 0 and np.all(result.gradient["x"] == 0)


@pytest.mark.parametrize("program, x, value, grad", [
    ("where(x > 0, x*x, 3*x)", 0.5, 0.25, 1.0), ("where(x > 0, x*x, 3*x)", -2, -6, 3),
    ("clip(x, 0, 1) + (x != 1)", 1, 1, 1), ("clip(x, 0, 1)", 3, 1, 0),
])
def test_comparisons_where_and_clip_on_numbers_and_in_exact_mode(program, x, value, grad):
    for exact in (False, True):
        result = bpdiff.differentiate(program, {"x": float(x)}, exact=exact)
        assert not result.tensor
        assert (result.value, result.gradient["x"]) == (value, grad)


def test_bound_ops_print_their_settings_and_share_nodes():
    from bpdiff.language.labels import expression
    graph = parse("a = sum(x, axis=0); b = x.sum(axis=0); c = sum(x, 1); d = x[1:, ::2]; a+b+c+d")
    node = {name: graph.names[name] for name in "abcd"}
    assert graph.inputs[node["b"]] == (node["a"],)  # the same sum, named twice: b is a copy
    assert expression(graph, node["a"]) == "sum(x, axis=0)"
    assert expression(graph, node["c"]) == "sum(x, axis=1)"
    assert expression(graph, node["d"]) == "x[1:, ::2]"
