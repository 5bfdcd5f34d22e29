"""The primitive table: the one place that knows how each operation computes and differentiates.

Each `Primitive` declares its name, arity, forward rule, one local-derivative rule per
input, the same derivatives as printable formulas, and how the operation prints. The
grammar's aliases, the Transformer, forward/backward and the renderers all look
operations up here; adding an operation is one entry (plus tests).

Rules receive a math namespace `m` first (`bpdiff.engine.scalar` for floats; what every
namespace provides is declared in bpdiff.engine.namespace), then the input values;
derivative rules also receive the forward result `out` (as autograd's `ans`), so `exp`,
`tanh`, `sigmoid` and `sqrt` reuse it. Rules use only `+ - *` and `m.*` functions, never
`/`, `**` or `math.*` directly, so they stay IEEE-safe and run on arrays too. Formulas
use bpdiff's own syntax with `{0}`, `{1}` for the inputs and `{out}` for the result;
they hold wherever the derivative exists (at a max/min tie the rule's even split
applies, not the formula's step).

Where a `switched_off` rule holds (relu below 0, the losing side of max, ...), the local
derivative is 0 because that branch is not taken, not because of arithmetic: the
backward pass then adds 0 even for an infinite upstream gradient, as PyTorch's masked
backward does (an ordinary 0 × inf stays nan).

Conventions at non-differentiable points follow PyTorch: relu'(0) = 0, abs'(0) = 0,
a max/min tie splits the gradient evenly (1/2 each), sqrt'(0) = inf, and
∂(a^b)/∂a = 0 where b = 0, ∂(a^b)/∂b = 0 where a = 0 and b >= 0. `subgradients`
lists the other conventions in use there (relu'(0) = 1, a tie sending everything to
one side), which `--expect` accepts too. `kink_rules` gives, for each `--kink` policy
(KINK_POLICIES), the local derivatives used at the kink instead of the rules; its
"pytorch" entry is what the rules themselves give there.
"""

from __future__ import annotations

import functools
import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TypeAlias

    from bpdiff.engine.namespace import ArrayNamespace, MathNamespace

    Rule: TypeAlias = Callable[..., Any]  # a forward, derivative, VJP or kink rule


_LN2, _LN10 = math.log(2.0), math.log(10.0)


def _sinh(m: MathNamespace, a: Any) -> Any:
    return 0.5 * (m.expm1(a) - m.expm1(-a))  # e^a - e^-a, exact near 0


def _cosh(m: MathNamespace, a: Any) -> Any:
    return 0.5 * (m.exp(a) + m.exp(-a))


def _arcsin_grad(m: MathNamespace, a: Any, out: Any) -> Any:
    # 1/sqrt(1 - a^2), with (1 - a)(1 + a) exact near ±1: inf at ±1, nan beyond
    return m.div(1.0, m.sqrt((1.0 - a) * (1.0 + a)))

ATOM = 9
"""The precedence of what never needs parentheses: a name, a number, a call."""


class JacobianText:
    """For --explain on arrays: how one input's gradient follows from the op's local
    Jacobian, for operands of the numbers of dimensions `ndims` (None: any number).

    `element` writes one element of the local Jacobian, `rule` the vectorised rule it
    leads to, `shapes` that rule with each factor's shape. Templates: {0}, {1} the
    operands, {out} the result, {g} the upstream gradient ∂L/∂out, {local} the
    elementwise local derivative's formula, {i} / {j} the result's / the operand's
    element index (elementwise ops); a parenthesised list of the letters in `dims` (each
    operand's dimensions: 'n,k') is a shape, printed with the sizes those letters have
    ('(n,1)' -> '(2,1)'); {0:shape}, {g:shape}, {local:shape} an actual shape,
    {0:size} an operand's element count, {1:value} an operand's value (an axis)."""

    __slots__ = ("ndims", "element", "rule", "shapes", "dims")
    ndims: tuple[int | None, ...]
    element: str
    rule: str
    shapes: str
    dims: tuple[str, ...]

    def __init__(self, ndims: tuple[int | None, ...], element: str, rule: str, shapes: str,
                 dims: tuple[str, ...] = ()) -> None:
        self.ndims, self.element, self.rule, self.shapes, self.dims = (
            ndims, element, rule, shapes, dims)

    def __repr__(self) -> str:
        return f"JacobianText({self.ndims!r}, {self.element!r})"


ELEMENTWISE_JACOBIAN = JacobianText(
    (), "∂{out}[{i}]/∂{x}[{j}] = ({local})[{i}]", "{g} ⊙ ({local})",
    "{g} {g:shape} ⊙ ({local}) {local:shape}")
"""The local Jacobian of every operation on numbers applied elementwise to arrays
(`{x}` the operand): diagonal, with the op's local derivative (its grad_formulas) on
the diagonal, ELEMENTWISE_DIAGONAL; an operand broadcast along some axes is used by
every element along them, and its gradient is summed over them (BROADCAST_USE,
BROADCAST_SUM)."""

ELEMENTWISE_DIAGONAL = ", 0 off the diagonal (no other element of {out} uses {x}[{j}])"
BROADCAST_USE = " for every {axes}: {x} is broadcast along axis {numbers} of {out}"
BROADCAST_SUM = ", summed over {axes}"


class _Slots:
    """A Primitive's fields (below), as a Primitive and as a _Filling have them."""

    __slots__ = ("name", "arity", "forward", "local_grads", "grad_formulas", "doc", "symbol",
                 "precedence", "right_assoc", "aliases", "kink", "at_kink", "subgradients",
                 "vjps", "form", "callable", "kink_rules", "latex", "switched_off",
                 "jacobian_text", "one_argument", "keywords", "variadic", "params",
                 "plain", "key", "called_as_is")


class _Filling(_Slots):
    """A Primitive while its __init__ fills it: plain stores, no read-only __setattr__."""

    __slots__ = ()


