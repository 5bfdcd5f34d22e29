"""The chain rule written out: `--explain` narration and the `--locals` edge table.

explain_steps() turns a Result into structured steps (also what JSON's "explain" holds);
the text renderers only format those steps. Local derivative formulas come from the
primitive table through bpdiff.symbolic; their values from the backward pass's edges.

May import: bpdiff.graph, bpdiff.symbolic, bpdiff.render.labels, bpdiff.render.numbers.
"""

import re

from ..graph import CONST, VAR
from ..symbolic import local_formula
from .labels import call_label, expression, operand
from .numbers import format_number


def references(graph):
    """How nodes are named in ∂ notation: their name, 'out' for an unnamed output, else #id."""
    def ref(node):
        name = graph.name_of.get(node)
        if name is not None:
            return name
        if graph.ops[node] is CONST:
            return operand(graph, node)
        return "out" if node == graph.output else f"#{node}"
    return ref


def explain_steps(result):
    """Forward steps in topological order, then backward steps output first."""
    graph, values = result.graph, result.values
    ref = references(graph)
    steps = []
    for node, op in enumerate(graph.ops):
        if op is CONST:
            continue
        step = {"stage": "forward", "node": node, "ref": ref(node), "value": values[node]}
        if op is VAR:
            step["input"] = True
        else:
            step["expression"] = expression(graph, node)
            step["operands"] = [values[i] for i in graph.inputs[node]]
            if node in graph.call_of:
                step["call"] = call_label(graph, node)
        steps.append(step)
    uses = {}
    for edge in result.edges:
        uses.setdefault(edge.source, []).append(edge)
    out = ref(graph.output)
    steps.append({"stage": "backward", "node": graph.output, "ref": out, "grad": 1.0,
                  "terms": []})
    for node in range(graph.output - 1, -1, -1):
        if result.grads[node] is None or node not in uses:
            continue
        terms = [{"via": e.node, "via_ref": ref(e.node), "upstream": e.upstream,
                  "formula": edge_formula(result, e, ref),
                  "local": e.local, "contribution": e.contribution}
                 for e in sorted(uses[node], key=lambda e: (e.node, e.position))]
        steps.append({"stage": "backward", "node": node, "ref": ref(node),
                      "grad": result.grads[node], "terms": terms})
    return steps


def edge_formula(result, edge, ref):
    """The local derivative's formula; at a kink, the convention used instead (the
    formula holds only where the derivative exists)."""
    if edge.node in result.kinks:
        return f"[{result.graph.ops[edge.node].kink}]"
    return local_formula(result.graph, edge.node, edge.position, ref)


def explain_text(result, precision):
    """The narration as plain text lines, ending in a newline."""
    fmt = lambda x: format_number(x, precision)  # noqa: E731
    steps = explain_steps(result)
    out = result.graph.name_of.get(result.graph.output, "out")
    lines = ["Forward pass (inputs first; each node from its operands):"]
    for step in steps:
        if step["stage"] != "forward":
            continue
        if step.get("input"):
            lines.append(f"  {step['ref']} = {fmt(step['value'])}   (input)")
            continue
        with_numbers = _substitute(step["expression"], step["operands"], result.graph,
                                   step["node"], fmt)
        parts = [step["ref"], step["expression"], with_numbers, fmt(step["value"])]
        call = f"   (in {step['call']})" if "call" in step else ""
        lines.append("  " + " = ".join(dict.fromkeys(parts)) + call)  # each distinct form once
    lines.append("")
    lines.append(f"Backward pass (∂{out}/∂node, output first; upstream × local, summed over uses):")
    for step in steps:
        if step["stage"] != "backward":
            continue
        if not step["terms"]:
            lines.append(f"  ∂{out}/∂{step['ref']} = 1   (the output: the seed)")
            continue
        lines.extend(_backward_lines(out, step, fmt))
    return "\n".join(lines) + "\n"


def _backward_lines(out, step, fmt):
    target = step["ref"]
    users = list(dict.fromkeys(t["via_ref"] for t in step["terms"]))
    lines = [f"  {target}, used by {' and '.join(users)}:"]
    if users == [out] and len(step["terms"]) == 1:  # upstream is the seed 1: grad = local
        term = step["terms"][0]
        formula = "" if term["formula"] == fmt(term["local"]) else f" = {term['formula']}"
        return lines + [f"    ∂{out}/∂{target}{formula} = {fmt(step['grad'])}"]
    for term in step["terms"]:
        via, value = term["via_ref"], fmt(term["local"])
        formula = "" if term["formula"] == value else f" = {term['formula']}"
        lines.append(f"    ∂{via}/∂{target}{formula} = {value}")
    symbols = " + ".join(f"(∂{out}/∂{t['via_ref']})(∂{t['via_ref']}/∂{target})"
                         for t in step["terms"])
    numbers = " + ".join(f"({fmt(t['upstream'])})({fmt(t['local'])})" for t in step["terms"])
    products = " + ".join(fmt(t["contribution"]) for t in step["terms"])
    line = f"    ∂{out}/∂{target} = {symbols} = {numbers}"
    if len(step["terms"]) > 1:
        line += f" = {products}"
    lines.append(line + f" = {fmt(step['grad'])}")
    return lines


def _substitute(text, operand_values, graph, node, fmt):
    """The node's expression with its operands' values in place of their references."""
    refs = [operand(graph, i) for i in graph.inputs[node]]
    pieces = {ref: fmt(v) if v >= 0 or v != v else f"({fmt(v)})"
              for ref, v in zip(refs, operand_values)}
    return "".join(pieces.get(t, t) for t in _REFERENCE.findall(text))


_REFERENCE = re.compile(r"#\d+|[A-Za-z_][A-Za-z0-9_]*\(|[A-Za-z_][A-Za-z0-9_]*|[^#A-Za-z_]+")


def locals_rows(result, precision):
    """One row per edge, in backward order: edge, formula, local, upstream, contribution."""
    graph = result.graph
    ref = references(graph)
    fmt = lambda x: format_number(x, precision)  # noqa: E731
    return [(f"{ref(e.source)} → {ref(e.node)}", f"∂{ref(e.node)}/∂{ref(e.source)}",
             edge_formula(result, e, ref), fmt(e.local), fmt(e.upstream),
             fmt(e.contribution))
            for e in result.edges]


LOCALS_COLUMNS = ("edge", "derivative", "formula", "local", "upstream", "contribution")
