"""User-defined functions: `def f(a, b) = a*b + sin(a)`, and --lib files of them.

A body is parsed once, into a scratch graph over its parameters, and kept as a template
(a Definition): its operations in topological order, each with its operands as slots
(the parameters first, then earlier steps), a constant with its value. A call expands
the template into the program's graph with Graph.apply, in one loop: the body's nodes
are ordinary nodes (shared with equal ones as usual), and calls nested 100,000 deep
cost no recursion.

Each expansion is recorded in graph.calls as (name, parent, label): `f#2` is the
second expansion of f, `g#1/f#3` the third of f, made inside g's first; graph.call_of
maps each node an expansion created to it (a node equal to an earlier one is not
created again and keeps its owner, or none). Inside a body, a call that made no node
of its own is not kept, nor counted.

A body sees only its parameters and numbers, and calls built-in functions and the
functions defined before it: so recursion, direct or mutual, cannot happen, and a
function computes the same thing wherever it is called.

The parse's Builder (bpdiff.language.builder) calls open_definition, call and
misused_name with itself as `parser`: they read its `source`, `functions` (name ->
token type), `definitions`, `defining`, `graph`, `numbers` and `expanded`, and use its
`position(offset)` and `error(kind, message, token, hint)`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bpdiff.errors import BpdiffError, BpdiffNameError, BpdiffSyntaxError, did_you_mean
from bpdiff.engine.graph import CONST, Graph
from bpdiff.engine.ops import FUNCTIONS

if TYPE_CHECKING:
    from bpdiff.language.builder import Builder
    from bpdiff.language.scanner import Token

MAX_EXPANDED = 2_000_000
"""The most nodes and nested calls that calls may expand to in one program, bodies of
definitions included: inlining `def f2(x) = f1(f1(x))`, `def f3(x) = f2(f2(x))`, ...
doubles at each level."""


class Header:
    """`def name(params)`, checked, while its body is parsed."""

    __slots__ = ("name", "params", "line", "column")

    def __init__(self, name: str, params: tuple, line: int, column: int) -> None:
        self.name, self.params, self.line, self.column = name, params, line, column


class Definition:
    """A user function as a template (see the module docstring): its name and params;
    steps, (op, operand slots, call) or (CONST, value, call) in topological order; the
    slot holding the body's value (result); calls, (function, parent) per expansion (0
    is this function's, parent -1); where it is defined (line, column, and `where`, the
    --lib file it was read from, or None)."""

    __slots__ = ("name", "params", "steps", "result", "calls", "line", "column", "where")

    def __init__(self, name: str, params: tuple, steps: tuple, result: int, calls: tuple,
                 line: int, column: int, where: str | None = None) -> None:
        self.name, self.params, self.steps, self.result = name, params, steps, result
        self.calls, self.line, self.column, self.where = calls, line, column, where

    def signature(self) -> str:
        """'f(a, b)'."""
        return f"{self.name}({', '.join(self.params)})"

    def place(self) -> str:
        """Where it is defined: 'line 1, column 5', or 'gates.bp, line 1, column 5'."""
        at = f"line {self.line}, column {self.column}"
        return at if self.where is None else f"{self.where}, {at}"


def open_definition(parser: Builder, token: Token,
                    params: list[Token]) -> tuple[Header, Graph]:
    """Check `def name(params)` and return its Header and the scratch graph its body
    is built in (the parameters as its variables)."""
    name = token.value
    line, column = parser.position(token.start_pos)
    if name in FUNCTIONS:
        raise parser.error(BpdiffNameError, f"'{name}' is a built-in function and cannot be"
                           " redefined", token, hint=f"choose another name, e.g. {name}2")
    earlier = parser.definitions.get(name)
    if earlier is not None:
        raise parser.error(BpdiffNameError, f"'{name}' is already defined, at {earlier.place()}",
                           token, hint="each function is defined once")
    if name in parser.graph.names:
        raise parser.error(BpdiffNameError, f"'{name}' is already a name in the program (an"
                           " input or a named intermediate)", token,
                           hint="define functions before the statements that use them,"
                                " with names of their own")
    seen = set()
    for param in params:
        if param.value in seen:
            raise parser.error(BpdiffNameError, f"parameter '{param.value}' is repeated",
                               param, hint=f"{name}'s parameters need distinct names")
        if param.value in parser.functions:
            raise parser.error(BpdiffNameError, f"parameter '{param.value}' has the name of"
                               " a function", param, hint="choose another name")
        seen.add(param.value)
    body = Graph(parser.graph.share)
    for param in params:
        body.variable(param.value)
    return Header(name, tuple(p.value for p in params), line, column), body


def close_definition(header: Header, body: Graph, result: int,
                     where: str | None = None) -> Definition:
    """The Definition whose body is node `result` of the scratch graph `body`."""
    slot = {body.variables[p]: k for k, p in enumerate(header.params)}
    needed = bytearray(len(body.ops))
    needed[result] = 1
    for node in range(result, -1, -1):
        if needed[node]:
            for source in body.inputs[node]:
                needed[source] = 1
    kept = _owners(body, [node for node in range(result + 1) if needed[node]])
    index = {call: k for k, call in enumerate(kept, 1)}
    index[-1] = 0
    steps = []
    for node in range(result + 1):
        if needed[node] and node not in slot:
            op = body.ops[node]
            operands = body.payload[node] if op is CONST else tuple(
                [slot[i] for i in body.inputs[node]])
            steps.append((op, operands, index[body.call_of.get(node, -1)]))
            slot[node] = len(header.params) + len(steps) - 1
    calls = ((header.name, -1), *((body.calls[c][0], index[body.calls[c][1]]) for c in kept))
    return Definition(header.name, header.params, tuple(steps), slot[result], calls,
                      header.line, header.column, where)


def _owners(body: Graph, nodes: list[int]) -> list[int]:
    """The calls in the body that made one of `nodes`, with the calls they are inside,
    in order. A call whose nodes all equal earlier ones is left out: copies of it would
    be empty, and `def f2(x) = f1(x) * f1(x)`, `def f3(x) = f2(x) * f2(x)`, ... would
    otherwise double the calls at each level."""
    calls, call_of = body.calls, body.call_of
    kept = set()
    for node in nodes:
        call = call_of.get(node, -1)
        while call >= 0 and call not in kept:
            kept.add(call)
            call = calls[call][1]
    return sorted(kept)


def call(parser: Builder, token: Token, args: tuple[int, ...]) -> int:
    """The node of `name(args)` for a user function: its body expanded into parser.graph."""
    name = token.value
    definition = parser.definitions.get(name)
    if definition is None:  # the one function name without a definition yet: its own
        raise parser.error(BpdiffNameError, f"'{name}' calls itself: recursion is not allowed",
                           token, hint="a function may call built-in functions and functions"
                                       " defined before it")
    if len(args) != len(definition.params):
        count = "1 argument" if len(definition.params) == 1 else \
            f"{len(definition.params)} arguments"
        raise parser.error(BpdiffSyntaxError, f"{name}() takes {count}, got {len(args)}"
                           f" ({definition.signature()} is defined at {definition.place()})",
                           token)
    parser.expanded += len(definition.steps) + len(definition.calls)
    if parser.expanded > MAX_EXPANDED:
        raise parser.error(BpdiffSyntaxError, f"the calls of functions expand to more than"
                           f" {MAX_EXPANDED:,} nodes", token,
                           hint="each call copies its function's body into the graph")
    return expand(parser.graph, definition, args, parser.numbers)


def expand(graph: Graph, definition: Definition, args: tuple[int, ...],
           numbers: dict[str, int]) -> int:
    """Add `definition`'s body, applied to the node ids `args`, to `graph`; return the
    node of its value. `numbers` counts each function's expansions in this graph."""
    calls = graph.calls
    base = len(calls)
    for name, parent in definition.calls:
        number = numbers[name] = numbers.get(name, 0) + 1
        if parent < 0:
            calls.append((name, -1, f"{name}#{number}"))
        else:
            calls.append((name, base + parent, f"{calls[base + parent][2]}/{name}#{number}"))
    ids = list(args)
    ops, call_of, apply, constant = graph.ops, graph.call_of, graph.apply, graph.constant
    for op, operands, owner in definition.steps:
        before = len(ops)
        node = constant(operands) if op is CONST else apply(op, tuple([ids[i] for i in operands]))
        if node >= before:
            call_of[node] = base + owner
        ids.append(node)
    return ids[definition.result]


