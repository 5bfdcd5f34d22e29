"""Short labels for nodes: the name of a variable or named intermediate, else the
node's expression with its operands written as names, numbers or `#id` references.
"""

from bpdiff.engine.graph import CONST, VAR
from bpdiff.numbers import format_number


def operand(graph, node):
    """How an operand appears inside another node's label."""
    name = graph.name_of.get(node)
    if name is not None:
        return name
    if graph.ops[node] is CONST:
        return format_number(graph.payload[node], 12)
    return f"#{node}"


def _compose(op, args):
    if op.name == "id":
        return args[0]
    if op.form is not None:
        return op.form.format(*args)
    if op.symbol is None:
        return f"{op.name}({', '.join(args)})"
    if len(args) == 1:
        return f"{op.symbol}{args[0]}"
    if op.symbol == "^":
        return f"{args[0]}^{args[1]}"
    return f" {op.symbol} ".join(args)


def expression(graph, node):
    """The node's expression with operands as names, numbers or #id, whether or not the
    node itself has a name: '2 * b' for d = 2b."""
    op = graph.ops[node]
    if op is CONST or op is VAR:
        return operand(graph, node)
    return _compose(op, [operand(graph, i) for i in graph.inputs[node]])


def label(graph, node):
    """The label of one node, e.g. 'b', '3', 'a + b', '#2 * #4', 'sin(#3)'."""
    name = graph.name_of.get(node)
    return name if name is not None else expression(graph, node)


def all_labels(graph):
    """Every node's label, by node id, in one pass (what label() gives for each)."""
    refs = [operand(graph, node) if op is CONST or node in graph.name_of else f"#{node}"
            for node, op in enumerate(graph.ops)]
    labels = refs[:]
    inputs, name_of = graph.inputs, graph.name_of
    for node, op in enumerate(graph.ops):
        if op is not CONST and op is not VAR and node not in name_of:
            labels[node] = _compose(op, [refs[i] for i in inputs[node]])
    return labels


def call_label(graph, node):
    """The user-function call that created the node ('f#1', 'g#1/f#2'), or None."""
    call = graph.call_of.get(node)
    return None if call is None else graph.calls[call][2]


def op_name(graph, node):
    """The operation's table name, or 'var' / 'const'."""
    op = graph.ops[node]
    return op if op is CONST or op is VAR else op.name
