"""The chain rule written out: `--explain` narration and the `--locals` edge table.

explain_steps() turns a Result into structured steps (also what JSON's "explain" holds);
the text renderers only format those steps. Local derivative formulas come from the
primitive table through bpdiff.analyses.symbolic; their values from the backward pass's edges.
"""

import re

from bpdiff.engine.graph import CONST, VAR
from bpdiff.analyses.symbolic import local_formula
from bpdiff.language.labels import call_label, expression, operand
from bpdiff.language.printer import SYMBOLIC, Leaf
from bpdiff.numbers import format_number, shape_text


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


def explain_steps(result, style=SYMBOLIC):
    """Forward steps in topological order, then backward steps output first; local
    derivative formulas printed in `style` (a bpdiff.language.printer style)."""
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
    if not result.has_gradients:  # an array output with no seed: no backward pass
        return steps
    uses = {}
    for edge in result.edges:
        uses.setdefault(edge.source, []).append(edge)
    out = ref(graph.output)
    steps.append({"stage": "backward", "node": graph.output, "ref": out,
                  "grad": result.seed, "terms": []})
    for node in range(graph.output - 1, -1, -1):
        if result.grads[node] is None or node not in uses:
            continue
        terms = [{"via": e.node, "via_ref": ref(e.node), "upstream": e.upstream,
                  "formula": edge_formula(result, e, ref, style),
                  "local": e.local, "contribution": e.contribution}
                 for e in sorted(uses[node], key=lambda e: (e.node, e.position))]
        if result.tensor:
            for term, e in zip(terms, sorted(uses[node], key=lambda e: (e.node, e.position))):
                jacobian = jacobian_steps(result, e, ref)
                if jacobian is not None:
                    term["jacobian"] = jacobian
        steps.append({"stage": "backward", "node": node, "ref": ref(node),
                      "grad": result.grads[node], "terms": terms})
    return steps


def edge_formula(result, edge, ref, style=SYMBOLIC):
    """The local derivative's formula (in `style`); at a kink, the convention used
    instead, '[...]' (the formula holds only where the derivative exists). For a
    tensor-only op, the rule applied to the upstream gradient g = ∂out/∂node, e.g.
    '∂L/∂#2 @ x.T'."""
    graph = result.graph
    op = graph.ops[edge.node]
    if op.vjps is not None:
        refs = {f"{{{i}}}": ref(source) for i, source in enumerate(graph.inputs[edge.node])}
        refs["{out}"] = ref(edge.node)
        refs["g"] = f"∂{ref(graph.output)}/∂{ref(edge.node)}"
        return _PLACEHOLDER.sub(lambda match: refs[match.group()],
                                op.grad_formulas[edge.position])
    if edge.node in result.kinks:
        if result.tensor:  # some elements are at the kink, maybe not all
            return (f"{local_formula(graph, edge.node, edge.position, ref, style)}"
                    f" [{result.kink_policy.text(op)}]")
        return f"[{result.kink_policy.text(op)}]"
    return local_formula(graph, edge.node, edge.position, ref, style)


_PLACEHOLDER = re.compile(r"\{\d+\}|\{out\}|\bg\b")
_TEMPLATE = re.compile(r"\{(\w+)(?::(shape|size|value))?\}")
_LETTER_SHAPE = re.compile(r"\(([a-z0-9]+(?:,[a-z0-9]+)*,?)?\)")
_INDEX_LETTERS = "ijklmn"
_NUMBER = re.compile(r"-?\d+(\.\d+)?")
_SIMPLE = re.compile(r"#?\w+")


