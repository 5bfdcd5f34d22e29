"""The result as one strict JSON object (see bpdiff/schema/result.schema.json).

Nodes come output first, in reverse topological order; nan and ±inf are the strings
"nan", "inf", "-inf"; a node that depends on no input has "grad": null; a node made by
a call of a user function has "call": its label ("f#1", "g#1/f#2").
"""

import json
from itertools import compress
from math import isfinite as _finite

from bpdiff.language.labels import all_labels, call_label
from bpdiff.numbers import format_fraction, json_number
from bpdiff.render.nonfinite import describe_kink, describe_nonfinite


def to_dict(result, explain=False, locals_=False, symbolic=None, checks=None, gradcheck=None,
            _nodes=True, curvature=None, crosscheck=None, jacobians=None):
    """The result as plain JSON-ready data; with `explain`, `locals_` or `symbolic`
    (name -> expression text) their sections are added, and so are `checks` (from
    bpdiff.analyses.expect), `gradcheck` ((rows, tolerance) from bpdiff.analyses.gradcheck), `curvature`
    (bpdiff.analyses.hessian), `crosscheck` (bpdiff.analyses.crosscheck) and `jacobians`
    (bpdiff.analyses.jacobian). An --exact run adds the fractions as text (an "exact"
    object, and one in each node); a tensor run says how its output was seeded."""
    graph = result.graph
    nodes = _node_dicts(result) if _nodes else _NODES_PLACEHOLDER
    data = {
        "expression": result.text,
        "value": json_number(result.value),
        "gradient": {k: json_number(v) for k, v in result.gradient.items()},
        "inputs": {k: json_number(v) for k, v in result.inputs.items()},
        "output": graph.output,
        "nodes": nodes,
        "warnings": list(graph.notes)
                    + _seed_notes(result, jacobians is not None)
                    + [describe_nonfinite(result, f) for f in result.nonfinite]
                    + [describe_kink(result, node) for node in result.kinks],
        "kink_policy": result.kink_policy.as_dict(),
    }
    if result.tensor:
        data["shapes"] = {"value": _shape(result.value),
                          "inputs": {k: _shape(v) for k, v in result.inputs.items()}}
        data["seed"] = {"kind": result.seed_kind, "value": json_number(result.seed)}
    if explain:
        from bpdiff.render.explain import explain_steps
        data["explain"] = [_numbers_to_json(step) for step in explain_steps(result)]
    if locals_:
        data["locals"] = [{"node": e.node, "position": e.position, "source": e.source,
                           "local": json_number(e.local), "upstream": json_number(e.upstream),
                           "contribution": json_number(e.contribution)}
                          for e in result.edges]
    if symbolic is not None:
        data["symbolic"] = symbolic
    if result.exact is not None:
        _add_exact(data, result)
    if checks is not None:
        from bpdiff.render.expect_report import checks_json
        data["checks"] = checks_json(result, checks)
    if gradcheck is not None:
        from bpdiff.render.gradcheck_report import gradcheck_json
        data["gradcheck"] = gradcheck_json(*gradcheck)
    if curvature is not None:
        from bpdiff.render.hessian import to_json
        data.update(to_json(curvature))
    if crosscheck is not None:
        from bpdiff.render.crosscheck import crosscheck_json
        data["crosscheck"] = crosscheck_json(crosscheck)
    if jacobians is not None:
        from bpdiff.render.jacobian import jacobians_json
        data["jacobian"] = jacobians_json(result, jacobians)
    return data


def _seed_notes(result, jacobian):
    """The note on an array output's seed (see bpdiff.api.seed_note), as a list."""
    if result.output_is_scalar:
        return []
    from bpdiff.api import seed_note

    note = seed_note(result, jacobian)
    return [note] if note else []


def _add_exact(data, result):
    exact, graph = result.exact, result.graph

    def text(q):
        return None if q is None else format_fraction(q)

    for node in data["nodes"]:
        node["exact"] = {"value": text(exact.values[node["id"]]),
                         "grad": text(exact.grads[node["id"]])}
    data["exact"] = {
        "value": text(exact.values[graph.output]),
        "gradient": {name: text(exact.grads[node]) for name, node in graph.variables.items()},
        "inputs": {name: text(q) for name, q in exact.inputs.items()},
        "limit_bits": exact.limit,
        "oversized": exact.oversized,
    }


_NUMBER_KEYS = ("value", "grad", "upstream", "local", "contribution")


