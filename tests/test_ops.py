"""The primitive table, op by op: every forward and local-derivative rule against central
finite differences and against SymPy, the same through the whole pipeline
(`bpdiff.differentiate`), the documented conventions at kinks and domain errors, and
every printable derivative formula evaluated by bpdiff itself.

Every test is parametrized over `ops.SCALAR_PRIMITIVES` (tensor-only ops are tested in
tests/test_tensor.py), so a newly added operation is tested
automatically; one missing from SYMPY or DOMAINS below makes those tests fail.
SymPy is a test-only dependency.
"""

import math
import re

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import bpdiff
from bpdiff.engine import ops, scalar
from bpdiff.errors import BpdiffError

m = scalar
EXAMPLES = settings(max_examples=60, deadline=None, derandomize=True)

# ---------------------------------------------------------------------------------------
# Test-only tables: SymPy meaning and smooth domain of every op


def _sigmoid(a):
    return 1 / (1 + sp.exp(-a))


SYMPY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a ** b,
    "neg": lambda a: -a,
    "id": lambda a: a,
    "sin": sp.sin,
    "cos": sp.cos,
    "tan": sp.tan,
    "exp": sp.exp,
    "log": sp.log,
    "sqrt": sp.sqrt,
    "abs": sp.Abs,
    "tanh": sp.tanh,
    "sigmoid": _sigmoid,
    "relu": lambda a: sp.Max(a, 0),
    "softplus": lambda a: sp.log(1 + sp.exp(a)),
    "max": sp.Max,
    "min": sp.Min,
    "step": lambda a: sp.Heaviside(a, 0),
    "sign": sp.sign,
    "square": lambda a: a ** 2,
    "cube": lambda a: a ** 3,
    "reciprocal": lambda a: 1 / a,
    "log2": lambda a: sp.log(a, 2),
    "log10": lambda a: sp.log(a, 10),
    "log1p": lambda a: sp.log(1 + a),
    "expm1": lambda a: sp.exp(a) - 1,
    "sinh": sp.sinh,
    "cosh": sp.cosh,
    "arctan": sp.atan,
    "arcsin": sp.asin,
    "arccos": sp.acos,
    "gt": lambda a, b: sp.Piecewise((1, a > b), (0, True)),
    "ge": lambda a, b: sp.Piecewise((1, a >= b), (0, True)),
    "lt": lambda a, b: sp.Piecewise((1, a < b), (0, True)),
    "le": lambda a, b: sp.Piecewise((1, a <= b), (0, True)),
    "eq": lambda a, b: sp.Piecewise((1, sp.Eq(a, b)), (0, True)),
    "ne": lambda a, b: sp.Piecewise((1, sp.Ne(a, b)), (0, True)),
    "where": lambda c, a, b: sp.Piecewise((a, sp.Ne(c, 0)), (b, True)),
    "clip": lambda x, lo, hi: sp.Min(sp.Max(x, lo), hi),
}
"""Op name -> the same function built from SymPy expressions."""


def _floats(lo, hi):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


_ANY = _floats(-10, 10)
_AWAY_FROM_0 = _ANY.filter(lambda x: abs(x) > 1e-3)
_DISTINCT = st.tuples(_ANY, _ANY).filter(lambda ab: abs(ab[0] - ab[1]) > 1e-3)

