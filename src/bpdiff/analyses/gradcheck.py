"""`--gradcheck`: every analytic gradient against central finite differences.

For each input x, with a step h = STEP·max(1, |x|), the output is recomputed by
autodiff.forward at x + h and x − h (no other math: the forward pass is the model), and
numeric = (f(x + h) − f(x − h)) / ((x + h) − (x − h)). The error is CS231n's relative
error |a − n| / max(|a|, |n|) (0 when both are 0). A row fails when that is over the
tolerance, unless the gap is within the rounding noise of the difference quotient
(a few ulps of f divided by 2h), which is all a zero or tiny gradient can show.

The same quotient with the step 2h must agree with it to the tolerance; where it does
not, finite differences cannot resolve the gradient that finely here (sharp curvature,
cancellation, a tolerance below what floats allow) and the row is "unstable", not
counted: a failure then always means a derivative that disagrees with a numeric one
that can be trusted.

Finite differences are not trusted near a kink: where a relu, abs, max, min, step, sign
or sqrt node that moves with x is at its kink at x, x + h or x − h (the primitive
table's at_kink), or its local derivative jumps between x − h and x + h (the step
crossed the kink), the row is flagged "kink" and does not fail. Where the analytic or
the numeric gradient is not finite, the row is "n/a".

In tensor mode every element of every input is a row (`W[0,1]`), perturbed alone; the
output of an array-valued program is summed (the seed of ones), as in backward.
"""

import math
import sys
from typing import NamedTuple

from bpdiff.engine import scalar
from bpdiff.engine.autodiff import forward
from bpdiff.errors import BpdiffError
from bpdiff.engine.graph import CONST, VAR
from bpdiff.engine.sizes import total_elements

STEP = 1e-5
DEFAULT_TOL = 1e-6
NOISE_ULPS = 8  # rounding noise allowed in f(x ± h), in units of machine epsilon
MAX_WORK = 20_000_000  # node evaluations (4 × inputs × nodes, array elements counted)
# before --force is needed
JUMP = 1e-3  # a local derivative changing by more than this (relative) over the step


class Row(NamedTuple):
    """One input's comparison."""

    name: str
    analytic: float
    numeric: float
    error: float  # CS231n relative error
    step: float
    status: str  # "ok", "fail", "kink", "unstable" or "n/a"
    kinks: tuple = ()  # the kink nodes that make finite differences unreliable here


def relative_error(analytic, numeric):
    """|a − n| / max(|a|, |n|), 0 when both are 0 (CS231n)."""
    scale = max(abs(analytic), abs(numeric))
    if scale == 0:
        return 0.0
    return abs(analytic - numeric) / scale


def gradcheck(result, tol=DEFAULT_TOL, force=False):
    """One Row per input of `result`, in order of first appearance. Raises BpdiffError
    when the work would exceed MAX_WORK node evaluations, unless `force`."""
    graph = result.graph
    inputs = dict(result.inputs)
    count = total_elements(inputs.values())
    numbers = total_elements(result.values)  # the nodes, an array counting its elements
    work = 4 * count * numbers
    if work > MAX_WORK and not force:
        what, over = (("nodes", f"{len(graph):,} nodes") if numbers == len(graph) else
                      ("numbers", f"{numbers:,} numbers in {len(graph):,} nodes"))
        raise BpdiffError(f"--gradcheck would compute {work:,} {what} ({count:,} inputs"
                          f" × 4 forward passes over {over})",
                          hint="add --force to run it anyway")
    if result.tensor:
        return _tensor_gradcheck(result, inputs, tol)
    kink_ops = [node for node, op in enumerate(graph.ops)
                if op is not VAR and op is not CONST and op.at_kink is not None]
    rows = []
    for name, x in inputs.items():
        analytic = result.gradient[name]
        h = STEP * max(1.0, abs(x))
        numeric, noise, up, down = _difference(graph, inputs, name, h)
        wide, wide_noise, wide_up, wide_down = _difference(graph, inputs, name, 2 * h)
        kinks = tuple(node for node in kink_ops
                      if _near_kink(graph, node, result.values, up, down)
                      or _near_kink(graph, node, result.values, wide_up, wide_down))
        rows.append(Row(name, analytic, numeric, relative_error(analytic, numeric), h,
                        _status(analytic, numeric, wide, noise, wide_noise, kinks, tol), kinks))
    return rows


def _status(analytic, numeric, wide, noise, wide_noise, kinks, tol):
    if kinks:
        return "kink"
    if not (math.isfinite(analytic) and math.isfinite(numeric) and math.isfinite(wide)):
        return "n/a"
    if relative_error(numeric, wide) > tol and abs(numeric - wide) > noise + wide_noise:
        return "unstable"
    return "ok" if relative_error(analytic, numeric) <= tol or abs(analytic - numeric) <= noise \
        else "fail"