class Primitive(_Slots):
    """One operation: how it computes, differentiates and prints. Read-only once made.
    (A slots class, not a tuple: the passes read a few fields at every node, and slots
    read fastest; not a dataclass: building one costs more start-up than all the
    passes of a small program.)

    name, arity, forward: the op as a program calls it, and its rule (m, *inputs).
    local_grads: one rule (m, *inputs, out) -> ∂out/∂input_i per input.
    grad_formulas: the same derivatives in bpdiff syntax. doc: one line for the docs.
    symbol: its infix or prefix operator; None prints as a call name(...).
    precedence: binding strength when printed: 1 +-, 2 */, 3 unary, 4 ^, ATOM.
    right_assoc: whether `a op b op c` is a op (b op c).
    aliases: extra names a program may call it by.
    kink: the convention used where the derivative does not exist.
    at_kink: (*inputs) -> True exactly at such a point.
    subgradients: (*inputs) -> at a kink, the local derivatives (one tuple per input)
        that each valid convention would give, the one used included.
    vjps: tensor-only ops: one rule (m, g, *inputs, out) per input, the upstream
        gradient g times the Jacobian, shaped like that input.
    form: how it prints when not infix or name(...): '{0}.T', '{0}[{1}]'.
    callable: whether a program calls it by name (default: when it has no symbol).
    kink_rules: at a kink, --kink policy -> the local derivatives used.
    latex: a template over {0}, {1} ('\\frac{{{0}}}{{{1}}}'), or the command a function's
        parenthesised arguments follow ('\\sin'); None: the symbol, or \\operatorname{name}.
    switched_off: a rule (m, *inputs, out) or None per input: where its branch is
        switched off, so that its contribution is 0 whatever the upstream gradient.
    jacobian_text: tensor-only ops: per input, its JacobianText cases for --explain,
        the first that fits applies (elementwise ops all use ELEMENTWISE_JACOBIAN).
    one_argument: the op `name(x)` with one argument stands for (max(a, b) is
        elementwise, max(x) the reduction amax).
    keywords: the settings a call may give (`axis=1`, also positionally after the
        inputs) with their defaults: such an op is a family, and bind() makes the op
        for given settings.
    variadic: a family taking any number of inputs (concat, a[i, :, j]).
    params: a bound op's settings (made by bind()).
    plain (derived): no vjps and no switched_off, so backward() takes upstream × local
        as it is.
    key (derived): what tells this op from others when nodes are shared: its name, and
        a bound op's settings.
    called_as_is (derived): a call `name(...)` applies this op to its arguments as they
        are (no family settings, no one-argument reading, no reshape shape).
    """

    __slots__ = ()
    _GIVEN = _Slots.__slots__[:-3]  # the rest are derived from these
    name: str
    arity: int
    forward: Rule
    local_grads: tuple[Rule, ...]
    grad_formulas: tuple[str, ...]
    doc: str
    symbol: str | None
    precedence: int
    right_assoc: bool
    aliases: tuple[str, ...]
    kink: str
    at_kink: Rule | None
    subgradients: Rule | None
    vjps: tuple[Rule, ...] | None
    form: str | None
    callable: bool | None
    kink_rules: dict[str, tuple[float, ...]] | None
    latex: str | None
    switched_off: tuple[Rule | None, ...] | None
    jacobian_text: tuple[tuple[JacobianText, ...], ...] | None
    one_argument: str | None
    keywords: tuple[tuple[str, Any], ...] | None
    variadic: bool
    params: tuple[tuple[str, Any], ...] | None
    plain: bool
    key: Any
    called_as_is: bool

    def __init__(self, name: str, arity: int, forward: Rule, local_grads: tuple[Rule, ...],
                 grad_formulas: tuple[str, ...], doc: str, symbol: str | None = None,
                 precedence: int = ATOM, *, right_assoc: bool = False,
                 aliases: tuple[str, ...] = (), kink: str = "", at_kink: Rule | None = None,
                 subgradients: Rule | None = None, vjps: tuple[Rule, ...] | None = None,
                 form: str | None = None, callable: bool | None = None,
                 kink_rules: dict[str, tuple[float, ...]] | None = None,
                 latex: str | None = None,
                 switched_off: tuple[Rule | None, ...] | None = None,
                 jacobian_text: tuple[tuple[JacobianText, ...], ...] | None = None,
                 one_argument: str | None = None,
                 keywords: tuple[tuple[str, Any], ...] | None = None,
                 variadic: bool = False,
                 params: tuple[tuple[str, Any], ...] | None = None) -> None:
        # Filled as a _Filling (same slots), then made read-only: 27 object.__setattr__
        # calls per op would cost half a millisecond of start-up over the table.
        object.__setattr__(self, "__class__", _Filling)
        self.name, self.arity, self.forward, self.local_grads = name, arity, forward, local_grads
        self.grad_formulas, self.doc, self.symbol = grad_formulas, doc, symbol
        self.precedence, self.right_assoc, self.aliases = precedence, right_assoc, aliases
        self.kink, self.at_kink, self.subgradients, self.vjps = kink, at_kink, subgradients, vjps
        self.form, self.callable, self.kink_rules, self.latex = form, callable, kink_rules, latex
        self.switched_off, self.jacobian_text = switched_off, jacobian_text
        self.one_argument, self.keywords = one_argument, keywords
        self.variadic, self.params = variadic, params
        self.plain = vjps is None and switched_off is None
        self.key = name if params is None else (name, params)
        self.called_as_is = one_argument is None and keywords is None and name != "reshape"
        object.__setattr__(self, "__class__", Primitive)

    def __setattr__(self, field: str, value: Any) -> None:
        raise AttributeError(f"a Primitive is read-only: {field} cannot be set")

    def __repr__(self) -> str:
        return f"Primitive({self.name!r}, arity={self.arity})"

    def _replace(self, **changes: Any) -> Primitive:
        """A copy with `changes` (a test's altered rule, say), as a NamedTuple's."""
        fields = {field: getattr(self, field) for field in self._GIVEN}
        return Primitive(**{**fields, **changes})


def _pow_base_grad(m: MathNamespace, a: Any, b: Any, out: Any) -> Any:
    # 0^0 = 1 whatever the base: 0 * 0^-1 = 0 * inf is taken as 0 there. Elsewhere the
    # product form stays, so that its tangent (dual numbers) keeps ∂²/∂a∂b = 1/a at b = 0.
    return m.where((b == 0) & (a == 0), 0.0, b * m.pow(a, b - 1.0))


def _pow_exponent_grad(m: MathNamespace, a: Any, b: Any, out: Any) -> Any:
    return m.where((a == 0) & (b >= 0), 0.0, out * m.log(a))


def _tie_shares(a: Any, b: Any) -> tuple[tuple[float, float], ...]:
    # A max/min tie may split the gradient evenly or send all of it to either input.
    return ((0.5, 0.5), (1.0, 0.0), (0.0, 1.0))


KINK_POLICIES = ("pytorch", "jax", "zero", "one", "half")
"""The conventions `--kink` selects among (see kink_rules below and the README's table)."""

_KINK_NUMBER = {"zero": 0.0, "one": 1.0, "half": 0.5}


def _kink_at_zero(pytorch: float, jax: float) -> dict[str, tuple[float, ...]]:
    # relu, abs, sqrt at 0: PyTorch's and JAX's derivative there; zero/one/half: that number
    return {"pytorch": (pytorch,), "jax": (jax,), **{p: (c,) for p, c in _KINK_NUMBER.items()}}


