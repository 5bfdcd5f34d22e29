"""A tight driver for the LALR tables Lark builds from grammars/bpdiff.lark, and a cache
of those tables so that a run needs no import of Lark unless its input has a syntax
error.

Lark analyses the grammar (once per grammar text and bpdiff version: the result is
cached as plain data, `marshal`led, under the user's cache directory). Its parse table
becomes dicts of integers (a shift is the next state, a reduction ~rule), its lexer's
terminals a list of (name, regex) in Lark's order of priority, and every rule one of
these reductions, with exactly the meaning Lark's parse-tree builder gives it for a
Transformer applied while parsing:

  unit          a `?rule` of one symbol, `?sum: product`: the value stays, and a run
                of them ends in a state remembered per (state below, state on top,
                lookahead), so `x` in `x*y + z` climbs name_base -> base -> unary ->
                product in one step
  pass-through  a `?rule` that keeps one of its symbols, `"(" sum ")"`: that child
  operation     a rule aliased to an op of the primitive table (add, mul, neg, ...)
                that the builder leaves to its __default__: graph.apply directly
  method        the builder's method of the rule's (alias) name, on the kept children
  gather        a `_rule` (Lark inlines its children into its parent's: a list here),
                or a method of a rule with `_rule`s among its children
  name          `NAME -> var`: the graph's node for a name it has, else builder.var()

Children are kept as Lark keeps them: not the anonymous or `_`-named tokens, and a
`_rule`'s children in its place. The order of reductions is the tables', so the graph
built is Lark's, node for node (tests/test_lalr.py compares them). At a syntax error
the driver raises Stuck; the caller parses again with Lark itself for the error message.
"""

from __future__ import annotations

import marshal
import operator
import os
import stat
import zlib
from collections.abc import Callable, Iterable, Sequence
from itertools import chain
from typing import Any

FORMAT = 8  # the layout of the cached data; bump when it changes
UNIT, PASS, OPERATION, METHOD, GATHER, NAME = range(6)


class Stuck(Exception):
    """The driver met a token the tables do not allow: a syntax error. `expected` are
    the terminals the state allowed (as Lark's UnexpectedToken lists them), `values`
    the parser's value stack then (its top is the last symbol taken)."""

    def __init__(self, token: Any, expected: Sequence[str] = (), values: Sequence = (),
                 index: int | None = None) -> None:
        super().__init__(token)
        self.token = token
        self.expected = expected
        self.values = values
        self.index = index  # the token's place in a list of tokens, when given one


def analyse(lark: Any) -> dict:
    """The data the driver needs, from a Lark LALR parser (built with a lexer class that
    leaves the terminals in `lark.lexer_conf`): plain dicts, lists, tuples and strings."""
    lalr = lark.parser.parser.parser
    table = lalr.parse_table
    terminals = sorted(lark.lexer_conf.terminals, key=lambda t: (
        -t.priority, -t.pattern.max_width, -len(t.pattern.value), t.name))
    rules: list = []
    index: dict = {}
    actions: dict = {}
    for state, row in table.states.items():
        compiled = {}
        for symbol, (action, argument) in row.items():
            if action.name == "Shift":
                compiled[str(symbol)] = int(argument)
            else:
                if argument not in index:
                    index[argument] = len(rules)
                    rules.append(argument)
                compiled[str(symbol)] = ~index[argument]
        actions[state] = compiled
    return {
        "terminals": [(str(t.name), t.pattern.to_regexp()) for t in terminals],
        "ignore": sorted(str(name) for name in lark.lexer_conf.ignore),
        "start": int(table.start_states["start"]),
        "end": int(table.end_states["start"]),
        "actions": actions,
        "rules": [_rule(rule) for rule in rules],
    }


def _rule(rule: Any) -> tuple:
    """(name, size, goal, expand1, kept): the rule's callback name (its alias, else its
    left-hand side), its length, its left-hand side, whether it is a `?rule` without an
    alias, and the kept children as (position, whether it is a `_rule` to inline)."""
    if rule.options.keep_all_tokens:
        raise ValueError(f"bpdiff.language.lalr does not handle keep_all_tokens ({rule})")
    kept = tuple((i, not symbol.is_term and symbol.name.startswith("_"))
                 for i, symbol in enumerate(rule.expansion)
                 if not (symbol.is_term and symbol.filter_out))
    return (str(rule.alias or rule.origin.name), len(rule.expansion), str(rule.origin.name),
            bool(rule.options.expand1 and not rule.alias), kept)


