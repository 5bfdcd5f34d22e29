"""`--jacobian` as text and JSON: each matrix with its rows labelled by the node's
elements (`y[1]`) and its columns by the input's (`W[0,2]`). Reads
bpdiff.analyses.jacobian's matrices; computes nothing.
"""

from itertools import product

from bpdiff.numbers import format_number, json_number, shape_text
from bpdiff.render.explain import references
from bpdiff.render.table import plain_rows


def element_labels(name, shape):
    """'y[0]', 'y[1]', ... for each element of an array named `name`, in C order;
    [name] for a number."""
    if not shape:
        return [name]
    return [f"{name}[{','.join(map(str, index))}]"
            for index in product(*(range(n) for n in shape))]


def jacobian_text(result, jacobians, precision):
    """Every Jacobian as a titled, aligned table, ending in a newline."""
    ref = references(result.graph)
    parts = []
    for jac in jacobians:
        of, wrt = ref(jac.of), ref(jac.wrt)
        title = (f"Jacobian ∂{of}/∂{wrt}: {shape_text(jac.of_shape)} × "
                 f"{shape_text(jac.wrt_shape)}, {len(jac.matrix)} × {len(jac.matrix[0])}"
                 f" (row: an element of {of}; column: an element of {wrt})")
        columns = element_labels(wrt, jac.wrt_shape)
        rows = [(row_label, *(format_number(x, precision) for x in row))
                for row_label, row in zip(element_labels(of, jac.of_shape), jac.matrix)]
        parts.append(title + "\n" + plain_rows((f"∂{of}/∂{wrt}", *columns), rows,
                                               set(columns)))
    return "\n".join(parts)


def jacobians_json(result, jacobians):
    """The Jacobians as JSON-ready data: each with the two nodes, their shapes and the
    matrix as a nested list (rows: elements of `of`, columns: elements of `wrt`)."""
    ref = references(result.graph)
    return [{"of": ref(jac.of), "of_node": jac.of, "of_shape": list(jac.of_shape),
             "wrt": ref(jac.wrt), "wrt_node": jac.wrt, "wrt_shape": list(jac.wrt_shape),
             "matrix": [[json_number(x) for x in row] for row in jac.matrix]}
            for jac in jacobians]
