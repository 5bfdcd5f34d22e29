"""Random programs over x, y, z using every operator, every function and most of the
syntax (implicit products, ** and ^, pow(), ln/sigma aliases, unary signs, named
statements, repeated subexpressions), checked against SymPy and against central finite
differences of bpdiff's own forward pass, with and without subexpression sharing.

Each generated node carries two texts: the bpdiff program, printed with as few
parentheses as the grammar's precedence allows, and a fully parenthesized SymPy
translation read with `sympy.sympify` (never eval). Functions with poles or restricted
domains only ever see arguments that keep them finite (log(1 + a^2), sqrt(2 + sin a),
a / (2 + cos b), positive bases under non-integer powers, ...). The functions with kinks
are small SymPy Functions declaring bpdiff's documented conventions (relu'(0) = abs'(0)
= 0, a max/min tie splits 1/2, step(0) = sign(0) = 0); SymPy does the chain rule. (Nested
Piecewise would do too, but sympify can take minutes folding them.)
"""

import math
from typing import NamedTuple

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import bpdiff
from bpdiff.engine import ops

PROFILE = settings(max_examples=200, deadline=None, derandomize=True, database=None)
VARIABLES = ("x", "y", "z")
SYMBOLS = {name: sp.Symbol(name, real=True) for name in VARIABLES}

SUM, PRODUCT, UNARY, POWER, ATOM = 1, 2, 3, 4, 9  # the grammar's binding strengths


# ---------------------------------------------------------------------------------------
# SymPy functions for the kinks, with bpdiff's conventions

def _known(*args):
    """The arguments as real numbers (50 digits) once they are all numeric, else None."""
    if not all(a.is_number for a in args):
        return None
    values = [sp.N(a, 50) for a in args]
    return values if all(v.is_real and v.is_Number for v in values) else None


class Step(sp.Function):
    """1 where a > 0, else 0; derivative 0 (away from 0, and by convention at 0)."""

    @classmethod
    def eval(cls, a):
        if v := _known(a):
            return sp.S.One if v[0] > 0 else sp.S.Zero

    def fdiff(self, argindex=1):
        return sp.S.Zero


class Sign(sp.Function):
    """-1, 0 or 1; derivative 0."""

    @classmethod
    def eval(cls, a):
        if v := _known(a):
            return sp.S.One if v[0] > 0 else -sp.S.One if v[0] < 0 else sp.S.Zero

    def fdiff(self, argindex=1):
        return sp.S.Zero


class Share(sp.Function):
    """How much of max(a, b)'s derivative goes to a: 1, 0, or 1/2 at a tie."""

    @classmethod
    def eval(cls, a, b):
        if v := _known(a, b):
            return sp.S.One if v[0] > v[1] else sp.S.Zero if v[0] < v[1] else sp.S.Half

    def fdiff(self, argindex=1):
        return sp.S.Zero


class Relu(sp.Function):
    @classmethod
    def eval(cls, a):
        if v := _known(a):
            return a if v[0] > 0 else sp.S.Zero

    def fdiff(self, argindex=1):
        return Step(self.args[0])  # relu'(0) = 0


class AbsK(sp.Function):
    @classmethod
    def eval(cls, a):
        if v := _known(a):
            return a if v[0] > 0 else -a

    def fdiff(self, argindex=1):
        return Sign(self.args[0])  # abs'(0) = 0


class MaxK(sp.Function):
    @classmethod
    def eval(cls, a, b):
        if v := _known(a, b):
            return a if v[0] >= v[1] else b

    def fdiff(self, argindex=1):
        a, b = self.args
        return Share(a, b) if argindex == 1 else Share(b, a)


class MinK(sp.Function):
    @classmethod
    def eval(cls, a, b):
        if v := _known(a, b):
            return a if v[0] <= v[1] else b

    def fdiff(self, argindex=1):
        a, b = self.args
        return Share(b, a) if argindex == 1 else Share(a, b)


