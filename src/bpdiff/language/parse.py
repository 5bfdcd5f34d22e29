"""Text -> Graph: bpdiff's LALR parse of grammars/bpdiff.lark, with a builder that
makes graph nodes at each reduction (no parse tree is built), and syntax errors
rendered with a caret.

Lark analyses the grammar; bpdiff.language.lalr caches its tables and runs them, so that a run
imports Lark only when its input has a syntax error: then Lark's own parser, with this
module's lexer and builder, parses again and its error says what was expected. Names the
primitive table knows as functions, and those a `def` introduces, are tagged FUNC by the
lexer when a `(` follows, so the grammar itself needs no list of functions. User-defined
functions are built by bpdiff.language.defs.
"""

import functools
import os
import re
from typing import NamedTuple

from bpdiff.version import __version__
from bpdiff.language import defs, lalr, scanner
from bpdiff.errors import BpdiffError, BpdiffNameError, BpdiffSyntaxError, did_you_mean
from bpdiff.engine.graph import VAR, Graph
from bpdiff.engine.ops import BY_NAME, FUNCTIONS

# Characters from lecture notes that bpdiff writes differently.
_CHARACTER_HINTS = {
    "σ": "write sigmoid(x) for σ(x)", "{": "use ( ) for grouping", "}": "use ( ) for grouping",
    "‖": "write the norm out, e.g. x^2",
    "²": "write x^2 for x²", "³": "write x^3 for x³", ".": "a number needs a digit: .5 or 0.5",
}

# How terminals are named in "expected ..." messages.
_TERMINAL_NAMES = {
    "NUMBER": "a number", "NAME": "a name", "FUNC": "a function", "LPAR": "'('",
    "RPAR": "')'", "PLUS": "'+'", "_MINUS": "'-'", "_TIMES": "'*'", "_DIVIDE": "'/'",
    "_POW": "'^'", "EQUAL": "'='", "COMMA": "','", "_SEP": "';' or a new line",
    "LSQB": "'['", "RSQB": "']'", "AT": "'@'", "_DOT_T": "'.T'",
    "$END": "the end of the input", "DEF": "'def'",
}

# The lexer's names with a token type of their own: `def`, and the functions.
_KEYWORDS = {"def": "DEF", **dict.fromkeys(FUNCTIONS, "FUNC")}


