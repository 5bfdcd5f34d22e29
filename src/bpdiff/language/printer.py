"""Expressions back to text: the one printer, for graph nodes and symbolic expressions.

A *view* tells the printer what a key stands for: a `Leaf` (a number, a name or a `#id`
reference) or an operation, `(primitive, operand keys)`. graph_view() looks at a Graph,
expression_view() at the hash-consed entries of bpdiff.analyses.symbolic. A *style* prints
one operation over its printed operands:

- LABEL: a node over its operands' references, `a + b`, `#2 * #4`, `b^3`, `x.T`;
- SYMBOLIC: bpdiff syntax with the fewest parentheses, `2*x^(n - 1)`;
- ECHO: every operation but the outermost in parentheses, `(2 * (x ^ 2)) - (-y)`;
- LATEX: math mode, `\\frac{a}{b}`, `x^{n - 1}`, `\\sigma(x)`, names as subscripts.

How an operation prints (its symbol or form, precedence, associativity, LaTeX template)
is read from the primitive table; a style adds only its conventions, such as where spaces
go. Printing is post-order over an explicit stack, each key printed once as a rope
(a tuple of strings and ropes) that is joined at the end, so 100,000-deep nesting prints
in linear time without recursion.

May import bpdiff.engine and bpdiff.numbers only.
"""

import re

from bpdiff.engine.graph import CONST, VAR
from bpdiff.engine.ops import ATOM, BY_NAME
from bpdiff.numbers import format_array_literal, format_number


SUM, PRODUCT = BY_NAME["add"].precedence, BY_NAME["mul"].precedence
NEGATION = BY_NAME["neg"].precedence
_NEG, _ID = BY_NAME["neg"], BY_NAME["id"]


class Leaf:
    """A key printed as it is: kind 'num' (payload a value, or number text already
    formatted), 'name' or 'ref' (payload the text: 'x', '#2')."""

    __slots__ = ("kind", "payload")

    def __init__(self, kind, payload):
        self.kind, self.payload = kind, payload

    def __repr__(self):
        return f"Leaf({self.kind!r}, {self.payload!r})"


class Printed:
    """A printed key: its text as a rope (a string, or a tuple of ropes), how tightly it
    binds (the table's precedence scale), its length, and whether it is tall (LaTeX
    sizes parentheses around it). (A slots class: a NamedTuple costs start-up.)"""

    __slots__ = ("rope", "precedence", "length", "tall")

    def __init__(self, rope, precedence, length, tall=False):
        self.rope, self.precedence, self.length, self.tall = rope, precedence, length, tall


def graph_view(graph, root, below="named", leaves=None):
    """A view of `graph` whose keys are node ids: `root` prints as its operation, and
    below it 'named' nodes with a name by that name, other operations written out;
    'all' operations written out; 'none' (a label) operands as references. Variables,
    constants and references are leaves: graph_leaf(), unless `leaves` gives a node's
    leaf ({node: Leaf})."""
    ops, inputs, name_of = graph.ops, graph.inputs, graph.name_of
    leaves = leaves or {}
    stop_at_names, stop_below = below == "named", below == "none"

    def view(node):
        leaf = leaves.get(node)
        if leaf is not None:
            return leaf
        op = ops[node]
        if (op is CONST or op is VAR
                or (node != root and (stop_below or (stop_at_names and node in name_of)))):
            return graph_leaf(graph, node)
        return op, inputs[node]
    return view


def graph_leaf(graph, node):
    """Node `node` as a leaf: a constant's value, else its name, else `#id`."""
    if graph.ops[node] is CONST:
        return Leaf("num", graph.payload[node])
    name = graph.name_of.get(node)
    return Leaf("ref", f"#{node}") if name is None else Leaf("name", name)


def expression_view(entries):
    """A view of symbolic expressions whose keys index `entries`: ('num', value),
    ('sym', name) or (op name, operand key, ...)."""
    def view(key):
        entry = entries[key]
        if entry[0] == "num":
            return Leaf("num", entry[1])
        if entry[0] == "sym":
            return Leaf("ref" if entry[1].startswith("#") else "name", entry[1])
        return BY_NAME[entry[0]], entry[1:]
    return view


def minus_on_first_factor(view):
    """`view` with each negated product or quotient read as bpdiff reads its text:
    SYMBOLIC prints -(x/y) as -x/y, which is (-x)/y, so LaTeX prints \\frac{-x}{y}.
    Keys become (key, negations): the key with its first factor negated that often."""
    def product(item):
        return (type(item) is not Leaf and item[0].arity == 2 and item[0].symbol is not None
                and item[0].precedence == PRODUCT)

    def negated(key):
        node, negations = key
        item = view(node)
        if type(item) is not Leaf and item[0] is _NEG and product(view(item[1][0])):
            node, negations = item[1][0], negations + 1
            item = view(node)
        if negations == 0:
            return item if type(item) is Leaf else (item[0], [(k, 0) for k in item[1]])
        if product(item):
            return item[0], [(item[1][0], negations), (item[1][1], 0)]
        return _NEG, [(node, negations - 1)]
    return negated


