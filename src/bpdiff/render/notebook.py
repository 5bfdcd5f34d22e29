"""What a notebook shows of a Result: an HTML fragment (the node table, the summary and
the interactive report, folded) and a LaTeX display for MathJax front ends.

The report is the whole `--html` page (bpdiff.render.html), inlined in an <iframe>'s
`srcdoc` with `sandbox="allow-scripts"`: its CSS and script run in a document of their
own, with an opaque origin, so nothing of them reaches the notebook's page, and nothing
of the notebook's reaches them. The fragment itself has no <style> and no script.
Only formats what the Result holds; nothing is computed here.
"""

from html import escape

from bpdiff.numbers import DEFAULT_PRECISION
from bpdiff.render.selection import DEFAULT_MAX_NODES

REPORT_HEIGHT = 720  # pixels: the report's graph, controls and a part of the narration


def html_fragment(result, precision=DEFAULT_PRECISION, max_rows=DEFAULT_MAX_NODES,
                  report=True):
    """The table, the summary line, the run's notes and warnings and (`report`) the interactive
    report in a closed <details>, as one HTML fragment. `result` must hold its edges
    when `report` is true (differentiate(..., edges=True))."""
    from bpdiff.render.table import NUMERIC, columns, rows, summary

    body, note = rows(result, precision, max_rows)
    heads = columns(result)
    right = ' style="text-align:right"'
    lines = ['<div class="bpdiff-result">', "<table>", "<thead><tr>"]
    lines += [f"<th{right if h in NUMERIC else ''}>{escape(h)}</th>" for h in heads]
    lines.append("</tr></thead><tbody>")
    for cells in body:
        lines.append("<tr>" + "".join(
            f"<td{right if h in NUMERIC else ''}>{escape(cell)}</td>"
            for h, cell in zip(heads, cells)) + "</tr>")
    lines.append("</tbody></table>")
    if note:
        lines.append(f"<p><em>{escape(note)}</em></p>")
    lines.append(f"<p><strong>{escape(summary(result, precision))}</strong></p>")
    lines += [f"<p>warning: {escape(text)}</p>" for text in warnings(result)]
    if report:
        lines.append(_report(result, precision, max_rows))
    lines.append("</div>")
    return "\n".join(lines) + "\n"


def warnings(result):
    """What the command says on stderr about a run: its notes, the first non-finite
    numbers and the kinks met (bpdiff.render.nonfinite's words)."""
    from bpdiff.render.nonfinite import describe_kink, describe_nonfinite

    return [*result.graph.notes, *(describe_nonfinite(result, f) for f in result.nonfinite),
            *(describe_kink(result, node) for node in result.kinks)]


def _report(result, precision, max_rows):
    from bpdiff.engine.sizes import total_elements
    from bpdiff.render.html import MAX_NUMBERS, report

    numbers = total_elements(result.values)
    if numbers > MAX_NUMBERS:
        return (f"<p>(no interactive report: it would hold {numbers:,} values, more than"
                f" {MAX_NUMBERS:,})</p>")
    page = report(result, False, precision, max_rows)
    return ('<details class="bpdiff-report"><summary>Interactive report: step through the'
            ' forward and backward passes</summary>\n'
            f'<iframe title="bpdiff report" sandbox="allow-scripts"'
            f' style="width:100%;height:{REPORT_HEIGHT}px;border:1px solid #d0d7de"'
            f' srcdoc="{escape(page, quote=True)}"></iframe>\n</details>')


def latex_display(result, precision=DEFAULT_PRECISION, max_rows=DEFAULT_MAX_NODES):
    """The table as a MathJax-friendly display (`$$\\begin{array}...$$`, no tabular),
    then the output's value and gradients; None for an array program (its numbers have
    no LaTeX form here)."""
    if result.tensor:
        return None
    from bpdiff.language.labels import label, operand
    from bpdiff.language.printer import LATEX, latex_reference
    from bpdiff.numbers import format_exact, format_number
    from bpdiff.render.table import rows
    from bpdiff.render.texmath import number, partial

    graph, exact = result.graph, result.exact
    body, note = rows(result, precision, max_rows)
    out = graph.name_of.get(graph.output, "out")
    lines = ["$$", "\\begin{array}{rlllrr}",
             "\\text{id} & \\text{label} & \\text{op} & \\text{inputs} & \\text{value} & "
             f"{partial(out, 'v')} \\\\ \\hline"]
    for row in body:
        node = int(row[0])
        op = row[2].replace("_", "\\_")
        inputs = ", ".join(operand(graph, i, LATEX) for i in graph.inputs[node])
        lines.append(f"{node} & {label(graph, node, LATEX)} & \\mathtt{{{op}}} & {inputs}"
                     f" & {_number(row[-2])} & {_number(row[-1])} \\\\")
    lines += ["\\end{array}", "$$"]

    def shown(x, node, stage):
        if exact is None:
            return number(format_number(x, precision))
        return number(format_exact(getattr(exact, stage)[node], x, precision))

    parts = [f"{latex_reference(out)} = {shown(result.value, graph.output, 'values')}"]
    parts += [f"{partial(out, name)} = {shown(g, graph.variables[name], 'grads')}"
              for name, g in result.gradient.items()]
    if note:
        lines.append(f"$$\\text{{{_mathjax_text(note)}}}$$")
    lines.append("$$" + ",\\quad ".join(parts) + "$$")
    return "\n".join(lines) + "\n"


def _number(formatted):
    """A table cell's number in math mode; no gradient as a dash MathJax shows."""
    from bpdiff.render.texmath import number

    return "\\text{—}" if formatted.strip() in ("—", "") else number(formatted)


def _mathjax_text(text):
    """Text for MathJax's \\text{} (which reads no macros): braces and backslashes
    dropped, the rest as it is."""
    return "".join(c for c in text if c not in "{}\\$")