def cached(grammar: str, version: str, build: Callable[[], dict]) -> dict:
    """The analysis of `grammar` (text) from the cache, else `build()`'s, then cached.

    The cache lives in bpdiff's own directory under the user's cache directory, which
    must be the user's and writable by nobody else (it is made with mode 0700). The file
    is read without following a symlink, only when it is a regular file of the user's,
    and only when it holds every key, of the right type; anything else is rebuilt. It is
    written to a new file of its own and renamed over the old one, behind a checksum
    of the rest that a read checks first, so that a file damaged on disk is never used
    (it holds the scanner's regexes, some compiled only when a program needs them). A
    cache that cannot be read or written is done without."""
    directory = _cache_directory()
    if directory is None:
        return dict(build(), grammar=grammar, format=FORMAT)
    path = os.path.join(directory, f"tables-{version}-{FORMAT}.marshal")
    data = _read(path)
    if data is not None and data.get("grammar") == grammar and well_formed(data):
        return data
    data = dict(build(), grammar=grammar, format=FORMAT)
    _write(path, sealed(marshal.dumps(data)))
    return data


def sealed(payload: bytes) -> bytes:
    """`payload` behind its CRC-32, as the cache file holds it."""
    return zlib.crc32(payload).to_bytes(4, "big") + payload


def _unsealed(content: bytes) -> bytes | None:
    """What sealed() sealed, or None when the checksum does not match."""
    payload = content[4:]
    return payload if content[:4] == zlib.crc32(payload).to_bytes(4, "big") else None


_MAX_CACHE_BYTES = 1 << 24


def _cache_directory() -> str | None:
    """bpdiff's cache directory, made if need be; None where there is no home directory
    to keep it in, or where it is not a directory of the user's that only the user can
    write to (a symlink is not)."""
    home = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(home):  # unset, or relative: ignored, as the XDG spec says
        home = os.path.join(os.path.expanduser("~"), ".cache")
    if not os.path.isabs(home):  # "~" unresolved: no home directory
        return None
    directory = os.path.join(home, "bpdiff")
    try:
        os.makedirs(home, mode=0o700, exist_ok=True)
        try:
            os.mkdir(directory, 0o700)
        except FileExistsError:
            pass
        status = os.lstat(directory)
    except OSError:
        return None
    if not stat.S_ISDIR(status.st_mode) or status.st_uid != os.geteuid() \
            or status.st_mode & 0o022:
        return None
    return directory


def _read(path: str) -> dict | None:
    """The cached dict at `path`, or None: not there, a symlink, not a regular file of
    the user's (a FIFO is never waited on), too big, or not a marshalled dict."""
    try:
        handle = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        status = os.fstat(handle)
        if not stat.S_ISREG(status.st_mode) or status.st_uid != os.geteuid() \
                or status.st_size > _MAX_CACHE_BYTES:
            return None
        with os.fdopen(handle, "rb", closefd=False) as stream:
            payload = _unsealed(stream.read())
        if payload is None:
            return None
        data = marshal.loads(payload)
    except (OSError, ValueError, EOFError, TypeError):
        return None
    finally:
        os.close(handle)
    return data if type(data) is dict else None


def _write(path: str, payload: bytes) -> None:
    """`payload` into a new file beside `path` (never through a symlink), renamed over
    it when whole; nothing is left behind when that fails."""
    partial = f"{path}.{os.getpid()}.{os.urandom(4).hex()}.partial"
    try:
        handle = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
                         | os.O_CLOEXEC, 0o600)
    except OSError:
        return
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(payload)
        os.replace(partial, path)
    except OSError:
        try:
            os.remove(partial)
        except OSError:
            pass


_SHAPE = {"terminals": list, "ignore": list, "start": int, "end": int, "actions": dict,
          "rules": list, "grammar": str, "format": int}


