"""`--format latex`: the table, --locals, --explain and --symbolic as LaTeX fragments
to paste into a solution sheet (they need `\\usepackage{amsmath,booktabs}`).

The table and --locals are booktabs tabulars with every label, formula and number in
math mode; gradients are \\frac{\\partial L}{\\partial a}; --explain is two align*
environments (forward, then backward with each node's local derivatives and the sum
over its uses, step by step), --symbolic one. Expressions, names and numbers become
LaTeX through bpdiff.render.texmath; nothing is computed here.
"""

from typing import NamedTuple

from bpdiff.render import texmath
from bpdiff.render.texmath import number, text

PREAMBLE = "% bpdiff: needs \\usepackage{amsmath,booktabs}\n"
NUMBER_WORDS = ("inf", "nan")  # texmath reads these as numbers (\infty, \mathrm{NaN})


class _Tex(NamedTuple):
    """texmath's math() and partial() for one program: its names inf and nan stay
    names, not numbers (a constant printed as inf shares the spelling; in such a
    program it is taken as the name too)."""

    kept: dict

    def math(self, source, values=None):
        """texmath.math with the kept names."""
        return texmath.math(source, {**self.kept, **(values or {})} if self.kept else values)

    def partial(self, of, wrt):
        """∂of/∂wrt as a fraction, as texmath.partial."""
        return f"\\frac{{\\partial {self.math(of)}}}{{\\partial {self.math(wrt)}}}"


def _tex(graph):
    return _Tex({word: f"\\mathit{{{word}}}" for word in NUMBER_WORDS
                 if word in graph.names or word in graph.declared})


def tabular(columns, rows, numeric):
    """A booktabs tabular; cells are LaTeX already, `numeric` columns right-aligned."""
    spec = "".join("r" if c in numeric else "l" for c in range(len(columns)))
    lines = [f"\\begin{{tabular}}{{{spec}}}", "\\toprule", " & ".join(columns) + " \\\\",
             "\\midrule"]
    lines += [" & ".join(row) + " \\\\" for row in rows]
    lines += ["\\bottomrule", "\\end{tabular}"]
    return "\n".join(lines) + "\n"


def _output_ref(result):
    return result.graph.name_of.get(result.graph.output, "out")


def _refs(cell, tex):
    return ", ".join(f"${tex.math(part)}$" for part in cell.split(", ")) if cell else ""


def table(result, precision, summary=(200, None, None)):
    """The node table as a tabular, the note on hidden rows, and the output's value
    and gradients as inline math."""
    from bpdiff.numbers import format_exact, format_number
    from bpdiff.render.table import rows

    body, note = rows(result, precision, *summary)
    out = _output_ref(result)
    tex = _tex(result.graph)
    columns = ("id", "label", "op", "inputs", "value", f"${tex.partial(out, 'v')}$")
    # a call column (user functions) may sit before value and gradient, the last two
    cells = [(node, f"${tex.math(label)}$", f"\\texttt{{{text(op)}}}", _refs(inputs, tex),
              f"${number(value)}$", f"${number(grad)}$")
             for (node, label, op, inputs, *_), value, grad in ((r, r[-2], r[-1]) for r in body)]
    latex = tabular(columns, cells, {0, 4, 5})
    if note:
        latex += f"\n\\noindent {text(note)}\n"
    graph, exact = result.graph, result.exact

    def shown(x, node, stage):
        if exact is None:
            return number(format_number(x, precision))
        return number(format_exact(getattr(exact, stage)[node], x, precision))

    parts = [f"${tex.math(out)} = {shown(result.value, graph.output, 'values')}$"]
    parts += [f"${tex.partial(out, n)} = {shown(g, graph.variables[n], 'grads')}$"
              for n, g in result.gradient.items()]
    return latex + "\n\\noindent " + ", ".join(parts) + "\n"


def locals_table(result, precision):
    """One row per edge: the edge, ∂node/∂source, its formula and value, upstream,
    contribution."""
    from bpdiff.render.explain import edge_formula, references
    from bpdiff.numbers import format_number

    ref = references(result.graph)
    tex = _tex(result.graph)
    rows = []
    for e in result.edges:
        formula = edge_formula(result, e, ref)
        rows.append((f"${tex.math(ref(e.source))} \\to {tex.math(ref(e.node))}$",
                     f"${tex.partial(ref(e.node), ref(e.source))}$",
                     "" if formula is None else f"${_formula(formula, tex)}$",
                     *(f"${number(format_number(x, precision))}$"
                       for x in (e.local, e.upstream, e.contribution))))
    columns = ("edge", "derivative", "formula", "local", "upstream", "contribution")
    return tabular(columns, rows, {3, 4, 5})


