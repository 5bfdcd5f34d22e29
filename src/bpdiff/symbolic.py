"""Gradients as expressions: the backward pass run over symbolic expressions.

An expression is a hash-consed tuple: ("num", value), ("sym", name) or
(op_name, arg, ...). Smart constructors simplify as they build (constant folding,
0 and 1 elimination, x*x -> x^2, a + a -> 2*a), so nothing is ever walked recursively
afterwards. Local derivatives come from the primitive table's formulas, parsed once
with bpdiff's own parser. Printing is iterative and stops early past a size limit.

May import: bpdiff.ops, bpdiff.graph, bpdiff.parse, bpdiff.scalar, bpdiff.render.numbers.
"""

import functools

from . import scalar
from .graph import CONST, VAR
from .ops import BY_NAME

ZERO, ONE = ("num", 0.0), ("num", 1.0)
DEFAULT_MAX_CHARS = 2000


def num(value):
    """A number expression."""
    return ("num", float(value))


def sym(name):
    """A symbol expression."""
    return ("sym", name)


def _is_num(e, value=None):
    return e[0] == "num" and (value is None or e[1] == value)


def apply(op_name, *args):
    """`op_name` applied to `args`, simplified locally."""
    if all(a[0] == "num" for a in args):
        value = BY_NAME[op_name].forward(scalar, *[a[1] for a in args])
        if _foldable(op_name, value):
            return num(value)
    simplify = _SIMPLIFY.get(op_name)
    if simplify is not None:
        simplified = simplify(*args)
        if simplified is not None:
            return simplified
    return (op_name, *args)


def _foldable(op_name, value):
    # Arithmetic folds; 1/3 or sin(1) stay as written rather than become 16 digits.
    if value != value or value in (float("inf"), float("-inf")):
        return False
    if op_name in ("add", "sub", "mul", "neg"):
        return True
    if op_name in ("div", "pow"):
        return value == round(value, 12)
    return value.is_integer()


def _add(a, b):
    if _is_num(a, 0):
        return b
    if _is_num(b, 0):
        return a
    if a == b:
        return apply("mul", num(2), a)
    if b[0] == "neg":
        return apply("sub", a, b[1])
    if a[0] == "neg":
        return apply("sub", b, a[1])
    return None


def _sub(a, b):
    if _is_num(b, 0):
        return a
    if _is_num(a, 0):
        return apply("neg", b)
    if a == b:
        return ZERO
    return None


def _mul(a, b):
    if _is_num(a, 0) or _is_num(b, 0):
        return ZERO
    if _is_num(a, 1):
        return b
    if _is_num(b, 1):
        return a
    if _is_num(a, -1):
        return apply("neg", b)
    if _is_num(b, -1):
        return apply("neg", a)
    if _is_num(b) and not _is_num(a):  # numbers first: 2*x, not x*2
        return apply("mul", b, a)
    if a == b:
        return apply("pow", a, num(2))
    if _is_num(a) and b[0] == "mul" and _is_num(b[1]):  # 2*(3*x) -> 6*x
        return apply("mul", num(a[1] * b[1][1]), b[2])
    if a[0] == "neg":
        return apply("neg", apply("mul", a[1], b))
    if b[0] == "neg":
        return apply("neg", apply("mul", a, b[1]))
    return None


def _div(a, b):
    if _is_num(a, 0):
        return ZERO
    if _is_num(b, 1):
        return a
    if a == b:
        return ONE
    if a[0] == "neg":
        return apply("neg", apply("div", a[1], b))
    if _is_num(a) and a[1] < 0:
        return apply("neg", apply("div", num(-a[1]), b))
    return None


def _pow(a, b):
    if _is_num(b, 0):
        return ONE
    if _is_num(b, 1):
        return a
    if _is_num(a, 1):
        return ONE
    return None


def _neg(a):
    if a[0] == "neg":
        return a[1]
    if _is_num(a):
        return num(-a[1])
    return None


_SIMPLIFY = {"add": _add, "sub": _sub, "mul": _mul, "div": _div, "pow": _pow, "neg": _neg}


@functools.cache
def _template(op_name, position):
    """The primitive's formula for ∂out/∂input[position] as a Graph over _0, _1, _out."""
    from .parse import parse

    text = BY_NAME[op_name].grad_formulas[position]
    return parse(text.replace("{0}", "_0").replace("{1}", "_1").replace("{out}", "_out"))