def jacobian_steps(result, edge, ref):
    """For --explain on arrays, how the edge's contribution follows from its op's local
    Jacobian: {"element": one element of it, "rule": the vectorised rule, "shapes":
    the rule with each factor's shape}, from the primitive table's JacobianText; None
    where the op declares none for these shapes, or every value is a number."""
    from bpdiff.engine.ops import (BROADCAST_SUM, BROADCAST_USE, ELEMENTWISE_DIAGONAL,
                                   ELEMENTWISE_JACOBIAN)

    graph = result.graph
    op = graph.ops[edge.node]
    operands = [result.values[i] for i in graph.inputs[edge.node]]
    out_shape = _shape(result.values[edge.node])
    target, x_shape = ref(edge.source), _shape(operands[edge.position])
    if not out_shape and not x_shape:
        return None
    lhs = f"∂{ref(graph.output)}/∂{target}"
    fields = {"out": ref(edge.node), "g": f"∂{ref(graph.output)}/∂{ref(edge.node)}",
              "x": target, **{str(k): ref(i) for k, i in enumerate(graph.inputs[edge.node])},
              "axis": str(dict(op.params or ()).get("axis"))}  # a reduction's setting
    shapes = {"g": out_shape, "out": out_shape, "local": _shape(edge.local),
              **{str(k): _shape(v) for k, v in enumerate(operands)}}
    summed = used = ""
    if op.vjps is None:
        text = ELEMENTWISE_JACOBIAN
        from bpdiff.engine.sizes import broadcast_axes

        axes = broadcast_axes(x_shape, out_shape)
        letters = _INDEX_LETTERS[:len(out_shape)]
        offset = len(out_shape) - len(x_shape)
        fields.update(local=edge_formula(result, edge, ref), i=",".join(letters),
                      j=",".join("0" if offset + k in axes else letters[offset + k]
                                 for k in range(len(x_shape))))
        where = {**fields, "axes": ", ".join(letters[a] for a in axes),
                 "numbers": ", ".join(map(str, axes))}
        if axes:
            summed = _fill(BROADCAST_SUM, where, shapes, operands)
            used = _fill(BROADCAST_USE, where, shapes, operands)
        else:
            used = _fill(ELEMENTWISE_DIAGONAL, where, shapes, operands)
    else:
        cases = (op.jacobian_text or ((),) * op.arity)[edge.position]
        text = next((case for case in cases
                     if all(n is None or n == len(_shape(v))
                            for n, v in zip(case.ndims, operands))), None)
        if text is None:
            return None
    sizes = {}
    for dims, value in zip(text.dims, operands):
        sizes.update(zip(filter(None, dims.split(",")), _shape(value)))

    def fill(template):
        template = _LETTER_SHAPE.sub(lambda match: shape_text(tuple(
            int(sizes.get(d, d)) for d in filter(None, (match.group(1) or "").split(",")))),
            template)
        filled = _fill(template, fields, shapes, operands).replace("[]", "")
        local = fields.get("local")
        if local is not None and _NUMBER.fullmatch(local):  # '(1)[i]' reads as '1'
            filled = filled.replace(f"({local})[{fields['i']}]", local).replace(
                f"({local})", local)
        elif local is not None and _SIMPLE.fullmatch(local):  # '(x)[i]' as 'x[i]'
            filled = filled.replace(f"({local})", local)
        return filled

    return {"element": fill(text.element) + used.replace("[]", ""),
            "rule": f"{lhs} = {fill(text.rule)}{summed}",
            "shapes": f"{lhs} {shape_text(x_shape)} = {fill(text.shapes)}"
                      + (f", summed to {shape_text(x_shape)}" if summed else "")}


def _fill(template, fields, shapes, operands):
    """`template` with {name} as fields[name] and {name:shape}, {k:size}, {k:value} as
    that shape, operand k's element count or value."""
    def one(match):
        name, kind = match.groups()
        if kind == "shape":
            return shape_text(shapes[name])
        if kind == "size":
            return str(getattr(operands[int(name)], "size", 1))
        if kind == "value":
            return format_number(operands[int(name)])
        return fields[name]
    return _TEMPLATE.sub(one, template)


def explain_text(result, precision):
    """The narration as plain text lines, ending in a newline."""
    fmt = lambda x: format_number(x, precision)  # noqa: E731
    steps = explain_steps(result)
    out = result.graph.name_of.get(result.graph.output, "out")
    lines = ["Forward pass (inputs first; each node from its operands):"]
    for step in steps:
        if step["stage"] == "forward":
            lines.append(forward_line(result.graph, step, fmt))
    lines.append("")
    if not result.has_gradients:
        from bpdiff.api import seed_note
        return "\n".join([*lines, f"No backward pass: {seed_note(result)}."]) + "\n"
    lines.append(f"Backward pass (∂{out}/∂node, output first; upstream × local, summed over uses):")
    for step in steps:
        if step["stage"] == "backward":
            narrate = tensor_backward_lines if result.tensor else backward_lines
            lines.extend(narrate(out, step, fmt))
    return "\n".join(lines) + "\n"


def forward_line(graph, step, fmt):
    """One forward step as a line of the narration: '  #2 = a + b = 7 + 3 = 10'."""
    shape = getattr(step["value"], "shape", None)  # tensor mode: shown after the value
    shape = f"   shape {shape_text(shape)}" if shape is not None else ""
    if step.get("input"):
        return f"  {step['ref']} = {fmt(step['value'])}   (input){shape}"
    with_numbers = _with_values(graph, step["node"], step["operands"], fmt)
    parts = [step["ref"], step["expression"], with_numbers, fmt(step["value"])]
    call = f"   (in {step['call']})" if "call" in step else ""
    return "  " + " = ".join(dict.fromkeys(parts)) + shape + call  # each distinct form once