# max, min at a tie: PyTorch and JAX split evenly; zero/one/half give that share to the
# first input and the rest to the second, so the two still add up to 1 (max(t, t) = t)
_KINK_TIE: dict[str, tuple[float, ...]] = {"pytorch": (0.5, 0.5), "jax": (0.5, 0.5),
                                           **{p: (c, 1.0 - c) for p, c in _KINK_NUMBER.items()}}

# step, sign at 0: a jump, where no number is a derivative; 0 under every policy
_KINK_JUMP: dict[str, tuple[float, ...]] = dict.fromkeys(KINK_POLICIES, (0.0,))


_KINK_JUMP_2: dict[str, tuple[float, ...]] = dict.fromkeys(KINK_POLICIES, (0.0, 0.0))


def _always(m: MathNamespace, *inputs_and_out: Any) -> bool:
    # step and sign are flat: no input ever moves them, so no gradient passes through
    return True


def _flat(m: MathNamespace, *inputs_and_out: Any) -> float:
    return 0.0


_COMPARISONS: tuple[tuple[str, str, str, Rule], ...] = (
    ("gt", ">", ">", lambda m, a, b: m.where(a > b, 1.0, 0.0)),
    ("ge", ">=", "\\ge", lambda m, a, b: m.where(a >= b, 1.0, 0.0)),
    ("lt", "<", "<", lambda m, a, b: m.where(a < b, 1.0, 0.0)),
    ("le", "<=", "\\le", lambda m, a, b: m.where(a <= b, 1.0, 0.0)),
    ("eq", "==", "=", lambda m, a, b: m.where(a == b, 1.0, 0.0)),
    ("ne", "!=", "\\ne", lambda m, a, b: m.where(a != b, 1.0, 0.0)),
)


def _binary(name: str, symbol: str, precedence: int, forward: Rule,
            grads: tuple[Rule, ...], formulas: tuple[str, ...], doc: str,
            **extra: Any) -> Primitive:
    return Primitive(name, 2, forward, grads, formulas, doc, symbol, precedence, **extra)


def _function(name: str, arity: int, forward: Rule, grads: tuple[Rule, ...],
              formulas: tuple[str, ...], doc: str, **extra: Any) -> Primitive:
    return Primitive(name, arity, forward, grads, formulas, doc, **extra)