def print_expression(view, root, style, max_chars=None):
    """The text of key `root` of `view` in `style`, or None when an operation in it
    prints longer than `max_chars` characters (None: no limit)."""
    done: dict
    waiting: dict
    done, waiting = {}, {}  # printed keys; keys whose operands are being printed
    stack = [root]
    while stack:
        key = stack.pop()
        if key in done:
            continue
        item = waiting.pop(key, None)
        if item is None:
            item = view(key)
            if type(item) is Leaf:
                done[key] = style.leaf(item)
            else:
                waiting[key] = item
                stack.append(key)
                stack.extend(item[1])
        elif item[0] is _ID:  # `d = b`: the copy reads as its operand
            done[key] = done[item[1][0]]
        else:
            done[key] = printed = style.compose(item[0], [done[k] for k in item[1]])
            if max_chars is not None and printed.length > max_chars:
                return None
    return _join(done[root].rope)


def print_leaf(leaf, style):
    """A Leaf's text in `style`."""
    return style.leaf(leaf).rope


def print_operation(op, operands):
    """One operation over its operands' texts, as a label: ('pow', ['b', '3']) -> 'b^3'."""
    return LABEL.template_of(op).format(*operands)


def _join(rope):
    if type(rope) is str:
        return rope
    pieces, stack = [], [rope]
    while stack:
        item = stack.pop()
        if type(item) is str:
            pieces.append(item)
        else:
            stack.extend(reversed(item))
    return "".join(pieces)


def _split(template):
    """A format string as pieces: literal text, and operand positions as ints
    ('{0}[{1}]' -> (0, '[', 1, ']'); '{{' and '}}' are braces)."""
    pieces: list[str | int] = []
    literal: list[str] = []
    k = 0
    while k < len(template):
        char = template[k]
        if template.startswith(("{{", "}}"), k):
            literal.append(char)
            k += 2
        elif char == "{":
            end = template.index("}", k)
            pieces += ["".join(literal)] if literal else []
            pieces.append(int(template[k + 1:end]))
            literal, k = [], end + 1
        else:
            literal.append(char)
            k += 1
    return tuple(pieces + (["".join(literal)] if literal else []))


def _template(pieces):
    """Pieces as a str.format template: (0, ' + ', 1) -> '{0} + {1}'."""
    return "".join(f"{{{p}}}" if type(p) is int else p.replace("{", "{{").replace("}", "}}")
                   for p in pieces)


class _ByOp(dict):
    """op name -> what `make(primitive)` gives for it, worked out when first asked for
    (a style is built at import; most runs print with one style and a few ops). A memo
    of a pure function: filling it changes no result, from however many threads."""

    def __init__(self, make):
        super().__init__()
        self.make = make

    def __missing__(self, name):
        made = self[name] = self.make(BY_NAME[name])
        return made


def _call(name, arity, open_="(", close=")"):
    """The pieces of a call name(a, b)."""
    pieces = [name + open_]
    for k in range(arity):
        pieces += [", ", k] if k else [k]
    return tuple(pieces + [close])


def _operator(op, spaced):
    """The pieces of an operator before (unary) or between (binary) its operands."""
    if op.arity == 1:
        return op.symbol, 0
    return 0, f" {op.symbol} " if spaced else op.symbol, 1


_FLAT = 256  # ropes shorter than this are joined into one string as they are built


def _fill(pieces, parts, precedence, wrap=None, tall=False):
    """Pieces with printed operands in place (wrap(position, part) may parenthesise
    one), as a Printed binding like `precedence`; `tall` if the pieces are."""
    rope, length, flat = [], 0, True
    for piece in pieces:
        if type(piece) is int:
            part = parts[piece] if wrap is None else wrap(piece, parts[piece])
            piece, length, tall = part.rope, length + part.length, tall or part.tall
            flat = flat and type(piece) is str
        else:
            length += len(piece)
        rope.append(piece)
    return Printed("".join(rope) if flat and length < _FLAT else tuple(rope),
                   precedence, length, tall)


def _parenthesised(part, open_="(", close=")"):
    rope, length = part.rope, part.length + len(open_) + len(close)
    if type(rope) is str and length < _FLAT:
        return Printed(open_ + rope + close, ATOM, length, part.tall)
    return Printed((open_, rope, close), ATOM, length, part.tall)