DOMAINS = {
    "add": st.tuples(_ANY, _ANY),
    "sub": st.tuples(_ANY, _ANY),
    "mul": st.tuples(_ANY, _ANY),
    "div": st.tuples(_ANY, _ANY.filter(lambda b: abs(b) > 0.1)),
    "pow": st.tuples(_floats(0.05, 20), _floats(-4, 4)),  # positive base: both partials exist
    "neg": st.tuples(_ANY),
    "id": st.tuples(_ANY),
    "sin": st.tuples(_floats(-20, 20)),
    "cos": st.tuples(_floats(-20, 20)),
    "tan": st.tuples(_ANY.filter(lambda x: abs(math.cos(x)) > 0.05)),  # away from poles
    "exp": st.tuples(_floats(-30, 30)),
    "log": st.tuples(_floats(1e-3, 1e3)),
    "square": st.tuples(_floats(-50, 50)), "cube": st.tuples(_floats(-20, 20)),
    "reciprocal": st.one_of(st.tuples(_floats(0.05, 50)), st.tuples(_floats(-50, -0.05))),
    "log2": st.tuples(_floats(1e-3, 1e3)), "log10": st.tuples(_floats(1e-3, 1e3)),
    # near 0, where log1p and expm1 earn their keep (SymPy's 40 digits see 1 + 1e-25)
    "log1p": st.one_of(st.tuples(_floats(1e-25, 1e3)), st.tuples(_floats(-0.9, -1e-25))),
    "expm1": st.one_of(st.tuples(_floats(1e-25, 20)), st.tuples(_floats(-20, -1e-25))),
    "sinh": st.tuples(_floats(-10, 10)), "cosh": st.tuples(_floats(-10, 10)),
    "arctan": st.tuples(_floats(-50, 50)),  # inside [-1, 1], away from ±1 (kinks, inf)
    "arcsin": st.tuples(_floats(-0.99, 0.99)), "arccos": st.tuples(_floats(-0.99, 0.99)),
    "sqrt": st.tuples(_floats(1e-3, 1e3)),
    "abs": st.tuples(_AWAY_FROM_0),
    "tanh": st.tuples(_floats(-20, 20)),
    "sigmoid": st.tuples(_floats(-30, 30)),
    "relu": st.tuples(_AWAY_FROM_0),
    "softplus": st.tuples(_floats(-30, 30)),
    "max": _DISTINCT,
    "min": _DISTINCT,
    "step": st.tuples(_AWAY_FROM_0),
    "sign": st.tuples(_AWAY_FROM_0),
    **dict.fromkeys(["gt", "ge", "lt", "le", "eq", "ne"], _DISTINCT),
    # where's condition: 0 (false) or not (true); c ± h keeps either side's choice at 0
    "where": st.tuples(st.sampled_from([0.0, 1.0, -2.5]), _ANY, _ANY),
    "clip": st.tuples(_ANY, _floats(-10, -1), _floats(1, 10)).filter(
        lambda p: min(abs(p[0] - p[1]), abs(p[0] - p[2])) > 1e-3),
}
"""Op name -> points (tuples of inputs) inside the op's smooth domain."""

UNPARSEABLE_FORMULAS = {
    # (op name, input): formula -- e.g. ("max", 0): "[{0} > {1}]" before step() existed
}
"""The derivative formulas written with notation bpdiff's own language lacks (Iverson
brackets, functions it does not have); exactly these fail to parse, checked below, and
are evaluated by SymPy instead. Today every formula is valid bpdiff."""

_SYMBOLS = sp.symbols("a b c", real=True)
IDS = [p.name for p in ops.SCALAR_PRIMITIVES]
PRIMS = pytest.mark.parametrize("prim", ops.SCALAR_PRIMITIVES, ids=IDS)


def _sympy_parts(prim):
    """(expression, [∂/∂input_i]) in SymPy for `prim`; KeyError fails the test."""
    args = _SYMBOLS[:prim.arity]
    expr = SYMPY[prim.name](*args)
    return args, expr, [sp.diff(expr, s) for s in args]


def _at(expr, args, point):
    """A SymPy expression's value at `point`, computed with 40 significant digits (the
    floats are exact at that precision, and exact cancellation gives exact zeros)."""
    return float(expr.subs({s: sp.Float(v, 40) for s, v in zip(args, point)}).evalf(40))


def _draw_point(data, prim):
    return data.draw(DOMAINS[prim.name], label="point")


def _close(got, want, rel=1e-9, abs_=1e-12):
    return math.isclose(got, want, rel_tol=rel, abs_tol=abs_)


# ---------------------------------------------------------------------------------------
# The tables cover the primitive table


@PRIMS
def test_every_op_has_a_sympy_meaning_and_a_domain(prim):
    assert prim.name in SYMPY, f"add '{prim.name}' to SYMPY in {__file__}"
    assert prim.name in DOMAINS, f"add '{prim.name}' to DOMAINS in {__file__}"
    args, expr, _ = _sympy_parts(prim)
    assert expr.free_symbols <= set(args)
    assert len(prim.local_grads) == len(prim.grad_formulas) == prim.arity


