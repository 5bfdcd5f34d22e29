"""`--format markdown`: the table, --explain, --locals and --symbolic as GitHub-flavoured
Markdown for solution sheets: pipe tables with numbers right-aligned, the narration as
nested lists under bold headings, and every character Markdown could read as markup
(`*`, `_`, `|`, ...) escaped with a backslash, so `a*b*c` and `_x_` stay as written.
Only formats what bpdiff.render.table, explain and gradients computed.
"""

_SPECIAL = "\\`*_[]<>|~"  # what inline Markdown could read as markup


def escape(text):
    """`text` with every Markdown markup character backslash-escaped (GitHub renders
    `\\*` as `*`; inside a table cell `\\|` is a literal pipe)."""
    return "".join("\\" + c if c in _SPECIAL else c for c in text)


def pipe_table(columns, rows, numeric):
    """A GitHub pipe table; `numeric` columns right-aligned. Cells are escaped here."""
    lines = ["| " + " | ".join(escape(c) for c in columns) + " |",
             "|" + "|".join("---:" if c in numeric else ":---" for c in columns) + "|"]
    lines += ["| " + " | ".join(escape(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def table(result, precision, summary):
    """The node table, then the note on hidden rows and the summary line."""
    from bpdiff.render.table import NUMERIC, columns, rows
    from bpdiff.render.table import summary as summary_line

    body, note = rows(result, precision, *summary)
    text = pipe_table(columns(result), body, NUMERIC) + "\n"
    if note:
        text += f"_{escape(note)}_\n\n"
    return text + escape(summary_line(result, precision)) + "\n"


def explain(result, precision):
    """The narration as nested lists under bold headings (the same lines as the text
    narration, one indentation level per list level)."""
    from bpdiff.render.explain import explain_text

    lines = []
    for line in explain_text(result, precision).splitlines():
        depth = (len(line) - len(line.lstrip(" "))) // 2
        if not line.strip():
            lines.append("")
        elif depth == 0:
            lines += [f"**{escape(line)}**", ""]
        else:
            lines.append("  " * (depth - 1) + "- " + escape(line.strip()))
    return "\n".join(lines) + "\n"


def locals_table(result, precision):
    """The --locals edge table."""
    from bpdiff.render.explain import LOCALS_COLUMNS, locals_rows

    rows = [tuple("" if cell is None else cell for cell in row)
            for row in locals_rows(result, precision)]
    return pipe_table(LOCALS_COLUMNS, rows, {"local", "upstream", "contribution"})


def symbolic(result, gradients, max_chars):
    """One list item per gradient expression."""
    from bpdiff.render.gradients import symbolic_text

    return "".join(f"- {escape(line)}\n"
                   for line in symbolic_text(result, gradients, max_chars).splitlines())
