"""The result as one strict JSON object (see bpdiff/schema/result.schema.json).

Nodes come output first, in reverse topological order; nan and ±inf are the strings
"nan", "inf", "-inf"; a node that depends on no input has "grad": null.

May import: json, bpdiff.render.labels, bpdiff.render.numbers.
"""

import json

from .labels import all_labels
from .numbers import json_number
from .problems import describe


def to_dict(result):
    """The result as plain JSON-ready data."""
    graph = result.graph
    values, grads, inputs, name_of = result.values, result.grads, graph.inputs, graph.name_of
    labels = all_labels(graph)
    ops = [op if isinstance(op, str) else op.name for op in graph.ops]
    nodes = [{"id": i, "op": ops[i], "label": labels[i], "inputs": list(inputs[i]),
              "value": json_number(values[i]), "grad": json_number(grads[i]),
              "name": name_of.get(i)}
             for i in range(graph.output, -1, -1)]
    return {
        "expression": result.text,
        "value": json_number(result.value),
        "gradient": {k: json_number(v) for k, v in result.gradient.items()},
        "inputs": {k: json_number(v) for k, v in result.inputs.items()},
        "output": graph.output,
        "nodes": nodes,
        "warnings": [describe(result, p) for p in result.problems],
    }


def render(result):
    """The JSON text, one object, ending in a newline."""
    return json.dumps(to_dict(result), ensure_ascii=False, allow_nan=False) + "\n"
