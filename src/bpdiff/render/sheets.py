"""`--format markdown|latex|csv`: the table, --explain, --locals and --symbolic for
solution sheets (Markdown, LaTeX: bpdiff.render.markdown, bpdiff.render.latex) and for
machines (CSV, here).

CSV is RFC 4180 (the csv module: quoting as needed, CRLF line ends),
one header row, numbers at full precision (Python's repr: `0.1`, `270.0`, `nan`, `inf`;
empty where a node has no gradient), a node's inputs as ids separated by spaces. CSV
holds the table, --locals or --symbolic, one at a time, and the rows the table would
show; what a summary hides is said on stderr instead. These only format what
bpdiff.api and bpdiff.render.explain computed.
"""

from bpdiff.render.selection import DEFAULT_MAX_NODES

SHEET_FORMATS = ("text", "markdown", "latex", "csv")


def sheet(result, fmt, precision, summary=(DEFAULT_MAX_NODES, None, None), explain=False,
          locals_=False, symbolic=None, symbolic_max=None):
    """(text, note): `result` as `fmt` ('markdown', 'latex' or 'csv'). The table when
    none of `explain`, `locals_` and `symbolic` (name -> expression text, from
    render.gradients.symbolic_gradients) is given, else those sections in that order.
    `summary` is (max_rows, top, only) as for the table; `symbolic_max` the length the
    expressions were cut at (default: bpdiff.analyses.symbolic's). `note` is what a CSV
    table hides ('' if nothing), for stderr."""
    if fmt == "csv":
        return _csv(result, summary, locals_, symbolic)
    if fmt == "latex":
        from bpdiff.render import latex as module
    else:
        from bpdiff.render import markdown as module
    sections = []
    if not (explain or locals_ or symbolic is not None):
        sections.append(module.table(result, precision, summary))
    if explain:
        sections.append(module.explain(result, precision))
    if locals_:
        sections.append(module.locals_table(result, precision))
    if symbolic is not None:
        if symbolic_max is None:
            from bpdiff.analyses.symbolic import DEFAULT_MAX_CHARS as symbolic_max
        sections.append(module.symbolic(result, symbolic, symbolic_max))
    text = "\n".join(sections)
    return (module.PREAMBLE + text if fmt == "latex" else text), ""


# ---------------------------------------------------------------------------------------
# CSV


TABLE_CSV_COLUMNS = ("id", "label", "op", "inputs", "name", "value", "gradient")
LOCALS_CSV_COLUMNS = ("source", "node", "position", "edge", "derivative", "formula",
                      "local", "upstream", "contribution")
SYMBOLIC_CSV_COLUMNS = ("wrt", "derivative", "expression")


def full(x):
    """A number at full precision for CSV: repr (round-trips through float()); '' for
    None (no gradient); an array as nested lists of those, '[[1.0, 2.5], ...]'."""
    if x is None:
        return ""
    if getattr(x, "ndim", 0):
        return str(x.tolist())
    return repr(float(x))


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
        from bpdiff.language.labels import all_labels, op_name
        from bpdiff.render.selection import summarised

        graph = result.graph
        shown, note = summarised(result, *summary)
        ids = range(len(graph) - 1, -1, -1) if shown is None else reversed(shown)
        exact = result.exact
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
    from bpdiff.numbers import format_fraction

    return "" if q is None else format_fraction(q)


def _locals_records(result):
    from bpdiff.render.explain import edge_formula, references

    ref = references(result.graph)
    for e in result.edges:
        formula = edge_formula(result, e, ref)
        yield (e.source, e.node, e.position, f"{ref(e.source)} → {ref(e.node)}",
               f"∂{ref(e.node)}/∂{ref(e.source)}", "" if formula is None else formula,
               full(e.local), full(e.upstream), full(e.contribution))
