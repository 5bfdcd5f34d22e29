"""`--format latex`: the table, --locals, --explain and --symbolic as LaTeX fragments
to paste into a solution sheet (they need `\\usepackage{amsmath,booktabs}`).

Expressions arrive as bpdiff text (labels, local-derivative formulas, gradients) and are
re-read here by a small operator-precedence parser (iterative, no recursion) into a
tree that prints as math: `a/b` as \\frac{a}{b}, `x^(n - 1)` as x^{n - 1}, `*` as \\cdot,
sqrt and abs as \\sqrt{} and |.|, sigmoid as \\sigma, names with a digit or an
underscore suffix as subscripts (x1, x_1 -> x_{1}; w_in -> w_{\\mathit{in}}), Greek
names as letters (alpha -> \\alpha), longer names in \\mathit, #2 as \\#2. Gradients are
\\frac{\\partial L}{\\partial a}. Text is escaped (`_ ^ # & % $ { } \\ ~`) and the
Unicode bpdiff prints (∂ × · σ ≈ ≥ → …) is mapped to LaTeX, so the output is ASCII.
Nothing is computed here: numbers come formatted from bpdiff.render.numbers.

May import: bpdiff.graph, bpdiff.render.explain, bpdiff.render.labels,
bpdiff.render.numbers, bpdiff.render.selection, bpdiff.render.table, re.
"""

import re

PREAMBLE = "% bpdiff: needs \\usepackage{amsmath,booktabs}\n"

GREEK = frozenset(
    "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi pi rho sigma"
    " tau upsilon phi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi"
    " Omega".split())

FUNCTIONS = {"sin": "\\sin", "cos": "\\cos", "tan": "\\tan", "exp": "\\exp", "log": "\\log",
             "tanh": "\\tanh", "max": "\\max", "min": "\\min", "sigmoid": "\\sigma"}

_TEXT_ESCAPES = {"\\": "\\textbackslash{}", "{": "\\{", "}": "\\}", "$": "\\$", "&": "\\&",
                 "%": "\\%", "#": "\\#", "_": "\\_", "^": "\\^{}", "~": "\\~{}",
                 "<": "\\textless{}", ">": "\\textgreater{}", "|": "\\textbar{}"}
_UNICODE_MATH = {"∂": "\\partial", "×": "\\times", "·": "\\cdot", "σ": "\\sigma",
                 "≈": "\\approx", "≥": "\\geq", "≤": "\\leq", "→": "\\to", "÷": "\\div",
                 "∞": "\\infty", "½": "\\frac{1}{2}", "√": "\\surd", "²": "^{2}", "³": "^{3}",
                 "‖": "\\|", "−": "-", "↺": "\\circlearrowleft"}
_UNICODE_TEXT = {"—": "---", "–": "--", "…": "\\ldots{}", "’": "'", "‘": "`", "“": "``",
                 "”": "''", "✓": "\\ensuremath{\\checkmark}", "✗": "\\ensuremath{\\times}"}


def text(value):
    """Plain text for text mode (also inside \\text{...}): specials escaped, `--` kept
    as two hyphens, known Unicode mapped (math symbols through \\ensuremath), any other
    non-ASCII character spelled as its code point, so that every engine compiles it."""
    out = []
    for c in value:
        if c in _TEXT_ESCAPES:
            out.append(_TEXT_ESCAPES[c])
        elif c in _UNICODE_MATH:
            out.append(f"\\ensuremath{{{_UNICODE_MATH[c]}}}")
        elif c in _UNICODE_TEXT:
            out.append(_UNICODE_TEXT[c])
        elif ord(c) > 126 or (ord(c) < 32 and c != "\n"):
            out.append(f"[U+{ord(c):04X}]")
        elif c == "-" and out and out[-1].endswith("-"):
            out.append("{}-")  # `--all` stays two hyphens, not an en dash
        else:
            out.append(c)
    return "".join(out)