PRIMITIVES: tuple[Primitive, ...] = (
    _binary("add", "+", 1, lambda m, a, b: a + b,
            (lambda m, a, b, out: 1.0, lambda m, a, b, out: 1.0),
            ("1", "1"), "sum a + b"),
    _binary("sub", "-", 1, lambda m, a, b: a - b,
            (lambda m, a, b, out: 1.0, lambda m, a, b, out: -1.0),
            ("1", "-1"), "difference a - b"),
    _binary("mul", "*", 2, lambda m, a, b: a * b,
            (lambda m, a, b, out: b, lambda m, a, b, out: a),
            ("{1}", "{0}"), "product a * b (also written 2b, c(a+b), (a)(b))",
            latex="{0} \\cdot {1}"),
    _binary("div", "/", 2, lambda m, a, b: m.div(a, b),
            (lambda m, a, b, out: m.div(1.0, b), lambda m, a, b, out: -m.div(out, b)),
            ("1/{1}", "-{0}/{1}^2"), "quotient a / b", latex="\\frac{{{0}}}{{{1}}}"),
    _binary("pow", "^", 4, lambda m, a, b: m.pow(a, b),
            (_pow_base_grad, _pow_exponent_grad),
            ("{1}*{0}^({1} - 1)", "{0}^{1}*log({0})"),
            "power a ^ b, a ** b or pow(a, b); right-associative", right_assoc=True,
            kink="∂/∂a = 0 where b = 0; ∂/∂b = 0 where a = 0 and b ≥ 0",
            latex="{0}^{{{1}}}",
            switched_off=(lambda m, a, b, out: b == 0,  # as PyTorch masks ∂/∂a; its ∂/∂b
                          None)),  # at a = 0 is 0 × upstream: nan for an infinite one
    Primitive("neg", 1, lambda m, a: -a, (lambda m, a, out: -1.0,), ("-1",),
              "negation -a", symbol="-", precedence=3),
    _function("id", 1, lambda m, a: a, (lambda m, a, out: 1.0,), ("1",),
              "a named copy of a value (d = b)"),
    _function("sin", 1, lambda m, a: m.sin(a), (lambda m, a, out: m.cos(a),),
              ("cos({0})",), "sine (radians)", latex="\\sin"),
    _function("cos", 1, lambda m, a: m.cos(a), (lambda m, a, out: -m.sin(a),),
              ("-sin({0})",), "cosine (radians)", latex="\\cos"),
    _function("tan", 1, lambda m, a: m.tan(a), (lambda m, a, out: 1.0 + out * out,),
              ("1 + {out}^2",), "tangent (radians)", latex="\\tan"),
    _function("exp", 1, lambda m, a: m.exp(a), (lambda m, a, out: out,),
              ("exp({0})",), "exponential e^a", latex="\\exp"),
    _function("log", 1, lambda m, a: m.log(a), (lambda m, a, out: m.div(1.0, a),),
              ("1/{0}",), "natural logarithm", aliases=("ln",), latex="\\log"),
    _function("sqrt", 1, lambda m, a: m.sqrt(a), (lambda m, a, out: m.div(0.5, out),),
              ("1/(2*sqrt({0}))",), "square root", kink="sqrt'(0) = inf",
              at_kink=lambda a: a == 0, kink_rules=_kink_at_zero(math.inf, math.inf),
              latex="\\sqrt{{{0}}}"),
    _function("abs", 1, lambda m, a: m.fabs(a), (lambda m, a, out: m.sign(a),),
              ("sign({0})",), "absolute value", kink="abs'(0) = 0",
              at_kink=lambda a: a == 0, subgradients=lambda a: ((0.0,), (-1.0,), (1.0,)),
              kink_rules=_kink_at_zero(0.0, 1.0), switched_off=(lambda m, a, out: a == 0,),
              latex="\\left\\lvert {0} \\right\\rvert"),
    _function("tanh", 1, lambda m, a: m.tanh(a), (lambda m, a, out: 1.0 - out * out,),
              ("1 - {out}^2",), "hyperbolic tangent", latex="\\tanh"),
    _function("sigmoid", 1, lambda m, a: m.sigmoid(a),
              (lambda m, a, out: out * (1.0 - out),),
              ("{out}*(1 - {out})",), "logistic sigmoid 1/(1 + e^-a)", aliases=("sigma",),
              latex="\\sigma"),
    _function("relu", 1, lambda m, a: m.relu(a), (lambda m, a, out: m.step(a),),
              ("step({0})",), "rectifier max(a, 0)", kink="relu'(0) = 0",
              at_kink=lambda a: a == 0, subgradients=lambda a: ((0.0,), (1.0,)),
              kink_rules=_kink_at_zero(0.0, 0.0), switched_off=(lambda m, a, out: a <= 0,)),
    _function("square", 1, lambda m, a: a * a, (lambda m, a, out: 2.0 * a,), ("2*{0}",),
              "a^2", latex="{{{0}}}^{{2}}"),
    _function("cube", 1, lambda m, a: a * a * a, (lambda m, a, out: 3.0 * a * a,),
              ("3*{0}^2",), "a^3", latex="{{{0}}}^{{3}}"),
    _function("reciprocal", 1, lambda m, a: m.div(1.0, a),
              (lambda m, a, out: -(out * out),), ("-1/{0}^2",), "1/a",
              latex="\\frac{{1}}{{{0}}}"),
    _function("log2", 1, lambda m, a: m.div(m.log(a), _LN2),
              (lambda m, a, out: m.div(1.0, a * _LN2),), ("1/({0}*log(2))",),
              "logarithm to base 2", latex="\\log_2"),
    _function("log10", 1, lambda m, a: m.div(m.log(a), _LN10),
              (lambda m, a, out: m.div(1.0, a * _LN10),), ("1/({0}*log(10))",),
              "logarithm to base 10", latex="\\log_{{10}}"),
    _function("log1p", 1, lambda m, a: m.log1p(a), (lambda m, a, out: m.div(1.0, 1.0 + a),),
              ("1/(1 + {0})",), "log(1 + a), exact near 0"),
    _function("expm1", 1, lambda m, a: m.expm1(a), (lambda m, a, out: out + 1.0,),
              ("exp({0})",), "e^a - 1, exact near 0"),
    _function("sinh", 1, _sinh, (lambda m, a, out: _cosh(m, a),), ("cosh({0})",),
              "hyperbolic sine", latex="\\sinh"),
    _function("cosh", 1, _cosh, (lambda m, a, out: _sinh(m, a),), ("sinh({0})",),
              "hyperbolic cosine", latex="\\cosh"),
    _function("arctan", 1, lambda m, a: m.atan(a), (lambda m, a, out: m.div(1.0, 1.0 + a * a),),
              ("1/(1 + {0}^2)",), "inverse tangent", aliases=("atan",), latex="\\arctan"),
    _function("arcsin", 1, lambda m, a: m.asin(a), (_arcsin_grad,),
              ("1/sqrt(1 - {0}^2)",), "inverse sine (nan outside [-1, 1])", aliases=("asin",),
              kink="arcsin'(±1) = inf", at_kink=lambda a: abs(a) == 1,
              kink_rules=_kink_at_zero(math.inf, math.inf), latex="\\arcsin"),
    _function("arccos", 1, lambda m, a: m.acos(a),
              (lambda m, a, out: -_arcsin_grad(m, a, out),),
              ("-1/sqrt(1 - {0}^2)",), "inverse cosine (nan outside [-1, 1])",
              aliases=("acos",), kink="arccos'(±1) = -inf", at_kink=lambda a: abs(a) == 1,
              kink_rules=_kink_at_zero(-math.inf, -math.inf), latex="\\arccos"),
    _function("softplus", 1, lambda m, a: m.softplus(a),
              (lambda m, a, out: m.sigmoid(a),),
              ("sigmoid({0})",), "softplus log(1 + e^a)"),
    _function("max", 2, lambda m, a, b: m.maximum(a, b),
              (lambda m, a, b, out: m.tie_share(a, b), lambda m, a, b, out: m.tie_share(b, a)),
              ("step({0} - {1})", "step({1} - {0})"),
              "larger of a and b, elementwise with broadcasting (max(x) with one argument:"
              " amax)", latex="\\max", aliases=("maximum",), one_argument="amax",
              kink="a tie splits the gradient evenly: 1/2 to each",
              at_kink=lambda a, b: a == b, subgradients=_tie_shares, kink_rules=_KINK_TIE,
              switched_off=(lambda m, a, b, out: a < b, lambda m, a, b, out: b < a)),
    _function("min", 2, lambda m, a, b: m.minimum(a, b),
              (lambda m, a, b, out: m.tie_share(b, a), lambda m, a, b, out: m.tie_share(a, b)),
              ("step({1} - {0})", "step({0} - {1})"),
              "smaller of a and b, elementwise with broadcasting (min(x) with one argument:"
              " amin)", latex="\\min", aliases=("minimum",), one_argument="amin",
              kink="a tie splits the gradient evenly: 1/2 to each",
              at_kink=lambda a, b: a == b, subgradients=_tie_shares, kink_rules=_KINK_TIE,
              switched_off=(lambda m, a, b, out: a > b, lambda m, a, b, out: b > a)),
    _function("step", 1, lambda m, a: m.step(a), (lambda m, a, out: 0.0,), ("0",),
              "1 where a > 0, else 0 (relu's derivative)", kink="step'(0) = 0",
              at_kink=lambda a: a == 0, kink_rules=_KINK_JUMP, switched_off=(_always,)),
    _function("sign", 1, lambda m, a: m.sign(a), (lambda m, a, out: 0.0,), ("0",),
              "-1, 0 or 1 (abs's derivative)", kink="sign'(0) = 0",
              at_kink=lambda a: a == 0, kink_rules=_KINK_JUMP, switched_off=(_always,)),
    *(_binary(name, symbol, 0, forward, (_flat, _flat), ("0", "0"),
              f"1 where a {symbol} b, else 0: a comparison, for where(); gradient 0",
              kink="a jump where a = b: the derivative is taken as 0 there too",
              at_kink=lambda a, b: a == b, kink_rules=_KINK_JUMP_2,
              switched_off=(_always, _always),
              latex=f"{{0}} {latex} {{1}}")
      for name, symbol, latex, forward in _COMPARISONS),
    _function("where", 3, lambda m, c, a, b: m.where(c != 0, a, b),
              (_flat, lambda m, c, a, b, out: m.where(c != 0, 1.0, 0.0),
               lambda m, c, a, b, out: m.where(c != 0, 0.0, 1.0)),
              ("0", "{0} != 0", "{0} == 0"),
              "a where c holds (c is not 0: a comparison such as x > 0), else b; no gradient"
              " to c", switched_off=(_always, lambda m, c, a, b, out: c == 0,
                                     lambda m, c, a, b, out: c != 0)),
    _function("clip", 3, lambda m, x, lo, hi: m.minimum(m.maximum(x, lo), hi),
              (lambda m, x, lo, hi, out: m.where((x >= lo) & (x <= hi), 1.0, 0.0),
               lambda m, x, lo, hi, out: m.where((x < lo) & (lo <= hi), 1.0, 0.0),
               lambda m, x, lo, hi, out: m.where(m.maximum(x, lo) > hi, 1.0, 0.0)),
              ("({0} >= {1})*({0} <= {2})", "({0} < {1})*({1} <= {2})",
               "max({0}, {1}) > {2}"),
              "x limited to [lo, hi]: min(max(x, lo), hi)",
              kink="at x = lo or x = hi the gradient goes to x (PyTorch's clamp)",
              switched_off=(lambda m, x, lo, hi, out: (x < lo) | (x > hi),
                            lambda m, x, lo, hi, out: (x >= lo) | (lo > hi),
                            lambda m, x, lo, hi, out: m.maximum(x, lo) <= hi)),
)