def local_derivative(op_name, position, args, out):
    """The local derivative formula of `op_name` w.r.t. input `position`, as an
    expression in `args` (input expressions) and `out` (the node's own expression)."""
    template = _template(op_name, position)
    bound = {"_0": args[0], "_1": args[1] if len(args) > 1 else None, "_out": out}
    built = []
    for node, op in enumerate(template.ops):
        if op is CONST:
            built.append(num(template.payload[node]))
        elif op is VAR:
            built.append(bound[template.payload[node]])
        else:
            built.append(apply(op.name, *[built[i] for i in template.inputs[node]]))
    return built[template.output]


def node_expressions(graph, leaf=None):
    """Each node's value as an expression in the inputs (or, with `leaf`, stopping at
    the nodes for which leaf(node) gives an expression)."""
    exprs = []
    for node, op in enumerate(graph.ops):
        given = leaf(node) if leaf else None
        if given is not None:
            exprs.append(given)
        elif op is CONST:
            exprs.append(num(graph.payload[node]))
        elif op is VAR:
            exprs.append(sym(graph.payload[node]))
        elif op.name == "id":
            exprs.append(exprs[graph.inputs[node][0]])
        else:
            exprs.append(apply(op.name, *[exprs[i] for i in graph.inputs[node]]))
    return exprs


def gradient_expressions(graph):
    """∂output/∂node as an expression in the inputs, for every node (ZERO if unused)."""
    exprs = node_expressions(graph)
    grads = [ZERO] * len(graph.ops)
    grads[graph.output] = ONE
    for node in range(graph.output, -1, -1):
        op = graph.ops[node]
        if op is CONST or op is VAR:
            continue
        args = [exprs[i] for i in graph.inputs[node]]
        for position, source in enumerate(graph.inputs[node]):
            local = local_derivative(op.name, position, args, exprs[node])
            grads[source] = apply("add", grads[source], apply("mul", grads[node], local))
    return grads


def to_text(expr, max_chars=DEFAULT_MAX_CHARS):
    """`expr` in bpdiff syntax with the fewest parentheses, or None when longer than
    `max_chars` characters."""
    from .render.numbers import format_number

    # Post-order over an explicit stack; each subexpression is printed once (shared
    # subexpressions are looked up), and the total size is checked as we go.
    printed = {}
    stack = [expr]
    while stack:
        e = stack[-1]
        if e in printed:
            stack.pop()
            continue
        if e[0] in ("num", "sym"):
            text = format_number(e[1], 12) if e[0] == "num" else e[1]
            printed[e] = (text, 9 if e[0] == "sym" or e[1] >= 0 else 3)
            stack.pop()
            continue
        missing = [a for a in e[1:] if a not in printed]
        if missing:
            stack.extend(missing)
            continue
        stack.pop()
        printed[e] = _compose(e, [printed[a] for a in e[1:]])
        if len(printed[e][0]) > max_chars:
            return None
    return printed[expr][0]


def _compose(e, parts):
    op = BY_NAME[e[0]]
    if op.symbol is None:
        return f"{op.name}({', '.join(text for text, _ in parts)})", 9
    if len(parts) == 1:  # -(x/y) prints as -x/y: the same value, however it is read
        text, precedence = parts[0]
        if precedence >= 2:
            return f"{op.symbol}{text}", min(precedence, op.precedence)
        return f"{op.symbol}({text})", op.precedence
    (left, left_p), (right, right_p) = parts
    if op.right_assoc:
        left, right = _wrap(left, left_p, op.precedence + 1), _wrap(right, right_p, op.precedence)
    else:
        left, right = _wrap(left, left_p, op.precedence), _wrap(right, right_p, op.precedence + 1)
    spaced = f" {op.symbol} " if op.precedence == 1 else op.symbol
    return f"{left}{spaced}{right}", op.precedence


def _wrap(text, precedence, needed):
    return text if precedence >= needed else f"({text})"


def local_formula(graph, node, position, ref):
    """∂node/∂(its input `position`) as text in the node's operands, e.g. '2*u2' for
    u4 = u2^2. `ref(i)` names node i; constants appear as numbers."""
    args = [num(graph.payload[i]) if graph.ops[i] is CONST else sym(ref(i))
            for i in graph.inputs[node]]
    return to_text(local_derivative(graph.ops[node].name, position, args, sym(ref(node))))