def test_tables_name_no_op_that_does_not_exist():
    scalar_ops = {p.name for p in ops.SCALAR_PRIMITIVES}  # tensor ops: tests/test_tensor.py
    assert set(SYMPY) == scalar_ops
    assert set(DOMAINS) == scalar_ops
    assert {name for name, _ in UNPARSEABLE_FORMULAS} <= scalar_ops


# ---------------------------------------------------------------------------------------
# Local rules vs central finite differences of the forward rule


@PRIMS
@EXAMPLES
@given(data=st.data())
def test_local_grads_match_central_differences(prim, data):
    point = _draw_point(data, prim)
    out = prim.forward(m, *point)
    assert math.isfinite(out)
    for i, rule in enumerate(prim.local_grads):
        h = 1e-6 * max(1.0, abs(point[i]))
        up, down = list(point), list(point)
        up[i] += h
        down[i] -= h
        step = up[i] - down[i]  # the step actually taken, after rounding
        numeric = (prim.forward(m, *up) - prim.forward(m, *down)) / step
        analytic = rule(m, *point, out)
        assert math.isclose(analytic, numeric, rel_tol=1e-6, abs_tol=1e-8 * max(1.0, abs(out))), (
            f"∂{prim.name}/∂input{i} at {point}: rule {analytic}, central difference {numeric}")


# ---------------------------------------------------------------------------------------
# Forward and local rules vs SymPy


@PRIMS
@EXAMPLES
@given(data=st.data())
def test_forward_and_local_grads_match_sympy(prim, data):
    args, expr, derivatives = _sympy_parts(prim)
    point = _draw_point(data, prim)
    out = prim.forward(m, *point)
    want = _at(expr, args, point)
    assert math.isclose(out, want, rel_tol=1e-12, abs_tol=1e-300), (
        f"{prim.name}{point} = {out}, SymPy says {want}")
    for i, (rule, derivative) in enumerate(zip(prim.local_grads, derivatives)):
        got = rule(m, *point, out)
        want = _at(derivative, args, point)
        assert _close(got, want), (
            f"∂{prim.name}/∂input{i} at {point}: rule {got}, SymPy {derivative} = {want}")


@pytest.mark.parametrize("a, b", [(-2.0, 3.0), (-1.5, 2.0), (-3.0, -1.0), (-0.5, -2.0),
                                  (-7.0, 0.0), (-2.0, 1.0)])
def test_pow_base_grad_with_negative_base_and_integer_exponent(a, b):
    pow_ = ops.BY_NAME["pow"]
    out = pow_.forward(m, a, b)
    assert out == a ** b
    sa, sb, _ = _SYMBOLS
    want = float(sp.diff(sa ** sp.Integer(int(b)), sa).subs(sa, sp.Float(a)))
    assert _close(pow_.local_grads[0](m, a, b, out), want)
    r = bpdiff.differentiate("x ^ y", x=a, y=b)
    assert r.value == out
    assert _close(r.gradient["x"], want)


# ---------------------------------------------------------------------------------------
# The whole pipeline (parser + graph + forward + backward) vs SymPy


def _program_texts(prim):
    """Every way a program can write `prim` applied to inputs x (and y)."""
    variables = ", ".join(["x", "y", "z"][:prim.arity])
    texts = [f"{name}({variables})" for name, p in ops.FUNCTIONS.items() if p is prim]
    if prim.symbol is not None:
        texts.append(f"x {prim.symbol} y" if prim.arity == 2 else f"{prim.symbol}x")
    if prim.name == "pow":
        texts.append("x ** y")
    if prim.name == "id":
        texts.append("d = x")
    return texts


def _pipeline_cases():
    cases = []
    for prim in ops.SCALAR_PRIMITIVES:
        texts = _program_texts(prim) or [None]  # None: the op cannot be written; fails
        cases.extend(pytest.param(prim, text, id=f"{prim.name}:{text}") for text in texts)
    return cases


@pytest.mark.parametrize("prim, text", _pipeline_cases())
@settings(max_examples=25, deadline=None, derandomize=True)
@given(data=st.data())
def test_pipeline_gradient_matches_sympy(prim, text, data):
    assert text is not None, f"no program text writes '{prim.name}'; extend _program_texts"
    args, expr, derivatives = _sympy_parts(prim)
    point = _draw_point(data, prim)
    names = ["x", "y", "z"][:prim.arity]
    r = bpdiff.differentiate(text, **dict(zip(names, point)))
    assert r.graph.ops[r.graph.output] is prim, f"{text!r} did not parse as {prim.name}"
    assert _close(r.value, _at(expr, args, point), rel=1e-12, abs_=1e-300)
    assert list(r.gradient) == names
    assert r.nonfinite == []
    for name, derivative in zip(names, derivatives):
        want = _at(derivative, args, point)
        assert _close(r.gradient[name], want), (
            f"{text}: ∂/∂{name} at {point} is {r.gradient[name]}, SymPy says {want}")


