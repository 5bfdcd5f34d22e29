"""Array answers in words: the shape check, the wrong elements and the worst of them,
the mistake that explains a wrong array, and the first node in backward order whose
gradient disagrees; and their JSON entries.

It formats the ArrayChecks computed by bpdiff.analyses.array_check; nothing is
differentiated here.
"""

from bpdiff.language.labels import expression, label
from bpdiff.numbers import format_number, json_number, shape_text
from bpdiff.render.explain import references

PASS, FAIL = "✓", "✗"


def _element(name, index):
    """W[1,2]; the name alone for a number."""
    return f"{name}[{','.join(map(str, index))}]" if index else name


def quantity(graph, check):
    """What a check is about: 'L', '∂L/∂W'."""
    ref = references(graph)
    if check.node is None:
        stem = check.key.split(".")[0]
        for prefix in ("grad_", "d"):
            if stem.startswith(prefix) and stem[len(prefix):] in graph.declared:
                stem = stem[len(prefix):]
        return f"∂{ref(graph.output)}/∂{stem}"
    if check.kind == "value":
        return ref(check.node)
    return f"∂{ref(graph.output)}/∂{ref(check.node)}"


def _subject(graph, check):
    """Whose shape bpdiff's answer has: 'W' for ∂L/∂W (a gradient has its node's)."""
    return quantity(graph, check).rsplit("/∂", 1)[-1]


def _yours(check, what, subject):
    """'your dW' for an answer named so, else 'your ∂L/∂W'."""
    return f"your {what}" if check.key in (subject, f"{subject}.grad", f"{subject}.value",
                                           "value") or check.key.startswith("#") \
        else f"your {check.key}"


def headline(result, check, precision):
    """The check's first line, after its mark and key."""
    graph = result.graph
    what = quantity(graph, check)
    e, g = check.expected, check.got
    if check.shape is not None:
        return _shape_sentence(graph, check, what)
    if check.passed:
        if g.ndim == 0:
            return f"{what} = {format_number(float(g), precision)}: matches"
        return f"{what} {shape_text(g.shape)}: all {check.size:,} elements match"
    fmt = lambda x: format_number(x, precision)  # noqa: E731
    where = _element(_subject(graph, check), check.worst)
    if g.ndim == 0:
        return (f"{what}: expected {fmt(float(e))}, bpdiff gets {fmt(float(g))}"
                f" (relative error {check.error:.2g})")
    return (f"{what} {shape_text(g.shape)}: {check.wrong:,} of {check.size:,} elements"
            f" wrong; the worst is {where}: expected {fmt(float(e[check.worst]))}, bpdiff"
            f" gets {fmt(float(g[check.worst]))} (relative error {check.error:.2g})")


def _shape_sentence(graph, check, what):
    e, g = check.expected, check.got
    subject = _subject(graph, check)
    yours = _yours(check, what, subject)
    has = f"{yours} has shape {shape_text(e.shape)}, {subject} is {shape_text(g.shape)}"
    fixed = {
        "transposed": " Its transpose is right.",
        "keepdims": " With that shape it is right.",
        "reshaped": " Reshaped to that shape it is right.",
        "array": " As a number it is right.",
    }.get(check.shape, "") if check.fixed else ""
    if check.shape == "transposed":
        return f"{has}: transposed?{fixed}"
    if check.shape == "scalar":
        return (f"{yours} is a number, but {what} is an array of shape"
                f" {shape_text(g.shape)}: give every element")
    if check.shape == "array":
        return f"{yours} has shape {shape_text(e.shape)}, but {what} is a number.{fixed}"
    if check.shape == "keepdims":
        missing = e.ndim < g.ndim
        return (f"{has}: {'a' if missing else 'an extra'} dimension of size 1"
                f" {'is missing' if missing else ''} (keepdims?)".replace("  ", " ")
                + fixed)
    if check.shape == "reshaped":
        return f"{has}: the same number of elements in another shape.{fixed}"
    if check.shape == "broadcast":
        return (f"{has}: they broadcast together, but the shapes differ (a gradient has"
                " the shape of what it is the gradient of: sum over the broadcast axes?)")
    return f"{has}"


