"""Gradients as expressions: the backward pass run over symbolic expressions.

Expressions live in an Algebra: a hash-consed table whose entries are
("num", value), ("sym", name) or (op_name, child id, ...), so an expression is an int
and equal expressions have equal ids; nothing is ever hashed or compared deeply.
Constructors simplify as they build (constant folding, 0 and 1 elimination,
x*x -> x^2, a + a -> 2*a), so nothing is walked recursively afterwards. Local
derivatives come from the primitive table's formulas, parsed once with bpdiff's own
parser. bpdiff.language.printer prints them, stopping early past a size limit.
"""

import functools

from bpdiff.engine import scalar
from bpdiff.engine.graph import CONST, VAR
from bpdiff.engine.ops import BY_NAME
from bpdiff.language.printer import (LATEX, SYMBOLIC, expression_view, minus_on_first_factor,
                                     print_expression)

DEFAULT_MAX_CHARS = 2000


class Algebra:
    """A table of hash-consed expressions; methods return expression ids."""

    def __init__(self):
        self.entries = []
        self._ids = {}
        self.zero, self.one = self.num(0), self.num(1)

    def _make(self, entry):
        found = self._ids.get(entry)
        if found is None:
            found = self._ids[entry] = len(self.entries)
            self.entries.append(entry)
        return found

    def num(self, value):
        """A number."""
        return self._make(("num", float(value)))

    def sym(self, name):
        """A symbol."""
        return self._make(("sym", name))

    def number(self, e):
        """The value of number expression `e`, else None."""
        entry = self.entries[e]
        return entry[1] if entry[0] == "num" else None

    def op(self, e):
        return self.entries[e][0]

    def args(self, e):
        return self.entries[e][1:]

    def apply(self, op_name, *args):
        """`op_name` applied to expressions `args`, simplified locally."""
        values = [self.number(a) for a in args]
        if None not in values:
            value = BY_NAME[op_name].forward(scalar, *values)
            if _foldable(op_name, value):
                return self.num(value)
        simplify = _SIMPLIFY.get(op_name)
        if simplify is not None:
            simplified = simplify(self, *args)
            if simplified is not None:
                return simplified
        return self._make((op_name, *args))


def _foldable(op_name, value):
    # Arithmetic folds; 1/3 or sin(1) stay as written rather than become 16 digits.
    if value != value or value in (float("inf"), float("-inf")):
        return False
    if op_name in ("add", "sub", "mul", "neg"):
        return True
    if op_name in ("div", "pow"):
        return value == round(value, 12)
    return value.is_integer()


def _add(x, a, b):
    if a == x.zero:
        return b
    if b == x.zero:
        return a
    if a == b:
        return x.apply("mul", x.num(2), a)
    if x.op(b) == "neg":
        return x.apply("sub", a, x.args(b)[0])
    if x.op(a) == "neg":
        return x.apply("sub", b, x.args(a)[0])
    return None


def _sub(x, a, b):
    if b == x.zero:
        return a
    if a == x.zero:
        return x.apply("neg", b)
    if a == b:
        return x.zero
    return None


def _mul(x, a, b):
    if x.zero in (a, b):
        return x.zero
    if a == x.one:
        return b
    if b == x.one:
        return a
    na, nb = x.number(a), x.number(b)
    if na == -1:
        return x.apply("neg", b)
    if nb == -1:
        return x.apply("neg", a)
    if nb is not None and na is None:  # numbers first: 2*x, not x*2
        return x.apply("mul", b, a)
    if a == b:
        return x.apply("pow", a, x.num(2))
    if na is not None and x.op(b) == "mul" and x.number(x.args(b)[0]) is not None:
        inner_number, rest = x.args(b)  # 2*(3*y) -> 6*y
        return x.apply("mul", x.num(na * x.number(inner_number)), rest)
    if x.op(a) == "neg":
        return x.apply("neg", x.apply("mul", x.args(a)[0], b))
    if x.op(b) == "neg":
        return x.apply("neg", x.apply("mul", a, x.args(b)[0]))
    return None


