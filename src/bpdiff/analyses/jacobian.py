"""`--jacobian`: the full Jacobian of a node with respect to inputs, by stacked VJPs.

Row k of ∂node/∂x is the gradient of the node's element k: one backward pass
(engine/autodiff.backward, the same walk as every other gradient) from the node, seeded
with the one-hot array that is 1 at element k. The rows, stacked, are the matrix: rows
are the node's elements, columns the input's, both in C (row-major) order. Nothing here
prints; bpdiff.render.jacobian labels and lays out the matrices.
"""

from typing import NamedTuple

from bpdiff.engine.autodiff import backward
from bpdiff.errors import BpdiffError, did_you_mean


class Jacobian(NamedTuple):
    """∂of/∂wrt as a matrix: rows the elements of node `of`, columns those of node `wrt`."""

    of: int  # node id
    wrt: int  # node id
    of_shape: tuple
    wrt_shape: tuple
    matrix: list  # rows × columns, lists of floats


def find_node(result, key, option):
    """The node id a NAME or #ID given to `option` refers to; BpdiffError otherwise."""
    graph = result.graph
    if key.startswith("#") and key[1:].isdigit():
        node = int(key[1:])
        if node > graph.output:
            raise BpdiffError(f"{option} {key}: there is no node {key} (the output is"
                              f" #{graph.output})")
        return node
    if key in graph.names:
        return graph.names[key]
    named = list(graph.names)
    hint = "named nodes: " + ", ".join(named) if named else None
    raise BpdiffError(f"{option} {key}: no node of that name{did_you_mean(key, named)}",
                      hint=hint)


def jacobians(result, of=None, wrt=None, max_entries=None):
    """One Jacobian of node `of` (a name or #ID; None: the output) per node in `wrt`
    (names; None: every input, in order of first appearance). Raises BpdiffError when a
    matrix would have more than `max_entries` entries (None: no limit)."""
    graph = result.graph
    root = graph.output if of is None else find_node(result, of, "--of")
    if wrt is None:
        columns = list(graph.variables.values())
    else:
        columns = [find_node(result, name, "--wrt") for name in wrt]
    if not columns:
        raise BpdiffError("--jacobian: the program has no inputs to differentiate by")
    values = result.values
    of_shape = _shape(values[root])
    rows = _count(of_shape)
    if max_entries is not None:
        for node in columns:
            entries = rows * _count(_shape(values[node]))
            if entries > max_entries:
                raise BpdiffError(
                    f"--jacobian: ∂{_ref(graph, root)}/∂{_ref(graph, node)} would be a"
                    f" {rows:,} × {_count(_shape(values[node])):,} matrix, {entries:,}"
                    f" entries, more than --max-nodes {max_entries}",
                    hint=f"add --max-nodes {entries} (or --force) to print it anyway")
    matrices = [[] for _ in columns]
    m = result.math
    kink = result.kink_policy.overrides()
    for seed in _one_hots(values[root], m):
        grads = backward(graph, values, m, kink=kink, seed=seed, root=root)
        for matrix, node in zip(matrices, columns):
            matrix.append(_flat(grads[node], _shape(values[node]), m))
    return [Jacobian(root, node, of_shape, _shape(values[node]), matrix)
            for node, matrix in zip(columns, matrices)]


def _one_hots(value, m):
    """The seeds of the rows: 1 for a number, else a one-hot array per element."""
    if not m.ARRAYS:
        yield 1.0
        return
    import numpy as np

    for k in range(value.size):
        seed = np.zeros(value.size)
        seed[k] = 1.0
        yield seed.reshape(value.shape)


def _flat(grad, shape, m):
    """A gradient as a flat list of floats in C order (zeros where it is None or 0: the
    node does not move the root)."""
    if not m.ARRAYS:
        return [0.0 if grad is None else float(grad)]
    import numpy as np

    if grad is None:
        return [0.0] * _count(shape)
    return [float(x) for x in np.broadcast_to(grad, shape).ravel()]


def _shape(value):
    return tuple(getattr(value, "shape", ()))


def _count(shape):
    count = 1
    for n in shape:
        count *= n
    return count


def _ref(graph, node):
    name = graph.name_of.get(node)
    if name is not None:
        return name
    return "output" if node == graph.output else f"#{node}"
