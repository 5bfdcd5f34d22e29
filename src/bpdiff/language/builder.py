"""The builder: called by the parser at each reduction of grammars/bpdiff.lark, it makes
graph nodes directly (no parse tree is built). One Builder per parse holds all of that
parse's state. User-defined functions are built by bpdiff.language.defs.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, NoReturn

from bpdiff.engine.graph import VAR, Graph
from bpdiff.engine.ops import BY_NAME, FUNCTIONS, bind
from bpdiff.errors import BpdiffError, BpdiffNameError, BpdiffSyntaxError, did_you_mean
from bpdiff.language import defs, notation, scanner

if TYPE_CHECKING:
    from bpdiff.engine.ops import Primitive
    from bpdiff.language.scanner import Token

KEYWORDS = {"def": "DEF", **dict.fromkeys(FUNCTIONS, "FUNC"),
            **dict.fromkeys(notation.SPELLINGS, "FUNC")}
"""The names with a token type of their own: `def`, and the functions (as the primitive
table names them, or as notes spell them)."""


def line_column(text: str, position: int) -> tuple[int, int]:
    """1-based (line, column) of a character offset in `text`."""
    line = text.count("\n", 0, position) + 1
    return line, position - (text.rfind("\n", 0, position) + 1) + 1


_MUL = BY_NAME["mul"]
_AUGMENTED = {"+=": "add", "-=": "sub", "*=": "mul", "/=": "div", "**=": "pow", "^=": "pow"}
_POW = BY_NAME["pow"]
_ID = BY_NAME["id"]


class _Slice:
    """A slice in a subscript, `1:3`, `::2`: which of start, stop, step are given
    (':110') and their nodes."""

    __slots__ = ("pattern", "nodes")

    def __init__(self, pattern: str, nodes: tuple[int, ...]) -> None:
        self.pattern, self.nodes = pattern, nodes


_LITERAL_NAMES = {"True": 1.0, "False": 0.0}  # keepdims=True


class _Keyword:
    """A keyword argument of a call, `axis=0`."""

    __slots__ = ("name", "node", "token")

    def __init__(self, name: str, node: int, token: scanner.Token) -> None:
        self.name, self.node, self.token = name, node, token


def _same_nesting(rows: list) -> bool:
    """Whether nested tuples all have one shape."""
    first = _nested_shape(rows[0])
    return all(_nested_shape(row) == first for row in rows[1:])


def _nested_shape(item: object) -> tuple[int, ...]:
    shape = []
    while type(item) is tuple:
        shape.append(len(item))
        item = item[0] if item else None
    return tuple(shape)


class Builder:
    """Called by the parser at each reduction (bpdiff.language.lalr's driver, or Lark's
    parser as its Transformer); returns node ids of `self.graph`. One builder parses one
    text: it holds all the state of that parse, so parses in several threads never meet.

    `patterns` are the grammar's compiled scanner patterns, `definitions` the user
    functions known before the text (from --lib files), `where` names a --lib file
    being read (then only definitions are allowed)."""

    def __init__(self, text: str, patterns: dict, share: bool = True,
                 definitions: dict[str, defs.Definition] | None = None,
                 where: str | None = None, constants: dict[str, float] | None = None,
                 splits: dict[str, list[str]] | None = None, free_t: bool = True) -> None:
        self.graph = Graph(share)
        self.source = text
        self.last: int | None = None  # node id of the last statement
        self.used_at: dict[str, int] = {}  # variable name -> offset of its first use
        self.initial_definitions = definitions or {}  # those known before the text
        self.definitions = dict(self.initial_definitions)  # name -> defs.Definition
        self.functions = {**KEYWORDS, **dict.fromkeys(self.definitions, "FUNC")}
        self.lexer = scanner.Scanner(patterns, self.functions)  # name -> DEF or FUNC
        self.defining: defs.Header | None = None  # the def whose body is being parsed
        self.outer: Graph | None = None  # the program's graph while a body is built
        self.numbers: dict[str, int] = {}  # function name -> its expansions in self.graph
        self.outer_numbers: dict[str, int] = {}  # the same for the program's graph then
        self.expanded = 0  # nodes expanded by calls of user functions
        self.where = where
        self.constants = constants or {}  # names read as constants, e and pi, when used
        self.splits = splits or {}  # names read as products of their letters, bc as b·c
        self.after = 0  # where the statement after the last definition may start
        self.versions: dict[str, int] = {}  # name -> its latest version (c += 1: c')
        self.free_t = free_t  # no value is given for T: x^T may be the transpose
        self.matrix_notation: set[int] = set()  # transposes written x^T, and the matrix
        # products of implicit products after them (x^T W x), see implicit_mul
        self.split_tails: dict[int, tuple[int, int]] = {}  # a name read as a product,
        # `abc` as a·b·c: its node -> (a·b, c), so that abc² is a·b·c²
        self.sequences: dict[int, tuple[int, ...]] = {}  # a tuple literal's node -> its
        # items (concat((a, b)) joins a and b)
        self.keywords_seen = False  # a keyword argument has been read: calls look for them

    def __default__(self, data: str, children: list, meta: object) -> object:
        if data[0] == "_":  # Lark's helper rules for repetition: expanded by their parent
            from lark import Tree

            return Tree(data, children)
        return self.graph.apply(BY_NAME[data], tuple(children))

    def number(self, children: list) -> int:
        return self.graph.constant(float(children[0].value))

    def fraction(self, children: list) -> int:
        return self.graph.constant(notation.FRACTIONS[children[0].value])

    def superscript(self, children: list) -> int:
        """`x²`, `x⁻¹`, `e⁻ˣ`: the base to the power the superscript writes."""
        base, token = children
        text = token.value.translate(notation.SUPERSCRIPT)
        sign, digits = ("-" if text[0] == "-" else ""), text.lstrip("+-")
        if digits.isdigit():
            exponent = self.graph.constant(float(sign + digits))
        elif digits.isalpha() and text.count("-") + text.count("+") <= 1:
            exponent = self.var([scanner.Token("NAME", digits, token.start_pos)])
            if sign:
                exponent = self.graph.apply(BY_NAME["neg"], (exponent,))
        else:
            raise self.error(BpdiffSyntaxError, f"cannot read the superscript {token.value!r}",
                             token, hint="write the power with ^, e.g. x^(-2)")
        return self.power(base, exponent)

    def power(self, base: int, exponent: int) -> int:
        """base ^ exponent; for a name read as a product of its letters, its last letter
        to the power: `ab²` is a·b², as notes mean it (see SplittingBuilder)."""
        tail = self.split_tails.get(base)
        if tail is None:
            return self.graph.apply(_POW, (base, exponent))
        head, last = tail
        return self.graph.apply(_MUL, (head, self.graph.apply(_POW, (last, exponent))))

    def ungrouped(self, node: int) -> int:
        """`node` in parentheses: a name read as a product is a plain product there, so
        that (ab)² is (a·b)²."""
        tail = self.split_tails.get(node)
        return node if tail is None else self.graph.apply(_MUL, tail)

    def sup_t(self, children: list) -> int:
        """`x^T`, `x**T`, `xᵀ`: the transpose x.T, as in matrix notation, unless T has a
        value (given, or assigned or used as an input before): then the power x^T, with
        a note saying which. A number to the T (2^T, e^T) is always a power."""
        base, token = children
        graph = self.graph
        if graph.ops[base] is _ID and graph.name_of.get(base) in self.constants:
            base = graph.inputs[base][0]  # e, pi: the number
        if type(graph.is_constant_literal(base)) is not float:
            transposed = self.free_t and "T" not in graph.names
            note = ("read '^T' as the transpose .T: T has no value (give --T or assign T"
                    " to make it a power)") if transposed else \
                "read '^T' as a power: T has a value (write x.T for the transpose)"
            if note not in graph.notes:
                graph.notes.append(note)
            if transposed:
                graph.tensor = True
                node = graph.apply_unshared(BY_NAME["transpose"], (base,))  # not x.T's node
                self.matrix_notation.add(node)
                return node
        exponent = self.var([scanner.Token("NAME", "T", token.start_pos)])
        return self.power(children[0], exponent)

    def var(self, children: list) -> int:
        token = children[0]
        name = token.value
        graph = self.graph
        node = graph.names.get(name)
        if node is None:
            if name in _LITERAL_NAMES:
                return graph.constant(_LITERAL_NAMES[name])
            if self.defining is not None or name in self.definitions:
                raise defs.misused_name(self, token)  # not a parameter, or f without (...)
            if name in self.splits:
                pieces = self.splits[name]
                graph.notes.append(f"read '{name}' as {'·'.join(pieces)}: it has no value and"
                                   f" its letters do (give --{name} to keep it a name)")
                factors = [self.var([scanner.Token("NAME", piece, token.start_pos)])
                           for piece in pieces]
                head = factors[0]
                for factor in factors[1:-1]:
                    head = graph.apply(_MUL, (head, factor))
                node = graph.apply_unshared(_MUL, (head, factors[-1]))  # (b·c)² is not bc²
                self.split_tails[node] = (head, factors[-1])
                graph.names[name] = node  # a later use is the same product, noted once
                return node
            if name in self.constants:
                value = self.constants[name]
                graph.notes.append(f"read '{name}' as the constant {value:.6g}; give --{name}"
                                   " (or assign it) to make it an input")
                return graph.name_node(name, graph.constant(value))
            node = graph.variable(name)
            self.used_at[name] = token.start_pos
        return node

    def call(self, children: list) -> int:
        token, *args = children
        op = notation.CALLABLE.get(token.value)
        if op is None or token.value in self.definitions:
            return defs.call(self, token, self._by_parameter(token, args))
        if not op.called_as_is or self.keywords_seen:  # else the common case: as it is
            op, args = self._settled(op, token, args)
        if op.vjps is not None:
            self.graph.tensor = True
        if len(args) != op.arity:
            count = "1 argument" if op.arity == 1 else f"{op.arity} arguments"
            raise self.error(BpdiffSyntaxError, f"{token.value}() takes {count}, got {len(args)}",
                             token)
        return self.graph.apply(op, tuple(args))

    def _settled(self, op: Primitive, token: Token, args: list) -> tuple[Primitive, list]:
        """The op a call means and its arguments, read from keywords, one argument
        (max(x)) and reshape's shape."""
        keywords = [arg for arg in args if type(arg) is _Keyword]
        if keywords:
            args = [arg for arg in args if type(arg) is not _Keyword]
        if op.one_argument is not None and len(args) == 1:
            op = BY_NAME[op.one_argument]  # max(x): the largest element
        if op.name == "reshape" and len(args) > 2:  # x.reshape(2, 3): the shape (2, 3)
            args = [args[0], self._packed(args[1:])]
        if op.keywords is not None:
            return self._family(op, token, args, keywords)
        if keywords:
            raise self.error(BpdiffSyntaxError, f"{token.value}() takes no keyword"
                             " arguments", keywords[0].token)
        return op, args

    def _family(self, op: Primitive, token: Token, args: list,
                keywords: list[_Keyword]) -> tuple[Primitive, list]:
        """The op of a family (sum, concat, ...) for a call's settings, given as keywords
        or positionally after the inputs, and the call's inputs: `concat((a, b), 1)`
        joins a and b."""
        names = [name for name, _ in op.keywords or ()]
        if op.variadic and args:  # the parts as one tuple, then the settings
            inputs, positional = list(self.sequences.get(args[0], (args[0],))), args[1:]
        else:
            inputs, positional = args[:op.arity], args[op.arity:]
        if len(positional) > len(names):
            takes = "the arrays as one tuple" if op.variadic else \
                f"{op.arity} input{'s' * (op.arity != 1)}"
            raise self.error(BpdiffSyntaxError, f"{token.value}() takes {takes} and the"
                             f" settings {', '.join(names)}", token,
                             hint=f"e.g. {token.value}((a, b), axis=0)" if op.variadic else None)
        keywords = [*[_Keyword(name, node, token) for name, node in zip(names, positional)],
                    *keywords]
        if keywords or op.variadic:
            op = bind(op, len(inputs), self._settings(op, token, keywords))
        return op, inputs

    def _settings(self, op: Primitive, token: Token,
                  keywords: list[_Keyword]) -> tuple[tuple[str, object], ...]:
        """A family's settings from keyword arguments: integer literals (a tuple of them
        for axis), True/False for keepdims; the defaults for the others."""
        settings = dict(op.keywords or ())
        given: set[str] = set()
        for keyword in keywords:
            if keyword.name not in settings or keyword.name == "pattern":
                names = ", ".join(name for name in settings if name != "pattern") or "none"
                raise self.error(BpdiffSyntaxError, f"{token.value}() has no setting"
                                 f" '{keyword.name}' (settings: {names})", keyword.token)
            if keyword.name in given:
                raise self.error(BpdiffSyntaxError, f"{token.value}() gets '{keyword.name}'"
                                 " twice", keyword.token)
            given.add(keyword.name)
            settings[keyword.name] = self._literal(keyword)
        return tuple(settings.items())

    def _literal(self, keyword: _Keyword) -> object:
        value = self.graph.is_constant_literal(keyword.node)
        items = value if type(value) is tuple else (value,)
        if value is None or not all(type(k) is float and k.is_integer() for k in items):
            raise self.error(BpdiffSyntaxError, f"{keyword.name}= takes an integer written"
                             " out (or a tuple of them, or True/False)", keyword.token,
                             hint=f"e.g. {keyword.name}=1")
        if keyword.name == "keepdims":
            return bool(value)
        if type(value) is tuple:
            return tuple(int(k) for k in value)
        return int(value)  # type: ignore[arg-type]  # a float, checked above

    def _packed(self, nodes: list[int]) -> int:
        """Several values as one vector (a tuple literal): a constant when all are
        numbers, else stacked."""
        graph = self.graph
        items = [graph.is_constant_literal(node) for node in nodes]
        if all(type(item) is float for item in items):
            graph.tensor = True
            return graph.constant(tuple(items))
        graph.tensor = True
        node = graph.apply(bind(BY_NAME["stack"], len(nodes), (("axis", 0),),
                                "(" + ", ".join(f"{{{k}}}" for k in range(len(nodes)))
                                + ("," if len(nodes) == 1 else "") + ")"), tuple(nodes))
        self.sequences[node] = tuple(nodes)
        return node

    def packed(self, children: list) -> int:
        """`(2, 3)`, `(a, b)`: a vector of the items (a shape, or the parts of concat)."""
        return self._packed(children)

    def _by_parameter(self, token: Token, args: list) -> tuple[int, ...]:
        """The arguments of a call of a user function in the order of its parameters:
        `f(y=2, x=3)` as Python reads it (keywords after the positional ones)."""
        keywords = [arg for arg in args if type(arg) is _Keyword]
        if not keywords:
            return tuple(args)
        definition = self.definitions.get(token.value)
        positional = args[:len(args) - len(keywords)]
        if definition is None or any(type(arg) is _Keyword for arg in positional):
            where = keywords[0].token if definition is None else next(
                arg.token for arg in positional if type(arg) is _Keyword)
            raise self.error(BpdiffSyntaxError, "a keyword argument must come after the"
                             " positional ones", where,
                             hint=f"write {token.value}(a, b) or {token.value}(x=a, y=b)")
        params = definition.params
        slots: list[int | None] = [*positional, *[None] * (len(params) - len(positional))]
        for keyword in keywords:
            if keyword.name not in params:
                raise self.error(BpdiffNameError, f"{definition.signature()} has no parameter"
                                 f" '{keyword.name}'{did_you_mean(keyword.name, params)}",
                                 keyword.token)
            place = params.index(keyword.name)
            if place < len(slots) and slots[place] is not None:
                raise self.error(BpdiffSyntaxError, f"{token.value}() gets '{keyword.name}'"
                                 " twice", keyword.token)
            slots[place] = keyword.node
        missing = [p for p, node in zip(params, slots) if node is None]
        if missing or len(slots) > len(params):
            count = len(params)
            raise self.error(BpdiffSyntaxError, f"{definition.signature()} takes {count}"
                             f" argument{'s' * (count != 1)}"
                             + (f"; '{missing[0]}' is missing" if missing else ""), token)
        return tuple(node for node in slots if node is not None)

    def keyword(self, children: list) -> _Keyword:
        token, node = children
        self.keywords_seen = True
        return _Keyword(token.value, node, token)

    def _tensor_op(self, name: str, children: list) -> int:
        self.graph.tensor = True
        return self.graph.apply(BY_NAME[name], tuple(children))

    def implicit_mul(self, children: list) -> int:
        """`2b`, `c(a + b)`, `W x`: a product, elementwise on arrays; but after a
        transpose written x^T (x^T x, 2 x^T W x, W^T d) the matrix product, as in the
        notes' matrix notation."""
        self._no_function_without_parentheses(*children)
        if self.matrix_notation and self._in_matrix_notation(children[0]):
            note = ("read an implicit product after a transpose written ^T as the matrix"
                    " product @ (write * for an elementwise one)")
            if note not in self.graph.notes:
                self.graph.notes.append(note)
            node = self._tensor_op("matmul", children)
            self.matrix_notation.add(node)
            return node
        node = self.graph.apply(_MUL, tuple(children))
        self.graph.implicit.add(node)  # W x on arrays is elementwise: the CLI warns
        return node

    def _in_matrix_notation(self, node: int) -> bool:
        """Whether `node` ends in a transpose written x^T: is one, or a product whose
        last factor is (2 x^T), or a matrix product made after one (x^T W)."""
        graph = self.graph
        while node not in self.matrix_notation and graph.ops[node] is _MUL:
            node = graph.inputs[node][1]
        return node in self.matrix_notation

    def _no_function_without_parentheses(self, left: int, right: int) -> None:
        """`sin x` and `sin^2(x)` are not products of an input `sin`: they are calls
        written without the parentheses the language needs."""
        graph = self.graph
        power = None
        while left in graph.implicit:  # `2 sin x`: the factor just before x
            left = graph.inputs[left][1]
        if graph.ops[left] is _POW:
            left, exponent = graph.inputs[left]
            power = graph.is_constant_literal(exponent)
            if power is None or type(power) is tuple:
                return
        if graph.ops[left] is not VAR:
            return
        name = graph.payload[left]
        if FUNCTIONS.get(name) is None or FUNCTIONS[name].arity != 1 \
                or name not in self.used_at:
            return
        argument = graph.payload[right] if graph.ops[right] is VAR else "x"
        written = f"{name}({argument})" + ("" if power is None else f"^{power:g}")
        line, column = line_column(self.source, self.used_at[name])
        raise BpdiffSyntaxError(f"'{name}' is a function: its argument goes in parentheses",
                                self.source, line, column, hint=f"write {written}",
                                where=self.where)

    def matmul(self, children: list) -> int:
        return self._tensor_op("matmul", children)

    def transpose(self, children: list) -> int:
        return self._tensor_op("transpose", children)

    def shape(self, children: list) -> int:
        return self._tensor_op("shape", children)

    def slice(self, children: list) -> _Slice:
        """`1:3`, `:`, `::2`: which bounds are given, and their nodes."""
        given, nodes, place = [False, False, False], [], 0
        for child in children:
            if type(child) is int:
                given[place] = True
                nodes.append(child)
            else:  # a COLON
                place += 1
        return _Slice(":" + "".join("1" if g else "0" for g in given), tuple(nodes))

    def subscript(self, children: list) -> int:
        """`x[i]`, `W[i, j]` (index, index2), and with slices or `...` (getitem)."""
        receiver, *items = children
        if all(type(item) is int for item in items) and len(items) <= 2:
            return self._tensor_op("index" if len(items) == 1 else "index2",
                                   [receiver, *items])
        pattern, nodes, texts = [], [], []
        for item in items:
            if type(item) is int:
                pattern.append("i")
                nodes.append(item)
                texts.append(f"{{{len(nodes)}}}")
            elif type(item) is _Slice:
                pattern.append(item.pattern)
                bounds = iter(range(len(nodes) + 1, len(nodes) + 1 + len(item.nodes)))
                nodes.extend(item.nodes)
                text = ":".join(f"{{{next(bounds)}}}" if g == "1" else ""
                                for g in item.pattern[1:])
                texts.append(text[:-1] if item.pattern[3] == "0" else text)
            else:  # the ELLIPSIS
                pattern.append("...")
                texts.append("...")
        op = bind(BY_NAME["getitem"], 1 + len(nodes), (("pattern", tuple(pattern)),),
                  "{0}[" + ", ".join(texts) + "]")
        return self._tensor_op_of(op, [receiver, *nodes])

    def _tensor_op_of(self, op: Primitive, children: list) -> int:
        self.graph.tensor = True
        return self.graph.apply(op, tuple(children))

    def method(self, children: list) -> int:
        """`x.relu()`, `(2*n).exp()`, `x.mean(axis=0)`: the function called with the
        receiver as its first argument."""
        receiver, token, *args = children
        name = token.value[1:].rstrip(" \t(")
        if name not in notation.CALLABLE:
            raise self.error(BpdiffNameError, f"'.{name}()' is not a function bpdiff knows",
                             token, hint="write it as a call of a known function, e.g."
                             " x.relu() or relu(x); functions: see bpdiff --help")
        called = scanner.Token("FUNC", name, token.start_pos + 1)
        return self.call([called, receiver, *args])

    def bracket_call(self, children: list) -> int:
        """`exp[-(w0 x0 + w2)]`: square brackets as the notes' grouping, a call."""
        return self.call(children)

    def array(self, children: list) -> int:
        graph = self.graph
        items = [graph.is_constant_literal(node) for node in children]
        if len(items) == 1 and items[0] is None:  # `[a + b] c`: the notes' grouping
            return self.ungrouped(children[0])
        graph.tensor = True
        if any(item is None for item in items):  # [a, b]: stacked, as np.array([a, b])
            return self._packed(children)
        kinds = {type(item) for item in items}
        shapes = {len(item) if type(item) is tuple else None for item in items}
        if len(kinds) > 1 or len(shapes) > 1 or (tuple in kinds and not _same_nesting(items)):
            raise BpdiffSyntaxError(
                "the rows of an array literal must have the same length and nesting",
                self.source, *line_column(self.source, self.lexer_offset()))
        return graph.constant(tuple(items))

    def lexer_offset(self) -> int:
        """Where the parser is in the source (for errors found at a reduction)."""
        return self.lexer.offset

    def assign(self, children: list) -> int:
        token, node = children
        name = token.value
        graph = self.graph
        if self.where is not None:
            self._only_definitions(token.start_pos)
        if name in self.definitions:
            raise defs.misused_name(self, token, assigned=True)
        if name in graph.names:  # assigned again, as in Python: a new version of it
            current = graph.names[name]
            if graph.ops[current] is VAR and name not in graph.defaults \
                    and not graph.depends_on(node)[current]:  # x = x + 1 is a new x
                line, column = line_column(self.source, self.used_at[name])
                raise self.error(
                    BpdiffNameError,
                    f"'{name}' is assigned here but used before, at line {line}, column {column}",
                    token, hint="define a name before the statements that use it")
            return self._new_version(token, node)
        literal = None if node in graph.call_of else graph.is_constant_literal(node)
        if literal is not None:  # `a = 7` declares an input with a default value
            node = graph.variable(name)
            graph.defaults[name] = literal
            self.used_at[name] = token.start_pos
        else:
            node = graph.name_node(name, node)
        self.last = node
        return node

    def augassign(self, children: list) -> int:
        """`c += c + 1`, `d *= 2`: a new version of the name, as in Python."""
        token, operator, node = children
        current = self.graph.names.get(token.value)
        if current is None:
            raise self.error(BpdiffNameError, f"'{token.value}' has no value yet for"
                             f" {operator.value}", token,
                             hint=f"assign it first: {token.value} = ...")
        op = BY_NAME[_AUGMENTED[operator.value]]
        return self._new_version(token, self.graph.apply(op, (current, node)))

    def _new_version(self, token: Token, node: int) -> int:
        """Node `node` as the next version of the name `token` assigns: shown as c', c''
        (the first is c), while the name alone means the latest version."""
        graph, base = self.graph, token.value
        if self.where is not None:
            self._only_definitions(token.start_pos)
        if base in self.definitions:
            raise defs.misused_name(self, token, assigned=True)
        first = graph.names[base]
        if first not in graph.versions and graph.name_of.get(first) == base:
            graph.versions[first] = (base, 0)
        version = self.versions[base] = self.versions.get(base, 0) + 1
        node = graph.name_node(base + "'" * version, node)
        graph.names[base] = node
        graph.versions[node] = (base, version)
        self.last = node
        return node

    def head(self, children: list) -> list:
        """`f(x, y)` before `=`: its tokens, the name's first."""
        return children

    def define_output(self, children: list) -> int:
        """`f(x, y) = body` (or `z = f(x, y) = body`): the body named f (and z), whose
        inputs must be exactly the names listed."""
        *names, head, body = children
        token, *params = head
        listed: dict[str, Token] = {}
        for param in params:
            if param.value in listed:
                raise self.error(BpdiffNameError, f"'{param.value}' is listed twice in"
                                 f" {token.value}(...)", param)
            listed[param.value] = param
        graph = self.graph
        needed = graph.depends_on(body)
        used = [name for name, node in graph.variables.items() if needed[node]]
        for name in used:
            if name not in listed:
                raise self.error(BpdiffNameError, f"'{name}' is used by {token.value} but not"
                                 f" listed in {token.value}({', '.join(listed)})", token,
                                 hint=f"list it: {token.value}({', '.join([*listed, name])})")
        for name, param in listed.items():
            if name not in used:
                raise self.error(BpdiffNameError, f"{token.value} does not use '{name}'", param,
                                 hint=f"drop it from {token.value}(...), or use it")
        node = self.assign([token, body])
        for name_token in names:
            node = self.assign([name_token, node])
        return node

    def def_head(self, children: list) -> defs.Header:
        _, token, *params = children
        header, body = defs.open_definition(self, token, params)
        self.outer, self.graph, self.defining = self.graph, body, header
        self.outer_numbers, self.numbers = self.numbers, {}
        return header

    def define(self, children: list) -> None:
        header, result = children
        self.definitions[header.name] = defs.close_definition(header, self.graph, result,
                                                              self.where)
        assert self.outer is not None  # a body is being built
        self.graph, self.outer, self.defining = self.outer, None, None
        self.numbers = self.outer_numbers
        self.after = self.lexer.offset
        return None

    def position(self, offset: int) -> tuple[int, int]:
        """(line, column) of a character offset in the text being parsed."""
        return line_column(self.source, offset)

    def error(self, kind: type[BpdiffError], message: str, token: Token,
              hint: str | None = None) -> BpdiffError:
        """The error `kind` pointing at `token` (which must have its own position)."""
        line, column = line_column(self.source, token.start_pos)
        return kind(message, self.source, line, column, hint=hint, where=self.where)

    def _only_definitions(self, start: int | None) -> NoReturn:
        if start is None:  # _BLANK matches anywhere, if only the empty string
            start = _BLANK.match(self.source, self.after).end()  # type: ignore[union-attr]
        line, column = line_column(self.source, start)
        raise BpdiffSyntaxError("a library holds only definitions (def name(x) = ...),"
                                " comments and blank lines", self.source, line, column,
                                where=self.where)

    def expression(self, children: list) -> int:
        if self.where is not None:
            self._only_definitions(None)
        node: int = children[0]
        self.last = node
        return node

    def start(self, children: list) -> None:
        return None


_BLANK = re.compile(r"(?:[ \t\f\r;\n]|#[^\n]*|\\\r?\n)*")


class SplittingBuilder(Builder):
    """The Builder of a parse that reads names as products of their letters (`bc` as b·c;
    bpdiff.api.split_names): its `pow` sees that `ab^2` raises b only, and `grouped`
    that `(ab)^2` raises the product. Its own tables (grammar.splitting) call them at `^`
    and at parentheses, which the plain Builder's tables leave to the primitive table's
    pow and pass through, so that other parses pay nothing for them."""

    def pow(self, children: list) -> int:
        base, exponent = children
        return self.power(base, exponent)

    def grouped(self, children: list) -> int:
        """`(sum)`: see ungrouped (the plain Builder's tables pass the value through)."""
        return self.ungrouped(children[0])