# ---------------------------------------------------------------------------------------
# Documented conventions at kinks, exactly


def _rule(name, i, *point):
    prim = ops.BY_NAME[name]
    return prim.local_grads[i](m, *point, prim.forward(m, *point))


def _grad(text, **values):
    return bpdiff.differentiate(text, **values).gradient


ZERO_AT_ZERO = sorted(p.name for p in ops.SCALAR_PRIMITIVES if p.kink == f"{p.name}'(0) = 0")
"""Ops documenting f'(0) = 0 (relu, abs, and any later one written the same way)."""


def test_relu_and_abs_document_a_zero_derivative_at_zero():
    assert {"relu", "abs"} <= set(ZERO_AT_ZERO)


@pytest.mark.parametrize("name", ZERO_AT_ZERO)
@pytest.mark.parametrize("zero", [0.0, -0.0])
def test_derivative_at_zero_is_zero_where_documented(name, zero):
    assert _rule(name, 0, zero) == 0.0
    assert ops.BY_NAME[name].forward(m, zero) == 0.0  # relu, abs, step, sign all vanish
    assert _grad(f"{name}(x)", x=zero) == {"x": 0.0}
    assert _grad(f"x * {name}(y)", x=3, y=zero) == {"x": 0.0, "y": 0.0}
    assert _grad(f"{name}(x - y)", x=1.5, y=1.5) == {"x": 0.0, "y": 0.0}


@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("a", [0.0, 1.5, -2.25, 1e300])
def test_max_min_tie_splits_the_gradient_evenly(name, a):
    assert _rule(name, 0, a, a) == 0.5
    assert _rule(name, 1, a, a) == 0.5
    assert _grad(f"{name}(x, y)", x=a, y=a) == {"x": 0.5, "y": 0.5}
    assert _grad(f"{name}(x, x)", x=a) == {"x": 1.0}  # both halves reach x
    assert _grad(f"3 * {name}(x, y)", x=a, y=a) == {"x": 1.5, "y": 1.5}


def test_sqrt_derivative_at_zero_is_inf():
    assert _rule("sqrt", 0, 0.0) == math.inf
    r = bpdiff.differentiate("sqrt(x)", x=0)
    assert r.value == 0.0
    assert r.gradient == {"x": math.inf}


def test_sqrt_derivative_at_negative_zero_is_inf():
    # regression: sqrt(-0.0) was -0.0, so the rule 0.5/out gave -inf (fixed in 3c1a5b4)
    assert _rule("sqrt", 0, -0.0) == math.inf
    assert _grad("sqrt(x)", x=-0.0) == {"x": math.inf}
    assert _grad("sqrt(-x)", x=0) == {"x": -math.inf}  # -1/(2 sqrt(-x)) -> -inf


@pytest.mark.parametrize("a", [0.0, -0.0, 2.0, -3.0, 0.5])
def test_pow_base_derivative_is_zero_where_exponent_is_zero(a):
    assert _rule("pow", 0, a, 0.0) == 0.0
    r = bpdiff.differentiate("x ^ y", x=a, y=0)
    assert r.value == 1.0
    assert r.gradient["x"] == 0.0
    assert _grad("x ^ 0", x=a) == {"x": 0.0}


@pytest.mark.parametrize("b", [0.0, 0.5, 1.0, 2.0, 3.0, 7.5])
def test_pow_exponent_derivative_is_zero_where_base_is_zero(b):
    assert _rule("pow", 1, 0.0, b) == 0.0
    r = bpdiff.differentiate("x ^ y", x=0, y=b)
    assert r.value == (1.0 if b == 0 else 0.0)
    assert r.gradient["y"] == 0.0
    assert _grad("0 ^ y", y=b) == {"y": 0.0}


