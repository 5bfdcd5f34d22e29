"""The primitive table: the one place that knows how each operation computes and differentiates.

Each `Primitive` declares its name, arity, forward rule, one local-derivative rule per
input, the same derivatives as printable formulas, and how the operation prints. The
grammar's aliases, the Transformer, forward/backward and the renderers all look
operations up here; adding an operation is one entry (plus tests).

Rules receive a math namespace `m` first (`bpdiff.scalar` for floats), then the input
values; derivative rules also receive the forward result `out` (as autograd's `ans`),
so `exp`, `tanh`, `sigmoid` and `sqrt` reuse it. Rules use only `+ - *` and `m.*`
functions, never `/`, `**` or `math.*` directly, so they stay IEEE-safe and can later
run on arrays. Formulas use bpdiff's own syntax with `{0}`, `{1}` for the inputs and
`{out}` for the result; they hold wherever the derivative exists (at a max/min tie
the rule's even split applies, not the formula's step).

Conventions at non-differentiable points follow PyTorch: relu'(0) = 0, abs'(0) = 0,
a max/min tie splits the gradient evenly (1/2 each), sqrt'(0) = inf, and
∂(a^b)/∂a = 0 where b = 0, ∂(a^b)/∂b = 0 where a = 0 and b >= 0. `subgradients`
lists the other conventions in use there (relu'(0) = 1, a tie sending everything to
one side), which `--expect` accepts too. `kink_rules` gives, for each `--kink` policy
(KINK_POLICIES), the local derivatives used at the kink instead of the rules; its
"pytorch" entry is what the rules themselves give there.

May import: the standard library.
"""

import math
from typing import Callable, NamedTuple


class Primitive(NamedTuple):
    """One operation: how it computes, differentiates and prints."""

    name: str
    arity: int
    forward: Callable
    local_grads: tuple  # one rule (m, *inputs, out) -> ∂out/∂input_i per input
    grad_formulas: tuple  # the same derivatives in bpdiff syntax
    doc: str
    symbol: str | None = None  # infix or prefix operator; None prints as a call name(...)
    precedence: int = 9  # binding strength when printed: 1 +-, 2 */, 3 unary, 4 ^, 9 atom
    right_assoc: bool = False
    aliases: tuple = ()  # extra names a program may call it by
    kink: str = ""  # the convention used where the derivative does not exist
    at_kink: Callable | None = None  # (*inputs) -> True exactly at such a point
    subgradients: Callable | None = None  # (*inputs) -> at a kink, the local derivatives
    # (one tuple per input) that each valid convention would give, the one used included
    kink_rules: dict | None = None  # at a kink: --kink policy -> the local derivatives used


def _pow_base_grad(m, a, b, out):
    if b == 0 and a == 0:  # 0^0 = 1 whatever the base: 0 * 0^-1 = 0 * inf taken as 0
        return 0.0
    return b * m.pow(a, b - 1.0)


def _pow_exponent_grad(m, a, b, out):
    if a == 0 and b >= 0:
        return 0.0
    return out * m.log(a)


def _tie_shares(a, b):
    # A max/min tie may split the gradient evenly or send all of it to either input.
    return ((0.5, 0.5), (1.0, 0.0), (0.0, 1.0))


KINK_POLICIES = ("pytorch", "jax", "zero", "one", "half")
"""The conventions `--kink` selects among (see kink_rules below and the README's table)."""

_KINK_NUMBER = {"zero": 0.0, "one": 1.0, "half": 0.5}


def _kink_at_zero(pytorch, jax):
    # relu, abs, sqrt at 0: PyTorch's and JAX's derivative there; zero/one/half: that number
    return {"pytorch": (pytorch,), "jax": (jax,), **{p: (c,) for p, c in _KINK_NUMBER.items()}}


# max, min at a tie: PyTorch and JAX split evenly; zero/one/half give that share to the
# first input and the rest to the second, so the two still add up to 1 (max(t, t) = t)
_KINK_TIE = {"pytorch": (0.5, 0.5), "jax": (0.5, 0.5),
             **{p: (c, 1.0 - c) for p, c in _KINK_NUMBER.items()}}

# step, sign at 0: a jump, where no number is a derivative; 0 under every policy
_KINK_JUMP = dict.fromkeys(KINK_POLICIES, (0.0,))


def _binary(name, symbol, precedence, forward, grads, formulas, doc, **extra):
    return Primitive(name, 2, forward, grads, formulas, doc, symbol, precedence, **extra)


def _function(name, arity, forward, grads, formulas, doc, **extra):
    return Primitive(name, arity, forward, grads, formulas, doc, **extra)