def name(identifier):
    """A bpdiff name in math mode: x -> x, x1 / x_1 -> x_{1}, w_in -> w_{\\mathit{in}},
    alpha -> \\alpha, loss -> \\mathit{loss}, other names \\mathit with `_` escaped."""
    if identifier == "nan":
        return "\\mathrm{NaN}"
    if identifier == "inf":
        return "\\infty"
    match = (re.fullmatch(r"([A-Za-z]+)_?([0-9]+)", identifier)
             or re.fullmatch(r"([A-Za-z]+)_([A-Za-z][A-Za-z0-9]*)", identifier))
    if match:
        return f"{_word(match[1])}_{{{_word(match[2])}}}"
    return _word(identifier)


def _word(word):
    if word in GREEK:
        return "\\" + word
    if len(word) == 1 or word.isdigit():
        return word
    return f"\\mathit{{{text(word)}}}"


def number(formatted):
    """A number as bpdiff formats it, in math mode: '1.5e-7' -> 1.5 \\times 10^{-7},
    '-1/4' -> -\\frac{1}{4}, 'nan', 'inf', '≈0.5' (an --exact approximation), '—' (no
    gradient)."""
    formatted = formatted.strip()
    if formatted in ("—", ""):
        return "\\text{---}"
    if formatted.startswith("≈"):
        return "\\approx " + number(formatted[1:])
    sign, body = ("-", formatted[1:]) if formatted.startswith("-") else ("", formatted)
    if body in ("nan", "inf"):
        return sign + name(body)
    fraction = re.fullmatch(r"([0-9]+)/([0-9]+)", body)
    if fraction:
        return f"{sign}\\frac{{{fraction[1]}}}{{{fraction[2]}}}"
    scientific = re.fullmatch(r"([0-9.]+)[eE]([-+]?)0*([0-9]+)", body)
    if scientific:
        mantissa, exp_sign, exponent = scientific.groups()
        exp_sign = "-" if exp_sign == "-" else ""
        return f"{sign}{mantissa} \\times 10^{{{exp_sign}{exponent}}}"
    return formatted


def partial(of, wrt):
    """∂of/∂wrt as a fraction; `of` and `wrt` are bpdiff references (names, #ids)."""
    return f"\\frac{{\\partial {math(of)}}}{{\\partial {math(wrt)}}}"


# ---------------------------------------------------------------------------------------
# bpdiff expression text -> a tree -> LaTeX


_TOKEN = re.compile(r"\s*(?:(?P<num>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?)"
                    r"|(?P<ref>#[0-9]+)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
                    r"|(?P<op>\*\*|[-+*/^(),·×÷−]))")
_BINARY = {"+": ("add", 1), "-": ("sub", 1), "−": ("sub", 1), "*": ("mul", 2),
           "·": ("mul", 2), "×": ("mul", 2), "/": ("div", 2), "÷": ("div", 2),
           "^": ("pow", 4), "**": ("pow", 4)}
_SUM, _PRODUCT, _NEG, _POW, _FRAC, _ATOM = 1, 2, 3, 4, 8, 9  # binding strength
_NEGATIVE = _NEG  # a negative number binds as a negation


def _tokens(source):
    position, end = 0, len(source.rstrip())
    while position < end:
        match = _TOKEN.match(source, position)
        if match is None or match.end() == position:
            raise ValueError(f"cannot read {source[position:]!r}")
        position = match.end()
        yield match.lastgroup, match[match.lastgroup]


