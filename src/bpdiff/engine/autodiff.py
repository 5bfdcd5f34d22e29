"""Forward and backward passes over a Graph: loops over the node list, never recursion.

forward() computes every node's value in list (topological) order. backward() seeds the
output's gradient with 1 and walks the list in reverse, adding upstream × local
derivative into each input's gradient (`+=`, so a node on several paths sums them).
Values and gradients live in their own lists indexed by node id; the graph is not changed.
Non-finite numbers are found afterwards and described as data (NonFinite), never printed.

Each pass is written once for every kind of number: the math namespace `m`
(bpdiff.engine.namespace) supplies the arithmetic. With m.ARRAYS (bpdiff.engine.tensor:
some value is an array) elementwise rules give a local derivative that multiplies the
upstream gradient elementwise, tensor-only rules give the vector-Jacobian product
directly, and either is summed back over broadcast axes to its input's shape.

A branch that is switched off passes no gradient: where an op's `switched_off` rule
holds (relu below 0, step, sign, the losing side of max/min, abs at 0, pow where the
table's own `where` chose 0) or a --kink convention gives 0 at a kink, the contribution
is 0 even when the upstream gradient is inf or nan, as PyTorch's masked backward gives
it; any other 0 × inf stays nan.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bpdiff.engine import scalar, sizes
from bpdiff.engine.graph import CONST, VAR
from bpdiff.engine.kinks import local_derivative

if TYPE_CHECKING:
    from collections.abc import Mapping

    from bpdiff.engine.graph import Graph
    from bpdiff.engine.namespace import MathNamespace
    from bpdiff.engine.ops import Primitive


class NonFinite:
    """A non-finite value or gradient (`stage` "value" or "gradient"), and the node where
    it first appeared."""

    __slots__ = ("node", "stage", "number")

    def __init__(self, node: int, stage: str, number: float) -> None:
        self.node, self.stage, self.number = node, stage, number

    def __repr__(self) -> str:
        return f"NonFinite({self.node}, {self.stage!r}, {self.number!r})"


class TensorError(Exception):
    """An operation that cannot run on its operands' shapes or indices, at `node`."""

    def __init__(self, node: int, message: str, dims: list[tuple[int, ...]]) -> None:
        super().__init__(message)
        self.node = node
        self.message = message
        self.dims = dims  # the operands' shapes


def forward(graph: Graph, inputs: Mapping[str, Any], m: MathNamespace = scalar,
            max_elements: int | None = None) -> list[Any]:
    """Every node's value, given `inputs` (variable name -> value), in namespace `m`.
    In tensor mode a shape error raises TensorError naming the node, and so does an
    operation whose result would hold more than `max_elements` numbers, before it runs
    (engine/sizes.py)."""
    ops, sources, payload = graph.ops, graph.inputs, graph.payload
    arrays = m.ARRAYS
    values: list[Any] = [None] * len(ops)
    node = 0
    with m.quiet():
        try:
            limited = arrays and max_elements is not None
            for node, op in enumerate(ops):
                if op is CONST:
                    values[node] = m.constant(payload[node])
                elif op is VAR:
                    values[node] = inputs[payload[node]]
                else:
                    args = [values[i] for i in sources[node]]
                    if limited:  # then max_elements is an int, which mypy cannot tell
                        shapes = [a.shape for a in args]
                        too_big = sizes.oversized(op.name, shapes,
                                                  max_elements,  # type: ignore[arg-type]
                                                  args)
                        if too_big:
                            raise TensorError(node, too_big, shapes)
                    value = op.forward(m, *args)
                    values[node] = (m.asarray(value)  # type: ignore[attr-defined]
                                    if arrays else value)  # arrays: an ArrayNamespace
        except ValueError as error:
            if not arrays:
                raise
            raise TensorError(node, str(error),
                              [values[i].shape for i in sources[node]]) from None
    return values


def depends_on_inputs(graph: Graph) -> bytearray:
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


class Edge:
    """One use of `source` by `node`: the chain rule's step along that edge. `node` uses
    `source` as its input number `position` (node is the parent, nearer the output);
    `local` is ∂node/∂source at this point, `upstream` ∂output/∂node, and
    `contribution` upstream × local, this edge's share of ∂output/∂source. Equal edges
    compare equal."""

    __slots__ = ("node", "position", "source", "local", "upstream", "contribution")

    def __init__(self, node: int, position: int, source: int, local: Any, upstream: Any,
                 contribution: Any) -> None:
        self.node, self.position, self.source = node, position, source
        self.local, self.upstream, self.contribution = local, upstream, contribution

    def _fields(self) -> tuple:
        return (self.node, self.position, self.source, self.local, self.upstream,
                self.contribution)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Edge) and self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        return "Edge({}, {}, {}, local={!r}, upstream={!r}, contribution={!r})".format(
            *self._fields())


