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

May import: marshal, os, itertools (never lark: `analyse` reads a Lark parser handed in).
"""

import marshal
import os
from itertools import chain

FORMAT = 3  # the layout of the cached data; bump when it changes
UNIT, PASS, OPERATION, METHOD, GATHER, NAME = range(6)


class Stuck(Exception):
    """The driver met a token the tables do not allow: a syntax error."""


def analyse(lark):
    """The data the driver needs, from a Lark LALR parser (built with a lexer class that
    leaves the terminals in `lark.lexer_conf`): plain dicts, lists, tuples and strings."""
    lalr = lark.parser.parser.parser
    table = lalr.parse_table
    terminals = sorted(lark.lexer_conf.terminals, key=lambda t: (
        -t.priority, -t.pattern.max_width, -len(t.pattern.value), t.name))
    rules, index, actions = [], {}, {}
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


def _rule(rule):
    """(name, size, goal, expand1, kept): the rule's callback name (its alias, else its
    left-hand side), its length, its left-hand side, whether it is a `?rule` without an
    alias, and the kept children as (position, whether it is a `_rule` to inline)."""
    if rule.options.keep_all_tokens:
        raise ValueError(f"bpdiff.lalr does not handle keep_all_tokens ({rule})")
    kept = tuple((i, not symbol.is_term and symbol.name.startswith("_"))
                 for i, symbol in enumerate(rule.expansion)
                 if not (symbol.is_term and symbol.filter_out))
    return (str(rule.alias or rule.origin.name), len(rule.expansion), str(rule.origin.name),
            bool(rule.options.expand1 and not rule.alias), kept)


def cached(grammar, version, build):
    """The analysis of `grammar` (text) from the cache, else `build()`'s, then cached.
    A cache that cannot be read or written is ignored."""
    path = _cache_path(version)
    if path is None:
        return dict(build(), grammar=grammar, format=FORMAT)
    try:
        with open(path, "rb") as handle:
            data = marshal.load(handle)
        if data.get("grammar") == grammar and data.get("format") == FORMAT:
            return data
    except (OSError, ValueError, EOFError, TypeError, AttributeError):
        pass
    data = dict(build(), grammar=grammar, format=FORMAT)
    partial = f"{path}.{os.getpid()}"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(partial, "wb") as handle:
            handle.write(marshal.dumps(data))
        os.replace(partial, path)
    except OSError:
        if os.path.exists(partial):
            os.remove(partial)
    return data


def _cache_path(version):
    """The cache file, or None where there is no home directory to keep it in."""
    home = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(home):  # unset, or relative: ignored, as the XDG spec says
        home = os.path.join(os.path.expanduser("~"), ".cache")
    if not os.path.isabs(home):  # "~" unresolved: no home directory
        return None
    return os.path.join(home, "bpdiff", f"tables-{version}-{FORMAT}.marshal")


class Tables:
    """The analysed data bound to a builder: its methods, the primitive table's ops."""

    def __init__(self, data, builder, ops):
        self.start, self.end, self.actions = data["start"], data["end"], data["actions"]
        for name, _ in data["terminals"]:
            if hasattr(builder, name):
                raise ValueError(f"bpdiff.lalr does not call terminal callbacks ({name})")
        self.reductions = [_bind(rule, builder, ops) for rule in data["rules"]]
        self.units = {}  # (state below, state on top, lookahead) -> state after unit rules


def _bind(rule, builder, ops):
    """One rule as (kind, size, goal, detail); see the module docstring."""
    name, size, goal, expand1, kept = rule
    inline = any(expand for _, expand in kept)
    offsets = tuple(i - size for i, _ in kept)  # where the kept children are on the stack
    if expand1:
        if len(kept) != 1 or inline:
            raise ValueError(f"bpdiff.lalr: ?{goal} with {len(kept)} children")
        unit = size == 1 and goal != "start"  # the start rule's reduction may end a parse
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
    raise ValueError(f"bpdiff.lalr: no method or op for rule {goal} -> {name}")


def drive(tables, tokens, builder):
    """Feed `tokens` (objects with a `.type`) through the tables, reducing as Lark would,
    and return the start rule's value; raises Stuck at a token no action takes."""
    actions, reductions, end, units = tables.actions, tables.reductions, tables.end, tables.units
    states, values = [tables.start], []
    row = actions[tables.start]
    for token in chain(tokens, (END_OF_INPUT,)):
        kind = token.type
        while True:  # reduce as long as the token asks for it, then shift it
            action = row.get(kind)
            if action is None or (action >= 0 and token is END_OF_INPUT):
                raise Stuck(token)
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
                    value = detail([values[-1]])
            elif how == METHOD:
                method, offsets = detail
                value = method([values[i] for i in offsets])
            elif how == PASS:
                value = values[detail]
            else:
                value = _gather(detail, size, values)
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


def _after_units(tables, key):
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


class _EndOfInput:
    """The token after the last one, as Lark's parser feeds it."""

    type = "$END"
    value = ""


END_OF_INPUT = _EndOfInput()


def _gather(detail, size, values):
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
    return children if method is None else method(children)