def grammar_path():
    """The grammar shipped in the package, else the repository's (editable installs)."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    packaged = os.path.join(package, "grammars", "bpdiff.lark")
    if os.path.exists(packaged):
        return packaged
    return os.path.join(package, os.pardir, os.pardir, "grammars", "bpdiff.lark")


_MUL = BY_NAME["mul"]


class _Keyword(NamedTuple):
    """A keyword argument of a call, `axis=0`."""

    name: str
    node: int
    token: scanner.Token


def _same_nesting(rows):
    """Whether nested tuples all have one shape."""
    first = _nested_shape(rows[0])
    return all(_nested_shape(row) == first for row in rows[1:])


def _nested_shape(item):
    shape = []
    while type(item) is tuple:
        shape.append(len(item))
        item = item[0] if item else None
    return tuple(shape)


def line_column(text, position):
    """1-based (line, column) of a character offset in `text`."""
    line = text.count("\n", 0, position) + 1
    return line, position - (text.rfind("\n", 0, position) + 1) + 1


class _Builder:
    """Called by the parser at each reduction (bpdiff.language.lalr's, or Lark's after a syntax
    error, as its Transformer); returns node ids of `self.graph`."""

    def __init__(self):
        self.graph = None
        self.source = ""
        self.last = None  # node id of the last statement
        self.used_at = {}  # variable name -> offset of its first use
        self.lexer = None
        self.functions = _KEYWORDS  # the lexer's: name -> DEF or FUNC
        self.definitions = {}  # user function name -> defs.Definition
        self.defining = None  # the defs.Header whose body is being parsed, if any
        self.outer = None  # the program's graph while a body is built in its own
        self.numbers = {}  # function name -> how often it was expanded in self.graph
        self.outer_numbers = {}  # the same for the program's graph while a body is built
        self.expanded = 0  # nodes expanded by calls of user functions
        self.where = None  # the --lib file being read: only definitions allowed
        self.after = 0  # where the statement after the last definition may start

    def __default__(self, data, children, meta):
        if data[0] == "_":  # Lark's helper rules for repetition: expanded by their parent
            from lark import Tree

            return Tree(data, children)
        return self.graph.apply(BY_NAME[data], tuple(children))

    def number(self, children):
        return self.graph.constant(float(children[0].value))

    def var(self, children):
        token = children[0]
        name = token.value
        graph = self.graph
        node = graph.names.get(name)
        if node is None:
            if self.defining is not None or name in self.definitions:
                raise defs.misused_name(self, token)  # not a parameter, or f without (...)
            node = graph.variable(name)
            self.used_at[name] = token.start_pos
        return node

    def call(self, children):
        token, *args = children
        op = FUNCTIONS.get(token.value)
        if op is None:
            return defs.call(self, token, tuple(args))
        keywords = [arg for arg in args if type(arg) is _Keyword]
        if keywords:
            args = [arg for arg in args if type(arg) is not _Keyword]
            op = self._with_keywords(op, token, keywords)
            args.extend(keyword.node for keyword in keywords)
        if op.vjps is not None:
            self.graph.tensor = True
        if len(args) != op.arity:
            count = "1 argument" if op.arity == 1 else f"{op.arity} arguments"
            raise self.error(BpdiffSyntaxError, f"{token.value}() takes {count}, got {len(args)}",
                             token)
        return self.graph.apply(op, tuple(args))

    def _with_keywords(self, op, token, keywords):
        keyword = keywords[0]
        if keyword.name != "axis" or len(keywords) > 1 or op.with_axis is None:
            takes = "takes no keyword arguments" if op.with_axis is None else \
                "takes one keyword argument, axis"
            raise self.error(BpdiffSyntaxError, f"{token.value}() {takes}", keyword.token)
        return BY_NAME[op.with_axis]

    def keyword(self, children):
        token, node = children
        return _Keyword(token.value, node, token)

    def _tensor_op(self, name, children):
        self.graph.tensor = True
        return self.graph.apply(BY_NAME[name], tuple(children))

    def implicit_mul(self, children):
        node = self.graph.apply(_MUL, tuple(children))
        self.graph.implicit.add(node)  # W x on arrays is elementwise: the CLI warns
        return node

    def matmul(self, children):
        return self._tensor_op("matmul", children)

    def transpose(self, children):
        return self._tensor_op("transpose", children)

    def index(self, children):
        return self._tensor_op("index", children)

    def index2(self, children):
        return self._tensor_op("index2", children)

    def array(self, children):
        graph = self.graph
        graph.tensor = True
        items = [graph.is_constant_literal(node) for node in children]
        if any(item is None for item in items):
            raise BpdiffSyntaxError(
                "an array literal holds numbers only, e.g. [1, -2] or [[1, 2], [3, 4]]",
                self.source, *line_column(self.source, self.lexer_offset()),
                hint="give computed entries as inputs or combine arrays with + and *")
        kinds = {type(item) for item in items}
        shapes = {len(item) if type(item) is tuple else None for item in items}
        if len(kinds) > 1 or len(shapes) > 1 or (tuple in kinds and not _same_nesting(items)):
            raise BpdiffSyntaxError(
                "the rows of an array literal must have the same length and nesting",
                self.source, *line_column(self.source, self.lexer_offset()))
        return graph.constant(tuple(items))

    def lexer_offset(self):
        """Where the parser is in the source (for errors found at a reduction)."""
        return self.lexer.offset

    def assign(self, children):
        token, node = children
        name = token.value
        graph = self.graph
        if self.where is not None:
            self._only_definitions(token.start_pos)
        if name in self.definitions:
            raise defs.misused_name(self, token, assigned=True)
        if name in graph.names:
            if graph.ops[graph.names[name]] is VAR and name not in graph.defaults:
                line, column = line_column(self.source, self.used_at[name])
                raise self.error(
                    BpdiffNameError,
                    f"'{name}' is assigned here but used before, at line {line}, column {column}",
                    token, hint="define a name before the statements that use it")
            raise self.error(BpdiffNameError,
                             f"'{name}' is already defined; each name is assigned once", token)
        literal = None if node in graph.call_of else graph.is_constant_literal(node)
        if literal is not None:  # `a = 7` declares an input with a default value
            node = graph.variable(name)
            graph.defaults[name] = literal
            self.used_at[name] = token.start_pos
        else:
            node = graph.name_node(name, node)
        self.last = node
        return node

    def def_head(self, children):
        _, token, *params = children
        header, body = defs.open_definition(self, token, params)
        self.outer, self.graph, self.defining = self.graph, body, header
        self.outer_numbers, self.numbers = self.numbers, {}
        return header

    def define(self, children):
        header, result = children
        self.definitions[header.name] = defs.close_definition(header, self.graph, result,
                                                              self.where)
        self.graph, self.outer, self.defining = self.outer, None, None
        self.numbers = self.outer_numbers
        self.after = self.lexer.offset
        return None

    def position(self, offset):
        """(line, column) of a character offset in the text being parsed."""
        return line_column(self.source, offset)

    def error(self, kind, message, token, hint=None):
        """The error `kind` pointing at `token` (which must have its own position)."""
        line, column = line_column(self.source, token.start_pos)
        return kind(message, self.source, line, column, hint=hint, where=self.where)

    def _only_definitions(self, start):
        start = _BLANK.match(self.source, self.after).end() if start is None else start
        line, column = line_column(self.source, start)
        raise BpdiffSyntaxError("a library holds only definitions (def name(x) = ...),"
                                " comments and blank lines", self.source, line, column,
                                where=self.where)

    def expression(self, children):
        if self.where is not None:
            self._only_definitions(None)
        self.last = children[0]
        return self.last

    def start(self, children):
        return None


_BLANK = re.compile(r"(?:[ \t\f\r;\n]|#[^\n]*|\\\r?\n)*")


@functools.cache
def shared_builder():
    """The one builder (bpdiff.language.lark_parser's Transformer too)."""
    return _Builder()


def _analyse():
    """What bpdiff.language.lalr and bpdiff.language.scanner need of the grammar, from Lark's parser."""
    data = lalr.analyse(_lark())
    data["scanner"] = scanner.patterns(data["terminals"], data["ignore"])
    return data


def _lark():
    """Lark's own parser (imported only now: a valid program's run never needs it)."""
    from bpdiff.language.lark_parser import parser

    return parser()


@functools.cache
def _parser():
    """(tables, builder): the analysed grammar bound to the one builder, whose `lexer`
    is the scanner of the grammar's terminals."""
    builder = shared_builder()
    with open(grammar_path(), encoding="utf-8") as grammar:
        text = grammar.read()
    data = lalr.cached(text, __version__, _analyse)
    try:
        return _bind(data, builder)
    except (KeyError, TypeError, ValueError, IndexError, re.error):  # a damaged cache
        return _bind(dict(_analyse(), grammar=text, format=lalr.FORMAT), builder)


def _bind(data, builder):
    """(tables, builder) from the analysed grammar `data`."""
    builder.lexer = scanner.Scanner(data["scanner"], _KEYWORDS)
    return lalr.Tables(data, builder, BY_NAME), builder


def _run(text, share, definitions, where=None):
    """Parse `text`, the user functions `definitions` known: the graph built (with every
    definition, old and new, in graph.definitions) and the last statement's node.
    `where` names a --lib file: then only definitions are allowed.

    bpdiff.language.lalr's driver parses; at a syntax error Lark's parser parses again from the
    start, for its error (what was expected, the parser's state). At another error, a
    program scanned by bpdiff.language.scanner's tokens() is scanned and parsed again by lex(),
    whose tokens all have their own positions."""
    tables, builder = _parser()
    try:
        graph = _start(builder, text, share, definitions, where)
        tokens = builder.lexer.tokens(text)
        try:
            lalr.drive(tables, tokens, builder)
        except lalr.Stuck:
            graph = _start(builder, text, share, definitions, where)
            _parse_statements(text, where)
        except BpdiffError:
            if not isinstance(tokens, list):
                raise
            graph = _start(builder, text, share, definitions, where)  # for the error's
            lalr.drive(tables, builder.lexer.lex(text), builder)  # position: see scanner
    except scanner.UnexpectedCharacter as error:
        raise _character_error(text, error.position, where) from None
    finally:
        builder.graph = builder.outer = None
    graph.definitions = builder.definitions
    return graph, builder.last


def _start(builder, text, share, definitions, where):
    """Ready `builder` for a parse of `text`; the graph it will build."""
    graph = builder.graph = Graph(share)
    builder.source = text
    builder.last = None
    builder.used_at = {}
    builder.definitions = dict(definitions)
    builder.functions = builder.lexer.functions = (
        {**_KEYWORDS, **dict.fromkeys(definitions, "FUNC")} if definitions else dict(_KEYWORDS))
    builder.defining = builder.outer = None
    builder.numbers = {}
    builder.expanded = builder.after = 0
    builder.where = where
    return graph


def parse_library(text, where, definitions=None, share=True):
    """The definitions of library file `where` (its text), added to `definitions`.
    Errors name the file; a statement other than `def` is one."""
    return _run(text, share, definitions or {}, where)[0].definitions


def parse(text, share=True, output=None, lib=(), prune=True):
    """Parse program `text` into a Graph holding only what the output depends on
    (every statement with `prune=False`, as --parse shows them).

    The output is the last statement, or the name `output`; `lib` names --lib files
    (a path or several) whose functions the program may call. Raises BpdiffSyntaxError
    or BpdiffNameError with the position of the problem.
    """
    definitions = defs.load_library(lib, share) if lib else {}
    builder = shared_builder()
    graph, last = _run(text, share, definitions)
    if output is not None:
        if output not in graph.names:
            raise BpdiffNameError(f"--output {output}: no such name in the program"
                                  + did_you_mean(output, graph.names))
        target = graph.names[output]
    elif last is None:
        raise BpdiffSyntaxError("the program is empty: write an expression such as (a+b)*b^3")
    else:
        target = last
    graph.positions = {name: line_column(text, offset) for name, offset in builder.used_at.items()}
    if not prune:
        graph.output = target
        return graph
    return graph.pruned(target)


def _parse_statements(text, where=None):
    """Parse with Lark, for the syntax error it raises."""
    from lark.exceptions import UnexpectedInput, UnexpectedToken

    try:
        _lark().parse(text)
    except UnexpectedInput as error:
        function = _function_before(error)
        if function is not None:
            assigned = isinstance(error, UnexpectedToken) and error.token.type == "EQUAL"
            raise defs.misused_name(shared_builder(), function, assigned) from None
        raise _syntax_error(error, text, where) from None


def _function_before(error):
    """The FUNC token the parser took just before a syntax error, if any and not the
    name of a `def`: then that function's name is not followed by `(`, as the grammar
    wants everywhere."""
    interactive = getattr(error, "interactive_parser", None)
    stack = interactive.parser_state.value_stack if interactive is not None else ()
    if not stack or getattr(stack[-1], "type", None) != "FUNC":
        return None
    if len(stack) > 1 and getattr(stack[-2], "type", None) == "DEF":
        return None
    return stack[-1]


def _syntax_error(error, text, where=None):
    """A BpdiffSyntaxError from Lark's UnexpectedToken or UnexpectedEOF."""
    from lark.exceptions import UnexpectedEOF

    at_end = isinstance(error, UnexpectedEOF) or error.token.type == "$END"
    if at_end:
        message = "unexpected end of input"
        line, column = _end_position(text)
    else:
        token = error.token
        shown = "end of line" if token.type == "_SEP" and token.value != ";" else repr(token.value)
        message = f"unexpected {shown}"
        line, column = line_column(text, shared_builder().lexer.offset)
    expected = getattr(error, "expected", None) or ()
    if set(expected) == {"FUNC"}:  # only after `def`
        expected = ["the new function's name"]
    elif set(expected) == {"LPAR"}:  # only after `def f`
        expected = ["'(' and the parameters, as in def f(x) = ..."]
    expected = sorted({_TERMINAL_NAMES.get(t, t) for t in expected})
    hint = f"expected {_join_or(expected)}" if expected else None
    if not at_end and error.token.type == "DEF":
        hint = "'def' starts a definition, def f(x) = ..., and is not a name"
    return BpdiffSyntaxError(message, text, line, column, hint=hint, where=where)


def _character_error(text, position, where=None):
    """The error for a character no token starts with."""
    char = text[position]
    message = f"unexpected character {char!r}"
    if char in _CHARACTER_HINTS:
        message += f" ({_CHARACTER_HINTS[char]})"
    return BpdiffSyntaxError(message, text, *line_column(text, position), where=where)


def _end_position(text):
    lines = text.split("\n")
    return len(lines), len(lines[-1]) + 1


def _join_or(items):
    if len(items) <= 2:
        return " or ".join(items)
    return ", ".join(items[:-1]) + " or " + items[-1]