def explanations(result, check, precision):
    """Lines after the headline: the mistake that explains a wrong array, and where the
    first disagreeing gradient in backward order is."""
    if check.passed:
        return []
    graph = result.graph
    ref = references(graph)
    out = ref(graph.output)
    lines = []
    d = check.diagnosis
    if d is not None:
        lines.append(_diagnosis_text(result, check, d, ref, out, precision))
    if check.first and check.kind == "grad":
        node = check.node
        where = _element(ref(node), check.worst or ())
        line = f"first gradient to disagree in backward order: ∂{out}/∂{ref(node)}"
        if check.worst is not None and check.got.ndim:
            line += f", at {where}"
        lines.append(line)
        if check.upstream_ok:
            users = ", ".join(f"∂{out}/∂{ref(u)}" for u in check.upstream_ok)
            steps = "; ".join(f"{ref(u)} = {expression(graph, u)}" for u in check.upstream_ok)
            others = [] if result.recorded_edges is None else list(dict.fromkeys(
                _via(graph, e.node) for e in result.recorded_edges
                if e.source == node and e.node not in check.upstream_ok))
            also = f", or in the other path{'s' if len(others) > 1 else ''} into {ref(node)}" \
                f" (via {', '.join(others)})" if others else ""
            lines.append(f"{users} agree{'s' if len(check.upstream_ok) == 1 else ''}, so the"
                         f" mistake is in the step from there to {ref(node)} ({steps}){also}")
    elif check.alone and check.node is not None and check.shape is None and d is None \
            and result.recorded_edges is not None:
        users = dict.fromkeys(e.node for e in result.recorded_edges
                              if e.source == check.node and e.node in graph.name_of)
        if users:
            named = ", ".join(f"d{ref(u)}" for u in users)
            lines.append(f"to find the first step that goes wrong, also check your"
                         f" gradients before it, e.g. {named} (∂{out}/∂"
                         f"{ref(next(iter(users)))})")
    return lines


def _diagnosis_text(result, check, d, ref, out, precision):
    graph = result.graph
    kind = d[0]
    target = ref(check.node)
    if kind == "forgot_paths":
        dropped = " and ".join(f"{_via(graph, e.node)}" for e in d[1])
        return (f"your answer leaves out the path via {dropped}: did you forget that term"
                " (a regularisation term?)")
    if kind == "factor":
        edge, factor = d[1], d[2]
        times = f"{_int_text(factor)}×"
        what = "" if edge is None else f" along the path via {_via(graph, edge.node)}"
        text = f"your answer is {times} bpdiff's{what}"
        if abs(factor + 1) < 1e-6:
            return text + ": check the sign"
        dims = _dimension_names(result, factor)
        if dims:
            return text + f": a forgotten factor 1/{_int_text(factor)} ({dims})?"
        return text + f": a forgotten or extra factor of {_int_text(factor)}?"
    other = d[1]
    if kind == "value_of":
        if other == check.node:
            return f"your answer is the value of {target}, not its gradient ∂{out}/∂{target}"
        return f"your answer is the value of {_described(graph, other)}"
    return f"your answer is ∂{out}/∂{_described(graph, other)}, the gradient of another node"


def _int_text(factor):
    """5, 1/5 or 0.3721: a factor as a person would write it."""
    near = round(factor)
    if near and abs(factor - near) <= 1e-6 * abs(factor):
        return str(near)
    inverse = 1 / factor
    near = round(inverse)
    if near and abs(inverse - near) <= 1e-6 * abs(inverse):
        return f"1/{near}"
    return format_number(factor, 4)


def _dimension_names(result, factor):
    """'N = 3, the length of axis 0 of X' when |factor| is an integer that some input's
    dimension equals."""
    near = round(factor)
    if near < 2 or abs(factor - near) > 1e-6 * abs(factor):
        return ""
    for name, value in result.inputs.items():
        for axis, n in enumerate(getattr(value, "shape", ())):
            if n == near:
                return f"N = {n}, the length of axis {axis} of {name}"
    return ""


def _via(graph, node):
    name = graph.name_of.get(node)
    return name if name is not None else f"{label(graph, node)}"


def _described(graph, node):
    name = graph.name_of.get(node)
    return name if name is not None else f"#{node} ({label(graph, node)})"


def lines_plain(result, check, precision):
    """The check as text lines: mark, key and headline, then indented explanations."""
    mark = PASS if check.passed else FAIL
    text = f"{mark} {check.key}: {headline(result, check, precision)}\n"
    return text + "".join(f"    {line}\n" for line in explanations(result, check, precision))


def check_json(result, check, precision=6):
    """One entry of the JSON "checks" array for an array answer."""
    import numpy as np

    lines = explanations(result, check, precision)
    same = check.shape is None
    worst = None
    if check.worst is not None:
        worst = {"index": list(check.worst),
                 "expected": json_number(float(check.expected[check.worst])),
                 "got": json_number(float(check.got[check.worst])),
                 "relative_error": json_number(check.error)}
    return {"key": check.key, "quantity": quantity(result.graph, check), "node": check.node,
            "answer": check.answer, "expected": json_number(check.expected), "got": json_number(check.got),
            "difference": json_number(np.subtract(check.expected, check.got)) if same
            else None,
            "passed": check.passed, "note": None,
            "hint": None if check.passed else "\n".join(
                [headline(result, check, precision), *lines]),
            "shape": {"expected": list(check.expected.shape), "got": list(check.got.shape),
                      "problem": check.shape, "fixed": check.fixed},
            "wrong": check.wrong, "elements": check.size, "worst": worst,
            "first_diverging": check.first}
