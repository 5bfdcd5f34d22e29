"""LaTeX for bpdiff's text: escaping, names, numbers, and expressions as math.

Expressions arrive as bpdiff text (labels, local-derivative formulas, gradients) and are
re-read by a small operator-precedence parser (explicit stacks, no recursion) into a
tree that prints as math: `a/b` as \\frac{a}{b}, `x^(n - 1)` as x^{n - 1}, `*` as \\cdot,
sqrt and abs as \\sqrt{} and |.|, sigmoid as \\sigma, names with a digit or an
underscore suffix as subscripts (x1, x_1 -> x_{1}; w_in -> w_{\\mathit{in}}), Greek
names as letters (alpha -> \\alpha), longer names in \\mathit, #2 as \\#2. Text is
escaped (`_ ^ # & % $ { } \\ ~`) and the Unicode bpdiff prints (∂ × · σ ≈ ≥ → …) is
mapped to LaTeX, so the output is ASCII.
"""

import re

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