def backward(graph: Graph, values: list[Any], m: MathNamespace = scalar,
             record: list[Edge] | None = None,
             kink: dict[str, tuple[float, ...]] | None = None,
             seed: Any = None, root: int | None = None) -> list[Any]:
    """∂root/∂node for every node, in namespace `m` (root: the output unless given);
    None for nodes that depend on no input, 0 for nodes the root does not use; the
    root's own is the seed, even in a program with no inputs (2^3^2).

    `seed` is the upstream gradient the walk starts from at the root (PyTorch's
    `backward(gradient=...)`), shaped like the root's value; None seeds ones, which for
    an array root gives the gradients of its sum. The API decides whether that may
    happen; a one-hot seed gives one row of the root's Jacobian (analyses/jacobian.py).

    With a list as `record`, every edge's Edge is appended to it in the order visited.
    `kink` (op name -> local derivatives, from kinks.KinkPolicy.overrides) replaces an
    op's rule where op.at_kink holds: the convention chosen with --kink."""
    ops, sources = graph.ops, graph.inputs
    arrays = m.ARRAYS
    simple = not arrays and not kink  # numbers under the table's own conventions
    depends = depends_on_inputs(graph)
    grads = [0.0] * len(ops)
    top = graph.output if root is None else root
    with m.quiet():
        grads[top] = m.ones_like(values[top]) if seed is None else seed
        for node in range(top, -1, -1):
            args = sources[node]
            if not args or not depends[node]:
                continue
            op, upstream, out = ops[node], grads[node], values[node]
            arg_values = [values[i] for i in args]
            rules, plain = op.local_grads, simple and op.plain
            for position, source in enumerate(args):
                if not depends[source]:
                    continue
                if plain:  # the common case, inline: upstream × the rule's local derivative
                    local = rules[position](m, *arg_values, out)
                    contribution = upstream * local
                else:
                    local, contribution = _edge(m, op, position, upstream, arg_values, out,
                                                kink)
                grads[source] += contribution
                if record is not None:
                    record.append(Edge(node, position, source, local, upstream, contribution))
    depends[top] = 1  # the seed is shown whatever the root depends on
    if arrays:  # m is an ArrayNamespace
        return [m.settle(g) if d else None  # type: ignore[attr-defined]
                for g, d in zip(grads, depends)]
    return [g if d else None for g, d in zip(grads, depends)]


def _edge(m: MathNamespace, op: Primitive, position: int, upstream: Any, args: list[Any],
          out: Any, kink: dict[str, tuple[float, ...]] | None) -> tuple[Any, Any]:
    """The local derivative (None for a tensor-only op's Jacobian, which its rule
    applies) and the contribution along one edge, in full: the op's VJP, the --kink
    convention, a switched-off branch, and broadcasting undone."""
    if op.vjps is not None:
        local, contribution = None, op.vjps[position](m, upstream, *args, out)
    else:
        kink_locals = kink.get(op.name) if kink else None
        # (an op given kink locals has an at_kink rule, which mypy cannot see)
        at_kink = None if kink_locals is None else op.at_kink(*args)  # type: ignore[misc]
        local = local_derivative(m, op, position, args, out, at_kink, kink_locals)
        contribution = upstream * local
        if (op.switched_off is not None or at_kink is not None) \
                and m.anywhere(contribution != contribution):  # nan: 0 where switched off
            off = False
            rule = None if op.switched_off is None else op.switched_off[position]
            if rule is not None:
                off = rule(m, *args, out)
            if at_kink is not None:  # a convention's 0 at a kink switches the branch off
                off = m.where(at_kink, kink_locals[position] == 0, off)  # type: ignore[index]
            contribution = m.where(off & (contribution != contribution), 0.0, contribution)
    if m.ARRAYS:  # an ArrayNamespace
        contribution = m.unbroadcast(  # type: ignore[attr-defined]
            contribution, args[position].shape)
    return local, contribution


def find_kinks(graph: Graph, values: list[Any], m: MathNamespace = scalar) -> list[int]:
    """Nodes evaluated exactly where their derivative does not exist (relu(0), a max
    tie, ...; in tensor mode at some element), where a kink convention was used."""
    kinks = []
    for node, op in enumerate(graph.ops):
        if op is not VAR and op is not CONST and op.at_kink is not None:
            if m.anywhere(op.at_kink(*[values[i] for i in graph.inputs[node]])):
                kinks.append(node)
    return kinks


def find_nonfinite(graph: Graph, values: list[Any], grads: list[Any],
                   m: MathNamespace = scalar) -> list[NonFinite]:
    """The first node whose value, and the first whose gradient, became nan or inf
    while everything it was computed from was finite (NonFinite records, in that order)."""
    found = []
    first = m.first_nonfinite
    if not m.all_finite(values):
        for node, value in enumerate(values):
            number = first(value)
            if number is not None and all(first(values[i]) is None
                                          for i in graph.inputs[node]):
                found.append(NonFinite(node, "value", number))
                break
    if not m.all_finite([g for g in grads if g is not None]):
        for node in range(len(grads) - 1, -1, -1):  # backward order: first reached first
            number = None if grads[node] is None else first(grads[node])
            if number is not None:
                found.append(NonFinite(node, "gradient", number))
                break
    return found