def _formula(formula, tex):
    """A local derivative formula; at a kink, the convention used, as text."""
    if formula.startswith("["):
        return f"\\text{{{text(formula)}}}"
    return tex.math(formula)


def symbolic(result, gradients, max_chars):
    """The gradient expressions in an align* environment."""
    out = _output_ref(result)
    tex = _tex(result.graph)
    lines = []
    for wrt, expression in gradients.items():
        rhs = (tex.math(expression) if expression is not None else
               f"\\text{{(over {max_chars:,} characters: raise --symbolic-max)}}")
        lines.append(f"{tex.partial(out, wrt)} &= {rhs}")
    return _align(lines)


def _align(lines):
    """An align* environment of `lines`; every row but the last ends in \\\\, an
    \\intertext line (which must follow one) excepted."""
    body = []
    for k, line in enumerate(lines):
        last = k + 1 == len(lines) or line.startswith("\\intertext")
        body.append(line if last else line + " \\\\")
    return "\\begin{align*}\n" + "\n".join(body) + "\n\\end{align*}\n"


def explain(result, precision):
    """The forward and backward narration, each pass an align* environment: every
    node's value from its operands, then each node's local derivatives and the sum over
    its uses (as fractions of partials, then numbers)."""
    from bpdiff.render.explain import explain_steps
    from bpdiff.language.labels import operand
    from bpdiff.numbers import format_number

    graph = result.graph
    tex = _tex(graph)
    fmt = lambda x: number(format_number(x, precision))  # noqa: E731
    steps = explain_steps(result)
    out = _output_ref(result)
    forward = []
    for step in (s for s in steps if s["stage"] == "forward"):
        if step.get("input"):
            forward.append(f"{tex.math(step['ref'])} &= {fmt(step['value'])}"
                           " && \\text{(input)}")
            continue
        refs = [operand(graph, i) for i in graph.inputs[step["node"]]]
        values = {r: format_number(v, precision) for r, v in zip(refs, step["operands"])}
        parts = [tex.math(step["ref"]), tex.math(step["expression"]),
                 tex.math(step["expression"], values), fmt(step["value"])]
        parts = list(dict.fromkeys(parts))
        forward.append(f"{parts[0]} &= " + " = ".join(parts[1:]))
    backward = []
    for step in (s for s in steps if s["stage"] == "backward"):
        if not step["terms"]:
            backward.append(f"{tex.partial(out, step['ref'])} &= 1"
                            " && \\text{(the output: the seed)}")
            continue
        backward += _backward_lines(out, step, fmt, tex)
    return ("\\noindent Forward pass (inputs first; each node from its operands):\n"
            + _align(forward)
            + f"\\noindent Backward pass (${tex.partial(out, 'v')}$, output first; upstream"
              " $\\times$ local, summed over uses):\n" + _align(backward))


def _backward_lines(out, step, fmt, tex):
    target = step["ref"]
    terms = step["terms"]
    users = list(dict.fromkeys(t["via_ref"] for t in terms))
    lines = [f"\\intertext{{${tex.math(target)}$, used by"
             f" {' and '.join(f'${tex.math(u)}$' for u in users)}:}}"]
    if users == [out] and len(terms) == 1:  # upstream is the seed 1: grad = local
        formula = _term_formula(terms[0], fmt, tex)
        return lines + [f"{tex.partial(out, target)} &= {formula}{fmt(step['grad'])}"]
    for term in terms:
        lines.append(f"{tex.partial(term['via_ref'], target)} &= "
                     f"{_term_formula(term, fmt, tex)}{fmt(term['local'])}")
    symbols = " + ".join(f"{tex.partial(out, t['via_ref'])} \\,"
                         f" {tex.partial(t['via_ref'], target)}" for t in terms)
    numbers = " + ".join(f"({fmt(t['upstream'])})({fmt(t['local'])})" for t in terms)
    lines.append(f"{tex.partial(out, target)} &= {symbols}")
    lines.append(f"&= {numbers}")
    if len(terms) > 1:
        lines.append("&= " + " + ".join(fmt(t["contribution"]) for t in terms))
    lines[-1] += f" = {fmt(step['grad'])}"
    return lines


def _term_formula(term, fmt, tex):
    """'formula = ' before a local derivative's value, or '' when it is just the value."""
    formula = term["formula"]
    if formula is None:
        return ""
    latex = _formula(formula, tex)
    return "" if latex == fmt(term["local"]) else f"{latex} = "
