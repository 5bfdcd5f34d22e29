"""The node table: one row per node, output first, then a summary line.

`rows()` decides what is shown (a big graph is summarised unless all rows are asked
for); `plain()` lays it out as aligned text for pipes, files and NO_COLOR; `rich_table()`
draws it with rich for a terminal. rich is imported only there.
"""

from bpdiff.language.labels import operand
from bpdiff.numbers import format_exact, format_number, shape_text
from bpdiff.render.selection import DEFAULT_MAX_NODES, summarised

COLUMNS = ("id", "label", "op", "inputs", "value", "gradient")
SHAPE_COLUMN = "shape"  # added in tensor mode
CALL_COLUMN = "call"  # added when a user function was called: the call that made the node
NUMERIC = {"id", "value", "gradient"}


def columns(result):
    """The table's columns: COLUMNS, with a shape column when values are arrays and a
    call column when a user function was called, both before value and gradient (which
    stay the last two)."""
    extra = ((SHAPE_COLUMN,) if result.tensor else ()) + (
        (CALL_COLUMN,) if result.graph.call_of else ())
    return COLUMNS[:4] + extra + COLUMNS[4:]


def rows(result, precision, max_rows=DEFAULT_MAX_NODES, top=None, only=None, full=False):
    """The rows to show, as tuples of strings, and a note on hidden rows ('' if none).

    Up to `max_rows` nodes (None: no limit) every node is shown; beyond, or with `only`,
    a summary chosen by bpdiff.render.selection (`top`: how many large gradients).
    Arrays over a dozen elements show as a summary unless `full`.
    """
    shown, note = summarised(result, max_rows, top, only)
    shown = range(len(result.graph) - 1, -1, -1) if shown is None else reversed(shown)
    exact = result.exact  # set by an --exact run
    return [_row(result, i, precision, exact, full) for i in shown], note


def _row(result, node, precision, exact=None, full=False):
    item = result.node(node)
    cells = [str(node), item.label, item.op,
             ", ".join(operand(result.graph, i) for i in item.inputs)]
    if result.tensor:
        cells.append(shape_text(item.value.shape))
    if result.graph.call_of:
        cells.append(item.call or "")
    if exact is not None:
        cells += [format_exact(exact.values[node], item.value, precision),
                  format_exact(exact.grads[node], item.grad, precision)]
    else:
        cells += [format_number(item.value, precision, full),
                  format_number(item.grad, precision, full)]
    return tuple(cells)


def summary(result, precision):
    """'L = -10;  ∂L/∂a = -2, ∂L/∂b = -4, ∂L/∂c = 5' for the output and each input."""
    graph = result.graph
    out = graph.name_of.get(graph.output, "out")
    exact = result.exact

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


def plain(result, precision, max_rows=DEFAULT_MAX_NODES, top=None, only=None, full=False):
    """The table as aligned plain text (no colour, no box drawing), ending in a newline."""
    body, note = rows(result, precision, max_rows, top, only, full)
    text = plain_rows(columns(result), body, NUMERIC)
    text += (note + "\n" if note else "") + summary(result, precision) + "\n"
    if result.exact is not None and "≈" in text:
        text += EXACT_NOTE + "\n"
    return text


def plain_rows(columns, body, numeric):
    """Rows of strings as aligned text under a header; `numeric` columns right-aligned."""
    widths = [max([len(h), *(len(r[k]) for r in body)]) for k, h in enumerate(columns)]
    lines = []
    for cells in (columns, *body):
        padded = [cell.rjust(w) if columns[k] in numeric else cell.ljust(w)
                  for k, (cell, w) in enumerate(zip(cells, widths))]
        lines.append("  ".join(padded).rstrip())
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines) + "\n"


def rich_table(result, precision, max_rows=DEFAULT_MAX_NODES, top=None, only=None, full=False):
    """The table and summary as rich renderables for a terminal."""
    from rich.table import Table
    from rich.text import Text

    body, note = rows(result, precision, max_rows, top, only, full)
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
    if result.exact is not None and any("≈" in c for r in body for c in r):
        line += "\n" + EXACT_NOTE
    return table, Text(line, style="bold")