def _tensor_gradcheck(result, inputs, tol):
    import numpy as np

    graph, m = result.graph, result.math
    kink_ops = [node for node, op in enumerate(graph.ops)
                if op is not VAR and op is not CONST and op.at_kink is not None]
    rows = []
    for name, x in inputs.items():
        for index in np.ndindex(x.shape):
            analytic = float(result.gradient[name][index])
            h = STEP * max(1.0, abs(float(x[index])))
            numeric, noise, up, down = _tensor_difference(graph, inputs, name, index, h, m)
            wide, wide_noise, wide_up, wide_down = _tensor_difference(
                graph, inputs, name, index, 2 * h, m)
            kinks = tuple(node for node in kink_ops
                          if _near_tensor_kink(graph, node, result.values, up, down, m)
                          or _near_tensor_kink(graph, node, result.values, wide_up, wide_down, m))
            label = name if index == () else f"{name}[{','.join(map(str, index))}]"
            rows.append(Row(label, analytic, numeric, relative_error(analytic, numeric), h,
                            _status(analytic, numeric, wide, noise, wide_noise, kinks, tol),
                            kinks))
    return rows


def _tensor_difference(graph, inputs, name, index, h, m):
    """_difference for one element of an array input; an array output is summed."""
    plus, minus = dict(inputs), dict(inputs)
    plus[name], minus[name] = inputs[name].copy(), inputs[name].copy()
    x = float(inputs[name][index])
    plus[name][index], minus[name][index] = x + h, x - h
    up, down = forward(graph, plus, m), forward(graph, minus, m)
    with m.quiet():
        f_up, f_down = float(m.total(up[graph.output])), float(m.total(down[graph.output]))
    width = float(plus[name][index]) - float(minus[name][index])
    numeric = scalar.div(f_up - f_down, width)
    noise = NOISE_ULPS * (sys.float_info.epsilon * max(abs(f_up), abs(f_down))
                          + sys.float_info.min) / width
    return numeric, noise, up, down


def _near_tensor_kink(graph, node, here, up, down, m):
    """_near_kink on arrays: anywhere in the node's elements."""
    import numpy as np

    sources = graph.inputs[node]
    args_up = [up[i] for i in sources]
    args_down = [down[i] for i in sources]
    if all(np.array_equal(a, b) for a, b in zip(args_up, args_down)):
        return False
    op = graph.ops[node]
    moved = np.zeros((), dtype=bool)  # the elements this perturbation moves
    for a, b in zip(args_up, args_down):
        moved = moved | (a != b)
    with m.quiet():
        if any(np.any(op.at_kink(*args) & moved) for args in
               ([here[i] for i in sources], args_up, args_down)):
            return True
        for rule in op.local_grads:
            a = np.asarray(rule(m, *args_up, up[node]), dtype=float)
            b = np.asarray(rule(m, *args_down, down[node]), dtype=float)
            if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
                return True
            if np.any((np.abs(a - b) > JUMP * np.maximum(np.abs(a), np.abs(b))) & moved):
                return True
            crossed = (a == 0) & (b == 0) & (up[node] != down[node]) & moved  # step, sign
            if np.any(crossed):
                return True
    return False


def _difference(graph, inputs, name, h):
    """The central difference quotient of the output in input `name` with step h, the
    rounding noise it may carry, and the node values at x + h and x − h."""
    x = inputs[name]
    plus, minus = dict(inputs), dict(inputs)
    plus[name], minus[name] = x + h, x - h
    up, down = forward(graph, plus), forward(graph, minus)
    f_up, f_down = up[graph.output], down[graph.output]
    width = plus[name] - minus[name]
    numeric = scalar.div(f_up - f_down, width)
    # a few ulps of f (and of the smallest normal float, below which digits are lost)
    noise = NOISE_ULPS * (sys.float_info.epsilon * max(abs(f_up), abs(f_down))
                          + sys.float_info.min) / width
    return numeric, noise, up, down


def _near_kink(graph, node, here, up, down):
    """Whether kink node `node` moves with the input and is at its kink within a step."""
    sources = graph.inputs[node]
    args_up = [up[i] for i in sources]
    args_down = [down[i] for i in sources]
    if args_up == args_down:
        return False  # does not depend on this input
    op = graph.ops[node]
    if (op.at_kink(*[here[i] for i in sources]) or op.at_kink(*args_up)
            or op.at_kink(*args_down)):
        return True
    locals_up = [rule(scalar, *args_up, up[node]) for rule in op.local_grads]
    locals_down = [rule(scalar, *args_down, down[node]) for rule in op.local_grads]
    for a, b in zip(locals_up, locals_down):
        if not (math.isfinite(a) and math.isfinite(b)):
            return True
        if abs(a - b) > JUMP * max(abs(a), abs(b)):
            return True
    # A piecewise-constant op (step, sign) has local derivative 0 on both sides: it
    # crossed its jump if its value changed.
    return all(a == 0 for a in locals_up + locals_down) and up[node] != down[node]


def passed(rows):
    """Whether no row failed."""
    return all(row.status != "fail" for row in rows)