def _parse(source, values):
    """The expression as nested tuples: ('leaf', latex, precedence), (op, child, ...) or
    ('call', function, child, ...). Operator precedence over explicit stacks: `pending`
    holds operators (op, arity, precedence, right-associative) and open parentheses
    ('(', function or None, arguments so far)."""
    output, pending = [], []
    tokens = list(_tokens(source))
    expect_operand = True

    def reduce():
        op, arity = pending.pop()[:2]
        args = output[-arity:]
        del output[-arity:]
        output.append((op, *args))

    k = 0
    while k < len(tokens):
        kind, token = tokens[k]
        k += 1
        if kind == "name" and k < len(tokens) and tokens[k][1] == "(":
            pending.append(("(", token, 1))
            k += 1
            expect_operand = True
        elif kind != "op":
            output.append(_leaf(kind, token, values))
            expect_operand = False
        elif token == "(":
            pending.append(("(", None, 1))
            expect_operand = True
        elif token in ",)":
            while pending and pending[-1][0] != "(":
                reduce()
            if not pending:
                raise ValueError("unbalanced parentheses")
            _, function, count = pending.pop()
            if token == ",":
                pending.append(("(", function, count + 1))
                expect_operand = True
                continue
            if function is not None:
                args = output[-count:]
                del output[-count:]
                output.append(("call", function, *args))
            expect_operand = False
        elif expect_operand:
            if token not in "-−+":
                raise ValueError(f"unexpected {token!r}")
            if token != "+":
                pending.append(("neg", 1, _NEG, True))
        else:
            op, precedence = _BINARY[token]
            while (pending and pending[-1][0] != "("
                   and (pending[-1][2] > precedence
                        or (pending[-1][2] == precedence and op != "pow"))):
                reduce()
            pending.append((op, 2, precedence, op == "pow"))
            expect_operand = True
    while pending:
        if pending[-1][0] == "(":
            raise ValueError("unbalanced parentheses")
        reduce()
    if len(output) != 1 or expect_operand:
        raise ValueError("not one expression")
    return output[0]


def _leaf(kind, token, values):
    if values is not None and token in values:
        token, kind = values[token], "num"
    if kind == "ref":
        return ("leaf", "\\" + token, _ATOM)
    if kind == "name":
        return ("leaf", name(token), _ATOM)
    latex = number(token)
    if token.startswith("-"):
        return ("leaf", latex, _NEGATIVE)
    return ("leaf", latex, _PRODUCT if "\\times" in latex else _ATOM)


def _paren(latex):
    """Parentheses, sized to their content when it holds a fraction or a root."""
    if "\\frac" in latex or "\\sqrt" in latex:
        return f"\\left({latex}\\right)"
    return f"({latex})"


def _emit(tree):
    """The tree as (latex, precedence), post-order over an explicit stack."""
    done = {}
    stack = [tree]
    while stack:
        node = stack[-1]
        if node[0] == "leaf":
            done[id(node)] = node[1:]
            stack.pop()
            continue
        children = node[2:] if node[0] == "call" else node[1:]
        missing = [c for c in children if id(c) not in done]
        if missing:
            stack.extend(missing)
            continue
        stack.pop()
        done[id(node)] = _compose(node[0], node[1] if node[0] == "call" else None,
                                  [done[id(c)] for c in children])
    return done[id(tree)]


def _compose(op, function, parts):
    if op == "call":
        args = ", ".join(latex for latex, _ in parts)
        if function == "sqrt":
            return f"\\sqrt{{{args}}}", _ATOM
        if function == "abs":
            return f"\\left\\lvert {args} \\right\\rvert", _ATOM
        command = FUNCTIONS.get(function, f"\\operatorname{{{text(function)}}}")
        return command + _paren(args), _ATOM
    if op == "neg":
        latex, precedence = parts[0]
        if precedence < _PRODUCT or precedence == _NEG:
            latex = _paren(latex)
        return "-" + latex, _NEG
    (left, left_p), (right, right_p) = parts
    if op == "div":
        return f"\\frac{{{left}}}{{{right}}}", _FRAC
    if op == "pow":
        base = left if left_p == _ATOM else _paren(left)
        return f"{base}^{{{right}}}", _POW
    own = _SUM if op in ("add", "sub") else _PRODUCT
    if left_p < own or (own == _PRODUCT and left_p == _NEG):  # (-3) \cdot 2
        left = _paren(left)
    if right_p <= own or right_p == _NEG:
        right = _paren(right)
    symbol = {"add": "+", "sub": "-", "mul": "\\cdot"}[op]
    return f"{left} {symbol} {right}", own