CALLED = re.compile(r"(?:[ \t\f\r]|\\\r?\n)*[(\[]")
"""Matches where a `(` follows, so the name before it is called (or a `[`: notes write
exp[-x] for exp(-x))."""


def misused_name(parser: Builder, token: Token, assigned: bool = False) -> BpdiffError:
    """The error for a function's name used as a value (or `assigned` one), or a name
    a body uses that is not a parameter (or a function defined after it)."""
    name = token.value
    header = parser.defining
    definition = parser.definitions.get(name)
    misuse = " and cannot be assigned a value" if assigned else " used without arguments"
    if name in FUNCTIONS:
        example = "(x)" if FUNCTIONS[name].arity == 1 else "(a, b)"
        return parser.error(BpdiffNameError, f"'{name}' is a built-in function{misuse}",
                            token, hint=f"call it, as in {name}{example}")
    if definition is not None:
        return parser.error(BpdiffNameError, f"'{name}' is a function{misuse}", token,
                            hint=f"call it, as in {definition.signature()}, defined at"
                                 f" {definition.place()}")
    if header is None:  # outside a body only functions are misused, as above
        return parser.error(BpdiffNameError, f"'{name}' is a function{misuse}", token)
    if name == header.name:
        return parser.error(BpdiffNameError, f"'{name}' refers to itself: recursion is not"
                            " allowed", token)
    end = token.start_pos + len(name)
    if CALLED.match(parser.source, end):
        later = re.compile(rf"\bdef[ \t]+({name})\b").search(parser.source, end)
        if later:
            line, column = parser.position(later.start(1))
            return parser.error(BpdiffNameError, f"{header.name} calls '{name}', which is"
                                f" defined later, at line {line}, column {column}", token,
                                hint="a function may call only built-in functions and"
                                     " functions defined before it, so recursion is not"
                                     " possible")
        known = [*FUNCTIONS, *parser.definitions]
        return parser.error(BpdiffNameError, f"unknown function '{name}' in the body of"
                            f" {header.name}{did_you_mean(name, known)}", token,
                            hint="a function may call built-in functions and functions"
                                 " defined before it")
    params = ", ".join(header.params)
    return parser.error(BpdiffNameError, f"'{name}' is not a parameter of {header.name}"
                        f"({params}){did_you_mean(name, header.params)}", token,
                        hint=f"a function's body sees only its parameters: pass {name} as an"
                             f" argument, def {header.name}({params}, {name}) = ...")
