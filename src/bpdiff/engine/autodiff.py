"""Forward and backward passes over a Graph: loops over the node list, never recursion.

forward() computes every node's value in list (topological) order. backward() seeds the
output's gradient with 1 and walks the list in reverse, adding upstream × local
derivative into each input's gradient (`+=`, so a node on several paths sums them).
Values and gradients live in their own lists indexed by node id; the graph is not changed.
Non-finite numbers are found afterwards and described as data (Problem), never printed.

With `m` = bpdiff.engine.tensor (its ARRAYS is True: some value is an array) the same passes
run on NumPy arrays:
elementwise rules give a local derivative that multiplies the upstream gradient
elementwise, tensor-only rules give the vector-Jacobian product directly, and either
is summed back over broadcast axes to its input's shape.
"""

import math
from typing import NamedTuple

from bpdiff.engine import scalar, sizes
from bpdiff.engine.graph import CONST, VAR


class Problem(NamedTuple):
    """A non-finite value or gradient, and the node where it first appeared."""

    node: int
    stage: str  # "value" or "gradient"
    number: float


class TensorError(Exception):
    """An operation that cannot run on its operands' shapes or indices, at `node`."""

    def __init__(self, node, message, dims):
        super().__init__(message)
        self.node = node
        self.message = message
        self.dims = dims  # the operands' shapes


def forward(graph, inputs, m=scalar, max_elements=None):
    """Every node's value, given `inputs` (variable name -> value). With arrays and a
    `max_elements`, an operation whose result would hold more numbers raises
    TensorError before it runs."""
    if getattr(m, "ARRAYS", False):
        return _forward_tensor(graph, inputs, m, max_elements)
    ops, sources, payload = graph.ops, graph.inputs, graph.payload
    values = [0.0] * len(ops)
    for node, op in enumerate(ops):
        if op is CONST:
            values[node] = payload[node]
        elif op is VAR:
            values[node] = inputs[payload[node]]
        else:
            values[node] = op.forward(m, *[values[i] for i in sources[node]])
    return values


def _forward_tensor(graph, inputs, m, max_elements=None):
    ops, sources, payload = graph.ops, graph.inputs, graph.payload
    values = [None] * len(ops)
    with m.quiet():
        for node, op in enumerate(ops):
            if op is CONST:
                values[node] = m.constant(payload[node])
            elif op is VAR:
                values[node] = inputs[payload[node]]
            else:
                args = [values[i] for i in sources[node]]
                if max_elements is not None:  # issue 15, point 6: see engine/sizes.py
                    too_big = sizes.oversized(op.name, [a.shape for a in args], max_elements)
                    if too_big:
                        raise TensorError(node, too_big, [a.shape for a in args])
                try:
                    values[node] = m.asarray(op.forward(m, *args))
                except ValueError as error:
                    raise TensorError(node, str(error), [a.shape for a in args]) from None
    return values


def depends_on_inputs(graph):
    """For each node, whether its value depends on some variable (a bytearray)."""
    ops, sources = graph.ops, graph.inputs
    depends = bytearray(len(ops))
    for node, op in enumerate(ops):
        if op is VAR:
            depends[node] = 1
        elif op is not CONST:
            for i in sources[node]:
                if depends[i]:
                    depends[node] = 1
                    break
    return depends


class Edge(NamedTuple):
    """One use of `source` by `node`: the chain rule's step along that edge."""

    node: int  # the node that uses `source` (the parent, nearer the output)
    position: int  # which input of `node` it is
    source: int
    local: float  # ∂node/∂source at this point
    upstream: float  # ∂output/∂node
    contribution: float  # upstream × local: this edge's share of ∂output/∂source