def test_pow_derivatives_away_from_the_conventions_are_the_usual_ones():
    # the conventions apply exactly where stated, nowhere else
    assert _rule("pow", 0, 0.0, 1.0) == 1.0  # d/da a^1 at 0
    assert _rule("pow", 0, 0.0, 2.0) == 0.0
    assert _rule("pow", 0, 0.0, 0.5) == math.inf
    assert _rule("pow", 1, 0.0, -1.0) == -math.inf  # 0^-1 = inf, times log(0) = -inf
    assert _rule("pow", 1, 1e-3, 2.0) == 1e-6 * math.log(1e-3)


# ---------------------------------------------------------------------------------------
# Domain errors: nan or inf, never an exception, and the first producing node named

INF, NAN = math.inf, math.nan
DOMAIN_ERRORS = [
    # program, inputs, value, op of the first non-finite node, its label
    ("log(0)", {}, -INF, "log", "log(0)"),
    ("log(x)", {"x": 0}, -INF, "log", "log(x)"),
    ("log(-1)", {}, NAN, "log", None),
    ("log(x)", {"x": -1}, NAN, "log", "log(x)"),
    ("sqrt(-1)", {}, NAN, "sqrt", None),
    ("sqrt(x)", {"x": -1}, NAN, "sqrt", "sqrt(x)"),
    ("1/0", {}, INF, "div", "1 / 0"),
    ("1/x", {"x": 0}, INF, "div", "1 / x"),
    ("-1/x", {"x": 0}, -INF, "div", None),
    ("0/0", {}, NAN, "div", "0 / 0"),
    ("x/y", {"x": 0, "y": 0}, NAN, "div", "x / y"),
    ("exp(1000)", {}, INF, "exp", "exp(1000)"),
    ("exp(x)", {"x": 1000}, INF, "exp", "exp(x)"),
    ("(-8)^(1/3)", {}, NAN, "pow", None),
    ("x^(1/3)", {"x": -8}, NAN, "pow", None),
    ("0^-1", {}, INF, "pow", None),
    ("x^y", {"x": 0, "y": -1}, INF, "pow", "x^y"),
    ("9^9^9", {}, INF, "pow", None),
    ("x^9^9", {"x": 9}, INF, "pow", None),
    ("9^9^x", {"x": 9}, INF, "pow", None),
    # the first producing node, not the last nor the output
    ("sin(log(x)) * 2 + x", {"x": -1}, NAN, "log", "log(x)"),
    ("exp(x) - exp(x)", {"x": 1000}, NAN, "exp", "exp(x)"),
    ("u = 1/x; v = u - u; v + 1", {"x": 0}, NAN, "div", "u"),
    ("tanh(exp(x)) + sqrt(-x)", {"x": 1}, NAN, "sqrt", None),
    ("log(x) + 1/y", {"x": 0, "y": 0}, NAN, "log", "log(x)"),  # two sources: one reported
]


@pytest.mark.parametrize("text, values, value, op, label", DOMAIN_ERRORS,
                         ids=[f"{c[0]} {c[1]}" for c in DOMAIN_ERRORS])
def test_domain_errors_give_nan_or_inf_and_name_the_first_node(text, values, value, op,
                                                               label):
    r = bpdiff.differentiate(text, **values)  # never raises
    if math.isnan(value):
        assert math.isnan(r.value)
    else:
        assert r.value == value
    assert r.nonfinite, f"{text}: no problem reported"
    problem = r.nonfinite[0]
    assert problem.stage == "value"
    node = r.node(problem.node)
    first = min(i for i, v in enumerate(r.values) if not math.isfinite(v))
    assert problem.node == first
    assert node.op == op
    assert all(math.isfinite(r.values[i]) for i in node.inputs)
    assert math.isnan(problem.number) if math.isnan(node.value) else problem.number == node.value
    if label is not None:
        assert node.label == label
    # at most one problem per stage, each a non-finite number of the node it names
    stages = [p.stage for p in r.nonfinite]
    assert stages in (["value"], ["value", "gradient"])
    for p in r.nonfinite[1:]:
        assert not math.isfinite(p.number)
        grad = r.grads[p.node]
        assert math.isnan(grad) if math.isnan(p.number) else grad == p.number