def _div(x, a, b):
    if a == x.zero:
        return x.zero
    if b == x.one:
        return a
    if a == b:
        return x.one
    if x.op(a) == "neg":
        return x.apply("neg", x.apply("div", x.args(a)[0], b))
    na = x.number(a)
    if na is not None and na < 0:
        return x.apply("neg", x.apply("div", x.num(-na), b))
    return None


def _pow(x, a, b):
    if b == x.zero:
        return x.one
    if b == x.one or a == x.one:
        return a
    return None


def _neg(x, a):
    if x.op(a) == "neg":
        return x.args(a)[0]
    return None


_SIMPLIFY = {"add": _add, "sub": _sub, "mul": _mul, "div": _div, "pow": _pow, "neg": _neg}


@functools.cache
def _template(op_name, position):
    """The primitive's formula for ∂out/∂input[position] as a Graph over _0, _1, _2, _out."""
    from bpdiff.language.parse import parse

    text = BY_NAME[op_name].grad_formulas[position]
    for k in range(BY_NAME[op_name].arity):
        text = text.replace(f"{{{k}}}", f"_{k}")
    return parse(text.replace("{out}", "_out"))


def local_derivative(algebra, op_name, position, args, out):
    """The local derivative formula of `op_name` w.r.t. input `position`, as an
    expression in `args` (input expressions) and `out` (the node's own expression)."""
    template = _template(op_name, position)
    bound = {**{f"_{k}": arg for k, arg in enumerate(args)}, "_out": out}
    built = []
    for node, op in enumerate(template.ops):
        if op is CONST:
            built.append(algebra.num(template.payload[node]))
        elif op is VAR:
            built.append(bound[template.payload[node]])
        else:
            built.append(algebra.apply(op.name, *[built[i] for i in template.inputs[node]]))
    return built[template.output]


def node_expressions(algebra, graph):
    """Each node's value as an expression in the inputs."""
    exprs = []
    for node, op in enumerate(graph.ops):
        if op is CONST:
            exprs.append(algebra.num(graph.payload[node]))
        elif op is VAR:
            exprs.append(algebra.sym(graph.payload[node]))
        elif op.name == "id":
            exprs.append(exprs[graph.inputs[node][0]])
        else:
            exprs.append(algebra.apply(op.name, *[exprs[i] for i in graph.inputs[node]]))
    return exprs


def gradient_expressions(graph):
    """(algebra, grads): ∂output/∂node as an expression in the inputs for every node
    (algebra.zero where unused)."""
    algebra = Algebra()
    exprs = node_expressions(algebra, graph)
    grads = [algebra.zero] * len(graph.ops)
    grads[graph.output] = algebra.one
    for node in range(graph.output, -1, -1):
        op = graph.ops[node]
        if op is CONST or op is VAR:
            continue
        args = [exprs[i] for i in graph.inputs[node]]
        for position, source in enumerate(graph.inputs[node]):
            local = local_derivative(algebra, op.name, position, args, exprs[node])
            grads[source] = algebra.apply("add", grads[source],
                                          algebra.apply("mul", grads[node], local))
    return algebra, grads


def to_text(algebra, expr, max_chars=DEFAULT_MAX_CHARS, style=SYMBOLIC):
    """`expr` in bpdiff syntax with the fewest parentheses, or None when longer than
    `max_chars` characters (None: no limit). `style` LATEX prints it as that text reads:
    -x/y is (-x)/y, \\frac{-x}{y}."""
    view = expression_view(algebra.entries)
    if style is LATEX:
        view, expr = minus_on_first_factor(view), (expr, 0)
    return print_expression(view, expr, style, max_chars)


def local_formula(graph, node, position, ref, style=SYMBOLIC):
    """∂node/∂(its input `position`) as text in the node's operands, e.g. '2*u2' for
    u4 = u2^2 (in `style`, see to_text). `ref(i)` names node i; constants appear as
    numbers."""
    algebra = Algebra()
    args = [algebra.num(graph.payload[i]) if graph.ops[i] is CONST else algebra.sym(ref(i))
            for i in graph.inputs[node]]
    out = algebra.sym(ref(node))
    local = local_derivative(algebra, graph.ops[node].name, position, args, out)
    return to_text(algebra, local, style=style)