PRIMITIVES = (
    _binary("add", "+", 1, lambda m, a, b: a + b,
            (lambda m, a, b, out: 1.0, lambda m, a, b, out: 1.0),
            ("1", "1"), "sum a + b"),
    _binary("sub", "-", 1, lambda m, a, b: a - b,
            (lambda m, a, b, out: 1.0, lambda m, a, b, out: -1.0),
            ("1", "-1"), "difference a - b"),
    _binary("mul", "*", 2, lambda m, a, b: a * b,
            (lambda m, a, b, out: b, lambda m, a, b, out: a),
            ("{1}", "{0}"), "product a * b (also written 2b, c(a+b), (a)(b))"),
    _binary("div", "/", 2, lambda m, a, b: m.div(a, b),
            (lambda m, a, b, out: m.div(1.0, b), lambda m, a, b, out: -m.div(out, b)),
            ("1/{1}", "-{0}/{1}^2"), "quotient a / b"),
    _binary("pow", "^", 4, lambda m, a, b: m.pow(a, b),
            (_pow_base_grad, _pow_exponent_grad),
            ("{1}*{0}^({1} - 1)", "{0}^{1}*log({0})"),
            "power a ^ b, a ** b or pow(a, b); right-associative", right_assoc=True,
            kink="∂/∂a = 0 where b = 0; ∂/∂b = 0 where a = 0 and b ≥ 0"),
    Primitive("neg", 1, lambda m, a: -a, (lambda m, a, out: -1.0,), ("-1",),
              "negation -a", symbol="-", precedence=3),
    _function("id", 1, lambda m, a: a, (lambda m, a, out: 1.0,), ("1",),
              "a named copy of a value (d = b)"),
    _function("sin", 1, lambda m, a: m.sin(a), (lambda m, a, out: m.cos(a),),
              ("cos({0})",), "sine (radians)"),
    _function("cos", 1, lambda m, a: m.cos(a), (lambda m, a, out: -m.sin(a),),
              ("-sin({0})",), "cosine (radians)"),
    _function("tan", 1, lambda m, a: m.tan(a), (lambda m, a, out: 1.0 + out * out,),
              ("1 + {out}^2",), "tangent (radians)"),
    _function("exp", 1, lambda m, a: m.exp(a), (lambda m, a, out: out,),
              ("exp({0})",), "exponential e^a"),
    _function("log", 1, lambda m, a: m.log(a), (lambda m, a, out: m.div(1.0, a),),
              ("1/{0}",), "natural logarithm", aliases=("ln",)),
    _function("sqrt", 1, lambda m, a: m.sqrt(a), (lambda m, a, out: m.div(0.5, out),),
              ("1/(2*sqrt({0}))",), "square root", kink="sqrt'(0) = inf",
              at_kink=lambda a: a == 0, kink_rules=_kink_at_zero(math.inf, math.inf)),
    _function("abs", 1, lambda m, a: m.fabs(a), (lambda m, a, out: m.sign(a),),
              ("sign({0})",), "absolute value", kink="abs'(0) = 0",
              at_kink=lambda a: a == 0, subgradients=lambda a: ((0.0,), (-1.0,), (1.0,)),
              kink_rules=_kink_at_zero(0.0, 1.0)),
    _function("tanh", 1, lambda m, a: m.tanh(a), (lambda m, a, out: 1.0 - out * out,),
              ("1 - {out}^2",), "hyperbolic tangent"),
    _function("sigmoid", 1, lambda m, a: m.sigmoid(a),
              (lambda m, a, out: out * (1.0 - out),),
              ("{out}*(1 - {out})",), "logistic sigmoid 1/(1 + e^-a)", aliases=("sigma",)),
    _function("relu", 1, lambda m, a: m.relu(a), (lambda m, a, out: m.step(a),),
              ("step({0})",), "rectifier max(a, 0)", kink="relu'(0) = 0",
              at_kink=lambda a: a == 0, subgradients=lambda a: ((0.0,), (1.0,)),
              kink_rules=_kink_at_zero(0.0, 0.0)),
    _function("softplus", 1, lambda m, a: m.softplus(a),
              (lambda m, a, out: m.sigmoid(a),),
              ("sigmoid({0})",), "softplus log(1 + e^a)"),
    _function("max", 2, lambda m, a, b: m.maximum(a, b),
              (lambda m, a, b, out: m.tie_share(a, b), lambda m, a, b, out: m.tie_share(b, a)),
              ("step({0} - {1})", "step({1} - {0})"), "larger of a and b",
              kink="a tie splits the gradient evenly: 1/2 to each",
              at_kink=lambda a, b: a == b, subgradients=_tie_shares, kink_rules=_KINK_TIE),
    _function("min", 2, lambda m, a, b: m.minimum(a, b),
              (lambda m, a, b, out: m.tie_share(b, a), lambda m, a, b, out: m.tie_share(a, b)),
              ("step({1} - {0})", "step({0} - {1})"), "smaller of a and b",
              kink="a tie splits the gradient evenly: 1/2 to each",
              at_kink=lambda a, b: a == b, subgradients=_tie_shares, kink_rules=_KINK_TIE),
    _function("step", 1, lambda m, a: m.step(a), (lambda m, a, out: 0.0,), ("0",),
              "1 where a > 0, else 0 (relu's derivative)", kink="step'(0) = 0",
              at_kink=lambda a: a == 0, kink_rules=_KINK_JUMP),
    _function("sign", 1, lambda m, a: m.sign(a), (lambda m, a, out: 0.0,), ("0",),
              "-1, 0 or 1 (abs's derivative)", kink="sign'(0) = 0",
              at_kink=lambda a: a == 0, kink_rules=_KINK_JUMP),
)

BY_NAME = {p.name: p for p in PRIMITIVES}
"""Every primitive by its table name (the grammar's aliases use these names)."""

FUNCTIONS = {name: p for p in PRIMITIVES if p.symbol is None and p.name != "id"
             for name in (p.name, *p.aliases)}
FUNCTIONS["pow"] = BY_NAME["pow"]
"""Every primitive a program may call by name, aliases included."""


def function_list():
    """The callable functions as the docs list them: 'sin, cos, ..., log (ln), ...'."""
    shown = []
    for p in PRIMITIVES:
        if p.name in FUNCTIONS:
            alias = f" ({', '.join(p.aliases)})" if p.aliases else ""
            shown.append(p.name + alias)
    return ", ".join(shown)