@pytest.mark.parametrize("name, point, value", [
    ("log", (0.0,), -INF), ("log", (-1.0,), NAN), ("sqrt", (-1.0,), NAN),
    ("div", (1.0, 0.0), INF), ("div", (-1.0, 0.0), -INF), ("div", (0.0, 0.0), NAN),
    ("exp", (1000.0,), INF), ("pow", (-8.0, 1 / 3), NAN), ("pow", (0.0, -1.0), INF),
    ("pow", (-0.0, -1.0), -INF), ("pow", (9.0, 9.0 ** 9), INF), ("pow", (-9.0, 9.0 ** 9), -INF),
    ("tan", (INF,), NAN), ("sin", (INF,), NAN), ("cos", (-INF,), NAN),
    ("max", (NAN, 1.0), NAN), ("min", (1.0, NAN), NAN),
])
def test_forward_rules_return_nan_or_inf_instead_of_raising(name, point, value):
    got = ops.BY_NAME[name].forward(m, *point)
    assert math.isnan(got) if math.isnan(value) else got == value


@PRIMS
@pytest.mark.parametrize("special", [0.0, -0.0, 1.0, -1.0, 1e308, -1e308, INF, -INF, NAN])
def test_no_rule_raises_on_special_values(prim, special):
    point = (special,) * prim.arity
    out = prim.forward(m, *point)
    for rule in prim.local_grads:
        assert isinstance(rule(m, *point, out), float | int)


@pytest.mark.parametrize("text, values", [
    ("log(x) + sqrt(x) + 1/x", {"x": 2}),
    ("x - y", {"x": 1e308, "y": 1e308}),  # finite values whose sum overflows
    ("1e308*x - 1e308*y", {"x": 1, "y": 1}),  # finite gradients whose sum overflows
])
def test_problems_are_empty_for_finite_results(text, values):
    r = bpdiff.differentiate(text, **values)
    assert math.isfinite(r.value)
    assert r.nonfinite == []


# ---------------------------------------------------------------------------------------
# Printable derivative formulas, evaluated by bpdiff itself


def _formula_cases():
    return [pytest.param(p, i, id=f"{p.name}-d{i}") for p in ops.SCALAR_PRIMITIVES
            for i in range(p.arity)]


def _substitute(formula, point, out):
    """The formula with its placeholders replaced by parenthesized numbers."""
    text = formula.replace("{out}", f"({out!r})")
    for i, v in enumerate(point):
        text = text.replace("{%d}" % i, f"({v!r})")
    assert "{" not in text and "}" not in text, f"unknown placeholder in {formula!r}"
    return text


def _parses(text):
    try:
        bpdiff.differentiate(text)
    except BpdiffError:
        return False
    return True


def test_the_unparseable_formulas_are_exactly_the_allowlisted_ones():
    unparseable = {}
    for prim in ops.SCALAR_PRIMITIVES:
        point = (1.25, 0.75, 2.5)[:prim.arity]  # inside every op's smooth domain
        out = prim.forward(m, *point)
        for i, formula in enumerate(prim.grad_formulas):
            if not _parses(_substitute(formula, point, out)):
                unparseable[(prim.name, i)] = formula
    assert unparseable == UNPARSEABLE_FORMULAS


_IVERSON = re.compile(r"\[([^\[\]]*)\]")


def _sympy_formula(text):
    """A substituted formula with step(), sign() and [condition] read by SymPy."""
    text = _IVERSON.sub(r"Piecewise((1, \1), (0, True))", text)
    return sp.sympify(text, locals={"step": lambda x: sp.Heaviside(x, 0), "sign": sp.sign})


@pytest.mark.parametrize("prim, i", _formula_cases())
@settings(max_examples=30, deadline=None, derandomize=True)
@given(data=st.data())
def test_grad_formula_evaluates_to_the_rule(prim, i, data):
    point = _draw_point(data, prim)
    out = prim.forward(m, *point)
    want = prim.local_grads[i](m, *point, out)
    text = _substitute(prim.grad_formulas[i], point, out)
    if (prim.name, i) in UNPARSEABLE_FORMULAS:
        assert prim.grad_formulas[i] == UNPARSEABLE_FORMULAS[(prim.name, i)]
        got = float(_sympy_formula(text))
    else:
        r = bpdiff.differentiate(text)
        assert r.gradient == {}
        got = r.value
    assert _close(got, want), f"{prim.name} formula {text!r} = {got}, rule gives {want}"
