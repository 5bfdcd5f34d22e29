"""Text -> Graph: bpdiff.language.lalr's driver runs the analysed grammar
(bpdiff.language.grammar) over the scanner's tokens, and a Builder made for the one
parse makes graph nodes at each reduction (no parse tree is built). Syntax errors are
rendered with a caret and what was expected. Names the primitive table knows as
functions, and those a `def` introduces, are tagged FUNC by the scanner when a `(`
follows, so the grammar itself needs no list of functions.

Nothing here is shared between parses: each has its own Builder and Scanner, and the
Tables are never changed, so the parser may run in several threads at once.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from bpdiff.errors import BpdiffError, BpdiffNameError, BpdiffSyntaxError, did_you_mean
from bpdiff.language import defs, lalr, scanner
from bpdiff.language.builder import Builder, SplittingBuilder, line_column
from bpdiff.language.grammar import loaded, splitting
from bpdiff.language.pasted import python_hint, skip_driving_lines

if TYPE_CHECKING:
    from bpdiff.engine.graph import Graph
    from bpdiff.language.defs import Definition
    from bpdiff.language.scanner import Token

# Characters from lecture notes that bpdiff writes differently.
_CHARACTER_HINTS = {
    "{": "use ( ) for grouping", "}": "use ( ) for grouping",
    "‖": "write the norm out, e.g. x^2", ".": "a number needs a digit: .5 or 0.5",
}

# How terminals are named in "expected ..." messages.
_TERMINAL_NAMES = {
    "NUMBER": "a number", "NAME": "a name", "FUNC": "a function", "LPAR": "'('",
    "RPAR": "')'", "PLUS": "'+'", "_MINUS": "'-'", "_TIMES": "'*'", "_DIVIDE": "'/'",
    "_POW": "'^'", "EQUAL": "'='", "COMMA": "','", "_SEP": "';' or a new line",
    "LSQB": "'['", "RSQB": "']'", "AT": "'@'", "_DOT_T": "'.T'",
    "$END": "the end of the input", "DEF": "'def'", "HEAD": "a name",
    "METHOD": "a method call such as .relu()", "SUPERSCRIPT": "a superscript such as ²",
    "FRACTION": "a fraction such as ½", "AUGOP": "'+=' or another assignment",
    "_ROOT": "'√'", "SUP_T": "'^T'", "COLON": "':'", "ELLIPSIS": "'...'",
    "_DOT_SHAPE": "'.shape'", "_GT": "'>'", "_GE": "'>='", "_LT": "'<'", "_LE": "'<='",
    "_EQ": "'=='", "_NE": "'!='",
}


CONSTANTS = {"e": math.e, "pi": math.pi, "π": math.pi}
"""Names read as constants where the program neither assigns them nor gets a value."""


def _run(text: str, share: bool, definitions: dict[str, Definition],
         where: str | None = None, constants: dict[str, float] | None = None,
         splits: dict[str, list[str]] | None = None, free_t: bool = True) -> Builder:
    """Parse `text`, the user functions `definitions` known: the Builder that did it,
    whose graph holds every definition, old and new, in graph.definitions. `where`
    names a --lib file: then only definitions are allowed.

    The scanner's tokens() scans most programs in one go, but shares one token among
    equal texts, so that not every token knows where it is: at an error, the program
    is scanned again by lex(), whose tokens all have their own positions, and parsed
    again for the error's position; a syntax error, the commonest, is found by
    counting tokens instead."""
    tables, patterns = loaded()
    kind = Builder
    if splits:
        tables, kind = splitting(), SplittingBuilder

    def fresh() -> Builder:
        return kind(text, patterns, share, definitions, where, constants, splits, free_t)

    builder = fresh()
    try:
        tokens = builder.lexer.tokens(text)
        try:
            lalr.drive(tables, tokens, builder)
        except lalr.Stuck as stuck:
            if isinstance(tokens, list):  # tokens() shares tokens: find the position
                if _function_before(stuck.values) is None:
                    index = len(tokens) if stuck.index is None else stuck.index
                    offset = 0 if stuck.index is None else builder.lexer.start_of(text, index)
                    before = [token.type for token in tokens[:index]]
                    stuck.expected = lalr.expected_after(tables, before)
                    raise _syntax_error(stuck, text, offset, where) from None
                builder = fresh()
                try:  # the function's token needs its own position: lex() has it
                    lalr.drive(tables, builder.lexer.lex(text), builder)
                except lalr.Stuck as again:
                    stuck = again
            raise _stuck_error(builder, stuck) from None
        except BpdiffError:
            if not isinstance(tokens, list):
                raise
            builder = fresh()  # for the error's position: see above
            lalr.drive(tables, builder.lexer.lex(text), builder)
            raise
    except scanner.UnexpectedCharacter as error:
        raise _character_error(text, error.position, where) from None
    builder.graph.definitions = builder.definitions
    return builder


def parse_library(text: str, where: str, definitions: dict[str, Definition] | None = None,
                  share: bool = True) -> dict[str, Definition]:
    """The definitions of library file `where` (its text), added to `definitions`.
    Errors name the file; a statement other than `def` is one."""
    return _run(text, share, definitions or {}, where).definitions


def load_library(paths: str | os.PathLike | Iterable[str | os.PathLike],
                 share: bool = True) -> dict[str, Definition]:
    """The definitions of the --lib files `paths` (a path or several), each file seeing
    those before it; `share` as for the program that calls them. Only `def`
    statements, comments and blank lines are allowed."""
    from bpdiff.inputs import read_program

    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    definitions: dict[str, Definition] = {}
    for path in paths:
        path = str(path)
        definitions = parse_library(read_program(None, path), path, definitions, share)
    return definitions


def parse(text: str, share: bool = True, output: str | None = None,
          lib: str | os.PathLike | Iterable[str | os.PathLike] = (),
          prune: bool = True, given: Iterable[str] = (), latex: bool | None = None,
          splits: dict[str, list[str]] | None = None) -> Graph:
    """Parse program `text` into a Graph holding only what the output depends on
    (every statement with `prune=False`, as --parse shows them).

    The output is the last statement, or the name `output`; `lib` names --lib files
    (a path or several) whose functions the program may call. `e`, `pi` and `π` are
    the constants unless they are among the names `given` values, or assigned; `x^T` is
    the transpose x.T unless T is given a value or assigned before (then a power). LaTeX
    is read as such (`latex=True`, or by default when the text looks like LaTeX:
    bpdiff.language.latex). Raises BpdiffSyntaxError or BpdiffNameError with the
    position of the problem (in the LaTeX's reading, for LaTeX).
    """
    notes = []
    if latex or (latex is None and ("\\" in text or "{" in text or "$" in text)):
        from bpdiff.language.latex import looks_like_latex, to_bpdiff  # imported only then

        if latex or looks_like_latex(text):
            text = to_bpdiff(text)
            notes.append("read as LaTeX: " + " ; ".join(line.strip() for line in
                                                        text.splitlines() if line.strip()))
    text, skipped = skip_driving_lines(text)
    notes += skipped
    definitions = load_library(lib, share) if lib else {}
    given = set(given)
    constants = {name: value for name, value in CONSTANTS.items() if name not in given}
    builder = _run(text, share, definitions, constants=constants, splits=splits,
                   free_t="T" not in given)
    builder.graph.notes[:0] = notes
    graph = builder.graph
    if output is not None:
        if output not in graph.names:
            raise BpdiffNameError(f"--output {output}: no such name in the program"
                                  + did_you_mean(output, graph.names))
        target = graph.names[output]
    elif builder.last is None:
        raise BpdiffSyntaxError("the program is empty: write an expression such as (a+b)*b^3")
    else:
        target = builder.last
    graph.positions = {name: line_column(text, offset) for name, offset in builder.used_at.items()}
    if not prune:
        graph.output = target
        return graph
    return graph.pruned(target)


def _stuck_error(builder: Builder, stuck: lalr.Stuck) -> BpdiffError:
    """The error for the token the driver could not take, where the builder's scanner
    is: a function's name not followed by `(` (misused, as the grammar wants `(`
    everywhere after one), else a syntax error saying what was expected."""
    function = _function_before(stuck.values)
    if function is not None:
        return defs.misused_name(builder, function, assigned=stuck.token.type == "EQUAL")
    offset = builder.lexer.offset
    stuck.expected = lalr.expected_after(loaded()[0], _kinds_before(builder, stuck, offset))
    return _syntax_error(stuck, builder.source, offset, builder.where)


def _kinds_before(builder: Builder, stuck: lalr.Stuck, offset: int) -> list[str]:
    """The types of the tokens before the one the driver was stuck at (at `offset`),
    scanned again by lex() with the functions known before the text."""
    scanner = Builder(builder.source, loaded()[1], True, builder.initial_definitions).lexer
    kinds = []
    for token in scanner.lex(builder.source):
        if stuck.token.type != "$END" and scanner.offset >= offset:
            break
        kinds.append(token.type)
    return kinds


def _function_before(values: Sequence) -> Token | None:
    """The FUNC token the parser took just before a syntax error, if any and not the
    name of a `def`."""
    if not values or getattr(values[-1], "type", None) != "FUNC":
        return None
    if len(values) > 1 and getattr(values[-2], "type", None) == "DEF":
        return None
    return values[-1]


def _syntax_error(stuck: lalr.Stuck, text: str, offset: int,
                  where: str | None = None) -> BpdiffSyntaxError:
    """A BpdiffSyntaxError for the token the driver was stuck at, found at `offset`."""
    token = stuck.token
    at_end = token.type == "$END"
    if at_end:
        message = "unexpected end of input"
        line, column = _end_position(text)
    else:
        shown = "end of line" if token.type == "_SEP" and token.value != ";" else repr(token.value)
        message = f"unexpected {shown}"
        line, column = line_column(text, offset)
    expected = stuck.expected
    if set(expected) == {"FUNC"}:  # only after `def`
        expected = ["the new function's name"]
    elif set(expected) == {"LPAR"}:  # only after `def f`
        expected = ["'(' and the parameters, as in def f(x) = ..."]
    expected = sorted({_TERMINAL_NAMES.get(t, t) for t in expected})
    hint = f"expected {_join_or(expected)}" if expected else None
    if not at_end and token.type == "DEF":
        hint = "'def' starts a definition, def f(x) = ..., and is not a name"
    hint = python_hint(text, line) or hint
    return BpdiffSyntaxError(message, text, line, column, hint=hint, where=where)


def _character_error(text: str, position: int, where: str | None = None) -> BpdiffSyntaxError:
    """The error for a character no token starts with."""
    char = text[position]
    message = f"unexpected character {char!r}"
    if char in _CHARACTER_HINTS:
        message += f" ({_CHARACTER_HINTS[char]})"
    line, column = line_column(text, position)
    return BpdiffSyntaxError(message, text, line, column, hint=python_hint(text, line),
                             where=where)


def _end_position(text: str) -> tuple[int, int]:
    lines = text.split("\n")
    return len(lines), len(lines[-1]) + 1


def _join_or(items: list[str]) -> str:
    if len(items) <= 2:
        return " or ".join(items)
    return ", ".join(items[:-1]) + " or " + items[-1]