def backward_lines(out, step, fmt, hide_gradients=False):
    """One backward step as lines of the narration: the node's uses, their local
    derivatives and the sum over paths (`out` is how the output is referred to).
    With `hide_gradients` the sum is left as symbols, '= ?', for an exercise."""
    if not step["terms"]:
        return [f"  ∂{out}/∂{step['ref']} = 1   (the output: the seed)"]
    target = step["ref"]
    users = list(dict.fromkeys(t["via_ref"] for t in step["terms"]))
    lines = [f"  {target}, used by {' and '.join(users)}:"]
    if users == [out] and len(step["terms"]) == 1:  # upstream is the seed 1: grad = local
        term = step["terms"][0]
        formula = "" if term["formula"] == fmt(term["local"]) else f" = {term['formula']}"
        answer = "?" if hide_gradients else fmt(step["grad"])
        return lines + [f"    ∂{out}/∂{target}{formula} = {answer}"]
    for term in step["terms"]:
        via, value = term["via_ref"], fmt(term["local"])
        formula = "" if term["formula"] == value else f" = {term['formula']}"
        lines.append(f"    ∂{via}/∂{target}{formula} = {value}")
    symbols = " + ".join(f"(∂{out}/∂{t['via_ref']})(∂{t['via_ref']}/∂{target})"
                         for t in step["terms"])
    if hide_gradients:
        return lines + [f"    ∂{out}/∂{target} = {symbols} = ?"]
    numbers = " + ".join(f"({fmt(t['upstream'])})({fmt(t['local'])})" for t in step["terms"])
    products = " + ".join(fmt(t["contribution"]) for t in step["terms"])
    line = f"    ∂{out}/∂{target} = {symbols} = {numbers}"
    if len(step["terms"]) > 1:
        line += f" = {products}"
    lines.append(line + f" = {fmt(step['grad'])}")
    return lines


def tensor_backward_lines(out, step, fmt, hide_gradients=False):
    """backward_lines for arrays: each use's contribution (upstream ⊙ local for an
    elementwise op, summed back over broadcast axes; the op's rule applied to the
    upstream for the others), then their sum."""
    if not step["terms"]:
        if _shape(step["grad"]) == ():
            return backward_lines(out, step, fmt)
        return [f"  ∂{out}/∂{step['ref']} = {fmt(step['grad'])}   (the output: the seed)"]
    if hide_gradients:
        fmt = lambda x: "?"  # noqa: E731 - every number here follows from the gradients
    target = step["ref"]
    users = list(dict.fromkeys(t["via_ref"] for t in step["terms"]))
    lines = [f"  {target}, used by {' and '.join(users)}:"]
    for term in step["terms"]:
        via = term["via_ref"]
        if term["local"] is None:
            lines.append(f"    via {via}: {term['formula']} = {fmt(term['contribution'])}")
            lines.extend(_jacobian_lines(term))
            continue
        summed = (" (summed over broadcast axes)"
                  if _shape(term["upstream"]) != _shape(term["contribution"]) else "")
        lines.append(f"    via {via}: (∂{out}/∂{via}) ⊙ (∂{via}/∂{target} = {term['formula']})"
                     f" = ({fmt(term['upstream'])}) ⊙ ({fmt(term['local'])})"
                     f" = {fmt(term['contribution'])}{summed}")
        lines.extend(_jacobian_lines(term))
    if len(step["terms"]) > 1:
        total = " + ".join(f"[via {t['via_ref']}]" for t in step["terms"])
        lines.append(f"    ∂{out}/∂{target} = {total} = {fmt(step['grad'])}")
    else:
        lines.append(f"    ∂{out}/∂{target} = {fmt(step['grad'])}")
    return lines


def _jacobian_lines(term):
    """The term's local Jacobian, vectorised rule and shape check, indented under it."""
    jacobian = term.get("jacobian")
    if jacobian is None:
        return []
    return [f"      one element: {jacobian['element']}", f"      so {jacobian['rule']}",
            f"      shapes: {jacobian['shapes']}"]


def _shape(x):
    return tuple(getattr(x, "shape", ()))


def _with_values(graph, node, operand_values, fmt):
    """The node's expression with its operands' values in place of their references
    (constants stay as written; a negative value is parenthesised)."""
    shown = {}
    for source, value in zip(graph.inputs[node], operand_values):
        if graph.ops[source] is not CONST:
            text = fmt(value)
            shown[source] = Leaf("num", f"({text})" if text.startswith("-") else text)
    return expression(graph, node, operands=shown)


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