_COMPARE = {">": lambda a, b: a > b, ">=": lambda a, b: a >= b, "<": lambda a, b: a < b,
            "<=": lambda a, b: a <= b, "==": lambda a, b: a == b, "!=": lambda a, b: a != b}
_COMPARISONS = {"gt": ">", "ge": ">=", "lt": "<", "le": "<=", "eq": "==", "ne": "!="}


class Compare(sp.Function):
    """1 where `a <op> b` holds, else 0 (op: k-th of _COMPARE); derivative 0."""

    @classmethod
    def eval(cls, k, a, b):
        if v := _known(a, b):
            return sp.S.One if list(_COMPARE.values())[int(k)](v[0], v[1]) else sp.S.Zero

    def fdiff(self, argindex=1):
        return sp.S.Zero


class WhereK(sp.Function):
    """a where c (a comparison: 1 or 0) holds, else b; derivatives 0, c and 1 - c."""

    @classmethod
    def eval(cls, c, a, b):
        if v := _known(c):
            return a if v[0] != 0 else b

    def fdiff(self, argindex=1):
        c = self.args[0]
        return (sp.S.Zero, c, 1 - c)[argindex - 1]


class ClipK(sp.Function):
    """min(max(x, lo), hi), the derivative to x where lo <= x <= hi (PyTorch's clamp)."""

    @classmethod
    def eval(cls, x, lo, hi):
        if v := _known(x, lo, hi):
            return hi if max(v[0], v[1]) > v[2] else x if v[0] >= v[1] else lo

    def fdiff(self, argindex=1):
        x, lo, hi = self.args
        inside = Compare(1, x, lo) * Compare(3, x, hi)
        below = Compare(2, x, lo) * Compare(3, lo, hi)
        return (inside, below, 1 - inside - below)[argindex - 1]


SYMPY_NAMES = {**SYMBOLS, "Step": Step, "Sign": Sign, "Relu": Relu, "AbsK": AbsK,
               "MaxK": MaxK, "MinK": MinK, "Compare": Compare, "WhereK": WhereK,
               "ClipK": ClipK}


class Expr(NamedTuple):
    text: str  # bpdiff syntax
    prec: int  # how tightly the printed text binds
    sym: str  # SymPy syntax, fully parenthesized
    vars: frozenset  # input names the value depends on (names expanded)
    implicit_ok: bool = False  # may be the right operand of an implicit product as printed


def _at_least(e, prec):
    return e.text if e.prec >= prec else f"({e.text})"


def _juxtapose(left, right):
    """Two texts written next to each other (`2x`, `x(y)`, `(a)(b)`), with a space only
    where two names would merge (`x y`)."""
    glue = " " if (left[-1].isalpha() or left[-1] == "_") and right[0].isalpha() else ""
    return left + glue + right


# ---------------------------------------------------------------------------------------
# Builders: one per operation and spelling

def var(name):
    return Expr(name, ATOM, name, frozenset([name]), implicit_ok=True)


def number(text):
    return Expr(text, ATOM, text, frozenset())


def add(a, b):
    return Expr(f"{_at_least(a, SUM)} + {_at_least(b, PRODUCT)}", SUM,
                f"({a.sym})+({b.sym})", a.vars | b.vars)


def sub(a, b, spelling="-"):
    return Expr(f"{_at_least(a, SUM)} {spelling} {_at_least(b, PRODUCT)}", SUM,
                f"({a.sym})-({b.sym})", a.vars | b.vars)


def mul(a, b, spelling="*"):
    return Expr(f"{_at_least(a, PRODUCT)} {spelling} {_at_least(b, UNARY)}", PRODUCT,
                f"({a.sym})*({b.sym})", a.vars | b.vars)


def implicit_mul(a, b):
    """`2x`, `x(y + 1)`, `(a)(b)`, `sin(x)cos(y)`, `2 x^2`: the right operand must be a
    name, a call or a parenthesis (possibly raised to a power), never a number or sign."""
    right = b.text if b.implicit_ok else f"({b.text})"
    return Expr(_juxtapose(_at_least(a, PRODUCT), right), PRODUCT,
                f"({a.sym})*({b.sym})", a.vars | b.vars)