def math(source, values=None):
    """bpdiff expression text as LaTeX math (without $), or the text in \\text{} if it
    is not an expression. `values`: tokens (names, #ids, numbers) to print as these
    formatted numbers instead, e.g. {'a': '7', '#2': '-3'}."""
    try:
        return _emit(_parse(source, values))[0]
    except (ValueError, KeyError, IndexError):
        return f"\\text{{{text(source)}}}"


# ---------------------------------------------------------------------------------------
# Sections


def tabular(columns, rows, numeric):
    """A booktabs tabular; cells are LaTeX already, `numeric` columns right-aligned."""
    spec = "".join("r" if c in numeric else "l" for c in range(len(columns)))
    lines = [f"\\begin{{tabular}}{{{spec}}}", "\\toprule", " & ".join(columns) + " \\\\",
             "\\midrule"]
    lines += [" & ".join(row) + " \\\\" for row in rows]
    lines += ["\\bottomrule", "\\end{tabular}"]
    return "\n".join(lines) + "\n"


def _output_ref(result):
    return result.graph.name_of.get(result.graph.output, "out")


def _refs(cell):
    return ", ".join(f"${math(part)}$" for part in cell.split(", ")) if cell else ""


def table(result, precision, summary=(200, None, None)):
    """The node table as a tabular, the note on hidden rows, and the output's value
    and gradients as inline math."""
    from .numbers import format_exact, format_number
    from .table import rows

    body, note = rows(result, precision, *summary)
    out = _output_ref(result)
    columns = ("id", "label", "op", "inputs", "value", f"${partial(out, 'v')}$")
    cells = [(node, f"${math(label)}$", f"\\texttt{{{text(op)}}}", _refs(inputs),
              f"${number(value)}$", f"${number(grad)}$")
             for node, label, op, inputs, value, grad in body]
    latex = tabular(columns, cells, {0, 4, 5})
    if note:
        latex += f"\n\\noindent {text(note)}\n"
    graph, exact = result.graph, getattr(result, "exact", None)

    def shown(x, node, stage):
        if exact is None:
            return number(format_number(x, precision))
        return number(format_exact(getattr(exact, stage)[node], x, precision))

    parts = [f"${math(out)} = {shown(result.value, graph.output, 'values')}$"]
    parts += [f"${partial(out, n)} = {shown(g, graph.variables[n], 'grads')}$"
              for n, g in result.gradient.items()]
    return latex + "\n\\noindent " + ", ".join(parts) + "\n"


def locals_table(result, precision):
    """One row per edge: the edge, ∂node/∂source, its formula and value, upstream,
    contribution."""
    from .explain import edge_formula, references
    from .numbers import format_number

    ref = references(result.graph)
    rows = []
    for e in result.edges:
        formula = edge_formula(result, e, ref)
        rows.append((f"${math(ref(e.source))} \\to {math(ref(e.node))}$",
                     f"${partial(ref(e.node), ref(e.source))}$",
                     "" if formula is None else f"${_formula(formula)}$",
                     *(f"${number(format_number(x, precision))}$"
                       for x in (e.local, e.upstream, e.contribution))))
    columns = ("edge", "derivative", "formula", "local", "upstream", "contribution")
    return tabular(columns, rows, {3, 4, 5})


def _formula(formula):
    """A local derivative formula; at a kink, the convention used, as text."""
    if formula.startswith("["):
        return f"\\text{{{text(formula)}}}"
    return math(formula)