class _Label:
    """A node over its operands' references: `a + b`, `#2 * #4`, `b^3`, `x.T`; operators
    that bind tighter than negation print without spaces."""

    def __init__(self):
        self.pieces = _ByOp(self._pieces)
        self.templates = _ByOp(lambda op: _template(self._pieces(op)))

    def pieces_of(self, op):
        """The op's pieces: the table's, or a bound op's own (`sum(x, axis=1)`)."""
        return self.pieces[op.name] if op.params is None else self._pieces(op)

    def template_of(self, op):
        """The op's pieces as a str.format template ('{0} + {1}'): labels of a big
        graph are made by the thousand."""
        return self.templates[op.name] if op.params is None else _template(self._pieces(op))

    def _pieces(self, op):
        if op is _ID:
            return (0,)
        if op.form is not None:
            return _split(op.form)
        if op.symbol is None:
            return _call(op.name, op.arity)
        return _operator(op, op.precedence <= NEGATION)

    def leaf(self, leaf):
        text = leaf.payload
        if leaf.kind == "num" and type(text) is not str:
            text = format_number(text, 12)
        return Printed(text, ATOM, len(text))

    def compose(self, op, parts):
        return _fill(self.pieces_of(op), parts, ATOM if op.symbol is None else op.precedence)


class _Symbolic(_Label):
    """bpdiff syntax with the fewest parentheses the table's precedence and
    associativity allow; spaces around + and - only. -(x/y) prints as -x/y: the same
    value, however it is read."""

    def _pieces(self, op):
        if op.params is not None:
            return _split(op.form)
        if op.symbol is None:
            return _call(op.name, op.arity)
        return _operator(op, op.precedence <= SUM)

    def leaf(self, leaf):
        printed = super().leaf(leaf)
        if leaf.kind == "num" and type(leaf.payload) is not str and not leaf.payload >= 0:
            return Printed(printed.rope, NEGATION, printed.length, printed.tall)
        return printed

    def compose(self, op, parts):
        own, pieces = op.precedence, self.pieces_of(op)
        if op.symbol is None:
            return _fill(pieces, parts, ATOM)
        if len(parts) == 1:
            if parts[0].precedence >= PRODUCT:
                return _fill(pieces, parts, min(parts[0].precedence, own))
            return _fill(pieces, [_parenthesised(parts[0])], own)
        loosest = (own + 1, own) if op.right_assoc else \
            (own + 1, own + 1) if own < SUM else (own, own + 1)  # a < b < c: no chains

        def wrap(position, part):
            return part if part.precedence >= loosest[position] else _parenthesised(part)
        return _fill(pieces, parts, own, wrap)


class _Echo(_Label):
    """Every operation but the outermost in parentheses, every operator spaced, calls by
    their table name (`index(z, 1)`), constants in their shortest form."""

    def _pieces(self, op):
        if op.params is not None:
            return _split(op.form)
        return _call(op.name, op.arity) if op.symbol is None else _operator(op, True)

    def leaf(self, leaf):
        if leaf.kind == "num" and type(leaf.payload) is not str:
            text = shortest_number(leaf.payload)
            return Printed(text, ATOM, len(text))
        return super().leaf(leaf)

    def compose(self, op, parts):
        if op.symbol is None:
            return _fill(self.pieces_of(op), parts, ATOM)
        return _fill(self.pieces_of(op), parts, op.precedence, _operand)


def _operand(_, part):
    return part if part.precedence >= ATOM else _parenthesised(part)