def div(a, b, spelling="/"):
    return Expr(f"{_at_least(a, PRODUCT)} {spelling} {_at_least(b, UNARY)}", PRODUCT,
                f"({a.sym})/({b.sym})", a.vars | b.vars)


def power(a, b, spelling="^"):
    """a ^ b, right-associative; the base must be an atom, the exponent may be signed."""
    base = _at_least(a, ATOM)
    text = f"{base}{spelling}{_at_least(b, UNARY)}" if spelling == "^" else \
        f"{base} {spelling} {_at_least(b, UNARY)}"
    return Expr(text, POWER, f"({a.sym})**({b.sym})", a.vars | b.vars,
                implicit_ok=a.implicit_ok or a.prec < ATOM)  # x^2, (..)^2: not 2^x


def neg(a, spelling="-"):
    return Expr(f"{spelling}{_at_least(a, UNARY)}", UNARY, f"-({a.sym})", a.vars)


def plus(a):
    return Expr(f"+{_at_least(a, UNARY)}", UNARY, a.sym, a.vars)


def call(name, sym, *args):
    """name(args) in bpdiff; `sym` formats the SymPy text from the arguments' texts."""
    text = f"{name}({', '.join(a.text for a in args)})"
    return Expr(text, ATOM, sym.format(*[f"({a.sym})" for a in args]),
                frozenset().union(*[a.vars for a in args]), implicit_ok=True)


def function(name, *args):
    return call(name, SYMPY_CALLS[name], *args)


SYMPY_CALLS = {
    "sin": "sin{0}", "cos": "cos{0}", "tan": "tan{0}", "exp": "exp{0}",
    "log": "log{0}", "ln": "log{0}", "sqrt": "sqrt{0}", "tanh": "tanh{0}",
    "sigmoid": "(1/(1+exp(-{0})))", "sigma": "(1/(1+exp(-{0})))",
    "softplus": "log(1+exp{0})",
    "abs": "AbsK{0}", "relu": "Relu{0}", "max": "MaxK({0}, {1})", "min": "MinK({0}, {1})",
    "step": "Step{0}", "sign": "Sign{0}", "pow": "(({0})**({1}))",
    "square": "(({0})**2)", "cube": "(({0})**3)", "reciprocal": "(1/({0}))",
    "log2": "(log{0}/log(2))", "log10": "(log{0}/log(10))", "log1p": "log(1+{0})",
    "expm1": "(exp{0}-1)", "sinh": "sinh{0}", "cosh": "cosh{0}",
    "arctan": "atan{0}", "atan": "atan{0}", "arcsin": "asin{0}", "asin": "asin{0}",
    "arccos": "acos{0}", "acos": "acos{0}",
    "maximum": "MaxK({0}, {1})", "minimum": "MinK({0}, {1})", "where": "WhereK({0}, {1}, {2})",
    "clip": "ClipK({0}, {1}, {2})",
}
"""Every function name a program may call, as SymPy text ({0}, {1}: the arguments)."""

ONE, TWO = number("1"), number("2")


def positive(a, which):
    """A value in a bounded positive range, built from `a`."""
    if which == 0:
        return add(number("1.5"), function("sin", a))  # [0.5, 2.5]
    if which == 1:
        return add(ONE, power(a, TWO))  # >= 1
    return function("sigmoid" if which == 2 else "sigma", bounded(a, which % 3))  # [0.26, 0.74]


def compare(symbol, a, b):
    """(a <symbol> b): a comparison, in parentheses (it binds loosest of all)."""
    k = list(_COMPARE).index(symbol)
    return Expr(f"({a.text} {symbol} {b.text})", ATOM, f"Compare({k}, ({a.sym}), ({b.sym}))",
                a.vars | b.vars)


