"""`--format markdown|latex|csv`: the table, --explain, --locals and --symbolic for
solution sheets (Markdown, LaTeX) and for machines (CSV).

Markdown is GitHub-flavoured: pipe tables, numbers right-aligned, and every character
Markdown could read as markup (`*`, `_`, `|`, ...) escaped with a backslash, so `a*b*c`
stays as written. CSV is RFC 4180 (the csv module: quoting as needed, CRLF line ends),
one header row, numbers at full precision (Python's repr: `0.1`, `270.0`, `nan`, `inf`;
empty where a node has no gradient), a node's inputs as ids separated by spaces. CSV
holds the table, --locals or --symbolic, one at a time, and the rows the table would
show; what a summary hides is said on stderr instead. LaTeX is in bpdiff.render.latex.
These only format what bpdiff.api and bpdiff.render.explain computed.

May import: bpdiff.render.table, bpdiff.render.explain, bpdiff.render.gradients,
bpdiff.render.selection, bpdiff.render.labels, bpdiff.render.latex, csv, io, re.
"""

SHEET_FORMATS = ("text", "markdown", "latex", "csv")


def sheet(result, fmt, precision, summary=(200, None, None), explain=False, locals_=False,
          symbolic=None, symbolic_max=2000):
    """(text, note): `result` as `fmt` ('markdown', 'latex' or 'csv'). The table when
    none of `explain`, `locals_` and `symbolic` (name -> expression text, from
    render.gradients) is given, else those sections in that order. `summary` is
    (max_rows, top, only) as for the table. `note` is what a CSV table hides ('' if
    nothing), for stderr."""
    if fmt == "csv":
        return _csv(result, summary, locals_, symbolic)
    if fmt == "latex":
        from . import latex as module
    else:
        module = _Markdown
    sections = []
    if not (explain or locals_ or symbolic is not None):
        sections.append(module.table(result, precision, summary))
    if explain:
        sections.append(module.explain(result, precision))
    if locals_:
        sections.append(module.locals_table(result, precision))
    if symbolic is not None:
        sections.append(module.symbolic(result, symbolic, symbolic_max))
    text = "\n".join(sections)
    return (module.PREAMBLE + text if fmt == "latex" else text), ""


# ---------------------------------------------------------------------------------------
# Markdown


_MARKDOWN_SPECIAL = "\\`*_[]<>|~"  # what inline Markdown could read as markup


def md_escape(text):
    """`text` with every Markdown markup character backslash-escaped (GitHub renders
    `\\*` as `*`; inside a table cell `\\|` is a literal pipe)."""
    return "".join("\\" + c if c in _MARKDOWN_SPECIAL else c for c in text)


def md_table(columns, rows, numeric):
    """A GitHub pipe table; `numeric` columns right-aligned. Cells are escaped here."""
    lines = ["| " + " | ".join(md_escape(c) for c in columns) + " |",
             "|" + "|".join("---:" if c in numeric else ":---" for c in columns) + "|"]
    lines += ["| " + " | ".join(md_escape(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


class _Markdown:
    """The Markdown renderers (a namespace, as bpdiff.render.latex is a module)."""

    @staticmethod
    def table(result, precision, summary):
        """The node table, then the note on hidden rows and the summary line."""
        from .table import COLUMNS, NUMERIC, rows
        from .table import summary as summary_line

        body, note = rows(result, precision, *summary)
        text = md_table(COLUMNS, body, NUMERIC) + "\n"
        if note:
            text += f"_{md_escape(note)}_\n\n"
        return text + md_escape(summary_line(result, precision)) + "\n"

    @staticmethod
    def explain(result, precision):
        """The narration as nested lists under bold headings (the same lines as the
        text narration, one indentation level per list level)."""
        from .explain import explain_text

        lines = []
        for line in explain_text(result, precision).splitlines():
            depth = (len(line) - len(line.lstrip(" "))) // 2
            if not line.strip():
                lines.append("")
            elif depth == 0:
                lines += [f"**{md_escape(line)}**", ""]
            else:
                lines.append("  " * (depth - 1) + "- " + md_escape(line.strip()))
        return "\n".join(lines) + "\n"

    @staticmethod
    def locals_table(result, precision):
        """The --locals edge table."""
        from .explain import LOCALS_COLUMNS, locals_rows

        rows = [tuple("" if cell is None else cell for cell in row)
                for row in locals_rows(result, precision)]
        return md_table(LOCALS_COLUMNS, rows, {"local", "upstream", "contribution"})

    @staticmethod
    def symbolic(result, gradients, max_chars):
        """One list item per gradient expression."""
        from .gradients import symbolic_text

        return "".join(f"- {md_escape(line)}\n"
                       for line in symbolic_text(result, gradients, max_chars).splitlines())


# ---------------------------------------------------------------------------------------
# CSV


TABLE_CSV_COLUMNS = ("id", "label", "op", "inputs", "name", "value", "gradient")
LOCALS_CSV_COLUMNS = ("source", "node", "position", "edge", "derivative", "formula",
                      "local", "upstream", "contribution")
SYMBOLIC_CSV_COLUMNS = ("wrt", "derivative", "expression")


def full(x):
    """A number at full precision for CSV: repr (round-trips through float()); '' for
    None (no gradient)."""
    return "" if x is None else repr(float(x))


def _csv(result, summary, locals_, symbolic):
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer)  # RFC 4180: minimal quoting, CRLF line ends
    note = ""
    if locals_:
        writer.writerow(LOCALS_CSV_COLUMNS)
        writer.writerows(_locals_records(result))
    elif symbolic is not None:
        out = result.graph.name_of.get(result.graph.output, "out")
        writer.writerow(SYMBOLIC_CSV_COLUMNS)
        writer.writerows((name, f"∂{out}/∂{name}", "" if text is None else text)
                         for name, text in symbolic.items())
    else:
        from .labels import all_labels, op_name
        from .selection import summarised

        graph = result.graph
        shown, note = summarised(result, *summary)
        ids = range(len(graph) - 1, -1, -1) if shown is None else reversed(shown)
        exact = getattr(result, "exact", None)
        labels = all_labels(graph)
        writer.writerow(TABLE_CSV_COLUMNS + (("value_exact", "gradient_exact") if exact else ()))
        for i in ids:
            row = [i, labels[i], op_name(graph, i), " ".join(map(str, graph.inputs[i])),
                   graph.name_of.get(i, ""), full(result.values[i]), full(result.grads[i])]
            if exact is not None:
                row += [_fraction(exact.values[i]), _fraction(exact.grads[i])]
            writer.writerow(row)
    return buffer.getvalue(), note


def _fraction(q):
    from .numbers import format_fraction

    return "" if q is None else format_fraction(q)


def _locals_records(result):
    from .explain import edge_formula, references

    ref = references(result.graph)
    for e in result.edges:
        formula = edge_formula(result, e, ref)
        yield (e.source, e.node, e.position, f"{ref(e.source)} → {ref(e.node)}",
               f"∂{ref(e.node)}/∂{ref(e.source)}", "" if formula is None else formula,
               full(e.local), full(e.upstream), full(e.contribution))