class _Latex(_Label):
    """LaTeX math: each operator by its table template (`\\cdot`, `\\frac{a}{b}`,
    `x^{n}`), functions as commands (`\\sin`, `\\sigma`, else \\operatorname), names
    and numbers by latex_name() and latex_number(). Operands in braces need no
    parentheses; the base of a power needs them unless it is an atom, and a quotient
    binds like one but for that. A negation is parenthesised as an operand of a
    product, as any right operand and when negated: (-a) \\cdot b, a - (-b), -(-a).
    Parentheses grow (\\left( \\right)) around fractions and roots."""

    def __init__(self):
        super().__init__()
        self.sized = _ByOp(lambda op: self._pieces(op, "\\left(", "\\right)"))
        self.rules = _ByOp(lambda op: self._rules(self.pieces[op.name], op.arity))
        self.tall = _ByOp(lambda op: "\\frac" in (op.latex or "")
                          or "\\sqrt" in (op.latex or ""))

    def _pieces(self, op, open_="(", close=")"):
        if op.latex is not None and "{0}" in op.latex:
            return _split(op.latex)
        if op.symbol is None:
            command = op.latex or f"\\operatorname{{{_escaped(op.name)}}}"
            return _call(command, op.arity, open_, close)
        return _operator(op, op.arity == 2)

    @staticmethod
    def _rules(pieces, arity):
        """How each operand of `pieces` is parenthesised: 'braced' (never), 'base' (of a
        superscript), else 'prefix' (of a unary operator), 'left' or 'right'."""
        rules = {}
        for k, piece in enumerate(pieces):
            if type(piece) is int:
                before = pieces[k - 1] if k and type(pieces[k - 1]) is str else ""
                after = pieces[k + 1] if k + 1 < len(pieces) and type(pieces[k + 1]) is str else ""
                rules[piece] = ("braced" if before.endswith("{") and after.startswith("}") else
                                "base" if after.startswith("^") else
                                "prefix" if arity == 1 else "left" if piece == 0 else "right")
        return rules

    def leaf(self, leaf):
        text = leaf.payload
        if leaf.kind == "ref":
            latex = "\\" + text
        elif leaf.kind == "name":
            latex = latex_name(text)
        else:
            text = text if type(text) is str else format_number(text, 12)
            latex = latex_number(text)
        precedence = (NEGATION if text.startswith("-") else
                      PRODUCT if "\\times" in latex else ATOM)
        return Printed(latex, precedence, len(latex), "\\frac" in latex or "\\sqrt" in latex)

    def compose(self, op, parts):
        if op.params is not None:  # a bound op, sum(x, axis=1): a call, as the table's
            return _fill(self._pieces(op), parts, ATOM)
        pieces, rules, tall = self.pieces[op.name], self.rules[op.name], self.tall[op.name]
        if op.symbol is None:
            if any(part.tall for part in parts):
                pieces = self.sized[op.name]
            return _fill(pieces, parts, ATOM, tall=tall)
        if all(rule == "braced" for rule in rules.values()):  # \\frac{a}{b}
            return _fill(pieces, parts, ATOM - 1, tall=tall)
        own = op.precedence

        def wrap(position, part):
            rule, p = rules[position], part.precedence
            needed = (p < ATOM if rule == "base" else
                      p < PRODUCT or p == NEGATION if rule == "prefix" else
                      p < own or (p == NEGATION and own >= PRODUCT) if rule == "left" else
                      p <= own or p == NEGATION if rule == "right" else False)
            if not needed:
                return part
            return _parenthesised(part, *(("\\left(", "\\right)") if part.tall else "()"))
        return _fill(pieces, parts, own, wrap, tall)


def shortest_number(value):
    """A constant as read, shortest form: 2.0 -> '2', 0.1 -> '0.1', an array literal
    as '[1, -2]'."""
    if type(value) is tuple:
        return format_array_literal(value, number=shortest_number)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


GREEK = frozenset(
    "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi pi rho sigma"
    " tau upsilon phi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi"
    " Omega".split())


def latex_name(identifier):
    """A bpdiff name in math mode: x -> x, x1 / x_1 -> x_{1}, w_in -> w_{\\mathit{in}},
    alpha -> \\alpha, loss -> \\mathit{loss}, other names \\mathit with `_` escaped (a
    name inf or nan too: the numbers are latex_number's)."""
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
    return f"\\mathit{{{_escaped(word)}}}"


def _escaped(identifier):
    return identifier.replace("_", "\\_")  # the one character of a name TeX treats as markup


def latex_number(formatted):
    """A number as bpdiff formats it, in math mode: '1.5e-7' -> 1.5 \\times 10^{-7},
    '-1/4' -> -\\frac{1}{4}, 'nan', 'inf', '≈0.5' (an --exact approximation), '—' (no
    gradient)."""
    formatted = formatted.strip()
    if formatted in ("—", ""):
        return "\\text{---}"
    if formatted.startswith("≈"):
        return "\\approx " + latex_number(formatted[1:])
    sign, body = ("-", formatted[1:]) if formatted.startswith("-") else ("", formatted)
    if body in ("nan", "inf"):
        return sign + ("\\mathrm{NaN}" if body == "nan" else "\\infty")
    fraction = re.fullmatch(r"([0-9]+)/([0-9]+)", body)
    if fraction:
        return f"{sign}\\frac{{{fraction[1]}}}{{{fraction[2]}}}"
    scientific = re.fullmatch(r"([0-9.]+)[eE]([-+]?)0*([0-9]+)", body)
    if scientific:
        mantissa, exp_sign, exponent = scientific.groups()
        exp_sign = "-" if exp_sign == "-" else ""
        return f"{sign}{mantissa} \\times 10^{{{exp_sign}{exponent}}}"
    return formatted


def latex_reference(reference):
    """How a node is referred to ('a', '#2', '3', 'out'), in math mode."""
    kind = ("ref" if reference.startswith("#") else
            "name" if reference[:1].isalpha() or reference[:1] == "_" else "num")
    return LATEX.leaf(Leaf(kind, reference)).rope


LABEL, SYMBOLIC, ECHO, LATEX = _Label(), _Symbolic(), _Echo(), _Latex()
"""The styles: node labels, symbolic formulas, the --parse reading, LaTeX math."""