# ---- tensor-only operations: their derivatives are vector-Jacobian products ----------
# A rule gets the upstream gradient g (shaped like the op's result) and returns
# g times the op's Jacobian, shaped like the input. Integer arguments (axes, indices,
# class labels) get a zero gradient: they are not differentiable.

def _matmul_grad_left(m: ArrayNamespace, g: Any, a: Any, b: Any, out: Any) -> Any:
    # ∂(a @ b) against a is g @ bᵀ; a vector operand acts as a row (a) or a column (b).
    rows, cols = m.as_matrix_rows(a), m.as_matrix_columns(b)
    g = m.reshape(g, (rows.shape[0], cols.shape[1]))
    return m.reshape(m.matmul(g, m.transpose(cols)), a.shape)


def _matmul_grad_right(m: ArrayNamespace, g: Any, a: Any, b: Any, out: Any) -> Any:
    # ... and against b it is aᵀ @ g.
    rows, cols = m.as_matrix_rows(a), m.as_matrix_columns(b)
    g = m.reshape(g, (rows.shape[0], cols.shape[1]))
    return m.reshape(m.matmul(m.transpose(rows), g), b.shape)


def _softmax(m: ArrayNamespace, z: Any) -> Any:
    e = m.exp(z - m.last_axis_max(z))
    return e / m.last_axis_sum(e)


def _logsumexp(m: ArrayNamespace, z: Any, axis: Any = -1, keepdims: bool = False) -> Any:
    top = m.finite_largest(z, axis)
    result = m.log(m.total(m.exp(z - top), axis, True)) + top
    return result if keepdims else m.drop_reduced(result, z, axis)


def _logsumexp_vjp(m: ArrayNamespace, g: Any, z: Any, out: Any, axis: Any = -1,
                   keepdims: bool = False) -> Any:
    # softmax along the axis, from z itself: exp(z - out) loses digits when |z| is large
    e = m.exp(z - m.finite_largest(z, axis))
    return m.spread(g, z, axis, keepdims) * m.div(e, m.total(e, axis, True))


def _log_softmax(m: ArrayNamespace, z: Any) -> Any:
    # (z - max) - log Σ exp(z - max): subtracting the rounded logsumexp from z instead
    # loses everything when |z| dwarfs log(n) (z = [1e17, 1e17] gave 0, not -log 2).
    shifted = z - m.last_axis_max(z)
    return shifted - m.log(m.last_axis_sum(m.exp(shifted)))


def _cross_entropy(m: ArrayNamespace, z: Any, k: Any) -> Any:
    return m.div(-m.total(m.pick(_log_softmax(m, z), k)), m.batch_size(z))


def _no_grad(m: MathNamespace, g: Any, *inputs_and_out: Any, **settings: Any) -> float:
    return 0.0


_REDUCING = (("axis", None), ("keepdims", False))  # axis: an integer, a tuple, None: all