def well_formed(data: dict) -> bool:
    """Whether cached `data` has every key the driver reads, each of the right type,
    down to the rows of the parse table and the rules."""
    if any(type(data.get(key)) is not kind for key, kind in _SHAPE.items()):
        return False
    if data["format"] != FORMAT:
        return False
    try:
        for name, regex in data["terminals"]:
            if type(name) is not str or type(regex) is not str:
                return False
        for state, row in data["actions"].items():
            if type(state) is not int or type(row) is not dict:
                return False
        for name, size, goal, expand1, kept in data["rules"]:
            if type(name) is not str or type(size) is not int or type(goal) is not str \
                    or type(kept) is not tuple:
                return False
    except (TypeError, ValueError):
        return False
    return data["start"] in data["actions"] and data["end"] in data["actions"]


class Tables:
    """The analysed data bound to a builder class (its methods, called with the builder
    of each parse) and the primitive table's ops. Never changed once made: one Tables
    serves every parse, in every thread."""

    def __init__(self, data: dict, builder_class: type, ops: dict) -> None:
        self.start, self.end, self.actions = data["start"], data["end"], data["actions"]
        for name, _ in data["terminals"]:
            if hasattr(builder_class, name):
                raise ValueError(f"bpdiff.language.lalr does not call terminal callbacks"
                                 f" ({name})")
        self.rules = data["rules"]
        self.reductions = tuple(_bind(rule, builder_class, ops) for rule in self.rules)

    def rebound(self, builder_class: type, ops: dict) -> Tables:
        """The same tables calling `builder_class`'s methods (a subclass's own ones too)."""
        import copy  # only for a parse that splits names (not at start-up)

        other = copy.copy(self)
        other.reductions = tuple(_bind(rule, builder_class, ops) for rule in self.rules)
        return other


def _bind(rule: tuple, builder: type, ops: dict) -> tuple:
    """One rule as (kind, size, goal, detail); see the module docstring."""
    name, size, goal, expand1, kept = rule
    inline = any(expand for _, expand in kept)
    offsets = tuple(i - size for i, _ in kept)  # where the kept children are on the stack
    if expand1:
        if len(kept) != 1 or inline:
            raise ValueError(f"bpdiff.language.lalr: ?{goal} with {len(kept)} children")
        unit = size == 1 and goal != "start"  # the start rule's reduction may end a parse
        grouped = getattr(builder, "grouped", None) if size == 3 else None
        if grouped is not None:  # "(" sum ")", for a builder that asks to see it
            return METHOD, size, goal, (grouped, offsets)
        return (UNIT if unit else PASS), size, goal, offsets[0]
    if name.startswith("_"):
        return GATHER, size, goal, (None, kept)
    method = getattr(builder, name, None)
    if name == "var" and size == 1:
        return NAME, size, goal, method
    if method is not None:
        return (GATHER, size, goal, (method, kept)) if inline else \
            (METHOD, size, goal, (method, offsets))
    if name in ops and ops[name].arity == len(kept) and not inline:
        return OPERATION, size, goal, (ops[name], offsets)
    raise ValueError(f"bpdiff.language.lalr: no method or op for rule {goal} -> {name}")


