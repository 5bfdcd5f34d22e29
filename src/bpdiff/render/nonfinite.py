"""Warnings in words: a non-finite value or gradient (result.nonfinite) and a node
evaluated at its kink (result.kinks). The findings themselves are computed by
bpdiff.engine.autodiff; this module only words them.
"""

from bpdiff.language.labels import label
from bpdiff.numbers import format_number


def describe_nonfinite(result, finding):
    """One sentence naming the node where a nan or inf first appeared."""
    graph = result.graph
    node = finding.node
    number = format_number(finding.number)
    where = f"node #{node} ({label(graph, node)})"
    if finding.stage == "value":
        args = ", ".join(format_number(result.values[i]) for i in graph.inputs[node])
        source = f" from input{'s' if len(graph.inputs[node]) > 1 else ''} {args}" if args else ""
        return (f"{where} has value {number}{source}; everything computed from it may be "
                f"{number} too")
    return (f"the gradient of {where} is {number}: a local derivative on its way to the"
            " output is not finite at this point")


def describe_kink(result, node):
    """One sentence on a node evaluated at its kink, naming the convention used."""
    op = result.graph.ops[node]
    policy = result.kink_policy
    return (f"node #{node} ({label(result.graph, node)}) is at a point where {op.name} has"
            f" no derivative; the convention used ({policy.of(op.name)}): {policy.text(op)}")