def bounded(a, which):
    """A value in [-1, 1] built from `a`."""
    return function(("sin", "cos", "tanh")[which], a)


# Each form: (operation names it exercises, arity, builder(args..., choice)).
FORMS = [
    ({"add"}, 2, lambda a, b, c: add(a, b)),
    ({"sub"}, 2, lambda a, b, c: sub(a, b, "-−"[c % 5 == 0])),
    ({"mul"}, 2, lambda a, b, c: mul(a, b, "*××··"[c % 7 // 2])),
    ({"mul"}, 2, lambda a, b, c: implicit_mul(a, b)),
    ({"div"}, 2, lambda a, b, c: div(a, add(TWO, function("cos", b)) if c % 2
                                      else add(ONE, power(b, TWO)), "/÷"[c % 5 == 0])),
    ({"pow"}, 1, lambda a, c: power(a, number(("2", "3")[c % 2]), ("^", "**")[c // 2 % 2])),
    ({"pow"}, 2, lambda a, b, c: power(positive(a, c % 4), bounded(b, c % 3),
                                       ("^", "**")[c // 4 % 2])),
    ({"pow"}, 1, lambda a, c: power(positive(a, c % 4), (
        number("0.5"), number("1.5"), neg(number("1")), neg(number("0.5")))[c // 4 % 4])),
    ({"pow"}, 2, lambda a, b, c: function("pow", positive(a, c % 4), bounded(b, c % 3))),
    ({"neg"}, 1, lambda a, c: neg(a, "-−"[c % 5 == 0])),
    (set(), 1, lambda a, c: plus(a)),
    ({"sin"}, 1, lambda a, c: function("sin", a)),
    ({"cos"}, 1, lambda a, c: function("cos", a)),
    ({"tan"}, 1, lambda a, c: function("tan", bounded(a, c % 3))),  # |arg| <= 1 < pi/2
    ({"exp"}, 1, lambda a, c: function("exp", bounded(a, c % 3) if c % 2 else
                                       neg(power(a, TWO)))),
    ({"log"}, 1, lambda a, c: function(("log", "ln")[c % 2], positive(a, c // 2 % 4))),
    ({"sqrt"}, 1, lambda a, c: function("sqrt", positive(a, c % 4))),
    ({"abs"}, 1, lambda a, c: function("abs", a)),
    ({"tanh"}, 1, lambda a, c: function("tanh", a)),
    ({"sigmoid"}, 1, lambda a, c: function(("sigmoid", "sigma")[c % 2], a)),
    ({"relu"}, 1, lambda a, c: function("relu", a)),
    ({"softplus"}, 1, lambda a, c: function("softplus", a)),
    ({"max"}, 2, lambda a, b, c: function("max", a, b)),
    ({"min"}, 2, lambda a, b, c: function("min", a, b)),
    ({"step"}, 1, lambda a, c: function("step", a)),
    ({"sign"}, 1, lambda a, c: function("sign", a)),
    ({"square"}, 1, lambda a, c: function("square", a)),
    ({"cube"}, 1, lambda a, c: function("cube", bounded(a, c % 3))),
    ({"reciprocal"}, 1, lambda a, c: function("reciprocal", add(TWO, function("cos", a)))),
    ({"log2"}, 1, lambda a, c: function("log2", positive(a, c % 4))),
    ({"log10"}, 1, lambda a, c: function("log10", positive(a, c % 4))),
    ({"log1p"}, 1, lambda a, c: function("log1p", positive(a, c % 4))),
    ({"expm1"}, 1, lambda a, c: function("expm1", bounded(a, c % 3))),
    ({"sinh"}, 1, lambda a, c: function("sinh", bounded(a, c % 3))),
    ({"cosh"}, 1, lambda a, c: function("cosh", bounded(a, c % 3))),
    ({"arctan"}, 1, lambda a, c: function(("arctan", "atan")[c % 2], a)),
    # |argument| <= 0.9: away from ±1, where the derivative is infinite
    ({"arcsin"}, 1, lambda a, c: function(("arcsin", "asin")[c % 2],
                                          mul(number("0.9"), bounded(a, c % 3)))),
    ({"arccos"}, 1, lambda a, c: function(("arccos", "acos")[c % 2],
                                          mul(number("0.9"), bounded(a, c % 3)))),
    *(({name}, 2, lambda a, b, c, symbol=symbol: mul(compare(symbol, a, b), a))
      for name, symbol in _COMPARISONS.items()),
    ({"max"}, 2, lambda a, b, c: function(("maximum", "max")[c % 2], a, b)),
    ({"min"}, 2, lambda a, b, c: function(("minimum", "min")[c % 2], a, b)),
    ({"where", "gt", "le"}, 2, lambda a, b, c: function("where", compare((">", "<=")[c % 2], a, b),
                                                        a, b)),
    ({"clip"}, 2, lambda a, b, c: function(  # bounds -1 - b² and 1 + b²: no kink at 0
        "clip", a, neg(add(ONE, function("square", b))), add(ONE, function("square", b)))),
]
"""Every operation in a safe form; `c` picks among spellings and safe wrappings."""

CONSTANTS = ["2", "3", "0.5", "1.5", "0.25", "10", ".5", "2.0", "1e-1", "0.125"]


UNARY_FORMS = [f for f in FORMS if f[1] == 1]
BINARY_FORMS = [f for f in FORMS if f[1] == 2]


@st.composite
def expressions(draw, names=None, depth=None):
    """A random expression over x, y, z and the already-bound `names` (name -> Expr),
    at most `depth` operations deep."""
    names = names or {}
    if depth is None:
        depth = draw(st.sampled_from([4, 3, 5, 2, 1]), label="depth")
    if depth == 0 or draw(st.integers(0, 9)) == 5:  # not 0: hypothesis favours the ends
        kind = draw(st.sampled_from(["var", "number", "name"] if names else ["var", "number"]))
        if kind == "var":
            return var(draw(st.sampled_from(VARIABLES)))
        if kind == "number":
            return number(draw(st.sampled_from(CONSTANTS)))
        return names[draw(st.sampled_from(sorted(names)))]
    child = expressions(names, depth - 1)
    choice = draw(st.integers(0, 23))
    shape = draw(st.sampled_from(["unary", "binary", "same operands", "reused"]))
    if shape == "unary":
        return draw(st.sampled_from(UNARY_FORMS))[2](draw(child), choice)
    if shape == "binary":
        return draw(st.sampled_from(BINARY_FORMS))[2](draw(child), draw(child), choice)
    if shape == "same operands":  # f(e, e): one node when shared
        e = draw(child)
        return draw(st.sampled_from(BINARY_FORMS))[2](e, e, choice)
    e = draw(child)  # f(e) + e or f(e) * e: e reached along two paths
    combine = draw(st.sampled_from([add, mul, implicit_mul]))
    return combine(draw(st.sampled_from(UNARY_FORMS))[2](e, choice), e)


@st.composite
def programs(draw):
    """(program text, SymPy text of its output, input names it declares, used ones)."""
    statements, names, declared = [], {}, set()
    for name in draw(st.lists(st.sampled_from(["u", "v", "w"]), unique=True, max_size=2)):
        e = draw(st.one_of(expressions(names, depth=2), st.sampled_from(VARIABLES).map(var))
                 .filter(lambda e: e.vars))  # `u = 2` would declare an input instead
        statements.append(f"{name} = {e.text}")
        declared |= e.vars
        names[name] = Expr(name, ATOM, f"({e.sym})", e.vars, implicit_ok=True)
    body = draw(expressions(names))
    statements.append(body.text)
    declared |= body.vars
    separators = draw(st.lists(st.sampled_from([";", "; ", "\n", " ;\n"]),
                               min_size=len(statements), max_size=len(statements)))
    text = "".join(s + sep for s, sep in zip(statements[:-1], separators)) + statements[-1]
    return text, body.sym, declared, body.vars


values = st.one_of(st.just(0.0), st.floats(-2, 2).filter(lambda v: abs(v) >= 1e-3))
"""Input values: 0 (where kinks and ties happen) or not so tiny that products underflow,
which float arithmetic does and SymPy's 40 digits do not (step(y*y) at y = 1e-177)."""


def _sympy_value(expr, point):
    """`expr` at `point` with 40 significant digits (the floats are exact at that
    precision, and exact cancellations give exact zeros)."""
    subs = {SYMBOLS[n]: sp.Float(v, 40) for n, v in point.items()}
    return float(expr.subs(subs).evalf(40))


def _scale(r):
    """The largest magnitude among the run's values and gradients: floating-point
    error is relative to it, not to a result that cancelled down to near zero."""
    numbers = [abs(n.value) for n in r.nodes]
    numbers += [abs(n.grad) for n in r.nodes if n.grad is not None]
    return max([1.0, *numbers])


def _close(got, want, scale):
    return math.isclose(got, want, rel_tol=1e-8, abs_tol=1e-12 * scale)


# ---------------------------------------------------------------------------------------


def test_the_generator_covers_every_operation_and_function_spelling():
    exercised = set().union(*[f[0] for f in FORMS]) | {"id"}  # id: `u = x` statements
    scalar_ops = {p.name for p in ops.SCALAR_PRIMITIVES}  # tensor ops: tests/test_tensor.py
    assert exercised == scalar_ops, "add a safe form for every new op to FORMS"
    scalar_functions = {name for name, p in ops.FUNCTIONS.items() if p.name in scalar_ops}
    assert set(SYMPY_CALLS) == scalar_functions, "add every new function to SYMPY_CALLS"


@PROFILE
@given(program=programs(), data=st.data())
def test_random_programs_match_sympy_and_finite_differences(program, data):
    text, sym, declared, used = program
    point = {n: data.draw(values, label=n) for n in sorted(declared)}
    r = bpdiff.differentiate(text, point)
    assert r.nonfinite == [], text
    assert set(r.gradient) == used, text
    scale = _scale(r)

    expr = sp.sympify(sym, locals=SYMPY_NAMES)
    want = _sympy_value(expr, point)
    assert _close(r.value, want, scale), f"{text!r} at {point}: {r.value}, SymPy {want}"
    for name in used:
        derivative = sp.diff(expr, SYMBOLS[name])
        want = _sympy_value(derivative, point)
        assert _close(r.gradient[name], want, scale), (
            f"{text!r} at {point}: ∂/∂{name} = {r.gradient[name]}, SymPy {want}")

    for name in used:
        _check_finite_difference(text, point, name, r, scale)


AT_KINK = {
    "relu": lambda a: a == 0, "abs": lambda a: a == 0, "step": lambda a: a == 0,
    "sign": lambda a: a == 0, "max": lambda a, b: a == b, "min": lambda a, b: a == b,
    **dict.fromkeys(["gt", "ge", "lt", "le", "eq", "ne"], lambda a, b: a == b),
    "clip": lambda x, lo, hi: x == lo or x == hi,
}
"""Where each op with a kink is not differentiable: there the gradient is a convention
(checked against SymPy above), which a difference along one axis need not reproduce:
min(z + x, max(z, x)) is just z along z at x = 0, but bpdiff's tie rules give 3/4."""


def _at_a_kink(r):
    return any(node.op in AT_KINK and AT_KINK[node.op](*[r.values[i] for i in node.inputs])
               for node in r.nodes)


def _check_finite_difference(text, point, name, r, scale):
    """Central difference of bpdiff's own forward pass vs its backward pass.

    Skipped at a kink (AT_KINK), and where finite differences cannot be trusted: the
    one-sided differences disagree (a kink or jump within the step), or the central
    differences with steps h and 2h disagree (a kink within 2h, or one in a higher
    derivative at the point, as in relu(x)*x at 0, which makes the error O(h)). A wrong
    gradient passes neither test, so it is still caught."""
    if _at_a_kink(r):
        return
    v = point[name]
    h = 1e-6 * max(1.0, abs(v))

    def f(at):
        return bpdiff.differentiate(text, {**point, name: at}).value

    up, down, up2, down2 = f(v + h), f(v - h), f(v + 2 * h), f(v - 2 * h)
    forward_diff = (up - r.value) / ((v + h) - v)
    backward_diff = (r.value - down) / (v - (v - h))
    central = (up - down) / ((v + h) - (v - h))
    central2 = (up2 - down2) / ((v + 2 * h) - (v - 2 * h))
    tol = 1e-5 * (1 + abs(central)) + 1e-7 * scale  # truncation + rounding (eps/h)
    if abs(forward_diff - backward_diff) > 1e-3 * (1 + abs(central)) + 1e-7 * scale \
            or abs(central - central2) > tol:
        return
    grad = r.gradient[name]
    assert abs(grad - central) <= 2 * tol, (
        f"{text!r} at {point}: ∂/∂{name} = {grad}, central difference {central}")


@PROFILE
@given(program=programs(), data=st.data())
def test_sharing_does_not_change_values_or_gradients(program, data):
    text, _, declared, _ = program
    point = {n: data.draw(values, label=n) for n in sorted(declared)}
    shared = bpdiff.differentiate(text, point)
    unshared = bpdiff.differentiate(text, point, share=False)
    # (no node-count comparison: `u = E; v = E` costs an extra `id` copy when shared)
    assert unshared.value == shared.value
    assert list(unshared.gradient) == list(shared.gradient)
    for name, grad in shared.gradient.items():
        # the same sum, possibly added up in another order
        assert math.isclose(unshared.gradient[name], grad, rel_tol=1e-12,
                            abs_tol=1e-14 * _scale(shared)), (text, name)


def test_repeated_subexpressions_are_shared_only_when_sharing():
    text = "sin(x*y) * sin(x*y) + exp(x*y)"
    shared = bpdiff.differentiate(text, x=0.5, y=2)
    unshared = bpdiff.differentiate(text, x=0.5, y=2, share=False)
    assert len(shared.nodes) == 7  # x, y, x*y, sin, product, exp, sum
    assert len(unshared.nodes) == 10
    assert shared.value == unshared.value == math.sin(1) ** 2 + math.exp(1)


@pytest.mark.parametrize("text, sym", [
    ("2x", "2*x"), ("1e-1x", "x/10"), (".5exp(x)", "exp(x)/2"), ("2 x^2", "2*x**2"),
    ("x(y + 1)", "x*(y+1)"), ("(x)(y)", "x*y"), ("sin(x)cos(y)", "sin(x)*cos(y)"),
    ("-x^2", "-(x**2)"), ("2^3^x", "2**(3**x)"), ("x^-y", "x**(-y)"),
    ("x ** y ** 2", "x**(y**2)"), ("x - -y", "x+y"), ("x / y / z", "(x/y)/z"),
    ("x - y - z", "(x-y)-z"), ("-x y", "(-x)*y"), ("+x * +y", "x*y"),
    ("u = x*y; v = u + z\nu*v", "(x*y)*((x*y)+z)"),
    ("ln(x) + sigma(y) + pow(x, z)", "log(x) + 1/(1+exp(-y)) + x**z"),
    ("x × y · z ÷ 2 − −x", "x*y*z/2 + x"),
])
def test_printing_conventions_the_generator_relies_on(text, sym):
    point = {"x": 1.25, "y": 0.75, "z": 1.5}
    expr = sp.sympify(sym, locals=SYMPY_NAMES)
    r = bpdiff.differentiate(text, {s.name: point[s.name] for s in expr.free_symbols})
    assert _close(r.value, _sympy_value(expr, point), 1.0)
    for name, grad in r.gradient.items():
        assert _close(grad, _sympy_value(sp.diff(expr, SYMBOLS[name]), point), 1.0)