def drive(tables: Tables, tokens: Iterable, builder: Any) -> Any:
    """Feed `tokens` (objects with a `.type`) through the tables, reducing as Lark would,
    with `builder`'s methods, and return the start rule's value; raises Stuck at a
    token no action takes."""
    actions, reductions, end = tables.actions, tables.reductions, tables.end
    units: dict[tuple[int, int, str], int] = {}  # (below, top, lookahead) -> the state
    states: list[int] = [tables.start]  # after unit rules (see _after_units)
    values: list = []
    row = actions[tables.start]
    remaining = iter(tokens)  # a list's iterator knows how much is left: see Stuck
    for token in chain(remaining, (END_OF_INPUT,)):
        kind = token.type
        while True:  # reduce as long as the token asks for it, then shift it
            action = row.get(kind)
            if action is None or (action >= 0 and token is END_OF_INPUT):
                index = None
                if type(tokens) is list and token is not END_OF_INPUT:
                    index = len(tokens) - operator.length_hint(remaining) - 1
                raise Stuck(token, sorted(k for k in row if k.isupper()), values, index)
            if action >= 0:
                states.append(action)
                values.append(token)
                row = actions[action]
                break
            how, size, goal, detail = reductions[~action]
            if how == UNIT:  # the value stays; only the state on top changes
                key = (states[-2], states[-1], kind)
                state = units.get(key)
                if state is None:
                    state = units[key] = _after_units(tables, key)
                states[-1] = state
                row = actions[state]
                continue
            if how == OPERATION:
                op, offsets = detail
                if len(offsets) == 2:
                    value = builder.graph.apply(op, (values[offsets[0]], values[offsets[1]]))
                else:
                    value = builder.graph.apply(op, tuple([values[i] for i in offsets]))
            elif how == NAME:  # a name seen before is a lookup; else the builder's var()
                value = builder.graph.names.get(values[-1].value)
                if value is None:
                    value = detail(builder, [values[-1]])
            elif how == METHOD:
                method, offsets = detail
                value = method(builder, [values[i] for i in offsets])
            elif how == PASS:
                value = values[detail]
            else:
                value = _gather(detail, size, values, builder)
            if size == 1:
                values[-1] = value
                del states[-1]
            else:
                if size:
                    del states[-size:]
                    del values[-size:]
                values.append(value)
            state = actions[states[-1]][goal]
            if state == end and token is END_OF_INPUT:
                return value
            states.append(state)
            row = actions[state]


def _after_units(tables: Tables, key: tuple[int, int, str]) -> int:
    """The state on top after every unit reduction (`?sum: product`) that the
    lookahead asks for in a row, from (state below, state on top, lookahead): they
    replace the top state only, so the state below decides where they end."""
    below, state, kind = key
    while True:
        action = tables.actions[state].get(kind)
        if action is None or action >= 0:
            return state
        how, _, goal, _ = tables.reductions[~action]
        if how != UNIT:
            return state
        state = tables.actions[below][goal]


def expected_after(tables: Tables, kinds: Iterable[str]) -> list[str]:
    """Every terminal that may follow the token types `kinds` (a valid prefix of a
    program): each is tried on the parser's states after that prefix, reducing as the
    tables say until it is shifted (it may follow) or meets no action (it may not).
    The state the driver is stuck in lists fewer: the reductions the bad token led to
    have passed states where other tokens could follow (`(a+b*b^3` may go on with
    `*`, not only with `)`)."""
    states = [tables.start]
    for kind in kinds:
        if not _take(tables, states, kind):
            return []
    terminals = sorted({kind for row in tables.actions.values() for kind in row
                        if kind.isupper()})
    return [kind for kind in terminals if _take(tables, list(states), kind)]


def _take(tables: Tables, states: list[int], kind: str) -> bool:
    """Reduce on `states` as a `kind` token asks, then shift it; False where it meets
    no action (then `states` is left where it was stuck)."""
    actions, reductions = tables.actions, tables.reductions
    while True:
        action = actions[states[-1]].get(kind)
        if action is None:
            return False
        if action >= 0:
            states.append(action)
            return True
        _, size, goal, _ = reductions[~action]
        if size:
            del states[-size:]
        goto = actions[states[-1]].get(goal)
        if goto is None:  # the start rule, reduced at the end of the input
            return kind == "$END"
        states.append(goto)


class _EndOfInput:
    """The token after the last one, as Lark's parser feeds it."""

    type = "$END"
    value = ""


END_OF_INPUT = _EndOfInput()


def _gather(detail: tuple, size: int, values: list, builder: Any) -> Any:
    """The children Lark hands a rule with `_rule`s among them (their children in their
    place), given to the method, or, for a `_rule` itself, as a list."""
    method, kept = detail
    children = None
    for i, expand in kept:
        value = values[i - size]
        if not expand:
            if children is None:
                children = [value]
            else:
                children.append(value)
        elif children is None:
            children = value  # a left-recursive `_rule`'s list grows in place, as in Lark
        else:
            children.extend(value)
    children = [] if children is None else children
    return children if method is None else method(builder, children)