def backward(graph, values, m=scalar, record=None, kink=None):
    """∂output/∂node for every node; None for nodes that depend on no input.

    With a list as `record`, every edge's Edge is appended to it in the order visited.
    `kink` (op name -> local derivatives, from kinks.KinkPolicy.overrides) replaces an
    op's rule where op.at_kink holds: the convention chosen with --kink."""
    if getattr(m, "ARRAYS", False):
        return _backward_tensor(graph, values, m, record, kink)
    ops, sources = graph.ops, graph.inputs
    depends = depends_on_inputs(graph)
    grads = [0.0] * len(ops)
    grads[graph.output] = 1.0
    for node in range(graph.output, -1, -1):
        args = sources[node]
        if not args or not depends[node]:
            continue
        upstream = grads[node]
        local_grads = ops[node].local_grads
        arg_values = [values[i] for i in args]
        out = values[node]
        if kink and ops[node].name in kink and ops[node].at_kink(*arg_values):
            local_grads = [lambda *_, c=c: c for c in kink[ops[node].name]]
        for position, source in enumerate(args):
            if depends[source]:
                local = local_grads[position](m, *arg_values, out)
                grads[source] += upstream * local
                if record is not None:
                    record.append(Edge(node, position, source, local, upstream, upstream * local))
    return [g if d else None for g, d in zip(grads, depends)]


def _backward_tensor(graph, values, m, record, kink=None):
    # A non-scalar output is seeded with ones: the gradients are those of sum(output).
    ops, sources = graph.ops, graph.inputs
    depends = depends_on_inputs(graph)
    grads = [None] * len(ops)
    with m.quiet():
        grads[graph.output] = m.ones_like(values[graph.output])
        for node in range(graph.output, -1, -1):
            args = sources[node]
            if not args or not depends[node]:
                continue
            op, upstream, out = ops[node], grads[node], values[node]
            arg_values = [values[i] for i in args]
            for position, source in enumerate(args):
                if not depends[source]:
                    continue
                if op.vjps is not None:
                    local = None  # a Jacobian, applied by the rule rather than stored
                    contribution = op.vjps[position](m, upstream, *arg_values, out)
                else:
                    local = op.local_grads[position](m, *arg_values, out)
                    if kink and op.name in kink:  # the policy's constant where at the kink
                        local = m.where(op.at_kink(*arg_values), kink[op.name][position], local)
                    contribution = upstream * local
                contribution = m.unbroadcast(contribution, arg_values[position].shape)
                previous = grads[source]
                grads[source] = contribution if previous is None else previous + contribution
                if record is not None:
                    record.append(Edge(node, position, source, local, upstream, contribution))
        return [m.settle(g) if d else None for g, d in zip(grads, depends)]


def find_kinks(graph, values):
    """Nodes evaluated exactly where their derivative does not exist (relu(0), a max
    tie, ...), where the primitive table's stated convention was used."""
    kinks = []
    for node, op in enumerate(graph.ops):
        if op is not VAR and op is not CONST and op.at_kink is not None:
            at_kink = op.at_kink(*[values[i] for i in graph.inputs[node]])
            if at_kink is True or at_kink is not False and at_kink.any():  # arrays: anywhere
                kinks.append(node)
    return kinks


def find_problems(graph, values, grads, m=scalar):
    """The first node whose value, and the first whose gradient, became nan or inf
    while everything it was computed from was finite."""
    if getattr(m, "ARRAYS", False):
        return _find_tensor_problems(graph, values, grads, m.first_nonfinite)
    problems = []
    if not math.isfinite(sum(values)):
        sources = graph.inputs
        for node, value in enumerate(values):
            if not math.isfinite(value) and all(math.isfinite(values[i]) for i in sources[node]):
                problems.append(Problem(node, "value", value))
                break
    finite_grads = [g for g in grads if g is not None]
    if not math.isfinite(sum(finite_grads)):
        for node in range(len(grads) - 1, -1, -1):  # backward order: first reached first
            grad = grads[node]
            if grad is not None and not math.isfinite(grad):
                problems.append(Problem(node, "gradient", grad))
                break
    return problems


def _find_tensor_problems(graph, values, grads, first_bad):
    problems = []
    for node, value in enumerate(values):
        number = first_bad(value)
        if number is not None and all(first_bad(values[i]) is None for i in graph.inputs[node]):
            problems.append(Problem(node, "value", number))
            break
    for node in range(len(grads) - 1, -1, -1):
        if grads[node] is not None:
            number = first_bad(grads[node])
            if number is not None:
                problems.append(Problem(node, "gradient", number))
                break
    return problems
