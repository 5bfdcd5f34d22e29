"""The node table: one row per node, output first, then a summary line.

`rows()` decides what is shown (a big graph is summarised unless all rows are asked
for); `plain()` lays it out as aligned text for pipes, files and NO_COLOR; `rich_table()`
draws it with rich for a terminal. rich is imported only there.

May import: bpdiff.render.labels, bpdiff.render.numbers, rich (in rich_table only).
"""

import heapq

from .labels import operand
from .numbers import format_exact, format_number

COLUMNS = ("id", "label", "op", "inputs", "value", "gradient")
CALL_COLUMN = "call"  # added when a user function was called: the call that made the node
NUMERIC = {"id", "value", "gradient"}
DEFAULT_MAX_ROWS = 200
TOP_ROWS = 20


def rows(result, precision, max_rows=DEFAULT_MAX_ROWS):
    """The rows to show, as tuples of strings, and a note on hidden rows ('' if none).

    Up to `max_rows` nodes (None: no limit) every node is shown; beyond, the output,
    the inputs, the named intermediates and the nodes with the largest |gradient|.
    """
    graph = result.graph
    count = len(graph)
    if max_rows is None or count <= max_rows:
        shown = range(count - 1, -1, -1)
        note = ""
    else:
        grads = result.grads
        keep = {graph.output, *graph.name_of}
        unnamed = (i for i in range(count) if i not in keep and grads[i] is not None)
        keep.update(heapq.nlargest(TOP_ROWS, unnamed, key=lambda i: abs(grads[i])))
        shown = sorted(keep, reverse=True)
        note = (f"{count - len(shown):,} of {count:,} nodes hidden: showing the output, inputs,"
                f" named intermediates and the {TOP_ROWS} nodes with the largest |gradient|"
                " (--all shows every node)")
    exact = getattr(result, "exact", None)  # set by an --exact run
    return [_row(result, i, precision, exact) for i in shown], note


def columns(result):
    """The table's columns: COLUMNS, and CALL_COLUMN when a user function was called."""
    return COLUMNS + (CALL_COLUMN,) if result.graph.call_of else COLUMNS


def _row(result, node, precision, exact=None):
    item = result.node(node)
    inputs = ", ".join(operand(result.graph, i) for i in item.inputs)
    call = (item.call or "",) if result.graph.call_of else ()
    if exact is not None:
        return (str(node), item.label, item.op, inputs,
                format_exact(exact.values[node], item.value, precision),
                format_exact(exact.grads[node], item.grad, precision), *call)
    return (str(node), item.label, item.op, inputs,
            format_number(item.value, precision), format_number(item.grad, precision), *call)


def summary(result, precision):
    """'L = -10;  ∂L/∂a = -2, ∂L/∂b = -4, ∂L/∂c = 5' for the output and each input."""
    graph = result.graph
    out = graph.name_of.get(graph.output, "out")
    exact = getattr(result, "exact", None)

    def shown(number, node, stage):
        if exact is None:
            return format_number(number, precision)
        return format_exact(getattr(exact, stage)[node], number, precision)

    parts = [f"∂{out}/∂{name} = {shown(g, graph.variables[name], 'grads')}"
             for name, g in result.gradient.items()]
    head = f"{out} = {shown(result.value, graph.output, 'values')}"
    return head + (";  " + ", ".join(parts) if parts else "")


EXACT_NOTE = ("exact arithmetic: ≈ marks a rounded number (not rational, or too long to"
              " show; --json has every fraction)")


def plain(result, precision, max_rows=DEFAULT_MAX_ROWS):
    """The table as aligned plain text (no colour, no box drawing), ending in a newline."""
    body, note = rows(result, precision, max_rows)
    text = plain_rows(columns(result), body, NUMERIC)
    text += (note + "\n" if note else "") + summary(result, precision) + "\n"
    if getattr(result, "exact", None) is not None and "≈" in text:
        text += EXACT_NOTE + "\n"
    return text


def plain_rows(columns, body, numeric):
    """Rows of strings as aligned text under a header; `numeric` columns right-aligned."""
    widths = [max(len(h), *(len(r[k]) for r in body)) for k, h in enumerate(columns)]
    lines = []
    for cells in (columns, *body):
        padded = [cell.rjust(w) if columns[k] in numeric else cell.ljust(w)
                  for k, (cell, w) in enumerate(zip(cells, widths))]
        lines.append("  ".join(padded).rstrip())
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines) + "\n"


def rich_table(result, precision, max_rows=DEFAULT_MAX_ROWS):
    """The table and summary as rich renderables for a terminal."""
    from rich.table import Table
    from rich.text import Text

    body, note = rows(result, precision, max_rows)
    table = Table(title=result.text if len(result.text) <= 80 else None,
                  caption=note or None, header_style="bold")
    styles = {"id": "dim", "label": "cyan", "op": "magenta", "gradient": "bold green",
              CALL_COLUMN: "yellow"}
    for column in columns(result):
        table.add_column(column, justify="right" if column in NUMERIC else "left",
                         style=styles.get(column))
    for cells in body:
        table.add_row(*cells)
    line = summary(result, precision)
    if getattr(result, "exact", None) is not None and any("≈" in c for r in body for c in r):
        line += "\n" + EXACT_NOTE
    return table, Text(line, style="bold")
