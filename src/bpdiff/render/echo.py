"""`--parse`: how a program was read, without evaluating it.

Two graphs of the same program come in. `reading` is parsed without sharing, so it is
the tree as written: each statement prints from it fully parenthesised, implicit
products as `*`, canonical operators and function names (`2x^2 - -y` reads
`(2 * (x ^ 2)) - (-y)`, `a/2b` reads `(a / 2) * b`, `ln` reads `log`). Sharing could
otherwise print a rewritten `(a+b)` as the name of an earlier statement equal to it.
`graph` is the graph that would be evaluated (shared unless --no-share), whose node list
is shown with the ids the table uses. Only the statements the output depends on are
shown, as in the table. bpdiff.language.printer prints the reading (ECHO style), in linear
time however deep the nesting.
"""

import json
from typing import NamedTuple

from bpdiff.engine.graph import VAR
from bpdiff.language.labels import expression, op_name, operand
from bpdiff.language.printer import ECHO, graph_view, print_expression
from bpdiff.language.printer import shortest_number as number
from bpdiff.numbers import json_number
from bpdiff.render.selection import named

NODE_COLUMNS = ("id", "op", "inputs", "name", "expression")


def read_as(graph, node):
    """`node` of `graph` as text, every operation but the outermost in parentheses,
    operands that have a name (inputs, named statements) by their name; the node
    itself is written out even when named. Function arguments need no parentheses."""
    return print_expression(graph_view(graph, node), node, ECHO)


class Statement(NamedTuple):
    """One statement as read: `name = reads` (name None for a bare expression)."""

    name: str | None
    node: int  # its node in the reading
    reads: str
    default: bool  # `a = 7`: declares input a with a default value
    used: bool  # whether the output depends on it (as evaluated)


def statements(reading, graph):
    """Each statement of the reading, in program order: inputs given a default
    (`a = 7`), named intermediates, and the output when it is a bare expression.
    Bare expressions before the last statement have no effect and are not listed.
    A statement is used when the evaluated `graph` (which may share a rewritten
    subexpression with it) still holds its name."""
    found = []
    for node in sorted(set(reading.name_of) | {reading.output}):
        name = reading.name_of.get(node)
        used = name in graph.names or node == reading.output
        if reading.ops[node] is not VAR:
            found.append(Statement(name, node, read_as(reading, node), False, used))
        elif name in reading.defaults:
            found.append(Statement(name, node, number(reading.defaults[name]), True, used))
    output = reading.output
    if reading.ops[output] is VAR and reading.payload[output] not in reading.defaults:
        found.append(Statement(None, output, reading.payload[output], False, True))  # `...; x`
    return found


def node_rows(graph, shown=None):
    """One row of strings per node (output first), or per node id in `shown`."""
    ids = range(len(graph) - 1, -1, -1) if shown is None else sorted(shown, reverse=True)
    return [(str(i), op_name(graph, i), ", ".join(operand(graph, s) for s in graph.inputs[i]),
             graph.name_of.get(i, ""), expression(graph, i)) for i in ids]


def _statement_lines(found, output):
    lines = []
    for item in found:
        marks = ["input with a default"] if item.default else []
        if item.node == output and len(found) > 1:
            marks.append("output")
        if not item.used:
            marks.append("not used by the output")
        line = item.reads if item.name is None else f"{item.name} = {item.reads}"
        lines.append(f"  {line}" + (f"   ({'; '.join(marks)})" if marks else ""))
    return lines


def _plural(count, noun):
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


def echo_text(reading, graph, max_rows=None):
    """The reading and the node list as plain text, ending in a newline. Over `max_rows`
    nodes (None: no limit) the list keeps the output, inputs and named nodes."""
    from bpdiff.render.table import plain_rows

    lines = ["read as:", *_statement_lines(statements(reading, graph), reading.output), ""]
    head = f"{_plural(len(graph), 'node')} (output first; ids as in the table)"
    merged = sum(reading.depends_on(reading.output)) - len(graph)
    if merged > 0:
        head += (f"; sharing merged {_plural(merged, 'repeated subexpression')} or"
                 " constant into one node (--no-share keeps them apart)")
    lines.append(head + ":")
    shown = None
    if max_rows is not None and len(graph) > max_rows:
        shown = named(graph)
    text = "\n".join(lines) + "\n" + plain_rows(NODE_COLUMNS, node_rows(graph, shown), {"id"})
    if shown is not None and len(shown) < len(graph):
        text += (f"{len(graph) - len(shown):,} of {len(graph):,} nodes hidden: showing the"
                 " output, inputs and named intermediates (--all shows every node)\n")
    return text


def echo_dict(text, reading, graph):
    """The reading as JSON-ready data (see schema/parse.schema.json)."""
    return {
        "expression": text,
        "statements": [{"name": item.name, "reads": item.reads, "default": item.default,
                        "used": item.used, "node": _node_in(graph, item)}
                       for item in statements(reading, graph)],
        "output": graph.output,
        "inputs": list(graph.variables),
        "defaults": {name: json_number(graph.defaults[name]) for name in graph.variables
                     if name in graph.defaults},
        "shared": graph.share,
        "nodes": [{"id": i, "op": op_name(graph, i), "inputs": list(graph.inputs[i]),
                   "name": graph.name_of.get(i), "expression": expression(graph, i)}
                  for i in range(len(graph) - 1, -1, -1)],
    }


def _node_in(graph, item):
    """The statement's node in the evaluated graph, None if the output does not use it."""
    if item.name is None:
        return graph.output
    return graph.names.get(item.name)


def echo_json(text, reading, graph):
    """The JSON text, one object, ending in a newline."""
    return json.dumps(echo_dict(text, reading, graph), ensure_ascii=False) + "\n"