def _mean(m: ArrayNamespace, a: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return m.div(m.total(a, axis, keepdims), m.count(a, axis))


_REDUCTIONS = (
    ("sum", lambda m, a, **at: m.total(a, **at),
     lambda m, g, a, out, **at: m.spread(g, a, **at), "g (copied back over the axis)",
     "sum of all elements, or along axis= (an integer or a tuple), keepdims="),
    ("mean", _mean, lambda m, g, a, out, axis=None, keepdims=False:
        m.div(m.spread(g, a, axis, keepdims), m.count(a, axis)),
     "g/n (copied back over the axis)", "mean of all elements, or along axis=, keepdims="),
)


def _extreme_vjp(m: ArrayNamespace, g: Any, a: Any, out: Any, axis: Any = None,
                 keepdims: bool = False) -> Any:
    # the elements equal to the extreme share the gradient evenly (PyTorch's amax)
    hit = m.where(a == m.kept(out, a, axis, keepdims), 1.0, 0.0)
    return m.spread(g, a, axis, keepdims) * m.div(hit, m.total(hit, axis, True))


def _centred(m: ArrayNamespace, a: Any, axis: Any) -> Any:
    return a - _mean(m, a, axis, True)


def _var(m: ArrayNamespace, a: Any, axis: Any = None, keepdims: bool = False,
         ddof: Any = 0) -> Any:
    centred = _centred(m, a, axis)
    return m.div(m.total(centred * centred, axis, keepdims), m.count(a, axis) - ddof)


def _var_vjp(m: ArrayNamespace, g: Any, a: Any, out: Any, axis: Any = None,
             keepdims: bool = False, ddof: Any = 0) -> Any:
    share = m.div(2.0 * _centred(m, a, axis), m.count(a, axis) - ddof)
    return m.spread(g, a, axis, keepdims) * share


def _std_vjp(m: ArrayNamespace, g: Any, a: Any, out: Any, axis: Any = None,
             keepdims: bool = False, ddof: Any = 0) -> Any:
    spread = m.kept(out, a, axis, keepdims)
    share = m.div(_centred(m, a, axis), (m.count(a, axis) - ddof) * spread)
    return m.spread(g, a, axis, keepdims) * m.where(spread == 0, 0.0, share)


def _dot(m: ArrayNamespace, a: Any, b: Any) -> Any:
    m.same_shape(a, b, "dot")
    return m.total(a * b)


def _jt(ndims: tuple[int | None, ...], dims: tuple[str, ...],
        *per_input: tuple[str, str, str]) -> tuple[JacobianText, ...]:
    """One JacobianText case per input (element, rule, shapes), for operands of `ndims`
    with dimensions `dims`: a column of the table below, read as rows."""
    return tuple(JacobianText(ndims, *texts, dims=dims) for texts in per_input)


def _cases(*cases: tuple[JacobianText, ...]) -> tuple[tuple[JacobianText, ...], ...]:
    """Cases given per shape (each a tuple over inputs), regrouped per input."""
    return tuple(zip(*cases))


_MATMUL_TEXT = _cases(
    _jt((2, 2), ("n,k", "k,m"),
        ("∂{out}[i,j]/∂{0}[i,l] = {1}[l,j], 0 for another row of {0}", "{g} @ {1}ᵀ",
         "{g} (n,m) @ {1}ᵀ (m,k)"),
        ("∂{out}[i,j]/∂{1}[l,j] = {0}[i,l], 0 for another column of {1}", "{0}ᵀ @ {g}",
         "{0}ᵀ (k,n) @ {g} (n,m)")),
    _jt((2, 1), ("n,k", "k"),
        ("∂{out}[i]/∂{0}[i,j] = {1}[j], 0 for another row of {0}",
         "{g} {1}ᵀ, an outer product", "{g} (n,1) @ {1}ᵀ (1,k)"),
        ("∂{out}[i]/∂{1}[j] = {0}[i,j]", "{0}ᵀ @ {g}", "{0}ᵀ (k,n) @ {g} (n,)")),
    _jt((1, 2), ("k", "k,m"),
        ("∂{out}[j]/∂{0}[i] = {1}[i,j]", "{g} @ {1}ᵀ", "{g} (m,) @ {1}ᵀ (m,k)"),
        ("∂{out}[j]/∂{1}[i,j] = {0}[i], 0 for another column of {1}",
         "{0} {g}ᵀ, an outer product", "{0} (k,1) @ {g}ᵀ (1,m)")),
    _jt((1, 1), ("k", "k"),
        ("∂{out}/∂{0}[i] = {1}[i]", "{g} {1}, a number times a vector", "{g} () · {1} (k,)"),
        ("∂{out}/∂{1}[i] = {0}[i]", "{g} {0}, a number times a vector", "{g} () · {0} (k,)")))

_TRANSPOSE_TEXT = _cases(
    _jt((2,), ("n,k",), ("∂{out}[j,i]/∂{0}[i,j] = 1, 0 elsewhere: each element moves to"
                         " one place", "({g})ᵀ", "({g} (k,n))ᵀ")),
    _jt((None,), ("",), ("∂{out}[i]/∂{0}[i] = 1: a vector or number is its own transpose",
                         "{g}", "{g} {g:shape}")))

_SUM_TEXT = _cases(_jt((None,), ("",), (
    "∂{out}/∂{0}[…] = 1 for every element of {0}", "{g} copied to every element",
    "{g} () · ones {0:shape}")))

_MEAN_TEXT = _cases(_jt((None,), ("",), (
    "∂{out}/∂{0}[…] = 1/N for every element of {0}, N = {0:size}",
    "{g} / N copied to every element", "{g} () · ones {0:shape} / {0:size}")))

_SUM_ALONG_TEXT = _cases(_jt((None,), ("",), (
    "∂{out}[…]/∂{0}[…, i, …] = 1 for every i along axis {axis}, 0 for another position"
    " off that axis", "{g} copied along axis {axis}",
    "{g} {g:shape} copied along axis {axis} to {0:shape}")))

_MEAN_ALONG_TEXT = _cases(_jt((None,), ("",), (
    "∂{out}[…]/∂{0}[…, i, …] = 1/n for every i along axis {axis} (n elements there), 0"
    " off that axis", "{g} / n copied along axis {axis}",
    "{g} {g:shape} / n copied along axis {axis} to {0:shape}")))

_ALONG_AXIS_TEXT = {"sum": _SUM_ALONG_TEXT, "mean": _MEAN_ALONG_TEXT}
"""The Jacobian texts of sum and mean along given axes ({axis}: the setting)."""

_SOFTMAX_TEXT = _cases(
    _jt((1,), ("n",), ("∂{out}[i]/∂{0}[j] = {out}[i] (δij − {out}[j])",
                       "{out} ⊙ ({g} − Σ({g} ⊙ {out}))",
                       "{out} (n,) ⊙ ({g} (n,) − Σ({g} ⊙ {out}) ())")),
    _jt((2,), ("m,n",), ("∂{out}[r,i]/∂{0}[r,j] = {out}[r,i] (δij − {out}[r,j]), 0 across"
                         " rows", "{out} ⊙ ({g} − rowsum({g} ⊙ {out}))",
                         "{out} (m,n) ⊙ ({g} (m,n) − rowsum({g} ⊙ {out}) (m,1))")))


_NOT_DIFFERENTIATED = ("0: an index is not differentiated", "0", "0")

_DOT_TEXT = _cases(_jt((None, None), ("", ""),
                       ("∂{out}/∂{0}[…] = {1}[…]", "{g} {1}", "{g} () · {1} {1:shape}"),
                       ("∂{out}/∂{1}[…] = {0}[…]", "{g} {0}", "{g} () · {0} {0:shape}")))

_NORM2_TEXT = _cases(_jt((None,), ("",), (
    "∂{out}/∂{0}[…] = 2 {0}[…]", "2 {g} {0}", "2 {g} () · {0} {0:shape}")))

_NORM_TEXT = _cases(_jt((None,), ("",), (
    "∂{out}/∂{0}[…] = {0}[…] / {out}", "{g} {0} / {out}", "{g} () · {0} {0:shape} / {out} ()")))

_LOGSUMEXP_TEXT = _cases(
    _jt((1,), ("n",), ("∂{out}/∂{0}[i] = softmax({0})[i]", "{g} softmax({0})",
                       "{g} () · softmax({0}) (n,)")),
    _jt((2,), ("m,n",), ("∂{out}[r]/∂{0}[r,i] = softmax({0})[r,i], 0 across rows",
                         "{g} (as a column) ⊙ softmax({0})", "{g} (m,1) ⊙ softmax({0}) (m,n)")))

_CROSS_ENTROPY_TEXT = _cases(
    _jt((1, None), ("n", ""),
        ("∂{out}/∂{0}[i] = softmax({0})[i] − (1 if i = {1} else 0)",
         "{g} (softmax({0}) − onehot({1}))", "{g} () · (softmax({0}) − onehot({1})) (n,)"),
        _NOT_DIFFERENTIATED),
    _jt((2, None), ("m,n", "m"),
        ("∂{out}/∂{0}[r,i] = (softmax({0})[r,i] − (1 if i = {1}[r] else 0)) / m, the mean over"
         " m rows", "{g} (softmax({0}) − onehot({1})) / m",
         "{g} () · (softmax({0}) − onehot({1})) (m,n) / m"),
        _NOT_DIFFERENTIATED))

_INDEX_TEXT = _cases(_jt((None, None), ("", ""), (
    "∂{out}/∂{0}[k] = 1 at k = {1:value}, 0 elsewhere", "{g} at [{1:value}], 0 elsewhere",
    "{g} () placed in zeros {0:shape}"), _NOT_DIFFERENTIATED))

_INDEX2_TEXT = _cases(_jt((None, None, None), ("", "", ""), (
    "∂{out}/∂{0}[k,l] = 1 at k, l = {1:value}, {2:value}, 0 elsewhere",
    "{g} at [{1:value}, {2:value}], 0 elsewhere", "{g} () placed in zeros {0:shape}"),
    _NOT_DIFFERENTIATED, _NOT_DIFFERENTIATED))

def _getitem_vjp(m: ArrayNamespace, g: Any, a: Any, *parts_and_out: Any, part: int = 0,
                 pattern: tuple[str, ...] = ()) -> Any:
    if part:
        return 0.0  # an index: not differentiable
    return m.subscript_grad(g, a, pattern, parts_and_out[:-1])


def _concat_vjp(m: ArrayNamespace, g: Any, *parts_and_out: Any, part: int = 0,
                axis: Any = 0) -> Any:
    return m.concat_part(g, parts_and_out[:-1], axis, part)


def _stack_vjp(m: ArrayNamespace, g: Any, *parts_and_out: Any, part: int = 0,
               axis: Any = 0) -> Any:
    return m.stack_part(g, parts_and_out[:-1], axis, part)


_CONSTANTS: tuple[tuple[str, Rule, str], ...] = (
    ("ones", lambda m, shape: m.filled(shape, 1.0), "ones((2, 3)), ones(x.shape): an array"
     " of ones (a constant)"),
    ("zeros", lambda m, shape: m.filled(shape, 0.0), "zeros((2, 3)): an array of zeros"),
    ("eye", lambda m, n: m.identity(n), "eye(n): the n × n identity matrix"),
    ("arange", lambda m, n: m.count_up(n), "arange(N): 0, 1, ..., N - 1 (indices for"
     " s[arange(N), y])"),
)


def _tensor(name: str, arity: int, forward: Rule, vjps: tuple[Rule, ...],
            formulas: tuple[str, ...], doc: str, **extra: Any) -> Primitive:
    return Primitive(name, arity, forward, (), formulas, doc, vjps=vjps, **extra)


TENSOR_PRIMITIVES = (
    _tensor("matmul", 2, lambda m, a, b: m.matmul(a, b),
            (_matmul_grad_left, _matmul_grad_right), ("g @ {1}ᵀ", "{0}ᵀ @ g"),
            "matrix product a @ b of matrices and vectors (a vector is a row on the left, "
            "a column on the right, so g @ bᵀ is an outer product for vectors)",
            symbol="@", precedence=2, jacobian_text=_MATMUL_TEXT),
    _tensor("transpose", 1, lambda m, a: m.transpose(a),
            (lambda m, g, a, out: m.transpose(g),), ("g.T",),
            "transpose x.T or transpose(x) (a vector is its own transpose)",
            form="{0}.T", callable=True, jacobian_text=_TRANSPOSE_TEXT),
    *(_tensor(name, 1, forward, (vjp,), (formula,), doc, keywords=_REDUCING,
              jacobian_text={"sum": _SUM_TEXT, "mean": _MEAN_TEXT}.get(name))
      for name, forward, vjp, formula, doc in _REDUCTIONS),
    _tensor("amax", 1, lambda m, a, **at: m.largest(a, **at), (_extreme_vjp,),
            ("g where {0} is largest (split evenly among ties)",),
            "largest element (max(x), x.max(axis=1)); the gradient goes to it",
            keywords=_REDUCING, kink="a tie splits the gradient evenly among the largest"),
    _tensor("amin", 1, lambda m, a, **at: m.smallest(a, **at), (_extreme_vjp,),
            ("g where {0} is smallest (split evenly among ties)",),
            "smallest element (min(x), x.min(axis=1)); the gradient goes to it",
            keywords=_REDUCING, kink="a tie splits the gradient evenly among the smallest"),
    _tensor("var", 1, _var, (_var_vjp,), ("g*2*({0} - mean({0}))/(n - ddof)",),
            "variance (population: ddof=0; ddof=1 for the sample's)",
            keywords=(*_REDUCING, ("ddof", 0))),
    _tensor("std", 1, lambda m, a, **at: m.sqrt(_var(m, a, **at)), (_std_vjp,),
            ("g*({0} - mean({0}))/((n - ddof)*{out})",),
            "standard deviation, sqrt(var(x)) (ddof= as var)",
            keywords=(*_REDUCING, ("ddof", 0)),
            kink="std' = 0 where all elements are equal (a subgradient; PyTorch gives nan)"),
    *(_tensor(name, 1, lambda m, a, largest=largest, **at: m.arg_extreme(a, largest, **at),
              (_no_grad,), ("0",), f"index of the {which} element (along axis=), an"
              " integer usable as an index; gradient 0", keywords=_REDUCING)
      for name, largest, which in (("argmax", True, "largest"), ("argmin", False, "smallest"))),
    _tensor("dot", 2, _dot, (lambda m, g, a, b, out: g * b, lambda m, g, a, b, out: g * a),
            ("g*{1}", "g*{0}"), "dot product: sum of a*b over equal shapes",
            jacobian_text=_DOT_TEXT),
    _tensor("norm2", 1, lambda m, a: m.total(a * a), (lambda m, g, a, out: 2.0 * g * a,),
            ("2*g*{0}",), "squared Euclidean norm ‖x‖², the sum of squares",
            jacobian_text=_NORM2_TEXT),
    _tensor("norm", 1, lambda m, a: m.sqrt(m.total(a * a)),
            (lambda m, g, a, out: m.where(out == 0, 0.0, g * m.div(a, out)),),
            ("g*{0}/{out}",), "Euclidean norm ‖x‖", kink="norm'(0) = 0 (a subgradient)",
            at_kink=lambda a: (a == 0).all(), jacobian_text=_NORM_TEXT),
    _tensor("softmax", 1, _softmax,
            (lambda m, g, z, out: out * (g - m.last_axis_sum(g * out)),),
            ("{out}*(g - sum(g*{out}))",), "softmax over the last axis, stable",
            jacobian_text=_SOFTMAX_TEXT),
    _tensor("logsumexp", 1, _logsumexp, (_logsumexp_vjp,), ("g*softmax({0})",),
            "log(sum(exp(z))) over the last axis (or axis=), stable",
            keywords=(("axis", -1), ("keepdims", False)), jacobian_text=_LOGSUMEXP_TEXT),
    _tensor("log_softmax", 1, _log_softmax,
            (lambda m, g, z, out: g - m.exp(out) * m.last_axis_sum(g),),
            ("g - softmax({0})*sum(g)",), "log(softmax(z)) over the last axis, stable"),
    _tensor("cross_entropy", 2, _cross_entropy,
            (lambda m, g, z, k, out: g * m.div(_softmax(m, z) - m.one_hot(z, k),
                                                m.batch_size(z)), _no_grad),
            ("g*(softmax({0}) - onehot({1}))", "0"),
            "-log(softmax(z)[k]) for class index k; for a matrix of rows of scores and a "
            "vector of classes, the mean over rows", jacobian_text=_CROSS_ENTROPY_TEXT),
    _tensor("index", 2, lambda m, a, i: m.element(a, i),
            (lambda m, g, a, i, out: m.scatter(g, a, i), _no_grad), ("g at [{1}]", "0"),
            "element z[i] (indices from 0; negative from the end)", form="{0}[{1}]",
            callable=False, jacobian_text=_INDEX_TEXT),
    _tensor("index2", 3, lambda m, a, i, j: m.element(a, i, j),
            (lambda m, g, a, i, j, out: m.scatter(g, a, i, j), _no_grad, _no_grad),
            ("g at [{1}, {2}]", "0", "0"), "element W[i, j]", form="{0}[{1}, {2}]",
            callable=False, jacobian_text=_INDEX2_TEXT),
    _tensor("getitem", 1, lambda m, a, *parts, pattern=(): m.subscript(a, pattern, parts),
            (_getitem_vjp,), ("g at the elements taken",),
            "x[1:3], x[:, 0], x[..., -1], x[::2], s[arange(N), y]: slices, ... and integers"
            " or integer arrays (one per axis, taken together as NumPy does)",
            keywords=(("pattern", ()),), variadic=True, callable=False),
    _tensor("reshape", 2, lambda m, a, shape: m.reshape_to(a, shape),
            (lambda m, g, a, shape, out: m.reshape(g, a.shape), _no_grad),
            ("g reshaped back", "0"), "reshape(x, (2, 3)), x.reshape(2, -1): the same"
            " elements in another shape (-1: what is left)"),
    _tensor("flatten", 1, lambda m, a: m.reshape(a, (-1,)),
            (lambda m, g, a, out: m.reshape(g, a.shape),), ("g reshaped back",),
            "the elements as a vector, x.flatten()"),
    _tensor("shape", 1, lambda m, a: m.shape_of(a), (_no_grad,), ("0",),
            "x.shape: the lengths of x's axes, a vector of integers (x.shape[0])",
            form="{0}.shape", callable=False),
    _tensor("take_along_axis", 2, lambda m, a, k, axis=None: m.take_along(a, k, axis),
            (lambda m, g, a, k, out, axis=None: m.put_along(g, a, k, axis), _no_grad),
            ("g at the elements taken", "0"), "take_along_axis(s, k, axis=1): from each"
            " row (along axis) the elements at the indices k", keywords=(("axis", None),)),
    _tensor("concat", 1, lambda m, *parts, axis=0: m.concat(parts, axis), (_concat_vjp,),
            ("g's part of {0}",), "concat((a, b), axis=0): arrays joined along an axis"
            " (also concatenate)", keywords=(("axis", 0),), variadic=True,
            aliases=("concatenate",)),
    _tensor("stack", 1, lambda m, *parts, axis=0: m.stack(parts, axis), (_stack_vjp,),
            ("g's slice at {0}'s place",), "stack((a, b), axis=0): arrays of one shape"
            " stacked along a new axis", keywords=(("axis", 0),), variadic=True),
    *(_tensor(name, 1, forward, (_no_grad,), ("0",), doc)
      for name, forward, doc in _CONSTANTS),
    _tensor("one_hot", 2, lambda m, k, classes: m.one_hot_rows(k, classes),
            (_no_grad, _no_grad), ("0", "0"),
            "one_hot(y, C): for integer classes y, rows of C zeros with 1 at y"),
)

SCALAR_PRIMITIVES = PRIMITIVES
"""The operations on numbers (elementwise on arrays): local derivatives, not VJPs."""

PRIMITIVES = SCALAR_PRIMITIVES + TENSOR_PRIMITIVES
"""Every operation."""

BY_NAME = {p.name: p for p in PRIMITIVES}
"""Every primitive by its table name (the grammar's aliases use these names)."""

FUNCTIONS = {name: p for p in PRIMITIVES
             if ((p.symbol is None and p.name != "id") if p.callable is None else p.callable)
             for name in (p.name, *p.aliases)}
FUNCTIONS["pow"] = BY_NAME["pow"]
"""Every primitive a program may call by name, aliases included."""


@functools.lru_cache(maxsize=4096)
def bind(op: Primitive, count: int, params: tuple[tuple[str, Any], ...],
         form: str | None = None) -> Primitive:
    """The op of family `op` (one with keywords) for the settings `params` (keyword,
    value) and `count` inputs, shown as `form` (default: `name(x, axis=1)` with the
    settings that differ from the defaults). The same settings give the same op."""
    settings = dict(params)
    defaults = dict(op.keywords or ())
    if form is None:
        shown = [f"{name}={_setting_text(value)}" for name, value in params
                 if value != defaults.get(name)]
        inputs = ", ".join(f"{{{k}}}" for k in range(count))
        form = f"{op.name}({', '.join([inputs, *shown])})"
    forward = functools.partial(op.forward, **settings)
    assert op.vjps is not None  # families are tensor-only ops
    if op.variadic:
        vjps = tuple(functools.partial(op.vjps[0], part=k, **settings) for k in range(count))
    else:
        vjps = tuple(functools.partial(rule, **settings) for rule in op.vjps)
    # --explain's Jacobian texts are written for the defaults (sum of every element,
    # softmax over the last axis), and for sum and mean along axes; others show none
    at_defaults = all(settings.get(name, value) == value for name, value in defaults.items())
    text = op.jacobian_text if at_defaults else _ALONG_AXIS_TEXT.get(op.name) \
        if settings.get("ddof", 0) == 0 else None
    return op._replace(arity=count, forward=forward, vjps=vjps, form=form, params=params,
                       callable=False, aliases=(), jacobian_text=text)


def _setting_text(value: Any) -> str:
    if type(value) is tuple:
        return "(" + ", ".join(map(str, value)) + ("," if len(value) == 1 else "") + ")"
    return str(value)


def function_list() -> str:
    """The callable functions as the docs list them: 'sin, cos, ..., log (ln), ...'."""
    shown = []
    for p in PRIMITIVES:
        if p.name in FUNCTIONS:
            alias = f" ({', '.join(p.aliases)})" if p.aliases else ""
            shown.append(p.name + alias)
    return ", ".join(shown)
