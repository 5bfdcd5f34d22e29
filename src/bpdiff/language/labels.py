"""Short labels for nodes: the name of a variable or named intermediate, else the
node's expression with its operands written as names, numbers or `#id` references.
bpdiff.language.printer prints them, in LABEL style unless another is asked for.
"""

from bpdiff.engine.graph import CONST, VAR
from bpdiff.language.printer import (LABEL, graph_leaf, graph_view, print_expression, print_leaf,
                                     print_operation)
from bpdiff.numbers import format_number


def operand(graph, node, style=LABEL):
    """How an operand appears inside another node's label."""
    if style is not LABEL:
        return print_leaf(graph_leaf(graph, node), style)
    name = graph.name_of.get(node)
    if name is not None:
        return name
    if graph.ops[node] is CONST:
        return format_number(graph.payload[node], 12)
    return f"#{node}"


def expression(graph, node, style=LABEL, operands=None):
    """The node's expression with operands as names, numbers or #id, whether or not the
    node itself has a name: '2 * b' for d = 2b. `operands` may give some operands'
    leaves instead ({node id: printer.Leaf}), e.g. their values."""
    op = graph.ops[node]
    if style is LABEL and not operands:
        if op is CONST or op is VAR:
            return operand(graph, node)
        return print_operation(op, [operand(graph, i) for i in graph.inputs[node]])
    return print_expression(graph_view(graph, node, "none", operands), node, style)


def label(graph, node, style=LABEL):
    """The label of one node, e.g. 'b', '3', 'a + b', '#2 * #4', 'sin(#3)'."""
    if node in graph.name_of:
        return operand(graph, node, style)
    return expression(graph, node, style)


def all_labels(graph):
    """Every node's label, by node id, in one pass (what label() gives for each)."""
    refs = [operand(graph, node) if op is CONST or node in graph.name_of else f"#{node}"
            for node, op in enumerate(graph.ops)]
    labels = refs[:]
    inputs, name_of = graph.inputs, graph.name_of
    templates: dict = {}  # op -> its label as a str.format template, looked up once per op
    for node, op in enumerate(graph.ops):
        if op is not CONST and op is not VAR and node not in name_of:
            template = templates.get(op)
            if template is None:
                template = templates[op] = LABEL.template_of(op)
            labels[node] = template.format(*[refs[i] for i in inputs[node]])
    return labels


def call_label(graph, node):
    """The user-function call that created the node ('f#1', 'g#1/f#2'), or None."""
    call = graph.call_of.get(node)
    return None if call is None else graph.calls[call][2]


def op_name(graph, node):
    """The operation's table name, or 'var' / 'const'."""
    op = graph.ops[node]
    return op if op is CONST or op is VAR else op.name