def _numbers_to_json(step):
    step = dict(step)
    for key in _NUMBER_KEYS:
        if key in step:
            step[key] = json_number(step[key])
    if "operands" in step:
        step["operands"] = [json_number(v) for v in step["operands"]]
    if "terms" in step:
        step["terms"] = [_numbers_to_json(t) for t in step["terms"]]
    return step


def render(result, **sections):
    """The JSON text, one object, ending in a newline (sections as for to_dict)."""
    return "".join(pieces(result, **sections))


def pieces(result, **sections):
    """render()'s text in pieces, a big graph's node list some thousands of nodes at a
    time, for writing out without holding the whole text.

    The node list, most of the text on a big graph, is written directly rather than
    built as dicts and encoded (three times faster); tests check both give equal JSON."""
    if result.exact is not None or result.tensor:  # the general path
        yield json.dumps(to_dict(result, **sections), ensure_ascii=False, allow_nan=False) + "\n"
        return
    text = json.dumps(to_dict(result, _nodes=False, **sections), ensure_ascii=False,
                      allow_nan=False)
    head, tail = text.split(f'"{_NODES_PLACEHOLDER}"', 1)
    yield head
    yield from _node_pieces(result)
    yield tail + "\n"


_NODES_PLACEHOLDER = "@@bpdiff-nodes@@"  # cannot occur elsewhere: expression text is escaped


def _node_dicts(result):
    graph = result.graph
    values, grads, inputs, name_of = result.values, result.grads, graph.inputs, graph.name_of
    labels = all_labels(graph)
    ops = [op if isinstance(op, str) else op.name for op in graph.ops]
    nodes = [{"id": i, "op": ops[i], "label": labels[i], "inputs": list(inputs[i]),
              "value": json_number(values[i]), "grad": json_number(grads[i]),
              "name": name_of.get(i)}
             for i in range(graph.output, -1, -1)]
    if result.tensor:
        for node in nodes:
            node["shape"] = _shape(values[node["id"]])
    for node in nodes if graph.versions else ():
        if node["id"] in graph.versions:
            node["name"], node["version"] = graph.versions[node["id"]]
    for node in nodes if graph.call_of else ():
        if node["id"] in graph.call_of:
            node["call"] = call_label(graph, node["id"])
    return nodes


def _shape(value):
    return list(value.shape)


def _node_pieces(result, chunk=20_000):
    # Labels, op names, input names and call labels are built from identifiers, numbers,
    # operator symbols, '#', '/', parentheses, commas and spaces: nothing JSON must escape.
    # The columns of a chunk of rows are made whole (mostly by C loops: map, repr), then
    # every row by one str % tuple, so a big graph costs little Python per node.
    graph = result.graph
    labels = all_labels(graph)
    ops, inputs = graph.ops, graph.inputs
    names = ["null"] * len(ops)
    for node, name in graph.name_of.items():
        names[node] = f'"{name}"'
    for node, (name, version) in graph.versions.items():
        names[node] = f'"{name}", "version": {version}'
    calls = [""] * len(ops)  # the user-function call that made a node, if any
    for node in graph.call_of:
        calls[node] = f', "call": "{call_label(graph, node)}"'
    yield "["
    for top in range(graph.output, -1, -chunk):  # node ids top, top - 1, ..., bottom
        bottom = max(top - chunk + 1, 0)
        below = bottom - 1 if bottom else None
        columns = zip(range(top, bottom - 1, -1),
                      [op if isinstance(op, str) else op.name for op in ops[top:below:-1]],
                      labels[top:below:-1],
                      map(list, inputs[top:below:-1]),  # a list of ints prints as JSON
                      _number_texts(result.values[top:below:-1]),
                      _number_texts(result.grads[top:below:-1]),
                      names[top:below:-1], calls[top:below:-1])
        yield ("" if top == graph.output else ", ") + ", ".join(map(_ROW.__mod__, columns))
    yield "]"


_ROW = ('{"id": %d, "op": "%s", "label": "%s", "inputs": %s, "value": %s, "grad": %s, '
        '"name": %s%s}')


def _number_texts(numbers):
    """JSON texts of a list of floats (None for null), as json_number writes them."""
    if None not in numbers and all(map(_finite, numbers)):
        texts = list(map(repr, numbers))
        for k in compress(range(len(numbers)), map(float.is_integer, numbers)):
            if -2**53 < numbers[k] < 2**53 and texts[k] != "-0.0":  # an integral float
                texts[k] = "%d" % numbers[k]  # prints as an int; -0.0 keeps its sign
        return texts
    return list(map(_number_text, numbers))


def _number_text(x):
    value = json_number(x)
    if value is None:
        return "null"
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)
