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

May import: bpdiff.autodiff, bpdiff.scalar, bpdiff.graph, bpdiff.errors.
"""

import math
import sys
from typing import NamedTuple

from . import scalar
from .autodiff import forward
from .errors import BpdiffError
from .graph import CONST, VAR

STEP = 1e-5
DEFAULT_TOL = 1e-6
NOISE_ULPS = 8  # rounding noise allowed in f(x ± h), in units of machine epsilon
MAX_WORK = 20_000_000  # node evaluations (4 × inputs × nodes) before --force is needed
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
    work = 4 * len(inputs) * len(graph)
    if work > MAX_WORK and not force:
        raise BpdiffError(f"--gradcheck would evaluate {work:,} nodes ({len(inputs):,} inputs"
                          f" × 4 forward passes over {len(graph):,} nodes)",
                          hint="add --force to run it anyway")
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
        error = relative_error(analytic, numeric)
        if kinks:
            status = "kink"
        elif not (math.isfinite(analytic) and math.isfinite(numeric) and math.isfinite(wide)):
            status = "n/a"
        elif relative_error(numeric, wide) > tol and abs(numeric - wide) > noise + wide_noise:
            status = "unstable"
        else:
            status = "ok" if error <= tol or abs(analytic - numeric) <= noise else "fail"
        rows.append(Row(name, analytic, numeric, error, h, status, kinks))
    return rows


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