def symbolic(result, gradients, max_chars):
    """The gradient expressions in an align* environment."""
    out = _output_ref(result)
    lines = []
    for wrt, expression in gradients.items():
        rhs = (math(expression) if expression is not None else
               f"\\text{{(over {max_chars:,} characters: raise --symbolic-max)}}")
        lines.append(f"{partial(out, wrt)} &= {rhs}")
    return _align(lines)


def _align(lines):
    """An align* environment of `lines`; every row but the last ends in \\\\, an
    \\intertext line (which must follow one) excepted."""
    body = []
    for k, line in enumerate(lines):
        last = k + 1 == len(lines) or line.startswith("\\intertext")
        body.append(line if last else line + " \\\\")
    return "\\begin{align*}\n" + "\n".join(body) + "\n\\end{align*}\n"


def explain(result, precision):
    """The forward and backward narration, each pass an align* environment: every
    node's value from its operands, then each node's local derivatives and the sum over
    its uses (as fractions of partials, then numbers)."""
    from .explain import explain_steps
    from .labels import operand
    from .numbers import format_number

    graph = result.graph
    fmt = lambda x: number(format_number(x, precision))  # noqa: E731
    steps = explain_steps(result)
    out = _output_ref(result)
    forward = []
    for step in (s for s in steps if s["stage"] == "forward"):
        if step.get("input"):
            forward.append(f"{math(step['ref'])} &= {fmt(step['value'])} && \\text{{(input)}}")
            continue
        refs = [operand(graph, i) for i in graph.inputs[step["node"]]]
        values = {r: format_number(v, precision) for r, v in zip(refs, step["operands"])}
        parts = [math(step["ref"]), math(step["expression"]),
                 math(step["expression"], values), fmt(step["value"])]
        parts = list(dict.fromkeys(parts))
        forward.append(f"{parts[0]} &= " + " = ".join(parts[1:]))
    backward = []
    for step in (s for s in steps if s["stage"] == "backward"):
        if not step["terms"]:
            backward.append(f"{partial(out, step['ref'])} &= 1"
                            " && \\text{(the output: the seed)}")
            continue
        backward += _backward_lines(out, step, fmt)
    return ("\\noindent Forward pass (inputs first; each node from its operands):\n"
            + _align(forward)
            + f"\\noindent Backward pass (${partial(out, 'v')}$, output first; upstream"
              " $\\times$ local, summed over uses):\n" + _align(backward))


def _backward_lines(out, step, fmt):
    target = step["ref"]
    terms = step["terms"]
    users = list(dict.fromkeys(t["via_ref"] for t in terms))
    lines = [f"\\intertext{{${math(target)}$, used by"
             f" {' and '.join(f'${math(u)}$' for u in users)}:}}"]
    if users == [out] and len(terms) == 1:  # upstream is the seed 1: grad = local
        formula = _term_formula(terms[0], fmt)
        return lines + [f"{partial(out, target)} &= {formula}{fmt(step['grad'])}"]
    for term in terms:
        lines.append(f"{partial(term['via_ref'], target)} &= "
                     f"{_term_formula(term, fmt)}{fmt(term['local'])}")
    symbols = " + ".join(f"{partial(out, t['via_ref'])} \\, {partial(t['via_ref'], target)}"
                         for t in terms)
    numbers = " + ".join(f"({fmt(t['upstream'])})({fmt(t['local'])})" for t in terms)
    lines.append(f"{partial(out, target)} &= {symbols}")
    lines.append(f"&= {numbers}")
    if len(terms) > 1:
        lines.append("&= " + " + ".join(fmt(t["contribution"]) for t in terms))
    lines[-1] += f" = {fmt(step['grad'])}"
    return lines


def _term_formula(term, fmt):
    """'formula = ' before a local derivative's value, or '' when it is just the value."""
    formula = term["formula"]
    if formula is None:
        return ""
    latex = _formula(formula)
    return "" if latex == fmt(term["local"]) else f"{latex} = "
